package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
)

// Service is the store stage: it consumes enriched events, findings and
// dead letters from JetStream and writes them to ClickHouse.
//
// Each stream has a durable pull consumer. Fetched messages are decoded
// into column batches of whole messages; a batch is inserted (deduplicated
// by its token, retried with backoff while ClickHouse is unavailable) and
// only then are its messages acknowledged, so JetStream holds the backlog
// through any outage. A record that cannot be decoded, and a row
// ClickHouse refuses for its data (found by splitting the refused batch),
// go to the deadletter table with the reason.
//
// Redelivery never shows a duplicate: a message delivered more than once
// may have been inserted by a writer that stopped before acknowledging
// it, so its rows are first looked up ([Existing]) and only those not yet
// stored are inserted. Rows reach the tables, and thus the rollups fed by
// materialized views, exactly once.
type Service struct {
	cfg    ServiceConfig
	pipes  []*pipe
	m      *metrics
	outage *bus.Outage // failing inserts
}

// Err reports that ClickHouse has been failing the writer's inserts (they
// are retried: JetStream holds the backlog), or nil while they succeed:
// for /healthz.
func (s *Service) Err() error { return s.outage.Err() }

// NewService declares the durable consumers and returns the stage; start
// it with Run.
func NewService(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	cfg.defaults()
	if cfg.Conn == nil || cfg.Bus == nil {
		return nil, errors.New("storage: service needs a ClickHouse connection and a bus")
	}
	s := &Service{cfg: cfg, m: newMetrics(cfg.Registerer), outage: &bus.Outage{Logger: cfg.Logger, Level: slog.LevelWarn,
		Failing: "clickhouse write failed, retrying", Recovered: "clickhouse takes writes again",
		Summary: "clickhouse fails inserts"}}
	for _, k := range []kind{kindEvents, kindFindings, kindDeadLetters} {
		cons, err := cfg.Bus.Consumer(ctx, bus.ConsumerConfig{
			Stream:        k.stream,
			Durable:       cfg.Consumer + "-" + k.name,
			Description:   "otsiem store: " + k.stream + " into ClickHouse " + k.table,
			AckWait:       cfg.AckWait,
			MaxAckPending: cfg.MaxAckPending,
		})
		if err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		s.pipes = append(s.pipes, &pipe{s: s, k: k, cons: cons})
	}
	return s, nil
}

