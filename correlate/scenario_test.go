package correlate

import (
	"bufio"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	_ "github.com/otsiem/otsiem/ingest/decode/all"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/setting"
)

func refinery(tb testing.TB) *rules.Model {
	tb.Helper()
	m, err := rules.Load("../examples/refinery")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// scenarioLine is a raw line and the verdict its "# want:" comment expects.
type scenarioLine struct {
	raw             string
	verdict, reason string
	lineNo          int
}

func readScenario(tb testing.TB, path string) []scenarioLine {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []scenarioLine
	var want []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if w, ok := strings.CutPrefix(line, "# want:"); ok {
			want = strings.Fields(w)
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if want == nil {
			tb.Fatalf("%s:%d: line without a # want: comment", path, n)
		}
		l := scenarioLine{raw: line, lineNo: n}
		if want[0] != "-" {
			l.verdict = want[0]
		}
		if len(want) > 1 {
			l.reason = want[1]
		}
		out = append(out, l)
		want = nil
	}
	return out
}

// parseLines decodes raw lines as the collectors would.
func parseLines(tb testing.TB, lines []scenarioLine) []event.Event {
	tb.Helper()
	hp := syslog.NewParser(syslog.Config{Location: time.UTC})
	p := &decode.Parser{Header: hp, Site: "refinery"}
	recv := time.Date(2026, 4, 15, 13, 40, 0, 0, time.UTC)
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		// Lines arrive as they are sent: received at their header's time.
		if h := hp.Parse(l.raw, recv); !h.Time.IsZero() {
			recv = h.Time
		}
		p.Parse([]byte(l.raw), netip.Addr{}, recv.Add(time.Duration(i)), &evs[i])
		if evs[i].Kind == event.KindRaw {
			tb.Fatalf("line %d not decoded: %s", l.lineNo, evs[i].ParseError)
		}
	}
	return evs
}

// sensorEvents is the scenario of testdata/sensors.log: pa-c3 in monitor
// mode and the passive sensors ids-z2 (Suricata) and ids-z3 (Zeek).
func sensorEvents(tb testing.TB) []struct {
	ev              event.Event
	verdict, reason string
} {
	tb.Helper()
	lines := readScenario(tb, "testdata/sensors.log")
	evs := parseLines(tb, lines)
	out := make([]struct {
		ev              event.Event
		verdict, reason string
	}, len(lines))
	for i := range lines {
		out[i].ev, out[i].verdict, out[i].reason = evs[i], lines[i].verdict, lines[i].reason
	}
	return out
}

func TestScenarioVerdicts(t *testing.T) {
	m := refinery(t)
	lines := readScenario(t, "testdata/refinery.log")
	evs := parseLines(t, lines)
	seen := map[string]bool{}
	for i := range evs {
		j := Enrich(m, &evs[i])
		if string(j.Verdict) != lines[i].verdict || string(j.Reason) != lines[i].reason {
			t.Errorf("line %d: got %q %q, want %q %q\n%s", lines[i].lineNo, j.Verdict, j.Reason, lines[i].verdict, lines[i].reason, lines[i].raw)
		}
		if evs[i].Verdict != string(j.Verdict) || evs[i].Reason != string(j.Reason) {
			t.Errorf("line %d: event not enriched: %q %q", lines[i].lineNo, evs[i].Verdict, evs[i].Reason)
		}
		seen[string(j.Verdict)], seen["reason:"+string(j.Reason)] = true, true
	}
	for _, c := range sensorEvents(t) {
		ev := c.ev
		j := Enrich(m, &ev)
		if string(j.Verdict) != c.verdict || string(j.Reason) != c.reason {
			t.Errorf("%s %s %s→%s:%d: got %q %q, want %q %q", ev.Device, ev.Action, ev.SrcIP, ev.DstIP, ev.DstPort.V, j.Verdict, j.Reason, c.verdict, c.reason)
		}
		seen[string(j.Verdict)], seen["reason:"+string(j.Reason)] = true, true
	}
	for _, v := range Verdicts {
		if !seen[string(v)] {
			t.Errorf("no scenario yields verdict %s", v)
		}
	}
	for _, r := range []rules.Reason{rules.NoConduit, rules.NotPermitted, rules.WrongDirection, rules.FunctionNotPermitted, rules.AirGap, rules.DiodeReverse} {
		if !seen["reason:"+string(r)] {
			t.Errorf("no scenario yields reason %s", r)
		}
	}
}

// replay runs the scenario through an engine and returns the findings in
// their final state.
func replay(t *testing.T, cfg Config) []event.Finding {
	t.Helper()
	m := refinery(t)
	lines := readScenario(t, "testdata/refinery.log")
	evs := parseLines(t, lines)
	var col Collector
	e := NewEngine(m, cfg, col.Emit)
	for i := range evs {
		e.Process(&evs[i])
	}
	for _, c := range sensorEvents(t) {
		ev := c.ev
		e.Process(&ev)
	}
	e.Drain()
	return col.Items
}

