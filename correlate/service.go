package correlate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// Service runs the correlator against NATS JetStream, in two stages:
//
//  1. Verdicts: every process pulls from one shared durable consumer on
//     OTSIEM_EVENTS, splits each batch message, judges every event and
//     republishes them (batched, one message per verdict) to
//     otsiem.enriched.<site>.<verdict>, with Msg-Id "<input id>/<verdict>";
//     it acks the input only after JetStream acknowledged every output.
//  2. Findings: stateful, so it runs in exactly one process at a time,
//     the holder of a lease in the KV bucket OTSIEM_CORRELATE_LEASE. It
//     reads OTSIEM_EVENTS in stream order from its saved position (an
//     ordered consumer), runs the Engine and publishes each finding
//     revision to otsiem.findings.<severity> with Msg-Id
//     "<finding_id>/<revision>". Every SnapshotEvery it waits for those
//     acknowledgements and saves the engine state with the last stream
//     sequence in the object store OTSIEM_CORRELATE_STATE. After a crash
//     the next holder restores that snapshot and replays the events after
//     it: the Engine is deterministic in stream order, so the replay
//     yields the same finding ids and revisions, which JetStream
//     deduplicates (and storage keys by finding_id and revision): no
//     finding is lost or doubled. While it has processed every event it
//     ticks the engine with the wall clock (see Tick and Engine.Tick).
type Service struct {
	cfg      ServiceConfig
	model    *rules.Holder
	m        *metrics
	log      *slog.Logger
	pub      *bus.Publisher
	verdicts *bus.Consumer
	lease    *bus.Lease // of the findings stage
	state    *bus.Blobs // the findings stage's saved state

	failMu     sync.Mutex
	fails      map[string]error // by stage: failed, no progress since
	failing    atomic.Int32     // len(fails)
	failLogged time.Time
}

// Bucket names.
const (
	LeaseBucket = "OTSIEM_CORRELATE_LEASE"
	StateBucket = "OTSIEM_CORRELATE_STATE"
)