// Run consumes and writes until ctx ends, then drains: it stops fetching,
// inserts and acknowledges what it holds (within DrainTimeout) and returns.
// It returns nil after a clean drain.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.pipes))
	for i, p := range s.pipes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.run(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// kind is one stream and the table it fills.
type kind struct {
	name, stream, table string
}

var (
	kindEvents      = kind{"events", bus.StreamEnriched, "events"}
	kindFindings    = kind{"findings", bus.StreamFindings, "finding_revisions"}
	kindDeadLetters = kind{"deadletter", bus.StreamDeadLetter, "deadletter"}
)

// Dead-letter reasons the store adds.
const (
	// ReasonUndecodable: a record on the enriched or findings stream that
	// is not the contract's JSON, or whose values ClickHouse cannot hold.
	ReasonUndecodable = "undecodable"
	// ReasonRejected: a row ClickHouse refused for its data.
	ReasonRejected = "rejected"
)

// SourceStore is the deadletter source of what the store dead-letters.
const SourceStore = "store"

// pipe moves one stream into its table.
type pipe struct {
	s    *Service
	k    kind
	cons *bus.Consumer

	// free holds committed sets for reuse: their columns keep their
	// capacity, which saves most of the cost of building the next batch.
	free chan *batchSet
}

// batchSet is what one insert round commits: the rows of whole messages,
// the dead letters they produced, and the messages to acknowledge after.
type batchSet struct {
	rows, suspect   *Batch // suspect: rows of redelivered messages
	dead, suspectDL *DeadLetters
	msgs            []*bus.Msg
	first           time.Time
	bytes           int
	last            *bus.Msg

	ev  *Events
	sev *Events
	fi  *Findings
	sfi *Findings
	dl  *DeadLetters
	sdl *DeadLetters
}

func (p *pipe) newSet() *batchSet {
	select {
	case b := <-p.free:
		return b
	default:
	}
	b := &batchSet{dead: NewDeadLetters(), suspectDL: NewDeadLetters()}
	switch p.k {
	case kindEvents:
		b.ev, b.sev = NewEvents(), NewEvents()
		b.rows, b.suspect = b.ev.Batch, b.sev.Batch
	case kindFindings:
		b.fi, b.sfi = NewFindings(), NewFindings()
		b.rows, b.suspect = b.fi.Batch, b.sfi.Batch
	default:
		b.dl, b.sdl = NewDeadLetters(), NewDeadLetters()
		b.rows, b.suspect = b.dl.Batch, b.sdl.Batch
	}
	return b
}

func (p *pipe) run(ctx context.Context) error {
	p.free = make(chan *batchSet, 1+p.s.cfg.Inserters)
	ready := make(chan *batchSet, 1)
	done := make(chan error, 1)
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		workers := 1
		if p.k == kindEvents {
			workers = p.s.cfg.Inserters
		}
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = p.commitLoop(ctx, dctx, ready)
			}()
		}
		wg.Wait()
		done <- errors.Join(errs...)
	}()
	go p.cons.KeepAlive(dctx)
	go p.trim(dctx)

	var cur *batchSet
	var ev event.Event
	var fi event.Finding
	hand := func() {
		if cur != nil && len(cur.msgs) > 0 {
			ready <- cur
		}
		cur = nil
	}
	for ctx.Err() == nil {
		if cur == nil {
			cur = p.newSet()
		}
		wait := p.s.cfg.FlushInterval
		if len(cur.msgs) > 0 {
			wait = time.Until(cur.first.Add(p.s.cfg.FlushInterval))
		}
		if wait > 0 {
			err := p.cons.Fetch(256, max(wait, 10*time.Millisecond), func(msg *bus.Msg) {
				if len(cur.msgs) == 0 {
					cur.first = time.Now()
				}
				p.add(cur, msg, &ev, &fi)
				if cur.rows.Len()+cur.suspect.Len() >= p.s.cfg.BatchRows || cur.bytes >= p.maxSetBytes() {
					hand()
					cur = p.newSet()
				}
			})
			if err != nil && ctx.Err() == nil {
				p.s.cfg.Logger.Warn("fetch", "stream", p.k.stream, "err", err)
				sleepCtx(ctx, p.s.cfg.MinBackoff)
			}
		}
		if len(cur.msgs) > 0 && time.Since(cur.first) >= p.s.cfg.FlushInterval {
			hand()
		}
	}
	hand()
	close(ready)
	err := <-done
	// What the drain committed goes from the stream now, not at the next
	// start.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, terr := p.s.cfg.Bus.Trim(tctx, p.k.stream, 0); terr != nil {
		p.s.cfg.Logger.Warn("trim", "stream", p.k.stream, "err", terr)
	}
	return err
}

// maxSetBytes is how many message bytes one set may hold: the fetcher
// holds at most one set, the ready queue one, each inserter one.
func (p *pipe) maxSetBytes() int {
	n := 3
	if p.k == kindEvents {
		n += p.s.cfg.Inserters - 1
	}
	return int(p.s.cfg.MaxHeldBytes) / n
}

// recycle empties a released set and keeps it for reuse.
func (p *pipe) recycle(b *batchSet) {
	for _, x := range []*Batch{b.rows, b.suspect, b.dead.Batch, b.suspectDL.Batch} {
		x.Reset()
	}
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	b.bytes, b.last = 0, nil
	select {
	case p.free <- b:
	default:
	}
}

// trim removes from the stream, when due, what every consumer has
// acknowledged (see bus.Trimmer): ClickHouse holds it now.
func (p *pipe) trim(ctx context.Context) {
	tr := bus.Trimmer{Bus: p.s.cfg.Bus, Stream: p.k.stream, Logger: p.s.cfg.Logger}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = tr.Trim(ctx, 0) // a failure is logged, and tried again when due
	}
}

