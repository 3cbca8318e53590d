package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/otsiem/otsiem/console"
	"github.com/otsiem/otsiem/simulate"
	"github.com/otsiem/otsiem/storage"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "run", summary: "run every stage in one process on embedded NATS and ClickHouse (optionally fed by the simulator)", usage: "[--config FILE] [--simulate RATE] [--scenario all] [--duration D] [--learn D] [--console 5s]",
		about: []string{
			"Runs ingest, correlate and store in one process on an embedded NATS JetStream and the",
			"embedded ClickHouse engine, with a live console, until SIGINT or SIGTERM (or --duration);",
			"then it drains the pipeline and says what it stored."},
		flags: runRun})
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

func runRun(fs *pflag.FlagSet) runFunc {
	var o runOptions
	fs.StringVar(&o.config, "config", "", "configuration file (default: built-in defaults, see config/otsiem.example.yaml)")
	fs.Float64Var(&o.simulateRate, "simulate", 0, "also run the refinery simulator at this many lines per second, sending to the first TCP listener")
	fs.StringVar(&o.scenarios, "scenario", "all", "scenarios the simulator injects (comma-separated, \"all\" or \"none\")")
	fs.Uint64Var(&o.seed, "seed", 1, "simulator seed")
	fs.DurationVar(&o.every, "scenario-every", 5*time.Second, "time between the scenarios the simulator injects")
	fs.DurationVar(&o.console, "console", 5*time.Second, "print a live summary this often (0: never)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long, counted once started (0: run until interrupted)")
	fs.DurationVar(&o.learn, "learn", 0, "new_pair's baseline: communication pairs seen this long from the first event are normal, later ones are findings (e.g. 10m; negative: no new_pair; default correlate.learn, 24h)")
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) != 0 {
			return badUsage(stderr, "run", "unexpected argument %q", args[0])
		}
		s, code := newServiceFrom("run", o.config, stderr)
		if s == nil {
			return code
		}
		if fs.Changed("learn") {
			s.cfg.Correlate.Engine.Learn = o.learn
		}
		ctx, cancel := signalContext()
		defer cancel()
		p, err := s.startPipeline(ctx)
		if err != nil {
			s.log.Error("start", "err", err)
			return 1
		}
		var extra []actor
		if o.duration > 0 {
			// --duration counts from here: start-up (the engines, migrations)
			// takes what it takes.
			var stop context.CancelFunc
			ctx, stop = context.WithTimeout(ctx, o.duration)
			defer stop()
		}
		if o.simulateRate > 0 {
			addr := p.tcpAddr()
			if addr == "" {
				s.log.Error("start", "err", "--simulate needs a tcp listener")
				_ = p.close(s)
				return 1
			}
			simCtx, stopSim := context.WithCancel(ctx)
			extra = append(extra, actor{func() error {
				if err := s.runSimulator(simCtx, addr, o); err != nil && simCtx.Err() == nil {
					s.log.Error("simulator", "err", err) // the pipeline goes on without it
				}
				<-simCtx.Done()
				return nil
			}, func(error) { stopSim() }})
		}
		started := time.Now()
		if o.console > 0 {
			con := console.New(s.reg, p.store.db, s.models)
			conCtx, stopCon := context.WithCancel(ctx)
			extra = append(extra, actor{func() error { con.Run(conCtx, stdout, o.console); return nil }, func(error) { stopCon() }})
		}
		p.store.beforeClose = func(db *storage.DB) {
			if err := console.Drained(context.Background(), stdout, db, started); err != nil {
				s.log.Error("shutdown", "err", err)
			}
		}
		return s.serve(ctx, p, extra...)
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
