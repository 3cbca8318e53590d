package bus

import (
	"bytes"
	"context"
	"time"

	"github.com/otsiem/otsiem/setting"
)

// Batch headers. A batch message carries Count records, one per line
// (newline-delimited JSON for events).
const (
	HeaderCount       = "Otsiem-Count"
	HeaderContentType = "Content-Type"
	ContentNDJSON     = "application/x-ndjson"
)

// Batcher packs records into one JetStream message per subject, up to
// MaxRecords or MaxBytes, or after Linger. One NATS message per event costs
// about 16 µs of publish work here (BenchmarkPublish); sixteen events in one
// cost about 2.3 µs each, so batches are what make ingest keep up.
type Batcher struct {
	p          *Publisher
	maxRecords int
	maxBytes   int
	linger     time.Duration

	// lock guards batches. It is a channel, not a mutex, so that a
	// reader waiting for it gives up when its context ends: the linger
	// timer may hold it for as long as JetStream refuses a batch.
	lock    chan struct{}
	batches map[string]*batch
	stop    chan struct{}
	stopped chan struct{}
	// lingerCtx is what the linger timer publishes with; Close ends it
	// when its own context ends first.
	lingerCtx    context.Context
	lingerCancel context.CancelFunc
}

type batch struct {
	buf     bytes.Buffer
	n       int
	firstID string
	opened  time.Time
}

// NewBatcher returns a batcher publishing through p.
func NewBatcher(p *Publisher, cfg BatcherConfig) *Batcher {
	def := DefaultBatcherConfig()
	setting.Positive(&cfg.MaxRecords, def.MaxRecords)
	setting.Positive(&cfg.MaxBytes, def.MaxBytes)
	setting.Positive(&cfg.Linger, def.Linger)
	b := &Batcher{p: p, maxRecords: cfg.MaxRecords, maxBytes: int(cfg.MaxBytes), linger: cfg.Linger,
		lock: make(chan struct{}, 1), batches: map[string]*batch{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	b.lingerCtx, b.lingerCancel = context.WithCancel(context.Background())
	go b.lingerLoop()
	return b
}

// acquire takes the lock, or gives up when ctx ends.
func (b *Batcher) acquire(ctx context.Context) error {
	select {
	case b.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Batcher) unlock() { <-b.lock }

// Add appends a record (one line, without its newline) with its id to the
// subject's batch, publishing the batch when full. It blocks while the
// publisher is at its pending limit; when ctx ends first, the record (and
// a batch it could not publish) is counted as lost and ctx's error
// returned.
func (b *Batcher) Add(ctx context.Context, subject, id string, record []byte) error {
	if err := b.acquire(ctx); err != nil {
		b.p.lose(0, 1)
		return err
	}
	defer b.unlock()
	bt := b.batches[subject]
	if bt == nil {
		bt = &batch{}
		b.batches[subject] = bt
	}
	if bt.n > 0 && bt.buf.Len()+len(record)+1 > b.maxBytes {
		if err := b.publishLocked(ctx, subject, bt); err != nil {
			b.p.lose(0, 1) // the batch is counted; this record too
			return err
		}
	}
	if bt.n == 0 {
		bt.firstID, bt.opened = id, time.Now()
	}
	bt.buf.Write(record)
	bt.buf.WriteByte('\n')
	bt.n++
	if bt.n >= b.maxRecords || bt.buf.Len() >= b.maxBytes {
		return b.publishLocked(ctx, subject, bt)
	}
	return nil
}

func (b *Batcher) publishLocked(ctx context.Context, subject string, bt *batch) error {
	if bt.n == 0 {
		return nil
	}
	var id string
	if bt.firstID != "" {
		id = BatchMsgID(bt.firstID, bt.n)
	}
	data, n := bytes.Clone(bt.buf.Bytes()), bt.n
	bt.buf.Reset()
	bt.n = 0
	return b.p.PublishBatch(ctx, subject, id, data, n, nil)
}

// Flush publishes every open batch.
// Every batch is tried: one that cannot be published (ctx ended) is
// counted as lost, and the first error returned.
func (b *Batcher) Flush(ctx context.Context) error {
	if err := b.acquire(ctx); err != nil {
		b.loseAll()
		return err
	}
	defer b.unlock()
	var first error
	for subject, bt := range b.batches {
		if err := b.publishLocked(ctx, subject, bt); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// loseAll counts every open batch as lost; the lock is held by a
// publish that will not return (see Close), so nothing else touches them.
func (b *Batcher) loseAll() {
	for _, bt := range b.batches {
		if bt.n > 0 {
			b.p.lose(1, bt.n)
			bt.buf.Reset()
			bt.n = 0
		}
	}
}

func (b *Batcher) lingerLoop() {
	defer close(b.stopped)
	t := time.NewTicker(b.linger / 2)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			if b.acquire(b.lingerCtx) != nil {
				return
			}
			for subject, bt := range b.batches {
				if bt.n > 0 && now.Sub(bt.opened) >= b.linger {
					// A batch not handed over (Close gave up) is counted
					// as lost by the publisher.
					_ = b.publishLocked(b.lingerCtx, subject, bt)
				}
			}
			b.unlock()
		}
	}
}

// Close stops the linger timer and publishes what is left, waiting for
// room while JetStream refuses writes; when ctx ends first, what could
// not be handed to the publisher is counted as lost (in records) and
// ctx's error returned. It does not close the publisher.
func (b *Batcher) Close(ctx context.Context) error {
	close(b.stop)
	select {
	case <-b.stopped:
	case <-ctx.Done():
		b.lingerCancel()
		<-b.stopped
	}
	defer b.lingerCancel()
	return b.Flush(ctx)
}

// SplitRecords calls f for each record of a batch message.
func SplitRecords(data []byte, f func(record []byte) error) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > 0 {
			if err := f(data[:i]); err != nil {
				return err
			}
		}
		data = data[min(i+1, len(data)):]
	}
	return nil
}
