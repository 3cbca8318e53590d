package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/otsiem/otsiem/internal/poll"
	"github.com/otsiem/otsiem/setting"
)

// waitUntil polls cond until it holds, or fails the test after a minute.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	poll.True(tb, time.Minute, what, cond)
}

func openSized(tb testing.TB, maxBytes int64) *Bus {
	tb.Helper()
	b, err := Open(context.Background(), Config{Embedded: EmbeddedConfig{Dir: tb.TempDir()}, MaxBytes: setting.ByteSize(maxBytes)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// The streams are bounded by the disk their store is on, by default, and
// refuse what does not fit instead of dropping what they hold.
func TestStreamsBoundedByDefault(t *testing.T) {
	b := openTest(t)
	free, used := diskSpace(t.TempDir())
	if b.MaxBytes() <= 0 || b.MaxBytes() > (free+used)/2+(64<<20) {
		t.Errorf("streams may hold %d bytes with %d free", b.MaxBytes(), free)
	}
	var sum int64
	for _, sc := range b.StreamConfigs() {
		if sc.MaxBytes <= 0 || sc.Discard != jetstream.DiscardNew || sc.MaxAge != 7*24*time.Hour {
			t.Errorf("%s: max_bytes %d, discard %v, max_age %v", sc.Name, sc.MaxBytes, sc.Discard, sc.MaxAge)
		}
		sum += sc.MaxBytes
	}
	if sum > b.MaxBytes() {
		t.Errorf("streams add up to %d bytes, over the %d budget", sum, b.MaxBytes())
	}
}

// A full stream refuses writes: the publisher reports it (for /healthz),
// counts and retries, holds at most its bounds in memory, and resumes by
// itself once the readers' acknowledgements free room. Nothing is lost or
// doubled.
func TestFullStreamRefusesThenResumes(t *testing.T) {
	b := openSized(t, 5<<20) // events: 2 MiB
	ctx := context.Background()
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, StreamEvents, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p, err := b.NewPublisher(PublisherConfig{MaxPendingRecords: 64, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	record := strings.Repeat("x", 4000)
	const n = 2000 // 8 MB: four times what the stream holds
	handed := make(chan int, n)
	go func() {
		for i := range n {
			if err := p.Publish(ctx, SubjectEvents+".s.flow", fmt.Sprint("r", i), []byte(fmt.Sprintf("%d %s", i, record))); err != nil {
				t.Error(err)
				return
			}
			handed <- i
		}
		close(handed)
	}()
	waitUntil(t, "the refusal", func() bool { return p.Err() != nil })
	if v := testutil.ToFloat64(p.refused.counter.WithLabelValues(RefusedFull)); v < 1 {
		t.Errorf("refusals counted: %v", v)
	}
	// The publisher stops taking records: at most its bound is in memory.
	var stalled int
	waitUntil(t, "the publisher to stop taking records", func() bool {
		before := len(handed)
		time.Sleep(100 * time.Millisecond)
		stalled = len(handed)
		return stalled == before
	})
	if held := int(streamMsgs(t, b, StreamEvents)); stalled-held > 64 || held == 0 {
		t.Errorf("%d records taken, %d in the stream: more than 64 held in memory", stalled, held)
	}
	// A reader catches up and acknowledges; trimming frees the room.
	seen := map[string]int{}
	waitUntil(t, "every record", func() bool {
		mb, err := cons.Fetch(100, jetstream.FetchMaxWait(50*time.Millisecond))
		if err == nil {
			for m := range mb.Messages() {
				seen[strings.Fields(string(m.Data()))[0]]++
				_ = m.DoubleAck(ctx)
			}
		}
		if _, err := b.Trim(ctx, StreamEvents, 0); err != nil {
			t.Fatal(err)
		}
		return len(seen) == n
	})
	for r, c := range seen {
		if c != 1 {
			t.Errorf("record %s stored %d times", r, c)
		}
	}
	waitUntil(t, "the refusal to clear", func() bool { return p.Err() == nil })
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// Trim removes only what every acknowledging consumer, and the caller's
// own position, is past; consumers that acknowledge nothing hold nothing.
func TestTrim(t *testing.T) {
	b := openTest(t)
	ctx := context.Background()
	for i := range 20 {
		if _, err := b.JS.Publish(ctx, SubjectFindings+".high", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Trim(ctx, StreamFindings, 0); err != nil || n != 0 {
		t.Fatalf("trimmed %d (%v) with no reader", n, err)
	}
	ack := func(name string, upTo int) {
		c, err := b.JS.CreateOrUpdateConsumer(ctx, StreamFindings, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		mb, err := c.Fetch(upTo, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range mb.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	ack("fast", 15)
	ack("slow", 5)
	if _, err := b.JS.OrderedConsumer(ctx, StreamFindings, jetstream.OrderedConsumerConfig{}); err != nil {
		t.Fatal(err)
	}
	first := func() uint64 {
		st, err := b.JS.Stream(ctx, StreamFindings)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().State.FirstSeq
	}
	if n, err := b.Trim(ctx, StreamFindings, 0); err != nil || n != 5 || first() != 6 {
		t.Errorf("trimmed %d (%v), first %d; want 5 and 6", n, err, first())
	}
	if n, err := b.Trim(ctx, StreamFindings, 4); err != nil || n != 0 || first() != 6 {
		t.Errorf("a position behind the first message trimmed %d (%v)", n, err)
	}
	ack("slow", 15)
	if n, err := b.Trim(ctx, StreamFindings, 12); err != nil || n != 6 || first() != 12 {
		t.Errorf("trimmed %d (%v), first %d; want 6 and 12", n, err, first())
	}
}

// Stopping while the store refuses: what was never accepted is counted in
// records, logged and reported, not dropped silently.
func TestCloseCountsWhatWasNeverAccepted(t *testing.T) {
	b := openSized(t, 5<<20)
	ctx := context.Background()
	p, err := b.NewPublisher(PublisherConfig{MaxPendingRecords: 1 << 20, MaxPendingBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(strings.Repeat("y", 100<<10))
	const sent = 60 // 6 MB of 10-record messages; the stream holds 2 MiB
	for i := range sent {
		m := &nats.Msg{Subject: SubjectEvents + ".s.flow", Data: big, Header: nats.Header{}}
		m.Header.Set(HeaderCount, "10")
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprint("b", i))
		if err := p.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the refusal", func() bool { return p.Err() != nil })
	held := int(streamMsgs(t, b, StreamEvents))
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err = p.Close(cctx)
	lost := int(testutil.ToFloat64(p.lostRecs))
	if err == nil || lost != (sent-held)*10 || !strings.Contains(err.Error(), fmt.Sprintf("%d records", lost)) {
		t.Errorf("close: %v; %d records lost, want %d (%d messages handed, %d stored)", err, lost, (sent-held)*10, sent, held)
	}
}

// When the disk fills, the server switches JetStream off; once there is
// room again it comes back by itself and the refused writes go through.
func TestJetStreamTurnsBackOn(t *testing.T) {
	check := jetStreamCheck
	t.Cleanup(func() { jetStreamCheck = check }) // after the bus closes
	jetStreamCheck = 20 * time.Millisecond
	b := openTest(t)
	ctx := context.Background()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, SubjectEvents+".s.flow", "before", []byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// What the server does when a write finds no space.
	if err := b.srv.ShutdownJetStream(); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, SubjectEvents+".s.flow", "during", []byte("during")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "JetStream back on", func() bool { return b.srv.JetStreamEnabled() })
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, b, StreamEvents); got != 2 {
		t.Errorf("%d messages after JetStream came back, want 2", got)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// The probe: with the embedded server listening, a client without
// credentials can neither purge a stream nor publish a forged finding; a
// reader may watch findings but not publish them; otsiem's own identity
// (generated, mode 0600) and the in-process connection keep working.
func TestEmbeddedListenerRequiresCredentials(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, err := Open(ctx, Config{Embedded: EmbeddedConfig{Dir: dir, Listen: "127.0.0.1:-1",
		Users: []User{{Name: "grafana", Password: "not-a-default", Role: RoleReader}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	url := b.ClientURL()
	if _, err := nats.Connect(url); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Errorf("anonymous client: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, SeedFile))
	if err != nil || info.Mode().Perm() != 0o600 || b.SeedPath() != filepath.Join(dir, SeedFile) {
		t.Fatalf("generated identity: %v %v", info, err)
	}

	reader, err := nats.Connect(url, nats.UserInfo("grafana", "not-a-default"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	live, err := reader.SubscribeSync(SubjectFindings + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Flush(); err != nil {
		t.Fatal(err)
	}
	rjs, _ := jetstream.New(reader)
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := rjs.Publish(short, SubjectFindings+".critical", []byte(`{"type":"diode_down"}`)); err == nil {
		t.Error("a reader published a finding")
	}

	own, err := nats.NkeyOptionFromSeed(b.SeedPath())
	if err != nil {
		t.Fatal(err)
	}
	other, err := nats.Connect(url, own)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ojs, _ := jetstream.New(other)
	if _, err := ojs.Publish(ctx, SubjectFindings+".high", []byte(`{"type":"scan"}`)); err != nil {
		t.Errorf("otsiem's own identity: %v", err)
	}
	if _, err := b.JS.Publish(ctx, SubjectFindings+".low", []byte(`{"type":"new_pair"}`)); err != nil {
		t.Errorf("in-process connection: %v", err)
	}
	if _, err := reader.Request("$JS.API.STREAM.PURGE."+StreamFindings, nil, time.Second); err == nil {
		t.Error("a reader's purge was answered")
	}
	if got := streamMsgs(t, b, StreamFindings); got != 2 {
		t.Errorf("findings stream holds %d messages, want otsiem's 2", got)
	}
	if m, err := live.NextMsg(10 * time.Second); err != nil || !strings.Contains(string(m.Data), "scan") {
		t.Errorf("reader's live findings: %v %v", m, err)
	}
	if _, err := Open(ctx, Config{Embedded: EmbeddedConfig{Dir: t.TempDir(), Listen: "127.0.0.1:-1", Users: []User{{Name: "x"}}}}); err == nil {
		t.Error("a user without a password accepted")
	}
}

// A Trimmer trims at once when its stream is half full, else only every
// Every.
func TestTrimmerDue(t *testing.T) {
	b := openSized(t, 5<<20) // findings: 1 MiB (the least a stream gets)
	ctx := context.Background()
	tr := Trimmer{Bus: b, Stream: StreamFindings, Every: time.Hour}
	if !tr.Due(ctx) {
		t.Error("a trimmer that never trimmed is not due")
	}
	if _, err := tr.Trim(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if tr.Due(ctx) {
		t.Error("due again at once with an empty stream")
	}
	record := []byte(strings.Repeat("f", 10<<10))
	for range 60 { // 600 KiB: over half of it
		if _, err := b.JS.Publish(ctx, SubjectFindings+".low", record); err != nil {
			t.Fatal(err)
		}
	}
	if !tr.Due(ctx) {
		t.Error("not due with the stream half full")
	}
}

// The probe, with the disk's free space played by a stand-in:
// the store's disk runs full, then has room again; JetStream is restarted
// (clearing any write error a stream kept) and writes resume by themselves
// with nothing lost.
func TestFullDiskThenRoom(t *testing.T) {
	// Restored after the bus closes (cleanups run last in, first out).
	check, df := jetStreamCheck, diskFree
	t.Cleanup(func() { jetStreamCheck, diskFree = check, df })
	var free atomic.Int64
	free.Store(10 << 30)
	jetStreamCheck = 10 * time.Millisecond
	diskFree = func(string) (int64, int64) { return free.Load(), 20 << 30 }
	b := openTest(t)
	ctx := context.Background()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, SubjectEvents+".s.flow", "1", []byte("before")); err != nil {
		t.Fatal(err)
	}
	free.Store(1 << 20)
	waitUntil(t, "the full disk noticed", b.diskFull.Load)
	if b.restarts.Load() != 0 {
		t.Fatal("restarted while the disk is full")
	}
	free.Store(5 << 30)
	waitUntil(t, "JetStream restarted", func() bool { return b.restarts.Load() == 1 })
	if err := p.Publish(ctx, SubjectEvents+".s.flow", "2", []byte("after")); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, b, StreamEvents); got != 2 {
		t.Errorf("%d messages, want both", got)
	}
}

// An asynchronous publish whose acknowledgement never comes (JetStream
// restarted while it was in flight) fails after PublishAckTimeout, so
// that the stage retries it, instead of waiting for ever: a correlator
// stalled that way after the full disk of the issue had room again.
func TestAsyncPublishWithoutAckFails(t *testing.T) {
	saved := PublishAckTimeout
	t.Cleanup(func() { PublishAckTimeout = saved })
	PublishAckTimeout = 300 * time.Millisecond
	b := openTest(t)
	// A subscriber that takes the message and never answers: the ack of
	// a message JetStream lost.
	sub, err := b.NC.SubscribeSync("lost.ack")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	f, err := b.JS.PublishMsgAsync(&nats.Msg{Subject: "lost.ack", Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Ok():
		t.Fatal("acknowledged")
	case err := <-f.Err():
		if RefusalReason(err) != RefusedUnavailable {
			t.Errorf("%v: reason %s, want %s", err, RefusalReason(err), RefusedUnavailable)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no acknowledgement and no error after 30s")
	}
}

// A batcher whose publisher JetStream refuses never hangs a reader or a
// stop: an Add gives up when its context ends, Close gives up at its
// deadline (the linger timer's publish too), and every record is either
// stored or counted as lost (before, a record whose Add gave up while
// publishing the batch before it was not counted).
func TestBatcherStopsWhileRefused(t *testing.T) {
	b := openSized(t, 5<<20) // the events stream holds 2 MiB
	ctx := context.Background()
	p, err := b.NewPublisher(PublisherConfig{MaxPending: 2, MaxPendingBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	bt := NewBatcher(p, BatcherConfig{MaxRecords: 1000, Linger: 5 * time.Millisecond})
	rec := []byte(strings.Repeat("z", 100<<10)) // five to a 512 KiB batch
	var added atomic.Int64
	gaveUp := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := bt.Add(actx, SubjectEvents+".s.flow", fmt.Sprint("r", i), rec)
			cancel()
			if err != nil {
				gaveUp <- err
				return
			}
			added.Add(1)
		}
	}()
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Add gave up with %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("Add neither stored nor gave up")
	}
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = bt.Close(cctx)
	_ = p.Close(cctx)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("stopping took %s", d)
	}
	// Every record attempted (the one that gave up too) is stored or lost.
	st, err := b.JS.Stream(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	cons, err := b.JS.OrderedConsumer(ctx, StreamEvents, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for range info.State.Msgs {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(m.Headers().Get(HeaderCount))
		stored += n
	}
	lost := int(testutil.ToFloat64(p.lostRecs))
	if attempted := int(added.Load()) + 1; stored+lost != attempted || lost == 0 {
		t.Errorf("%d records attempted: %d stored + %d counted lost", attempted, stored, lost)
	}
}
