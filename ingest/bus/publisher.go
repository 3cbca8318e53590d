package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/setting"
)

// Publisher publishes to JetStream asynchronously and waits for every
// acknowledgement. What is published and not yet acknowledged is bounded
// in messages, bytes and records (a batch message carries HeaderCount
// records): past a bound Publish blocks, which is how a slow or refusing
// store slows the readers upstream instead of filling memory. A refused
// publish is retried with the same message id until accepted, so the
// stream keeps one copy; refusals are counted and logged (see Refusals).
type Publisher struct {
	js      jetstream.JetStream
	cfg     PublisherConfig
	pending chan inflight
	done    chan struct{}
	log     *slog.Logger
	refused *Refusals

	// sendMu is held (shared) from reserving room to handing the message
	// to the acks loop, and (exclusive) by Close to close pending.
	sendMu   sync.RWMutex
	abandon  chan struct{} // closed when Close gives up waiting
	mu       sync.Mutex
	closed   bool
	bytes    int           // unacknowledged payload bytes
	records  int           // unacknowledged records
	freed    chan struct{} // closed (and replaced) when room is freed
	lost     int           // records given up on
	lostMsgs int

	latency  prometheus.Histogram
	inflight prometheus.Gauge
	retries  prometheus.Counter
	failures prometheus.Counter
	lostRecs prometheus.Counter
}

type inflight struct {
	f              jetstream.PubAckFuture
	start          time.Time
	bytes, records int
	t              *Tracker // nil: not tracked
}

