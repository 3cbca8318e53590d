package decode_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

// stub is a decoder for tests: it claims bodies starting with prefix.
type stub struct {
	name, prefix string
	err          error
	panics       bool
}

func (s stub) Name() string { return s.name }
func (s stub) Detect(h *syslog.Header) bool {
	return strings.HasPrefix(h.Body, s.prefix)
}
func (s stub) Decode(h *syslog.Header, ev *event.Event) error {
	if s.panics {
		var m map[string]int
		m["boom"]++
	}
	ev.Kind = event.KindFlow
	ev.Vendor = s.name
	ev.SetAttr("body", h.Body)
	return s.err
}

func TestRawGolden(t *testing.T) { decodetest.Golden(t, decode.Raw{}) }

func FuzzRaw(f *testing.F) { decodetest.Fuzz(f, decode.Raw{}) }

func TestDetectionAndFallback(t *testing.T) {
	reg := &decode.Registry{}
	reg.Register(stub{name: "b", prefix: "x"})
	reg.Register(stub{name: "a", prefix: "xy"})
	reg.Register(stub{name: "bad", prefix: "bad", err: errors.New("field 3 missing")})
	reg.Register(stub{name: "crash", prefix: "crash", panics: true})
	if got := strings.Join(reg.Names(), ","); got != "a,b,bad,crash" {
		t.Fatalf("names %s", got)
	}
	p := &decode.Parser{Registry: reg, Site: "refinery"}
	sender := netip.MustParseAddr("10.20.1.1")
	var ev event.Event
	for _, tc := range []struct{ line, vendor, kind, perr string }{
		{"<14>Apr 15 09:36:50 plc-01 xyz", "a", "flow", ""},
		{"<14>Apr 15 09:36:50 plc-01 xz", "b", "flow", ""},
		{"<14>Apr 15 09:36:50 plc-01 zzz", "", "raw", "no decoder recognized the line"},
		{"<14>Apr 15 09:36:50 plc-01 bad line", "", "raw", "bad: field 3 missing"},
		{"<14>Apr 15 09:36:50 plc-01 crash now", "", "raw", "crash: decoder panic: assignment to entry in nil map"},
	} {
		p.Parse([]byte(tc.line), sender, decodetest.Received, &ev)
		if ev.Vendor != tc.vendor || string(ev.Kind) != tc.kind || ev.ParseError != tc.perr ||
			ev.Message != tc.line || ev.Device != "plc-01" || ev.DeviceIP != sender || ev.Site != "refinery" ||
			!ev.Severity.OK || ev.Severity.V != 6 || ev.Time.IsZero() {
			t.Errorf("%q: got %+v", tc.line, ev)
		}
		if tc.kind == "raw" && len(ev.Attrs) != 0 {
			t.Errorf("%q: raw event keeps decoder attrs %v", tc.line, ev.Attrs)
		}
	}
	// A forced decoder skips detection.
	p.Decoder, _ = reg.Lookup("b")
	p.Parse([]byte("<14>Apr 15 09:36:50 plc-01 zzz"), sender, decodetest.Received, &ev)
	if ev.Vendor != "b" {
		t.Errorf("forced decoder not used: %+v", ev)
	}
	if d, ok := decode.Default.Lookup("raw"); !ok || d.Name() != "raw" {
		t.Error("raw decoder not registered")
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	reg := &decode.Registry{}
	reg.Register(stub{name: "a"})
	reg.Register(stub{name: "a"})
}

func TestKV(t *testing.T) {
	var got []string
	for k, v := range decode.KV(`date=2026-04-15 devname="fgr-c2" msg="a \"quoted\" = value" empty= bare x=1, y=2,z=3 last="unterminated`) {
		got = append(got, k+"|"+v)
	}
	want := `date|2026-04-15 devname|fgr-c2 msg|a \"quoted\" = value empty| x|1 y|2,z=3 last|unterminated`
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestProtocolsAndFunctions(t *testing.T) {
	for in, want := range map[string]string{"Modbus/TCP": "modbus", "modbus-tcp": "modbus", "DNP3": "dnp3",
		"EtherNet/IP": "enip", "cip-ethernet-ip": "cip", "S7Comm": "s7", "iec-60870-5-104": "iec104",
		"OPC-UA": "opcua", "ms-rdp": "rdp", "ssl": "tls", "HTTPS": "https", "Foo": "foo"} {
		if got := decode.AppProtocol(in); got != want {
			t.Errorf("AppProtocol(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"6": "tcp", "UDP": "udp", "1": "icmp", "58": "icmp6", "89": "89"} {
		if got := decode.Transport(in); got != want {
			t.Errorf("Transport(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		proto, name string
		code        int32
	}{
		{"modbus", "read-holding-registers", 3}, {"modbus", "WRITE_SINGLE_REGISTER", 6},
		{"modbus", "preset-multiple-registers", 16}, {"modbus", "Force Single Coil", 5},
		{"dnp3", "DIRECT_OPERATE", 5}, {"dnp3", "confirm", 0}, {"cip", "Set_Attribute_Single", 0x10},
		{"enip", "RegisterSession", 0x65},
	} {
		code, ok := decode.FunctionCode(tc.proto, tc.name)
		if !ok || code != tc.code {
			t.Errorf("FunctionCode(%s, %s) = %d, %v", tc.proto, tc.name, code, ok)
		}
	}
	if _, ok := decode.FunctionCode("modbus", "launch-missiles"); ok {
		t.Error("unknown function name matched")
	}
	if got := decode.FunctionName("modbus", 0x86); got != "write_single_register_exception" {
		t.Errorf("exception name %q", got)
	}
	if got := decode.FunctionName("dnp3", 0); got != "confirm" {
		t.Errorf("dnp3 0 = %q", got)
	}
}

// Relays' repeat notes: rsyslog's wrapper is decoded as its message with
// the count; syslogd's "last message repeated" is a system event.
func TestRepeatedMessages(t *testing.T) {
	reg := &decode.Registry{}
	reg.Register(stub{name: "fw", prefix: "%FW"})
	p := &decode.Parser{Registry: reg}
	var ev event.Event
	sender := netip.MustParseAddr("10.30.1.1")
	for _, tc := range []struct{ line, kind, body, count string }{
		{"<14>Apr 15 09:36:50 fw-1 message repeated 5 times: [ %FW deny x [0x0]]", "flow", "%FW deny x [0x0]", "5"},
		{"<14>Apr 15 09:36:50 fw-1 last message repeated 3 times", "system", "", "3"},
		{"<14>Apr 15 09:36:50 fw-1 message repeated often: [ %FW x]", "raw", "", ""},
		{"<14>Apr 15 09:36:50 fw-1 %FW plain", "flow", "%FW plain", ""},
	} {
		p.Parse([]byte(tc.line), sender, decodetest.Received, &ev)
		body, _ := ev.Attr("body")
		count, _ := ev.Attr(decode.AttrRepeatCount)
		if string(ev.Kind) != tc.kind || body != tc.body || count != tc.count || ev.Message != tc.line || ev.ID.IsZero() {
			t.Errorf("%q: kind %s body %q count %q", tc.line, ev.Kind, body, count)
		}
	}
}
