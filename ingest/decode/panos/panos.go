// Package panos decodes Palo Alto Networks PAN-OS syslog in its default
// CSV format, with or without a syslog header: TRAFFIC (subtypes start,
// end, drop, deny) and THREAT (vulnerability, spyware, virus, url, file,
// data, flood, scan, ...) logs of PAN-OS 8.x to 11.x, by field position.
// PAN-OS only ever appends fields, so rows shorter or longer than a given
// version's are decoded as far as they go. Other log types (SYSTEM,
// CONFIG, ...) become system events.
//
// Mapping: security zones are the src_interface and dst_interface (the
// firewall's sides, as interfaces are for ASA and FortiGate); the physical
// interfaces, session id and App-ID are attrs. With NAT, src_ip and dst_ip
// are the real endpoints and the translated ones src_mapped_ip and
// dst_mapped_ip (see nat). App-IDs of
// industrial protocols ("modbus-write-single-register", "dnp3-operate",
// "iec-60870-5-104", "cip-ethernet-ip") give app_protocol and, when they
// name one, the function code; common IT App-IDs are normalized ("ssl" on
// port 443 is https, "ms-rdp" rdp, "web-browsing" http). The device is the
// log's Device Name field, else the syslog hostname. The event time is the
// High Resolution Timestamp (PAN-OS 10.0+, any log type; it carries its
// offset), else the syslog header's, else Generated Time in the listener's
// timezone. Unquoted "{a, b, c}" lists (PAN-OS 11.x) are one field.
package panos

