// Package sample stores the refinery simulator's traffic (package
// simulate) the way otsiem's pipeline does, without its services: every
// line decoded by the vendor decoders, judged against the model and
// written to the events table, every revision of the correlator's
// findings to finding_revisions, and the model to the model tables. The
// dashboards' tests run every panel's SQL on it, and the preview renders
// the panels from it.
package sample

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest"
	_ "github.com/otsiem/otsiem/ingest/decode/all" // every vendor decoder
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/simulate"
	"github.com/otsiem/otsiem/storage"
)

// Period is a stretch of plant time the simulator fills; nothing is
// logged between periods (every device and the diode are silent).
type Period struct {
	Start    time.Time
	Duration time.Duration
}

// Config says what to store.
type Config struct {
	Model   *rules.Model
	Source  string // where the model was read from, for model_versions
	Periods []Period
	// Rate is lines per second of plant time; ScenarioEvery spaces the
	// simulator's injected scenarios (all of them, in turn).
	Rate          float64
	ScenarioEvery time.Duration
	Seed          uint64
}

// Stats counts what was stored.
type Stats struct {
	Lines, Findings, Revisions int
}

// Store runs the simulator over each period and stores the result
// through conn, which must hold the schema (storage.Migrate).
func Store(ctx context.Context, conn driver.Conn, cfg Config) (Stats, error) {
	var st Stats
	m := cfg.Model
	if _, err := storage.WriteModel(ctx, conn, m, storage.ModelLoad{Source: cfg.Source, LoadedAt: cfg.Periods[0].Start}); err != nil {
		return st, err
	}
	parser, err := ingest.NewParser(m.Site, "", "")
	if err != nil {
		return st, err
	}
	var revisions []event.Finding
	eng := correlate.NewEngine(m, correlate.Config{Site: m.Site}, func(f *event.Finding) {
		cp := *f
		cp.EventIDs = append([]event.ID(nil), f.EventIDs...)
		cp.Attrs = append([]event.Attr(nil), f.Attrs...)
		revisions = append(revisions, cp)
	})
	batch := storage.NewEvents()
	flush := func() error {
		err := storage.Insert(ctx, conn, batch.Batch)
		batch.Reset()
		return err
	}
	var ev event.Event
	for i, p := range cfg.Periods {
		g, err := simulate.New(simulate.Config{Start: p.Start, Rate: cfg.Rate, Seed: cfg.Seed + uint64(i),
			Scenarios: []string{"all"}, ScenarioEvery: cfg.ScenarioEvery})
		if err != nil {
			return st, err
		}
		end := p.Start.Add(p.Duration)
		for g.Now().Before(end) {
			l := g.Next()
			var sender netip.Addr
			if d := m.Device(l.Device); d != nil && len(d.Addresses) > 0 {
				sender = d.Addresses[0]
			}
			parser.Parse([]byte(l.Text), sender, l.Time.Add(20*time.Millisecond), &ev)
			correlate.Enrich(m, &ev)
			eng.Process(&ev)
			if err := batch.Add(&ev, ev.ID.String()); err != nil {
				return st, fmt.Errorf("sample: %w", err)
			}
			st.Lines++
			if batch.Len() >= 50_000 {
				if err := flush(); err != nil {
					return st, err
				}
			}
		}
	}
	eng.Drain()
	if err := flush(); err != nil {
		return st, err
	}
	fb := storage.NewFindings()
	ids := map[string]bool{}
	for i := range revisions {
		if err := fb.Add(&revisions[i]); err != nil {
			return st, fmt.Errorf("sample: %w", err)
		}
		ids[revisions[i].FindingID] = true
	}
	st.Findings, st.Revisions = len(ids), len(revisions)
	return st, storage.Insert(ctx, conn, fb.Batch)
}
