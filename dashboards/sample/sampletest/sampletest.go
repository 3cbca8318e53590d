// Package sampletest gives tests the refinery simulator's traffic as
// Grafana reads it: stored as otsiem's pipeline stores it (see
// dashboards/sample) in the test process's embedded engine, and served by
// the ClickHouse HTTP interface behind its guard on a loopback port. The
// dashboards' SQL tests and the plugin's tests share it.
package sampletest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/otsiem/otsiem/dashboards/sample"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

// Plant is the stored traffic and where it is served.
type Plant struct {
	Model      *rules.Model
	Start, End time.Time // the simulated period, [Start, End)
	DB         string    // the database holding it
	Addr       string    // host:port of the guarded HTTP interface
	Stats      sample.Stats
}

// Serve simulates span of traffic from start over the model in modelDir
// with every scenario (10 lines/s, a scenario every 15 s, seed 3, so the
// figures are the same on every run), stores it in a fresh database of the
// test process's engine, and serves it to users (the reader and writer
// accounts the guard admits) until the test ends. Without the engine it
// skips the test, as chdbtest does.
func Serve(tb testing.TB, modelDir string, start time.Time, span time.Duration, users embedded.Users) *Plant {
	tb.Helper()
	e := chdbtest.Engine(tb)
	p := &Plant{DB: chdbtest.Database(tb), Start: start, End: start.Add(span)}
	ctx := tb.Context()
	owner, err := clickhouse.Open(embedded.ClickHouseOptions(embedded.NewHandler(e), p.DB))
	if err != nil {
		tb.Fatal(err)
	}
	defer owner.Close()
	if _, err := storage.Migrate(ctx, owner, storage.MigrateOptions{}); err != nil {
		tb.Fatal(err)
	}
	if p.Model, err = rules.Load(modelDir); err != nil {
		tb.Fatal(err)
	}
	p.Stats, err = sample.Store(ctx, owner, sample.Config{Model: p.Model, Source: "examples/refinery",
		Periods: []sample.Period{{Start: p.Start, Duration: span}}, Rate: 10, ScenarioEvery: 15 * time.Second, Seed: 3})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("stored %d lines, %d findings (%d revisions)", p.Stats.Lines, p.Stats.Findings, p.Stats.Revisions)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- embedded.Serve(sctx, ln, embedded.Guard(embedded.NewHandler(e), users)) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
	return p
}