func TestScenarioFindings(t *testing.T) {
	fs := replay(t, Config{Learn: time.Minute})
	type want struct {
		typ, reason, severity, status string
		count                         uint64
		src                           string
		port                          int
	}
	wants := []want{
		{"false_block", "", "high", "closed", 3, "10.30.1.50", 502}, // folded: ephemeral source ports do not split
		{"blocked", "not_permitted", "low", "closed", 1, "10.30.1.52", 102},
		{"policy_drift", "not_permitted", "high", "closed", 1, "10.30.1.52", 102},
		{"policy_drift", "wrong_direction", "high", "closed", 1, "10.20.1.13", 502},
		{"blocked", "air_gap", "critical", "closed", 1, "10.30.1.77", 502},
		{"unknown_zone", "unknown_zone", "low", "closed", 1, "192.168.7.7", 502},
		{"blocked", "diode_reverse", "critical", "closed", 1, "172.16.1.100", 5450},
		{"policy_drift", "no_conduit", "high", "closed", 1, "10.30.1.52", 443},
		{"violation", "function_not_permitted", "high", "closed", 1, "10.30.1.50", 502},
		{"blocked", "function_not_permitted", "medium", "closed", 1, "10.30.1.50", 502},
		{"violation", "not_permitted", "medium", "closed", 1, "10.30.1.77", 445},
		{"alert", "detected", "high", "closed", 1, "10.30.1.77", 445}, // the IPS signature's severity="high"
		{"diode_degraded", "status_degraded", "high", "closed", 1, "10.30.1.100", -1},
		{"diode_down", "missed_heartbeats", "critical", "closed", 1, "10.30.1.100", -1},
		{"diode_down", "missed_heartbeats", "critical", "closed", 1, "10.30.1.100", -1},
		{"new_pair", "", "info", "closed", 1, "10.30.1.51", 502},
	}
	for p := 1001; p <= 1019; p++ { // the scan's first 19 probes, absorbed into it once it is one
		wants = append(wants, want{"blocked", "not_permitted", "low", "closed", 1, "10.30.1.77", p})
	}
	wants = append(wants,
		want{"scan", "ports", "high", "closed", 21, "10.30.1.77", -1},
		// Going to October closes April's folds (their window passed). Six
		// months without a single event is a gap in otsiem's observation,
		// not the diode's silence: no diode_down.
		want{"would_block", "not_permitted", "medium", "open", 1, "10.100.10.20", 22},
		want{"new_pair", "", "info", "open", 1, "10.100.10.20", 22},
		want{"would_block", "not_permitted", "medium", "open", 1, "10.100.10.21", 22},
		want{"new_pair", "", "info", "open", 1, "10.100.10.21", 22},
		want{"would_false_block", "", "medium", "open", 1, "10.100.10.20", 3389},
		want{"new_pair", "", "info", "open", 1, "10.100.10.20", 3389},
		want{"new_pair", "", "info", "open", 1, "10.100.10.20", 443},
		want{"violation", "not_permitted", "medium", "open", 1, "10.100.10.20", 22},
		want{"violation", "function_not_permitted", "high", "open", 1, "10.30.1.50", 502},
		want{"new_pair", "", "info", "open", 1, "10.20.1.12", 4840},
		want{"violation", "no_conduit", "high", "open", 1, "10.30.1.52", 443}, // no conduit: not a new pair
	)
	if len(fs) != len(wants) {
		for _, f := range fs {
			t.Logf("%s %s %d %s:%d", f.Type, f.Reason, f.Count, f.SrcIP, f.DstPort.V)
		}
		t.Fatalf("%d findings, want %d", len(fs), len(wants))
	}
	for i, w := range wants {
		f := fs[i]
		port := -1
		if f.DstPort.OK {
			port = int(f.DstPort.V)
		}
		got := want{f.Type, f.Reason, string(f.Severity), f.Status, f.Count, f.SrcIP.String(), port}
		if got != w {
			t.Errorf("finding %d: got %+v, want %+v", i, got, w)
		}
		if f.Summary == "" || f.FindingID == "" || f.Site == "" {
			t.Errorf("finding %d incomplete: %+v", i, f)
		}
	}
	down := fs[14]
	if v, _ := down.Attr("side"); v != "rx" || !down.FirstSeen.Equal(time.Date(2026, 4, 15, 9, 37, 10, 0, time.UTC)) {
		t.Errorf("rx diode_down: %+v", down)
	}
	if v, _ := down.Attr("seq_gaps"); v != "22" {
		t.Errorf("seq gaps %s, want 22 (tx 100→118: 17, rx 100→102: 1, 103→108: 4)", v)
	}
	var scan event.Finding
	for _, f := range fs {
		if f.Type == TypeScan {
			scan = f
		}
	}
	if v, _ := scan.Attr("distinct_ports"); v != "21" {
		t.Errorf("scan distinct_ports %s", v)
	}
	if v, _ := scan.Attr("probes_blocked_not_permitted"); v != "21" || !scan.FirstSeen.Equal(time.Date(2026, 4, 15, 9, 38, 1, 0, time.UTC)) {
		t.Errorf("scan did not absorb its first probes: %+v", scan)
	}
	absorbed := 0
	for _, f := range fs {
		if v, _ := f.Attr("absorbed_by"); v == scan.FindingID && f.Type == "blocked" && f.SrcIP == scan.SrcIP {
			absorbed++
		}
	}
	if absorbed != 19 {
		t.Errorf("%d probe findings absorbed into the scan, want its first 19", absorbed)
	}
	if fs[0].FirstSeen.Equal(fs[0].LastSeen) || len(fs[0].EventIDs) != 3 {
		t.Errorf("folded finding: %+v", fs[0])
	}
}

