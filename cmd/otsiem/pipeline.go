package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	oklog "github.com/oklog/run"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/rules"
)

// stage is a running pipeline stage: its Run(ctx) in a goroutine.
type stage struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{} // closed once run returned
	err    error         // run's error, set before done closes
	health func() error
	// inputs are the streams the stage consumes: a stopping pipeline
	// lets it work them off first.
	inputs []string
}

// startStage runs run in a goroutine until close. run must work until its
// context ends, then finish the work in hand and return; returning before
// that is the stage failing (see pipeline.failed). health says why the
// stage cannot do its work (nil when it can).
func startStage(name string, run func(context.Context) error, health func() error, inputs ...string) *stage {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stage{name: name, cancel: cancel, done: make(chan struct{}), health: health, inputs: inputs}
	go func() {
		defer close(st.done)
		st.err = run(ctx)
		if errors.Is(st.err, context.Canceled) {
			st.err = nil
		}
	}()
	return st
}

// close stops the stage and waits until it finished the work in hand.
func (st *stage) close() error {
	st.cancel()
	<-st.done
	return st.err
}

func (st *stage) healthy() error { return st.health() }

// pipeline is the stages one process runs on one bus: all three for
// `otsiem run`, one for `otsiem ingest`, `correlate --config` and `store`.
type pipeline struct {
	bus       *bus.Bus
	ingest    *ingestStage
	correlate *stage
	store     *storeStage
}

// stages returns the running stages, upstream first.
func (p *pipeline) stages() []*stage {
	var out []*stage
	if p.ingest != nil {
		out = append(out, p.ingest.stage)
	}
	if p.correlate != nil {
		out = append(out, p.correlate)
	}
	if p.store != nil {
		out = append(out, p.store.stage)
	}
	return out
}

// startPipeline starts the bus and every stage, downstream first so
// nothing waits for a consumer.
func (s *service) startPipeline(ctx context.Context) (*pipeline, error) {
	return s.startStages(ctx, s.startStore, s.startCorrelate, s.startIngest)
}

// startStages opens the bus and starts the given stages in that order
// (downstream first); when one fails to start, those started are closed.
func (s *service) startStages(ctx context.Context, starts ...func(context.Context, *pipeline) error) (*pipeline, error) {
	b, err := s.openBus(ctx)
	if err != nil {
		return nil, err
	}
	p := &pipeline{bus: b}
	for _, start := range starts {
		if err := start(ctx, p); err != nil {
			_ = p.stop(s, false) // a failed start ends at once
			return nil, err
		}
	}
	return p, nil
}

// stopDrain bounds how long a stopping pipeline waits for its downstream
// stages to work off what is on the bus.
const stopDrain = time.Minute

// close is the one stop order: the stages stop upstream first, each
// finishing the work in hand (ingest stops accepting, drains its
// connections and waits for JetStream's acknowledgements; the correlator
// publishes and acks what it took; the store inserts and acks what it
// holds). Once the first stage of several has stopped, each downstream
// one first works off its input streams (up to stopDrain in all), so that
// it takes what the stages before it published, to their last message;
// whatever is left stays in JetStream for the next start. Then the bus
// closes.
func (p *pipeline) close(s *service) error { return p.stop(s, true) }

// stop is close, with the wait for the downstream stages only with drain.
func (p *pipeline) stop(s *service, drain bool) error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), stopDrain)
	defer cancel()
	for i, st := range p.stages() {
		if i > 0 && drain && ctx.Err() == nil {
			if err := waitIdle(ctx, p.bus, st.inputs...); err != nil {
				s.log.Warn("stopping with work left on the bus; it is taken up at the next start", "stage", st.name, "err", err)
			}
		}
		if err := st.close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", st.name, err))
		}
	}
	p.bus.Close()
	return errors.Join(errs...)
}

