// Package bustest runs otsiem's bus on a real, in-process NATS server with
// JetStream for tests, and reads streams back. Nothing is mocked: the
// server is nats-server itself, embedded as `otsiem run` embeds it, with
// its store in the test's temporary directory.
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
)

// Open starts an embedded JetStream server with its store in a temporary
// directory, opens the bus (otsiem's streams declared) on it, and closes
// both when the test ends. It fails the test if the server does not start
// within 30 seconds.
func Open(tb testing.TB) *bus.Bus { return OpenConfig(tb, bus.Config{}) }

// OpenConfig is Open with cfg (stream limits, a listener, users, or the
// URL of a server the test started); with neither URL nor Embedded.Dir set
// the store goes to a temporary directory.
func OpenConfig(tb testing.TB, cfg bus.Config) *bus.Bus {
	tb.Helper()
	if cfg.URL == "" && cfg.Embedded.Dir == "" {
		cfg.Embedded.Dir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// wait bounds each read of a stored message; they are all there already.
const wait = 10 * time.Second

// Messages returns every message stored in stream when it is called,
// oldest first, read with an ordered consumer (which leaves no state on
// the server); with subjects, only the messages on those subjects
// (wildcards allowed).
func Messages(tb testing.TB, b *bus.Bus, stream string, subjects ...string) []jetstream.Msg {
	tb.Helper()
	ctx := context.Background()
	cons, err := b.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
	if err != nil {
		tb.Fatalf("%s: %v", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		tb.Fatalf("%s: %v", stream, err)
	}
	out := make([]jetstream.Msg, 0, info.NumPending)
	for range info.NumPending {
		m, err := cons.Next(jetstream.FetchMaxWait(wait))
		if err != nil {
			tb.Fatalf("%s: message %d of %d: %v", stream, len(out)+1, info.NumPending, err)
		}
		out = append(out, m)
	}
	return out
}

// Records calls fn with each record of each message stored in stream (as
// Messages reads them; batches split with bus.SplitRecords) and returns
// how many there were. fn may be nil.
func Records(tb testing.TB, b *bus.Bus, stream string, fn func(m jetstream.Msg, rec []byte), subjects ...string) int {
	tb.Helper()
	n := 0
	for _, m := range Messages(tb, b, stream, subjects...) {
		_ = bus.SplitRecords(m.Data(), func(r []byte) error {
			n++
			if fn != nil {
				fn(m, r)
			}
			return nil
		})
	}
	return n
}

// Events decodes every record stored in an event stream (OTSIEM_EVENTS or
// OTSIEM_ENRICHED), failing the test on a record that is not an event.
func Events(tb testing.TB, b *bus.Bus, stream string, subjects ...string) []event.Event {
	tb.Helper()
	var evs []event.Event
	Records(tb, b, stream, func(_ jetstream.Msg, r []byte) {
		var ev event.Event
		if err := event.Decode(r, &ev); err != nil {
			tb.Fatalf("%s: %v in %s", stream, err, r)
		}
		evs = append(evs, ev)
	}, subjects...)
	return evs
}
