package event

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"time"

	"github.com/otsiem/otsiem/ingest/jsonlex"
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
	d := decoder{Lexer: jsonlex.New(string(b)), noMessage: noMessage}
	if err := d.object(e); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	return nil
}

// decoder reads an Event's members with the shared JSON lexer.
type decoder struct {
	jsonlex.Lexer
	// noMessage: check the message without building it.
	noMessage bool
}

func (d *decoder) object(e *Event) error {
	return d.Members(func(k string) error {
		if d.Null() {
			return nil
		}
		var err error
		switch k {
		case "id":
			var s string
			if s, err = d.Str(); err == nil {
				e.ID, err = ParseID(s)
			}
		case "time":
			e.Time, err = d.time()
		case "time_source":
			var s string
			s, err = d.Str()
			e.TimeSource = internTimeSource(s)
		case "received_at":
			e.ReceivedAt, err = d.time()
		case "site":
			e.Site, err = d.Str()
		case "kind":
			var s string
			s, err = d.Str()
			e.Kind = internKind(s)
		case "vendor":
			e.Vendor, err = d.Str()
		case "product":
			e.Product, err = d.Str()
		case "device":
			e.Device, err = d.Str()
		case "device_ip":
			e.DeviceIP, err = d.addr()
		case "message_id":
			e.MessageID, err = d.Str()
		case "severity":
			e.Severity, err = unumber[uint8](d, 7)
		case "action":
			var s string
			s, err = d.Str()
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
			e.Transport, err = d.Str()
		case "app_protocol":
			e.AppProtocol, err = d.Str()
		case "function_code":
			var v int64
			if v, err = d.Int(32); err == nil {
				e.FunctionCode = Some(int32(v))
			}
		case "function":
			e.Function, err = d.Str()
		case "rule":
			e.Rule, err = d.Str()
		case "src_zone":
			e.SrcZone, err = d.Str()
		case "dst_zone":
			e.DstZone, err = d.Str()
		case "conduit":
			e.Conduit, err = d.Str()
		case "verdict":
			var s string
			s, err = d.Str()
			e.Verdict = internVerdict(s)
		case "reason":
			e.Reason, err = d.Str()
		case "src_interface":
			e.SrcInterface, err = d.Str()
		case "dst_interface":
			e.DstInterface, err = d.Str()
		case "src_user":
			e.SrcUser, err = d.Str()
		case "dst_user":
			e.DstUser, err = d.Str()
		case "bytes":
			e.Bytes, err = unumber[uint64](d, 1<<64-1)
		case "packets":
			e.Packets, err = unumber[uint64](d, 1<<64-1)
		case "signature":
			e.Signature, err = d.Str()
		case "signature_id":
			e.SignatureID, err = d.Str()
		case "diode_id":
			e.DiodeID, err = d.Str()
		case "diode_side":
			e.DiodeSide, err = d.Str()
		case "diode_status":
			e.DiodeStatus, err = d.Str()
		case "diode_seq":
			e.DiodeSeq, err = unumber[uint64](d, 1<<64-1)
		case "diode_lag_ms":
			e.DiodeLagMS, err = unumber[uint64](d, 1<<64-1)
		case "diode_bps":
			e.DiodeBPS, err = unumber[uint64](d, 1<<64-1)
		case "message":
			if d.noMessage {
				err = d.SkipStr()
			} else if e.Message == "" { // message_bytes came first
				e.Message, err = d.Str()
			} else {
				_, err = d.Str()
			}
		case "message_bytes":
			// The exact bytes of a message that is not valid UTF-8.
			var s string
			if s, err = d.Str(); err == nil {
				var b []byte
				if b, err = base64.StdEncoding.DecodeString(s); err == nil && !d.noMessage {
					e.Message = string(b)
				}
			}
		case "attrs":
			e.Attrs, err = d.attrs(e.Attrs)
		case "parse_error":
			e.ParseError, err = d.Str()
		default:
			err = d.Skip()
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
var verdicts = [...]string{VerdictAllowed, VerdictViolation, VerdictPolicyDrift, VerdictWouldBlock, VerdictBlocked, VerdictFalseBlock, VerdictIntraZone, VerdictUnknownZone}

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

func (d *decoder) time() (time.Time, error) {
	s, err := d.Str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func (d *decoder) addr() (netip.Addr, error) {
	s, err := d.Str()
	if err != nil {
		return netip.Addr{}, err
	}
	return netip.ParseAddr(s)
}

// attrs appends the members of an object of strings, in order.
func (d *decoder) attrs(a []Attr) ([]Attr, error) {
	err := d.Members(func(k string) error {
		v, err := d.Str()
		a = append(a, Attr{k, v})
		return err
	})
	return a, err
}

func unumber[T Number](d *decoder, max uint64) (Opt[T], error) {
	v, err := d.Uint(max)
	if err != nil {
		return Opt[T]{}, err
	}
	return Some(T(v)), nil
}
