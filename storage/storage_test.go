package storage_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/internal/poll"
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

// sampleEvents returns n enriched events one second apart from t0, a
// quarter of each verdict, with every field of the contract set.
func sampleEvents(n int, t0 time.Time) []*event.Event {
	evs := make([]*event.Event, n)
	verdicts := []string{"allowed", "violation", "would_block", "blocked"}
	for i := range evs {
		v := verdicts[i%len(verdicts)]
		reason := ""
		if v != "allowed" {
			reason = "not_permitted"
		}
		msg := fmt.Sprintf("<134>line %d\n\nwith blank lines", i)
		ev := &event.Event{
			Time: t0.Add(time.Duration(i) * time.Second), ReceivedAt: t0.Add(time.Duration(i)*time.Second + time.Millisecond),
			Site: "refinery", Kind: event.KindFlow, Vendor: "cisco", Product: "asa", Device: "fw1",
			DeviceIP: netip.MustParseAddr("10.30.1.1"), MessageID: "106023", Severity: event.Some[uint8](4), Action: event.ActionDeny,
			SrcIP: netip.MustParseAddr("10.1.0.5"), SrcPort: event.Some(uint16(40000 + i%20000)),
			DstIP: netip.MustParseAddr("10.2.0.7"), DstPort: event.Some[uint16](502),
			SrcMappedIP: netip.MustParseAddr("172.16.1.2"), SrcMappedPort: event.Some(uint16(1024 + i%1000)),
			DstMappedIP: netip.MustParseAddr("10.100.200.7"), DstMappedPort: event.Some[uint16](8502),
			Transport: "tcp", AppProtocol: "modbus", FunctionCode: event.Some[int32](6), Function: "write_single_register",
			Rule: "acl-ops", SrcInterface: "zone-ops", DstInterface: "zone-bpcs", SrcUser: "LOCAL\\op", DstUser: "plc",
			Bytes: event.Some[uint64](100), Packets: event.Some[uint64](2), Signature: "sig", SignatureID: "42",
			Message: msg, Attrs: []event.Attr{{Key: "hits", Value: fmt.Sprint(i)}, {Key: "acl", Value: "x"}},
			SrcZone: "Z3-OPS", DstZone: "Z2-BPCS", Conduit: "C1-BPCS-OPS", Verdict: v, Reason: reason,
		}
		ev.ID = event.NewID(ev.DeviceIP, ev.Device, ev.ReceivedAt, []byte(msg))
		evs[i] = ev
	}
	return evs
}

