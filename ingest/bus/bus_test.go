package bus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/otsiem/otsiem/internal/poll"
)

func openTest(tb testing.TB) *Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{Embedded: EmbeddedConfig{Dir: tb.TempDir()}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

func streamMsgs(tb testing.TB, b *Bus, name string) uint64 {
	tb.Helper()
	s, err := b.JS.Stream(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

func TestStreamsDeclared(t *testing.T) {
	b := openTest(t)
	if !b.Embedded() || b.ClientURL() != "" {
		t.Errorf("embedded %v url %q", b.Embedded(), b.ClientURL())
	}
	for _, name := range []string{StreamEvents, StreamDeadLetter, StreamEnriched, StreamFindings} {
		s, err := b.JS.Stream(context.Background(), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c := s.CachedInfo().Config; c.Storage != jetstream.FileStorage || c.Duplicates != 2*time.Minute || c.MaxAge != 7*24*time.Hour {
			t.Errorf("%s: %+v", name, c)
		}
	}
	// Declaring again is a no-op.
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPublishDeduplicates(t *testing.T) {
	b := openTest(t)
	reg := prometheus.NewRegistry()
	p, err := b.NewPublisher(PublisherConfig{MaxPending: 64, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 2000
	for round := 0; round < 2; round++ { // the second round repeats every id
		for i := 0; i < n; i++ {
			if err := p.Publish(ctx, SubjectEvents+".site.flow", fmt.Sprintf("id-%d", i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, b, StreamEvents); got != n {
		t.Errorf("stream holds %d messages, want %d", got, n)
	}
	if err := p.Publish(ctx, SubjectEvents+".x", "late", nil); err != ErrClosed {
		t.Errorf("publish after close: %v", err)
	}
	if c := testutil.CollectAndCount(reg, "otsiem_ingest_publish_latency_seconds"); c != 1 {
		t.Errorf("latency histogram not registered: %d", c)
	}
	if v := testutil.ToFloat64(p.inflight); v != 0 {
		t.Errorf("pending gauge %v after close", v)
	}
}

func TestToken(t *testing.T) {
	if got := Token("refinery unit.3>*"); got != "refinery_unit_3__" {
		t.Errorf("Token = %q", got)
	}
	if Token("") != "_" {
		t.Error("empty token")
	}
	for in, want := range map[string]string{"plant-a": "plant-a", "Ölraffinerie.1": "Ölraffinerie_1", "a\xffb": "a\ufffdb", "a\tb": "a_b"} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := redact("nats://user:secret@nats.plant:4222"); strings.Contains(got, "secret") || got != "nats://REDACTED@nats.plant:4222" {
		t.Errorf("redact = %q", got)
	}
}

// BenchmarkPublish measures acknowledged publishes of a typical event's
// size into the embedded file store.
func BenchmarkPublish(b *testing.B) {
	for _, size := range []int{700, 16 * 700} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			bus := openTest(b)
			p, err := bus.NewPublisher(PublisherConfig{})
			if err != nil {
				b.Fatal(err)
			}
			data := []byte(strings.Repeat("x", size))
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Publish(ctx, SubjectEvents+".site.flow", fmt.Sprint(i), data); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func TestBatcher(t *testing.T) {
	b := openTest(t)
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	bt := NewBatcher(p, BatcherConfig{MaxRecords: 100, Linger: time.Hour})
	ctx := context.Background()
	const n = 1050
	for i := 0; i < n; i++ {
		subject := SubjectEvents + ".s.flow"
		if i%3 == 0 {
			subject = SubjectEvents + ".s.dpi"
		}
		if err := bt.Add(ctx, subject, fmt.Sprint("e", i), []byte(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// 350 dpi records in 4 batches, 700 flow records in 7.
	if got := streamMsgs(t, b, StreamEvents); got != 11 {
		t.Errorf("%d messages, want 11", got)
	}
	cons, err := b.JS.OrderedConsumer(ctx, StreamEvents, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for m := 0; m < 11; m++ {
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		records := 0
		_ = SplitRecords(msg.Data(), func(r []byte) error { seen[string(r)] = true; records++; return nil })
		if h := msg.Headers().Get(HeaderCount); h != fmt.Sprint(records) {
			t.Errorf("count header %s, %d records", h, records)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct records, want %d", len(seen), n)
	}
}

func TestBatcherLinger(t *testing.T) {
	b := openTest(t)
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	bt := NewBatcher(p, BatcherConfig{Linger: 10 * time.Millisecond})
	defer bt.Close(context.Background())
	if err := bt.Add(context.Background(), SubjectEvents+".s.raw", "x", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	poll.Equal(t, 10*time.Second, "messages holding a lone record", func() (uint64, error) {
		return streamMsgs(t, b, StreamEvents), nil
	}, 1)
}

func TestSplitRecords(t *testing.T) {
	var got []string
	_ = SplitRecords([]byte("a\n\nbc\nd"), func(r []byte) error { got = append(got, string(r)); return nil })
	if strings.Join(got, ",") != "a,bc,d" {
		t.Errorf("%q", got)
	}
}
