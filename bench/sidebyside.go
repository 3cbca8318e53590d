// Package bench measures otsiem's throughput and memory: side by side with
// rsyslog on the same lines over one TCP connection (SideBySide, `make
// bench`), and the whole pipeline's latency from a sent line to its stored
// finding (Latency, `otsiem bench`).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
	"go.yaml.in/yaml/v3"
)

// DefaultLines is how many lines `make bench` sends to each target.
const DefaultLines = 300_000

// Config configures SideBySide.
type Config struct {
	Lines    int    // lines sent to each target; default DefaultLines
	Otsiem   string // the otsiem executable (required)
	Model    string // the model directory otsiem judges by (required)
	Rsyslogd string // rsyslogd; "" looks it up on PATH, and without it that target is skipped
	// Dir holds each target's configuration and data; default a fresh
	// temporary directory, removed afterwards.
	Dir string
	// Config is YAML merged into otsiem's configuration (see withExtra),
	// e.g. "memory_limit: 1GiB" or "storage: {batch: {rows: 200000}}".
	Config string
	// Timeout bounds the wait for one target to account for every line;
	// default 10 minutes.
	Timeout time.Duration
	// Progress gets one line as each target starts and ends; nil: none.
	Progress io.Writer
}

// Result is one target's figures. Time runs from the first byte sent to
// the moment the target has accounted for every line; CPU is the target
// process's (all threads, user and system) over that time; peak RSS is
// the process's high-water mark (VmHWM) since it started.
type Result struct {
	Target   string `json:"target"`
	Pipeline string `json:"pipeline"` // what the target does with a line
	Skipped  string `json:"skipped,omitempty"`
	// Lines is what the target accounted for: lines in rsyslog's file,
	// events and dead letters ingest handed to JetStream, rows stored by
	// otsiem run (events FINAL plus dead letters).
	Lines int `json:"lines"`
	// Lost is what the target had not accounted for when measuring
	// ended; with TimedOut, measuring ended at Config.Timeout and those
	// lines may still have been on their way.
	Lost             int     `json:"lost"`
	TimedOut         bool    `json:"timed_out,omitempty"`
	Seconds          float64 `json:"seconds"`
	LinesPerSecond   float64 `json:"lines_per_second"`
	CPUMicrosPerLine float64 `json:"cpu_us_per_line"`
	PeakRSSBytes     uint64  `json:"peak_rss_bytes"`
	// GoSysBytes is what otsiem's Go runtime had taken from the system
	// when the last line was accounted for (go_memstats_sys_bytes, which
	// hardly ever shrinks); the rest of the peak RSS is the embedded
	// ClickHouse engine and the C libraries. 0 for rsyslog.
	GoSysBytes uint64 `json:"go_sys_bytes,omitempty"`
	// LoadAverage is the machine's one-minute load average as the target
	// started: other work competing for the same cores.
	LoadAverage float64 `json:"load_average"`
}

// Ratio compares an otsiem target with rsyslog measured in the same run.
type Ratio struct {
	Target string  `json:"target"`
	Rate   float64 `json:"rate"`     // its lines/s ÷ rsyslog's
	CPU    float64 `json:"cpu"`      // its CPU per line ÷ rsyslog's
	RSS    float64 `json:"peak_rss"` // its peak RSS ÷ rsyslog's
}

// Report is one side-by-side run.
type Report struct {
	Started  time.Time      `json:"started"`
	CPUs     int            `json:"cpus"`
	Rsyslog  string         `json:"rsyslog,omitempty"` // its version line
	Lines    int            `json:"lines"`
	Bytes    int            `json:"bytes"` // sent to each target, octet-counted frames
	ByDevice map[string]int `json:"lines_by_device"`
	Results  []Result       `json:"results"`
	Ratios   []Ratio        `json:"ratios,omitempty"`
}

// The targets, in the order they run.
const (
	TargetRsyslog = "rsyslog"
	TargetIngest  = "otsiem ingest"
	TargetRun     = "otsiem run"
)

