// Package suricata decodes Suricata EVE JSON, one object per line, bare
// or behind a syslog header ("suricata[1234]: {...}"): alert events
// (kind alert: signature, id, category, severity, action), flow and
// netflow events (kind flow: bytes and packets), and the industrial
// app-layer events modbus, dnp3 and enip (kind dpi) with their function
// codes: the Modbus function of the request (or of the response when
// there is no request), the DNP3 application function code, the CIP
// service of an EtherNet/IP request (else the encapsulation command).
// Alerts carrying app-layer metadata get the same protocol and function.
// Other event types become dpi events (app-layer transactions such as
// http, dns, tls), anomaly events alerts and stats system events; a record
// that names no two hosts (a decoder anomaly, engine events) is a system
// event.
//
// The source is the connection's initiator. An alert is raised on a
// packet, which may be the server's reply: its top-level src_ip and
// dest_ip are the packet's. The alert's flow object (Suricata 7: src_ip,
// dest_ip, src_port, dest_port) names the initiator; without it,
// "direction":"to_client" says the packet came from the server, and the
// endpoints are swapped; an alert of Suricata 6 says neither, and a packet
// from a service port to an ephemeral one is taken for the server's
// (decode.ReverseIfResponder). A Modbus exception response is the request's
// function with the exception in its own attr; a CIP service is named by
// the object class it addresses (see decode.CIPService). IPv6 addresses
// are normalized, a vlan list is kept as "10,20", ICMP has no ports.
//
// Suricata sees traffic, it does not decide it: flow and dpi events have no
// action; an alert's is alert, or drop when an IPS rule blocked it.
package suricata

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/jsonlex"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the Suricata EVE decoder, registered as "suricata".
type Decoder struct{}

// Name returns "suricata".
func (Decoder) Name() string { return "suricata" }

// Detect claims JSON objects with an "event_type" member.
func (Decoder) Detect(h *syslog.Header) bool {
	return strings.HasPrefix(h.Body, "{") && strings.Contains(h.Body, `"event_type"`)
}

var errNoType = errors.New("no event_type")

// eve holds the members read from one EVE object.
type eve struct {
	typ, appProto, direction      string
	alert, flow, netflow, anomaly jsonlex.Value
	modbus, dnp3, enip            jsonlex.Value
}

// Decode decodes one EVE object.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	var e eve
	err := jsonlex.EachMember(h.Body, func(k string, v jsonlex.Value) error {
		switch k {
		case "timestamp":
			if t := timestamp(v.Str()); !t.IsZero() {
				ev.Time = t
			}
		case "event_type":
			e.typ = v.Str()
		case "src_ip":
			ev.SrcIP = decode.Addr(v.Str())
		case "dest_ip":
			ev.DstIP = decode.Addr(v.Str())
		case "src_port":
			ev.SrcPort = decode.Port(v.Str())
		case "dest_port":
			ev.DstPort = decode.Port(v.Str())
		case "proto":
			ev.Transport = decode.Transport(v.Str())
		case "app_proto":
			e.appProto = v.Str()
		case "host":
			if s := v.Str(); s != "" {
				ev.Device = s
			}
		case "flow_id", "in_iface", "community_id", "tx_id", "icmp_type", "icmp_code":
			if s := v.Str(); s != "" {
				ev.SetAttr(k, s)
			}
		case "vlan":
			vlans(ev, v)
		case "direction":
			e.direction = v.Str()
		case "alert":
			e.alert = v
		case "flow":
			e.flow = v
		case "netflow":
			e.netflow = v
		case "anomaly":
			e.anomaly = v
		case "modbus":
			e.modbus = v
		case "dnp3":
			e.dnp3 = v
		case "enip":
			e.enip = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	if e.typ == "" {
		return errNoType
	}
	ev.Vendor, ev.Product = "oisf", "suricata"
	ev.MessageID = e.typ
	if ev.Transport == "icmp" || ev.Transport == "icmp6" {
		ev.SrcPort, ev.DstPort = event.Opt[uint16]{}, event.Opt[uint16]{}
	}
	switch e.typ {
	case "alert":
		ev.Kind = event.KindAlert
		if err = alert(ev, e.alert); err == nil {
			err = initiator(ev, &e)
		}
	case "flow":
		ev.Kind = event.KindFlow
		err = flow(ev, e.flow)
	case "netflow":
		ev.Kind = event.KindFlow
		err = netflow(ev, e.netflow)
	case "anomaly":
		ev.Kind = event.KindAlert
		err = anomaly(ev, e.anomaly)
	case "stats":
		ev.Kind = event.KindSystem
	default:
		ev.Kind = event.KindDPI
		if e.appProto == "" {
			e.appProto = e.typ
		}
	}
	if ev.Kind == event.KindAlert && e.typ == "anomaly" || ev.Kind == event.KindDPI {
		if !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
			ev.Kind = event.KindSystem // names no two hosts: the engine's own
			e.appProto = ""
		}
	}
	if err != nil {
		return err
	}
	if p := e.appProto; p != "" && p != "failed" {
		ev.AppProtocol = decode.AppProtocol(p)
	}
	switch {
	case e.modbus.Raw != "":
		err = modbus(ev, e.modbus)
	case e.dnp3.Raw != "":
		err = dnp3(ev, e.dnp3)
	case e.enip.Raw != "":
		err = enip(ev, e.enip)
	}
	if ev.Kind == event.KindFlow || ev.Kind == event.KindDPI {
		// EVE's src is the sender of the first packet Suricata saw, and a
		// netflow record is one direction: a flow picked up from the
		// server's side, or its reply direction, names the server first.
		decode.ReverseIfResponder(ev)
	}
	return err
}

// vlans keeps the vlan ids, a number or (Suricata 6+) a list.
func vlans(ev *event.Event, v jsonlex.Value) {
	if v.Kind() != '[' {
		setAttr(ev, "vlan", v)
		return
	}
	var buf [32]byte
	b := buf[:0]
	_ = v.Array(func(v jsonlex.Value) error {
		if s := v.Str(); s != "" {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, s...)
		}
		return nil
	})
	if len(b) > 0 {
		ev.SetAttr("vlan", string(b))
	}
}

