package simulate

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/decode"
	_ "github.com/otsiem/otsiem/ingest/decode/all"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func lines(t testing.TB, cfg Config, n int) []Line {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Line, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func TestReproducible(t *testing.T) {
	cfg := Config{Start: start, Rate: 50, Seed: 7, Scenarios: []string{"all"}, ScenarioEvery: 2 * time.Second}
	a, b := lines(t, cfg, 3000), lines(t, cfg, 3000)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("line %d differs between two runs with one seed:\n%s\n%s", i, a[i].Text, b[i].Text)
		}
	}
	cfg.Seed = 8
	if c := lines(t, cfg, 3000); c[100].Text == a[100].Text && c[200].Text == a[200].Text {
		t.Error("another seed gives the same lines")
	}
	for i := 1; i < len(a); i++ {
		if a[i].Time.Before(a[i-1].Time) {
			t.Fatalf("line %d goes back in time: %v after %v", i, a[i].Time, a[i-1].Time)
		}
	}
	if last := a[len(a)-1].Time; last.Before(start.Add(50*time.Second)) || last.After(start.Add(60*time.Second)) {
		t.Errorf("event clock: 3000 lines at 50/s end at %v", last)
	}
}

// Every line comes from a device of the refinery model and decodes with the
// decoder the model names for it (where that decoder exists), so nothing the
// simulator sends ends up raw.
func TestLinesDecode(t *testing.T) {
	m, err := rules.Load("../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	all := lines(t, Config{Start: start, Rate: 100, Seed: 1, Scenarios: []string{"all"}, ScenarioEvery: time.Second}, 6000)
	seen := map[string]bool{}
	for _, l := range all {
		seen[l.Scenario] = true
		dev := m.Device(l.Device)
		if dev == nil {
			t.Fatalf("device %q is not in the model", l.Device)
		}
		d, ok := decode.Default.Lookup(dev.Decoder)
		if !ok {
			continue // that vendor's decoder is not built yet
		}
		var ev event.Event
		(&decode.Parser{Decoder: d}).Parse([]byte(l.Text), netip.MustParseAddr("127.0.0.1"), l.Time, &ev)
		if ev.Kind == event.KindRaw {
			t.Fatalf("%s line did not decode (%s):\n%s", dev.Decoder, ev.ParseError, l.Text)
		}
		if ev.Device != l.Device {
			t.Fatalf("device %q decoded as %q:\n%s", l.Device, ev.Device, l.Text)
		}
		if !ev.Time.IsZero() && ev.Time.Sub(l.Time).Abs() > time.Second {
			t.Fatalf("event time %v, line time %v:\n%s", ev.Time, l.Time, l.Text)
		}
	}
	for _, s := range ScenarioNames() {
		if !seen[s] {
			t.Errorf("scenario %s never injected", s)
		}
	}
}

func TestDiodeOutage(t *testing.T) {
	all := lines(t, Config{Start: start, Rate: 20, Seed: 1, Scenarios: []string{"diode-outage"}, ScenarioEvery: 100 * time.Second}, 20*150)
	var beats []time.Time
	for _, l := range all {
		if l.Device == "dmz-dd-01" && strings.Contains(l.Text, "side=tx") {
			beats = append(beats, l.Time)
		}
	}
	gap := time.Duration(0)
	for i := 1; i < len(beats); i++ {
		gap = max(gap, beats[i].Sub(beats[i-1]))
	}
	if gap < 40*time.Second || gap > 60*time.Second {
		t.Errorf("longest heartbeat gap %v, want the 45 s outage", gap)
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := New(Config{Scenarios: []string{"meteor"}}); err == nil || !strings.Contains(err.Error(), "modbus-write") {
		t.Errorf("err %v", err)
	}
}

// Over TCP the collector reads exactly the lines sent, octet-counted.
func TestSendTCP(t *testing.T) {
	got := make(chan string, 1000)
	c, err := ingest.NewCollector([]ingest.ListenerConfig{{Name: "tcp", Protocol: "tcp", Address: "127.0.0.1:0", Framing: ingest.FramingOctetCounting}},
		ingest.HandlerFunc(func(_ context.Context, f *ingest.Frame) error { got <- string(f.Data); return nil }), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	g, _ := New(Config{Start: start, Rate: 1000, Seed: 3})
	w, err := Dial(ctx, Target{Network: "tcp", Address: c.Addrs()["tcp"].(*net.TCPAddr).String()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Run(ctx, g, w, 0, 500, false)
	if err != nil || st.Lines != 500 {
		t.Fatalf("sent %d: %v", st.Lines, err)
	}
	w.Close()
	want := lines(t, Config{Start: start, Rate: 1000, Seed: 3}, 500)
	for i := 0; i < 500; i++ {
		select {
		case s := <-got:
			if s != want[i].Text {
				t.Fatalf("line %d: got %q want %q", i, s, want[i].Text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d lines arrived", i)
		}
	}
}

func TestSendFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.log")
	w, err := Dial(context.Background(), Target{Network: "file", Address: p})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := New(Config{Start: start, Rate: 100})
	if st, err := Run(context.Background(), g, w, 10*time.Second, 0, false); err != nil || st.Lines != 1000 {
		t.Fatalf("%d lines: %v", st.Lines, err)
	}
	w.Close()
	f, _ := os.Open(p)
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
	}
	if n != 1000 {
		t.Errorf("%d lines in the file", n)
	}
}

// The monitor-mode scenarios give what `otsiem review` reads: pa-c3's SSH
// permit is would_block; its RDP deny is allowed by the model (C3 allows
// RDP from the enterprise to the DMZ), which is a would_false_block.
func TestMonitorModeScenarios(t *testing.T) {
	m, err := rules.Load("../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := decode.Default.Lookup("panos")
	for name, want := range map[string]struct {
		action  event.Action
		verdict string
	}{"would-block": {event.ActionAllow, "would_block"}, "would-false-block": {event.ActionDeny, "allowed"}} {
		all := lines(t, Config{Start: start, Rate: 100, Seed: 1, Scenarios: []string{name}, ScenarioEvery: time.Second}, 300)
		n := 0
		for _, l := range all {
			if l.Scenario != name {
				continue
			}
			n++
			var ev event.Event
			(&decode.Parser{Decoder: d}).Parse([]byte(l.Text), netip.MustParseAddr("172.16.1.2"), l.Time, &ev)
			j := correlate.Enrich(m, &ev)
			if ev.Device != "pa-c3" || ev.Action != want.action || string(j.Verdict) != want.verdict || j.Mode != rules.ModeMonitor {
				t.Errorf("%s: %s %s %s (mode %q):\n%s", name, ev.Device, ev.Action, j.Verdict, j.Mode, l.Text)
			}
			if name == "would-false-block" && !j.DeniedInMonitor {
				t.Errorf("%s: not a deny in monitor mode:\n%s", name, l.Text)
			}
		}
		if n < 2 {
			t.Errorf("%s: %d lines", name, n)
		}
	}
}

// TestNewPairTakesTheNextHMI: each new-pair scenario comes from another
// HMI, so pairs are still new after a learning period saw the first ones.
func TestNewPairTakesTheNextHMI(t *testing.T) {
	all := lines(t, Config{Start: start, Rate: 100, Seed: 1, Scenarios: []string{"new-pair"}, ScenarioEvery: time.Second}, 1000)
	var srcs []string
	for _, l := range all {
		if l.Scenario == "new-pair" {
			i := strings.Index(l.Text, "10.20.2.")
			if i < 0 {
				t.Fatalf("no HMI in %s", l.Text)
			}
			srcs = append(srcs, l.Text[i:i+10])
		}
	}
	if len(srcs) < 6 {
		t.Fatalf("%d new-pair lines", len(srcs))
	}
	seen := map[string]bool{}
	for _, s := range srcs[:6] {
		seen[s] = true
	}
	if len(seen) != 6 {
		t.Errorf("the first six new pairs come from %d HMIs: %v", len(seen), srcs[:6])
	}
}
