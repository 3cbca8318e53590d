package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerConfig says which stream a Consumer reads and how.
type ConsumerConfig struct {
	// Stream is one of otsiem's streams (StreamEvents, …); the consumer
	// takes every subject of it (see Filter).
	Stream string
	// Durable names a durable pull consumer that every process giving the
	// same name shares: each message goes to one of them and is
	// redelivered after AckWait unless acknowledged. Empty: an ordered
	// consumer of this process alone, reading in stream order from
	// StartSeq (or the first message) and taking no acknowledgements.
	Durable     string
	Description string
	// AckWait is how long a delivered message may stay unacknowledged
	// before JetStream redelivers it (default 30s); KeepAlive extends it
	// for messages still being worked on.
	AckWait time.Duration
	// MaxAckPending bounds the messages delivered and not yet
	// acknowledged (default JetStream's, 1000).
	MaxAckPending int
	// MaxDeliver bounds deliveries of one message; -1 (and 0) for no bound.
	MaxDeliver int
	// StartSeq is where an ordered consumer starts (0: the first message).
	StartSeq uint64
}

// Consumer reads one stream in batches: durable and shared, or ordered and
// private (see ConsumerConfig.Durable). A message of a durable consumer is
// held from its delivery until Ack or Nak; KeepAlive tells JetStream that
// held messages are still being worked on. Fetch is for one goroutine;
// Ack, Nak and KeepAlive may run on others.
type Consumer struct {
	cfg  ConsumerConfig
	cons jetstream.Consumer

	mu   sync.Mutex
	held map[uint64]*Msg // durable only: delivered, not yet acknowledged, by stream sequence
}

// Consumer declares (or updates) a durable consumer, or creates an ordered
// one, on the bus.
func (b *Bus) Consumer(ctx context.Context, cfg ConsumerConfig) (*Consumer, error) {
	filter := Filter(cfg.Stream)
	if filter == "" {
		return nil, fmt.Errorf("bus: consumer on %q: not one of otsiem's streams", cfg.Stream)
	}
	c := &Consumer{cfg: cfg}
	var err error
	if cfg.Durable == "" {
		occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}}
		if cfg.StartSeq > 0 {
			occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, cfg.StartSeq
		}
		c.cons, err = b.JS.OrderedConsumer(ctx, cfg.Stream, occ)
	} else {
		if c.cfg.AckWait <= 0 {
			c.cfg.AckWait = 30 * time.Second
		}
		if cfg.MaxDeliver == 0 {
			cfg.MaxDeliver = -1
		}
		c.held = map[uint64]*Msg{}
		c.cons, err = b.JS.CreateOrUpdateConsumer(ctx, cfg.Stream, jetstream.ConsumerConfig{
			Durable: cfg.Durable, Description: cfg.Description, FilterSubject: filter,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: c.cfg.AckWait, MaxAckPending: cfg.MaxAckPending,
			MaxDeliver: cfg.MaxDeliver, DeliverPolicy: jetstream.DeliverAllPolicy,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %q on %s: %w", cfg.Durable, cfg.Stream, err)
	}
	return c, nil
}

// Fetch asks for up to n messages and calls f with each as it arrives,
// for at most wait. It returns when n arrived, wait passed, or the
// request failed; the error is the request's (JetStream away, the
// consumer deleted, the connection closing). Messages already handed to
// f are delivered either way and must be acknowledged.
//
// A message JetStream redelivers while this consumer still holds it (its
// AckWait passed before a keep-alive reached the server) is not handed to
// f again: the delivery held is worked on, and acknowledging it
// acknowledges the message.
func (c *Consumer) Fetch(n int, wait time.Duration, f func(*Msg)) error {
	batch, err := c.cons.Fetch(n, jetstream.FetchMaxWait(wait))
	if err != nil {
		return err
	}
	for m := range batch.Messages() {
		msg := &Msg{m: m, c: c, touched: time.Now()}
		if c.held != nil {
			seq := msg.Seq()
			c.mu.Lock()
			if held := c.held[seq]; held != nil && seq > 0 {
				held.touched = msg.touched
				c.mu.Unlock()
				_ = held.m.InProgress()
				continue
			}
			c.held[seq] = msg
			c.mu.Unlock()
		}
		f(msg)
	}
	return batch.Error()
}

// Pending returns how many messages of the stream the consumer has not
// been delivered yet (a request to JetStream).
func (c *Consumer) Pending(ctx context.Context) (uint64, error) {
	info, err := c.cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending, nil
}

// KeepAlive tells JetStream every AckWait/3, until ctx ends, that the
// messages held for longer than that are still being worked on (an
// in-progress acknowledgement restarts their AckWait): work that outlasts
// AckWait, such as an insert retried through an outage, keeps its
// messages instead of having them redelivered to this or another process
// meanwhile.
func (c *Consumer) KeepAlive(ctx context.Context) {
	if c.held == nil {
		return
	}
	every := c.cfg.AckWait / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.mu.Lock()
			for _, m := range c.held {
				if now.Sub(m.touched) >= every {
					_ = m.m.InProgress()
					m.touched = now
				}
			}
			c.mu.Unlock()
		}
	}
}

