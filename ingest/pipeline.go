package ingest

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
	"github.com/prometheus/client_golang/prometheus"
)

// Dead-letter reasons.
const (
	ReasonOversize         = "oversize"
	ReasonIncomplete       = "incomplete" // the stream ended or stalled inside a message
	ReasonFraming          = "framing"    // octet counting without a valid length
	ReasonSenderNotAllowed = "sender_not_allowed"
)

// AttrSenderMismatch is set on an event whose sender address is not one
// its device is declared to send from: a sign of spoofed syslog.
const AttrSenderMismatch = "sender_mismatch"

// PipelineConfig configures a Pipeline.
type PipelineConfig struct {
	Site string
	// Events publishes decoded events in batches; DeadLetters publishes
	// undecodable input one message at a time.
	Events      *bus.Batcher
	DeadLetters *bus.Publisher
	// SenderMatches, when set, reports whether sender may send as device;
	// an event failing it is kept and marked with AttrSenderMismatch.
	SenderMatches func(device string, sender netip.Addr) bool
	Registerer    prometheus.Registerer
}

// Pipeline is the Handler that decodes frames into events and publishes
// them: frames cut at the size limit and frames from refused senders go to
// the dead letters as they are; everything else becomes exactly one event,
// raw when no decoder understands it.
type Pipeline struct {
	cfg     PipelineConfig
	mu      sync.Mutex
	parsers map[*ListenerConfig]*decode.Parser
	pool    sync.Pool

	events      *prometheus.CounterVec
	rawEvents   *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	mismatches  prometheus.Counter
}

type work struct {
	ev  event.Event
	buf []byte
}

// NewPipeline returns a Pipeline.
func NewPipeline(cfg PipelineConfig) *Pipeline {
	p := &Pipeline{
		cfg:     cfg,
		parsers: map[*ListenerConfig]*decode.Parser{},
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_events_total",
			Help: "Events published, per vendor and kind."}, []string{"vendor", "kind"}),
		rawEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_decode_errors_total",
			Help: "Lines no decoder understood (published as raw events), per listener."}, []string{"listener"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_ingest_deadletters_total",
			Help: "Messages sent to the dead letters, per reason."}, []string{"reason"}),
		mismatches: prometheus.NewCounter(prometheus.CounterOpts{Name: "otsiem_ingest_sender_mismatches_total",
			Help: "Events whose sender address is not one their device is declared to send from."}),
	}
	p.pool.New = func() any { return &work{buf: make([]byte, 0, 2048)} }
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(p.events, p.rawEvents, p.deadLetters, p.mismatches)
	}
	return p
}

// parser returns the listener's parser: its decoder and timezone.
func (p *Pipeline) parser(l *ListenerConfig) (*decode.Parser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ps := p.parsers[l]; ps != nil {
		return ps, nil
	}
	ps, err := NewParser(p.cfg.Site, l.Decoder, l.Timezone)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.Name, err)
	}
	p.parsers[l] = ps
	return ps, nil
}

// NewParser returns a line parser for a site with an optional forced decoder
// and timezone (IANA name; empty for UTC).
func NewParser(site, decoder, timezone string) (*decode.Parser, error) {
	loc := time.UTC
	if timezone != "" {
		var err error
		if loc, err = time.LoadLocation(timezone); err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
	}
	ps := &decode.Parser{Header: syslog.NewParser(syslog.Config{Location: loc}), Site: site}
	if decoder != "" {
		d, ok := decode.Default.Lookup(decoder)
		if !ok {
			return nil, fmt.Errorf("unknown decoder %q (have %v)", decoder, decode.Default.Names())
		}
		ps.Decoder = d
	}
	return ps, nil
}

// Handle decodes and publishes one frame.
func (p *Pipeline) Handle(ctx context.Context, f *Frame) error {
	switch {
	case f.Damage != "":
		return p.deadLetter(ctx, f, f.Damage)
	case f.Unauthorized:
		return p.deadLetter(ctx, f, ReasonSenderNotAllowed)
	}
	ps, err := p.parser(f.Listener)
	if err != nil {
		return err
	}
	w := p.pool.Get().(*work)
	defer p.pool.Put(w)
	ev := &w.ev
	ps.Parse(f.Data, f.Sender.Addr(), f.Received, ev)
	if ev.Kind == event.KindRaw {
		p.rawEvents.WithLabelValues(f.Listener.Name).Inc()
	}
	if p.cfg.SenderMatches != nil && ev.Device != "" && !p.cfg.SenderMatches(ev.Device, f.Sender.Addr()) {
		ev.SetAttr(AttrSenderMismatch, "true")
		p.mismatches.Inc()
	}
	w.buf = ev.AppendJSON(w.buf[:0])
	subject := bus.EventsSubject(p.cfg.Site, string(ev.Kind))
	if err := p.cfg.Events.Add(ctx, subject, ev.ID.String(), w.buf); err != nil {
		return err
	}
	p.events.WithLabelValues(ev.Vendor, string(ev.Kind)).Inc()
	return nil
}

func (p *Pipeline) deadLetter(ctx context.Context, f *Frame, reason string) error {
	if err := p.cfg.DeadLetters.PublishDeadLetter(ctx, bus.DeadLetter{Site: p.cfg.Site, Reason: reason,
		Listener: f.Listener.Name, Sender: f.Sender, Received: f.Received, Data: f.Data}); err != nil {
		return err
	}
	p.deadLetters.WithLabelValues(reason).Inc()
	return nil
}
