package review_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

// now is when the reviews run: pa-c3 has been in monitor mode since
// 2026-10-01 (examples/refinery/devices.yaml), 50 full days.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The refinery's addresses (examples/refinery/assets.csv, networks.yaml).
const (
	entPIVision = "10.100.10.20" // ENT-PIVISION-01, Z5
	dmzHist     = "172.16.1.10"  // DMZ-HIST-01, Z4
	dmzJump     = "172.16.1.30"  // DMZ-JUMP-01, Z4
	plc01       = "10.20.1.10"   // PLC-01, Z2
)

// monitorTraffic is pa-c3's traffic from day from to day to, minus the
// silent days: every day PI Vision reads the DMZ historian (allowed) and
// an engineer's PC opens SSH to the jump server, which C3 does not allow
// (would_block, a missing-rule candidate); on three days a PC in the
// enterprise zone reaches a PLC (would_block, no conduit, skipping the
// DMZ and operations). A would_false_block comes on top where a test
// wants one.
func monitorTraffic(t *testing.T, from, to time.Time, silent ...time.Time) *traffic {
	t.Helper()
	tr := &traffic{m: refinery(t).Model}
	for d := from; d.Before(to.Add(12 * time.Hour)); d = d.Add(24 * time.Hour) {
		if contains(silent, d) {
			continue
		}
		next := d.Add(24 * time.Hour)
		if next.After(now) {
			next = now.Truncate(24 * time.Hour).Add(12 * time.Hour)
		}
		tr.daily(d, d.Add(24*time.Hour), 6, line{device: "pa-c3", action: event.ActionAllow, src: entPIVision, dst: dmzHist, port: 443, app: "https", fc: -1})
		tr.daily(d, d.Add(24*time.Hour), 3, line{device: "pa-c3", action: event.ActionAllow, src: "10.100.7.7", dst: dmzJump, port: 22, app: "ssh", fc: -1})
	}
	for _, d := range []string{"2026-11-02", "2026-11-09", "2026-11-16"} {
		tr.add(day(d).Add(3*time.Hour), line{device: "pa-c3", action: event.ActionAllow, src: "10.100.66.6", dst: plc01, port: 502, app: "modbus", fc: -1})
	}
	return tr
}

func contains(ds []time.Time, d time.Time) bool {
	for _, x := range ds {
		if x.Equal(d) {
			return true
		}
	}
	return false
}

// wouldFalseBlock adds pa-c3 denying RDP to the jump server, which C3
// allows (Z5 -> Z4, RDP 3389): what enforcing its rules would break.
func wouldFalseBlock(tr *traffic, on time.Time) {
	for i := range 4 {
		tr.add(on.Add(time.Duration(9+i)*time.Hour), line{device: "pa-c3", action: event.ActionDeny, src: "10.100.7.12", dst: dmzJump, port: 3389, app: "rdp", fc: -1})
	}
}

func runReview(t *testing.T, conn driver.Conn, o review.Options) *review.DeviceReview {
	t.Helper()
	p := refinery(t)
	devs, err := p.Devices("")
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Hostname != "pa-c3" {
		t.Fatalf("monitor-mode devices: %v", devs)
	}
	o.Now = now
	res, err := review.Run(t.Context(), conn, p, devs, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range review.Formats {
		var b bytes.Buffer
		if err := res.Write(&b, f); err != nil || b.Len() == 0 {
			t.Errorf("format %s: %v", f, err)
		}
	}
	if res.Ready() != res.Devices[0].Ready {
		t.Error("overall readiness differs from the one device's")
	}
	return res.Devices[0]
}

func check(t *testing.T, r *review.DeviceReview, name string) review.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return review.Check{}
}