import (
	"errors"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the PAN-OS decoder, registered as "panos".
type Decoder struct{}

// Name returns "panos".
func (Decoder) Name() string { return "panos" }

// Detect claims CSV bodies that start like a PAN-OS log: a number, a
// receive time "YYYY/MM/DD hh:mm:ss", a serial number and an upper-case
// log type.
func (Decoder) Detect(h *syslog.Header) bool {
	b := h.Body
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 || !strings.HasPrefix(b[i:], ",") || !isDate(b[i+1:]) {
		return false
	}
	rest := b[i+1+len("2006/01/02 15:04:05"):]
	if !strings.HasPrefix(rest, ",") {
		return false
	}
	serial, rest, ok := strings.Cut(rest[1:], ",")
	if !ok || len(serial) > 32 {
		return false
	}
	typ, _, ok := strings.Cut(rest, ",")
	return ok && knownTypes[typ]
}

// knownTypes are the PAN-OS log types.
var knownTypes = map[string]bool{
	"TRAFFIC": true, "THREAT": true, "SYSTEM": true, "CONFIG": true, "HIPMATCH": true,
	"GLOBALPROTECT": true, "USERID": true, "AUTH": true, "DECRYPTION": true, "TUNNEL": true,
	"CORRELATION": true, "SCTP": true, "IPTAG": true, "GTP": true,
}

// isDate reports whether s starts with "YYYY/MM/DD hh:mm:ss".
func isDate(s string) bool {
	const layout = "0000/00/00 00:00:00"
	if len(s) < len(layout) {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == '0' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != layout[i] {
			return false
		}
	}
	return true
}

// Field positions (0-based) shared by TRAFFIC and THREAT.
const (
	fSerial     = 2
	fType       = 3
	fSubtype    = 4
	fGenerated  = 6
	fSrc        = 7
	fDst        = 8
	fNATSrc     = 9
	fNATDst     = 10
	fRule       = 11
	fSrcUser    = 12
	fDstUser    = 13
	fApp        = 14
	fVsys       = 15
	fSrcZone    = 16
	fDstZone    = 17
	fInIf       = 18
	fOutIf      = 19
	fSession    = 22
	fRepeat     = 23
	fSport      = 24
	fDport      = 25
	fNATSport   = 26
	fNATDport   = 27
	fProto      = 29
	fAction     = 30
	minFields   = fAction + 1
	maxFields   = 128 // fields past this are not read
	fBytes      = 31  // TRAFFIC
	fBytesSent  = 32
	fBytesRcvd  = 33
	fPackets    = 34
	fElapsed    = 36
	fCategory   = 37
	fEndReason  = 46
	fDevice     = 52
	fActionSrc  = 53
	fRuleUUID   = 65
	fHiResTime  = 102
	fTHiResTime = 107 // THREAT
	fSysHiRes   = 25  // SYSTEM
	fMisc       = 31  // THREAT: URL or file name
	fThreatID   = 32
	fTCategory  = 33
	fSeverity   = 34
	fDirection  = 35
	fTDevice    = 59
	fThreatCat  = 69
	fTRuleUUID  = 76
	fSysEventID = 8 // SYSTEM
	fSysObject  = 9
	fSysModule  = 12
	fSysSev     = 13
	fSysDesc    = 14
	fSysDevice  = 22
	fConfigHost = 7 // CONFIG: host, vsys, command, admin, client, result, path
	typeTraffic = "TRAFFIC"
	typeThreat  = "THREAT"
)

var (
	errFields = errors.New("fewer fields than a PAN-OS traffic or threat log has")
	errQuote  = errors.New("unterminated quoted field")
)

// Decode decodes one PAN-OS log line.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	var buf [maxFields]string
	f, err := split(h.Body, buf[:0])
	if err != nil {
		return err
	}
	if len(f) <= fType {
		return errFields
	}
	ev.Vendor, ev.Product = "paloaltonetworks", "panos"
	ev.MessageID = f[fType]
	at := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	setNonEmpty(ev, "serial", f[fSerial])
	setNonEmpty(ev, "subtype", at(fSubtype))
	if t := hiResTime(f); !t.IsZero() {
		ev.Time = t
	} else if ev.Time.IsZero() {
		ev.Time = generated(at(fGenerated), h.Location)
	}
	switch f[fType] {
	case typeTraffic, typeThreat:
	case "SYSTEM":
		system(ev, at)
		return nil
	case "CONFIG":
		ev.Kind = event.KindSystem
		for i, key := range configFields {
			setNonEmpty(ev, key, at(fConfigHost+i))
		}
		return nil
	default:
		ev.Kind = event.KindSystem
		return nil
	}
	if len(f) < minFields {
		return errFields
	}
	ev.SrcIP, ev.DstIP = decode.Addr(f[fSrc]), decode.Addr(f[fDst])
	ev.SrcPort, ev.DstPort = decode.Port(f[fSport]), decode.Port(f[fDport])
	ev.Transport = decode.Transport(f[fProto])
	ev.Rule = f[fRule]
	ev.SrcUser, ev.DstUser = f[fSrcUser], f[fDstUser]
	ev.SrcInterface, ev.DstInterface = f[fSrcZone], f[fDstZone]
	app(ev, f[fApp])
	setNonEmpty(ev, "app", f[fApp])
	setNonEmpty(ev, "vsys", f[fVsys])
	setNonEmpty(ev, "inbound_interface", f[fInIf])
	setNonEmpty(ev, "outbound_interface", f[fOutIf])
	setNonEmpty(ev, "session_id", f[fSession])
	setNonEmpty(ev, "repeat_count", f[fRepeat])
	nat(ev, f)
	action := f[fAction]
	device := ""
	if f[fType] == typeTraffic {
		ev.Kind = event.KindFlow
		ev.Action = trafficAction(action)
		ev.Bytes = decode.Uint(at(fBytes))
		ev.Packets = decode.Uint(at(fPackets))
		setNonEmpty(ev, "bytes_sent", at(fBytesSent))
		setNonEmpty(ev, "bytes_received", at(fBytesRcvd))
		setNonEmpty(ev, "elapsed", at(fElapsed))
		setNonEmpty(ev, "category", at(fCategory))
		setNonEmpty(ev, "session_end_reason", at(fEndReason))
		setNonEmpty(ev, "action_source", at(fActionSrc))
		setNonEmpty(ev, "rule_uuid", at(fRuleUUID))
		device = at(fDevice)
	} else {
		ev.Kind = event.KindAlert
		ev.Action = threatAction(action)
		threat(ev, at(fThreatID))
		if s, ok := severities[at(fSeverity)]; ok {
			ev.Severity = event.Some(s)
		}
		if at(fSubtype) == "url" {
			setNonEmpty(ev, "url", at(fMisc))
		} else {
			setNonEmpty(ev, "file_name", at(fMisc))
		}
		setNonEmpty(ev, "category", at(fTCategory))
		setNonEmpty(ev, "direction", at(fDirection))
		setNonEmpty(ev, "threat_category", at(fThreatCat))
		setNonEmpty(ev, "rule_uuid", at(fTRuleUUID))
		device = at(fTDevice)
	}
	if action != "" && ev.Action == event.ActionUnknown {
		ev.SetAttr("action", action)
	}
	if device != "" {
		ev.Device = device
	}
	if ev.SrcIP.IsUnspecified() || ev.DstIP.IsUnspecified() {
		// A zone protection flood names no host pair (0.0.0.0): the
		// firewall's report about a zone, not traffic to judge.
		ev.Kind = event.KindSystem
	}
	return nil
}

