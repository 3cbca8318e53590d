package correlate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/prometheus/client_golang/prometheus"
)

// ServiceConfig configures a Service.
type ServiceConfig struct {
	Bus    *bus.Bus     // connected, streams declared
	Model  *rules.Model // the model to start with (see SetModel)
	Engine Config

	// Consumer is the durable consumer on OTSIEM_EVENTS that every
	// correlator process shares for verdicts (default "otsiem-correlate").
	Consumer string
	// Instance names this process in the findings lease (default: a
	// random id).
	Instance string
	// LeaseTTL: the findings stage runs in one process at a time, the
	// holder of a lease it renews every LeaseTTL/3 (default 10s).
	LeaseTTL time.Duration
	// SnapshotEvery: how often the findings stage saves its state and
	// stream position and renews its lease (default and at most LeaseTTL/3).
	SnapshotEvery time.Duration
	// FetchBatch is how many event messages (each a batch of up to 256
	// events) a fetch takes (default 16).
	FetchBatch int
	// Tick: while the findings stage has processed every event, it moves
	// the engine's time to the wall clock (less TickSlack, the most an
	// event takes from a collector to this stage) this often, so that a
	// diode going silent while nothing else is logged is down within its
	// timeout plus one tick (default 1s; negative: never, as offline).
	Tick      time.Duration
	TickSlack time.Duration // default 2s

	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

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
	cfg     ServiceConfig
	js      jetstream.JetStream
	model   atomic.Pointer[rules.Model]
	m       *metrics
	log     *slog.Logger
	refused *bus.Refusals

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
	if cfg.Bus == nil || cfg.Model == nil {
		return nil, errors.New("correlate: service needs a bus and a model")
	}
	if err := cfg.Engine.Validate(); err != nil {
		return nil, err
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "otsiem-correlate"
	}
	if cfg.Instance == "" {
		cfg.Instance = nats.NewInbox()[7:]
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10 * time.Second
	}
	if cfg.SnapshotEvery <= 0 || cfg.SnapshotEvery > cfg.LeaseTTL/3 {
		cfg.SnapshotEvery = cfg.LeaseTTL / 3 // saving renews the lease
	}
	if cfg.FetchBatch <= 0 {
		cfg.FetchBatch = 16
	}
	if cfg.Tick == 0 {
		cfg.Tick = time.Second
	}
	if cfg.TickSlack <= 0 {
		cfg.TickSlack = 2 * time.Second
	}
	s := &Service{cfg: cfg, js: cfg.Bus.JS, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.model.Store(cfg.Model)
	var err error
	if s.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if s.refused, err = bus.NewRefusals("correlate", cfg.Registerer, s.log); err != nil {
		return nil, err
	}
	if _, err := s.js.CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{
		Durable: cfg.Consumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxAckPending: 64, FilterSubject: bus.SubjectEvents + ".>",
	}); err != nil {
		return nil, fmt.Errorf("correlate: consumer: %w", err)
	}
	if _, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LeaseBucket, TTL: cfg.LeaseTTL, History: 1, Replicas: cfg.Bus.Replicas()}); err != nil {
		return nil, fmt.Errorf("correlate: lease bucket: %w", err)
	}
	if _, err := s.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: StateBucket, Replicas: cfg.Bus.Replicas()}); err != nil {
		return nil, fmt.Errorf("correlate: state bucket: %w", err)
	}
	return s, nil
}

