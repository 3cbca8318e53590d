// Package fortigate decodes FortiGate and FortiGate Rugged key=value logs
// (FortiOS 5.x to 7.x, and as FortiAnalyzer forwards them): type=traffic
// (forward, local, multicast), type=utm (ips, app-ctrl, anomaly, virus,
// webfilter, ...) and type=event, in the default format (space-separated),
// the CSV format (set format csv: comma-separated key=value pairs), the
// JSON format (set format json: one object of the same fields), bare or
// behind an RFC 3164 or RFC 5424 header.
//
// The event time is eventtime (seconds, milliseconds, microseconds or
// nanoseconds since the epoch, told apart by magnitude); else date and
// time in the tz FortiOS or FortiAnalyzer writes ("+0100", "-08:00",
// "UTC+1:00", "GMT-8:00"); else FortiAnalyzer's timestamp (epoch); else
// date and time in the listener's timezone; else the syslog header's.
// Application-control signatures naming an industrial function carry the
// protocol and function ("Modbus_Func05.Write.Single.Coil.Validation",
// "Modbus.Unity_Download.Block", "OPC.UA_Write.Request"); IPS signatures
// set a function only when they name a known one.
package fortigate

import (
	"errors"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/jsonlex"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the FortiGate decoder, registered as "fortigate".
type Decoder struct{}

// Name returns "fortigate".
func (Decoder) Name() string { return "fortigate" }

// Detect claims key=value bodies with a logid and a type and a FortiOS
// field first or a devname, and JSON objects (set format json) with a
// logid, a type and a devname.
func (Decoder) Detect(h *syslog.Header) bool {
	b := h.Body
	if strings.HasPrefix(b, "{") {
		return strings.Contains(b, `"logid"`) && strings.Contains(b, `"type"`) && strings.Contains(b, `"devname"`)
	}
	return (strings.HasPrefix(b, "date=") || strings.HasPrefix(b, "logver=") || strings.HasPrefix(b, "eventtime=") ||
		strings.HasPrefix(b, "timestamp=") || strings.Contains(b, "devname=")) &&
		strings.Contains(b, "logid=") && strings.Contains(b, "type=")
}

var errNoType = errors.New("no type field")

// threatSeverities map FortiGuard's attack severities to syslog
// severities, as PAN-OS threat severities are.
var threatSeverities = map[string]uint8{"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}

var levels = map[string]uint8{"emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4,
	"notice": 5, "information": 6, "debug": 7}

// Decode decodes one FortiGate log line.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	ev.Vendor, ev.Product = "fortinet", "fortigate"
	var f fields
	if strings.HasPrefix(h.Body, "{") {
		if err := f.readJSON(h.Body, ev); err != nil {
			return err
		}
	} else {
		for k, v := range decode.KV(h.Body) {
			f.set(k, v, ev)
		}
	}
	return f.decode(h, ev)
}

// fields holds what the event is made of only once every field is read:
// the time from several fields, the kind from type and subtype.
type fields struct {
	typ, subtype, date, clock, tz, eventtime, stamp, policyname, policyid, action, app, service, attack, status string
	sb, rb, sp, rp                                                                                              event.Opt[uint64]
}

// readJSON reads the members of a log in the JSON format, values as text.
func (f *fields) readJSON(body string, ev *event.Event) error {
	return jsonlex.EachMember(body, func(k string, v jsonlex.Value) error {
		f.set(k, v.Str(), ev)
		return nil
	})
}

// set reads one field into f or ev.
func (f *fields) set(k, v string, ev *event.Event) {
	switch k {
	case "date":
		f.date = v
	case "time":
		f.clock = v
	case "tz":
		f.tz = v
	case "eventtime":
		f.eventtime = v
	case "timestamp":
		f.stamp = v
		ev.Attrs = append(ev.Attrs, event.Attr{Key: k, Value: v})
	case "logid":
		ev.MessageID = v
	case "type":
		f.typ = v
	case "subtype":
		f.subtype = v
	case "level":
		if s, ok := levels[v]; ok && !ev.Severity.OK {
			ev.Severity = event.Some(s)
		}
	case "devname":
		ev.Device = v
	case "srcip":
		ev.SrcIP = decode.Addr(v)
	case "dstip":
		ev.DstIP = decode.Addr(v)
	case "srcport":
		ev.SrcPort = decode.Port(v)
	case "dstport":
		ev.DstPort = decode.Port(v)
	case "srcintf":
		ev.SrcInterface = v
	case "dstintf":
		ev.DstInterface = v
	case "proto":
		ev.Transport = decode.Transport(v)
	case "policyname":
		f.policyname = v
	case "policyid":
		f.policyid = v
	case "action":
		f.action = v
	case "app":
		f.app = v
	case "service":
		f.service = v
	case "attack":
		f.attack = v
	case "attackid":
		ev.SignatureID = v
	case "status":
		f.status = v
	case "user", "srcuser":
		ev.SrcUser = v
	case "sentbyte":
		f.sb = decode.Uint(v)
	case "rcvdbyte":
		f.rb = decode.Uint(v)
	case "sentpkt":
		f.sp = decode.Uint(v)
	case "rcvdpkt":
		f.rp = decode.Uint(v)
	default:
		ev.Attrs = append(ev.Attrs, event.Attr{Key: k, Value: v})
	}
}

// decode makes the event of the fields read.
func (f *fields) decode(h *syslog.Header, ev *event.Event) error {
	typ, subtype, action, app, service, attack, status := f.typ, f.subtype, f.action, f.app, f.service, f.attack, f.status
	if typ == "" {
		return errNoType
	}
	ev.SetAttr("subtype", subtype)
	if t := logTime(f.date, f.clock, f.tz, f.eventtime, f.stamp, h.Location); !t.IsZero() {
		ev.Time = t
	}
	ev.Rule = f.policyname
	if ev.Rule == "" {
		ev.Rule = f.policyid
	}
	ev.Bytes, ev.Packets = decode.Sum(f.sb, f.rb), decode.Sum(f.sp, f.rp)
	nat(ev)
	switch typ {
	case "traffic":
		ev.Kind = event.KindFlow
		ev.Action = trafficAction(action)
	case "utm", "anomaly", "ips", "app-ctrl", "virus", "webfilter": // 5.x used the subtype as type
		ev.Kind = event.KindAlert
		if subtype == "app-ctrl" || typ == "app-ctrl" {
			ev.Kind = event.KindDPI
		}
		ev.Action = utmAction(action)
		// An IPS or anomaly entry's own severity ranks the attack; the
		// log level only says how loud the entry is.
		if sev, ok := ev.Attr("severity"); ok {
			if s, ok := threatSeverities[sev]; ok {
				ev.Severity = event.Some(s)
			}
		}
	case "event":
		ev.Kind = event.KindSystem
		ev.Action = event.Action("")
		if action != "" {
			ev.SetAttr("action", action)
		}
	default:
		ev.Kind = event.KindSystem
	}
	if status != "" {
		ev.SetAttr("status", status)
	}
	if attack != "" {
		ev.Signature = attack
	}
	// Application protocol and function, from the most specific name: an
	// application control signature names a function, an IPS signature an
	// attack (its function only when it names a known one).
	switch {
	case app != "" && decode.SetOTApp(ev, app):
	case attack != "" && decode.SetOTSignature(ev, attack):
	case service != "":
		decode.SetOTApp(ev, service)
	}
	if ev.AppProtocol == "" {
		for _, name := range [...]string{service, app} {
			if name != "" && !strings.Contains(name, "/") && name != "unknown" {
				ev.AppProtocol = decode.AppProtocol(name)
				break
			}
		}
	}
	if ev.Kind == event.KindDPI && ev.Function == "" && !ev.FunctionCode.OK {
		// A signature of the protocol alone ("OPC.UA", "Modbus") names
		// the session's application, not one operation of it: judged as
		// a connection record, not as a transaction naming nothing
		// (rules.Flow).
		ev.Kind = event.KindFlow
	}
	if app != "" {
		ev.SetAttr("app", app)
	}
	if service != "" {
		ev.SetAttr("service", service)
	}
	return nil
}

// nat reads FortiOS's translation fields into the real and mapped
// endpoints (FortiOS Log Reference, traffic log fields): trandisp says what
// was translated (snat, dnat, snat+dnat, noop); transip/transport are the
// translated source, tranip/tranport the translated destination. srcip is
// the real source, so transip is its mapped address; dstip is what the
// initiator addressed (a VIP), so tranip is the real destination and dstip
// its mapped address. The fields stay attrs as well.
func nat(ev *event.Event) {
	trandisp, _ := ev.Attr("trandisp")
	transip, _ := ev.Attr("transip")
	transport, _ := ev.Attr("transport")
	tranip, _ := ev.Attr("tranip")
	tranport, _ := ev.Attr("tranport")
	if strings.Contains(trandisp, "snat") {
		if a := decode.Addr(transip); a.IsValid() && !a.IsUnspecified() {
			ev.SrcMappedIP, ev.SrcMappedPort = a, decode.Port(transport)
		}
	}
	if strings.Contains(trandisp, "dnat") {
		if a := decode.Addr(tranip); a.IsValid() && !a.IsUnspecified() {
			ev.DstMappedIP, ev.DstMappedPort = ev.DstIP, ev.DstPort
			ev.DstIP = a
			if p := decode.Port(tranport); p.OK && p.V != 0 {
				ev.DstPort = p
			}
		}
	}
}

// logTime reads the event time: eventtime (FortiOS 6.2+: nanoseconds, some
// builds microseconds, milliseconds or seconds, told apart by their
// digits), then date and time in tz, then FortiAnalyzer's timestamp (epoch
// seconds or milliseconds), then date and time in loc (the listener's
// timezone, for FortiOS 5.x and 6.0, which write no tz).
func logTime(date, clock, tz, eventtime, stamp string, loc *time.Location) time.Time {
	if t := epoch(eventtime); !t.IsZero() {
		return t
	}
	var local time.Time
	if date != "" && clock != "" {
		t, err := time.Parse("2006-01-02 15:04:05", date+" "+clock)
		if err == nil {
			if off, ok := tzOffset(tz); ok {
				return t.Add(-time.Duration(off) * time.Second).UTC()
			}
			local = t
		}
	}
	if t := epoch(stamp); !t.IsZero() {
		return t
	}
	if !local.IsZero() {
		if loc == nil {
			loc = time.UTC
		}
		return time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, loc).UTC()
	}
	return time.Time{}
}