// nat reads the NAT columns into the real and mapped endpoints. PAN-OS
// logs the session as the initiator addressed it (Source and Destination
// address, pre-NAT) and the translations in NAT Source IP / NAT
// Destination IP and their ports (post-NAT; 0.0.0.0 and port 0 when none
// was made). The real source is the pre-NAT one and its mapped address the
// NAT Source IP; the real destination is the NAT Destination IP (the server
// behind a destination NAT) and its mapped address the one the initiator
// addressed.
func nat(ev *event.Event, f []string) {
	if a := decode.Addr(f[fNATSrc]); a.IsValid() && !a.IsUnspecified() {
		ev.SrcMappedIP = a
		if p := decode.Port(f[fNATSport]); p.OK && p.V != 0 {
			ev.SrcMappedPort = p
		}
	}
	if a := decode.Addr(f[fNATDst]); a.IsValid() && !a.IsUnspecified() {
		ev.DstMappedIP, ev.DstMappedPort = ev.DstIP, ev.DstPort
		ev.DstIP = a
		if p := decode.Port(f[fNATDport]); p.OK && p.V != 0 {
			ev.DstPort = p
		}
	}
}

// configFields are the attrs of CONFIG fields 7 to 13.
var configFields = [...]string{"host", "vsys", "command", "admin", "client", "result", "path"}

// system decodes a SYSTEM log: event id, object, module, severity and
// description.
func system(ev *event.Event, at func(int) string) {
	ev.Kind = event.KindSystem
	setNonEmpty(ev, "event_id", at(fSysEventID))
	setNonEmpty(ev, "object", at(fSysObject))
	setNonEmpty(ev, "module", at(fSysModule))
	setNonEmpty(ev, "description", at(fSysDesc))
	if s, ok := severities[at(fSysSev)]; ok {
		ev.Severity = event.Some(s)
	}
	if d := at(fSysDevice); d != "" {
		ev.Device = d
	}
}

