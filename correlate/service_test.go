package correlate

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/internal/poll"
	"github.com/otsiem/otsiem/rules"
)

// testBus opens an embedded JetStream server for a test, with a publisher
// on it as ingest has.
func testBus(t *testing.T) (*bus.Bus, *bus.Publisher) {
	t.Helper()
	b := bustest.Open(t)
	pub, err := b.NewPublisher(bus.PublisherConfig{Stage: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	return b, pub
}

// startService runs a correlator until stop is called.
func startService(t *testing.T, cfg ServiceConfig) (stop func()) {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", cfg.Instance, err)
		}
	}
}

// TestServiceTwoInstancesWithRestart: two correlators share the stream;
// one is stopped mid-stream and started again. Every event is judged
// exactly once on the enriched stream, and the findings (latest revision of
// each id) equal an offline replay of the same events: none lost or doubled.
func TestServiceTwoInstancesWithRestart(t *testing.T) {
	ctx := context.Background()
	b, pub := testBus(t)
	m := refinery(t)
	lines := readScenario(t, "testdata/refinery.log")
	evs := parseLines(t, lines)
	for _, c := range sensorEvents(t) {
		evs = append(evs, c.ev)
	}
	// Publish as ingest does, a few events per batch message, in several rounds.
	publish := func(from, to int) {
		for i := from; i < to; i += 3 {
			var data []byte
			n := 0
			for k := i; k < min(i+3, to); k++ {
				data = append(evs[k].AppendJSON(data), '\n')
				n++
			}
			if err := pub.Publish(ctx, "otsiem.events.refinery.flow", fmt.Sprintf("%s+%d", evs[i].ID, n), data); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := func(name string) (stop func()) {
		// No ticks: the events are from 2026's spring and autumn, and the
		// findings must equal an offline replay's.
		return startService(t, ServiceConfig{Bus: b, Model: m, Engine: Config{Learn: time.Minute}, Instance: name,
			LeaseTTL: 900 * time.Millisecond, Tick: -1, Registerer: prometheus.NewRegistry()})
	}
	stopA := start("a")
	stopB := start("b")
	half := len(evs) / 2
	publish(0, half)
	waitEnriched := func(n int) {
		poll.Until(t, 30*time.Second, fmt.Sprintf("%d events enriched", n), func() (int, error) {
			return bustest.Records(t, b, bus.StreamEnriched, nil), nil
		}, func(got int) bool { return got >= n })
	}
	waitEnriched(half)
	stopA() // mid-stream
	publish(half, len(evs))
	stopA = start("a")
	waitEnriched(len(evs))

	// Offline replay of the same events in stream order.
	var want Collector
	e := NewEngine(m, Config{Learn: time.Minute}, want.Emit)
	for i := range evs {
		ev := evs[i]
		e.Process(&ev)
	}
	final := map[string]event.Finding{}
	for _, f := range want.Items {
		final[f.FindingID] = f
	}
	latest := func() (map[string]event.Finding, error) {
		got := map[string]event.Finding{}
		seen := map[string]bool{}
		dup := ""
		for _, msg := range bustest.Messages(t, b, bus.StreamFindings) {
			var f event.Finding
			if err := event.DecodeFinding(msg.Data(), &f); err != nil {
				t.Fatal(err)
			}
			k := fmt.Sprintf("%s/%d", f.FindingID, f.Revision)
			if seen[k] {
				dup = k
			}
			seen[k] = true
			if f.Revision >= got[f.FindingID].Revision {
				got[f.FindingID] = f
			}
		}
		if dup != "" {
			t.Fatalf("finding revision %s published twice", dup)
		}
		return got, nil
	}
	poll.Until(t, 30*time.Second, fmt.Sprintf("the latest revisions of the replay's %d findings", len(final)), latest,
		func(got map[string]event.Finding) bool {
			ok := len(got) == len(final)
			for id, f := range final {
				g, found := got[id]
				ok = ok && found && g.Count == f.Count && g.Status == f.Status
			}
			return ok
		})
	// Every event judged exactly once.
	ids := map[event.ID]int{}
	for _, msg := range bustest.Messages(t, b, bus.StreamEnriched) {
		_ = bus.SplitRecords(msg.Data(), func(rec []byte) error {
			var ev event.Event
			if err := event.Decode(rec, &ev); err != nil {
				t.Fatal(err)
			}
			ids[ev.ID]++
			return nil
		})
	}
	for i := range evs {
		if ids[evs[i].ID] != 1 {
			t.Fatalf("event %d enriched %d times", i, ids[evs[i].ID])
		}
	}
	stopA()
	stopB()
}

// fastDiodeModel is the refinery with DMZ-DD-01 heartbeating every second
// (timeout 3 s).
func fastDiodeModel(t *testing.T) *rules.Model {
	t.Helper()
	var srcs []rules.Source
	files, _ := filepath.Glob("../examples/refinery/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "diodes.yaml" {
			b = bytes.Replace(b, []byte("heartbeat: 10s"), []byte("heartbeat: 1s"), 1)
		}
		srcs = append(srcs, rules.Source{Name: f, Data: b})
	}
	m, err := rules.Compile(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	if m.Diode("DMZ-DD-01").Heartbeat != time.Second {
		t.Fatal("heartbeat not 1s")
	}
	return m
}

// TestServiceRestartAndSilentDiode: otsiem stopped for longer than the
// diode's timeout raises no diode_down when it starts again; a diode that
// really stops while otsiem runs and nothing else is logged is down within
// its timeout plus one tick (and the tick's slack).
func TestServiceRestartAndSilentDiode(t *testing.T) {
	ctx := context.Background()
	b, pub := testBus(t)
	m := fastDiodeModel(t)
	const tick, slack, timeout = 100 * time.Millisecond, 100 * time.Millisecond, 3 * time.Second
	start := func() (stop func()) {
		return startService(t, ServiceConfig{Bus: b, Model: m, Engine: Config{Learn: -1, ReceiveClock: true},
			LeaseTTL: 900 * time.Millisecond, Tick: tick, TickSlack: slack, Registerer: prometheus.NewRegistry()})
	}
	seq := uint64(0)
	beat := func(d time.Duration) (last time.Time) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			seq++
			now := time.Now().UTC()
			var data []byte
			for _, side := range []string{"tx", "rx"} {
				ev := event.Event{Time: now, ReceivedAt: now, Site: "refinery", Kind: event.KindDiode, Device: "dmz-dd-01",
					DiodeID: "DMZ-DD-01", DiodeSide: side, DiodeStatus: "ok", DiodeSeq: event.Some(seq)}
				ev.ID = event.NewID(netip.Addr{}, side, now, []byte(fmt.Sprint(seq)))
				data = append(ev.AppendJSON(data), '\n')
			}
			if err := pub.Publish(ctx, "otsiem.events.refinery.diode", fmt.Sprint("hb", seq), data); err != nil {
				t.Fatal(err)
			}
			last = now
		}
		if err := pub.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		return last
	}
	downs := func() []event.Finding {
		var out []event.Finding
		for _, msg := range bustest.Messages(t, b, bus.StreamFindings) {
			var f event.Finding
			if err := event.DecodeFinding(msg.Data(), &f); err != nil {
				t.Fatal(err)
			}
			if f.Type == TypeDiodeDown {
				out = append(out, f)
			}
		}
		return out
	}

	stop := start()
	beat(2 * time.Second)
	time.Sleep(500 * time.Millisecond) // a snapshot is saved every 300 ms
	stop()
	time.Sleep(timeout + 2*time.Second) // otsiem (and its collector) down: heartbeats lost
	stop = start()
	defer func() { stop() }()
	last := beat(2 * time.Second)
	time.Sleep(timeout / 2)
	if d := downs(); len(d) != 0 {
		t.Fatalf("diode_down for otsiem's own downtime: %+v", d)
	}

	// Now the diode stops for real, and nothing else is logged.
	poll.True(t, timeout+10*time.Second, "diode_down for both sides after the last heartbeat", func() bool { return len(downs()) >= 2 })
	took := time.Since(last)
	for _, f := range downs() {
		if want := last.Add(timeout); f.Reason != "missed_heartbeats" || f.FirstSeen.Sub(want).Abs() > time.Millisecond {
			t.Errorf("diode_down %s at %s, want missed_heartbeats at %s", f.Reason, f.FirstSeen, want)
		}
	}
	// Timeout, one tick and its slack, and the time to publish and read
	// the finding on a busy machine.
	if limit := timeout + tick + slack + 2*time.Second; took > limit {
		t.Errorf("diode_down found %s after the last heartbeat, want within %s", took, limit)
	}
	t.Logf("diode_down published %s after the last heartbeat (timeout %s, tick %s, slack %s)", took, timeout, tick, slack)
}