// healthy reports what keeps any stage from its work: JetStream refusing
// writes, ClickHouse away.
func (p *pipeline) healthy() error {
	var errs []error
	for _, st := range p.stages() {
		errs = append(errs, st.healthy())
	}
	return errors.Join(errs...)
}

// failed returns once a stage stopped by itself, with why.
func (p *pipeline) failed(stop <-chan struct{}) error {
	stopped := make(chan *stage, 3)
	for _, st := range p.stages() {
		go func() {
			select {
			case <-st.done:
				stopped <- st
			case <-stop:
			}
		}()
	}
	select {
	case st := <-stopped:
		if st.err == nil {
			return fmt.Errorf("%s stopped", st.name)
		}
		return fmt.Errorf("%s: %w", st.name, st.err)
	case <-stop:
		return nil
	}
}

// tcpAddr is ingest's first TCP listener's address, or "".
func (p *pipeline) tcpAddr() string {
	if p.ingest == nil {
		return ""
	}
	for _, a := range p.ingest.svc.Addrs() {
		if ta, ok := a.(*net.TCPAddr); ok {
			return ta.String()
		}
	}
	return ""
}

// waitIdle waits until no durable consumer of the streams has messages
// pending or unacknowledged (bus.Backlog).
func waitIdle(ctx context.Context, b *bus.Bus, streams ...string) error {
	for {
		pending, err := b.Backlog(ctx, streams...)
		if err == nil && pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d messages pending: %w", pending, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// actor is one more thing a service runs beside its pipeline (run's
// simulator and console): execute until interrupt, as in oklog/run.
type actor struct {
	execute   func() error
	interrupt func(error)
}

// runStages starts the given stages (downstream first) and serves them
// until SIGINT or SIGTERM.
func (s *service) runStages(starts ...func(context.Context, *pipeline) error) int {
	ctx, cancel := signalContext()
	defer cancel()
	p, err := s.startStages(ctx, starts...)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	return s.serve(ctx, p)
}

// serve runs p as this process's service until ctx ends (SIGINT or
// SIGTERM, --duration) or a stage fails: beside it the model watcher (reloads on
// SIGHUP and on file changes, into the holder every stage reads),
// /metrics and /healthz, and the extra actors. Then everything stops
// together and the pipeline in its one stop order (pipeline.close). It
// returns the exit code: 0 after a clean stop, 1 when a stage failed or
// did not stop cleanly.
func (s *service) serve(ctx context.Context, p *pipeline, extra ...actor) int {
	var g oklog.Group
	ctx, cancel := context.WithCancel(ctx)
	g.Add(func() error { <-ctx.Done(); return nil }, func(error) { cancel() })

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	every := s.cfg.Correlate.ReloadEvery
	w := rules.NewWatcher(s.models, rules.WatchConfig{Path: s.cfg.Model, Every: every, Reload: hup, Logger: s.log})
	wctx, stopWatch := context.WithCancel(context.Background())
	g.Add(func() error { return w.Run(wctx) }, func(error) { stopWatch() })

	execHTTP, stopHTTP, err := s.serveHTTP(p.healthy)
	if err != nil {
		s.log.Error("start", "err", err)
		cancel()
		_ = p.close(s)
		return 1
	}
	g.Add(execHTTP, func(error) { stopHTTP() })
	for _, a := range extra {
		g.Add(a.execute, a.interrupt)
	}
	clean := s.markRunning()
	stop := make(chan struct{})
	var failed, closeErr error
	g.Add(func() error {
		if failed = p.failed(stop); failed == nil {
			s.log.Info("shutting down: draining the pipeline")
		}
		closeErr = p.close(s)
		return failed
	}, func(error) { close(stop) })
	_ = g.Run()
	switch {
	case failed != nil:
		s.log.Error("stage failed; stopped", "err", failed)
	case closeErr != nil:
		s.log.Error("shutdown", "err", closeErr)
	default:
		clean()
		return 0
	}
	return 1
}
