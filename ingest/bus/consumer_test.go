package bus

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// fetchAll fetches until n messages arrived or the deadline passed.
func fetchAll(t *testing.T, c *Consumer, n int, within time.Duration) []*Msg {
	t.Helper()
	var got []*Msg
	deadline := time.Now().Add(within)
	for len(got) < n && time.Now().Before(deadline) {
		if err := c.Fetch(n-len(got), 200*time.Millisecond, func(m *Msg) { got = append(got, m) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != n {
		t.Fatalf("fetched %d messages, want %d", len(got), n)
	}
	return got
}

// A batch published through the Publisher reaches a durable consumer as
// its records, with its Msg-Id, stream position and delivery count; a
// Nak redelivers it (counted), an Ack ends it.
func TestConsumerBatchNakAck(t *testing.T) {
	b := openTest(t)
	ctx := t.Context()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var sent Tracker
	for i := range 3 {
		data := []byte(fmt.Sprintf("{\"n\":%d}\n{\"n\":%d}\n", 2*i, 2*i+1))
		if err := p.PublishBatch(ctx, EventsSubject("refinery", "flow"), BatchMsgID(fmt.Sprint("ev", i), 2), data, 2, &sent); err != nil {
			t.Fatal(err)
		}
	}
	if err := sent.Wait(ctx); err != nil || sent.Pending() != 0 {
		t.Fatalf("wait: %v, pending %d", err, sent.Pending())
	}
	c, err := b.Consumer(ctx, ConsumerConfig{Stream: StreamEvents, Durable: "test", AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, c, 3, 10*time.Second)
	var records []string
	for i, m := range msgs {
		if m.ID() != fmt.Sprintf("ev%d+2", i) || m.Seq() != uint64(i+1) || m.Delivered() != 1 || m.Pending() != uint64(2-i) ||
			m.Header(HeaderCount) != "2" || m.Stored().IsZero() {
			t.Errorf("message %d: id %q seq %d delivered %d pending %d count %q", i, m.ID(), m.Seq(), m.Delivered(), m.Pending(), m.Header(HeaderCount))
		}
		_ = m.Records(func(r []byte) error { records = append(records, string(r)); return nil })
	}
	if fmt.Sprint(records) != `[{"n":0} {"n":1} {"n":2} {"n":3} {"n":4} {"n":5}]` {
		t.Errorf("records %v", records)
	}
	if id := EnrichedMsgID(msgs[0], EnrichedSubject("refinery", "allowed")); id != "ev0+2/refinery.allowed" {
		t.Errorf("enriched id %q", id)
	}
	if err := msgs[1].Nak(0); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Msg{msgs[0], msgs[2]} {
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	again := fetchAll(t, c, 1, 10*time.Second)[0]
	if again.Seq() != 2 || again.Delivered() != 2 {
		t.Errorf("redelivered seq %d delivered %d, want 2 and 2", again.Seq(), again.Delivered())
	}
	if err := again.Ack(); err != nil {
		t.Fatal(err)
	}
	if err := c.Fetch(1, 300*time.Millisecond, func(m *Msg) { t.Errorf("message %d delivered after its ack", m.Seq()) }); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Backlog(ctx); err != nil || n != 0 {
		t.Errorf("backlog %d, %v; want 0", n, err)
	}
}

// Held messages of a durable consumer are not redelivered while
// KeepAlive runs, however long the work takes; without it they are,
// after AckWait.
func TestConsumerKeepAlive(t *testing.T) {
	b := openTest(t)
	ctx := t.Context()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := p.Publish(ctx, EnrichedSubject("refinery", "allowed"), fmt.Sprint("id", i), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	const ackWait = 600 * time.Millisecond
	kept, err := b.Consumer(ctx, ConsumerConfig{Stream: StreamEnriched, Durable: "kept", AckWait: ackWait})
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Consumer(ctx, ConsumerConfig{Stream: StreamEnriched, Durable: "kept", AckWait: ackWait})
	if err != nil {
		t.Fatal(err)
	}
	held := fetchAll(t, kept, 2, 10*time.Second)
	kctx, stop := context.WithCancel(ctx)
	go kept.KeepAlive(kctx)
	// Four AckWaits later nothing was redelivered to the other reader.
	deadline := time.Now().Add(4 * ackWait)
	for time.Now().Before(deadline) {
		if err := other.Fetch(1, 100*time.Millisecond, func(m *Msg) { t.Errorf("message %d redelivered while kept alive", m.Seq()) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := held[0].Ack(); err != nil {
		t.Fatal(err)
	}
	stop()
	// The other one, no longer kept alive, is redelivered.
	m := fetchAll(t, other, 1, 10*time.Second)[0]
	if m.Seq() != held[1].Seq() || m.Delivered() != 2 {
		t.Errorf("redelivered seq %d (delivered %d), want %d (2)", m.Seq(), m.Delivered(), held[1].Seq())
	}
}

// An ordered consumer reads from its start sequence and takes no
// acknowledgements.
func TestOrderedConsumer(t *testing.T) {
	b := openTest(t)
	ctx := t.Context()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := p.Publish(ctx, EventsSubject("refinery", "flow"), fmt.Sprint("o", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := b.Consumer(ctx, ConsumerConfig{Stream: StreamEvents, StartSeq: 3})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, c, 3, 10*time.Second)
	for i, m := range msgs {
		if m.Seq() != uint64(3+i) || string(m.Data()) != fmt.Sprint(2+i) {
			t.Errorf("message %d: seq %d data %q", i, m.Seq(), m.Data())
		}
	}
	if err := msgs[0].Ack(); !errors.Is(err, ErrNotDurable) {
		t.Errorf("ack on an ordered consumer: %v", err)
	}
	if _, err := b.Consumer(ctx, ConsumerConfig{Stream: "NOT_OURS"}); err == nil {
		t.Error("a consumer on a foreign stream")
	}
}

// A dead letter written by the publisher reads back as it was, with its
// deterministic Msg-Id: published twice, it is stored once.
func TestDeadLetterRoundTrip(t *testing.T) {
	b := openTest(t)
	ctx := t.Context()
	p, err := b.NewPublisher(PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	in := DeadLetter{Site: "refinery", Reason: "oversize", Listener: "syslog-tcp",
		Sender: netip.MustParseAddrPort("10.30.1.1:51514"), Received: received, Data: []byte("<134>line\ncut")}
	for range 2 {
		if err := p.PublishDeadLetter(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := b.Consumer(ctx, ConsumerConfig{Stream: StreamDeadLetter, Durable: "dl"})
	if err != nil {
		t.Fatal(err)
	}
	m := fetchAll(t, c, 1, 10*time.Second)[0]
	got := ReadDeadLetter(m)
	want := in
	want.ID = DeadLetterMsgID(in.Sender.Addr(), in.Received, in.Data)
	if got.Site != want.Site || got.Reason != want.Reason || got.Listener != want.Listener || got.Sender != want.Sender ||
		!got.Received.Equal(want.Received) || string(got.Data) != string(want.Data) || got.ID != want.ID {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
	if m.Subject() != "otsiem.deadletter.refinery.oversize" {
		t.Errorf("subject %q", m.Subject())
	}
	if n := streamMsgs(t, b, StreamDeadLetter); n != 1 {
		t.Errorf("stream holds %d dead letters, want 1", n)
	}
}

// The Msg-Ids are functions of what the message carries.
func TestMsgIDs(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := DeadLetterMsgID(netip.MustParseAddr("10.0.0.1"), at, []byte("x"))
	if a != DeadLetterMsgID(netip.MustParseAddr("10.0.0.1"), at, []byte("x")) ||
		a == DeadLetterMsgID(netip.MustParseAddr("10.0.0.2"), at, []byte("x")) ||
		a == DeadLetterMsgID(netip.MustParseAddr("10.0.0.1"), at.Add(1), []byte("x")) {
		t.Error("dead-letter ids are not a function of sender, time and bytes")
	}
	if got := BatchMsgID("abc", 256); got != "abc+256" {
		t.Errorf("batch id %q", got)
	}
	if got := FindingMsgID("f1", 3); got != "f1/3" {
		t.Errorf("finding id %q", got)
	}
}