func TestNotReadyWhenEnforcingWouldBreakAFlow(t *testing.T) {
	conn := migrated(t)
	tr := monitorTraffic(t, day("2026-10-01"), day("2026-11-20"))
	wouldFalseBlock(tr, day("2026-11-17"))
	tr.store(t, conn)
	r := runReview(t, conn, review.Options{})
	if r.Ready {
		t.Fatalf("READY with a would_false_block three days ago: %+v", r.Checks)
	}
	if r.FullDays != 50 || r.DaysWithLogs != 50 || len(r.Silent) != 0 || r.NoData {
		t.Errorf("period: %d full days, %d with logs, silent %v", r.FullDays, r.DaysWithLogs, r.Silent)
	}
	c := check(t, r, "nothing legitimate would break")
	if c.OK || !strings.Contains(c.Detail, "10.100.7.12 -> DMZ-JUMP-01 rdp tcp/3389") {
		t.Errorf("the failing check does not name the flow: %+v", c)
	}
	if len(r.Break) != 1 || r.Break[0].Events != 4 || r.Break[0].SrcZone != "Z5-ENT" || r.Break[0].DstZone != "Z4-DMZ" ||
		!r.Break[0].LastSeen.Equal(day("2026-11-17").Add(12*time.Hour)) {
		t.Errorf("would break: %+v", r.Break)
	}
	if !check(t, r, "observed long enough").OK || !check(t, r, "logs every day").OK {
		t.Errorf("checks: %+v", r.Checks)
	}
	// What enforcing would stop: the daily SSH looks like a missing C3
	// rule; the enterprise PC reaching a PLC skips two Purdue levels.
	if len(r.MissingRules) != 1 || r.MissingRules[0].To != "DMZ-JUMP-01" || r.MissingRules[0].Port != 22 || r.MissingRules[0].Days != 51 ||
		!strings.Contains(r.MissingRules[0].Why, `SSH port 22 "Z5 -> Z4" on C3-DMZ-ENT`) {
		t.Errorf("missing rules: %+v", r.MissingRules)
	}
	if len(r.Violations) != 1 || r.Violations[0].To != "PLC-01" || r.Violations[0].Reason != "no_conduit" || r.Violations[0].Events != 3 ||
		!strings.Contains(r.Violations[0].Why, "skips Z3-OPS (level 3), Z4-DMZ (level 3.5)") {
		t.Errorf("violations: %+v", *r.Violations[0])
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[1], "own rules permit 2 of the 2 flows") {
		t.Errorf("warnings: %q", r.Warnings)
	}
}

func TestReadyWithACleanLastWeek(t *testing.T) {
	conn := migrated(t)
	tr := monitorTraffic(t, day("2026-10-01"), day("2026-11-20"))
	wouldFalseBlock(tr, day("2026-11-05"))
	tr.store(t, conn)
	r := runReview(t, conn, review.Options{})
	if !r.Ready {
		t.Fatalf("NOT READY: %+v", r.Checks)
	}
	if len(r.Break) != 1 || !strings.Contains(strings.Join(r.Warnings, "\n"), "1 would_false_block flow earlier in the period, none since 2026-11-05") {
		t.Errorf("the older would_false_block is not mentioned: %q", r.Warnings)
	}
	// The last 14 days alone: 14 full days observed, still ready, and the
	// earlier deny is outside the period.
	r = runReview(t, conn, review.Options{Since: 14 * 24 * time.Hour})
	if !r.Ready || r.FullDays != 14 || !r.From.Equal(day("2026-11-06")) || len(r.Break) != 0 {
		t.Errorf("--since 14d: ready %v, %d full days from %v, break %v: %+v", r.Ready, r.FullDays, r.From, r.Break, r.Checks)
	}
	// Further back than the device has been in monitor mode: cut to its
	// since date.
	r = runReview(t, conn, review.Options{Since: 90 * 24 * time.Hour})
	if !r.From.Equal(day("2026-10-01")) || !strings.Contains(r.Basis, "--since 90d, cut to 2026-10-01") || r.FullDays != 50 {
		t.Errorf("--since 90d: from %v (%s), %d days", r.From, r.Basis, r.FullDays)
	}
	// Ten days are not enough.
	r = runReview(t, conn, review.Options{Since: 10 * 24 * time.Hour})
	if c := check(t, r, "observed long enough"); r.Ready || c.OK || !strings.Contains(c.Detail, "10 of 10 full days") {
		t.Errorf("--since 10d: %+v", r.Checks)
	}
	// Stricter thresholds: the missing rule blocks too.
	r = runReview(t, conn, review.Options{Thresholds: review.Thresholds{MissingRulesBlock: true}})
	if r.Ready || check(t, r, "no missing conduit rules").OK {
		t.Errorf("missing rules do not block: %+v", r.Checks)
	}
}

