package decode_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

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
	ev.SrcIP, ev.DstIP = netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.10")
	if strings.Contains(h.Body, "nodst") {
		ev.DstIP = netip.Addr{}
	}
	if strings.Contains(h.Body, "named") {
		ev.SrcIP = netip.Addr{}
		ev.SetAttr(event.AttrSrcHost, "hist-01")
	}
	if strings.Contains(h.Body, "year") {
		ev.Time = time.Date(33658, 9, 27, 1, 46, 40, 0, time.UTC)
	}
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
	want := `date|2026-04-15 devname|fgr-c2 msg|a \"quoted\" = value empty| x|1 y|2 z|3 last|unterminated`
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	// FortiOS's CSV format; a comma inside an unquoted value stays.
	got = got[:0]
	for k, v := range decode.KV(`date=2026-03-03,time=10:15:22,devname="fgr-c2",msg="a, b",list=a,b,c=1`) {
		got = append(got, k+"|"+v)
	}
	if want := `date|2026-03-03 time|10:15:22 devname|fgr-c2 msg|a, b list|a,b c|1`; strings.Join(got, " ") != want {
		t.Errorf("csv: got  %s\nwant %s", strings.Join(got, " "), want)
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
	if got := decode.FunctionName("modbus", 0x86); got != "" {
		t.Errorf("0x86 is no function of its own: %q", got)
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

// A flow, dpi or alert event names both endpoints, by address or by host
// name; one that does not is a raw event saying what it lacks.
func TestCompleteness(t *testing.T) {
	reg := &decode.Registry{}
	reg.Register(stub{name: "fw", prefix: "%FW"})
	p := &decode.Parser{Registry: reg}
	var ev event.Event
	sender := netip.MustParseAddr("10.30.1.1")
	for _, tc := range []struct{ line, kind, perr string }{
		{"<14>Apr 15 09:36:50 fw-1 %FW both", "flow", ""},
		{"<14>Apr 15 09:36:50 fw-1 %FW nodst", "raw", "fw: flow event: no destination address"},
		{"<14>Apr 15 09:36:50 fw-1 %FW named", "flow", ""},
		{"<14>Apr 15 09:36:50 fw-1 %FW named nodst", "raw", "fw: flow event: no destination address"},
	} {
		p.Parse([]byte(tc.line), sender, decodetest.Received, &ev)
		if string(ev.Kind) != tc.kind || ev.ParseError != tc.perr {
			t.Errorf("%q: kind %s, parse_error %q", tc.line, ev.Kind, ev.ParseError)
		}
	}
	ev = event.Event{Kind: event.KindSystem}
	if err := decode.Complete(&ev); err != nil {
		t.Errorf("system event: %v", err)
	}
	ev.Kind = event.KindAlert
	if err := decode.Complete(&ev); !errors.Is(err, decode.ErrNoSource) {
		t.Errorf("alert without endpoints: %v", err)
	}
}

// An implausible device time becomes the receive time; what the device
// said is kept, and the event survives the codec.
func TestImplausibleTime(t *testing.T) {
	reg := &decode.Registry{}
	reg.Register(stub{name: "fw", prefix: "%FW"})
	p := &decode.Parser{Registry: reg}
	var ev event.Event
	sender := netip.MustParseAddr("10.30.1.1")
	recv := decodetest.Received
	for _, tc := range []struct {
		line, time, device string
	}{
		{"<14>Apr 15 09:36:50 fw-1 %FW ok", "2026-04-15T09:36:50Z", ""},
		// The year from a millisecond count read as seconds.
		{"<14>Apr 15 09:36:50 fw-1 %FW year", "2026-04-15T13:40:00Z", "1000000000000"},
		// A clock reset: RFC 3339 with a year, long before.
		{"<14>2016-04-15T09:36:50Z fw-1 %FW old", "2026-04-15T13:40:00Z", "2016-04-15T09:36:50Z"},
		// A day and more ahead.
		{"<14>2026-04-16T14:40:01Z fw-1 %FW ahead", "2026-04-15T13:40:00Z", "2026-04-16T14:40:01Z"},
		// Within a timezone's error ahead, and within a year back: kept.
		{"<14>2026-04-16T03:40:00Z fw-1 %FW tz", "2026-04-16T03:40:00Z", ""},
		{"<14>2025-05-01T00:00:00Z fw-1 %FW buffered", "2025-05-01T00:00:00Z", ""},
		// Raw events too.
		{"<14>1999-01-01T00:00:00Z fw-1 nothing", "2026-04-15T13:40:00Z", "1999-01-01T00:00:00Z"},
	} {
		p.Parse([]byte(tc.line), sender, recv, &ev)
		dt, _ := ev.Attr(event.AttrDeviceTime)
		if got := ev.Time.Format(time.RFC3339); got != tc.time || dt != tc.device {
			t.Errorf("%q: time %s device_time %q, want %s %q", tc.line, got, dt, tc.time, tc.device)
		}
		if replaced := ev.TimeSource == event.TimeReceived; replaced != (tc.device != "") {
			t.Errorf("%q: time_source %q", tc.line, ev.TimeSource)
		}
		var back event.Event
		if err := event.Decode(ev.AppendJSON(nil), &back); err != nil {
			t.Errorf("%q: %v", tc.line, err)
		}
	}
	// Bounds are the Parser's to set.
	p.MaxPast = 20 * 365 * 24 * time.Hour
	p.Parse([]byte("<14>2016-04-15T09:36:50Z fw-1 %FW old"), sender, recv, &ev)
	if ev.Time.Year() != 2016 {
		t.Errorf("MaxPast not applied: %v", ev.Time)
	}
}