// add decodes one message into the set: its rows into rows (or suspect,
// when it is a redelivery), undecodable records into the dead letters.
func (p *pipe) add(b *batchSet, msg *bus.Msg, ev *event.Event, fi *event.Finding) {
	redelivered := msg.Delivered() > 1
	seq := msg.Seq()
	b.last = msg
	b.msgs = append(b.msgs, msg)
	data := msg.Data()
	b.bytes += len(data)
	dead := b.dead
	if redelivered {
		p.s.m.redelivered.WithLabelValues(p.k.name).Inc()
		dead = b.suspectDL
	}
	undecodable := func(i int, rec []byte, err error) {
		dead.Add(&DeadLetter{ID: fmt.Sprintf("%s:%s:%d:%d", SourceStore, p.k.stream, seq, i), ReceivedAt: time.Now().UTC(),
			Source: SourceStore, Reason: ReasonUndecodable, Error: err.Error(), Raw: rec})
	}
	switch p.k {
	case kindEvents:
		dst := b.ev
		if redelivered {
			dst = b.sev
		}
		i := 0
		_ = msg.Records(func(rec []byte) error {
			if err := event.Decode(rec, ev); err != nil {
				undecodable(i, rec, err)
			} else {
				key := ev.ID.String()
				if key == "" { // no id from the producer: stable per stream position
					key = fmt.Sprintf("%s:%d:%d", p.k.stream, seq, i)
				}
				if err := dst.Add(ev, key); err != nil {
					undecodable(i, rec, err)
				} else {
					dst.raws = append(dst.raws, rec)
				}
			}
			i++
			return nil
		})
	case kindFindings:
		dst := b.fi
		if redelivered {
			dst = b.sfi
		}
		i := 0
		_ = msg.Records(func(rec []byte) error {
			if err := event.DecodeFinding(rec, fi); err != nil {
				undecodable(i, rec, err)
			} else if err := dst.Add(fi); err != nil {
				undecodable(i, rec, err)
			} else {
				dst.raws = append(dst.raws, rec)
			}
			i++
			return nil
		})
	default:
		dst := b.dl
		if redelivered {
			dst = b.sdl
		}
		dst.Add(deadLetterFromMsg(msg, p.k.stream, seq))
		dst.raws = append(dst.raws, data)
	}
}

// deadLetterFromMsg reads an ingest dead letter into its row; a message
// published without an id is keyed by its stream position.
func deadLetterFromMsg(msg *bus.Msg, stream string, seq uint64) *DeadLetter {
	d := bus.ReadDeadLetter(msg)
	if d.ID == "" {
		d.ID = fmt.Sprintf("%s:%d", stream, seq)
	}
	return &DeadLetter{ID: d.ID, ReceivedAt: d.Received, Site: d.Site, Source: d.Listener, Sender: d.Sender.Addr(),
		Reason: d.Reason, Raw: d.Data}
}

// commitLoop commits sets in order: inserts, then acknowledges. After ctx
// ends it keeps committing what the fetcher hands over, under dctx, for at
// most DrainTimeout.
func (p *pipe) commitLoop(ctx, dctx context.Context, ready <-chan *batchSet) error {
	cctx, cancel := context.WithCancel(dctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(p.s.cfg.DrainTimeout, cancel) })
	defer stop()
	var err error
	for b := range ready {
		if err == nil {
			err = p.commit(cctx, b)
		}
		p.recycle(b)
	}
	if err != nil && cctx.Err() != nil && ctx.Err() != nil {
		// Stopped while ClickHouse was failing: what is not acknowledged
		// is redelivered to the next writer.
		p.s.cfg.Logger.Warn("stopped with unacknowledged messages; they will be redelivered", "stream", p.k.stream, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %s: %w", p.k.name, err)
	}
	return nil
}