func TestNotReadyAfterADayWithoutLogs(t *testing.T) {
	conn := migrated(t)
	monitorTraffic(t, day("2026-10-01"), day("2026-11-20"), day("2026-11-18")).store(t, conn)
	r := runReview(t, conn, review.Options{})
	c := check(t, r, "logs every day")
	if r.Ready || c.OK || !strings.Contains(c.Detail, "no logs on 1 day (2026-11-18) in the last 7 days (2026-11-13 .. 2026-11-19)") {
		t.Errorf("a silent day: ready %v, %+v", r.Ready, c)
	}
	if len(r.Silent) != 1 || r.DaysWithLogs != 49 || !check(t, r, "observed long enough").OK {
		t.Errorf("silent %v, %d days with logs", r.Silent, r.DaysWithLogs)
	}
	// A silent day before the last seven is a gap, not a failure.
	conn = migrated(t)
	monitorTraffic(t, day("2026-10-01"), day("2026-11-20"), day("2026-11-01")).store(t, conn)
	if r := runReview(t, conn, review.Options{}); !r.Ready || len(r.Silent) != 1 {
		t.Errorf("an older silent day: ready %v, %+v", r.Ready, r.Checks)
	}
}

// A --since shorter than the recent window limits the period listed, never
// the recent-days checks: silent days and a would_false_block before the
// period, within the last seven days, still fail the review.
func TestRecentWindowBeyondSince(t *testing.T) {
	conn := migrated(t)
	tr := monitorTraffic(t, day("2026-10-01"), day("2026-11-20"), day("2026-11-14"), day("2026-11-15"))
	wouldFalseBlock(tr, day("2026-11-16"))
	tr.store(t, conn)
	r := runReview(t, conn, review.Options{Since: 3 * 24 * time.Hour})
	if !r.From.Equal(day("2026-11-17")) || r.FullDays != 3 || r.DaysWithLogs != 3 || len(r.Silent) != 0 {
		t.Errorf("--since 3d: from %v, %d full days, %d with logs, silent %v", r.From, r.FullDays, r.DaysWithLogs, r.Silent)
	}
	if c := check(t, r, "logs every day"); r.Ready || c.OK ||
		c.Detail != "no logs on 2 days (2026-11-14..2026-11-15) in the last 7 days (2026-11-13 .. 2026-11-19); 0 allowed: the review has not seen those days" {
		t.Errorf("silent days before --since 3d: %+v", c)
	}
	if c := check(t, r, "nothing legitimate would break"); c.OK || !strings.Contains(c.Detail, "1 would_false_block flow in the last 7 days (2026-11-13 .. 2026-11-19) and today (0 allowed): 10.100.7.12 -> DMZ-JUMP-01 rdp tcp/3389") {
		t.Errorf("a would_false_block before --since 3d: %+v", c)
	}
	// The same store over the whole recent window says the same.
	r7 := runReview(t, conn, review.Options{Since: 7 * 24 * time.Hour})
	if check(t, r7, "logs every day") != check(t, r, "logs every day") || check(t, r7, "nothing legitimate would break") != check(t, r, "nothing legitimate would break") {
		t.Errorf("--since 7d and 3d disagree: %+v\n%+v", r7.Checks, r.Checks)
	}
}

