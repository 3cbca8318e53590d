package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/storage/chdb"
)

// TestQueryAndFindings runs both commands on one embedded data directory
// (the engine allows one per process), as after `otsiem run` stopped.
func TestQueryAndFindings(t *testing.T) {
	if _, err := chdb.Locate(""); err != nil && os.Getenv("CHDB_REQUIRED") != "1" {
		t.Skipf("embedded ClickHouse unavailable: %v", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "otsiem.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := dispatch(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	run("query", "--config", cfg, `INSERT INTO finding_revisions (finding_id, revision, last_seen, first_seen, count, type, severity, conduit, summary)
		VALUES ('f1', 1, now64(), now64(), 1, 'violation', 'high', 'C1', 'one'), ('f1', 2, now64(), now64(), 7, 'violation', 'critical', 'C1', 'seven'),
		       ('f2', 1, now64(), now64(), 1, 'scan', 'medium', '', 'scan')`)
	if got := run("query", "--config", cfg, "--format", "csv", "SELECT finding_id, count FROM findings ORDER BY finding_id"); got != "finding_id,count\nf1,7\nf2,1\n" {
		t.Errorf("query csv:\n%s", got)
	}
	got := run("findings", "--config", cfg, "--severity", "critical,high", "--format", "json")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	var f map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &f) != nil || f["finding_id"] != "f1" || f["count"] != float64(7) || f["summary"] != "seven" {
		t.Errorf("findings json:\n%s", got)
	}
	if got := run("findings", "--config", cfg); !strings.Contains(got, "FINDING_ID") || !strings.Contains(got, "scan") {
		t.Errorf("findings table:\n%s", got)
	}

	// otsiem report on the same store: the findings above are open now.
	model := filepath.Join("..", "..", "examples", "refinery")
	got = run("report", "--config", cfg, "--model", model, "--period", "1d", "--to", "now", "--format", "json")
	var r struct {
		Events   uint64
		Empty    bool
		Model    struct{ Hash string }
		Evidence struct {
			OpenFindings []struct{ Findings uint64 } `json:"open_findings"`
		}
	}
	if err := json.Unmarshal([]byte(got), &r); err != nil || !r.Empty || len(r.Model.Hash) != 64 || len(r.Evidence.OpenFindings) != 2 {
		t.Errorf("report json (%v):\n%.800s", err, got)
	}
	pdf := filepath.Join(dir, "r.pdf")
	run("report", "--config", cfg, "--model", model, "--from", "2026-03-01", "--to", "2026-03-08", "--format", "pdf", "--out", pdf)
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("report --out %s: %v", pdf, err)
	}
	var errb bytes.Buffer
	if code := dispatch([]string{"report", "--config", cfg, "--format", "docx"}, io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "docx") {
		t.Errorf("bad format: exit %d: %s", code, errb.String())
	}
}