// SideBySide generates one deterministic set of lines (GenerateLines) and
// sends it, over one TCP connection each, to rsyslog (TCP → file, no
// parsing), to `otsiem ingest` alone (TCP → decode → JetStream
// acknowledged) and to `otsiem run` (stored in ClickHouse with the rollups,
// every line counted back). Each target is a fresh process on a fresh data
// directory, started and stopped in turn. A target that accounts for fewer
// lines than sent within the timeout is reported with its loss; an error
// is returned only when a target cannot run at all.
func SideBySide(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Lines <= 0 {
		cfg.Lines = DefaultLines
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Otsiem == "" || cfg.Model == "" {
		return nil, errors.New("bench: the otsiem executable and the model directory are required")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "otsiem-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	// Absolute: otsiem reads relative paths in its configuration file
	// from the file's directory.
	var err error
	if cfg.Model, err = filepath.Abs(cfg.Model); err != nil {
		return nil, err
	}
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return nil, err
	}
	rep := &Report{Started: time.Now().UTC(), CPUs: runtime.NumCPU()}
	// Event times end a minute before now: otsiem holds lines whose
	// clock runs ahead of its own.
	span := time.Duration(float64(cfg.Lines) / 10_000 * float64(time.Second))
	lines, err := GenerateLines(cfg.Lines, time.Now().Add(-span-time.Minute).Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	rep.Lines, rep.Bytes, rep.ByDevice = lines.N, len(lines.Framed), lines.ByDevice

	rsyslogd := cfg.Rsyslogd
	if rsyslogd == "" {
		rsyslogd, _ = exec.LookPath("rsyslogd")
	}
	targets := []struct {
		name, pipeline string
		start          func(context.Context, string) (*process, error)
		skip           string
	}{
		{TargetRsyslog, "TCP → file, no parsing", func(ctx context.Context, dir string) (*process, error) {
			return startRsyslog(ctx, rsyslogd, dir)
		}, ""},
		{TargetIngest, "TCP → decode → JetStream acknowledged", func(ctx context.Context, dir string) (*process, error) {
			return startOtsiem(ctx, cfg, dir, "ingest")
		}, ""},
		{TargetRun, "TCP → JetStream → verdicts, findings → ClickHouse with rollups", func(ctx context.Context, dir string) (*process, error) {
			return startOtsiem(ctx, cfg, dir, "run")
		}, ""},
	}
	if rsyslogd == "" {
		targets[0].skip = "rsyslogd not found (Debian: apt-get install rsyslog; make bench installs it)"
	} else if out, err := exec.CommandContext(ctx, rsyslogd, "-v").Output(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		first, _, _ = strings.Cut(first, " compiled with")
		rep.Rsyslog = strings.Join(strings.Fields(first), " ")
	}
	for _, t := range targets {
		r := Result{Target: t.name, Pipeline: t.pipeline, Skipped: t.skip}
		if t.skip != "" {
			fmt.Fprintf(cfg.Progress, "%-14s skipped: %s\n", t.name, t.skip)
			rep.Results = append(rep.Results, r)
			continue
		}
		if avg, err := loadAverage(); err == nil {
			r.LoadAverage = avg
		}
		fmt.Fprintf(cfg.Progress, "%-14s %d lines over one TCP connection ...\n", t.name, lines.N)
		dir := filepath.Join(cfg.Dir, strings.ReplaceAll(t.name, " ", "-"))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		p, err := t.start(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", t.name, err)
		}
		err = p.measure(ctx, lines, cfg.Timeout, &r)
		if serr := p.stop(); err == nil && serr != nil {
			err = serr
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", t.name, err)
		}
		fmt.Fprintf(cfg.Progress, "%-14s %s\n", t.name, r.summary())
		rep.Results = append(rep.Results, r)
	}
	rep.Ratios = ratios(rep.Results)
	return rep, nil
}

func (r Result) summary() string {
	s := fmt.Sprintf("%d of %d lines in %.2fs: %.0f lines/s, %.1f µs CPU per line, peak RSS %s", r.Lines, r.Lines+r.Lost,
		r.Seconds, r.LinesPerSecond, r.CPUMicrosPerLine, mib(r.PeakRSSBytes))
	if r.GoSysBytes > 0 {
		s += " (Go runtime " + mib(r.GoSysBytes) + ")"
	}
	if r.TimedOut {
		s += "; timed out"
	}
	return s
}

func ratios(results []Result) []Ratio {
	var base *Result
	for i := range results {
		if results[i].Target == TargetRsyslog && results[i].Skipped == "" && results[i].LinesPerSecond > 0 {
			base = &results[i]
		}
	}
	if base == nil {
		return nil
	}
	var out []Ratio
	for _, r := range results {
		if r.Target == base.Target || r.Skipped != "" || r.Lines == 0 {
			continue
		}
		out = append(out, Ratio{Target: r.Target, Rate: r.LinesPerSecond / base.LinesPerSecond,
			CPU: r.CPUMicrosPerLine / base.CPUMicrosPerLine, RSS: float64(r.PeakRSSBytes) / float64(base.PeakRSSBytes)})
	}
	return out
}

// process is one running target.
type process struct {
	cmd    *exec.Cmd
	addr   string // its syslog TCP listener
	stderr *tailBuffer
	exited chan struct{}
	// accounted returns how many lines the target has accounted for so
	// far, and whether that figure is settled (nothing still in flight).
	accounted func(ctx context.Context) (n int, settled bool, err error)
	// stored, when set, counts the lines stored exactly, once accounted
	// says all are in (rows after deduplication).
	stored func(ctx context.Context) (int, error)
	// goSys, when set, is the Go runtime's share of memory (bytes).
	goSys func(ctx context.Context) (uint64, error)
}

func start(ctx context.Context, name string, args ...string) (*process, error) {
	p := &process{cmd: exec.CommandContext(ctx, name, args...), stderr: &tailBuffer{max: 16 << 10}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = time.Minute
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// ready waits until addr accepts connections, or the process exits.
func (p *process) ready(ctx context.Context, addr string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before listening on %s: %s", addr, p.stderr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after 2 minutes: %s", addr, p.stderr)
		}
	}
}

// measure sends the lines over one connection, waits until the target
// has accounted for all of them (or the timeout), and fills r.
func (p *process) measure(ctx context.Context, lines *Lines, timeout time.Duration, r *Result) error {
	pid := p.cmd.Process.Pid
	before, err := readUsage(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		return err
	}
	if _, err := c.Write(lines.Framed); err != nil {
		c.Close()
		return fmt.Errorf("send: %w", err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	deadline := start.Add(timeout)
	n := 0
	for {
		var settled bool
		if n, settled, err = p.accounted(ctx); err != nil {
			return err
		}
		if n >= lines.N && settled {
			break
		}
		if time.Now().After(deadline) {
			r.TimedOut = true
			break
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited with %d of %d lines accounted for: %s", n, lines.N, p.stderr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	after, err := readUsage(pid)
	if err != nil {
		return err
	}
	if p.stored != nil {
		if n, err = p.stored(ctx); err != nil {
			return err
		}
	}
	if p.goSys != nil {
		if r.GoSysBytes, err = p.goSys(ctx); err != nil {
			return err
		}
	}
	r.Lines, r.Lost = min(n, lines.N), max(lines.N-n, 0)
	r.Seconds = elapsed.Seconds()
	r.LinesPerSecond = float64(r.Lines) / elapsed.Seconds()
	if r.Lines > 0 {
		r.CPUMicrosPerLine = float64((after.cpu - before.cpu).Microseconds()) / float64(r.Lines)
	}
	r.PeakRSSBytes = after.peakRSS
	return nil
}

// stop asks the target to stop (SIGTERM) and waits for it.
func (p *process) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("did not stop within 2 minutes of SIGTERM: %s", p.stderr)
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			return fmt.Errorf("%s: %s", st, p.stderr)
		}
	}
	return nil
}

// startRsyslog runs rsyslogd in the foreground with one TCP input written
// to a file as received (the raw message, one per line).
func startRsyslog(ctx context.Context, rsyslogd, dir string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "lines.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
template(name="raw" type="string" string="%%rawmsg%%\n")
ruleset(name="bench") {
  action(type="omfile" file=%q template="raw")
}
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="bench")
`, dir, out, port)
	path := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p, err := start(ctx, rsyslogd, "-n", "-f", path, "-i", filepath.Join(dir, "rsyslogd.pid"))
	if err != nil {
		return nil, err
	}
	p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := p.ready(ctx, p.addr); err != nil {
		_ = p.stop()
		return nil, err
	}
	var (
		f     *os.File
		lines int
		buf   = make([]byte, 1<<20)
	)
	p.accounted = func(context.Context) (int, bool, error) {
		if f == nil {
			if f, err = os.Open(out); errors.Is(err, os.ErrNotExist) {
				return 0, false, nil
			} else if err != nil {
				return 0, false, err
			}
		}
		for {
			n, err := f.Read(buf)
			lines += bytes.Count(buf[:n], []byte{'\n'})
			if err == io.EOF || n == 0 {
				return lines, true, nil
			}
			if err != nil {
				return lines, false, err
			}
		}
	}
	return p, nil
}

// startOtsiem runs `otsiem ingest` or `otsiem run` on a fresh data
// directory: syslog on one TCP listener, metrics on another port, and
// (for run) the embedded ClickHouse interface for counting rows.
func startOtsiem(ctx context.Context, cfg Config, dir, stage string) (*process, error) {
	var ports [3]int
	for i := range ports {
		var err error
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	base := map[string]any{
		"model":     cfg.Model,
		"data_dir":  filepath.Join(dir, "data"),
		"log_level": "warn",
		"http":      map[string]any{"address": "127.0.0.1:" + strconv.Itoa(ports[0])},
		"ingest": map[string]any{"listeners": []any{
			map[string]any{"name": "tcp", "protocol": "tcp", "address": "127.0.0.1:" + strconv.Itoa(ports[1])}}},
		"storage": map[string]any{"embedded": map[string]any{
			"listen": "127.0.0.1:" + strconv.Itoa(ports[2]),
			"reader": map[string]any{"user": "bench", "password": password}}},
	}
	yaml, err := withExtra(base, cfg.Config)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "otsiem.yaml")
	if err := os.WriteFile(path, yaml, 0o600); err != nil {
		return nil, err
	}
	args := []string{stage, "--config", path}
	if stage == "run" {
		args = append(args, "--console", "0")
	}
	p, err := start(ctx, cfg.Otsiem, args...)
	if err != nil {
		return nil, err
	}
	metrics := "http://127.0.0.1:" + strconv.Itoa(ports[0]) + "/metrics"
	p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	// Ready when both syslog and the metrics are served (`otsiem run`
	// opens its listeners before its operations endpoint).
	for _, addr := range []string{p.addr, net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))} {
		if err := p.ready(ctx, addr); err != nil {
			_ = p.stop()
			return nil, err
		}
	}
	p.goSys = func(ctx context.Context) (uint64, error) {
		m, err := scrape(ctx, metrics)
		return uint64(m.sum("go_memstats_sys_bytes")), err
	}
	if stage == "ingest" {
		// Every line is an event or a dead letter handed to the
		// batcher; settled once nothing awaits JetStream's
		// acknowledgement. A last partial batch waits at most the
		// batcher's linger (20 ms) before it is published: that is the
		// error of this figure.
		p.accounted = func(ctx context.Context) (int, bool, error) {
			m, err := scrape(ctx, metrics)
			if err != nil {
				return 0, false, err
			}
			n := m.sum("otsiem_ingest_events_total") + m.sum("otsiem_ingest_deadletters_total")
			return int(n), m.sum("otsiem_ingest_publish_pending") == 0, nil
		}
		return p, nil
	}
	// run: the writer's committed rows, then the rows themselves.
	p.accounted = func(ctx context.Context) (int, bool, error) {
		m, err := scrape(ctx, metrics)
		if err != nil {
			return 0, false, err
		}
		n := m.value("otsiem_store_rows_written_total", "table", "events") +
			m.value("otsiem_store_rows_written_total", "table", "deadletter")
		return int(n), true, nil
	}
	ch := "http://127.0.0.1:" + strconv.Itoa(ports[2]) + "/?database=otsiem"
	p.stored = func(ctx context.Context) (int, error) {
		n, err := query(ctx, ch, "bench", password, "SELECT (SELECT count() FROM events FINAL) + (SELECT count() FROM deadletter)")
		if err != nil {
			return 0, fmt.Errorf("count stored rows: %w", err)
		}
		return n, nil
	}
	return p, nil
}

// withExtra returns base as YAML with extra (YAML) merged into it: a
// mapping in extra merges key by key into base's, anything else in extra
// replaces base's value. So "storage: {batch: {rows: 200000}}" keeps the
// harness's own storage.embedded settings.
func withExtra(base map[string]any, extra string) ([]byte, error) {
	var more map[string]any
	if err := yaml.Unmarshal([]byte(extra), &more); err != nil {
		return nil, fmt.Errorf("extra configuration: %w", err)
	}
	merge(base, more)
	return yaml.Marshal(base)
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// metricFamilies is one scrape of a /metrics endpoint.
type metricFamilies map[string]*dto.MetricFamily

func scrape(ctx context.Context, url string) (metricFamilies, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the metric's value with the given label, 0 when absent.
func (m metricFamilies) value(name, label, value string) float64 {
	var v float64
	if f := m[name]; f != nil {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					v += sampleValue(s)
				}
			}
		}
	}
	return v
}

// sum adds the metric's values over every label set, 0 when absent.
func (m metricFamilies) sum(name string) float64 {
	var v float64
	if f := m[name]; f != nil {
		for _, s := range f.GetMetric() {
			v += sampleValue(s)
		}
	}
	return v
}

func sampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	}
	return 0
}

// query runs one SQL statement returning one number over ClickHouse's
// HTTP interface.
func query(ctx context.Context, base, user, password, sql string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"&"+url.Values{"query": {sql}}.Encode(), nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return strconv.Atoi(string(bytes.TrimSpace(body)))
}

// randomPassword is a fresh password for the engine's reader account.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func loadAverage() (float64, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, err
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return 0, err
	}
	return l.Load1, nil
}

// tailBuffer keeps the last max bytes a process wrote, for errors.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	s := strings.TrimSpace(string(t.buf))
	t.mu.Unlock()
	if s == "" {
		return "(no output)"
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	var last []string
	for sc.Scan() {
		last = append(last, sc.Text())
	}
	if len(last) > 10 {
		last = last[len(last)-10:]
	}
	return strings.Join(last, "\n")
}
