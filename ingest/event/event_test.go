package event

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() Event {
	recv := time.Date(2026, 4, 15, 13, 36, 50, 123456000, time.UTC)
	line := `<164>Apr 15 2026 09:36:50 EDT: %ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 dst zone-bpcs:10.20.1.10/502 by access-group "OPS-to-BPCS" [0x8ed66b60, 0xf8852875]`
	return Event{
		ID:           NewID(netip.MustParseAddr("10.30.1.1"), "isa3000-c1", recv, []byte(line)),
		Time:         time.Date(2026, 4, 15, 13, 36, 50, 0, time.UTC),
		ReceivedAt:   recv,
		Site:         "refinery",
		Kind:         KindFlow,
		Vendor:       "cisco",
		Product:      "asa",
		Device:       "isa3000-c1",
		DeviceIP:     netip.MustParseAddr("10.30.1.1"),
		MessageID:    "106023",
		Severity:     Some[uint8](4),
		Action:       ActionDeny,
		SrcIP:        netip.MustParseAddr("10.30.1.50"),
		SrcPort:      Some[uint16](51234),
		DstIP:        netip.MustParseAddr("10.20.1.10"),
		DstPort:      Some[uint16](502),
		Transport:    "tcp",
		AppProtocol:  "modbus",
		Rule:         "OPS-to-BPCS",
		SrcInterface: "zone-ops",
		DstInterface: "zone-bpcs",
		Message:      line,
		Attrs:        []Attr{{"hash1", "0x8ed66b60"}, {"hash2", "0xf8852875"}},
	}
}