// Err reports why JetStream refuses the correlator's writes (a stream at
// its bound only degrades: bus.Refusals.Err), and why a stage failed and
// has not made progress since its restart; nil while both stages work:
// for /healthz.
func (s *Service) Err() error {
	refused := s.refused.Err()
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

// SetModel swaps the model atomically; both stages use it from their next
// message on, and the findings state is kept.
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
	cons, err := s.js.Consumer(ctx, bus.StreamEvents, s.cfg.Consumer)
	if err != nil {
		return fmt.Errorf("correlate: consumer: %w", err)
	}
	type out struct {
		buf []byte
		n   int
	}
	outs := map[string]*out{}
	var ev event.Event
	conns := NewConnections(0) // what this process saw opened; see Connections
	for ctx.Err() == nil {
		batch, err := cons.Fetch(s.cfg.FetchBatch, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("correlate: fetch", "err", err)
			continue
		}
		var msgs []jetstream.Msg
		var futures []jetstream.PubAckFuture
		m := s.model.Load()
		for msg := range batch.Messages() {
			start := time.Now()
			msgs = append(msgs, msg)
			clear(outs)
			rest := len(msg.Data()) // input bytes from the current record on
			_ = bus.SplitRecords(msg.Data(), func(rec []byte) error {
				size := rest
				rest -= len(rec) + 1
				if err := event.Decode(rec, &ev); err != nil {
					s.m.undecodable.Inc()
					return nil
				}
				conns.Orient(&ev)
				j := Enrich(m, &ev)
				s.m.verdict(j, ev.Conduit)
				subj := bus.SubjectEnriched + "." + bus.Token(ev.Site) + "." + verdictToken(j.Verdict)
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
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if id == "" {
				if md, err := msg.Metadata(); err == nil {
					id = "seq" + strconv.FormatUint(md.Sequence.Stream, 10)
				}
			}
			for subj, o := range outs {
				pm := &nats.Msg{Subject: subj, Data: o.buf, Header: nats.Header{}}
				pm.Header.Set(bus.HeaderCount, strconv.Itoa(o.n))
				pm.Header.Set(bus.HeaderContentType, bus.ContentNDJSON)
				pm.Header.Set(jetstream.MsgIDHeader, id+"/"+subj[len(bus.SubjectEnriched)+1:])
				f, err := s.js.PublishMsgAsync(pm)
				if err != nil {
					return fmt.Errorf("correlate: publish enriched: %w", err)
				}
				futures = append(futures, f)
			}
			s.m.latency.Observe(time.Since(start).Seconds())
		}
		if err := s.awaitAll(ctx, futures); err != nil {
			return err
		}
		for _, msg := range msgs {
			if err := msg.Ack(); err != nil {
				s.log.Warn("correlate: ack", "err", err)
			}
		}
		s.progressed("verdicts")
		if info, err := cons.Info(ctx); err == nil {
			s.m.lag.WithLabelValues("verdicts").Set(float64(info.NumPending))
		}
	}
	return ctx.Err()
}

func verdictToken(v Verdict) string {
	if v == None {
		return "none"
	}
	return string(v)
}

// awaitAll waits for every acknowledgement, republishing (same Msg-Id, so
// deduplicated) what failed until it is accepted.
func (s *Service) awaitAll(ctx context.Context, fs []jetstream.PubAckFuture) error {
	for _, f := range fs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			// Refused (a full stream, JetStream away): retry with the same
			// id, backing off; counted, logged at most once a minute.
			wait := 50 * time.Millisecond
			for {
				s.refused.Refused(f.Msg().Subject, err)
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err = s.js.PublishMsg(pctx, f.Msg())
				cancel()
				if err == nil {
					s.refused.Accepted()
					break
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
				wait = min(2*wait, time.Second)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// state is what the findings stage saves.
type state struct {
	Seq    uint64 `json:"seq"`
	Engine []byte `json:"engine"`
}

// runFindings is stage 2: wait for the lease, then run until ctx ends or
// the lease is lost (and then wait for it again).
func (s *Service) runFindings(ctx context.Context) error {
	kv, err := s.js.KeyValue(ctx, LeaseBucket)
	if err != nil {
		return fmt.Errorf("correlate: lease: %w", err)
	}
	tick := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer tick.Stop()
	for {
		rev, err := kv.Create(ctx, "findings", []byte(s.cfg.Instance))
		if err == nil {
			s.m.leader.Set(1)
			err = s.lead(ctx, kv, rev)
			s.m.leader.Set(0)
			if ctx.Err() != nil {
				// Hand the lease over at once.
				_ = kv.Delete(context.Background(), "findings", jetstream.LastRevision(rev))
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
func (s *Service) lead(ctx context.Context, kv jetstream.KeyValue, rev uint64) error {
	obs, err := s.js.ObjectStore(ctx, StateBucket)
	if err != nil {
		return fmt.Errorf("correlate: state: %w", err)
	}
	var futures []jetstream.PubAckFuture
	var publishErr error
	eng := NewEngine(s.model.Load(), s.cfg.Engine, func(f *event.Finding) {
		if f.Revision == 1 {
			s.m.findings.WithLabelValues(f.Type, string(f.Severity)).Inc()
		}
		pm := &nats.Msg{Subject: bus.SubjectFindings + "." + bus.Token(string(f.Severity)), Data: f.AppendJSON(nil), Header: nats.Header{}}
		pm.Header.Set(jetstream.MsgIDHeader, f.FindingID+"/"+strconv.FormatUint(f.Revision, 10))
		fu, err := s.js.PublishMsgAsync(pm)
		if err != nil && publishErr == nil {
			publishErr = fmt.Errorf("correlate: publish finding: %w", err)
		}
		if fu != nil {
			futures = append(futures, fu)
		}
	})
	var st state
	if b, err := obs.GetBytes(ctx, "findings"); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("correlate: state: %w", err)
		}
		if err := eng.Restore(st.Engine); err != nil {
			return err
		}
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("correlate: state: %w", err)
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{bus.SubjectEvents + ".>"}}
	if st.Seq > 0 {
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, st.Seq+1
	}
	cons, err := s.js.OrderedConsumer(ctx, bus.StreamEvents, occ)
	if err != nil {
		return fmt.Errorf("correlate: findings consumer: %w", err)
	}
	trim := bus.Trimmer{JS: s.js, Stream: bus.StreamEvents, Logger: s.log}
	save := func(ctx context.Context) error {
		if err := s.awaitAll(ctx, futures); err != nil {
			return err
		}
		futures = futures[:0]
		snap, err := eng.Snapshot()
		if err != nil {
			return err
		}
		// Renew the lease first: only the holder may save.
		if rev, err = kv.Update(ctx, "findings", []byte(s.cfg.Instance), rev); err != nil {
			return errLeaseLost
		}
		b, err := json.Marshal(state{Seq: st.Seq, Engine: snap})
		if err != nil {
			return err
		}
		if _, err := obs.PutBytes(ctx, "findings", b); err != nil {
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
		batch, err := cons.Fetch(s.cfg.FetchBatch, jetstream.FetchMaxWait(fetchWait))
		if err != nil && ctx.Err() == nil {
			s.log.Warn("correlate: findings fetch", "err", err)
		}
		// Caught up: the fetch worked and left nothing pending.
		caughtUp := err == nil
		if batch != nil {
			for msg := range batch.Messages() {
				eng.SetModel(s.model.Load())
				_ = bus.SplitRecords(msg.Data(), func(rec []byte) error {
					// The engine never reads the message: skip unescaping it.
					if event.DecodeNoMessage(rec, &ev) == nil {
						eng.Process(&ev)
					}
					return nil
				})
				if md, err := msg.Metadata(); err == nil {
					st.Seq = md.Sequence.Stream
					s.m.lag.WithLabelValues("findings").Set(float64(md.NumPending))
					caughtUp = md.NumPending == 0
				}
				if publishErr != nil {
					return publishErr
				}
			}
			caughtUp = caughtUp && batch.Error() == nil
		}
		if s.cfg.Tick > 0 && caughtUp && time.Since(lastTick) >= s.cfg.Tick {
			eng.SetModel(s.model.Load())
			eng.Tick(time.Now().Add(-s.cfg.TickSlack))
			lastTick = time.Now()
			if publishErr != nil {
				return publishErr
			}
		}
		if time.Since(last) >= s.cfg.SnapshotEvery || len(futures) > 4096 {
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
