package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/otsiem/otsiem/bench"
)

func init() {
	register(command{name: "bench", summary: "measure throughput and memory: the pipeline's latency in one process, or side by side with rsyslog", raw: runBench})
}

// runBench is `otsiem bench`: by default the whole pipeline in this
// process under the simulator's load, reporting the latency from a sent
// line to its stored finding (bench.Latency); with --side-by-side, the
// same lines to rsyslog, `otsiem ingest` and `otsiem run`, each its own
// process (bench.SideBySide, what `make bench` prints).
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 60*time.Second, "how long to send")
	rate := fs.Float64("rate", 0, "lines per second (0: as fast as the pipeline accepts)")
	dataDir := fs.String("data", "", "data directory (default: a fresh temporary one, removed afterwards)")
	markerEvery := fs.Duration("marker-every", 250*time.Millisecond, "how often to send a line whose finding's storage is timed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of sending to this file")
	outage := fs.Duration("outage", 0, "take ClickHouse away for this long, from a third of the sending on: the writer's inserts fail and are retried")
	config := fs.String("config", "", "extra configuration (YAML) for the pipeline, e.g. \"memory_limit: 1GiB\"")
	sideBySide := fs.Bool("side-by-side", false, "send the same lines over one TCP connection to rsyslog, otsiem ingest and otsiem run, each its own process: lines/s, CPU per line, peak RSS and the ratios")
	lines := fs.Int("lines", bench.DefaultLines, "with --side-by-side: lines sent to each")
	model := fs.String("model", "examples/refinery", "with --side-by-side: the model directory")
	jsonOut := fs.String("json", "", "with --side-by-side: also write the figures as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *sideBySide {
		return runSideBySide(bench.Config{Lines: *lines, Model: *model, Dir: *dataDir, Config: *config, Progress: stderr}, *jsonOut, stdout, stderr)
	}
	dir := *dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "otsiem-bench-"); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
	}
	// Absolute: otsiem reads relative paths in its configuration file
	// from the file's directory.
	dir, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfgFile := filepath.Join(dir, "bench.yaml")
	cfg := fmt.Sprintf("data_dir: %q\nlog_level: warn\nhttp: {address: \"off\"}\ningest:\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n%s\n", filepath.Join(dir, "data"), *config)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	s, code := newServiceFrom("bench", cfgFile, stderr)
	if s == nil {
		return code
	}
	// The bench measures the pipeline and serves nothing: no port of a
	// running otsiem (or of another bench) is in its way.
	s.cfg.Storage.Embedded.Listen = "off"
	ctx := context.Background()
	away := &bench.Outage{}
	s.storeConn = away.Wrap
	p, err := s.startPipeline(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// One embedded engine per process: the bench shares the pipeline's.
	rep, err := bench.Latency(ctx, bench.Pipeline{Syslog: p.tcpAddr(), Store: p.store.db.Conn}, bench.LatencyConfig{
		Duration: *duration, Rate: *rate, MarkerEvery: *markerEvery, Outage: away, OutageFor: *outage,
		CPUProfile: *cpuProfile, MemProfile: *memProfile, Log: stderr})
	if cerr := p.close(s); cerr != nil {
		fmt.Fprintln(stderr, "shutdown:", cerr)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	_ = rep.WriteText(stdout)
	if rep.Lost() != 0 {
		return 1
	}
	return 0
}

// runSideBySide runs bench.SideBySide with this executable as otsiem.
func runSideBySide(cfg bench.Config, jsonOut string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfg.Otsiem = exe
	rep, err := bench.SideBySide(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout)
	_ = rep.WriteTable(stdout)
	if jsonOut != "" {
		f, err := os.Create(jsonOut)
		if err == nil {
			err = rep.WriteJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	for _, r := range rep.Results {
		if r.Lost > 0 {
			return 1
		}
	}
	return 0
}
