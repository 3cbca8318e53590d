package event

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleFinding() Finding {
	t0 := time.Date(2026, 4, 15, 13, 36, 50, 0, time.UTC)
	return Finding{
		FindingID: "0123456789abcdef0123456789abcdef", Revision: 3, Time: t0.Add(time.Minute),
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 12, Type: "violation", Reason: "function_not_permitted",
		Severity: SeverityHigh, Status: StatusOpen, Site: "refinery",
		SrcIP: netip.MustParseAddr("10.30.1.50"), SrcZone: "Z3-OPS", SrcAsset: "HIST-01",
		DstIP: netip.MustParseAddr("10.20.1.10"), DstZone: "Z2-BPCS", DstAsset: "PLC-01",
		DstPort: Some[uint16](502), Transport: "tcp", AppProtocol: "modbus", FunctionCode: Some[int32](0),
		Conduit: "C1-BPCS-OPS", Device: "ids-z2", Rule: "C1-BPCS-OPS#2",
		Summary: "HIST-01 wrote to PLC-01 \"quoted\"", EventIDs: []ID{{1}, {2}},
		Attrs: []Attr{{"z", "1"}, {"a", "2"}},
	}
}

func TestFindingRoundTrip(t *testing.T) {
	f := sampleFinding()
	b := f.AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, f)
	}
	// The keys the issue fixes, in order.
	keys := []string{"finding_id", "time", "first_seen", "last_seen", "count", "type", "reason", "severity", "site",
		"src_ip", "src_zone", "dst_ip", "dst_zone", "dst_port", "transport", "app_protocol", "function_code",
		"conduit", "device", "rule", "summary", "event_ids"}
	s, last := string(b), -1
	for _, k := range keys {
		i := strings.Index(s, `"`+k+`":`)
		if i <= last {
			t.Fatalf("key %s missing or out of order in %s", k, s)
		}
		last = i
	}
}

func TestFindingMinimal(t *testing.T) {
	var f Finding
	if got := string(f.AppendJSON(nil)); got != `{"count":0,"event_ids":[]}` {
		t.Fatalf("got %s", got)
	}
	for _, bad := range []string{`{`, `{"event_ids":["x"]}`, `{"src_ip":"nope"}`, `{"attrs":{"a":1}}`} {
		if err := DecodeFinding([]byte(bad), &f); err == nil {
			t.Errorf("DecodeFinding(%s) succeeded", bad)
		}
	}
}

func TestSeverityRank(t *testing.T) {
	order := []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
	for i, s := range order {
		if s.Rank() != i {
			t.Fatalf("%s rank %d", s, s.Rank())
		}
	}
	if Severity("x").Rank() != -1 {
		t.Fatal("unknown severity ranked")
	}
}

func TestEnrichedFieldsRoundTrip(t *testing.T) {
	e := sample()
	e.SrcZone, e.DstZone, e.Conduit, e.Verdict, e.Reason = "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "blocked", "not_permitted"
	b := e.AppendJSON(nil)
	if !strings.Contains(string(b), `"rule":"OPS-to-BPCS","src_zone":"Z3-OPS","dst_zone":"Z2-BPCS","conduit":"C1-BPCS-OPS","verdict":"blocked","reason":"not_permitted"`) {
		t.Fatalf("enriched keys: %s", b)
	}
	var back Event
	if err := Decode(b, &back); err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip: %v\n%+v", err, back)
	}
}

func BenchmarkDecodeFinding(b *testing.B) {
	f := sampleFinding()
	data := f.AppendJSON(nil)
	var out Finding
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := DecodeFinding(data, &out); err != nil {
			b.Fatal(err)
		}
	}
}