// commit stores a set and acknowledges its messages.
func (p *pipe) commit(ctx context.Context, b *batchSet) error {
	start := time.Now()
	rows := b.rows.Len()
	if b.suspect.Len() > 0 || b.suspectDL.Len() > 0 {
		n, err := p.insertNew(ctx, b.suspect, b.suspectDL)
		if err != nil {
			return err
		}
		rows += n
	}
	deadBefore := b.dead.Len()
	if err := p.insertIsolating(ctx, b.rows, b.dead); err != nil {
		return err
	}
	rows -= b.dead.Len() - deadBefore // refused rows
	if err := p.insertRetrying(ctx, b.dead.Batch); err != nil {
		return err
	}
	for _, m := range b.msgs {
		_ = m.Ack()
	}
	m := p.s.m
	m.rows.WithLabelValues(p.k.table).Add(float64(rows))
	m.bytes.WithLabelValues(p.k.table).Add(float64(b.bytes))
	m.batchRows.WithLabelValues(p.k.table).Observe(float64(rows))
	m.commitLatency.WithLabelValues(p.k.table).Observe(time.Since(start).Seconds())
	if b.last != nil {
		m.pending.WithLabelValues(p.k.stream).Set(float64(b.last.Pending()))
		m.lag.WithLabelValues(p.k.stream).Set(time.Since(b.last.Stored()).Seconds())
	}
	for r, n := range countReasons(b.dead) {
		m.deadLetters.WithLabelValues(r).Add(float64(n))
	}
	return nil
}

func countReasons(d *DeadLetters) map[string]int {
	out := map[string]int{}
	for _, r := range d.reason {
		out[r]++
	}
	return out
}

// insertNew inserts the rows and dead letters of redelivered messages that
// are not stored yet, and returns how many rows it inserted.
func (p *pipe) insertNew(ctx context.Context, rows *Batch, dead *DeadLetters) (int, error) {
	var n int
	for _, b := range []*Batch{rows, dead.Batch} {
		if b.Len() == 0 {
			continue
		}
		var found map[string]bool
		if err := p.retry(ctx, b.table, func() (err error) {
			found, err = Existing(ctx, p.s.cfg.Conn, b)
			return err
		}); err != nil {
			return n, err
		}
		var idx []int
		for i := range b.Len() {
			if !found[b.Key(i)] {
				idx = append(idx, i)
			}
		}
		p.s.m.duplicates.WithLabelValues(b.table).Add(float64(b.Len() - len(idx)))
		if len(idx) == 0 {
			continue
		}
		fresh := b.pick(idx)
		if b == dead.Batch {
			if err := p.insertRetrying(ctx, fresh); err != nil {
				return n, err
			}
			continue
		}
		dl := NewDeadLetters()
		if err := p.insertIsolating(ctx, fresh, dl); err != nil {
			return n, err
		}
		if err := p.insertRetrying(ctx, dl.Batch); err != nil {
			return n, err
		}
		n += fresh.Len() - dl.Len()
	}
	return n, nil
}

// insertIsolating inserts b; when ClickHouse refuses it for its data, it
// splits it in halves until the refused rows are alone, and adds those to
// dead instead.
func (p *pipe) insertIsolating(ctx context.Context, b *Batch, dead *DeadLetters) error {
	if b.Len() == 0 {
		return nil
	}
	err := p.retry(ctx, b.table, func() error {
		start := time.Now()
		err := Insert(ctx, p.s.cfg.Conn, b)
		if err == nil {
			p.s.m.insertLatency.WithLabelValues(b.table).Observe(time.Since(start).Seconds())
		}
		return err
	})
	if err == nil || !IsDataError(err) {
		return err
	}
	if b.Len() == 1 {
		var raw []byte
		if len(b.raws) == 1 {
			raw = b.raws[0]
		}
		dead.Add(&DeadLetter{ID: SourceStore + ":" + b.table + ":" + b.Key(0), ReceivedAt: time.Now().UTC(),
			Source: SourceStore, Reason: ReasonRejected, Error: err.Error(), Raw: raw})
		p.s.cfg.Logger.Warn("row refused by ClickHouse, dead-lettered", "table", b.table, "key", b.Key(0), "err", err)
		return nil
	}
	idx := make([]int, b.Len())
	for i := range idx {
		idx[i] = i
	}
	h := len(idx) / 2
	if err := p.insertIsolating(ctx, b.pick(idx[:h]), dead); err != nil {
		return err
	}
	return p.insertIsolating(ctx, b.pick(idx[h:]), dead)
}

