package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/prometheus/client_golang/prometheus"
)

// Deps is what the ingest stage works with besides its configuration.
type Deps struct {
	// Bus is connected, its streams declared; it belongs to the caller.
	Bus *bus.Bus
	// Site names the plant on every event and subject (the configured
	// site, else the model's).
	Site string
	// AllowSender says whether a sender is a device of the model; with
	// Config.AllowOnlyModelDevices only those are admitted (see
	// Options.AllowSender). It is called for every connection and
	// datagram, so it may follow a model reload.
	AllowSender func(netip.Addr) bool
	// SenderMatches, when set, marks events whose sender is not one
	// their device may send from (see PipelineConfig.SenderMatches);
	// called for every event.
	SenderMatches func(device string, sender netip.Addr) bool
	Registerer    prometheus.Registerer
	Logger        *slog.Logger
}

// Service is the ingest stage: the syslog listeners, decoding, and
// publishing to JetStream in batches.
type Service struct {
	pub       *bus.Publisher
	batcher   *bus.Batcher
	collector *Collector
	log       *slog.Logger
}

// CloseTimeout bounds how long Run waits, after it stopped accepting,
// for JetStream to acknowledge what was read.
const CloseTimeout = 30 * time.Second

// New opens every listener (so a bad address or certificate fails here)
// and the publisher; Run starts accepting.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Bus == nil {
		return nil, errors.New("ingest: no bus")
	}
	if cfg.AllowOnlyModelDevices && d.AllowSender == nil {
		return nil, errors.New("ingest: allow_only_model_devices without a model to ask")
	}
	allow := d.AllowSender
	if !cfg.AllowOnlyModelDevices {
		allow = nil
	}
	s := &Service{log: d.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	pc := cfg.Publish
	pc.Stage, pc.Registerer, pc.Logger = "ingest", d.Registerer, s.log
	pub, err := d.Bus.NewPublisher(pc)
	if err != nil {
		return nil, err
	}
	s.pub, s.batcher = pub, bus.NewBatcher(pub, cfg.Batch)
	pipeline := NewPipeline(PipelineConfig{Site: d.Site, Events: s.batcher, DeadLetters: pub,
		SenderMatches: d.SenderMatches, Registerer: d.Registerer})
	s.collector, err = NewCollector(cfg.Listeners, pipeline, Options{AllowSender: allow, Registerer: d.Registerer, Logger: s.log})
	if err != nil {
		s.flush()
		return nil, err
	}
	return s, nil
}

// Addrs returns each listener's bound address by listener name.
func (s *Service) Addrs() map[string]net.Addr { return s.collector.Addrs() }

// Err reports JetStream refusing the events (for /healthz); nil while it
// takes them.
func (s *Service) Err() error { return s.pub.Err() }

// Run accepts and publishes until ctx ends, then stops accepting, drains
// the open connections (Collector.Run), publishes what is left and waits
// up to CloseTimeout for every acknowledgement. What JetStream never
// accepted is counted and logged (bus.Publisher.Close) and returned as
// the error. The bus stays open.
func (s *Service) Run(ctx context.Context) error {
	for name, addr := range s.collector.Addrs() {
		s.log.Info("listening for syslog", "listener", name, "address", addr.String(), "network", addr.Network())
	}
	err := s.collector.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if ferr := s.flush(); err == nil {
		err = ferr
	}
	return err
}

// flush publishes what the batcher holds and waits for the acknowledgements.
func (s *Service) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	err := s.batcher.Close(ctx)
	if perr := s.pub.Close(ctx); err == nil {
		err = perr
	}
	return err
}