// split appends the comma-separated fields of s to dst, stopping at
// maxFields. A field may be double-quoted, with commas inside and ""
// for a quote; only fields with "" allocate. A field that starts with '{'
// runs to its '}' unquoted: PAN-OS 11.x writes lists so ("Link Switches"
// of TRAFFIC, "{wan1, isp-a, ethernet, …}"), commas and all.
func split(s string, dst []string) ([]string, error) {
	for len(dst) < maxFields {
		if strings.HasPrefix(s, "{") {
			if end := strings.IndexByte(s, '}'); end > 0 && (end+1 == len(s) || s[end+1] == ',') {
				dst = append(dst, s[:end+1])
				if end+1 == len(s) {
					return dst, nil
				}
				s = s[end+2:]
				continue
			}
		}
		var field string
		if strings.HasPrefix(s, `"`) {
			end, esc := 1, false
			for {
				q := strings.IndexByte(s[end:], '"')
				if q < 0 {
					return dst, errQuote
				}
				end += q
				if end+1 < len(s) && s[end+1] == '"' {
					end, esc = end+2, true
					continue
				}
				break
			}
			field = s[1:end]
			if esc {
				field = strings.ReplaceAll(field, `""`, `"`)
			}
			s = s[end+1:]
			dst = append(dst, field)
			if s == "" {
				return dst, nil
			}
			if s[0] != ',' {
				return dst, errQuote
			}
			s = s[1:]
			continue
		}
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return append(dst, s), nil
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
	return dst, nil
}

// generated reads a Generated Time, "2006/01/02 15:04:05", in the
// firewall's timezone: the listener's.
func generated(s string, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("2006/01/02 15:04:05", s, loc)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// hiResTimes are the documented positions of the High Resolution
// Timestamp (PAN-OS 10.0+) by log type.
var hiResTimes = map[string]int{typeTraffic: fHiResTime, typeThreat: fTHiResTime, "SYSTEM": fSysHiRes}

// hiResTime returns the High Resolution Timestamp ("2026-03-03T21:15:22.123
// +11:00", with its offset, so no timezone is guessed): at its documented
// position, else the first field past the common ones that is one (versions
// add fields before it), else zero.
func hiResTime(f []string) time.Time {
	if i, ok := hiResTimes[f[fType]]; ok && i < len(f) {
		if t, ok := rfc3339(f[i]); ok {
			return t
		}
	}
	for i := 20; i < len(f); i++ {
		if t, ok := rfc3339(f[i]); ok {
			return t
		}
	}
	return time.Time{}
}

// rfc3339 parses s when it is an RFC 3339 time with an offset; cheap
// rejection first, as most fields are not.
func rfc3339(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

func setNonEmpty(ev *event.Event, key, value string) {
	if value != "" {
		ev.SetAttr(key, value)
	}
}

// notApps are App-ID values that name no application.
var notApps = map[string]bool{
	"incomplete": true, "insufficient-data": true, "not-applicable": true, "unknown": true,
	"unknown-tcp": true, "unknown-udp": true, "unknown-p2p": true, "non-syn-tcp": true,
}

// app sets app_protocol, and the function of OT App-IDs, from an App-ID.
func app(ev *event.Event, id string) {
	if id == "" || notApps[id] {
		return
	}
	if decode.SetOTApp(ev, id) {
		return
	}
	ev.AppProtocol = decode.AppProtocol(id)
	if ev.AppProtocol == "tls" && ev.DstPort == event.Some[uint16](443) {
		ev.AppProtocol = "https"
	}
}

// threat sets the signature from a Threat ID field, "Name(12345)", and
// the protocol and function when the name starts with an industrial
// protocol and the App-ID did not give them.
func threat(ev *event.Event, s string) {
	name := s
	if open := strings.LastIndexByte(s, '('); open >= 0 && strings.HasSuffix(s, ")") {
		name, ev.SignatureID = strings.TrimRight(s[:open], " "), s[open+1:len(s)-1]
	}
	ev.Signature = name
	if ev.FunctionCode.OK || ev.Function != "" {
		return
	}
	app := ev.AppProtocol
	if decode.SetOTSignature(ev, name) && app != "" && ev.AppProtocol != app {
		// The signature's protocol is not the App-ID's: keep the App-ID's.
		ev.AppProtocol, ev.FunctionCode, ev.Function = app, event.Opt[int32]{}, ""
	}
}

// severities maps THREAT severities to syslog severities.
var severities = map[string]uint8{
	"critical": 2, "high": 3, "medium": 4, "low": 5, "informational": 6,
}

// trafficAction maps TRAFFIC actions.
func trafficAction(a string) event.Action {
	switch a {
	case "allow":
		return event.ActionAllow
	case "deny":
		return event.ActionDeny
	case "drop", "drop-icmp", "drop-ICMP":
		return event.ActionDrop
	case "reset-client", "reset-server", "reset-both":
		return event.ActionReset
	case "":
		return ""
	}
	return event.ActionUnknown
}

// threatAction maps THREAT actions.
func threatAction(a string) event.Action {
	switch a {
	case "alert":
		return event.ActionAlert
	case "allow", "continue", "override":
		return event.ActionAllow
	case "deny", "block", "block-url", "block-ip", "block-continue", "block-override", "override-lockout":
		return event.ActionDeny
	case "drop", "drop-all", "drop-all-packets", "random-drop", "random-early-drop", "sinkhole", "syn-cookie":
		return event.ActionDrop
	case "reset-client", "reset-server", "reset-both":
		return event.ActionReset
	case "":
		return ""
	}
	return event.ActionUnknown
}
