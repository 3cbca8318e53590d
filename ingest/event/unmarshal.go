package event

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// UnmarshalJSON implements json.Unmarshaler; see Decode.
func (e *Event) UnmarshalJSON(b []byte) error { return Decode(b, e) }

// Decode parses one JSON object written by AppendJSON (or any producer
// using the same keys) into e, which it resets first. Unknown keys are
// skipped and null means unknown. Strings without escapes share the memory
// of one copy of b.
func Decode(b []byte, e *Event) error { return decode(b, e, false) }

// DecodeNoMessage is Decode for readers that never use the message: it
// leaves e.Message empty, and checks the value as Decode does without
// unescaping it. It accepts exactly what Decode accepts.
func DecodeNoMessage(b []byte, e *Event) error { return decode(b, e, true) }

func decode(b []byte, e *Event, noMessage bool) error {
	e.Reset()
	d := scanner{s: string(b), noMessage: noMessage}
	if err := d.object(e); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	d.ws()
	if d.i != len(d.s) {
		return fmt.Errorf("event: %w at offset %d", errTrailing, d.i)
	}
	return nil
}

var (
	errSyntax   = errors.New("invalid JSON")
	errTrailing = errors.New("data after the object")
	errDepth    = errors.New("nesting too deep")
)

type scanner struct {
	s string
	i int
	// noMessage: check the message without building it.
	noMessage bool
}

func (d *scanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *scanner) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, d.i)
}

// expect consumes c after optional white space.
func (d *scanner) expect(c byte) error {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != c {
		return d.fail("want " + strconv.QuoteRune(rune(c)))
	}
	d.i++
	return nil
}

// peek returns the next non-space byte, or 0 at the end.
func (d *scanner) peek() byte {
	d.ws()
	if d.i >= len(d.s) {
		return 0
	}
	return d.s[d.i]
}

// members calls f for each key of an object; f must consume the value.
func (d *scanner) members(f func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		k, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := f(k); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.fail("want ',' or '}'")
		}
	}
}

