package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otsiem/otsiem/storage/chdb"
)

// TestGenerateLinesDeterministic: the same count and start give the same
// bytes, the frames split back into exactly that many lines, and most of
// them come from the ASA.
func TestGenerateLinesDeterministic(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	a, err := GenerateLines(5000, start)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateLines(5000, start)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Framed, b.Framed) {
		t.Fatal("two sets from the same count and start differ")
	}
	lines := splitFrames(t, a.Framed)
	if len(lines) != 5000 || a.N != 5000 {
		t.Fatalf("%d framed lines, N %d; want 5000", len(lines), a.N)
	}
	total := 0
	for _, n := range a.ByDevice {
		total += n
	}
	if total != 5000 {
		t.Errorf("lines by device add up to %d, want 5000", total)
	}
	if share := float64(a.ByDevice[asaDevice]) / 5000; share < 0.6 || share > 0.8 {
		t.Errorf("ASA share %.2f, want about 0.7", share)
	}
	if len(a.ByDevice) < 4 {
		t.Errorf("devices %v: want the ASA and the other vendors", a.ByDevice)
	}
	asa := 0
	for _, l := range lines {
		if strings.Contains(l, "%ASA-") {
			asa++
		}
	}
	if asa != a.ByDevice[asaDevice] {
		t.Errorf("%d lines carry %%ASA-, ByDevice says %d", asa, a.ByDevice[asaDevice])
	}
	if _, err := GenerateLines(0, start); err == nil {
		t.Error("zero lines: want an error")
	}
}

// splitFrames reads octet-counted frames (RFC 6587 §3.4.1) back.
func splitFrames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			t.Fatalf("frame without a length: %.40q", b)
		}
		n, err := strconv.Atoi(string(b[:sp]))
		if err != nil || sp+1+n > len(b) {
			t.Fatalf("bad frame length %q", b[:sp])
		}
		out = append(out, string(b[sp+1:sp+1+n]))
		b = b[sp+1+n:]
	}
	return out
}

// TestSideBySide runs the harness for real on a few thousand lines:
// rsyslog, otsiem ingest and otsiem run each account for every line, and
// the figures are sane and agree with each other. It checks no speed.
func TestSideBySide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds otsiem and runs three servers")
	}
	if _, err := chdb.Locate(""); errors.Is(err, chdb.ErrLibraryNotFound) && os.Getenv("CHDB_REQUIRED") != "1" {
		t.Skipf("embedded ClickHouse unavailable (%v)", err)
	}
	_, rsyslogErr := exec.LookPath("rsyslogd")
	if rsyslogErr != nil && os.Getenv("CI") == "true" {
		t.Fatal("rsyslogd not installed (make test installs Debian's rsyslog)")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "otsiem")
	build := exec.Command("go", "build", "-o", exe, "github.com/otsiem/otsiem/cmd/otsiem")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const n = 3000
	var progress bytes.Buffer
	rep, err := SideBySide(context.Background(), Config{Lines: n, Otsiem: exe, Model: "../examples/refinery",
		Dir: filepath.Join(dir, "work"), Timeout: 5 * time.Minute, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if rep.Lines != n || len(rep.Results) != 3 {
		t.Fatalf("lines %d, %d results; want %d lines and three targets", rep.Lines, len(rep.Results), n)
	}
	var base *Result
	for i, r := range rep.Results {
		if want := []string{TargetRsyslog, TargetIngest, TargetRun}[i]; r.Target != want {
			t.Errorf("target %d is %q, want %q", i, r.Target, want)
		}
		if r.Target == TargetRsyslog && rsyslogErr != nil {
			if r.Skipped == "" {
				t.Error("rsyslogd is missing but its target was not skipped")
			}
			continue
		}
		if r.Skipped != "" {
			t.Errorf("%s skipped: %s", r.Target, r.Skipped)
			continue
		}
		if r.Lines != n || r.Lost != 0 || r.TimedOut {
			t.Errorf("%s accounted for %d lines, lost %d; want %d and 0", r.Target, r.Lines, r.Lost, n)
		}
		if r.Seconds <= 0 || r.LinesPerSecond <= 0 || r.PeakRSSBytes == 0 || r.CPUMicrosPerLine < 0 {
			t.Errorf("%s: figures not sane: %+v", r.Target, r)
		}
		if got := r.LinesPerSecond * r.Seconds; math.Abs(got-float64(r.Lines)) > 1 {
			t.Errorf("%s: %.0f lines/s over %.3fs is %.0f lines, not %d", r.Target, r.LinesPerSecond, r.Seconds, got, r.Lines)
		}
		if r.Target != TargetRsyslog && (r.CPUMicrosPerLine <= 0 || r.GoSysBytes == 0) {
			t.Errorf("%s used no CPU or no Go memory: %+v", r.Target, r)
		}
		if r.Target == TargetRsyslog && r.GoSysBytes != 0 {
			t.Errorf("rsyslog has no Go runtime, yet %d bytes: %+v", r.GoSysBytes, r)
		}
		if r.Target == TargetRsyslog {
			base = &rep.Results[i]
		}
	}
	if base == nil {
		if len(rep.Ratios) != 0 {
			t.Errorf("ratios without rsyslog: %+v", rep.Ratios)
		}
	} else {
		if len(rep.Ratios) != 2 {
			t.Fatalf("ratios %+v: want one per otsiem target", rep.Ratios)
		}
		for i, q := range rep.Ratios {
			r := rep.Results[i+1]
			if q.Target != r.Target || math.Abs(q.Rate-r.LinesPerSecond/base.LinesPerSecond) > 1e-9 ||
				math.Abs(q.RSS-float64(r.PeakRSSBytes)/float64(base.PeakRSSBytes)) > 1e-9 {
				t.Errorf("ratio %+v does not follow from %+v and rsyslog's %+v", q, r, *base)
			}
		}
	}
	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{TargetRsyslog, TargetIngest, TargetRun, "lines/s", "CPU µs/line", "peak RSS", "Go holds"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Lines != n || len(back.Results) != 3 || back.Results[2].Lines != rep.Results[2].Lines {
		t.Errorf("JSON does not carry the report back: %s", js.String())
	}
	t.Logf("\n%s", table.String())
}

// TestWithExtra: extra configuration merges into the harness's mapping by
// mapping, so a storage.batch setting keeps storage.embedded; scalars and
// lists replace; bad YAML is an error.
func TestWithExtra(t *testing.T) {
	base := map[string]any{"log_level": "warn", "storage": map[string]any{"embedded": map[string]any{"listen": "127.0.0.1:1"}}}
	out, err := withExtra(base, "log_level: error\nmemory_limit: 1GiB\nstorage: {batch: {rows: 200000}}\n")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	st, _ := got["storage"].(map[string]any)
	emb, _ := st["embedded"].(map[string]any)
	batch, _ := st["batch"].(map[string]any)
	if got["log_level"] != "error" || got["memory_limit"] != "1GiB" || emb["listen"] != "127.0.0.1:1" || batch["rows"] != 200000 {
		t.Errorf("merged configuration:\n%s", out)
	}
	if _, err := withExtra(map[string]any{}, "storage: [unclosed"); err == nil {
		t.Error("bad YAML: want an error")
	}
	if out, err := withExtra(map[string]any{"a": 1}, ""); err != nil || !strings.Contains(string(out), "a: 1") {
		t.Errorf("no extra: %q, %v", out, err)
	}
}