func TestZeroIsUnknownAndZeroValuesStay(t *testing.T) {
	var e Event
	if got := string(e.AppendJSON(nil)); got != "{}" {
		t.Fatalf("zero event = %s, want {}", got)
	}
	e = Event{Severity: Some[uint8](0), FunctionCode: Some[int32](0), SrcPort: Some[uint16](0), Bytes: Some[uint64](0)}
	want := `{"severity":0,"src_port":0,"function_code":0,"bytes":0}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	var back Event
	if err := Decode([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestRoundTrip(t *testing.T) {
	e := sample()
	e.FunctionCode = Some[int32](6)
	e.Function = "write_single_register"
	e.Bytes = Some[uint64](1 << 40)
	e.Packets = Some[uint64](12)
	e.DiodeSeq = Some[uint64](7)
	e.SrcMappedIP, e.SrcMappedPort = netip.MustParseAddr("172.16.1.2"), Some[uint16](0)
	e.DstMappedIP, e.DstMappedPort = netip.MustParseAddr("2001:db8::10"), Some[uint16](8502)
	e.Message += "\t\"quoted\" \\ \x01 \u2028 é 🔥"
	b := e.AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", back, e)
	}
	// encoding/json agrees with our string escaping.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["message"] != e.Message || m["id"] != e.ID.String() || m["time"] != "2026-04-15T13:36:50Z" ||
		m["received_at"] != "2026-04-15T13:36:50.123456Z" || m["severity"] != 4.0 || m["dst_port"] != 502.0 ||
		m["src_mapped_ip"] != "172.16.1.2" || m["src_mapped_port"] != 0.0 || m["dst_mapped_ip"] != "2001:db8::10" ||
		m["dst_mapped_port"] != 8502.0 {
		t.Fatalf("decoded by encoding/json: %v", m)
	}
	// json.Marshal uses MarshalJSON (and then HTML-escapes <, >, &).
	b2, _ := json.Marshal(e)
	var back2 Event
	if err := Decode(b2, &back2); err != nil || !reflect.DeepEqual(back2, e) {
		t.Fatalf("json.Marshal: %s: %v", b2, err)
	}
}

func TestKeyOrderAndNames(t *testing.T) {
	s := sample()
	s.SrcMappedIP, s.SrcMappedPort = netip.MustParseAddr("172.16.1.2"), Some[uint16](40000)
	s.DstMappedIP, s.DstMappedPort = netip.MustParseAddr("10.100.200.10"), Some[uint16](502)
	b := string(s.AppendJSON(nil))
	keys := []string{"id", "time", "received_at", "site", "kind", "vendor", "product", "device", "device_ip",
		"message_id", "severity", "action", "src_ip", "src_port", "dst_ip", "dst_port", "src_mapped_ip",
		"src_mapped_port", "dst_mapped_ip", "dst_mapped_port", "transport",
		"app_protocol", "rule", "src_interface", "dst_interface", "message", "attrs"}
	last := -1
	for _, k := range keys {
		i := strings.Index(b, `"`+k+`":`)
		if i <= last {
			t.Fatalf("key %s missing or out of order in %s", k, b)
		}
		last = i
	}
}

// A message that is not valid UTF-8 is shown with U+FFFD and kept exactly
// in message_bytes: the bytes survive a round trip, for evidence.
func TestInvalidUTF8KeptExactly(t *testing.T) {
	e := Event{Message: "bad \xff\xfe byte \x1b[2J", Device: "dev\xff"}
	b := e.AppendJSON(nil)
	if !json.Valid(b) || !bytes.Contains(b, []byte(`"message":"bad \ufffd\ufffd byte \u001b[2J"`)) ||
		!bytes.Contains(b, []byte(`"message_bytes":"YmFkIP/+IGJ5dGUgG1sySg=="`)) {
		t.Fatalf("got %s", b)
	}
	var back Event
	if err := Decode(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Message != e.Message || back.Device != "dev\ufffd" {
		t.Fatalf("message %q device %q after a round trip", back.Message, back.Device)
	}
	// Valid UTF-8 carries no copy.
	if b := (&Event{Message: "é ok"}).AppendJSON(nil); bytes.Contains(b, []byte("message_bytes")) {
		t.Fatalf("got %s", b)
	}
	if err := Decode([]byte(`{"message_bytes":"not base64!"}`), &back); err == nil {
		t.Error("bad base64 accepted")
	}
}

// A line without a time takes the receive time, marked as such; a device
// time is kept and not marked.
func TestDefaultTime(t *testing.T) {
	recv := time.Date(2026, 4, 15, 13, 40, 0, 0, time.UTC)
	e := Event{ReceivedAt: recv}
	e.DefaultTime()
	if !e.Time.Equal(recv) || e.TimeSource != TimeReceived {
		t.Fatalf("no device time: time %v source %q", e.Time, e.TimeSource)
	}
	b := e.AppendJSON(nil)
	var back Event
	if err := Decode(b, &back); err != nil || back.TimeSource != TimeReceived || !back.Time.Equal(recv) {
		t.Fatalf("round trip of %s: %+v %v", b, back, err)
	}
	dev := time.Date(2026, 4, 15, 13, 39, 58, 0, time.UTC)
	e = Event{Time: dev, ReceivedAt: recv}
	e.DefaultTime()
	if !e.Time.Equal(dev) || e.TimeSource != "" {
		t.Fatalf("device time: time %v source %q", e.Time, e.TimeSource)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `{"severity":8}`, `{"src_port":70000}`, `{"dst_mapped_port":65536}`, `{"src_mapped_ip":"10.0.0.300"}`, `{"src_ip":"x"}`,
		`{"time":"yesterday"}`, `{"id":"abc"}`, `{"message":"unterminated}`, `{} x`, `{"attrs":{"a":1}}`,
		`{"message":"a\qb"}`, `{"a":[1,2}`} {
		var e Event
		if err := Decode([]byte(in), &e); err == nil {
			t.Errorf("Decode(%q) succeeded", in)
		}
	}
	var e Event
	in := `{"future_key":{"nested":[1,true,null,"x"]},"severity":null,"kind":"flow","message":"\u00e9\ud83d\udd25\/"}`
	if err := Decode([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindFlow || e.Severity.OK || e.Message != "é🔥/" {
		t.Fatalf("got %+v", e)
	}
}

func TestNewIDStable(t *testing.T) {
	a := netip.MustParseAddr("10.20.1.1")
	t0 := time.Unix(1700000000, 5)
	raw := []byte("<166>%ASA-6-302013: x")
	id := NewID(a, "", t0, raw)
	if id != NewID(a, "other-name", t0, raw) {
		t.Fatal("id depends on device name when the address is known")
	}
	for _, other := range []ID{
		NewID(a, "", t0.Add(1), raw),
		NewID(netip.MustParseAddr("10.20.1.2"), "", t0, raw),
		NewID(a, "", t0, append(raw, 'y')),
		NewID(netip.Addr{}, "isa3000-c1", t0, raw),
	} {
		if other == id {
			t.Fatal("different inputs share an id")
		}
	}
	if NewID(netip.Addr{}, "a", t0, raw) == NewID(netip.Addr{}, "b", t0, raw) {
		t.Fatal("device name not part of the id without an address")
	}
	back, err := ParseID(id.String())
	if err != nil || back != id || len(id.String()) != 32 {
		t.Fatalf("ParseID(%s) = %v, %v", id, back, err)
	}
}

func FuzzDecode(f *testing.F) {
	s := sample()
	f.Add(s.AppendJSON(nil))
	f.Add([]byte(`{"attrs":{"k":"v\u0000"},"function_code":-1}`))
	f.Add([]byte(`{"message":"\ud800"}`))
	f.Add([]byte(`{"message":"a\u00e9\"b\\","site":"s"}`))
	f.Add([]byte(`{"message":"a\x"}`))
	f.Add([]byte("{\"message\":\"a\xffb\",\"message_bytes\":\"YWI=\",\"time_source\":\"received\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e, lean Event
		err := Decode(b, &e)
		if errLean := DecodeNoMessage(b, &lean); (err == nil) != (errLean == nil) {
			t.Fatalf("Decode: %v, DecodeNoMessage: %v", err, errLean)
		}
		if err != nil {
			return
		}
		want := e
		want.Message = ""
		if !reflect.DeepEqual(want, lean) {
			t.Fatalf("DecodeNoMessage = %+v, want %+v", lean, want)
		}
		out := e.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid output %s", out)
		}
		var again Event
		if err := Decode(out, &again); err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		// Invalid UTF-8 becomes U+FFFD on the first encoding (the message
		// keeps its bytes in message_bytes); from then on the encoding is a
		// fixed point.
		out2 := again.AppendJSON(nil)
		var third Event
		if err := Decode(out2, &third); err != nil {
			t.Fatalf("re-decode of %s: %v", out2, err)
		}
		if out3 := third.AppendJSON(nil); !bytes.Equal(out2, out3) {
			t.Fatalf("not stable:\n%s\n%s", out2, out3)
		}
	})
}

// stdEvent is the same JSON shape for encoding/json, for the benchmarks.
type stdEvent struct {
	ID           string            `json:"id,omitempty"`
	Time         *time.Time        `json:"time,omitempty"`
	ReceivedAt   *time.Time        `json:"received_at,omitempty"`
	Site         string            `json:"site,omitempty"`
	Kind         string            `json:"kind,omitempty"`
	Vendor       string            `json:"vendor,omitempty"`
	Product      string            `json:"product,omitempty"`
	Device       string            `json:"device,omitempty"`
	DeviceIP     *netip.Addr       `json:"device_ip,omitempty"`
	MessageID    string            `json:"message_id,omitempty"`
	Severity     *uint8            `json:"severity,omitempty"`
	Action       string            `json:"action,omitempty"`
	SrcIP        *netip.Addr       `json:"src_ip,omitempty"`
	SrcPort      *uint16           `json:"src_port,omitempty"`
	DstIP        *netip.Addr       `json:"dst_ip,omitempty"`
	DstPort      *uint16           `json:"dst_port,omitempty"`
	Transport    string            `json:"transport,omitempty"`
	AppProtocol  string            `json:"app_protocol,omitempty"`
	FunctionCode *int32            `json:"function_code,omitempty"`
	Rule         string            `json:"rule,omitempty"`
	SrcInterface string            `json:"src_interface,omitempty"`
	DstInterface string            `json:"dst_interface,omitempty"`
	Message      string            `json:"message,omitempty"`
	Attrs        map[string]string `json:"attrs,omitempty"`
}

func toStd(e *Event) stdEvent {
	sev, sp, dp := e.Severity.V, e.SrcPort.V, e.DstPort.V
	return stdEvent{ID: e.ID.String(), Time: &e.Time, ReceivedAt: &e.ReceivedAt, Site: e.Site, Kind: string(e.Kind),
		Vendor: e.Vendor, Product: e.Product, Device: e.Device, DeviceIP: &e.DeviceIP, MessageID: e.MessageID,
		Severity: &sev, Action: string(e.Action), SrcIP: &e.SrcIP, SrcPort: &sp, DstIP: &e.DstIP, DstPort: &dp,
		Transport: e.Transport, AppProtocol: e.AppProtocol, Rule: e.Rule, SrcInterface: e.SrcInterface,
		DstInterface: e.DstInterface, Message: e.Message, Attrs: map[string]string{"hash1": "0x8ed66b60", "hash2": "0xf8852875"}}
}

func BenchmarkEncode(b *testing.B) {
	e := sample()
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = e.AppendJSON(buf[:0])
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding_json", func(b *testing.B) {
		s := toStd(&e)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(&s)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	e := sample()
	data := e.AppendJSON(nil)
	b.Run("scanner", func(b *testing.B) {
		var out Event
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := Decode(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no_message", func(b *testing.B) {
		var out Event
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := DecodeNoMessage(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var s stdEvent
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNewID(b *testing.B) {
	e := sample()
	raw := []byte(e.Message)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		_ = NewID(e.DeviceIP, e.Device, e.ReceivedAt, raw)
	}
}