// release stops holding m.
func (c *Consumer) release(m *Msg) {
	seq := m.Seq()
	c.mu.Lock()
	if c.held[seq] == m {
		delete(c.held, seq)
	}
	c.mu.Unlock()
}

// Msg is one delivered message.
type Msg struct {
	m       jetstream.Msg
	c       *Consumer
	meta    *jetstream.MsgMetadata
	touched time.Time // delivered, or last kept alive (guarded by c.mu)
}

// Data returns the payload.
func (m *Msg) Data() []byte { return m.m.Data() }

// Subject returns the subject it was published to (see ParseSubject).
func (m *Msg) Subject() string { return m.m.Subject() }

// Header returns the value of a header, or "".
func (m *Msg) Header(key string) string { return m.m.Headers().Get(key) }

// ID returns the Msg-Id it was published with, or "".
func (m *Msg) ID() string { return m.Header(jetstream.MsgIDHeader) }

// Records calls f for each record of a batch message (see SplitRecords);
// a message that is not a batch is one record.
func (m *Msg) Records(f func(record []byte) error) error { return SplitRecords(m.m.Data(), f) }

func (m *Msg) metadata() *jetstream.MsgMetadata {
	if m.meta == nil {
		md, err := m.m.Metadata()
		if err != nil {
			md = &jetstream.MsgMetadata{}
		}
		m.meta = md
	}
	return m.meta
}

// Seq is its sequence number in the stream (0 when unknown).
func (m *Msg) Seq() uint64 { return m.metadata().Sequence.Stream }

// Delivered is how many times it has been delivered: more than 1 is a
// redelivery (a reader that stopped, or took longer than AckWait, before
// acknowledging it may have done its work already).
func (m *Msg) Delivered() uint64 { return m.metadata().NumDelivered }

// Pending is how many messages of the stream the consumer had not been
// delivered when this one was.
func (m *Msg) Pending() uint64 { return m.metadata().NumPending }

// Stored is when the stream stored it (zero when unknown).
func (m *Msg) Stored() time.Time { return m.metadata().Timestamp }

// Ack acknowledges it: JetStream will not deliver it again.
func (m *Msg) Ack() error {
	if m.c.held == nil {
		return ErrNotDurable
	}
	m.c.release(m)
	return m.m.Ack()
}

// Nak gives it back to be delivered again after delay (at once for 0).
func (m *Msg) Nak(delay time.Duration) error {
	if m.c.held == nil {
		return ErrNotDurable
	}
	m.c.release(m)
	if delay > 0 {
		return m.m.NakWithDelay(delay)
	}
	return m.m.Nak()
}

// ErrNotDurable is returned by acknowledging a message of an ordered
// consumer.
var ErrNotDurable = errors.New("bus: an ordered consumer takes no acknowledgements")
