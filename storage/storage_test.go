package storage_test

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { chdbtest.Main(m) }

// connect returns a clickhouse-go connection to a fresh, empty database.
func connect(t testing.TB) (driver.Conn, string) { return chdbtest.ClickHouse(t) }

// migrated returns a connection to a fresh database with the schema.
func migrated(t testing.TB) (driver.Conn, string) {
	t.Helper()
	conn, db := connect(t)
	if _, err := storage.Migrate(t.Context(), conn, storage.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	return conn, db
}

func TestMigrateAppliesOnceThenNoop(t *testing.T) {
	conn, _ := connect(t)
	ctx := t.Context()
	all, err := storage.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	done, err := storage.Migrate(ctx, conn, storage.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(all) || len(all) == 0 {
		t.Fatalf("applied %d of %d migrations", len(done), len(all))
	}
	again, err := storage.Migrate(ctx, conn, storage.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("re-run applied %d migrations", len(again))
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM schema_migrations FINAL").Scan(&n); err != nil || n != uint64(len(all)) {
		t.Fatalf("schema_migrations has %d rows (err %v), want %d", n, err, len(all))
	}
}

func TestMigrateRefusesChangedMigration(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	if err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES (1, 'events', 'edited', now())"); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Migrate(ctx, conn, storage.MigrateOptions{}); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetention(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	ttl := func(table string) string {
		t.Helper()
		var full string
		if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&full); err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(full, " TTL "); i >= 0 {
			rest := full[i+5:]
			if j := strings.Index(rest, " SETTINGS"); j >= 0 {
				rest = rest[:j]
			}
			return rest
		}
		return ""
	}
	if _, err := storage.Migrate(ctx, conn, storage.MigrateOptions{Retention: 89*24*time.Hour + time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := ttl("events"); got != "toDateTime(time) + toIntervalDay(90)" {
		t.Errorf("events TTL = %q", got)
	}
	if got := ttl("deadletter"); got != "toDateTime(received_at) + toIntervalDay(90)" {
		t.Errorf("deadletter TTL = %q", got)
	}
	if _, err := storage.Migrate(ctx, conn, storage.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := ttl("events"); got != "" {
		t.Errorf("events TTL after removal = %q", got)
	}
}

// TestSchemaGolden pins the DDL the migrations produce, as the engine
// reports it. Run with -update after changing a migration on purpose.
func TestSchemaGolden(t *testing.T) {
	conn, db := migrated(t)
	rows, err := conn.Query(t.Context(), "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		ddl = strings.ReplaceAll(ddl, db+".", "")
		fmt.Fprintf(&b, "-- %s\n%s;\n\n", name, ddl)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`UUID '[0-9a-f-]+' ?`).ReplaceAllString(b.String(), "")
	path := filepath.Join("testdata", "schema.golden.sql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("schema differs from %s (run with -update if intended):\n%s", path, got)
	}
}

func sampleEvents(n int, t0 time.Time) []*storage.Event {
	evs := make([]*storage.Event, n)
	verdicts := []string{"allowed", "violation", "would_block", "blocked"}
	for i := range evs {
		v := verdicts[i%len(verdicts)]
		reason := ""
		if v != "allowed" {
			reason = "not_permitted"
		}
		evs[i] = &storage.Event{
			EventID: fmt.Sprintf("ev-%06d", i), Time: t0.Add(time.Duration(i) * time.Second), ReceivedAt: t0,
			Site: "refinery", Kind: "flow", Vendor: "cisco", Device: "fw1", MessageID: "106023", Action: "allow",
			SrcIP: netip.MustParseAddr("10.1.0.5"), SrcPort: uint16(40000 + i), DstIP: netip.MustParseAddr("10.2.0.7"), DstPort: 502,
			Transport: "tcp", AppProtocol: "modbus", Bytes: 100, Message: fmt.Sprintf("line %d\n\nwith blank lines", i),
			SrcZone: "Z1-OPS", DstZone: "Z2-BPCS", Conduit: "C1-BPCS-OPS", Verdict: v, Reason: reason,
		}
	}
	return evs
}

// counts returns the raw events, the events seen exactly (FINAL), and the
// events counted by each rollup.
func counts(t *testing.T, conn driver.Conn) [4]uint64 {
	t.Helper()
	var c [4]uint64
	for i, q := range []string{
		"SELECT count() FROM events",
		"SELECT count() FROM events FINAL",
		"SELECT sum(events) FROM flows_hourly",
		"SELECT intDiv(sum(events), 2) FROM compliance_daily", // two zones per event
	} {
		if err := conn.QueryRow(t.Context(), q).Scan(&c[i]); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

func TestRetriedBatchIsDeduplicated(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	evs := sampleEvents(1000, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	for range 3 { // the insert committed but its ack was lost: sent again
		if err := storage.Insert(ctx, conn, evs); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts(t, conn); got != [4]uint64{1000, 1000, 1000, 1000} {
		t.Errorf("counts (raw, final, flows, compliance) = %v, want all 1000", got)
	}
}

func TestRegroupedRedeliveryHasNoDuplicateEvents(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	evs := sampleEvents(1000, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	if err := storage.Insert(ctx, conn, evs[:600]); err != nil {
		t.Fatal(err)
	}
	// After a crash the unacked tail comes back in other batches.
	if err := storage.Insert(ctx, conn, evs[400:700]); err != nil {
		t.Fatal(err)
	}
	if err := storage.Insert(ctx, conn, evs[700:]); err != nil {
		t.Fatal(err)
	}
	got := counts(t, conn)
	if got[1] != 1000 {
		t.Errorf("events FINAL = %d, want 1000", got[1])
	}
	t.Logf("raw %d, FINAL %d, flows rollup %d, compliance rollup %d (rollups count regrouped redeliveries twice)", got[0], got[1], got[2], got[3])
}

func TestFindingFoldsToLatest(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= 5; i++ {
		f := &storage.Finding{FindingID: "f-1", Time: t0, FirstSeen: t0, LastSeen: t0.Add(time.Duration(i) * time.Minute),
			Count: uint64(i), Type: "violation", Reason: "no_conduit", Severity: "high", Summary: "bypass"}
		if err := storage.Insert(ctx, conn, []*storage.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	var n, count uint64
	var last time.Time
	if err := conn.QueryRow(ctx, "SELECT count(), max(count), max(last_seen) FROM findings FINAL WHERE finding_id = 'f-1'").Scan(&n, &count, &last); err != nil {
		t.Fatal(err)
	}
	if n != 1 || count != 5 || !last.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("folded finding: rows %d count %d last_seen %v", n, count, last)
	}
}