// New prepares a service; Run starts it.
func New(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	if cfg.Models == nil && cfg.Model != nil {
		cfg.Models = rules.NewHolder(cfg.Model)
	}
	if cfg.Bus == nil || cfg.Models == nil || cfg.Models.Load() == nil {
		return nil, errors.New("correlate: service needs a bus and a model")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	def := DefaultServiceConfig()
	if cfg.Consumer == "" {
		cfg.Consumer = def.Consumer
	}
	if cfg.Instance == "" {
		cfg.Instance = bus.NewInstance()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = def.LeaseTTL
	}
	if cfg.SnapshotEvery <= 0 || cfg.SnapshotEvery > cfg.LeaseTTL/3 {
		cfg.SnapshotEvery = cfg.LeaseTTL / 3 // saving renews the lease
	}
	if cfg.FetchBatch <= 0 {
		cfg.FetchBatch = def.FetchBatch
	}
	if cfg.Tick == 0 {
		cfg.Tick = def.Tick
	}
	if cfg.TickSlack <= 0 {
		cfg.TickSlack = def.TickSlack
	}
	s := &Service{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.model = cfg.Models
	var err error
	if s.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if s.verdicts, err = cfg.Bus.Consumer(ctx, bus.ConsumerConfig{Stream: bus.StreamEvents, Durable: cfg.Consumer,
		AckWait: 30 * time.Second, MaxAckPending: 64}); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	if s.lease, err = cfg.Bus.Lease(ctx, LeaseBucket, "findings", cfg.Instance, cfg.LeaseTTL); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	if s.state, err = cfg.Bus.Blobs(ctx, StateBucket); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	if s.pub, err = cfg.Bus.NewPublisher(bus.PublisherConfig{Stage: "correlate", Registerer: cfg.Registerer, Logger: s.log}); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	return s, nil
}

// Err reports why JetStream refuses the correlator's writes (a stream at
// its bound only degrades: bus.Refusals.Err), and why a stage failed and
// has not made progress since its restart; nil while both stages work:
// for /healthz.
func (s *Service) Err() error {
	refused := s.pub.Err()
	if s.failing.Load() == 0 {
		return refused
	}
	s.failMu.Lock()
	defer s.failMu.Unlock()
	errs := []error{refused}
	for _, stage := range []string{"verdicts", "findings"} {
		if err := s.fails[stage]; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// restartMax bounds the wait before a failed stage is started again.
var restartMax = 30 * time.Second

// supervise runs a stage until ctx ends, starting it again after a
// failure (JetStream away or restarted, its disk full, a state that cannot
// be saved): the correlator never stops for good while the process runs.
// A failure is counted (otsiem_correlate_stage_restarts_total), logged at
// most once a minute, and reported by Err until the stage makes progress
// again; the restart waits 1 s, doubling up to restartMax while it keeps
// failing. Unacknowledged input is redelivered, and a findings stage
// resumes from its saved state, so a restart loses and doubles nothing.
func (s *Service) supervise(ctx context.Context, stage string, run func(context.Context) error) error {
	wait := time.Second
	for {
		started := time.Now()
		err := run(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			err = errors.New("stopped")
		}
		if time.Since(started) > restartMax {
			wait = time.Second
		}
		s.m.restarts.WithLabelValues(stage).Inc()
		s.failMu.Lock()
		if s.fails == nil {
			s.fails = map[string]error{}
		}
		if s.fails[stage] == nil {
			s.failing.Add(1)
		}
		s.fails[stage] = fmt.Errorf("correlate: %s stage failed at %s, restarting: %w", stage, time.Now().UTC().Format(time.RFC3339), err)
		if time.Since(s.failLogged) >= time.Minute {
			s.log.Error("correlate stage failed; starting it again", "stage", stage, "retry_in", wait.String(), "err", err)
			s.failLogged = time.Now()
		}
		s.failMu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, restartMax)
	}
}

// progressed records that a stage did its work: its failure is over.
func (s *Service) progressed(stage string) {
	if s.failing.Load() == 0 {
		return
	}
	s.failMu.Lock()
	if s.fails[stage] != nil {
		delete(s.fails, stage)
		s.failing.Add(-1)
	}
	s.failMu.Unlock()
}

// SetModel stores m in the service's model holder (ServiceConfig.Models):
// both stages use it from their next message on, and the findings state
// is kept.
func (s *Service) SetModel(m *rules.Model) { s.model.Store(m) }

// Run runs both stages until ctx ends or one fails.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- s.supervise(ctx, "verdicts", s.runVerdicts) }()
	go func() { errc <- s.supervise(ctx, "findings", s.runFindings) }()
	err := <-errc
	cancel()
	if err2 := <-errc; err == nil {
		err = err2
	}
	// What is still unacknowledged is not lost: its input is redelivered,
	// or replayed from the saved findings state, at the next start.
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = s.pub.Close(cctx)
	ccancel()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close releases nothing today: the bus belongs to the caller. It exists
// so the lead can wire the service like the other stages.
func (s *Service) Close() error { return nil }

// runVerdicts is stage 1.
func (s *Service) runVerdicts(ctx context.Context) error {
	type out struct {
		buf []byte
		n   int
	}
	outs := map[string]*out{}
	var ev event.Event
	var sent bus.Tracker
	var msgs []*bus.Msg
	conns := NewConnections(0) // what this process saw opened; see Connections
	for ctx.Err() == nil {
		msgs = msgs[:0]
		m := s.model.Load()
		var perr error
		err := s.verdicts.Fetch(s.cfg.FetchBatch, fetchWait, func(msg *bus.Msg) {
			msgs = append(msgs, msg)
			if perr != nil {
				return
			}
			start := time.Now()
			clear(outs)
			rest := len(msg.Data()) // input bytes from the current record on
			_ = msg.Records(func(rec []byte) error {
				size := rest
				rest -= len(rec) + 1
				if err := event.Decode(rec, &ev); err != nil {
					s.m.undecodable.Inc()
					return nil
				}
				conns.Orient(&ev)
				j := Enrich(m, &ev)
				s.m.verdict(j, ev.Conduit)
				subj := bus.EnrichedSubject(ev.Site, string(j.Verdict))
				o := outs[subj]
				if o == nil {
					// Room for the rest of the input and the verdict
					// fields, so that the buffer is seldom regrown.
					o = &out{buf: make([]byte, 0, size+size/4)}
					outs[subj] = o
				}
				o.buf = ev.AppendJSON(o.buf)
				o.buf = append(o.buf, '\n')
				o.n++
				return nil
			})
			for subj, o := range outs {
				if err := s.pub.PublishBatch(ctx, subj, bus.EnrichedMsgID(msg, subj), o.buf, o.n, &sent); err != nil {
					perr = fmt.Errorf("correlate: publish enriched: %w", err)
					return
				}
			}
			s.m.latency.Observe(time.Since(start).Seconds())
		})
		if perr != nil {
			return perr // the fetched messages are redelivered after AckWait
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("correlate: fetch", "err", err)
			}
			if len(msgs) == 0 {
				continue
			}
		}
		// A fetch that worked is progress, even an empty one: a stage
		// restarted while the plant is quiet is healthy again.
		if err := sent.Wait(ctx); err != nil {
			return err
		}
		for _, msg := range msgs {
			if err := msg.Ack(); err != nil {
				s.log.Warn("correlate: ack", "err", err)
			}
		}
		s.progressed("verdicts")
		if n, err := s.verdicts.Pending(ctx); err == nil {
			s.m.lag.WithLabelValues("verdicts").Set(float64(n))
		}
	}
	return ctx.Err()
}

// state is what the findings stage saves.
type state struct {
	Seq    uint64 `json:"seq"`
	Engine []byte `json:"engine"`
}

// runFindings is stage 2: wait for the lease, then run until ctx ends or
// the lease is lost (and then wait for it again).
func (s *Service) runFindings(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer tick.Stop()
	for {
		err := s.lease.Take(ctx)
		if err == nil {
			s.m.leader.Set(1)
			err = s.lead(ctx)
			s.m.leader.Set(0)
			if ctx.Err() != nil {
				s.lease.Release() // hand the lease over at once
				return ctx.Err()
			}
			if err != nil && !errors.Is(err, errLeaseLost) {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

var errLeaseLost = errors.New("correlate: findings lease lost")

// lead runs the findings stage while holding the lease.
func (s *Service) lead(ctx context.Context) error {
	var sent bus.Tracker
	var publishErr error
	pctx := ctx // what publishing waits with; the final drain's at stop
	eng := NewEngine(s.model.Load(), s.cfg.Engine, func(f *event.Finding) {
		if f.Revision == 1 {
			s.m.findings.WithLabelValues(f.Type, string(f.Severity)).Inc()
		}
		err := s.pub.PublishBatch(pctx, bus.FindingsSubject(string(f.Severity)), bus.FindingMsgID(f.FindingID, f.Revision), f.AppendJSON(nil), 1, &sent)
		if err != nil && publishErr == nil {
			publishErr = fmt.Errorf("correlate: publish finding: %w", err)
		}
	})
	var st state
	if b, err := s.state.Get(ctx, "findings"); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("correlate: state: %w", err)
		}
		if err := eng.Restore(st.Engine); err != nil {
			return err
		}
	} else if !errors.Is(err, bus.ErrNoBlob) {
		return fmt.Errorf("correlate: state: %w", err)
	}
	var start uint64
	if st.Seq > 0 {
		start = st.Seq + 1
	}
	cons, err := s.cfg.Bus.Consumer(ctx, bus.ConsumerConfig{Stream: bus.StreamEvents, StartSeq: start})
	if err != nil {
		return fmt.Errorf("correlate: findings consumer: %w", err)
	}
	trim := bus.Trimmer{Bus: s.cfg.Bus, Stream: bus.StreamEvents, Logger: s.log}
	save := func(ctx context.Context) error {
		if err := sent.Wait(ctx); err != nil {
			return err
		}
		snap, err := eng.Snapshot()
		if err != nil {
			return err
		}
		// Renew the lease first: only the holder may save.
		if err := s.lease.Renew(ctx); err != nil {
			return errLeaseLost
		}
		b, err := json.Marshal(state{Seq: st.Seq, Engine: snap})
		if err != nil {
			return err
		}
		if err := s.state.Put(ctx, "findings", b); err != nil {
			return fmt.Errorf("correlate: save state: %w", err)
		}
		// The events before the saved position are judged and in the
		// state: drop them once the verdict stage acknowledged them too.
		_, _ = trim.Trim(ctx, st.Seq+1) // a failure is logged, and tried again when due
		s.progressed("findings")
		stats := eng.Stats()
		s.m.state.WithLabelValues("folds").Set(float64(stats.Folds))
		s.m.state.WithLabelValues("scan_sources").Set(float64(stats.ScanSources))
		s.m.state.WithLabelValues("pairs").Set(float64(stats.Pairs))
		s.m.state.WithLabelValues("diodes").Set(float64(stats.Diodes))
		return nil
	}
	last, lastTick := time.Now(), time.Time{}
	var ev event.Event
	for ctx.Err() == nil {
		// Caught up: the fetch worked and left nothing pending.
		caughtUp := true
		err := cons.Fetch(s.cfg.FetchBatch, fetchWait, func(msg *bus.Msg) {
			if publishErr != nil {
				return // not processed: replayed from the saved state
			}
			eng.SetModel(s.model.Load())
			_ = msg.Records(func(rec []byte) error {
				// The engine never reads the message: skip unescaping it.
				if event.DecodeNoMessage(rec, &ev) == nil {
					eng.Process(&ev)
				}
				return nil
			})
			if seq := msg.Seq(); seq > 0 {
				st.Seq = seq
				s.m.lag.WithLabelValues("findings").Set(float64(msg.Pending()))
				caughtUp = msg.Pending() == 0
			}
		})
		if publishErr != nil {
			return publishErr
		}
		if err != nil {
			caughtUp = false
			if ctx.Err() == nil {
				s.log.Warn("correlate: findings fetch", "err", err)
			}
		}
		if s.cfg.Tick > 0 && caughtUp && time.Since(lastTick) >= s.cfg.Tick {
			eng.SetModel(s.model.Load())
			eng.Tick(time.Now().Add(-s.cfg.TickSlack))
			lastTick = time.Now()
			if publishErr != nil {
				return publishErr
			}
		}
		if time.Since(last) >= s.cfg.SnapshotEvery || sent.Pending() > 4096 {
			if err := save(ctx); err != nil {
				return err
			}
			last = time.Now()
		}
	}
	// Stopping: publish every finding that changed since its last
	// publication, so that the store holds each as it stands, and save the
	// state that includes it.
	if publishErr == nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		pctx = sctx
		eng.Drain()
		if err := save(sctx); err != nil {
			s.log.Warn("correlate: saving the findings state at stop", "err", err)
		}
	}
	return ctx.Err()
}

// fetchWait bounds how long a fetch waits for a full batch: under load
// batches fill at once; when traffic is light it is the latency a lone
// event adds at each stage.
const fetchWait = 100 * time.Millisecond
