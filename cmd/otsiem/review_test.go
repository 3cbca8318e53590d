package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

// storeEvents judges events under the refinery model and stores them in
// the embedded engine of a data directory, as `otsiem run` would.
func storeEvents(t *testing.T, dataDir string, evs []*event.Event) {
	t.Helper()
	m, err := rules.Load("../../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Config{Embedded: storage.EmbeddedConfig{Path: filepath.Join(dataDir, "clickhouse")}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := storage.Migrate(ctx, db.Conn, storage.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The data directory may hold events already: wait for them plus these.
	var stored uint64
	if err := db.Conn.QueryRow(ctx, "SELECT sum(events) FROM device_flows_hourly").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	b := storage.NewEvents()
	for _, ev := range evs {
		correlate.Enrich(m, ev)
		if err := b.Add(ev, ev.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.Insert(ctx, db.Conn, b.Batch); err != nil {
		t.Fatal(err)
	}
	chdbtest.WaitUint(t, db.Conn, "SELECT sum(events) FROM device_flows_hourly", stored+uint64(len(evs)))
}

// panFlow is a PAN-OS traffic event from pa-c3 (monitor mode on C3).
func panFlow(at time.Time, action event.Action, src, dst string, port uint16, app string) *event.Event {
	ev := &event.Event{Time: at, ReceivedAt: at, Site: "refinery", Kind: event.KindFlow, Vendor: "paloaltonetworks", Device: "pa-c3",
		Action: action, SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), DstPort: event.Some(port), Transport: "tcp", AppProtocol: app}
	ev.Message = fmt.Sprint(at.UnixNano(), src, dst, port, action)
	ev.ID = event.NewID(netip.Addr{}, ev.Device, at, []byte(ev.Message))
	return ev
}

// TestReviewAndProposeExitCodes runs both commands on an embedded data
// directory (as after `otsiem run` stopped): 20 days of pa-c3 traffic,
// SSH to the jump server every day that C3 does not allow; then one RDP
// deny yesterday (what enforcing would break).
func TestReviewAndProposeExitCodes(t *testing.T) {
	if _, err := chdb.Locate(""); err != nil && os.Getenv("CHDB_REQUIRED") != "1" {
		t.Skipf("embedded ClickHouse unavailable: %v", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "otsiem.yaml")
	// data_dir "." is the configuration's directory.
	model, err := filepath.Abs("../../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("data_dir: .\nmodel: "+model+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No store yet: both say where they looked, an error, and create none.
	for _, cmd := range []string{"review", "propose"} {
		if code, out, errs := run(t, cmd, "--config", cfg); code != 2 || out != "" || !strings.Contains(errs, "no otsiem store at "+filepath.Join(dir, "clickhouse")+" (from "+cfg+")") {
			t.Errorf("%s without a store: exit %d, %q %s", cmd, code, out, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "clickhouse")); !os.IsNotExist(err) {
		t.Fatalf("review or propose created a store: %v", err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var evs []*event.Event
	for d := 20; d >= 0; d-- {
		at := today.Add(-time.Duration(d)*24*time.Hour + time.Hour)
		for i := range 3 {
			evs = append(evs, panFlow(at.Add(time.Duration(i)*time.Minute), event.ActionAllow, "10.100.10.20", "172.16.1.10", 443, "https"),
				panFlow(at.Add(time.Duration(i)*time.Minute+time.Second), event.ActionAllow, "10.100.7.7", "172.16.1.30", 22, "ssh"))
		}
	}
	storeEvents(t, dir, evs)
	// --since is whole UTC days for propose as for review: from 00:00 UTC.
	if code, out, errs := run(t, "propose", "--config", cfg, "--since", "2d", "--format", "json"); code != 0 ||
		!strings.Contains(out, `"from": "`+today.AddDate(0, 0, -2).Format(time.RFC3339)+`"`) {
		t.Errorf("propose --since 2d: exit %d, %s\n%.300s", code, errs, out)
	}

	code, out, errs := run(t, "review", "--config", cfg, "--since", "14d")
	if code != 0 || !strings.Contains(out, "READINESS: READY") || !strings.Contains(out, "14 full days, 14 with logs") {
		t.Errorf("review of a clean fortnight: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, "propose", "--config", cfg, "--format", "diff")
	if code != 0 || !strings.Contains(out, `+        direction: "Z5 -> Z4"`) {
		t.Fatalf("propose --format diff: exit %d\n%s", code, out)
	}
	// The diff applies to a copy of the model, which otsiem validate accepts.
	model = filepath.Join(dir, "model")
	if err := os.CopyFS(model, os.DirFS("../../examples/refinery")); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command("git", "apply", "-p1", "-")
	apply.Dir, apply.Stdin = model, strings.NewReader(out)
	if b, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s", err, b)
	}
	if code, out, _ := run(t, "validate", model); code != 0 || !strings.Contains(out, "valid (5 zones, 3 conduits, 7 rules") {
		t.Errorf("validate the proposed model: exit %d\n%s", code, out)
	}
	// Under it, the SSH flows are no longer missing rules.
	if code, out, _ := run(t, "review", "--config", cfg, "--model", model, "--since", "14d", "--format", "markdown"); code != 0 ||
		!strings.Contains(out, "#### Look like missing conduit rules\n\nNone.") || !strings.Contains(out, "#### Policy violations, expected to stop\n\nNone.") ||
		!strings.Contains(out, "judged under an earlier version of the model, is allowed by this one (10.100.7.7 -> DMZ-JUMP-01 ssh tcp/22)") {
		t.Errorf("review under the proposed model: exit %d\n%s", code, out)
	}

	storeEvents(t, dir, []*event.Event{panFlow(today.Add(-20*time.Hour), event.ActionDeny, "10.100.7.12", "172.16.1.30", 3389, "rdp")})
	code, out, _ = run(t, "review", "--config", cfg, "--device", "PA-C3", "--since", "14d")
	if code != 1 || !strings.Contains(out, "READINESS: NOT READY") || !strings.Contains(out, "FAIL nothing legitimate would break: 1 would_false_block flow in the last 7 days ("+today.AddDate(0, 0, -7).Format(time.DateOnly)+" .. "+today.AddDate(0, 0, -1).Format(time.DateOnly)+") and today (0 allowed): 10.100.7.12 -> DMZ-JUMP-01 rdp tcp/3389") {
		t.Errorf("review with a deny yesterday: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"review", "--config", cfg, "--device", "ids-z2"},
		{"review", "--config", cfg, "--since", "two weeks"},
		{"review", "--config", cfg, "--format", "pdf"},
		{"review", "--config", cfg, "--model", "no/such/model"},
		{"propose", "--config", cfg, "--min-count", "-1"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