// A stage that fails is started again, not lost: with the findings state
// bucket gone (as when JetStream refuses the save), the findings stage
// fails, is counted and reported by Err, and once the bucket is back it
// resumes from its saved state and findings flow again; the verdict stage
// judges throughout.
func TestServiceRestartsAFailedStage(t *testing.T) {
	saved := restartMax
	restartMax = 200 * time.Millisecond
	t.Cleanup(func() { restartMax = saved })
	ctx := context.Background()
	b, pub := testBus(t)
	reg := prometheus.NewRegistry()
	s, err := New(ctx, ServiceConfig{Bus: b, Model: refinery(t), Engine: Config{Learn: -1}, Instance: "a",
		LeaseTTL: 300 * time.Millisecond, Tick: -1, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	evs := parseLines(t, readScenario(t, "testdata/refinery.log"))
	publish := func(evs []event.Event) {
		for _, ev := range evs {
			if err := pub.Publish(ctx, "otsiem.events.refinery.flow", ev.ID.String(), append(ev.AppendJSON(nil), '\n')); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func(stream string) uint64 {
		st, err := b.JS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		poll.True(t, 30*time.Second, what, ok)
	}
	half := len(evs) / 2
	publish(evs[:half])
	until("findings", func() bool { return count(bus.StreamFindings) > 0 })

	if err := b.JS.DeleteObjectStore(ctx, StateBucket); err != nil {
		t.Fatal(err)
	}
	restarts := func() float64 {
		fams, _ := reg.Gather()
		for _, f := range fams {
			if f.GetName() == "otsiem_correlate_stage_restarts_total" {
				for _, m := range f.GetMetric() {
					if m.GetLabel()[0].GetValue() == "findings" {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	until("restart of the failed findings stage", func() bool { return restarts() >= 1 })
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "findings stage failed") {
		t.Errorf("Err while the findings stage fails: %v", err)
	}
	before := count(bus.StreamFindings)
	publish(evs[half:])
	until("verdicts for every event", func() bool { return count(bus.StreamEnriched) >= uint64(len(evs)) })

	if _, err := b.JS.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: StateBucket}); err != nil {
		t.Fatal(err)
	}
	until("recovery", func() bool { return s.Err() == nil })
	until("findings from the second half", func() bool { return count(bus.StreamFindings) > before })
}