// eventBatch puts events into an insert batch keyed by their ids.
func eventBatch(t testing.TB, evs []*event.Event) *storage.Batch {
	t.Helper()
	b := storage.NewEvents()
	for _, ev := range evs {
		if err := b.Add(ev, ev.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	return b.Batch
}

// counts returns the raw events, the distinct event ids, and the events
// counted by each rollup.
func counts(t *testing.T, conn driver.Conn) [4]uint64 {
	t.Helper()
	var c [4]uint64
	for i, q := range []string{
		"SELECT count() FROM events",
		"SELECT uniqExact(event_id) FROM events",
		"SELECT sum(events) FROM flows_hourly",
		"SELECT intDiv(sum(events), 2) FROM compliance_daily", // two zones per event
	} {
		if err := conn.QueryRow(t.Context(), q).Scan(&c[i]); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

// waitCounts polls counts until they equal want: a table and the views it
// feeds commit their parts one after the other, so a reader may see the
// events of an insert before its rollups.
func waitCounts(t *testing.T, conn driver.Conn, want [4]uint64) {
	t.Helper()
	poll.Equal(t, 30*time.Second, "counts (raw, distinct, flows, compliance)",
		func() ([4]uint64, error) { return counts(t, conn), nil }, want)
}

func TestRetriedBatchIsDeduplicated(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	b := eventBatch(t, sampleEvents(1000, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)))
	for range 3 { // the insert committed but its response was lost: sent again
		if err := storage.Insert(ctx, conn, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts(t, conn); got != [4]uint64{1000, 1000, 1000, 1000} {
		t.Errorf("counts (raw, distinct, flows, compliance) = %v, want all 1000", got)
	}
}

// TestEventRoundTrip checks that every field of the contract is stored:
// the row read back, turned into an event again, is the event.
func TestEventRoundTrip(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	ev := sampleEvents(1, time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC))[0]
	ev.Kind, ev.DiodeID, ev.DiodeSide, ev.DiodeStatus = event.KindDiode, "DD-1", "tx", "ok"
	ev.DiodeSeq, ev.DiodeLagMS, ev.DiodeBPS = event.Some[uint64](0), event.Some[uint64](12), event.Some[uint64](9600)
	ev.ParseError = "none"
	if err := storage.Insert(ctx, conn, eventBatch(t, []*event.Event{ev})); err != nil {
		t.Fatal(err)
	}
	var js string
	if err := conn.QueryRow(ctx, `SELECT toJSONString(map(
		'id', event_id, 'time', formatDateTime(time, '%Y-%m-%dT%H:%i:%S.%fZ'), 'received_at', formatDateTime(received_at, '%Y-%m-%dT%H:%i:%S.%fZ'),
		'site', site, 'kind', kind, 'vendor', vendor, 'product', product, 'device', device, 'device_ip', IPv6NumToString(device_ip),
		'message_id', message_id, 'severity', toString(severity), 'action', action, 'src_ip', IPv6NumToString(src_ip),
		'src_port', toString(src_port), 'dst_ip', IPv6NumToString(dst_ip), 'dst_port', toString(dst_port), 'transport', transport,
		'src_mapped_ip', IPv6NumToString(src_mapped_ip), 'src_mapped_port', toString(src_mapped_port),
		'dst_mapped_ip', IPv6NumToString(dst_mapped_ip), 'dst_mapped_port', toString(dst_mapped_port),
		'app_protocol', app_protocol, 'function_code', toString(function_code), 'function', function, 'rule', rule,
		'src_interface', src_interface, 'dst_interface', dst_interface, 'src_user', src_user, 'dst_user', dst_user,
		'bytes', toString(bytes), 'packets', toString(packets), 'signature', signature, 'signature_id', signature_id,
		'diode_id', diode_id, 'diode_side', diode_side, 'diode_status', diode_status, 'diode_seq', toString(diode_seq),
		'diode_lag_ms', toString(diode_lag_ms), 'diode_bps', toString(diode_bps), 'message', message,
		'parse_error', parse_error, 'src_zone', src_zone, 'dst_zone', dst_zone, 'conduit', conduit, 'verdict', verdict,
		'reason', reason, 'attrs', toJSONString(attrs))) FROM events`).Scan(&js); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m { // back to the contract's JSON form
		switch {
		case strings.HasPrefix(v, "::ffff:"):
			m[k] = strings.TrimPrefix(v, "::ffff:")
		case k == "time" || k == "received_at":
			m[k] = strings.Replace(strings.TrimRight(strings.TrimSuffix(v, "Z"), "0"), ".Z", "Z", 1) + "Z"
		}
	}
	var back map[string]any
	b, _ := json.Marshal(m)
	_ = json.Unmarshal(b, &back)
	var attrs map[string]string
	_ = json.Unmarshal([]byte(m["attrs"]), &attrs)
	var want map[string]any
	_ = json.Unmarshal(ev.AppendJSON(nil), &want)
	for k, w := range want {
		got := m[k]
		if k == "attrs" {
			if fmt.Sprint(attrs) != fmt.Sprint(w) {
				t.Errorf("attrs = %v, want %v", attrs, w)
			}
			continue
		}
		if got != fmt.Sprint(w) {
			t.Errorf("%s = %q, want %q", k, got, fmt.Sprint(w))
		}
	}
}

// TestEventEvidence: a line without a time is stored at its receive time,
// marked 'received'; a line that is not valid UTF-8 is shown with U+FFFD
// and its exact bytes stay recoverable (raw, message_bytes).
func TestEventEvidence(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	recv := time.Date(2026, 3, 1, 10, 0, 0, 250000000, time.UTC)
	line := "<164>%ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 \xff\xfe\x1b]0;pwn\x07 dst zone-bpcs:10.20.1.10/502"
	ev := &event.Event{ReceivedAt: recv, Site: "refinery", Kind: event.KindFlow, Message: line}
	ev.ID = event.NewID(netip.MustParseAddr("10.30.1.1"), "", recv, []byte(line))
	// Through the JSON contract, as the store receives it.
	var decoded event.Event
	if err := event.Decode(ev.AppendJSON(nil), &decoded); err != nil {
		t.Fatal(err)
	}
	if err := storage.Insert(ctx, conn, eventBatch(t, []*event.Event{&decoded})); err != nil {
		t.Fatal(err)
	}
	var (
		at                      time.Time
		source, msg, bytes, raw string
	)
	if err := conn.QueryRow(ctx, "SELECT time, time_source, message, message_bytes, raw FROM events").Scan(&at, &source, &msg, &bytes, &raw); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(recv) || source != event.TimeReceived {
		t.Errorf("time %v (%s), want the receive time %v marked received", at, source, recv)
	}
	if raw != line || bytes != line {
		t.Errorf("raw %q, message_bytes %q: the bytes received are lost", raw, bytes)
	}
	if want := strings.ToValidUTF8(line[:59], "") + "\ufffd\ufffd" + line[61:]; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	var devSource, devRaw string
	good := sampleEvents(1, recv)[0]
	if err := storage.Insert(ctx, conn, eventBatch(t, []*event.Event{good})); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT time_source, raw FROM events WHERE message_bytes = ''").Scan(&devSource, &devRaw); err != nil {
		t.Fatal(err)
	}
	if devSource != event.TimeDevice || devRaw != good.Message {
		t.Errorf("a valid line with a device time: time_source %q raw %q", devSource, devRaw)
	}
}

// Every published revision stays in finding_revisions after merges (a
// redelivered one once); the findings view is each finding's latest.
func TestFindingRevisionsKeepEveryRevision(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	insertRevisions(t, conn, "f-1", 1, 2, 5, 3, 4, 5) // out of order, and one redelivered
	insertRevisions(t, conn, "f-2", 1, 2)
	if err := conn.Exec(ctx, "OPTIMIZE TABLE finding_revisions FINAL"); err != nil {
		t.Fatal(err)
	}
	checkRevisions(t, conn, map[string][]uint64{"f-1": {1, 2, 3, 4, 5}, "f-2": {1, 2}})
}

// A store written before migration 0013 keeps its rows: the migration
// rebuilds finding_revisions with every revision stored so far.
func TestMigrationKeepsStoredRevisions(t *testing.T) {
	conn, _ := connect(t)
	ctx := t.Context()
	all, err := storage.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// The schema as it was before: migrations up to 0012, recorded.
	if err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
ENGINE = ReplacingMergeTree ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= 13 {
			break
		}
		for _, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("%04d_%s: %v", m.Version, m.Name, err)
			}
		}
		if err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES (?, ?, ?, now64(3))", uint32(m.Version), m.Name, m.Checksum); err != nil {
			t.Fatal(err)
		}
	}
	// Two revisions of f-1 in separate parts, not merged yet: the old
	// table still holds both.
	insertRevisions(t, conn, "f-1", 1, 2)
	insertRevisions(t, conn, "f-3", 7)
	var key string
	if err := conn.QueryRow(ctx, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'finding_revisions'").Scan(&key); err != nil || key != "finding_id" {
		t.Fatalf("old sorting key %q (err %v)", key, err)
	}
	done, err := storage.Migrate(ctx, conn, storage.MigrateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) == 0 || done[0].Version != 13 {
		t.Fatalf("applied %v, want 0013 first", done)
	}
	if err := conn.QueryRow(ctx, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'finding_revisions'").Scan(&key); err != nil || key != "finding_id, revision" {
		t.Fatalf("new sorting key %q (err %v)", key, err)
	}
	insertRevisions(t, conn, "f-1", 3)
	if err := conn.Exec(ctx, "OPTIMIZE TABLE finding_revisions FINAL"); err != nil {
		t.Fatal(err)
	}
	checkRevisions(t, conn, map[string][]uint64{"f-1": {1, 2, 3}, "f-3": {7}})
}

