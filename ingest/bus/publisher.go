package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Publisher publishes to JetStream asynchronously and waits for every
// acknowledgement. At most MaxPending messages are unacknowledged at once:
// past that Publish blocks, which is how a slow store slows the readers
// upstream instead of filling memory. A failed publish is retried with the
// same message id, so the stream keeps one copy.
type Publisher struct {
	js      jetstream.JetStream
	pending chan inflight
	done    chan struct{}
	log     *slog.Logger

	mu     sync.Mutex
	closed bool

	latency  prometheus.Histogram
	inflight prometheus.Gauge
	retries  prometheus.Counter
	failures prometheus.Counter
}

type inflight struct {
	f     jetstream.PubAckFuture
	start time.Time
}

// PublisherConfig tunes a Publisher.
type PublisherConfig struct {
	// MaxPending bounds unacknowledged publishes (default 8192).
	MaxPending int
	// Stage names the metrics' stage ("ingest" → otsiem_ingest_publish_…).
	Stage string
	// Registerer takes the publisher's metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// NewPublisher starts a publisher on the bus.
func (b *Bus) NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 8192
	}
	if cfg.Stage == "" {
		cfg.Stage = "ingest"
	}
	// A separate JetStream context: its async-publish window is this
	// publisher's alone.
	js, err := jetstream.New(b.NC, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending), jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &Publisher{
		js:      js,
		pending: make(chan inflight, cfg.MaxPending),
		done:    make(chan struct{}),
		log:     cfg.Logger,
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "otsiem_" + cfg.Stage + "_publish_latency_seconds",
			Help:    "Time from publish to JetStream acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "otsiem_" + cfg.Stage + "_publish_pending",
			Help: "Messages published and not yet acknowledged.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "otsiem_" + cfg.Stage + "_publish_retries_total",
			Help: "Publishes retried after a failed or missing acknowledgement.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "otsiem_" + cfg.Stage + "_publish_failures_total",
			Help: "Messages given up on at shutdown without an acknowledgement.",
		}),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.latency, p.inflight, p.retries, p.failures} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("publisher metrics: %w", err)
			}
		}
	}
	go p.acks()
	return p, nil
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("publisher closed")

// Publish sends data to subject with a deduplication id. It returns once
// the message is handed to the connection; the acknowledgement is awaited in
// the background (see Flush). data is copied.
func (p *Publisher) Publish(ctx context.Context, subject, id string, data []byte) error {
	msg := &nats.Msg{Subject: subject, Data: append([]byte(nil), data...), Header: nats.Header{}}
	if id != "" {
		msg.Header.Set(jetstream.MsgIDHeader, id)
	}
	return p.PublishMsg(ctx, msg)
}

// PublishMsg is Publish for a prepared message; the message must not be
// changed afterwards.
func (p *Publisher) PublishMsg(ctx context.Context, msg *nats.Msg) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	for {
		f, err := p.js.PublishMsgAsync(msg)
		if err == nil {
			// Blocks while MaxPending acknowledgements are outstanding.
			select {
			case p.pending <- inflight{f, time.Now()}:
				p.inflight.Inc()
				return nil
			case <-ctx.Done():
				// Already sent: hand the ack to the background so it is still
				// checked.
				p.pending <- inflight{f, time.Now()}
				p.inflight.Inc()
				return ctx.Err()
			}
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fmt.Errorf("publish %s: %w", msg.Subject, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// acks checks acknowledgements in publish order and republishes what failed.
func (p *Publisher) acks() {
	defer close(p.done)
	for in := range p.pending {
		select {
		case <-in.f.Ok():
		case err := <-in.f.Err():
			p.resend(in.f.Msg(), err)
		}
		p.latency.Observe(time.Since(in.start).Seconds())
		p.inflight.Dec()
	}
}

// resend publishes synchronously until acknowledged. The message keeps its
// id, so a first attempt that did arrive is not stored twice.
func (p *Publisher) resend(msg *nats.Msg, cause error) {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		p.retries.Inc()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := p.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			return
		}
		if attempt == 1 || attempt%20 == 0 {
			p.log.Warn("publish not acknowledged; retrying", "subject", msg.Subject, "attempt", attempt, "cause", cause, "err", err)
		}
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed && attempt >= 5 {
			p.failures.Inc()
			p.log.Error("publish given up at shutdown", "subject", msg.Subject, "err", err)
			return
		}
		time.Sleep(wait)
		wait = min(wait*2, 5*time.Second)
	}
}

// Pending returns the number of unacknowledged publishes.
func (p *Publisher) Pending() int { return len(p.pending) }

// Flush waits until every publish so far is acknowledged, or ctx ends.
func (p *Publisher) Flush(ctx context.Context) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if len(p.pending) == 0 && p.js.PublishAsyncPending() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush: %d publishes unacknowledged: %w", len(p.pending), ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops accepting publishes, waits for the outstanding
// acknowledgements (retrying failures a few times) and returns an error if
// ctx ends first.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.pending)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publisher close: %d publishes unacknowledged: %w", len(p.pending), ctx.Err())
	}
}