// --since means whole UTC days to both commands.
func TestPeriodStart(t *testing.T) {
	at := time.Date(2026, 11, 29, 13, 31, 6, 0, time.FixedZone("CET", 3600))
	for since, want := range map[time.Duration]string{72 * time.Hour: "2026-11-26", time.Hour: "2026-11-29", 14 * time.Hour: "2026-11-28"} {
		if got := review.PeriodStart(at, since); !got.Equal(day(want)) {
			t.Errorf("PeriodStart(%v, %v) = %v, want %s 00:00 UTC", at, since, got, want)
		}
	}
}

// Silent days run together as ranges with their count, in every format.
func TestSilentDaysAsRanges(t *testing.T) {
	conn := migrated(t)
	monitorTraffic(t, day("2026-11-04"), day("2026-11-20"), day("2026-11-08")).store(t, conn)
	r := runReview(t, conn, review.Options{})
	want := "no logs on 34 days (2026-10-01..2026-11-01, 2026-11-03, 2026-11-08)" // one event on 11-02
	res := &review.Result{Devices: []*review.DeviceReview{r}}
	for _, format := range []string{"text", "markdown"} {
		var b bytes.Buffer
		if err := res.Write(&b, format); err != nil || !strings.Contains(b.String(), want) {
			t.Errorf("%s: %v, want %q in\n%s", format, err, want, b.String())
		}
	}
}

func TestNoDataSaysSo(t *testing.T) {
	conn := migrated(t)
	r := runReview(t, conn, review.Options{})
	if r.Ready || !r.NoData || !strings.Contains(check(t, r, "observed long enough").Detail, "no logs from pa-c3 at all") {
		t.Errorf("no data: %+v", r)
	}
	res := &review.Result{Devices: []*review.DeviceReview{r}}
	var b bytes.Buffer
	if err := res.Write(&b, "text"); err != nil || !strings.Contains(b.String(), "No logs from pa-c3 in this period: nothing to review") ||
		strings.Contains(b.String(), "WOULD BREAK") || !strings.Contains(b.String(), "FAIL nothing legitimate would break: unknown") {
		t.Errorf("text for no data:\n%s", b.String())
	}
}

// TestReviewOverHTTP runs a review against a ClickHouse server: the
// embedded engine's HTTP interface on a loopback port, reached by
// clickhouse-go's HTTP protocol as a server would be.
func TestReviewOverHTTP(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: embedded.NewHandler(e)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ln.Addr().String()}, Protocol: clickhouse.HTTP, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := storageMigrate(t, conn); err != nil {
		t.Fatal(err)
	}
	tr := monitorTraffic(t, day("2026-10-01"), day("2026-11-20"))
	wouldFalseBlock(tr, day("2026-11-17"))
	tr.store(t, conn)
	r := runReview(t, conn, review.Options{})
	if r.Ready || len(r.Break) != 1 || r.FullDays != 50 {
		t.Errorf("over HTTP: ready %v, break %v, %d days", r.Ready, r.Break, r.FullDays)
	}
	res := &review.Result{Devices: []*review.DeviceReview{r}}
	var b bytes.Buffer
	if err := res.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["devices"].([]any)[0].(map[string]any)["ready"] != false {
		t.Errorf("json: %v\n%s", err, b.String())
	}
	prop, err := review.Propose(t.Context(), conn, refinery(t), review.ProposeOptions{From: day("2026-11-01"), To: now})
	if err != nil || len(prop.Rules) != 1 || prop.Rules[0].Protocol != "SSH" {
		t.Errorf("propose over HTTP: %v, %+v", err, prop)
	}
}

func TestDevices(t *testing.T) {
	p := refinery(t)
	if _, err := p.Devices("ids-z2"); err == nil || !strings.Contains(err.Error(), "sensor") {
		t.Errorf("a sensor: %v", err)
	}
	if _, err := p.Devices("nope"); err == nil || !strings.Contains(err.Error(), "monitor-mode firewalls: pa-c3") {
		t.Errorf("an unknown device: %v", err)
	}
	if d, err := p.Devices("ISA3000-C1"); err != nil || d[0].Mode != rules.ModeEnforce {
		t.Errorf("an enforcing firewall by name: %v, %v", d, err)
	}
}

