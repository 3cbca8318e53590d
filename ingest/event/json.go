package event

import (
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
// in strings is replaced by U+FFFD, as encoding/json does.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			dst = appendString(dst, v)
		}
	}
	tim := func(k string, t time.Time) {
		if !t.IsZero() {
			key(k)
			dst = append(dst, '"')
			dst = t.UTC().AppendFormat(dst, timeLayout)
			dst = append(dst, '"')
		}
	}
	addr := func(k string, a netip.Addr) {
		if a.IsValid() {
			key(k)
			dst = append(dst, '"')
			dst = a.AppendTo(dst)
			dst = append(dst, '"')
		}
	}
	uint := func(k string, v uint64, ok bool) {
		if ok {
			key(k)
			dst = strconv.AppendUint(dst, v, 10)
		}
	}
	if !e.ID.IsZero() {
		key("id")
		dst = append(dst, '"')
		dst = appendHex(dst, e.ID[:])
		dst = append(dst, '"')
	}
	tim("time", e.Time)
	tim("received_at", e.ReceivedAt)
	str("site", e.Site)
	str("kind", string(e.Kind))
	str("vendor", e.Vendor)
	str("product", e.Product)
	str("device", e.Device)
	addr("device_ip", e.DeviceIP)
	str("message_id", e.MessageID)
	uint("severity", uint64(e.Severity.V), e.Severity.OK)
	str("action", string(e.Action))
	addr("src_ip", e.SrcIP)
	uint("src_port", uint64(e.SrcPort.V), e.SrcPort.OK)
	addr("dst_ip", e.DstIP)
	uint("dst_port", uint64(e.DstPort.V), e.DstPort.OK)
	str("transport", e.Transport)
	str("app_protocol", e.AppProtocol)
	if e.FunctionCode.OK {
		key("function_code")
		dst = strconv.AppendInt(dst, int64(e.FunctionCode.V), 10)
	}
	str("function", e.Function)
	str("rule", e.Rule)
	str("src_zone", e.SrcZone)
	str("dst_zone", e.DstZone)
	str("conduit", e.Conduit)
	str("verdict", e.Verdict)
	str("reason", e.Reason)
	str("src_interface", e.SrcInterface)
	str("dst_interface", e.DstInterface)
	str("src_user", e.SrcUser)
	str("dst_user", e.DstUser)
	uint("bytes", e.Bytes.V, e.Bytes.OK)
	uint("packets", e.Packets.V, e.Packets.OK)
	str("signature", e.Signature)
	str("signature_id", e.SignatureID)
	str("diode_id", e.DiodeID)
	str("diode_side", e.DiodeSide)
	str("diode_status", e.DiodeStatus)
	uint("diode_seq", e.DiodeSeq.V, e.DiodeSeq.OK)
	uint("diode_lag_ms", e.DiodeLagMS.V, e.DiodeLagMS.OK)
	uint("diode_bps", e.DiodeBPS.V, e.DiodeBPS.OK)
	str("message", e.Message)
	if len(e.Attrs) > 0 {
		key("attrs")
		dst = append(dst, '{')
		for i, a := range e.Attrs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, a.Key)
			dst = append(dst, ':')
			dst = appendString(dst, a.Value)
		}
		dst = append(dst, '}')
	}
	str("parse_error", e.ParseError)
	return append(dst, '}')
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