// null consumes a null literal if one is next.
func (d *scanner) null() bool {
	if d.peek() == 'n' && len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *scanner) object(e *Event) error {
	return d.members(func(k string) error {
		if d.null() {
			return nil
		}
		var err error
		switch k {
		case "id":
			var s string
			if s, err = d.str(); err == nil {
				e.ID, err = ParseID(s)
			}
		case "time":
			e.Time, err = d.time()
		case "time_source":
			var s string
			s, err = d.str()
			e.TimeSource = internTimeSource(s)
		case "received_at":
			e.ReceivedAt, err = d.time()
		case "site":
			e.Site, err = d.str()
		case "kind":
			var s string
			s, err = d.str()
			e.Kind = internKind(s)
		case "vendor":
			e.Vendor, err = d.str()
		case "product":
			e.Product, err = d.str()
		case "device":
			e.Device, err = d.str()
		case "device_ip":
			e.DeviceIP, err = d.addr()
		case "message_id":
			e.MessageID, err = d.str()
		case "severity":
			e.Severity, err = unumber[uint8](d, 7)
		case "action":
			var s string
			s, err = d.str()
			e.Action = internAction(s)
		case "src_ip":
			e.SrcIP, err = d.addr()
		case "src_port":
			e.SrcPort, err = unumber[uint16](d, 65535)
		case "dst_ip":
			e.DstIP, err = d.addr()
		case "dst_port":
			e.DstPort, err = unumber[uint16](d, 65535)
		case "src_mapped_ip":
			e.SrcMappedIP, err = d.addr()
		case "src_mapped_port":
			e.SrcMappedPort, err = unumber[uint16](d, 65535)
		case "dst_mapped_ip":
			e.DstMappedIP, err = d.addr()
		case "dst_mapped_port":
			e.DstMappedPort, err = unumber[uint16](d, 65535)
		case "transport":
			e.Transport, err = d.str()
		case "app_protocol":
			e.AppProtocol, err = d.str()
		case "function_code":
			var tok string
			if tok, err = d.number(); err == nil {
				var v int64
				v, err = strconv.ParseInt(tok, 10, 32)
				e.FunctionCode = Some(int32(v))
			}
		case "function":
			e.Function, err = d.str()
		case "rule":
			e.Rule, err = d.str()
		case "src_zone":
			e.SrcZone, err = d.str()
		case "dst_zone":
			e.DstZone, err = d.str()
		case "conduit":
			e.Conduit, err = d.str()
		case "verdict":
			var s string
			s, err = d.str()
			e.Verdict = internVerdict(s)
		case "reason":
			e.Reason, err = d.str()
		case "src_interface":
			e.SrcInterface, err = d.str()
		case "dst_interface":
			e.DstInterface, err = d.str()
		case "src_user":
			e.SrcUser, err = d.str()
		case "dst_user":
			e.DstUser, err = d.str()
		case "bytes":
			e.Bytes, err = unumber[uint64](d, 1<<64-1)
		case "packets":
			e.Packets, err = unumber[uint64](d, 1<<64-1)
		case "signature":
			e.Signature, err = d.str()
		case "signature_id":
			e.SignatureID, err = d.str()
		case "diode_id":
			e.DiodeID, err = d.str()
		case "diode_side":
			e.DiodeSide, err = d.str()
		case "diode_status":
			e.DiodeStatus, err = d.str()
		case "diode_seq":
			e.DiodeSeq, err = unumber[uint64](d, 1<<64-1)
		case "diode_lag_ms":
			e.DiodeLagMS, err = unumber[uint64](d, 1<<64-1)
		case "diode_bps":
			e.DiodeBPS, err = unumber[uint64](d, 1<<64-1)
		case "message":
			if d.noMessage {
				_, err = d.scanStr(false)
			} else if e.Message == "" { // message_bytes came first
				e.Message, err = d.str()
			} else {
				_, err = d.str()
			}
		case "message_bytes":
			// The exact bytes of a message that is not valid UTF-8.
			var s string
			if s, err = d.str(); err == nil {
				var b []byte
				if b, err = base64.StdEncoding.DecodeString(s); err == nil && !d.noMessage {
					e.Message = string(b)
				}
			}
		case "attrs":
			err = d.members(func(k string) error {
				v, err := d.str()
				e.Attrs = append(e.Attrs, Attr{k, v})
				return err
			})
		case "parse_error":
			e.ParseError, err = d.str()
		default:
			err = d.skip(0)
		}
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		return nil
	})
}

func internTimeSource(s string) string {
	switch s {
	case TimeDevice:
		return TimeDevice
	case TimeReceived:
		return TimeReceived
	}
	return s
}

// Verdicts are interned so that decoded events share their strings.
var verdicts = [...]string{"allowed", "violation", "policy_drift", "would_block", "blocked", "false_block", "intra_zone", "unknown_zone"}

func internVerdict(s string) string {
	for _, v := range verdicts {
		if v == s {
			return v
		}
	}
	return s
}

func internKind(s string) Kind {
	for _, k := range [...]Kind{KindFlow, KindDPI, KindAlert, KindDiode, KindSystem, KindRaw} {
		if s == string(k) {
			return k
		}
	}
	return Kind(s)
}

func internAction(s string) Action {
	for _, a := range [...]Action{ActionAllow, ActionDeny, ActionDrop, ActionReset, ActionAlert, ActionClose, ActionUnknown} {
		if s == string(a) {
			return a
		}
	}
	return Action(s)
}

func (d *scanner) time() (time.Time, error) {
	s, err := d.str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func (d *scanner) addr() (netip.Addr, error) {
	s, err := d.str()
	if err != nil {
		return netip.Addr{}, err
	}
	return netip.ParseAddr(s)
}

func unumber[T Number](d *scanner, max uint64) (Opt[T], error) {
	tok, err := d.number()
	if err != nil {
		return Opt[T]{}, err
	}
	v, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return Opt[T]{}, err
	}
	if v > max {
		return Opt[T]{}, fmt.Errorf("%d out of range", v)
	}
	return Some(T(v)), nil
}

