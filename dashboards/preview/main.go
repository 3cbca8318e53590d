// Command preview renders every dashboard of package dashboards from real
// query results into a static HTML page and screenshots it with headless
// Chromium (`make dashboards-preview`; not part of `make test`):
//
//	go run ./dashboards/preview -uplot .cache/uplot/node_modules/uplot/dist -out dashboards/preview
//
// The data is the refinery simulator's, with every scenario, over two
// working days with a silent day between them (no device logs at all),
// stored as the pipeline stores it (package sample) in an embedded engine.
// Each panel's SQL is expanded as Grafana and its ClickHouse data source
// expand it (package grafana) and run over HTTP with gzip, as the reader
// of the guarded HTTP interface. Time series are drawn with uPlot (the
// chart library Grafana uses), vendored into the page; everything else is
// HTML. The pages approximate Grafana's look; they are not Grafana.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/dashboards"
	"github.com/otsiem/otsiem/dashboards/grafana"
	"github.com/otsiem/otsiem/dashboards/sample"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/embedded"
)

func main() {
	out := flag.String("out", "dashboards/preview", "directory for the PNG files (and html/ with the pages)")
	uplot := flag.String("uplot", ".cache/uplot/node_modules/uplot/dist", "uPlot's dist directory (npm package uplot)")
	model := flag.String("model", "examples/refinery", "the plant model")
	chromium := flag.String("chromium", "chromium", "the Chromium executable")
	rate := flag.Float64("rate", 4, "simulated lines per second of plant time")
	flag.Parse()
	if err := run(*out, *uplot, *model, *chromium, *rate); err != nil {
		log.Fatal(err)
	}
}

func run(out, uplotDir, modelPath, chromium string, rate float64) error {
	ctx := context.Background()
	js, err := os.ReadFile(filepath.Join(uplotDir, "uPlot.iife.min.js"))
	if err != nil {
		return fmt.Errorf("uPlot (make dashboards-preview installs it): %w", err)
	}
	css, err := os.ReadFile(filepath.Join(uplotDir, "uPlot.min.css"))
	if err != nil {
		return err
	}
	m, err := rules.Load(modelPath)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "otsiem-preview-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e, err := chdb.Open(chdb.Options{Path: dir})
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.Query(ctx, "CREATE DATABASE otsiem", "", nil); err != nil {
		return err
	}
	owner, err := clickhouse.Open(embedded.ClickHouseOptions(embedded.NewHandler(e), "otsiem"))
	if err != nil {
		return err
	}
	if _, err := storage.Migrate(ctx, owner, storage.MigrateOptions{}); err != nil {
		return err
	}
	// Two days of plant, a day when nothing at all was logged, and the
	// morning of today until noon, "now".
	today := time.Now().UTC().Truncate(24 * time.Hour)
	periods := []sample.Period{{Start: today.AddDate(0, 0, -3), Duration: 48 * time.Hour},
		{Start: today, Duration: 12 * time.Hour}}
	now := today.Add(12 * time.Hour)
	start := time.Now()
	st, err := sample.Store(ctx, owner, sample.Config{Model: m, Source: modelPath, Periods: periods, Rate: rate,
		ScenarioEvery: 2 * time.Minute, Seed: 7})
	if err != nil {
		return err
	}
	log.Printf("stored %d simulated lines, %d findings, in %s", st.Lines, st.Findings, time.Since(start).Round(time.Second))

	users := embedded.Users{Reader: embedded.Credentials{User: "grafana", Password: "preview"},
		Writer: embedded.Credentials{User: "otsiem", Password: "preview-writer"}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = embedded.Serve(sctx, ln, embedded.Guard(embedded.NewHandler(e), users)) }()
	reader, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.HTTP, Addr: []string{ln.Addr().String()},
		Auth:        clickhouse.Auth{Database: "otsiem", Username: users.Reader.User, Password: users.Reader.Password},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		Settings:    clickhouse.Settings{"max_execution_time": 60, "enable_http_compression": 1},
	})
	if err != nil {
		return err
	}
	defer reader.Close()

	htmlDir := filepath.Join(out, "html")
	if err := os.MkdirAll(htmlDir, 0o755); err != nil {
		return err
	}
	for _, s := range dashboards.All {
		raw, err := os.ReadFile(filepath.Join("dashboards", "json", s.File))
		if err != nil {
			return err
		}
		var d dashboardJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		if r, ok := previewRange[s.File]; ok {
			d.Time.From = r
		}
		page, height, err := render(ctx, reader, &d, now, string(js), string(css))
		if err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		name := strings.TrimSuffix(s.File, ".json")
		html := filepath.Join(htmlDir, name+".html")
		if err := os.WriteFile(html, []byte(page), 0o644); err != nil {
			return err
		}
		png, _ := filepath.Abs(filepath.Join(out, name+".png"))
		abs, _ := filepath.Abs(html)
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--disable-quic",
			fmt.Sprintf("--window-size=%d,%d", pageWidth, height), "--virtual-time-budget=5000",
			"--user-data-dir="+filepath.Join(dir, "chromium"), "--screenshot="+png, "file://"+abs)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		if outb, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("chromium: %v\n%s", err, outb)
		}
		log.Printf("%s", png)
	}
	return nil
}

// previewRange narrows the ranges of the dashboards made for months to
// the days simulated.
var previewRange = map[string]string{"review.json": "now-5d", "compliance.json": "now-5d"}

// variables returns the state of a dashboard's variables, as Grafana
// loads it: lists on "All" (their options from their own queries), a
// variable without "All" on its first option, text boxes empty.
func variables(ctx context.Context, conn driver.Conn, d *dashboardJSON) (map[string]grafana.Variable, error) {
	vars := map[string]grafana.Variable{}
	for _, v := range d.Templating.List {
		var state grafana.Variable
		switch v.Type {
		case "query":
			tb, err := storage.RunSQL(ctx, conn, v.Query)
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", v.Name, err)
			}
			for _, r := range tb.Rows {
				state.Options = append(state.Options, fmt.Sprint(r[0]))
			}
		case "custom":
			state.Options = strings.Split(v.Query, ",")
		case "textbox":
			state.Selected = []string{""}
		}
		switch {
		case v.IncludeAll:
			state.All = true
		case v.Type != "textbox" && len(state.Options) > 0:
			state.Selected = state.Options[:1]
		}
		vars[v.Name] = state
	}
	return vars, nil
}

// relative reads Grafana's "now-6h" / "now-30d" against now.
func relative(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	rest, ok := strings.CutPrefix(s, "now-")
	if !ok || len(rest) < 2 {
		return now, fmt.Errorf("time %q", s)
	}
	var n int
	if _, err := fmt.Sscanf(rest[:len(rest)-1], "%d", &n); err != nil {
		return now, fmt.Errorf("time %q", s)
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[rest[len(rest)-1]]
	if unit == 0 {
		return now, fmt.Errorf("time %q", s)
	}
	return now.Add(-time.Duration(n) * unit), nil
}
