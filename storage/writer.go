package storage

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// WriterOptions tune a [Writer].
type WriterOptions struct {
	// BatchSize is the most rows per insert; default 10000.
	BatchSize int
	// FlushInterval is the longest a row waits for its batch to fill;
	// default 1s.
	FlushInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a failed
	// insert; defaults 100ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives one line per failed insert attempt; nil is silent.
	Logger *slog.Logger
}

// WriterStats are a writer's counters since it was made.
type WriterStats struct {
	Rows, Batches, Retries atomic.Uint64
	// LastLatency is the duration of the last successful insert, in ns.
	LastLatency atomic.Int64
}

// Writer batches rows of one table by size and time and inserts each batch
// with [Insert] (deduplicated, so a retried batch never shows twice),
// retrying with backoff while ClickHouse fails. A row's committed callback
// runs only after its batch is committed: the place to ack its message.
type Writer[R Row] struct {
	conn  driver.Conn
	opts  WriterOptions
	in    chan item[R]
	stats WriterStats
}

type item[R Row] struct {
	row       R
	committed func()
}

// NewWriter returns a writer inserting through conn; start it with Run.
func NewWriter[R Row](conn driver.Conn, opts WriterOptions) *Writer[R] {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 10000
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(10*time.Second, opts.MinBackoff)
	}
	return &Writer[R]{conn: conn, opts: opts, in: make(chan item[R], opts.BatchSize)}
}

// Stats returns the writer's counters.
func (w *Writer[R]) Stats() *WriterStats { return &w.stats }

// Write queues row; committed (may be nil) runs once the row is stored.
// It blocks while the queue is full, which is the backpressure on the
// caller, and fails only when ctx is done.
func (w *Writer[R]) Write(ctx context.Context, row R, committed func()) error {
	select {
	case w.in <- item[R]{row, committed}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run inserts batches until ctx is done. Rows whose batch was not
// committed by then are dropped without their callbacks, to be redelivered.
// It returns ctx's error.
func (w *Writer[R]) Run(ctx context.Context) error {
	batch := make([]item[R], 0, w.opts.BatchSize)
	rows := make([]R, 0, w.opts.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() error {
		rows = rows[:0]
		for _, it := range batch {
			rows = append(rows, it.row)
		}
		if err := w.insert(ctx, rows); err != nil {
			return err
		}
		for _, it := range batch {
			if it.committed != nil {
				it.committed()
			}
		}
		batch = batch[:0]
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-w.in:
			if len(batch) == 0 {
				timer.Reset(w.opts.FlushInterval)
			}
			batch = append(batch, it)
			if len(batch) < w.opts.BatchSize {
				continue
			}
			timer.Stop()
		case <-timer.C:
		}
		if len(batch) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// insert stores rows, retrying with exponential backoff until it succeeds
// or ctx is done.
func (w *Writer[R]) insert(ctx context.Context, rows []R) error {
	backoff := w.opts.MinBackoff
	for {
		start := time.Now()
		err := Insert(ctx, w.conn, rows)
		if err == nil {
			w.stats.LastLatency.Store(int64(time.Since(start)))
			w.stats.Rows.Add(uint64(len(rows)))
			w.stats.Batches.Add(1)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if w.opts.Logger != nil {
			w.opts.Logger.Warn("insert failed, retrying", "rows", len(rows), "backoff", backoff, "error", err)
		}
		w.stats.Retries.Add(1)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, w.opts.MaxBackoff)
	}
}
