package ingest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	_ "github.com/otsiem/otsiem/ingest/decode/all"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/ingesttest"
	"github.com/otsiem/otsiem/setting"
	"github.com/prometheus/client_golang/prometheus"
)

type stack struct {
	bus      *bus.Bus
	pub      *bus.Publisher
	batcher  *bus.Batcher
	pipeline *Pipeline
	c        *Collector
	stop     func()
}

func startStack(t testing.TB, cfgs []ListenerConfig, maxPending int) *stack {
	t.Helper()
	ctx := context.Background()
	b := bustest.Open(t)
	reg := prometheus.NewRegistry()
	pub, err := b.NewPublisher(bus.PublisherConfig{MaxPending: maxPending, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{bus: b, pub: pub, batcher: bus.NewBatcher(pub, bus.BatcherConfig{Linger: 5 * time.Millisecond})}
	s.pipeline = NewPipeline(PipelineConfig{Site: "refinery", Events: s.batcher, DeadLetters: pub, Registerer: reg,
		SenderMatches: func(device string, sender netip.Addr) bool { return device != "spoofed-fw" }})
	c, stopCollector := startCollector(t, cfgs, s.pipeline, Options{Registerer: reg})
	s.c = c
	var once atomic.Bool
	s.stop = func() {
		if once.Swap(true) {
			return
		}
		stopCollector()
		if err := s.batcher.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := pub.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// readEvents reads a stream back whole: its messages, and the events
// their records hold when it is OTSIEM_EVENTS.
func readEvents(t testing.TB, b *bus.Bus, stream string) (events []event.Event, msgs []jetstream.Msg) {
	t.Helper()
	if stream == bus.StreamEvents {
		events = bustest.Events(t, b, stream)
	}
	return events, bustest.Messages(t, b, stream)
}

func asaLines(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("<164>Nov 23 2026 10:%02d:%02d isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ent:10.100.5.%d/%d dst zone-bpcs:10.20.1.10/502 by access-group \"OPS-to-BPCS\" [0x0, 0x0] %s",
			i/60%60, i%60, i%250+1, 40000+i%20000, prefix)
	}
	return out
}

func TestIngestEndToEnd(t *testing.T) {
	pki := newTestPKI(t)
	s := startStack(t, []ListenerConfig{
		{Name: "udp", Protocol: ProtoUDP, Address: "127.0.0.1:0"},
		{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0", MaxMessageSize: 4096},
		{Name: "tls", Protocol: ProtoTLS, Address: "127.0.0.1:0", TLS: setting.ServerTLS{CertFile: pki.certFile, KeyFile: pki.keyFile, ClientCAFile: pki.caFile}},
	}, 0)
	addrs := s.c.Addrs()
	lf, octet, overTLS := asaLines("lf", 1000), asaLines("octet", 1000), asaLines("tls", 1000)
	send := func(network string, lines []string, octetCounted bool) {
		var conn net.Conn
		var err error
		if network == "tls" {
			conn, err = tlsDial(addrs["tls"].String(), pki)
		} else {
			conn, err = net.Dial("tcp", addrs["tcp"].String())
		}
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var sb strings.Builder
		for _, l := range lines {
			if octetCounted {
				fmt.Fprintf(&sb, "%d %s", len(l), l)
			} else {
				sb.WriteString(l + "\n")
			}
		}
		if _, err := conn.Write([]byte(sb.String())); err != nil {
			t.Fatal(err)
		}
	}
	send("tcp", lf, false)
	send("tcp", append(octet, "<13>"+strings.Repeat("z", 5000), "<14>Nov 23 10:00:00 spoofed-fw app: not a known format"), true)
	send("tls", overTLS, true)
	uc, _ := net.Dial("udp", addrs["udp"].String())
	_, _ = uc.Write([]byte(asaLines("udp", 1)[0]))
	uc.Close()

	waitFor(t, "3002 tcp/tls events", func() bool {
		return testutilValue(s.pipeline.events.WithLabelValues("cisco", "flow"))+testutilValue(s.pipeline.events.WithLabelValues("", "raw")) >= 3002
	})
	waitFor(t, "oversize dead letter", func() bool { return testutilValue(s.pipeline.deadLetters.WithLabelValues(ReasonOversize)) == 1 })
	s.stop()

	events := bustest.Events(t, s.bus, bus.StreamEvents)
	seen := map[string]int{}
	for _, ev := range events {
		seen[ev.Message]++
		if ev.Site != "refinery" || ev.ID.IsZero() || !ev.DeviceIP.IsLoopback() {
			t.Fatalf("event lacks site, id or sender: %+v", ev)
		}
	}
	for _, l := range append(append(lf, octet...), overTLS...) {
		if seen[l] != 1 {
			t.Fatalf("line seen %d times, want exactly once: %s", seen[l], l)
		}
	}
	if n := len(events); n < 3002 || n > 3003 { // UDP may lose its one datagram
		t.Errorf("%d events", n)
	}
	var mismatch *event.Event
	for i := range events {
		if events[i].Device == "spoofed-fw" {
			mismatch = &events[i]
		}
	}
	if mismatch == nil || mismatch.Kind != event.KindRaw {
		t.Fatalf("unknown line not kept as raw: %+v", mismatch)
	}
	if v, _ := mismatch.Attr(AttrSenderMismatch); v != "true" {
		t.Errorf("sender mismatch not marked: %+v", mismatch.Attrs)
	}
	_, dead := readEvents(t, s.bus, bus.StreamDeadLetter)
	if len(dead) != 1 || dead[0].Headers().Get(bus.HeaderReason) != ReasonOversize || len(dead[0].Data()) != 4096 ||
		!strings.HasPrefix(dead[0].Subject(), "otsiem.deadletter.refinery.oversize") {
		t.Errorf("dead letters: %d", len(dead))
	}
}

// While JetStream cannot store events (the stream is gone), publishes are
// retried, the pending window fills, and the TCP sender is slowed down;
// once the stream is back every message arrives exactly once.
func TestIngestBackpressureAndRecovery(t *testing.T) {
	s := startStack(t, []ListenerConfig{{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"}}, 16)
	ctx := context.Background()
	if err := s.bus.JS.DeleteStream(ctx, bus.StreamEvents); err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	lines := asaLines("bp", n)
	conn, err := net.Dial("tcp", s.c.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	last, sent := ingesttest.SendUntilStalled(t, conn, lines, 100*time.Millisecond)
	if last >= n {
		t.Fatalf("all %d lines written while JetStream was down", n)
	}
	if err := s.bus.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event published", func() bool {
		return testutilValue(s.pipeline.events.WithLabelValues("cisco", "flow")) == n
	})
	s.stop()
	events := bustest.Events(t, s.bus, bus.StreamEvents)
	seen := make(map[string]bool, n)
	for _, ev := range events {
		if seen[ev.Message] {
			t.Fatalf("duplicate: %s", ev.Message)
		}
		seen[ev.Message] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct events stored, want %d", len(seen), n)
	}
}

// BenchmarkTCPToJetStream sends ASA deny lines over one TCP connection
// into the collector, pipeline and embedded JetStream, and reports
// events/s once all are acknowledged.
func BenchmarkTCPToJetStream(b *testing.B) {
	s := startStack(b, []ListenerConfig{{Name: "tcp", Protocol: ProtoTCP, Address: "127.0.0.1:0"}}, 0)
	lines := asaLines("bench", 10_000)
	var payload []byte
	for _, l := range lines {
		payload = append(payload, l+"\n"...)
	}
	conn, err := net.Dial("tcp", s.c.Addrs()["tcp"].String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	flows := s.pipeline.events.WithLabelValues("cisco", "flow")
	b.SetBytes(int64(len(payload) / len(lines)))
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for sent < b.N {
		k := min(len(lines), b.N-sent)
		off := 0
		for _, l := range lines[:k] {
			off += len(l) + 1
		}
		if _, err := conn.Write(payload[:off]); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	for testutilValue(flows) < float64(b.N) {
		time.Sleep(time.Millisecond)
	}
	if err := s.batcher.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := s.pub.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
