// Package zeek decodes Zeek logs written as JSON, one object per line,
// as sent over syslog: conn (kind flow), modbus and dnp3 (kind dpi), the
// CISA ICSNPP logs (modbus_detailed and its mask-write and
// read-write-multiple logs, dnp3_control, enip, cip, cip_io, cip_identity,
// s7comm, s7comm_plus, s7comm_upload_download, s7comm_read_szl, bacnet and
// its discovery and property logs, opcua_binary and its detail logs; kind
// dpi), Zeek's modbus_register_change (kind dpi), notice and weird (kind
// alert), and other protocol logs (kind dpi, the log's name as
// app_protocol). The log is named by "_path" when the sender adds it, else
// recognized by its characteristic fields. Field names may use any
// Log::default_scope_sep ("id.orig_h", "id_orig_h", …) or a nested "id"
// object; ts may be epoch seconds, integer milliseconds or ISO 8601 (every
// LogAscii::json_timestamps setting).
//
// Endpoints are the connection's (id.orig_h → id.resp_h) for requests and
// responses alike, so a PLC's reply to a write still names the writer as
// source; a conn record whose history shows the originator is really the
// responder, or a record whose ports do (a service port talking to an
// ephemeral one), is reversed to put the initiator first (attr initiator). Functions are named as the catalogues of package decode name
// them, from the codes (ICSNPP's hex "0x4d") when present, else from
// Zeek's and ICSNPP's names ("READ_HOLDING_REGISTERS", "SAVE_CONFIG",
// "Write Variable", "WriteRequest"). A Modbus exception response
// ("…_EXCEPTION") is the request's function with the exception in its own
// attr; a DNP3 record is the request's function, a response's only when
// the outstation answered nothing else (unsolicited responses). CIP
// services that mean different things on different objects are named by
// the class addressed. In conn, ICMP's orig_p and resp_p are its type and
// code, not ports. Zeek sees traffic, it does not decide it: only conn's
// conn_state gives an action, close for a normal teardown (SF) and reset
// for rejected or reset connections. cip_identity keeps the device's
// vendor, product, revision and serial number for inventory checks.
package zeek

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/jsonlex"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the Zeek JSON decoder, registered as "zeek".
type Decoder struct{}

// Name returns "zeek".
func (Decoder) Name() string { return "zeek" }

// Detect claims JSON objects with a "_path", or with a uid and the
// originator's address under any scope separator.
func (Decoder) Detect(h *syslog.Header) bool {
	b := h.Body
	return strings.HasPrefix(b, "{") &&
		(strings.Contains(b, `"_path"`) || strings.Contains(b, `"uid"`) && strings.Contains(b, `orig_h"`))
}

var (
	errUnknownLog = errors.New("no _path and not a log recognized by its fields")
	errNoTime     = errors.New("ts is not a time")
)

// rec holds the members read from one log line.
type rec struct {
	path                                   string
	service, connState                     string
	ob, rb, oipb, ripb, op, rp             event.Opt[uint64]
	origP, respP                           event.Opt[uint16]
	fn, fcRequest, fcReply, functionCode   string
	functionName, subfunctionName          string
	enipCode, enipCmd, cipCode, cipName    string
	classID, className, opcuaID, opcuaName string
	pduService, pduType, exception         string
	note, weird, requestResponse, hasKey   string
	rosctr, vendorName, ioConnection, reg  string
	noteSrc, noteDst                       string
	opcuaMsgType, browseType, s7plusOpcode string
	history                                string
}