// insertRevisions stores revisions of a finding, one batch each: its
// count is the revision, the last revision given is closed.
func insertRevisions(t *testing.T, conn driver.Conn, id string, revs ...uint64) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	top := slices.Max(revs)
	for _, rev := range revs {
		f := &event.Finding{FindingID: id, Revision: rev, Time: t0, FirstSeen: t0, LastSeen: t0.Add(time.Duration(rev) * time.Minute),
			Count: rev, Type: "violation", Reason: "no_conduit", Severity: event.SeverityHigh, Status: "open", Summary: "bypass"}
		if rev == top {
			f.Status = "closed"
		}
		b := storage.NewFindings()
		if err := b.Add(f); err != nil {
			t.Fatal(err)
		}
		if err := storage.Insert(t.Context(), conn, b.Batch); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRevisions checks that finding_revisions holds exactly the given
// revisions (once each) and the findings view each finding's latest.
func checkRevisions(t *testing.T, conn driver.Conn, want map[string][]uint64) {
	t.Helper()
	ctx := t.Context()
	for id, revs := range want {
		var got []uint64
		rows, err := conn.Query(ctx, "SELECT revision FROM finding_revisions WHERE finding_id = ? ORDER BY revision", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r uint64
			if err := rows.Scan(&r); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		rows.Close()
		if !slices.Equal(got, revs) {
			t.Errorf("%s: finding_revisions holds revisions %v, want %v", id, got, revs)
		}
		var n, rev, count uint64
		var status string
		if err := conn.QueryRow(ctx, "SELECT count(), max(revision), max(count), any(status) FROM findings WHERE finding_id = ?", id).Scan(&n, &rev, &count, &status); err != nil {
			t.Fatal(err)
		}
		if top := slices.Max(revs); n != 1 || rev != top || count != top || status != "closed" {
			t.Errorf("%s in findings: %d rows, revision %d, count %d, %s; want 1 row, revision %d, count %d, closed", id, n, rev, count, status, top, top)
		}
	}
}