// A firewall that enforces already gets no readiness verdict: the review
// says so first, then lists what it blocked that the model allows
// (false_block), the legitimate traffic its rules cut. Exit status 0.
func TestAlreadyEnforcing(t *testing.T) {
	conn := migrated(t)
	tr := &traffic{m: refinery(t).Model}
	// fgr-c2 enforces C2 (examples/refinery/devices.yaml, no since date):
	// the DMZ's WSUS serves patches to operations (C2 allows HTTPS Z4 -> Z3).
	wsus, opsPC := "172.16.1.20", "10.30.1.40"
	for d := day("2026-11-06"); d.Before(day("2026-11-21")); d = d.Add(24 * time.Hour) {
		if !d.Equal(day("2026-11-16")) {
			tr.daily(d, d.Add(24*time.Hour), 6, line{device: "fgr-c2", action: event.ActionAllow, src: wsus, dst: opsPC, port: 443, app: "https", fc: -1})
		}
	}
	for i := range 4 { // denied, though the model allows it
		tr.add(day("2026-11-18").Add(time.Duration(9+i)*time.Hour), line{device: "fgr-c2", action: event.ActionDeny, src: wsus, dst: "10.30.1.41", port: 443, app: "https", fc: -1})
	}
	tr.store(t, conn)
	p := refinery(t)
	devs, err := p.Devices("fgr-c2")
	if err != nil {
		t.Fatal(err)
	}
	res, err := review.Run(t.Context(), conn, p, devs, review.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Devices[0]
	if !r.AlreadyEnforcing || r.Ready || len(r.Checks) != 0 || !res.Ready() {
		t.Errorf("enforcing %v, ready %v, checks %+v, overall %v", r.AlreadyEnforcing, r.Ready, r.Checks, res.Ready())
	}
	if !r.From.Equal(day("2026-11-06")) || r.FullDays != 14 || r.DaysWithLogs != 13 || len(r.Silent) != 1 {
		t.Errorf("period from %v: %d full days, %d with logs, silent %v", r.From, r.FullDays, r.DaysWithLogs, r.Silent)
	}
	if len(r.Blocked) != 1 || r.Blocked[0].Events != 4 || r.Blocked[0].To != "10.30.1.41" || len(r.Break) != 0 || len(r.Violations)+len(r.MissingRules) != 0 {
		t.Errorf("blocked %+v; would break %v", r.Blocked, r.Break)
	}
	notes := strings.Join(r.Warnings, "\n")
	if !strings.Contains(notes, "no logs on 1 day (2026-11-16) in the last 7 days") ||
		!strings.Contains(notes, "1 flow the model allows was blocked in the last 7 days (2026-11-13 .. 2026-11-19) and today") {
		t.Errorf("notes: %q", r.Warnings)
	}
	out := map[string]string{}
	for _, f := range review.Formats {
		var b bytes.Buffer
		if err := res.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	text := out["text"]
	if !strings.HasPrefix(text, "otsiem review: fgr-c2, Fortinet FortiGate Rugged 60F, enforce mode on C2-OPS-DMZ\n\nALREADY ENFORCING: fgr-c2 is in enforce mode, the model gives no date") ||
		!strings.Contains(text, "BLOCKED although the model allows it (false_block)") || strings.Contains(text, "READINESS") || strings.Contains(text, "WOULD") {
		t.Errorf("text:\n%s", text)
	}
	if !strings.Contains(out["markdown"], "ALREADY ENFORCING") || regexp.MustCompile(`\bREADY`).MatchString(out["markdown"]) {
		t.Errorf("markdown:\n%s", out["markdown"])
	}
	var back struct {
		Devices []struct {
			AlreadyEnforcing bool              `json:"already_enforcing"`
			FalseBlock       []json.RawMessage `json:"false_block"`
		}
	}
	if err := json.Unmarshal([]byte(out["json"]), &back); err != nil || !back.Devices[0].AlreadyEnforcing || len(back.Devices[0].FalseBlock) != 1 {
		t.Errorf("json: %v\n%s", err, out["json"])
	}
}