// initiator makes the alert's source the connection's initiator: the
// alert's flow object names it, else a packet to the client came from the
// server, else the ports tell.
func initiator(ev *event.Event, e *eve) error {
	var src, dst netip.Addr
	var sp, dp event.Opt[uint16]
	if e.flow.Kind() == '{' {
		err := e.flow.Object(func(k string, v jsonlex.Value) error {
			switch k {
			case "src_ip":
				src = decode.Addr(v.Str())
			case "dest_ip":
				dst = decode.Addr(v.Str())
			case "src_port":
				sp = decode.Port(v.Str())
			case "dest_port":
				dp = decode.Port(v.Str())
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	switch {
	case src.IsValid() && dst.IsValid():
		if src != ev.SrcIP || sp != ev.SrcPort {
			ev.SetAttr("packet_direction", "to_client")
		}
		ev.SrcIP, ev.DstIP = src, dst
		if sp.OK || dp.OK {
			ev.SrcPort, ev.DstPort = sp, dp
		}
	case e.direction == "to_client":
		ev.SrcIP, ev.DstIP = ev.DstIP, ev.SrcIP
		ev.SrcPort, ev.DstPort = ev.DstPort, ev.SrcPort
		ev.SetAttr("packet_direction", "to_client")
	case e.direction == "":
		// Suricata before 7 says neither: a packet from a service port to
		// an ephemeral one came from the server (attr initiator=ports).
		decode.ReverseIfResponder(ev)
	}
	return nil
}

// timestamp parses EVE's "2006-01-02T15:04:05.999999-0700" (or RFC 3339).
func timestamp(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.999999999-0700", s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}
		}
	}
	return t.UTC()
}

func setAttr(ev *event.Event, key string, v jsonlex.Value) {
	if s := v.Str(); s != "" {
		ev.SetAttr(key, s)
	}
}

// alert reads an alert object.
func alert(ev *event.Event, v jsonlex.Value) error {
	return v.Object(func(k string, v jsonlex.Value) error {
		switch k {
		case "signature":
			ev.Signature = v.Str()
		case "signature_id":
			ev.SignatureID = v.Str()
		case "severity":
			// 1 is the highest priority; map like PAN-OS high/medium/low.
			if n := decode.Uint(v.Str()); n.OK {
				ev.Severity = event.Some(uint8(min(n.V, 4) + 2))
			}
		case "action":
			switch a := v.Str(); a {
			case "allowed":
				ev.Action = event.ActionAlert
			case "blocked":
				ev.Action = event.ActionDrop
			default:
				ev.Action = event.ActionUnknown
				ev.SetAttr("alert_action", a)
			}
		case "category", "gid", "rev":
			setAttr(ev, k, v)
		}
		return nil
	})
}

// flow reads a flow object: both directions' counters, state and reason.
func flow(ev *event.Event, v jsonlex.Value) error {
	var bts, btc, pts, ptc event.Opt[uint64]
	err := v.Object(func(k string, v jsonlex.Value) error {
		switch k {
		case "bytes_toserver":
			bts = decode.Uint(v.Str())
		case "bytes_toclient":
			btc = decode.Uint(v.Str())
		case "pkts_toserver":
			pts = decode.Uint(v.Str())
		case "pkts_toclient":
			ptc = decode.Uint(v.Str())
		case "state", "reason", "alerted", "age":
			setAttr(ev, "flow_"+k, v)
		}
		return nil
	})
	ev.Bytes, ev.Packets = decode.Sum(bts, btc), decode.Sum(pts, ptc)
	return err
}

// netflow reads a netflow object: one direction's counters.
func netflow(ev *event.Event, v jsonlex.Value) error {
	return v.Object(func(k string, v jsonlex.Value) error {
		switch k {
		case "bytes":
			ev.Bytes = decode.Uint(v.Str())
		case "pkts":
			ev.Packets = decode.Uint(v.Str())
		case "age":
			setAttr(ev, "flow_age", v)
		}
		return nil
	})
}

// anomaly reads an anomaly object: its event name is the signature.
func anomaly(ev *event.Event, v jsonlex.Value) error {
	return v.Object(func(k string, v jsonlex.Value) error {
		switch k {
		case "event":
			ev.Signature = v.Str()
		case "type", "layer", "code":
			setAttr(ev, "anomaly_"+k, v)
		}
		return nil
	})
}

// modbus reads {"request":{...},"response":{...}}: the request's
// function_raw, else the response's (an exception response has the 0x80
// bit set), the unit, and the request's address and quantity.
func modbus(ev *event.Event, v jsonlex.Value) error {
	ev.AppProtocol = "modbus"
	req, resp, _, err := requestResponse(v)
	if err != nil {
		return err
	}
	var code event.Opt[int32]
	err = eachObject(func(k string, v jsonlex.Value) error {
		switch k {
		case "function_raw":
			if c := decode.Code(v.Str()); c.OK && !code.OK {
				code = c
			}
		case "unit_id", "transaction_id":
			setAttr(ev, k, v)
		case "read", "write":
			return v.Object(func(k string, v jsonlex.Value) error {
				if k == "address" || k == "quantity" {
					setAttr(ev, k, v)
				}
				return nil
			})
		case "exception":
			// {"raw":2,"code":"IllegalDataAddr"}, or a bare code.
			if v.Kind() != '{' {
				ev.SetAttr(decode.AttrException, decode.ModbusException(v.Str()))
				return nil
			}
			return v.Object(func(k string, v jsonlex.Value) error {
				if k == "raw" || k == "code" && !hasAttr(ev, decode.AttrException) {
					ev.SetAttr(decode.AttrException, decode.ModbusException(v.Str()))
				}
				return nil
			})
		}
		return nil
	}, req, resp)
	if code.OK {
		decode.SetFunction(ev, "modbus", code, "")
	}
	return err
}

func hasAttr(ev *event.Event, key string) bool {
	_, ok := ev.Attr(key)
	return ok
}

// dnp3 reads a dnp3 event object ({"type":"request","application":{...}})
// or an alert's {"request":{...},"response":{...}}: the application
// function code, the request's when there is one, and the link addresses.
func dnp3(ev *event.Event, v jsonlex.Value) error {
	ev.AppProtocol = "dnp3"
	req, resp, isMsg, err := requestResponse(v)
	if err != nil {
		return err
	}
	if isMsg {
		req = v
	}
	err = eachObject(func(k string, v jsonlex.Value) error {
		switch k {
		case "type":
			if isMsg {
				setAttr(ev, "dnp3_type", v)
			}
		case "src", "dst":
			if _, ok := ev.Attr("dnp3_" + k); !ok {
				setAttr(ev, "dnp3_"+k, v)
			}
		case "application":
			return v.Object(func(k string, v jsonlex.Value) error {
				if c := decode.Code(v.Str()); k == "function_code" && c.OK && !ev.FunctionCode.OK {
					ev.FunctionCode = c
				}
				return nil
			})
		}
		return nil
	}, req, resp)
	if ev.FunctionCode.OK {
		decode.SetFunction(ev, "dnp3", ev.FunctionCode, "")
	}
	return err
}

// requestResponse returns the request and response members of an
// app-layer object, and whether it has a type member (a single message).
func requestResponse(v jsonlex.Value) (req, resp jsonlex.Value, isMsg bool, err error) {
	err = v.Object(func(k string, v jsonlex.Value) error {
		switch k {
		case "request":
			req = v
		case "response":
			resp = v
		case "type":
			isMsg = true
		}
		return nil
	})
	return req, resp, isMsg, err
}

// eachObject calls fn for the members of each object in objs, skipping
// values that are not objects.
func eachObject(fn func(k string, v jsonlex.Value) error, objs ...jsonlex.Value) error {
	for _, o := range objs {
		if o.Kind() != '{' {
			continue
		}
		if err := o.Object(fn); err != nil {
			return err
		}
	}
	return nil
}

// enip reads {"request":{...},"response":{...}}: the CIP service of the
// request (else the response's), named by the class it addresses when that
// decides its meaning, else the encapsulation command, and the statuses.
func enip(ev *event.Event, v jsonlex.Value) error {
	ev.AppProtocol = "enip"
	var command, service string
	class := int32(-1)
	for _, dir := range [...]string{"request", "response"} {
		err := v.Object(func(k string, v jsonlex.Value) error {
			if k != dir {
				return nil
			}
			return v.Object(func(k string, v jsonlex.Value) error {
				switch k {
				case "command":
					if command == "" {
						command = v.Str()
					}
				case "status":
					setAttr(ev, dir+"_status", v)
				case "cip":
					return v.Object(func(k string, v jsonlex.Value) error {
						switch k {
						case "service":
							if service == "" {
								service = v.Str()
							}
						case "class_name", "class":
							setAttr(ev, "cip_class", v)
							if c := decode.CIPClass(strings.TrimPrefix(v.Str(), "unknown-")); c >= 0 && class < 0 {
								class = c
							}
						case "path":
							if class < 0 {
								class = pathClass(v)
							}
						case "status":
							setAttr(ev, "cip_status", v)
						}
						return nil
					})
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	if command != "" {
		ev.SetAttr("enip_command", command)
	}
	if service != "" {
		ev.SetAttr("cip_service", service)
		code, ok := cipService(service)
		// The class addressed decides; else Suricata's name, which for a code
		// it has no name for ("unknown-N") is none.
		name := service
		if strings.HasPrefix(name, "unknown-") {
			name = ""
		}
		if ok {
			if n := decode.CIPService(code, class); n != "" && (class >= 0 || name == "") {
				name = n
			}
		}
		c := event.Opt[int32]{}
		if ok {
			c = event.Some(code)
		}
		decode.SetFunction(ev, "cip", c, name)
		return nil
	}
	decode.SetFunction(ev, "enip", event.Opt[int32]{}, command)
	return nil
}

// pathClass returns the class of a CIP path [{"segment_type":"class",
// "value":107}, ...], or -1.
func pathClass(v jsonlex.Value) int32 {
	class := int32(-1)
	_ = v.Array(func(seg jsonlex.Value) error {
		isClass := false
		var val string
		_ = seg.Object(func(k string, v jsonlex.Value) error {
			switch k {
			case "segment_type":
				isClass = v.Str() == "class"
			case "value":
				val = v.Str()
			}
			return nil
		})
		if isClass && class < 0 {
			if c := decode.Code(val); c.OK {
				class = c.V
			}
		}
		return nil
	})
	return class
}

// cipService returns the code of a CIP service as Suricata names it: the
// service names of the CIP specification ("Write Data" is the Logix
// write, 0x4d), or "unknown-N" for codes it has no name for.
func cipService(name string) (int32, bool) {
	if n, ok := strings.CutPrefix(name, "unknown-"); ok {
		v, err := strconv.ParseUint(n, 10, 8)
		return int32(v), err == nil
	}
	return decode.FunctionCode("cip", name)
}