// epoch reads a count since the Unix epoch in s, ms, µs or ns by its digits.
func epoch(s string) time.Time {
	v := decode.Uint(s)
	if !v.OK || v.V > 1<<62 {
		return time.Time{}
	}
	switch n := len(s); {
	case n >= 18:
		return time.Unix(0, int64(v.V)).UTC()
	case n >= 15:
		return time.UnixMicro(int64(v.V)).UTC()
	case n >= 12:
		return time.UnixMilli(int64(v.V)).UTC()
	case n >= 9:
		return time.Unix(int64(v.V), 0).UTC()
	}
	return time.Time{}
}

// tzOffset reads a UTC offset in seconds as FortiOS and FortiAnalyzer write
// it: "+0100", "-0800", "+01:00", "UTC+1:00", "GMT-8", "(GMT-8:00) Pacific
// Time", "UTC", "Z". ok is false for no tz or an unreadable one.
func tzOffset(tz string) (int, bool) {
	s := strings.TrimSpace(tz)
	if strings.HasPrefix(s, "(") { // "(GMT-8:00) Pacific Time (US & Canada)"
		if end := strings.IndexByte(s, ')'); end > 0 {
			s = s[1:end]
		}
	}
	for _, p := range [...]string{"UTC", "GMT", "utc", "gmt"} {
		s = strings.TrimPrefix(s, p)
	}
	if s == "" || s == "Z" {
		return 0, tz != ""
	}
	sign := 1
	switch s[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	s = s[1:]
	h, m := s, ""
	if i := strings.IndexByte(s, ':'); i >= 0 {
		h, m = s[:i], s[i+1:]
	} else if len(s) == 4 {
		h, m = s[:2], s[2:]
	}
	hv, mv := decode.Uint(h), event.Some[uint64](0)
	if m != "" {
		mv = decode.Uint(m)
	}
	if !hv.OK || !mv.OK || len(h) > 2 || hv.V > 14 || mv.V > 59 {
		return 0, false
	}
	return sign * int(hv.V*3600+mv.V*60), true
}

// trafficAction maps type=traffic actions.
func trafficAction(a string) event.Action {
	switch a {
	case "accept", "start", "dns":
		return event.ActionAllow
	case "deny", "block":
		return event.ActionDeny
	// A session an endpoint ended with a reset was still permitted: the
	// reset is how it closed, not what the firewall did.
	case "close", "timeout", "server-rst", "client-rst":
		return event.ActionClose
	case "ip-conn":
		return event.ActionDrop
	case "":
		return ""
	}
	return event.ActionUnknown
}

// utmAction maps type=utm actions.
func utmAction(a string) event.Action {
	switch a {
	case "pass", "passthrough", "allow", "accept":
		return event.ActionAllow
	case "detected", "monitored", "monitor", "log-only":
		return event.ActionAlert
	case "block", "blocked", "deny":
		return event.ActionDeny
	case "dropped", "drop", "clear_session", "drop_session":
		return event.ActionDrop
	case "reset", "reset_client", "reset_server":
		return event.ActionReset
	case "":
		return ""
	}
	return event.ActionUnknown
}
