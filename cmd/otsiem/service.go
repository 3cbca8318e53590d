package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/health"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/rules"
)

// service is what every long-running command shares: its configuration,
// logger, metrics registry and model.
type service struct {
	cfg   *config.Config
	log   *slog.Logger
	reg   *prometheus.Registry
	model *rules.Model
	site  string
	name  string
	// storeConn, when set, wraps the writer's ClickHouse connection
	// (otsiem bench uses it to take ClickHouse away).
	storeConn func(driver.Conn) driver.Conn

	watchMu  sync.Mutex
	watchers []func(*rules.Model) // what watchModel hands each reloaded model to
}

// newService parses --config and builds the service from it.
func newService(name string, args []string, stderr io.Writer) (*service, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default: built-in defaults, see config/otsiem.example.yaml)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: otsiem %s [--config FILE]\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return nil, 2
	}
	return newServiceFrom(name, *path, stderr)
}

// newServiceFrom loads the configuration file (the defaults when path is
// empty) and the model, and sets up logging and metrics.
func newServiceFrom(name, path string, stderr io.Writer) (*service, int) {
	cfg, ok := loadConfig(path, stderr)
	if !ok {
		return nil, 1
	}
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	s := &service{cfg: cfg, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("stage", name),
		reg: prometheus.NewRegistry(), name: name}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, ok := loadModel(cfg.Model, stderr)
	if !ok {
		return nil, 1
	}
	s.model = m
	if limit := cfg.GoMemoryLimit(); limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
	s.site = cfg.Site
	if s.site == "" {
		s.site = m.Site
	}
	return s, 0
}

// watchModel reloads the model on SIGHUP and when its files change, and
// hands each model that loads to apply, until ctx ends. A model that fails
// to load leaves the running one in place; the errors are logged. The
// files as they are when it is first called are the baseline. Stages in
// one process share one watcher: a later call adds its apply to the first
// call's watcher, which runs until the first ctx ends.
func (s *service) watchModel(ctx context.Context, apply func(*rules.Model)) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	s.watchers = append(s.watchers, apply)
	if len(s.watchers) > 1 {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	every := s.cfg.Correlate.ReloadEvery
	if every == 0 {
		every = 5 * time.Second
	}
	var tick <-chan time.Time
	var ticker *time.Ticker
	if every > 0 {
		ticker = time.NewTicker(every)
		tick = ticker.C
	}
	last := modelStamp(s.cfg.Model)
	pending := last
	go func() {
		defer signal.Stop(hup)
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			case <-tick:
				// Reload once the files changed and then stayed the same for
				// a tick: an editor or a deployment may write them in steps.
				stamp := modelStamp(s.cfg.Model)
				if stamp == last || stamp != pending {
					pending = stamp
					continue
				}
				last = stamp
			}
			m, err := rules.Load(s.cfg.Model)
			if err != nil {
				s.log.Error("model reload failed; keeping the running model", "model", s.cfg.Model, "err", err)
				continue
			}
			s.watchMu.Lock()
			applies := slices.Clone(s.watchers)
			s.watchMu.Unlock()
			for _, apply := range applies {
				apply(m)
			}
			s.log.Info("model reloaded", "model", s.cfg.Model, "zones", len(m.Zones()), "conduits", len(m.Conduits()))
		}
	}()
}

// modelStamp summarises the names, sizes and times of a model's files.
func modelStamp(path string) string {
	var b strings.Builder
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && p != path {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}

// openBus connects to NATS, or starts the embedded server.
func (s *service) openBus(ctx context.Context) (*bus.Bus, error) {
	bc := s.cfg.NATS
	bc.Name, bc.Logger = "otsiem-"+s.name, s.log
	b, err := bus.Open(ctx, bc)
	if err != nil {
		return nil, err
	}
	if b.Embedded() {
		s.log.Info("embedded NATS JetStream", "dir", bc.Embedded.Dir, "listen", b.ClientURL(), "identity", b.SeedPath(),
			"streams_max_bytes", b.MaxBytes())
	}
	return b, nil
}

// stage is a running pipeline stage; close finishes the work in hand,
// healthy says why the stage cannot do its work (nil when it can).
type stage interface {
	close() error
	healthy() error
}

// runStage runs one stage as a service until SIGINT or SIGTERM: the bus,
// the stage, /metrics and /healthz (the stage's health), then a graceful
// close.
func (s *service) runStage(start func(context.Context, *bus.Bus) (stage, error)) int {
	ctx, cancel := signalContext()
	defer cancel()
	b, err := s.openBus(ctx)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	defer b.Close()
	st, err := start(ctx, b)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	clean := s.markRunning()
	stopHTTP, err := s.serveHTTP(st.healthy)
	if err != nil {
		s.log.Error("start", "err", err)
		st.close()
		return 1
	}
	defer stopHTTP()
	<-ctx.Done()
	s.log.Info("shutting down")
	if err := st.close(); err != nil {
		s.log.Error("shutdown", "err", err)
		return 1
	}
	clean()
	return 0
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// serveHTTP serves /metrics and /healthz (healthy() judged by package
// health: 200 ok or degraded, 503 when a stage cannot make progress) until
// the returned stop is called.
func (s *service) serveHTTP(healthy func() error) (stop func(), err error) {
	addr := s.cfg.HTTP.Address
	if addr == "" || addr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.Handle("/healthz", health.Handler(healthy))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server", "err", err)
		}
	}()
	s.log.Info("serving /metrics and /healthz", "address", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// senderMatches reports whether a device may send from an address: true
// when the model does not declare the device or its addresses.
func (s *service) senderMatches(device string, sender netip.Addr) bool {
	d := s.model.Device(device)
	return d == nil || len(d.Addresses) == 0 || slices.Contains(d.Addresses, sender.Unmap())
}
