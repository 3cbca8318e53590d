// Package zeek decodes Zeek logs written as JSON, one object per line,
// as sent over syslog: conn (kind flow), modbus and dnp3 (kind dpi), the
// CISA ICSNPP logs modbus_detailed, dnp3_control, enip and cip (kind
// dpi), notice and weird (kind alert), and other protocol logs (kind
// dpi, the log's name as app_protocol). The log is named by "_path" when
// the sender adds it, else recognized by its characteristic fields.
//
// Endpoints are the connection's (id.orig_h → id.resp_h) for requests and
// responses alike, so a PLC's reply to a write still names the writer as
// source; a conn record whose history shows the originator is really the
// responder, or a record whose ports do (a service port talking to an
// ephemeral one), is reversed to put the initiator first (attr initiator). Function names as Zeek and ICSNPP print them
// ("READ_HOLDING_REGISTERS", "WRITE_SINGLE_REGISTER_EXCEPTION",
// "DIRECT_OPERATE") give the function code; ICSNPP's hex codes
// (cip_service_code "0x4d") are used when present. Zeek sees traffic, it
// does not decide it: only conn's conn_state gives an action, close for a
// normal teardown (SF) and reset for rejected or reset connections.
package zeek

import (
	"errors"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the Zeek JSON decoder, registered as "zeek".
type Decoder struct{}

// Name returns "zeek".
func (Decoder) Name() string { return "zeek" }

// Detect claims JSON objects with a "_path", or with a uid and an
// id.orig_h.
func (Decoder) Detect(h *syslog.Header) bool {
	b := h.Body
	return strings.HasPrefix(b, "{") &&
		(strings.Contains(b, `"_path"`) || strings.Contains(b, `"uid"`) && strings.Contains(b, `"id.orig_h"`))
}

var (
	errUnknownLog = errors.New("no _path and not a log recognized by its fields")
	errNoTime     = errors.New("ts is not a time")
)

// rec holds the members read from one log line.
type rec struct {
	path                                 string
	service, connState                   string
	ob, rb, oipb, ripb, op, rp           event.Opt[uint64]
	fn, fcRequest, fcReply, dnp3FC       string
	enipCode, enipCmd, cipCode, cipName  string
	note, weird, requestResponse, hasKey string
	history                              string
}

// Decode decodes one Zeek JSON log line.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	var r rec
	var tsErr error
	err := decode.EachMember(h.Body, func(k string, v decode.JSONValue) error {
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
		case "id.orig_h":
			ev.SrcIP = decode.Addr(s)
		case "id.orig_p":
			ev.SrcPort = decode.Port(s)
		case "id.resp_h":
			ev.DstIP = decode.Addr(s)
		case "id.resp_p":
			ev.DstPort = decode.Port(s)
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
			r.dnp3FC = s
		case "enip_command_code":
			r.enipCode = s
		case "enip_command":
			r.enipCmd = s
		case "cip_service_code":
			r.cipCode = s
		case "cip_service":
			r.cipName = s
		case "note":
			r.note = s
		case "name":
			r.weird = s
		case "request_response", "pdu_type":
			r.requestResponse = s
			ev.SetAttr(k, s)
		case "block_type", "trip_control_code", "operation_type":
			r.hasKey = k
			setNonEmpty(ev, k, s)
		case "history":
			r.history = s
			setNonEmpty(ev, k, s)
		case "uid", "duration", "tid", "unit", "exception", "address", "quantity", "iin",
			"index_number", "execute_count", "status_code", "enip_status", "session_handle",
			"cip_status", "class_id", "class_name", "instance_id", "attribute_id", "direction",
			"is_orig", "msg", "sub":
			setNonEmpty(ev, k, s)
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
	switch r.path {
	case "conn":
		ev.Kind = event.KindFlow
		conn(ev, &r)
		orient(ev, &r)
	case "modbus", "modbus_detailed":
		setFunction(ev, "modbus", "", r.fn)
	case "dnp3":
		name := r.fcRequest
		if name == "" {
			name = r.fcReply
		}
		setFunction(ev, "dnp3", "", name)
		setNonEmpty(ev, "fc_request", r.fcRequest)
		setNonEmpty(ev, "fc_reply", r.fcReply)
	case "dnp3_control":
		setFunction(ev, "dnp3", "", r.dnp3FC)
	case "enip":
		setFunction(ev, "enip", r.enipCode, r.enipCmd)
		setNonEmpty(ev, "enip_command", r.enipCmd)
	case "cip":
		setFunction(ev, "cip", r.cipCode, r.cipName)
		setNonEmpty(ev, "cip_service", r.cipName)
	case "notice":
		ev.Kind = event.KindAlert
		ev.Signature = r.note
	case "weird":
		ev.Kind = event.KindAlert
		ev.Signature = r.weird
	default:
		ev.AppProtocol = decode.AppProtocol(strings.TrimSuffix(r.path, "_detailed"))
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
	case r.fn != "" && r.requestResponse != "" && r.requestResponse != "REQ" && r.requestResponse != "RESP":
		return "modbus_detailed"
	case r.fn != "":
		return "modbus"
	case r.note != "":
		return "notice"
	}
	return ""
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

// setFunction sets the protocol and the function from a hex or decimal
// code, else from a name as Zeek prints it: upper case with underscores,
// "_EXCEPTION" for Modbus exception responses, "unknown-N" for codes it
// has no name for.
func setFunction(ev *event.Event, proto, code, name string) {
	ev.AppProtocol = proto
	c := decode.Code(code)
	if !c.OK && name != "" {
		base, exc := strings.CutSuffix(name, "_EXCEPTION")
		if n, ok := strings.CutPrefix(base, "unknown-"); ok {
			c = decode.Code(n)
		} else if v, ok := decode.FunctionCode(proto, base); ok {
			c = event.Some(v)
		}
		if c.OK && exc && proto == "modbus" {
			c.V |= 0x80
		}
	}
	if c.OK {
		ev.FunctionCode = c
		ev.Function = decode.FunctionName(proto, c.V)
	}
	if ev.Function == "" && name != "" {
		ev.SetAttr("function_name", name)
	}
}

// timestamp reads ts: epoch seconds with a fraction (Zeek's default JSON)
// or an ISO 8601 string (LogAscii::json_timestamps JSON::TS_ISO8601).
func timestamp(v decode.JSONValue) (time.Time, error) {
	s := v.Str()
	if v.Kind() == '"' {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errNoTime
		}
		return t.UTC(), nil
	}
	secs, frac, _ := strings.Cut(s, ".")
	sec := decode.Uint(secs)
	if !sec.OK || len(frac) > 9 || sec.V > 1<<40 {
		return time.Time{}, errNoTime
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return time.Time{}, errNoTime
			}
			ns += int64(frac[i] - '0')
		}
	}
	return time.Unix(int64(sec.V), ns).UTC(), nil
}

func setNonEmpty(ev *event.Event, key, value string) {
	if value != "" {
		ev.SetAttr(key, value)
	}
}
