package correlate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/prometheus/client_golang/prometheus"
)

// readAll reads every message of a stream.
func readAll(t *testing.T, b *bus.Bus, stream string) []jetstream.Msg {
	t.Helper()
	ctx := context.Background()
	st, err := b.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	cons, err := b.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for i := uint64(0); i < info.State.Msgs; i++ {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestServiceTwoInstancesWithRestart: two correlators share the stream;
// one is stopped mid-stream and started again. Every event is judged
// exactly once on the enriched stream, and the findings (latest revision of
// each id) equal an offline replay of the same events: none lost or doubled.
func TestServiceTwoInstancesWithRestart(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Config{Embedded: bus.EmbeddedConfig{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	m := refinery(t)
	lines := readScenario(t, "testdata/refinery.log")
	evs := parseLines(t, lines)
	for _, c := range sensorEvents(t) {
		evs = append(evs, c.ev)
	}
	// Publish as ingest does, a few events per batch message, in several rounds.
	pub, err := b.NewPublisher(bus.PublisherConfig{Stage: "test"})
	if err != nil {
		t.Fatal(err)
	}
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
	cfg := func(name string) ServiceConfig {
		return ServiceConfig{Bus: b, Model: m, Engine: Config{Learn: time.Minute}, Instance: name,
			LeaseTTL: 900 * time.Millisecond, Registerer: prometheus.NewRegistry()}
	}
	start := func(name string) (stop func()) {
		s, err := New(ctx, cfg(name))
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(rctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	stopA := start("a")
	stopB := start("b")
	half := len(evs) / 2
	publish(0, half)
	waitEnriched := func(n int) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, _ := b.JS.Stream(ctx, bus.StreamEnriched)
			info, _ := st.Info(ctx)
			var got int
			if info != nil {
				for _, msg := range readAll(t, b, bus.StreamEnriched) {
					_ = bus.SplitRecords(msg.Data(), func([]byte) error { got++; return nil })
				}
			}
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events enriched", got, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[string]event.Finding{}
		seen := map[string]bool{}
		dup := ""
		for _, msg := range readAll(t, b, bus.StreamFindings) {
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
		ok := len(got) == len(final)
		for id, f := range final {
			g, found := got[id]
			ok = ok && found && g.Count == f.Count && g.Status == f.Status
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("findings: got %d, want %d", len(got), len(final))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every event judged exactly once.
	ids := map[event.ID]int{}
	for _, msg := range readAll(t, b, bus.StreamEnriched) {
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
	_ = pub.Close(ctx)
}
