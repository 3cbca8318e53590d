package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/report"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { chdbtest.Main(m) }

var generated = time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)

func refinery(t testing.TB) *rules.Model {
	t.Helper()
	m, err := rules.Load("../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func migrated(t testing.TB) driver.Conn {
	t.Helper()
	conn, _ := chdbtest.ClickHouse(t)
	if _, err := storage.Migrate(t.Context(), conn, storage.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// weekReport builds the seeded week's report, once for the tests that
// only read it (it is deterministic).
func weekReport(t *testing.T) *report.Report {
	t.Helper()
	weekMu.Lock()
	defer weekMu.Unlock()
	if weekBuilt == nil {
		conn := migrated(t)
		seedWeek(t, conn)
		r, err := report.Build(t.Context(), conn, refinery(t), report.Options{From: weekFrom, To: weekTo, Now: generated, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		weekBuilt = r
	}
	return weekBuilt
}

var (
	weekMu    sync.Mutex
	weekBuilt *report.Report
)

func render(t *testing.T, r *report.Report, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, r, format); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.Bytes()
}

// Every figure of the seeded week, as derived by hand in seed_test.go,
// read back from the JSON report.
func TestWeekJSON(t *testing.T) {
	r := weekReport(t)
	var j map[string]any
	if err := json.Unmarshal(render(t, r, "json"), &j); err != nil {
		t.Fatal(err)
	}
	m := refinery(t)
	for path, want := range map[string]any{
		"facility":                                                       "Petrochemical Refinery - Unit 3",
		"implementation_date":                                            "2026-02-23",
		"model.hash":                                                     m.Hash(),
		"period.from":                                                    "2026-03-02T00:00:00Z",
		"period.to":                                                      "2026-03-09T00:00:00Z",
		"period.days":                                                    7,
		"generated_at":                                                   "2026-03-09T06:00:00Z",
		"otsiem_version":                                                 "test",
		"events":                                                         10366, // 1056 + 280 + 215 + 102 + 73 + 6 × 1440
		"empty":                                                          false,
		"zones.0.id":                                                     "Z1-SIS",
		"zones.0.sl_t":                                                   3,
		"zones.0.assets":                                                 3,
		"zones.0.air_gapped":                                             true,
		"zones.0.conduits.#":                                             0,
		"zones.2.conduits.#":                                             2,
		"conduits.0.id":                                                  "C1-BPCS-OPS",
		"conduits.0.firewall_rules_allow":                                2, // OPS-to-BPCS, BPCS-to-OPS
		"conduits.0.firewall_rules_deny":                                 2, // MODBUS-INSPECT, OPS-to-BPCS
		"conduits.0.dpi_enabled":                                         true,
		"conduits.0.dpi_events":                                          804, // A 700 + E 100 + S1 4
		"conduits.0.dpi_devices.#":                                       2,
		"conduits.0.events":                                              1226,
		"conduits.0.allowed":                                             1220,
		"conduits.0.blocked":                                             6,
		"conduits.0.policy_breaking":                                     0,
		"conduits.1.firewall_rules_allow":                                1,
		"conduits.1.firewall_rules_deny":                                 0,
		"conduits.1.dpi_enabled":                                         false,
		"conduits.1.events":                                              280,
		"conduits.2.firewall_rules_allow":                                2, // rdp-jump, any-any
		"conduits.2.events":                                              215,
		"conduits.2.policy_breaking":                                     5,
		"validation.cross_zone_tests.passed":                             7, // A, B and F (one flow: PLC-01 -> HIST-01 OPC UA), C, D, E, S1, S2
		"validation.cross_zone_tests.failed":                             3,
		"validation.cross_zone_tests.passed_events":                      1716,
		"validation.cross_zone_tests.failed_events":                      10,
		"validation.prohibited_paths.attempts":                           16,
		"validation.prohibited_paths.blocked":                            6,
		"validation.prohibited_paths.all_blocked":                        false,
		"validation.prohibited_paths.exceptions.#":                       3,
		"validation.prohibited_paths.exceptions.0.verdict":               "would_block", // most events first
		"validation.prohibited_paths.exceptions.0.events":                5,
		"validation.protocol_enforcement.status":                         "verified",
		"validation.protocol_enforcement.blocked":                        4,
		"validation.protocol_enforcement.passed":                         0,
		"evidence.conduit_daily.#":                                       23, // 3 conduits × 7 days + 2 days with traffic on no conduit
		"evidence.undeclared_paths.#":                                    1,
		"evidence.undeclared_paths.0.src_ip":                             "10.100.5.22",
		"evidence.undeclared_paths.0.dst_ip":                             "10.30.1.50",
		"evidence.undeclared_paths.0.events":                             3,
		"evidence.undeclared_paths.0.first_seen":                         "2026-03-08T11:00:00Z",
		"evidence.undeclared_paths.0.last_seen":                          "2026-03-08T11:02:00Z",
		"evidence.air_gap_contacts.#":                                    1,
		"evidence.air_gap_contacts.0.dst_zone":                           "Z1-SIS",
		"evidence.air_gap_contacts.0.events":                             2,
		"evidence.air_gap_contacts.0.first_seen":                         "2026-03-07T14:00:00Z",
		"evidence.enforcement_coverage.cross_zone_events":                1726,
		"evidence.enforcement_coverage.enforced_events":                  1336,
		"evidence.enforcement_coverage.monitor_mode.#":                   1,
		"evidence.enforcement_coverage.monitor_mode.0.hostname":          "pa-c3",
		"evidence.enforcement_coverage.monitor_mode.0.cross_zone_events": 215,
		"evidence.enforcement_coverage.monitor_mode.0.would_block":       5,
		"evidence.diode_availability.#":                                  1,
		"evidence.diode_availability.0.id":                               "DMZ-DD-01",
		"evidence.diode_availability.0.silent_days":                      1,
		"evidence.diode_availability.0.days.#":                           7,
		"evidence.diode_availability.0.days.2.heartbeats":                0,
		"evidence.diode_availability.0.days.2.availability":              0,
		"evidence.diode_availability.0.days.3.up_buckets":                1440,
		"evidence.diode_availability.0.days.3.availability":              1,
		"evidence.log_sources.#":                                         6,
		"evidence.log_sources.0.device":                                  "isa3000-c1",
		"evidence.log_sources.0.events":                                  1056,
		"evidence.log_sources.0.days_with_logs":                          7,
		"evidence.log_sources.0.clock_skew_ms_p50":                       200,
		"evidence.log_sources.3.device":                                  "ids-z2",
		"evidence.log_sources.3.events":                                  102,
		"evidence.log_sources.3.days_with_logs":                          5,
		"evidence.log_sources.3.longest_silence_seconds":                 258000, // 03-04 08:20 to 03-07 08:00
		"evidence.log_sources.3.silence_from":                            "2026-03-04T08:20:00Z",
		"evidence.log_sources.3.silent_too_long":                         true,
		"evidence.log_sources.4.device":                                  "ids-z3",
		"evidence.log_sources.4.clock_skew_ms_p50":                       30000,
		"evidence.log_sources.4.clock_outside_tolerance":                 true,
		"evidence.log_sources.4.silent_too_long":                         false,
		"evidence.log_sources.5.device":                                  "dmz-dd-01",
		"evidence.log_sources.5.events":                                  8640,
		"evidence.log_sources.5.longest_silence_seconds":                 86400,
		"evidence.open_findings.#":                                       3,
		"evidence.open_findings.0.severity":                              "critical",
		"evidence.open_findings.0.age":                                   "1-7d",
		"evidence.open_findings.0.state":                                 "open",
		"evidence.open_findings.0.findings":                              2, // the air gap, and the diode outage the correlator closed but no analyst did
		"evidence.open_findings.0.events":                                3,
		"evidence.open_findings.1.severity":                              "high",
		"evidence.open_findings.1.age":                                   ">30d",
		"evidence.open_findings.1.events":                                40,
		"evidence.open_findings.2.age":                                   "<1d",
		"iec62443_3_3.#":                                                 6,
		"iec62443_3_3.0.id":                                              "SR 5.1",
		"iec62443_3_3.0.status":                                          "exceptions found",
		"iec62443_3_3.0.exceptions.#":                                    2,
		"iec62443_3_3.1.id":                                              "SR 5.2",
		"iec62443_3_3.1.exceptions.#":                                    1,
		"iec62443_3_3.2.id":                                              "SR 5.2 RE 1",
		"iec62443_3_3.2.exceptions.#":                                    1,
		"iec62443_3_3.3.id":                                              "SR 6.2",
		"iec62443_3_3.3.exceptions.#":                                    3, // ids-z2 and dmz-dd-01 silent, the diode below 99%
		"iec62443_3_3.4.id":                                              "SR 2.11",
		"iec62443_3_3.4.exceptions.#":                                    1,
		"iec62443_3_3.5.id":                                              "SR 1.13",
		"iec62443_3_3.5.status":                                          "exceptions found",
		"iec62443_3_3.5.exceptions.#":                                    1,
	} {
		got, err := lookup(j, path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if _, err := lookup(j, "evidence.conduit_series"); err == nil {
		t.Error("a week's report carries traffic in buckets under a day")
	}
	share, _ := lookup(j, "evidence.enforcement_coverage.share")
	if s, _ := share.(float64); s < 0.7740 || s > 0.7741 { // 1336 / 1726
		t.Errorf("enforcement share %v", share)
	}
	avail, _ := lookup(j, "evidence.diode_availability.0.availability")
	if a, _ := avail.(float64); a < 0.8571 || a > 0.8572 { // 6 of 7 days
		t.Errorf("diode availability %v", avail)
	}
}

// lookup follows a dotted path through decoded JSON; "#" is an array's
// length.
func lookup(v any, path string) (any, error) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, fmt.Errorf("no key %q", k)
			}
		case []any:
			if k == "#" {
				return len(x), nil
			}
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(x) {
				return nil, fmt.Errorf("no index %s of %d", k, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%q: not a container", k)
		}
	}
	return v, nil
}

// The text report: the seed's Output Format line for line, then the
// evidence, compared with the golden file one section at a time.
func TestWeekText(t *testing.T) {
	r := weekReport(t)
	// The model's version changes with every edit of examples/refinery:
	// the golden file holds a placeholder (TestWeekJSON checks the hash).
	got := strings.NewReplacer(r.Model.Hash, "<model hash>", r.Model.Short, "<model>").Replace(string(render(t, r, "text")))
	golden := filepath.Join("testdata", "week.golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want := sections(string(b))
	have := sections(got)
	for i, w := range want {
		if i >= len(have) {
			t.Errorf("section %q missing", w.title)
			continue
		}
		if have[i].title != w.title || have[i].body != w.body {
			t.Errorf("section %q differs from the golden file:\n--- got\n%s\n--- want\n%s", w.title, have[i].body, w.body)
		}
	}
	if len(have) != len(want) {
		t.Errorf("%d sections, golden has %d", len(have), len(want))
	}
	// The seed's lines, in order, with this week's figures.
	for _, line := range []string{
		"IEC 62443 Zone Implementation Report\n=====================================\n",
		"\nFacility: Petrochemical Refinery - Unit 3\nImplementation Date: 2026-02-23\nStandard: IEC 62443-3-2/3-3",
		"\nZONE ARCHITECTURE:\n  Zone Z1-SIS: Safety Instrumented Systems (SL-T: 3)\n    Assets: 3\n    Conduits: none (air-gapped)\n    Controls: air gap",
		"\nCONDUIT CONFIGURATION:\n  Conduit C1-BPCS-OPS: Z2-BPCS <-> Z3-OPS\n    Protocols: OPC UA tcp/4840 Z2 -> Z3 (read only); Modbus/TCP tcp/502 Z3 -> Z2 (read only, FC 3/4 only)\n    Firewall Rules: 2 allow / 2 deny\n    DPI Enabled: Yes",
		"\nVALIDATION RESULTS:\n  Cross-zone tests: 7 pass / 3 fail",
		"\n  Prohibited path tests: 3 exceptions (10 of 16 attempts got through)\n",
		"\n  Protocol enforcement: function code filtering verified (4 write attempts on read-only conduits blocked, none got through)\n",
		"Model version: <model> (sha256 <model hash>)",
		"Period: 2026-03-02 00:00 to 2026-03-09 00:00 UTC (7 days)",
		"Generated: 2026-03-09 06:00 UTC by otsiem test",
		"Seen by an enforcing firewall: 1,336 of 1,726 cross-zone events (77.4%)",
		"pa-c3 on C3-DMZ-ENT since 2026-10-01: 215 cross-zone events, 5 would be blocked in enforce mode",
		"SR 5.1 Network segmentation: exceptions found",
		"SR 6.2 Continuous monitoring: exceptions found",
		"diode DMZ-DD-01 available 85.7% (silence counted as down; 1 silent day)",
		"ids-z2 silent for 2d 23h 40m from 2026-03-04 08:20 (logs on 5 of 7 days)",
		"ids-z3: receive time minus device time +30.0 s (median; +30.0 s to +30.0 s)",
		"SR 1.13 Access via untrusted networks: exceptions found",
		"213 remote-access events (RDP, SSH, VNC, Telnet) from Z5-ENT: 210 over the declared path (C3-DMZ-ENT RDP to Z4-DMZ), 0 blocked, 1 path outside it",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("text report lacks %q", line)
		}
	}
}

type textSection struct{ title, body string }

// sections cuts a text report at its section titles (upper-case lines
// ending in ':'); the header is the first.
func sections(s string) []textSection {
	out := []textSection{{title: "(header)"}}
	for _, line := range strings.SplitAfter(s, "\n") {
		tl := strings.TrimSpace(line)
		if tl != "" && !strings.HasPrefix(line, " ") && strings.HasSuffix(tl, ":") && tl == strings.ToUpper(tl) {
			out = append(out, textSection{title: tl})
			continue
		}
		out[len(out)-1].body += line
	}
	return out
}

// An empty period says so plainly in every format, and claims no evidence.
func TestEmptyPeriod(t *testing.T) {
	conn := migrated(t)
	seedWeek(t, conn)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := report.Build(t.Context(), conn, refinery(t), report.Options{From: from, To: from.AddDate(0, 0, 7), Now: generated, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Empty || r.Events != 0 {
		t.Fatalf("empty %v events %d", r.Empty, r.Events)
	}
	for _, q := range r.Requirements {
		if q.Status != report.NoEvidence {
			t.Errorf("%s: %s in an empty period", q.ID, q.Status)
		}
	}
	for _, f := range []string{"text", "markdown", "html"} {
		out := string(render(t, r, f))
		if !strings.Contains(out, "NO EVENTS WERE STORED FOR THIS PERIOD") {
			t.Errorf("%s does not say the period is empty:\n%.600s", f, out)
		}
		if !strings.Contains(out, "0 pass / 0 fail (no cross-zone traffic in period)") {
			t.Errorf("%s: cross-zone tests not plainly zero", f)
		}
	}
	var j map[string]any
	if err := json.Unmarshal(render(t, r, "json"), &j); err != nil || j["empty"] != true {
		t.Errorf("json empty = %v (%v)", j["empty"], err)
	}
	pdfText := pdftotext(t, render(t, r, "pdf"))
	if !strings.Contains(pdfText, "NO EVENTS WERE STORED FOR THIS PERIOD") {
		t.Errorf("pdf does not say the period is empty:\n%.600s", pdfText)
	}
}

func TestBadPeriod(t *testing.T) {
	if _, err := report.Build(t.Context(), nil, refinery(t), report.Options{From: weekTo, To: weekFrom}); err == nil {
		t.Error("from after to: no error")
	}
	if err := report.Write(&bytes.Buffer{}, &report.Report{}, "docx"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
}

// A scheduled weekly report is written once the week has closed and its
// delay passed, in every format asked for, and never twice.
func TestScheduledWeekly(t *testing.T) {
	conn := migrated(t)
	seedWeek(t, conn)
	dir := t.TempDir()
	now := weekTo.Add(10 * time.Minute)
	s := &report.Scheduler{Conn: conn, Schedules: []report.Schedule{{Every: "weekly", Formats: []string{"text", "json"}, Dir: dir, Delay: 15 * time.Minute}},
		Version: "test", Log: slog.New(slog.DiscardHandler), Model: func() (*rules.Model, error) { return refinery(t), nil },
		Now: func() time.Time { return now }}
	files, err := s.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 10 minutes after the week: still within the delay, so the week before.
	if len(files) != 2 || !strings.HasSuffix(files[0], "petrochemical-refinery-unit-3-weekly-2026-02-23_2026-03-02.txt") {
		t.Fatalf("within the delay: wrote %v", files)
	}
	now = weekTo.Add(20 * time.Minute)
	if files, err = s.RunOnce(t.Context()); err != nil || len(files) != 2 {
		t.Fatalf("after the delay: wrote %v, %v", files, err)
	}
	text, err := os.ReadFile(filepath.Join(dir, "petrochemical-refinery-unit-3-weekly-2026-03-02_2026-03-09.txt"))
	if err != nil || !strings.Contains(string(text), "Cross-zone tests: 7 pass / 3 fail") {
		t.Errorf("weekly text report: %v\n%.400s", err, text)
	}
	if files, err = s.RunOnce(t.Context()); err != nil || len(files) != 0 {
		t.Errorf("second run wrote %v, %v", files, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "petrochemical-refinery-unit-3-weekly-2026-03-02_2026-03-09.json")); err != nil {
		t.Error(err)
	}
	if err := (report.Schedule{Every: "fortnightly"}).Validate(); err == nil {
		t.Error("fortnightly accepted")
	}
	if err := (report.Schedule{Every: "daily", Formats: []string{"docx"}}).Validate(); err == nil {
		t.Error("docx accepted")
	}
}

func TestLastPeriod(t *testing.T) {
	at := time.Date(2026, 5, 14, 13, 0, 0, 0, time.UTC) // a Thursday
	for _, c := range []struct {
		every    string
		n        int
		from, to string
	}{
		{"daily", 1, "2026-05-13", "2026-05-14"},
		{"weekly", 1, "2026-05-04", "2026-05-11"},
		{"weekly", 2, "2026-04-27", "2026-05-04"},
		{"monthly", 1, "2026-04-01", "2026-05-01"},
		{"quarterly", 1, "2026-01-01", "2026-04-01"},
		{"30d", 1, "2026-04-14", "2026-05-14"},
	} {
		from, to, err := report.LastPeriod(c.every, at, c.n)
		if err != nil || from.Format(time.DateOnly) != c.from || to.Format(time.DateOnly) != c.to {
			t.Errorf("%s %d: %s .. %s (%v), want %s .. %s", c.every, c.n, from, to, err, c.from, c.to)
		}
	}
}

// A period of up to four days is charted per hour (the hourly rollup), a
// UTC day per 15 minutes.
func TestShortPeriodHourly(t *testing.T) {
	conn := migrated(t)
	seedWeek(t, conn)
	day4 := weekFrom.AddDate(0, 0, 4)
	r, err := report.Build(t.Context(), conn, refinery(t), report.Options{From: day4, To: day4.AddDate(0, 0, 2), Now: generated})
	if err != nil {
		t.Fatal(err)
	}
	if r.Evidence.SeriesStep != 3600 || r.Period.Days != 2 {
		t.Fatalf("step %d s, %d days", r.Evidence.SeriesStep, r.Period.Days)
	}
	got := map[string]uint64{}
	for _, x := range r.Evidence.ConduitSeries {
		got[x.Day.Format("02 15")+" "+x.Conduit] = x.Total
		if x.Conduit == "C3-DMZ-ENT" && x.Day.Equal(day4.Add(9*time.Hour)) && x.PolicyBreaking != 5 {
			t.Errorf("C3 09:00 policy-breaking %d, want 5 (S4)", x.PolicyBreaking)
		}
	}
	// Day 4, C1: A 60 + B 50 + F 10 from 08:00 (ids-z2 silent), A's last 40 at 09:00.
	if got["06 08 C1-BPCS-OPS"] != 120 || got["06 09 C1-BPCS-OPS"] != 40 || got["06 09 C3-DMZ-ENT"] != 5 || got["07 08 C1-BPCS-OPS"] != 140 {
		t.Errorf("hourly: %v", got)
	}
	r, err = report.Build(t.Context(), conn, refinery(t), report.Options{From: day4, To: day4.AddDate(0, 0, 1), Now: generated})
	if err != nil || r.Evidence.SeriesStep != 900 || len(r.Evidence.ConduitSeries) == 0 {
		t.Errorf("a day: %v, step %d s", err, r.Evidence.SeriesStep)
	}
}

// A period under an hour is charted per minute, read from the events
// themselves: exactly the period, with a gap where a conduit had none.
func TestShortPeriodPerMinute(t *testing.T) {
	conn := migrated(t)
	seedWeek(t, conn)
	from := weekFrom.AddDate(0, 0, 4).Add(8*time.Hour + 30*time.Minute) // day 4, 08:30 to 09:10
	r, err := report.Build(t.Context(), conn, refinery(t), report.Options{From: from, To: from.Add(40 * time.Minute), Now: generated})
	if err != nil {
		t.Fatal(err)
	}
	if r.Evidence.SeriesStep != 60 {
		t.Fatalf("step %d s, want 60", r.Evidence.SeriesStep)
	}
	got := map[string][]string{}
	for _, x := range r.Evidence.ConduitSeries {
		got[x.Conduit] = append(got[x.Conduit], fmt.Sprintf("%s %d/%d", x.Day.Format("15:04"), x.Total, x.PolicyBreaking))
	}
	// C1: A every minute, B until 08:49; C2: C until 08:39, then nothing
	// (no rows, not zeros); C3: D ended 08:29, S4 09:00-09:04 would_block.
	c1 := got["C1-BPCS-OPS"]
	if len(c1) != 40 || c1[0] != "08:30 2/0" || c1[19] != "08:49 2/0" || c1[20] != "08:50 1/0" || c1[39] != "09:09 1/0" {
		t.Errorf("C1 per minute: %v", c1)
	}
	if c2 := got["C2-OPS-DMZ"]; len(c2) != 10 || c2[9] != "08:39 1/0" {
		t.Errorf("C2 per minute: %v", c2)
	}
	if c3 := strings.Join(got["C3-DMZ-ENT"], ","); c3 != "09:00 1/1,09:01 1/1,09:02 1/1,09:03 1/1,09:04 1/1" {
		t.Errorf("C3 per minute: %v", c3)
	}
	if html := string(render(t, r, "html")); !strings.Contains(html, "Events per conduit per minute") {
		t.Error("the HTML chart is not per minute")
	}
}

// Names from the logs (a syslog hostname here) reach every format as text,
// never as markup or terminal commands.
func TestHostileNamesAreText(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	evil := `<img src=x onerror=alert(1)>`
	r := &report.Report{Title: "IEC 62443 Zone Implementation Report", Period: report.Period{From: day, To: day.AddDate(0, 0, 1), Days: 1},
		Evidence: report.Evidence{LogSources: []report.LogSource{{Device: evil, Role: "undeclared", Events: 3}}}}
	r.Evidence.LogSources = append(r.Evidence.LogSources, report.LogSource{Device: "fw\x1b]0;pwned\x07\x1b[2J", Role: "undeclared"})
	if out := string(render(t, r, "text")); strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("text carries terminal control characters:\n%q", out)
	}
	for _, f := range []string{"html", "markdown"} {
		out := string(render(t, r, f))
		// markdown: CommonMark's backslash escape makes the < plain text.
		if strings.Contains(strings.ReplaceAll(out, `\<`, ""), evil) {
			t.Errorf("%s carries the name as markup", f)
		}
		// html: in the coverage table and in the coverage chart's SVG.
		if f == "html" && strings.Count(out, "&lt;img src=x") < 2 {
			t.Errorf("html: the name is not shown escaped in the table and the chart")
		}
	}
}
