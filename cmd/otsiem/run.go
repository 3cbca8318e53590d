package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/simulate"
	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{name: "run", summary: "run every stage in one process on embedded NATS and ClickHouse (optionally fed by the simulator)", run: runRun})
}

// runOptions are `otsiem run`'s own flags.
type runOptions struct {
	config       string
	simulateRate float64
	scenarios    string
	seed         uint64
	every        time.Duration
	console      time.Duration
	duration     time.Duration
	learn        time.Duration
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	fs.StringVar(&o.config, "config", "", "configuration file (default: built-in defaults, see config/otsiem.example.yaml)")
	fs.Float64Var(&o.simulateRate, "simulate", 0, "also run the refinery simulator at this many lines per second, sending to the first TCP listener")
	fs.StringVar(&o.scenarios, "scenario", "all", "scenarios the simulator injects (comma-separated, \"all\" or \"none\")")
	fs.Uint64Var(&o.seed, "seed", 1, "simulator seed")
	fs.DurationVar(&o.every, "scenario-every", 5*time.Second, "time between the scenarios the simulator injects")
	fs.DurationVar(&o.console, "console", 5*time.Second, "print a live summary this often (0: never)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long, counted once started (0: run until interrupted)")
	fs.DurationVar(&o.learn, "learn", 0, "new_pair's baseline: communication pairs seen this long from the first event are normal, later ones are findings (e.g. 10m; negative: no new_pair; default correlate.learn, 24h)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: otsiem run [--config FILE] [--simulate RATE] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	s, code := newServiceFrom("run", o.config, stderr)
	if s == nil {
		return code
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "learn" {
			s.cfg.Correlate.Engine.Learn = o.learn
		}
	})
	ctx, cancel := signalContext()
	defer cancel()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	p, err := s.startPipeline(ctx)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	if o.duration > 0 {
		// --duration counts from here: start-up (the engines, migrations)
		// takes what it takes.
		defer time.AfterFunc(o.duration, stop).Stop()
	}
	clean := s.markRunning()
	stopHTTP, err := s.serveHTTP(p.healthy)
	if err != nil {
		s.log.Error("start", "err", err)
		p.close(s)
		return 1
	}
	defer stopHTTP()

	var wg sync.WaitGroup
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	if o.simulateRate > 0 {
		addr := p.tcpAddr()
		if addr == "" {
			s.log.Error("start", "err", "--simulate needs a tcp listener")
			p.close(s)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.runSimulator(simCtx, addr, o); err != nil && simCtx.Err() == nil {
				s.log.Error("simulator", "err", err)
			}
		}()
	}
	started := time.Now()
	if o.console > 0 {
		con := newConsole(s.reg, p.store.db, s.model)
		wg.Add(1)
		go func() {
			defer wg.Done()
			con.loop(ctx, stdout, o.console)
		}()
	}
	<-ctx.Done()
	s.log.Info("shutting down: draining the pipeline")
	stopSim()
	wg.Wait()
	p.store.beforeClose = func(db *storage.DB) {
		if err := drained(context.Background(), stdout, db, started); err != nil {
			s.log.Error("shutdown", "err", err)
		}
	}
	if err := p.close(s); err != nil {
		s.log.Error("shutdown", "err", err)
		return 1
	}
	clean()
	return 0
}

// pipeline is every stage running in one process on one bus.
type pipeline struct {
	bus       *bus.Bus
	ingest    *ingestStage
	correlate *correlateStage
	store     *storeStage
}

// startPipeline starts the bus and the stages, downstream first so nothing
// waits for a consumer.
func (s *service) startPipeline(ctx context.Context) (*pipeline, error) {
	b, err := s.openBus(ctx)
	if err != nil {
		return nil, err
	}
	p := &pipeline{bus: b}
	if p.store, err = s.startStore(ctx, b); err != nil {
		b.Close()
		return nil, err
	}
	if p.correlate, err = s.startCorrelate(ctx, b); err != nil {
		p.store.close()
		b.Close()
		return nil, err
	}
	if p.ingest, err = s.startIngest(ctx, b); err != nil {
		p.correlate.close()
		p.store.close()
		b.Close()
		return nil, err
	}
	return p, nil
}

// healthy reports what keeps any stage from its work: JetStream refusing
// writes, ClickHouse away.
func (p *pipeline) healthy() error {
	return errors.Join(p.ingest.healthy(), p.correlate.healthy(), p.store.healthy())
}

func (p *pipeline) tcpAddr() string {
	for _, a := range p.ingest.collector.Addrs() {
		if ta, ok := a.(*net.TCPAddr); ok {
			return ta.String()
		}
	}
	return ""
}

// close stops taking input, lets the downstream stages work off what is
// on the bus (up to a minute), then stops them. Whatever is left stays in
// JetStream for the next start.
func (p *pipeline) close(s *service) error {
	err := p.ingest.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if werr := waitIdle(ctx, p.bus); werr != nil {
		s.log.Warn("stopping with work left on the bus; it is taken up at the next start", "err", werr)
	}
	if cerr := p.correlate.close(); err == nil {
		err = cerr
	}
	if cerr := p.store.close(); err == nil {
		err = cerr
	}
	p.bus.Close()
	return err
}

// waitIdle waits until no durable consumer of otsiem's streams has
// messages pending or unacknowledged.
func waitIdle(ctx context.Context, b *bus.Bus) error {
	for {
		pending, err := b.Backlog(ctx)
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

// runSimulator feeds the refinery simulator to the collector over TCP.
func (s *service) runSimulator(ctx context.Context, addr string, o runOptions) error {
	cfg := simulate.Config{Rate: o.simulateRate, Seed: o.seed, ScenarioEvery: o.every}
	if o.scenarios != "" && o.scenarios != "none" {
		cfg.Scenarios = strings.Split(o.scenarios, ",")
	}
	g, err := simulate.New(cfg)
	if err != nil {
		return err
	}
	w, err := simulate.Dial(ctx, simulate.Target{Network: "tcp", Address: addr})
	if err != nil {
		return err
	}
	s.log.Info("simulator sending", "rate", o.simulateRate, "to", addr, "scenarios", o.scenarios)
	st, err := simulate.Run(ctx, g, w, 0, 0, true)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	s.log.Info("simulator stopped", "lines", st.Lines)
	return err
}
