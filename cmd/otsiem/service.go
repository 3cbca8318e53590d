package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/health"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/rules"
)

// service is what every long-running command shares: its configuration,
// logger, metrics registry and the model every stage reads.
type service struct {
	cfg    *config.Config
	log    *slog.Logger
	reg    *prometheus.Registry
	models *rules.Holder // reloaded by the watcher serve runs
	site   string
	name   string
	// storeConn, when set, wraps the writer's ClickHouse connection
	// (otsiem bench uses it to take ClickHouse away).
	storeConn func(driver.Conn) driver.Conn
}

// serviceCommand is a command that runs one stage as a service:
// otsiem NAME [--config FILE], until SIGINT or SIGTERM.
func serviceCommand(name, summary string, start func(*service, context.Context, *pipeline) error) command {
	return command{name: name, summary: summary, usage: "[--config FILE]",
		about: []string{summary + ", until SIGINT or SIGTERM; /metrics and /healthz on http.address.",
			"Without nats.url it runs a private embedded NATS server that no other otsiem process can reach."},
		flags: func(fs *pflag.FlagSet) runFunc {
			path := fs.String("config", "", "configuration file (default: built-in defaults, see config/otsiem.example.yaml)")
			return func(args []string, _, stderr io.Writer) int {
				if len(args) != 0 {
					return badUsage(stderr, name, "unexpected argument %q", args[0])
				}
				s, code := newServiceFrom(name, *path, stderr)
				if s == nil {
					return code
				}
				return s.runStages(func(ctx context.Context, p *pipeline) error { return start(s, ctx, p) })
			}
		}}
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
	s.models = rules.NewHolder(m)
	if limit := cfg.GoMemoryLimit(); limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
	s.site = cfg.Site
	if s.site == "" {
		s.site = m.Site
	}
	return s, 0
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
	if b.Embedded() && b.ClientURL() == "" && s.name != "run" && s.name != "bench" {
		// One stage alone on a server nobody else can reach: nothing it
		// publishes is read, nothing it consumes is ever published.
		s.log.Warn("no nats.url set: running a private embedded NATS server with no listener; no other otsiem process can reach it, so this "+
			s.name+" stage exchanges nothing with the others. Set nats.url to a shared NATS server (or nats.embedded.listen here and nats.url in the others)",
			"dir", bc.Embedded.Dir)
	}
	return b, nil
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// serveHTTP listens for /metrics and /healthz (judged by package health:
// 200 ok or degraded, 503 when a stage cannot make progress); execute
// serves until interrupt is called. With http.address empty or "off",
// execute waits for interrupt.
func (s *service) serveHTTP(healthy func() error) (execute func() error, interrupt func(), err error) {
	addr := s.cfg.HTTP.Address
	if addr == "" || addr == "off" {
		stop := make(chan struct{})
		return func() error { <-stop; return nil }, sync.OnceFunc(func() { close(stop) }), nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("http: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.Handle("/healthz", health.Handler(healthy))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.log.Info("serving /metrics and /healthz", "address", ln.Addr().String())
	return func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		}, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}, nil
}

// senderMatches reports whether a device may send from an address: true
// when the model does not declare the device or its addresses.
func (s *service) senderMatches(device string, sender netip.Addr) bool {
	d := s.models.Load().Device(device)
	return d == nil || len(d.Addresses) == 0 || slices.Contains(d.Addresses, sender.Unmap())
}
