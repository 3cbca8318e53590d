package storage_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

var q0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// seed stores a small known data set: 400 flow events (100 of each
// verdict on C1), 10 diode heartbeats (8 ok), 3 revisions of one finding
// and 2 of another, and 2 dead letters.
func seed(t *testing.T, conn driver.Conn) {
	t.Helper()
	ctx := t.Context()
	evs := append(sampleEvents(400, q0), seedDiode()...)
	if err := storage.Insert(ctx, conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	fb := storage.NewFindings()
	for _, f := range seedFindings() {
		if err := fb.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.Insert(ctx, conn, fb.Batch); err != nil {
		t.Fatal(err)
	}
	db := storage.NewDeadLetters()
	db.Add(&storage.DeadLetter{ID: "d1", ReceivedAt: q0, Source: "syslog-tcp", Reason: "oversize", Raw: []byte("x")})
	db.Add(&storage.DeadLetter{ID: "d2", ReceivedAt: q0, Source: "syslog-tcp", Reason: "oversize", Raw: []byte("y")})
	if err := storage.Insert(ctx, conn, db.Batch); err != nil {
		t.Fatal(err)
	}
}

// window is the parameters every named query takes, over the seeded day.
func window() []any {
	return append(storage.FindingsFilter{From: q0.Add(-time.Hour), To: q0.Add(24 * time.Hour)}.Args(),
		clickhouse.Named("bucket", uint32(3600)), clickhouse.Named("firewalls", []string{"fw1"}), clickhouse.Named("step", uint32(86400)),
		clickhouse.Named("diodes", []string{"DD-1", "DD-2"}), clickhouse.Named("device", "FW1"),
		clickhouse.Named("ids", []string{"a", "b"}), clickhouse.Named("conduit", ""))
}

// render runs every named query and prints its rows, one query per block.
func render(t *testing.T, conn driver.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range storage.Queries {
		tb, err := storage.RunQuery(t.Context(), conn, q, window()...)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, r := range tb.Rows {
			fmt.Fprintln(&b, r...)
		}
		out[q.Name] = b.String()
	}
	return out
}

func TestNamedQueriesOnSeededData(t *testing.T) {
	conn, _ := migrated(t)
	seed(t, conn)
	got := render(t, conn)
	for name, want := range map[string][]string{
		// latest state only: a at revision 3 (critical, count 9), b closed
		"findings":               {"a ", " critical open violation ", " 9 C1-BPCS-OPS", "b ", " closed 2 "},
		"findings_outside":       {"0 1970-01-01 00:00:00 +0000 UTC 0 2"},
		"finding_states":         {"open critical 1 0", "open high 1 0"}, // the seed's statuses are empty and closed
		"findings_by_id":         {"a 3 2026-03-01 10:03:00 +0000 UTC open critical violation", "b 2 2026-03-01 10:02:00 +0000 UTC open high diode_down"},
		"diode_heartbeats":       {"DD-1  2026-03-01 10:09:00 +0000 UTC down  10"},
		"stored_since":           {"410 2 5"},
		"verdicts":               {"C1-BPCS-OPS allowed  100", "C1-BPCS-OPS blocked not_permitted 100", "C1-BPCS-OPS violation not_permitted 100", "C1-BPCS-OPS would_block not_permitted 100"},
		"top_violated_conduits":  {"C1-BPCS-OPS 200 100 0 100 "},
		"would_block":            {"C1-BPCS-OPS Z3-OPS 10.1.0.5 Z2-BPCS 10.2.0.7 tcp 502 modbus write_single_register not_permitted 100 "},
		"open_would_blocks":      {"C1-BPCS-OPS 1 100 "},
		"events_per_second":      {"2026-03-01 10:00:00 +0000 UTC 410 0.114"},
		"compliance_daily":       {"Z2-BPCS C1-BPCS-OPS 400 100 100 map[not_permitted:100] 100 100 0 0 0 0", "Z3-OPS C1-BPCS-OPS 400 100 100", " 10 8"},
		"new_pairs":              {"Z3-OPS 10.1.0.5 Z2-BPCS 10.2.0.7 tcp 502 modbus C1-BPCS-OPS 2026-03-01 10:00:00 +0000 UTC 400"},
		"dead_letters_by_reason": {"oversize syslog-tcp 2 "},
		"device_days":            {"2026-03-01 00:00:00 +0000 UTC 400 2026-03-01 10:00:00 +0000 UTC 2026-03-01 10:06:39 +0000 UTC"},
		"would_false_block":      {"fw1 Z3-OPS 10.1.0.5 Z2-BPCS 10.2.0.7 C1-BPCS-OPS tcp 502 modbus 6 write_single_register  deny acl-ops 100 "},
		"device_would_block":     {"fw1 Z3-OPS 10.1.0.5 Z2-BPCS 10.2.0.7 C1-BPCS-OPS tcp 502 modbus 6 write_single_register not_permitted deny acl-ops 100 "},
		"baseline_flows":         {"10.1.0.5 10.2.0.7 tcp 502 modbus 6 write_single_register 300 "},
		// the report's queries (report_test covers them on a richer plant)
		"conduit_traffic":      {"2026-03-01 00:00:00 +0000 UTC C1-BPCS-OPS 400 100 200 100 0"},
		"conduit_traffic_fine": {"2026-03-01 00:00:00 +0000 UTC C1-BPCS-OPS 400 100 200 100 0"}, // the same from the events
		"cross_zone_tests":     {"0 1 0 400"},
		"path_outcomes":        {"Z3-OPS Z2-BPCS C1-BPCS-OPS blocked not_permitted tcp 502 modbus write_single_register false 100 1 1 ", "Z3-OPS Z2-BPCS C1-BPCS-OPS would_block not_permitted tcp 502 modbus write_single_register true 100 1 1 "},
		"undeclared_paths":     nil,
		"conduit_enforcement":  {"C1-BPCS-OPS 0 1 400 [fw1]"},
		"cross_zone_by_device": {"fw1 400 200 100"},
		// hourly buckets: 15 on the first day (from 09:00), 10 on the next
		"diode_availability": {"2026-03-01 00:00:00 +0000 UTC DD-1 15 1 0.0667 10 8 down", "2026-03-02 00:00:00 +0000 UTC DD-1 10 0 0 0 0 ",
			"2026-03-01 00:00:00 +0000 UTC DD-2 15 0 0 0 0 "},
		// fw1 logged 10:00:00-10:06:39, then nothing until the window's end at 10:00 the next day
		"device_coverage":      {"fw1 400 2026-03-01 10:00:00 +0000 UTC 2026-03-01 10:06:39 +0000 UTC 85980 2026-03-01 10:07:00 +0000 UTC 1 1 1"},
		"open_findings_by_age": {"critical open 1-7d 1 9 ", "high open 1-7d 1 2 "}, // b closed by the correlator, not by an analyst
	} {
		for _, w := range want {
			if !strings.Contains(got[name], w) {
				t.Errorf("%s: want %q in:\n%s", name, w, got[name])
			}
		}
	}
	for name, rows := range map[string]int{"undeclared_paths": 0, "diode_availability": 4, "path_outcomes": 4, "open_findings_by_age": 2} {
		if n := strings.Count(got[name], "\n"); n != rows {
			t.Errorf("%s: %d rows, want %d:\n%s", name, n, rows, got[name])
		}
	}
	if n := strings.Count(got["findings"], "\n"); n != 2 {
		t.Errorf("findings: %d rows, want 2:\n%s", n, got["findings"])
	}
	f := storage.FindingsFilter{From: q0.Add(-time.Hour), To: q0.Add(time.Hour), Severities: []string{"critical"}, Zones: []string{"Z2-BPCS"}, Limit: 10}
	tb, err := storage.RunQuery(t.Context(), conn, storage.QueryFindings, f.Args()...)
	if err != nil || len(tb.Rows) != 1 || tb.Rows[0][0] != "a" {
		t.Errorf("filtered findings: %v, %v", tb, err)
	}
}

// seedDiode returns seed's diode heartbeats: 10, one a minute, 8 ok.
func seedDiode() []*event.Event {
	var out []*event.Event
	for i := range 10 {
		ev := &event.Event{Time: q0.Add(time.Duration(i) * time.Minute), ReceivedAt: q0, Site: "refinery", Kind: event.KindDiode,
			Vendor: "otsiem", DiodeID: "DD-1", DiodeStatus: "ok", Message: fmt.Sprint("hb ", i)}
		if i >= 8 {
			ev.DiodeStatus = "down"
		}
		ev.ID = event.NewID(netip.Addr{}, "diode", ev.Time, []byte(ev.Message))
		out = append(out, ev)
	}
	return out
}

// seedFindings returns seed's finding revisions.
func seedFindings() []*event.Finding {
	fs := []*event.Finding{
		{FindingID: "a", Revision: 1, Count: 1, Type: "violation", Severity: "high", Conduit: "C1-BPCS-OPS", SrcZone: "Z3-OPS", DstZone: "Z2-BPCS"},
		{FindingID: "a", Revision: 2, Count: 5, Type: "violation", Severity: "high", Conduit: "C1-BPCS-OPS", SrcZone: "Z3-OPS", DstZone: "Z2-BPCS"},
		{FindingID: "a", Revision: 3, Count: 9, Type: "violation", Severity: "critical", Conduit: "C1-BPCS-OPS", SrcZone: "Z3-OPS", DstZone: "Z2-BPCS"},
		{FindingID: "b", Revision: 1, Count: 1, Type: "diode_down", Severity: "high", DiodeID: "DD-1"},
		{FindingID: "b", Revision: 2, Count: 2, Type: "diode_down", Severity: "high", DiodeID: "DD-1", Status: "closed"},
	}
	for _, f := range fs {
		f.Time, f.FirstSeen, f.LastSeen = q0, q0, q0.Add(time.Duration(f.Revision)*time.Minute)
	}
	return fs
}

// TestDiodeAvailabilityCountsSilence: a diode with an hourly heartbeat
// reports ok for 20 hours and down for 4 on the first day, and nothing at
// all on the second: 20/24 and 0/24, never 100% for a silent day (the
// query that preceded diode_availability divided ok heartbeats by those
// received, so this day showed 100%).
func TestDiodeAvailabilityCountsSilence(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for h := range 24 {
		for _, side := range []string{"tx", "rx"} {
			ev := &event.Event{Time: day.Add(time.Duration(h)*time.Hour + 17*time.Minute), ReceivedAt: q0, Site: "refinery",
				Kind: event.KindDiode, Vendor: "otsiem", DiodeID: "DMZ-DD-01", DiodeSide: side, DiodeStatus: "ok",
				Message: fmt.Sprint("hb ", side, h)}
			if h >= 20 {
				ev.DiodeStatus = "down"
			}
			ev.ID = event.NewID(netip.Addr{}, "diode", ev.Time, []byte(ev.Message))
			evs = append(evs, ev)
		}
	}
	if err := storage.Insert(ctx, conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	tb, err := storage.RunQuery(ctx, conn, storage.QueryDiodeAvailability, clickhouse.Named("from", day),
		clickhouse.Named("to", day.Add(48*time.Hour)), clickhouse.Named("bucket", uint32(3600)),
		clickhouse.Named("diodes", []string{"DMZ-DD-01"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tb.Rows {
		got = append(got, fmt.Sprint(r[0].(time.Time).Format("01-02"), " ", r[1], " ", r[2], " ", r[3], " ", r[4], " ", r[5]))
	}
	// day, diode, buckets, up buckets, availability, heartbeats (both sides)
	want := []string{"03-01 DMZ-DD-01 24 20 0.8333 48", "03-02 DMZ-DD-01 24 0 0 0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diode_availability:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