// Decode decodes one Zeek JSON log line.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	var r rec
	var tsErr error
	err := jsonlex.EachMember(h.Body, func(k string, v jsonlex.Value) error {
		s := v.Str()
		switch k {
		case "_path":
			r.path = s
		case "ts":
			t, err := timestamp(v)
			if err != nil {
				tsErr = err
			}
			ev.Time = t
		case "_system_name":
			if s != "" {
				ev.Device = s
			}
		case "id":
			return v.Object(func(k string, v jsonlex.Value) error {
				connID(ev, &r, k, v.Str())
				return nil
			})
		case "proto":
			ev.Transport = decode.Transport(s)
		case "service":
			r.service = s
		case "conn_state":
			r.connState = s
			ev.SetAttr(k, s)
		case "orig_bytes":
			r.ob = decode.Uint(s)
		case "resp_bytes":
			r.rb = decode.Uint(s)
		case "orig_ip_bytes":
			r.oipb = decode.Uint(s)
		case "resp_ip_bytes":
			r.ripb = decode.Uint(s)
		case "orig_pkts":
			r.op = decode.Uint(s)
		case "resp_pkts":
			r.rp = decode.Uint(s)
		case "func":
			r.fn = s
		case "fc_request":
			r.fcRequest = s
		case "fc_reply":
			r.fcReply = s
		case "function_code":
			r.functionCode = s
		case "function_name":
			r.functionName = s
		case "subfunction_name":
			r.subfunctionName = s
		case "enip_command_code":
			r.enipCode = s
		case "enip_command":
			r.enipCmd = s
		case "cip_service_code":
			r.cipCode = s
		case "cip_service":
			r.cipName = s
		case "class_id":
			r.classID = s
			setNonEmpty(ev, k, s)
		case "class_name":
			r.className = s
			setNonEmpty(ev, k, s)
		case "identifier":
			r.opcuaID = s
		case "identifier_str":
			r.opcuaName = s
		case "msg_type":
			r.opcuaMsgType = s
			setNonEmpty(ev, k, s)
		case "browse_service_type":
			r.browseType = s
		case "pdu_service":
			r.pduService = s
			setNonEmpty(ev, k, s)
		case "exception":
			r.exception = s
		case "note":
			r.note = s
		case "name":
			r.weird = s
		case "src":
			r.noteSrc = s
		case "dst":
			r.noteDst = s
		case "request_response", "network_direction":
			r.requestResponse = s
			ev.SetAttr(k, s)
		case "pdu_type":
			r.pduType = s
			ev.SetAttr(k, s)
		case "rosctr", "rosctr_name":
			r.rosctr = s
			setNonEmpty(ev, "rosctr", s)
		case "opcode":
			r.s7plusOpcode = s
			setNonEmpty(ev, k, s)
		case "vendor_name":
			r.vendorName = s
			setNonEmpty(ev, k, s)
		case "connection_id":
			r.ioConnection = s
			setNonEmpty(ev, k, s)
		case "register":
			r.reg = s
			setNonEmpty(ev, k, s)
		case "block_type", "trip_control_code", "operation_type":
			r.hasKey = k
			setNonEmpty(ev, k, s)
		case "history":
			r.history = s
			setNonEmpty(ev, k, s)
		case "uid", "duration", "tid", "unit", "unit_id", "address", "quantity", "iin",
			"index_number", "execute_count", "status_code", "enip_status", "session_handle",
			"cip_status", "instance_id", "attribute_id", "direction", "is_orig", "msg", "sub",
			"product_name", "revision", "serial_number", "device_type_name", "product_code", "vendor_id",
			"device_status", "device_state", "sequence_number", "data_length", "old_val", "new_val", "delta",
			"filename", "block_number", "function_status", "blocklength", "szl_id", "szl_id_name", "method",
			"return_code_name", "error_class", "error_code", "opcode_name", "invoke_id", "result_code",
			"object_type", "instance_number", "property", "and_mask", "or_mask", "opcua_link_id",
			"request_id", "status_code_link_id", "endpoint_url", "sec_policy_uri", "addl", "vlan":
			setNonEmpty(ev, k, s)
		default:
			connID(ev, &r, k, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if tsErr != nil {
		return tsErr
	}
	if r.path == "" {
		r.path = guessPath(&r)
		if r.path == "" {
			return errUnknownLog
		}
	}
	ev.Vendor, ev.Product = "zeek", "zeek"
	ev.MessageID = r.path
	ev.Kind = event.KindDPI
	ports(ev, &r)
	switch path := r.path; {
	case path == "conn":
		ev.Kind = event.KindFlow
		conn(ev, &r)
		orient(ev, &r)
	case path == "modbus" || strings.HasPrefix(path, "modbus_"):
		modbus(ev, &r)
	case path == "dnp3" || path == "dnp3_control" || path == "dnp3_objects":
		dnp3(ev, &r)
	case path == "enip":
		decode.SetFunction(ev, "enip", decode.Code(r.enipCode), r.enipCmd)
		setNonEmpty(ev, "enip_command", r.enipCmd)
	case path == "cip":
		cip(ev, &r)
	case path == "cip_io":
		// Class 1 implicit I/O: cyclic data, no service.
		ev.AppProtocol = "enip"
	case path == "cip_identity":
		// A List Identity answer: the device's identity, for inventory.
		decode.SetFunction(ev, "enip", event.Some[int32](0x63), "")
	case strings.HasPrefix(path, "s7comm"):
		s7(ev, &r)
	case strings.HasPrefix(path, "bacnet"):
		decode.SetFunction(ev, "bacnet", event.Opt[int32]{}, r.pduService)
	case strings.HasPrefix(path, "opcua_binary"):
		opcua(ev, &r)
	case path == "notice":
		ev.Kind = event.KindAlert
		ev.Signature = r.note
		notice(ev, &r)
	case path == "weird":
		ev.Kind = event.KindAlert
		ev.Signature = r.weird
		if !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
			// A weird of no connection ("truncated_IP"): the sensor's own.
			ev.Kind = event.KindSystem
		}
	default:
		ev.AppProtocol = decode.AppProtocol(strings.TrimSuffix(path, "_detailed"))
	}
	if r.path != "conn" && ev.Kind != event.KindAlert {
		// A protocol log follows its connection's orig/resp: reversed when
		// Zeek took the server for the originator.
		decode.ReverseIfResponder(ev)
	}
	return nil
}

// orient puts a conn record's initiator first. Zeek's originator is the
// host that sent the first packet it saw; with the handshake seen that is
// the client, and when Zeek itself flips a connection it says so with "^"
// in the history. Otherwise the history tells (uppercase letters are the
// originator's, lowercase the responder's): an originator that sent the
// SYN-ACK (H) and no SYN (S), or a responder that sent the SYN (s), is
// really the responder. Without any handshake in the history (a flow
// picked up mid-stream) the ports decide (decode.ReverseIfResponder).
func orient(ev *event.Event, r *rec) {
	h := r.history
	switch {
	case strings.HasPrefix(h, "^"):
	case strings.ContainsRune(h, 'H') && !strings.ContainsRune(h, 'S') || strings.ContainsRune(h, 's') && !strings.ContainsRune(h, 'S'):
		ev.SwapEndpoints()
		ev.SetAttr(event.AttrInitiator, event.InitiatorFlipped)
	case !strings.ContainsAny(h, "SsHh"):
		decode.ReverseIfResponder(ev)
	}
}

// connID reads a member of the connection id: "id.orig_h" with any scope
// separator ("id_orig_h", "id::orig_h"), or "orig_h" inside a nested id.
func connID(ev *event.Event, r *rec, k, s string) {
	if len(k) > 6 && k[0] == 'i' && k[1] == 'd' {
		k = k[2:]
		for len(k) > 6 && !isLetter(k[0]) {
			k = k[1:]
		}
	}
	switch k {
	case "orig_h":
		ev.SrcIP = decode.Addr(s)
	case "orig_p":
		r.origP = decode.Port(s)
	case "resp_h":
		ev.DstIP = decode.Addr(s)
	case "resp_p":
		r.respP = decode.Port(s)
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// guessPath names the log of a line without _path from its fields.
func guessPath(r *rec) string {
	switch {
	case r.connState != "":
		return "conn"
	case r.fcRequest != "" || r.fcReply != "":
		return "dnp3"
	case r.hasKey != "":
		return "dnp3_control"
	case r.cipCode != "" || r.cipName != "":
		return "cip"
	case r.enipCode != "" || r.enipCmd != "":
		return "enip"
	case r.vendorName != "" && r.ioConnection == "":
		return "cip_identity"
	case r.ioConnection != "":
		return "cip_io"
	case r.rosctr != "" || r.s7plusOpcode != "":
		return "s7comm"
	case r.opcuaMsgType != "":
		return "opcua_binary"
	case r.pduService != "":
		return "bacnet"
	case r.reg != "":
		return "modbus_register_change"
	case r.fn != "" && r.requestResponse != "" && r.requestResponse != "REQ" && r.requestResponse != "RESP":
		return "modbus_detailed"
	case r.fn != "":
		return "modbus"
	case r.note != "":
		return "notice"
	}
	return ""
}

// ports sets the connection's ports, except for ICMP, whose orig_p and
// resp_p are its type and code.
func ports(ev *event.Event, r *rec) {
	if ev.Transport == "icmp" || ev.Transport == "icmp6" {
		if ev.SrcIP.Is6() && !ev.SrcIP.Is4In6() {
			ev.Transport = "icmp6" // Zeek's proto is "icmp" for ICMPv6 too
		}
		if r.origP.OK {
			ev.SetAttr("icmp_type", strconv.Itoa(int(r.origP.V)))
		}
		if r.respP.OK {
			ev.SetAttr("icmp_code", strconv.Itoa(int(r.respP.V)))
		}
		return
	}
	ev.SrcPort, ev.DstPort = r.origP, r.respP
}

// conn fills a conn log's counters, service and action.
func conn(ev *event.Event, r *rec) {
	ev.Bytes = decode.Sum(r.oipb, r.ripb)
	if !ev.Bytes.OK {
		ev.Bytes = decode.Sum(r.ob, r.rb)
	}
	ev.Packets = decode.Sum(r.op, r.rp)
	if r.service != "" {
		// A list when several analyzers matched: "ssl,http"; the first is
		// the outermost.
		first, _, _ := strings.Cut(r.service, ",")
		ev.AppProtocol = decode.AppProtocol(first)
		ev.SetAttr("service", r.service)
	}
	switch r.connState {
	case "SF":
		ev.Action = event.ActionClose
	case "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH":
		ev.Action = event.ActionReset
	}
}

// modbus names the function of modbus.log, the ICSNPP modbus logs and
// modbus_register_change (a value change seen in holding register reads).
func modbus(ev *event.Event, r *rec) {
	if r.exception != "" {
		ev.SetAttr(decode.AttrException, decode.ModbusException(r.exception))
	}
	name := r.fn
	switch r.path {
	case "modbus_register_change":
		name = "READ_HOLDING_REGISTERS"
	case "modbus_mask_write_register":
		if name == "" {
			name = "MASK_WRITE_REGISTER"
		}
	case "modbus_read_write_multiple_registers":
		if name == "" {
			name = "READ_WRITE_MULTIPLE_REGISTERS"
		}
	}
	code := event.Opt[int32]{}
	if n, ok := strings.CutPrefix(name, "unknown-"); ok { // a code Zeek has no name for
		code, name = decode.Code(n), ""
	}
	decode.SetFunction(ev, "modbus", code, name)
}

// dnp3 names the function of dnp3.log (the request's, else the reply's),
// dnp3_control and dnp3_objects.
func dnp3(ev *event.Event, r *rec) {
	name := r.fcRequest
	if name == "" {
		name = r.fcReply
	}
	if r.path != "dnp3" {
		name = r.functionCode
	}
	code := event.Opt[int32]{}
	if n, ok := strings.CutPrefix(name, "unknown-"); ok {
		code, name = decode.Code(n), ""
	}
	decode.SetFunction(ev, "dnp3", code, name)
	setNonEmpty(ev, "fc_request", r.fcRequest)
	setNonEmpty(ev, "fc_reply", r.fcReply)
}

// cip names a CIP service by the class it addresses when the service's
// meaning depends on it, else by its code, else by ICSNPP's name.
func cip(ev *event.Event, r *rec) {
	code := decode.Code(r.cipCode)
	name := r.cipName
	if code.OK {
		class := decode.CIPClass(r.classID)
		if class < 0 {
			class = decode.CIPClass(r.className)
		}
		if n := decode.CIPService(code.V, class); n != "" && (class >= 0 || name == "" || name == "unknown") {
			name = n
		}
	}
	if name == "unknown" {
		name = ""
	}
	decode.SetFunction(ev, "cip", code, name)
	setNonEmpty(ev, "cip_service", r.cipName)
}

// s7 names the function of ICSNPP's s7comm logs: a job's function, a
// user-data request's sub-function, an S7comm-plus function, an upload or
// download step.
func s7(ev *event.Event, r *rec) {
	code := decode.Code(r.functionCode)
	name := r.functionName
	switch {
	case r.path == "s7comm_read_szl":
		code, name = event.Opt[int32]{}, "read_szl"
	case r.path == "s7comm_upload_download":
		code = event.Opt[int32]{}
	case r.path == "s7comm_plus":
		if name == "" && !code.OK {
			// A notification (the PLC pushing values it was asked to
			// watch) names no function of its own.
			if n, _ := ev.Attr("opcode_name"); strings.EqualFold(n, "Notification") {
				name = "notification"
			}
		}
	case strings.HasPrefix(name, "Request: "), strings.HasPrefix(name, "Response: "), strings.HasPrefix(name, "Push: "):
		// User data: the function code is a type and group; the
		// sub-function names what is done.
		setNonEmpty(ev, "function_group", name[strings.IndexByte(name, ' ')+1:])
		code, name = event.Opt[int32]{}, r.subfunctionName
	}
	if r.path == "s7comm" && code.OK && code.V == 0x28 && r.subfunctionName != "" {
		setNonEmpty(ev, "pi_service", r.subfunctionName)
	}
	setNonEmpty(ev, "function_name", r.functionName)
	decode.SetFunction(ev, "s7", code, name)
}

// opcua names the service of an opcua_binary record, by its request or
// response identifier, else by its transport message type; of a detail
// log, by the service in its name.
func opcua(ev *event.Event, r *rec) {
	name := ""
	code := event.Opt[int32]{}
	if id := decode.Code(r.opcuaID); id.OK {
		n, response := decode.OPCUAService(id.V)
		name = n
		if n != "" && !response {
			code = id
		}
		if response {
			ev.SetAttr("opcua_message", "response")
		}
	}
	if name == "" && r.opcuaName != "" {
		name = r.opcuaName
	}
	if name == "" {
		switch detail := strings.TrimPrefix(r.path, "opcua_binary_"); {
		case detail == "opensecure_channel":
			name = "open_secure_channel"
		case detail == "browse" && strings.Contains(strings.ToLower(r.browseType), "next"):
			name = "browse_next"
		case detail != r.path:
			if _, ok := decode.FunctionCode("opcua", detail); ok {
				name = detail
			}
		case r.opcuaMsgType != "" && r.opcuaMsgType != "MSG":
			name = r.opcuaMsgType
		}
	}
	decode.SetFunction(ev, "opcua", code, name)
}

// notice takes the addresses of a notice with no connection from its src
// and dst; one that names fewer than two hosts (a scan of many) is the
// sensor's report, not traffic to judge.
func notice(ev *event.Event, r *rec) {
	if !ev.SrcIP.IsValid() {
		ev.SrcIP = decode.Addr(r.noteSrc)
	}
	if !ev.DstIP.IsValid() {
		ev.DstIP = decode.Addr(r.noteDst)
	}
	if !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
		ev.Kind = event.KindSystem
		if a := decode.Addr(r.noteSrc); a.IsValid() {
			ev.SrcIP = a
		}
	}
}

// timestamp reads ts in every form LogAscii::json_timestamps writes:
// epoch seconds with a fraction (JSON::TS_EPOCH, the default), integer
// milliseconds (JSON::TS_MILLIS, TS_MILLIS_UNSIGNED) or an ISO 8601 string
// (JSON::TS_ISO8601). A number too large for seconds is read as
// milliseconds, microseconds or nanoseconds by its magnitude; the Parser
// then judges whether the time is plausible.
func timestamp(v jsonlex.Value) (time.Time, error) {
	s := v.Str()
	if v.Kind() == '"' {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errNoTime
		}
		return t.UTC(), nil
	}
	if v.Kind() != '0' {
		return time.Time{}, errNoTime
	}
	secs, frac, _ := strings.Cut(s, ".")
	sec := decode.Uint(secs)
	if !sec.OK || len(frac) > 9 || !allDigits(frac) {
		// An exponent or a sign: read the number as a float.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f >= 1e19 || math.IsNaN(f) {
			return time.Time{}, errNoTime
		}
		return epoch(uint64(f), int64((f-math.Floor(f))*1e9)), nil
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	return epoch(sec.V, ns), nil
}

// epoch reads a count since the Unix epoch in seconds (below 1e11: year
// 5138), milliseconds, microseconds or nanoseconds by its magnitude, with
// a fraction of its unit in ns.
func epoch(n uint64, fracNS int64) time.Time {
	switch {
	case n < 1e11:
		return time.Unix(int64(n), fracNS).UTC()
	case n < 1e14:
		return time.UnixMilli(int64(n)).Add(time.Duration(fracNS / 1e3)).UTC()
	case n < 1e17:
		return time.UnixMicro(int64(n)).UTC()
	}
	return time.Unix(0, int64(min(n, math.MaxInt64))).UTC()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func setNonEmpty(ev *event.Event, key, value string) {
	if value != "" {
		ev.SetAttr(key, value)
	}
}
