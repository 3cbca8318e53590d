package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/storage/chdb"
)

// TestQueryAndFindings runs the reading commands and findings ack/close on
// one embedded data directory (the engine allows one per process), as
// after `otsiem run` stopped.
func TestQueryAndFindings(t *testing.T) {
	if _, err := chdb.Locate(""); err != nil && os.Getenv("CHDB_REQUIRED") != "1" {
		t.Skipf("embedded ClickHouse unavailable: %v", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "otsiem.yaml")
	model, err := filepath.Abs(filepath.Join("..", "..", "examples", "refinery"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\nmodel: "+model+"\nstorage: {retention: 720h}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out, errs
	}

	// No store yet: say where, create nothing.
	store := filepath.Join(dir, "clickhouse")
	for _, args := range [][]string{{"findings", "--config", cfg}, {"query", "--config", cfg, "SELECT 1"}, {"findings", "ack", "--config", cfg, "0123456789ab"}} {
		code, _, errs := run(t, args...)
		if code != 1 || !strings.Contains(errs, "no otsiem store at "+store) || !strings.Contains(errs, "--config FILE") {
			t.Errorf("%v without a store: exit %d: %s", args, code, errs)
		}
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("a reading command created %s", store)
	}
	// migrate takes the store and its retention from the configuration.
	if out, _ := must("migrate", "--config", cfg); !strings.Contains(out, "applied 0001_") {
		t.Errorf("migrate: %s", out)
	}
	if out, _ := must("query", "--config", cfg, "--format", "csv", "SELECT count() FROM system.tables WHERE database = 'otsiem' AND name IN ('events', 'deadletter') AND engine_full LIKE '%toIntervalDay(30)%'"); out != "count()\n2\n" {
		t.Errorf("migrate did not set the configured 30-day retention: %q", out)
	}
	if out, _ := must("migrate", "--config", cfg); !strings.Contains(out, "up to date") {
		t.Errorf("migrate again: %s", out)
	}
	// query reads unless told to write: a DROP is refused, the table stays.
	if code, _, errs := run(t, "query", "--config", cfg, "DROP TABLE events"); code != 1 || !strings.Contains(errs, "--write") {
		t.Errorf("DROP without --write: exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "query", "--config", cfg, "SELECT", "1"); code != 2 || !strings.Contains(errs, "quote it") {
		t.Errorf("unquoted SQL: exit %d: %s", code, errs)
	}
	if out, _ := must("query", "--config", cfg, "EXISTS TABLE events", "--format", "csv"); !strings.HasSuffix(out, "\n1\n") {
		t.Errorf("events table after a refused DROP: %q", out)
	}

	// f1 (two revisions), a scan, an old diode_down, two findings sharing
	// an id prefix, and text a syslog sender controls: a device name with
	// terminal escapes, a summary that is a spreadsheet formula.
	must("query", "--write", "--config", cfg, `INSERT INTO finding_revisions (finding_id, revision, last_seen, first_seen, count, type, severity, status, conduit, device, summary) VALUES
		('f1f1f1f1f1f1f1f1', 1, now64(), now64(), 1, 'violation', 'high', 'open', 'C1', 'fw1', 'one'),
		('f1f1f1f1f1f1f1f1', 2, now64(), now64(), 7, 'violation', 'critical', 'open', 'C1', 'fw1', 'seven'),
		('5ca75ca75ca75ca7', 1, now64(), now64(), 1, 'scan', 'medium', 'open', '', 'fw1', '=HYPERLINK("http://evil","click")'),
		('01d01d01d01d01d0', 1, now64() - INTERVAL 40 DAY, now64() - INTERVAL 40 DAY, 1, 'diode_down', 'critical', 'closed', 'C2', 'dd', 'old outage'),
		('aaaaaa0000000001', 1, now64() - INTERVAL 2 HOUR, now64() - INTERVAL 2 HOUR, 1, 'blocked', 'low', 'open', 'C1', 'fw`+"\x1b]0;pwned\x07\x1b[2J"+`', 'evil device'),
		('aaaaaa0000000002', 1, now64() - INTERVAL 3 HOUR, now64() - INTERVAL 3 HOUR, 1, 'blocked', 'low', 'open', 'C1', 'fw2', 'fine')`)
	if got, _ := must("query", "--config", cfg, "--format", "csv", "SELECT finding_id, count FROM findings WHERE type = 'violation'"); got != "finding_id,count\nf1f1f1f1f1f1f1f1,7\n" {
		t.Errorf("query csv:\n%s", got)
	}
	out, _ := must("findings", "--config", cfg, "--severity", "critical,high", "--format", "json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var f map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &f) != nil || f["finding_id"] != "f1f1f1f1f1f1f1f1" || f["count"] != float64(7) ||
		f["summary"] != "seven" || f["state"] != "open" {
		t.Errorf("findings json:\n%s", out)
	}
	out, _ = must("findings", "--config", cfg)
	if !strings.Contains(out, "FINDING_ID") || !strings.Contains(out, "f1f1f1f1f1f1  ") || strings.Contains(out, "01d01d") {
		t.Errorf("findings table:\n%s", out)
	}

	// Terminal and CSV output neutralise control characters; CSV cells
	// never start a formula; the store keeps the bytes.
	for _, args := range [][]string{{"findings", "--config", cfg, "--format", "csv"}, {"findings", "--config", cfg, "--format", "json"},
		{"query", "--config", cfg, "SELECT device FROM findings"}, {"query", "--config", cfg, "--format", "csv", "SELECT device, summary FROM findings"}} {
		out, _ := must(args...)
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%v: raw control characters in:\n%q", args, out)
		}
		if slices.Contains(args, "csv") {
			if !strings.Contains(out, `fw\x1b]0;pwned\x07\x1b[2J`) {
				t.Errorf("%v: the escapes are not shown:\n%s", args, out)
			}
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				for _, c := range r {
					if strings.HasPrefix(c, "=") {
						t.Errorf("%v: formula cell %q", args, c)
					}
				}
			}
		}
	}
	out, _ = must("query", "--config", cfg, "--format", "json", "SELECT hex(device) AS h FROM findings WHERE finding_id = 'aaaaaa0000000001'")
	if !strings.Contains(out, "1B5D303B70776E6564071B5B324A") {
		t.Errorf("stored device not raw: %s", out)
	}

	// Nothing matches: say so and why, keep the header, exit 0.
	out, errs := must("findings", "--config", cfg, "--type", "diode_down")
	if !strings.HasPrefix(out, "FINDING_ID") || !strings.Contains(errs, "no diode_down findings last seen in the last 24h; 1 older (the newest last seen ") ||
		!strings.Contains(errs, "— use --since 41d") {
		t.Errorf("old findings: %q %q", out, errs)
	}
	if out, _ = must("findings", "--config", cfg, "--type", "diode_down", "--since", "41d"); !strings.Contains(out, "old outage") {
		t.Errorf("--since 41d:\n%s", out)
	}
	// A span in --since counts back from --until.
	if out, _ = must("findings", "--config", cfg, "--type", "diode_down", "--until", "39d", "--since", "2d"); !strings.Contains(out, "old outage") {
		t.Errorf("--until 39d --since 2d:\n%s", out)
	}
	if _, errs = must("findings", "--config", cfg, "--type", "diode_down", "--until", "38d"); !strings.Contains(errs, "— use --since 3d") {
		t.Errorf("--until 38d: %s", errs)
	}
	if code, _, errs := run(t, "findings", "--config", cfg, "--since", "2026-11-28", "--until", "2026-11-27"); code != 2 || !strings.Contains(errs, "is not before --until") {
		t.Errorf("inverted window: exit %d: %s", code, errs)
	}
	if out, _ = must("findings", "--config", cfg, "--type", "diode_down", "--format", "csv"); !strings.HasPrefix(out, "finding_id,last_seen,severity,state,") || strings.Count(out, "\n") != 1 {
		t.Errorf("empty csv: %q", out)
	}
	for _, bad := range [][]string{{"--severity", "bogus"}, {"--type", "nonsense"}, {"--state", "done"}, {"--since", "yesterday"}} {
		code, _, errs := run(t, append([]string{"findings", "--config", cfg}, bad...)...)
		if code != 2 || !strings.Contains(errs, "otsiem findings: ") || (bad[0] != "--since" && !strings.Contains(errs, "; valid: ")) {
			t.Errorf("%v: exit %d: %s", bad, code, errs)
		}
	}

	// Acknowledge, close, reopen with new evidence.
	out, _ = must("findings", "ack", "--config", cfg, "f1f1f1", "--note", "asked the MES team", "--by", "ana")
	if !strings.HasPrefix(out, "acknowledged f1f1f1f1f1f1 (was open, revision 2) by ana: critical violation: seven") {
		t.Errorf("ack: %s", out)
	}
	must("findings", "--config", cfg, "close", "5ca75ca75ca7")
	// A closed finding is not reopened by an ack unless asked to.
	if code, _, errs := run(t, "findings", "ack", "--config", cfg, "5ca75ca75ca7"); code != 1 ||
		!strings.Contains(errs, "nothing acknowledged: 5ca75ca75ca7 is closed (handled): acknowledging it would reopen it; give --reopen") {
		t.Errorf("ack of a closed finding: exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "findings", "ack", "--config", cfg, "aaaaaa", "f1f1f1"); code != 1 || !strings.Contains(errs, "aaaaaa names 2 findings") {
		t.Errorf("ambiguous prefix: exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "findings", "close", "--config", cfg, "f1f"); code != 2 || !strings.Contains(errs, "prefix of 6 or more") {
		t.Errorf("short prefix: exit %d: %s", code, errs)
	}
	out, _ = must("query", "--config", cfg, "--format", "csv", "SELECT finding_id, action, by, note FROM finding_acks ORDER BY at")
	if out != "finding_id,action,by,note\nf1f1f1f1f1f1f1f1,acknowledged,ana,asked the MES team\n5ca75ca75ca75ca7,closed,"+defaultUser()+",\n" {
		t.Errorf("finding_acks (nothing from the refused ack):\n%s", out)
	}
	states := func() string {
		out, _ := must("findings", "--config", cfg, "--state", "open,acknowledged,closed,absorbed", "--format", "csv")
		recs, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
		var s []string
		for _, r := range recs[1:] {
			s = append(s, r[0][:6]+"="+r[3])
		}
		return strings.Join(s, " ")
	}
	if got := states(); got != "5ca75c=closed f1f1f1=acknowledged aaaaaa=open aaaaaa=open" {
		t.Errorf("states: %s", got)
	}
	must("query", "--write", "--config", cfg, `INSERT INTO finding_revisions (finding_id, revision, last_seen, first_seen, count, type, severity, status, summary)
		VALUES ('f1f1f1f1f1f1f1f1', 3, now64() + INTERVAL 1 SECOND, now64(), 8, 'violation', 'critical', 'open', 'eight')`)
	if got := states(); !strings.HasPrefix(got, "f1f1f1=open 5ca75c=closed") {
		t.Errorf("after a new revision: %s", got)
	}
	if out, _ = must("findings", "--config", cfg, "--state", "closed"); !strings.Contains(out, "5ca75ca75ca7") || strings.Contains(out, "f1f1f1") {
		t.Errorf("--state closed:\n%s", out)
	}

	if out, _ = must("findings", "ack", "5ca75ca75ca7", "--reopen", "--config", cfg); !strings.HasPrefix(out, "acknowledged 5ca75ca75ca7 (was closed, revision 1)") {
		t.Errorf("ack --reopen of a closed finding: %s", out)
	}
	// Conduits and zones are the model's.
	for _, bad := range [][]string{{"--conduit", "C9"}, {"--zone", "Z9"}} {
		code, _, errs := run(t, append([]string{"findings", "--config", cfg}, bad...)...)
		what := strings.TrimPrefix(bad[0], "--")
		if code != 2 || !strings.Contains(errs, "otsiem findings: unknown "+what+" \""+bad[1]+"\"; valid: ") ||
			!strings.Contains(errs, map[string]string{"conduit": "C1-BPCS-OPS, C2-OPS-DMZ, C3-DMZ-ENT", "zone": "Z1-SIS"}[what]) {
			t.Errorf("%v: exit %d: %s", bad, code, errs)
		}
	}
	if _, errs := must("findings", "--config", cfg, "--conduit", "C1-BPCS-OPS", "--zone", "Z2-BPCS"); !strings.Contains(errs, "no ") {
		t.Errorf("known conduit and zone: %s", errs)
	}

	// otsiem report on the same store: no events, so an empty period, and
	// the unresolved findings by their analyst state.
	out, _ = must("report", "--config", cfg, "--model", model, "--period", "1d", "--to", "now", "--format", "json")
	var r struct {
		Empty    bool
		Model    struct{ Hash string }
		Evidence struct {
			OpenFindings []struct{ Severity, State string } `json:"open_findings"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.Empty || len(r.Model.Hash) != 64 || len(r.Evidence.OpenFindings) == 0 {
		t.Errorf("report json (%v):\n%.800s", err, out)
	}
	pdf := filepath.Join(dir, "r.pdf")
	must("report", "--config", cfg, "--model", model, "--from", "2026-03-01", "--to", "2026-03-08", "--format", "pdf", "--out", pdf)
	if b, err := os.ReadFile(pdf); err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Errorf("report --out %s: %v", pdf, err)
	}
	if code, _, errs := run(t, "report", "--config", cfg, "--format", "docx"); code != 2 || !strings.Contains(errs, "docx") {
		t.Errorf("bad format: exit %d: %s", code, errs)
	}
}