// NewPublisher starts a publisher on the bus.
func (b *Bus) NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	def := DefaultPublisherConfig()
	setting.Positive(&cfg.MaxPending, def.MaxPending)
	setting.Positive(&cfg.MaxPendingBytes, def.MaxPendingBytes)
	setting.Positive(&cfg.MaxPendingRecords, def.MaxPendingRecords)
	if cfg.Stage == "" {
		cfg.Stage = "ingest"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// A separate JetStream context: its async-publish window is this
	// publisher's alone.
	js, err := jetstream.New(b.NC, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending), jetstream.WithPublishAsyncTimeout(PublishAckTimeout))
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &Publisher{
		js:      js,
		cfg:     cfg,
		pending: make(chan inflight, cfg.MaxPending),
		done:    make(chan struct{}),
		freed:   make(chan struct{}),
		abandon: make(chan struct{}),
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
		lostRecs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "otsiem_" + cfg.Stage + "_publish_lost_records_total",
			Help: "Records (events, findings, dead letters) in the messages given up on at shutdown.",
		}),
	}
	if p.refused, err = NewRefusals(cfg.Stage, cfg.Registerer, cfg.Logger); err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.latency, p.inflight, p.retries, p.failures, p.lostRecs} {
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

// PublishBatch publishes a batch message: n records, one per line
// (newline-delimited JSON), under a Msg-Id (see msgid.go). data is not
// copied and must not be changed afterwards. With a Tracker, t.Wait
// returns once JetStream acknowledged it.
func (p *Publisher) PublishBatch(ctx context.Context, subject, id string, data []byte, n int, t *Tracker) error {
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(HeaderCount, strconv.Itoa(n))
	msg.Header.Set(HeaderContentType, ContentNDJSON)
	if id != "" {
		msg.Header.Set(jetstream.MsgIDHeader, id)
	}
	return p.publish(ctx, msg, t)
}

// PublishMsg is Publish for a prepared message; the message must not be
// changed afterwards. It blocks while the pending bounds are reached. A
// message it cannot hand over (ctx ended, the publisher closed) is counted
// as lost with its records, and the error returned.
func (p *Publisher) PublishMsg(ctx context.Context, msg *nats.Msg) error {
	return p.publish(ctx, msg, nil)
}

func (p *Publisher) publish(ctx context.Context, msg *nats.Msg, t *Tracker) error {
	p.sendMu.RLock()
	defer p.sendMu.RUnlock()
	in := inflight{bytes: len(msg.Data), records: records(msg), t: t}
	if err := p.reserve(ctx, in.bytes, in.records); err != nil {
		p.lose(1, in.records)
		return err
	}
	for {
		f, err := p.js.PublishMsgAsync(msg)
		if err == nil {
			in.f, in.start = f, time.Now()
			if t != nil {
				t.add()
			}
			p.inflight.Inc()
			// Never blocks for long: reserve admits at most MaxPending.
			p.pending <- in
			return nil
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			p.release(in.bytes, in.records)
			p.lose(1, in.records)
			return fmt.Errorf("publish %s: %w", msg.Subject, err)
		}
		select {
		case <-ctx.Done():
			p.release(in.bytes, in.records)
			p.lose(1, in.records)
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// records is the number of records a message carries.
func records(msg *nats.Msg) int {
	if n, err := strconv.Atoi(msg.Header.Get(HeaderCount)); err == nil && n > 0 {
		return n
	}
	return 1
}

// reserve waits until a message of this size fits the pending bounds
// (one always fits when nothing is pending).
func (p *Publisher) reserve(ctx context.Context, bytes, records int) error {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		n := len(p.pending)
		if n == 0 || n < p.cfg.MaxPending && p.bytes+bytes <= int(p.cfg.MaxPendingBytes) && p.records+records <= p.cfg.MaxPendingRecords {
			p.bytes += bytes
			p.records += records
			p.mu.Unlock()
			return nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Publisher) release(bytes, records int) {
	p.mu.Lock()
	p.bytes -= bytes
	p.records -= records
	close(p.freed)
	p.freed = make(chan struct{})
	p.mu.Unlock()
}

// lose counts messages and records given up on.
func (p *Publisher) lose(msgs, records int) {
	p.failures.Add(float64(msgs))
	p.lostRecs.Add(float64(records))
	p.mu.Lock()
	p.lostMsgs += msgs
	p.lost += records
	p.mu.Unlock()
}

// acks checks acknowledgements in publish order and republishes what failed.
func (p *Publisher) acks() {
	defer close(p.done)
	for in := range p.pending {
		var ok bool
		select {
		case <-in.f.Ok():
			ok = true
			p.refused.Accepted()
		case err := <-in.f.Err():
			ok = p.resend(in.f.Msg(), err)
		case <-p.abandon:
			select {
			case <-in.f.Ok():
				ok = true
			default:
			}
		}
		if !ok {
			p.lose(1, in.records)
		}
		if in.t != nil {
			in.t.done(ok)
		}
		p.latency.Observe(time.Since(in.start).Seconds())
		p.inflight.Dec()
		p.release(in.bytes, in.records)
	}
}

// maxRetryWait is the longest pause between two attempts of a refused
// publish: short, so that writes resume soon after room is freed.
const maxRetryWait = time.Second

// resend publishes synchronously until acknowledged, and reports whether
// it was. The message keeps its id, so a first attempt that did arrive is
// not stored twice. Once the publisher is closed it gives up after a few
// attempts, at once when Close stopped waiting.
func (p *Publisher) resend(msg *nats.Msg, cause error) bool {
	p.refused.Refused(msg.Subject, cause)
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		select {
		case <-p.abandon:
			return false
		default:
		}
		if closed && attempt > 5 {
			return false
		}
		p.retries.Inc()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		go func() {
			select {
			case <-p.abandon:
				cancel()
			case <-ctx.Done():
			}
		}()
		_, err := p.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			p.refused.Accepted()
			return true
		}
		p.refused.Refused(msg.Subject, err)
		select {
		case <-p.abandon:
			return false
		case <-time.After(wait):
		}
		wait = min(wait*2, maxRetryWait)
	}
}

// Err returns why JetStream refuses this publisher's writes, or nil while
// it accepts them, as /healthz judges it (see Refusals.Err): a stream at
// its bound is degraded, not down.
func (p *Publisher) Err() error { return p.refused.Err() }

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

// Close stops accepting publishes and waits for the outstanding
// acknowledgements (retrying refusals a few times). When ctx ends first,
// what is still unacknowledged is given up. Everything given up on —
// then, or by publishes that could not wait — is counted
// (otsiem_<stage>_publish_lost_records_total), logged with its number of
// records, and returned as an error.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.freed) // publishers waiting for room return ErrClosed
	p.freed = make(chan struct{})
	p.mu.Unlock()
	p.sendMu.Lock()
	close(p.pending)
	p.sendMu.Unlock()
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		close(p.abandon)
		<-p.done
		err = ctx.Err()
	}
	p.mu.Lock()
	lost, msgs := p.lost, p.lostMsgs
	p.mu.Unlock()
	if lost > 0 {
		p.log.Error("stopped with records JetStream never accepted: they are lost", "records", lost, "messages", msgs, "refusal", p.refused.Err())
		return fmt.Errorf("publisher close: %d records in %d messages not accepted by JetStream: %w", lost, msgs, errors.Join(err, p.refused.Err()))
	}
	return err
}

// Tracker follows a group of publishes to their acknowledgements, for a
// stage that acknowledges its input only once its output is stored: it
// publishes with the tracker, then waits. Refused publishes are retried
// (see Publisher) and waited for; only one given up on (the publisher
// closed) fails the wait. Publishes may be added while another goroutine
// waits, and the zero Tracker is ready to use.
type Tracker struct {
	mu   sync.Mutex
	n    int           // published, not yet acknowledged or given up
	lost int           // given up since the last Wait
	idle chan struct{} // closed when n drops to 0; nil while it is 0
}

func (t *Tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *Tracker) done(ok bool) {
	t.mu.Lock()
	if !ok {
		t.lost++
	}
	if t.n--; t.n == 0 {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

// Pending returns how many tracked publishes await their acknowledgement.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Wait waits until every tracked publish is acknowledged, or ctx ends
// (ctx's error). It returns an error when a publish was given up on since
// the last Wait.
func (t *Tracker) Wait(ctx context.Context) error {
	t.mu.Lock()
	idle := t.idle
	t.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.mu.Lock()
	lost := t.lost
	t.lost = 0
	t.mu.Unlock()
	if lost > 0 {
		return fmt.Errorf("bus: %d tracked messages were not accepted by JetStream", lost)
	}
	return nil
}
