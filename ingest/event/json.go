package event

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// timeLayout is the JSON time format: RFC 3339 in UTC with the fraction
// when there is one.
const timeLayout = time.RFC3339Nano

// AppendJSON appends the event as one JSON object (no trailing newline) to
// dst. Unknown fields are left out; times are written in UTC. Invalid UTF-8
// in strings is replaced by U+FFFD, as encoding/json does; a message that
// is not valid UTF-8 is also written exactly, base64 (RFC 4648, standard
// alphabet) in message_bytes, so the evidence survives every hop.
func (e *Event) AppendJSON(dst []byte) []byte {
	o := &jsonObject{dst: append(dst, '{')}
	if !e.ID.IsZero() {
		o.key("id")
		o.dst = append(o.dst, '"')
		o.dst = appendHex(o.dst, e.ID[:])
		o.dst = append(o.dst, '"')
	}
	o.time("time", e.Time)
	o.str("time_source", e.TimeSource)
	o.time("received_at", e.ReceivedAt)
	o.str("site", e.Site)
	o.str("kind", string(e.Kind))
	o.str("vendor", e.Vendor)
	o.str("product", e.Product)
	o.str("device", e.Device)
	o.addr("device_ip", e.DeviceIP)
	o.str("message_id", e.MessageID)
	o.uint("severity", uint64(e.Severity.V), e.Severity.OK)
	o.str("action", string(e.Action))
	o.addr("src_ip", e.SrcIP)
	o.uint("src_port", uint64(e.SrcPort.V), e.SrcPort.OK)
	o.addr("dst_ip", e.DstIP)
	o.uint("dst_port", uint64(e.DstPort.V), e.DstPort.OK)
	o.addr("src_mapped_ip", e.SrcMappedIP)
	o.uint("src_mapped_port", uint64(e.SrcMappedPort.V), e.SrcMappedPort.OK)
	o.addr("dst_mapped_ip", e.DstMappedIP)
	o.uint("dst_mapped_port", uint64(e.DstMappedPort.V), e.DstMappedPort.OK)
	o.str("transport", e.Transport)
	o.str("app_protocol", e.AppProtocol)
	o.int("function_code", int64(e.FunctionCode.V), e.FunctionCode.OK)
	o.str("function", e.Function)
	o.str("rule", e.Rule)
	o.str("src_zone", e.SrcZone)
	o.str("dst_zone", e.DstZone)
	o.str("conduit", e.Conduit)
	o.str("verdict", e.Verdict)
	o.str("reason", e.Reason)
	o.str("src_interface", e.SrcInterface)
	o.str("dst_interface", e.DstInterface)
	o.str("src_user", e.SrcUser)
	o.str("dst_user", e.DstUser)
	o.uint("bytes", e.Bytes.V, e.Bytes.OK)
	o.uint("packets", e.Packets.V, e.Packets.OK)
	o.str("signature", e.Signature)
	o.str("signature_id", e.SignatureID)
	o.str("diode_id", e.DiodeID)
	o.str("diode_side", e.DiodeSide)
	o.str("diode_status", e.DiodeStatus)
	o.uint("diode_seq", e.DiodeSeq.V, e.DiodeSeq.OK)
	o.uint("diode_lag_ms", e.DiodeLagMS.V, e.DiodeLagMS.OK)
	o.uint("diode_bps", e.DiodeBPS.V, e.DiodeBPS.OK)
	o.str("message", e.Message)
	if !utf8.ValidString(e.Message) {
		o.key("message_bytes")
		o.dst = append(o.dst, '"')
		o.dst = base64.StdEncoding.AppendEncode(o.dst, []byte(e.Message))
		o.dst = append(o.dst, '"')
	}
	o.attrs("attrs", e.Attrs)
	o.str("parse_error", e.ParseError)
	return append(o.dst, '}')
}

// ToValidUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as AppendJSON writes it; s itself when it is valid.
func ToValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// jsonObject appends the members of one JSON object, leaving out what is
// unknown; the caller writes the braces.
type jsonObject struct {
	dst  []byte
	some bool // a member was written
}

func (o *jsonObject) key(k string) {
	if o.some {
		o.dst = append(o.dst, ',')
	}
	o.some = true
	o.dst = append(o.dst, '"')
	o.dst = append(o.dst, k...)
	o.dst = append(o.dst, '"', ':')
}

func (o *jsonObject) str(k, v string) {
	if v != "" {
		o.key(k)
		o.dst = appendString(o.dst, v)
	}
}

func (o *jsonObject) time(k string, t time.Time) {
	if !t.IsZero() {
		o.key(k)
		o.dst = append(o.dst, '"')
		o.dst = t.UTC().AppendFormat(o.dst, timeLayout)
		o.dst = append(o.dst, '"')
	}
}

func (o *jsonObject) addr(k string, a netip.Addr) {
	if a.IsValid() {
		o.key(k)
		o.dst = append(o.dst, '"')
		o.dst = a.AppendTo(o.dst)
		o.dst = append(o.dst, '"')
	}
}

func (o *jsonObject) uint(k string, v uint64, ok bool) {
	if ok {
		o.key(k)
		o.dst = strconv.AppendUint(o.dst, v, 10)
	}
}

func (o *jsonObject) int(k string, v int64, ok bool) {
	if ok {
		o.key(k)
		o.dst = strconv.AppendInt(o.dst, v, 10)
	}
}

func (o *jsonObject) attrs(k string, attrs []Attr) {
	if len(attrs) == 0 {
		return
	}
	o.key(k)
	o.dst = append(o.dst, '{')
	for i, a := range attrs {
		if i > 0 {
			o.dst = append(o.dst, ',')
		}
		o.dst = appendString(o.dst, a.Key)
		o.dst = append(o.dst, ':')
		o.dst = appendString(o.dst, a.Value)
	}
	o.dst = append(o.dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 512)), nil
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// safe[c] is true for ASCII bytes that need no escaping in a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a quoted JSON string. Unlike encoding/json it
// does not escape <, > and &: the output is not meant for HTML.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