func TestReplayIsDeterministic(t *testing.T) {
	a, b := replay(t, Config{Learn: time.Minute}), replay(t, Config{Learn: time.Minute})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two replays differ")
	}
}

func TestSuppressionAndSeverityOverride(t *testing.T) {
	fs := replay(t, Config{Learn: -1,
		Suppress:   []Suppression{{Type: "blocked", Src: setting.Prefix{Prefix: netip.MustParsePrefix("10.30.1.77/32")}}},
		Severities: map[string]event.Severity{"blocked/diode_reverse": event.SeverityHigh, "scan": event.SeverityCritical}})
	for _, f := range fs {
		switch {
		case f.Type == "blocked" && f.SrcIP == netip.MustParseAddr("10.30.1.77"):
			t.Errorf("suppressed finding published: %+v", f)
		case f.Type == "new_pair":
			t.Errorf("new_pair with learning disabled")
		case f.Type == "blocked" && f.Reason == "diode_reverse" && f.Severity != event.SeverityHigh,
			f.Type == "scan" && f.Severity != event.SeverityCritical:
			t.Errorf("override not applied: %s/%s %s", f.Type, f.Reason, f.Severity)
		}
	}
}

// TestSnapshotRestoreContinues stops an engine halfway through the
// scenario, restores its snapshot into a new engine, and checks that the
// findings equal those of an uninterrupted replay.
func TestSnapshotRestoreContinues(t *testing.T) {
	want := replay(t, Config{Learn: time.Minute})
	m := refinery(t)
	lines := readScenario(t, "testdata/refinery.log")
	evs := parseLines(t, lines)
	for _, c := range sensorEvents(t) {
		evs = append(evs, c.ev)
	}
	for _, cut := range []int{1, 5, 20, 30, len(evs) - 3} {
		var col Collector
		e := NewEngine(m, Config{Learn: time.Minute}, col.Emit)
		for i := range evs[:cut] {
			ev := evs[i]
			e.Process(&ev)
		}
		snap, err := e.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		e2 := NewEngine(m, Config{Learn: time.Minute}, col.Emit)
		if err := e2.Restore(snap); err != nil {
			t.Fatal(err)
		}
		for i := range evs[cut:] {
			ev := evs[cut+i]
			e2.Process(&ev)
		}
		e2.Drain()
		if !reflect.DeepEqual(col.Items, want) {
			t.Fatalf("cut at %d: findings differ after restore", cut)
		}
	}
}

// TestStateIsBounded feeds 100,000 distinct violations and scan sources
// and checks that the state stays within its bounds.
func TestStateIsBounded(t *testing.T) {
	m := refinery(t)
	e := NewEngine(m, Config{MaxFolds: 1000, MaxScanSources: 500, MaxPairs: 2000, Learn: -1}, func(*event.Finding) {})
	t0 := time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100_000; i++ {
		ev := event.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Device: "ids-z2", Action: event.ActionAlert,
			SrcIP: netip.AddrFrom4([4]byte{10, 30, byte(i >> 8), byte(i)}), DstIP: netip.AddrFrom4([4]byte{10, 20, 1, byte(i)}),
			Transport: "tcp", DstPort: event.Some(uint16(i % 60000))}
		e.Process(&ev)
	}
	st := e.Stats()
	if st.Folds > 1000 || st.ScanSources > 500 || st.Evicted == 0 {
		t.Fatalf("state not bounded: %+v", st)
	}
}

// A relay's "message repeated N times" counts N times in the folded finding.
func TestRepeatedMessagesCount(t *testing.T) {
	lines := []scenarioLine{
		{raw: `<164>Nov 23 2026 10:00:00 isa3000-c1 : message repeated 5 times: [ %ASA-4-106023: Deny tcp src zone-ops:10.30.1.77/40001 dst zone-bpcs:10.20.1.10/102 by access-group "OPS-to-BPCS" [0x0, 0x0]]`},
		{raw: `<164>Nov 23 2026 10:00:01 isa3000-c1 : %ASA-4-106023: Deny tcp src zone-ops:10.30.1.77/40002 dst zone-bpcs:10.20.1.10/102 by access-group "OPS-to-BPCS" [0x0, 0x0]`},
	}
	var col Collector
	eng := NewEngine(refinery(t), Config{Learn: -1}, col.Emit)
	for _, ev := range parseLines(t, lines) {
		eng.Process(&ev)
	}
	eng.Drain()
	if len(col.Items) != 1 || col.Items[0].Type != "blocked" || col.Items[0].Count != 6 {
		t.Errorf("findings %+v", col.Items)
	}
}