// number returns the text of a JSON number.
func (d *scanner) number() (string, error) {
	d.ws()
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return "", d.fail("want a number")
	}
	return d.s[start:d.i], nil
}

// plain marks the bytes that stand for themselves in a JSON string: all
// but the quote, the backslash and control characters.
var plain = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str returns a JSON string value, unescaped. The common string, without
// escapes or control characters, takes one pass; others take the slow path.
func (d *scanner) str() (string, error) { return d.scanStr(true) }

// scanStr is str; without build it returns "" for a string with escapes
// (consumed and checked all the same).
func (d *scanner) scanStr(build bool) (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start := d.i
	i := start
	for i < len(d.s) && plain[d.s[i]] {
		i++
	}
	if i < len(d.s) && d.s[i] == '"' {
		d.i = i + 1
		return d.s[start:i], nil
	}
	end := strings.IndexByte(d.s[start:], '"')
	if end < 0 {
		return "", d.fail("unterminated string")
	}
	seg := d.s[start : start+end]
	if bs := strings.IndexByte(seg, '\\'); bs >= 0 {
		d.i = start + bs
		return d.unescape(start, build)
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] < 0x20 {
			d.i = start + i
			return "", d.fail("control character in string")
		}
	}
	d.i = start + end + 1
	return seg, nil
}

// unescape returns the string that starts at start and whose first
// backslash is at d.i. It copies runs of plain bytes at once into a
// builder sized to the escaped text, which the unescaped one never exceeds.
// Without build it only consumes and checks the string.
func (d *scanner) unescape(start int, build bool) (string, error) {
	var b strings.Builder
	if build {
		b.Grow(d.closing(d.i) - start)
		b.WriteString(d.s[start:d.i])
	}
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c < 0x20:
			return "", d.fail("control character in string")
		case c != '\\':
			j := d.i + 1
			for j < len(d.s) && d.s[j] != '"' && d.s[j] != '\\' && d.s[j] >= 0x20 {
				j++
			}
			if build {
				b.WriteString(d.s[d.i:j])
			}
			d.i = j
			continue
		}
		if d.i+1 >= len(d.s) {
			break
		}
		esc := d.s[d.i+1]
		d.i += 2
		var r rune
		switch esc {
		case '"', '\\', '/':
			r = rune(esc)
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			var ok bool
			r, ok = d.hex4()
			if !ok {
				return "", d.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if lo, ok := d.hex4(); ok {
						if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
							r2 = dec
						} else {
							d.i = save
						}
					} else {
						d.i = save
					}
				}
				r = r2
			}
		default:
			return "", d.fail("bad escape")
		}
		if build {
			b.WriteRune(r)
		}
	}
	return "", d.fail("unterminated string")
}

// closing returns the offset of the first unescaped quote at or after i,
// or len(d.s) when there is none.
func (d *scanner) closing(i int) int {
	for {
		q := strings.IndexByte(d.s[i:], '"')
		if q < 0 {
			return len(d.s)
		}
		q += i
		n := 0
		for j := q - 1; j >= i && d.s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
}

func (d *scanner) hex4() (rune, bool) {
	if len(d.s)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.i : d.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// skip consumes any JSON value.
func (d *scanner) skip(depth int) error {
	if depth > 64 {
		return errDepth
	}
	switch c := d.peek(); c {
	case '"':
		_, err := d.str()
		return err
	case '{':
		return d.members(func(string) error { return d.skip(depth + 1) })
	case '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.fail("want ',' or ']'")
			}
		}
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(d.s)-d.i >= len(lit) && d.s[d.i:d.i+len(lit)] == lit {
				d.i += len(lit)
				return nil
			}
		}
		return d.fail("bad literal")
	default:
		_, err := d.number()
		return err
	}
}
