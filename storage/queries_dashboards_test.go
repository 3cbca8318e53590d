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

// dashboardWindow is the parameters of the dashboards' queries over the
// seeded day, with no filter.
// Named parameters given later replace earlier ones.
func dashboardWindow(filters ...any) []any {
	named := map[string]any{"from": q0.Add(-time.Hour), "to": q0.Add(24 * time.Hour), "bucket": uint32(60),
		"sites": []string{}, "zones": []string{}, "conduits": []string{}, "severities": []string{}, "diodes": []string{},
		"finding": "c", "device": "FW1", "limit": uint32(10)}
	for _, f := range filters {
		n := f.(driver.NamedValue)
		named[n.Name] = n.Value
	}
	var args []any
	for k, v := range named {
		args = append(args, clickhouse.Named(k, v))
	}
	return args
}

// seedDashboards adds to seed's data what the dashboards join with: the
// refinery model, heartbeats of its diode (the tx side every 10 s from
// 10:00 to 10:05 with a sequence gap of 3 and its last one degraded, the
// rx side silent), an unmanaged address, and a finding with its events,
// acknowledged.
// It returns the connection and a function running every dashboard query.
func seedDashboards(t *testing.T) (driver.Conn, func(filters ...any) map[string]string) {
	t.Helper()
	conn, _ := migrated(t)
	seed(t, conn)
	ctx := t.Context()
	if _, err := storage.WriteModel(ctx, conn, refinery(t, nil), storage.ModelLoad{LoadedAt: q0}); err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	seq := uint64(100)
	for i := range 31 {
		seq++
		if i == 10 {
			seq += 3
		}
		ev := &event.Event{Time: q0.Add(time.Duration(i) * 10 * time.Second), ReceivedAt: q0, Site: "refinery", Kind: event.KindDiode,
			Vendor: "otsiem", DiodeID: "DMZ-DD-01", DiodeSide: "tx", DiodeStatus: "ok", DiodeSeq: event.Some(seq),
			DiodeLagMS: event.Some(uint64(30 + i)), Message: fmt.Sprint("tx ", i)}
		if i == 30 {
			ev.DiodeStatus = "degraded"
		}
		ev.ID = event.NewID(netip.Addr{}, "diode", ev.Time, []byte(ev.Message))
		evs = append(evs, ev)
	}
	stray := sampleEvents(1, q0.Add(30*time.Minute))[0]
	stray.SrcIP, stray.SrcZone, stray.Conduit, stray.Verdict, stray.Reason = netip.MustParseAddr("203.0.113.9"), "", "", "unknown_zone", "unknown_zone"
	stray.Message += " stray"
	stray.ID = event.NewID(stray.DeviceIP, stray.Device, stray.ReceivedAt, []byte(stray.Message))
	evs = append(evs, stray)
	if err := storage.Insert(ctx, conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	behind := sampleEvents(2, q0)
	fb := storage.NewFindings()
	if err := fb.Add(&event.Finding{FindingID: "c", Revision: 1, Count: 2, Type: "violation", Severity: "high", Status: "open",
		Conduit: "C1-BPCS-OPS", SrcZone: "Z3-OPS", DstZone: "Z2-BPCS", SrcAsset: "HIST-01", Time: q0, FirstSeen: q0, LastSeen: q0.Add(time.Second),
		SrcIP: netip.MustParseAddr("10.1.0.5"), DstIP: netip.MustParseAddr("10.2.0.7"), Summary: "a Modbus write",
		EventIDs: []event.ID{behind[0].ID, behind[1].ID}}); err != nil {
		t.Fatal(err)
	}
	if err := storage.Insert(ctx, conn, fb.Batch); err != nil {
		t.Fatal(err)
	}
	// An analyst acknowledged c: no longer open on the dashboards, as in
	// `otsiem findings`.
	if err := storage.Acknowledge(ctx, conn, []storage.Ack{{FindingID: "c", Action: event.StateAcknowledged, At: q0.Add(time.Hour),
		By: "ana", Revision: 1, LastSeen: q0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	return conn, func(filters ...any) map[string]string {
		out := map[string]string{}
		for _, q := range storage.DashboardQueries {
			tb, err := storage.RunQuery(ctx, conn, q, dashboardWindow(filters...)...)
			if err != nil {
				t.Fatal(err)
			}
			out[q.Name] = rowsText(tb)
		}
		return out
	}
}

func TestDashboardQueriesOnSeededData(t *testing.T) {
	_, render := seedDashboards(t)
	got := render()
	for name, want := range map[string][]string{
		// a is critical and open; b high, closed by the correlator and by
		// no analyst: open; c high, acknowledged
		"open_finding_counts":    {"1 1 0 0\n"},
		"open_findings":          {"critical violation  C1-BPCS-OPS  Z3-OPS  Z2-BPCS 9 ", "high diode_down       2 "},
		"finding_events":         {"10:00:00 +0000 UTC fw1 allowed  10.1.0.5 40000 10.2.0.7 502 tcp modbus", "10:00:01 +0000 UTC fw1 violation not_permitted 10.1.0.5 40001"},
		"policy_breaking_events": {"200\n"},
		// 1 event a second, a verdict in turn: 15 of each a minute
		"policy_breaking_series": {"10:00:00 +0000 UTC violation 15\n", "10:00:00 +0000 UTC would_block 15\n", "10:06:00 +0000 UTC would_block 10\n"},
		"unmanaged_addresses":    {"1\n"},
		"top_violation_sources":  {"10.1.0.5 Z3-OPS 200 1 C1-BPCS-OPS\n"},
		"zone_matrix": {"Z3-OPS Z2-BPCS C1-BPCS-OPS 100 200 100 400 ! C1-BPCS-OPS: 200 breaking, 100 allowed\n",
			"Z2-BPCS Z3-OPS C1-BPCS-OPS 0 0 0 0 ✓ C1-BPCS-OPS: 0 allowed\n", "Z1-SIS Z2-BPCS  0 0 0 0 –\n", "Z3-OPS Z3-OPS  0 0 0 0 ·\n"},
		// the window ends a day after the last heartbeat: both sides down
		"diode_sides":            {"DMZ-DD-01 rx 10      down\n", "DMZ-DD-01 tx 10 2026-03-01 10:05:00 +0000 UTC 2026-03-01 10:04:50 +0000 UTC degraded 60  down\n"},
		"diodes_down":            {"1\n"},
		"diode_states":           {"10:00:00 +0000 UTC DMZ-DD-01 tx 1\n", "10:05:00 +0000 UTC DMZ-DD-01 tx 2\n", "10:06:00 +0000 UTC DMZ-DD-01 tx 0\n", "10:00:00 +0000 UTC DMZ-DD-01 rx 0\n"},
		"diode_heartbeat_series": {"10:00:00 +0000 UTC DMZ-DD-01 tx 6\n", "10:05:00 +0000 UTC DMZ-DD-01 tx 1\n"},
		"diode_lag":              {"10:04:00 +0000 UTC DMZ-DD-01 tx 59\n"},
		"diode_seq_gaps":         {"10:01:00 +0000 UTC DMZ-DD-01 tx 3\n", "10:02:00 +0000 UTC DMZ-DD-01 tx 0\n"},
		// 25 hours of 60 s buckets; DMZ-DD-01 heard ok in 5 of them, DD-1 (seed's, no side) in 8
		"diode_availability_total": {"DMZ-DD-01 1500 5 0.0033\n", "DD-1 1500 8 0.0053\n"},
		"device_would_block_daily": {"2026-03-01 00:00:00 +0000 UTC 100\n2026-03-02 00:00:00 +0000 UTC 0\n"},
		// fw1 is not in the model: no mode; heard on the first day only
		"device_observation":    {"  2026-03-01 00:00:00 +0000 UTC 2026-03-01 00:00:00 +0000 UTC 1 1\n"},
		"zone_compliance_daily": {"Z2-BPCS (SL-T 2) 200\n", "Z3-OPS (SL-T 2) 200\n"},
		// the stray event touches Z2-BPCS only
		"zone_compliance":        {"Z1-SIS Safety Instrumented Systems 1 3 0 0 0 0 0\n", "Z2-BPCS Basic Process Control System 1-2 2 401 100 200 100 0\n", "Z3-OPS Site Operations 3 2 400 100 200 100 0\n"},
		"declared_conduit_share": {"2026-03-01 00:00:00 +0000 UTC 400 1\n"},
	} {
		for _, w := range want {
			if !strings.Contains(got[name], w) {
				t.Errorf("%s: want %q in:\n%s", name, w, got[name])
			}
		}
	}
	if strings.Contains(got["open_findings"], "a Modbus write") {
		t.Errorf("open_findings lists the acknowledged finding c:\n%s", got["open_findings"])
	}
	if n := strings.Count(got["zone_matrix"], "\n"); n != 25 {
		t.Errorf("zone_matrix: %d cells, want 5 x 5", n)
	}

	// The filters: a zone, a conduit, a severity, a site, a diode.
	got = render(clickhouse.Named("zones", []string{"Z4-DMZ"}), clickhouse.Named("severities", []string{"high"}),
		clickhouse.Named("diodes", []string{"NONE"}), clickhouse.Named("to", q0.Add(5*time.Minute+10*time.Second)))
	for name, want := range map[string]string{
		"open_finding_counts": "0 0 0 0\n", "open_findings": "", "policy_breaking_events": "0\n", "top_violation_sources": "",
		"diode_sides": "", "diodes_down": "0\n", "zone_compliance": "Z4-DMZ Industrial Demilitarized Zone 3.5 2 0 0 0 0 0\n",
	} {
		if got[name] != want {
			t.Errorf("filtered %s: %q, want %q", name, got[name], want)
		}
	}
	if n := strings.Count(got["zone_matrix"], "\n"); n != 9 {
		t.Errorf("zone_matrix filtered to Z4-DMZ: %d cells, want its row and column (9)", n)
	}
	got = render(clickhouse.Named("conduits", []string{"C1-BPCS-OPS"}), clickhouse.Named("severities", []string{"high"}),
		clickhouse.Named("sites", []string{"refinery"}), clickhouse.Named("to", q0.Add(5*time.Minute+10*time.Second)))
	for name, want := range map[string]string{
		"open_finding_counts":    "0 0 0 0\n", // findings have no site
		"policy_breaking_events": "155\n",     // up to 10:05:10
		// at 10:05:10 the tx side has just reported degraded; rx was never heard
		"diode_sides": "DMZ-DD-01 rx 10      down\nDMZ-DD-01 tx 10 2026-03-01 10:05:00 +0000 UTC 2026-03-01 10:04:50 +0000 UTC degraded 60  degraded\n",
		"zone_matrix": "Z2-BPCS Z3-OPS C1-BPCS-OPS 0 0 0 0 ✓ C1-BPCS-OPS: 0 allowed\nZ3-OPS Z2-BPCS C1-BPCS-OPS 100 200 100 400 ! C1-BPCS-OPS: 200 breaking, 100 allowed\n",
	} {
		if got[name] != want {
			t.Errorf("filtered %s: %q, want %q", name, got[name], want)
		}
	}
}