// insertRetrying inserts b, retrying every failure (dead letters are
// plain strings: nothing in them is refused for its data).
func (p *pipe) insertRetrying(ctx context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	return p.retry(ctx, b.table, func() error {
		err := Insert(ctx, p.s.cfg.Conn, b)
		if IsDataError(err) {
			return &retryable{err}
		}
		return err
	})
}

type retryable struct{ error }

func (r *retryable) Unwrap() error { return r.error }

// retry runs f until it succeeds, fails with a data error (returned at
// once), or ctx ends; other failures (ClickHouse unreachable, overloaded)
// are retried with exponential backoff.
func (p *pipe) retry(ctx context.Context, table string, f func() error) error {
	backoff := p.s.cfg.MinBackoff
	for {
		err := f()
		var r *retryable
		if err == nil || (IsDataError(err) && !errors.As(err, &r)) {
			p.s.outage.Succeeded()
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.s.m.retries.WithLabelValues(table).Inc()
		p.s.outage.Failed(err, "table", table, "backoff", backoff)
		if !sleepCtx(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, p.s.cfg.MaxBackoff)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dataErrorCodes are ClickHouse error codes that mean the rows themselves
// are wrong: retrying them cannot help, splitting the batch can.
var dataErrorCodes = map[int32]bool{
	6: true, 27: true, 38: true, 41: true, 53: true, 69: true, 70: true, 72: true, 117: true, 131: true,
	321: true, 407: true, 469: true, // 469: VIOLATED_CONSTRAINT
}

var codeRE = regexp.MustCompile(`Code: (\d+)\.`)

// IsDataError reports whether err is ClickHouse (or clickhouse-go)
// refusing rows for their content, as opposed to being unavailable.
func IsDataError(err error) bool {
	if err == nil {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return dataErrorCodes[ex.Code]
	}
	var ce *chcolumn.ColumnConverterError
	if errors.As(err, &ce) {
		return true
	}
	if m := codeRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return dataErrorCodes[int32(n)]
	}
	return false
}

// metrics are the store stage's metrics; labels come from fixed sets
// (table, stream, reason).
type metrics struct {
	rows, bytes, retries, duplicates, redelivered, deadLetters *prometheus.CounterVec
	batchRows, insertLatency, commitLatency                    *prometheus.HistogramVec
	pending, lag                                               *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_rows_written_total",
			Help: "Rows committed to ClickHouse, per table."}, []string{"table"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_bytes_written_total",
			Help: "Bytes of JetStream messages committed to ClickHouse, per table."}, []string{"table"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_insert_retries_total",
			Help: "Failed ClickHouse writes that were retried, per table."}, []string{"table"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_duplicate_rows_total",
			Help: "Rows of redelivered messages found already stored and not inserted again."}, []string{"table"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_redelivered_messages_total",
			Help: "JetStream messages delivered more than once, per consumer."}, []string{"consumer"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_store_dead_letters_total",
			Help: "Records the store dead-lettered, by reason (undecodable, rejected)."}, []string{"reason"}),
		batchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "otsiem_store_batch_rows",
			Help: "Rows per committed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}, []string{"table"}),
		insertLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "otsiem_store_insert_latency_seconds",
			Help: "Duration of successful ClickHouse inserts.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}, []string{"table"}),
		commitLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "otsiem_store_commit_latency_seconds",
			Help:    "Duration from the start of a batch's inserts to its acknowledgement, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}, []string{"table"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "otsiem_store_consumer_pending_messages",
			Help: "Messages in the stream not yet delivered to the store's consumer."}, []string{"stream"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "otsiem_store_lag_seconds",
			Help: "Age of the newest committed message when it was committed."}, []string{"stream"}),
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.bytes, m.retries, m.duplicates, m.redelivered, m.deadLetters,
			m.batchRows, m.insertLatency, m.commitLatency, m.pending, m.lag)
	}
	return m
}
