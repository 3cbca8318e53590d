package storage_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// The plugin's queries on the dashboards' seed, plus an undeclared path
// (3 events from the enterprise zone straight into the control zone) and
// SSH across C1, which no C1 rule carries.
func TestPluginQueriesOnSeededData(t *testing.T) {
	conn, _ := seedDashboards(t)
	var evs []*event.Event
	for i, e := range sampleEvents(5, q0.Add(20*time.Minute)) {
		e.Message += " plugin"
		if i < 3 {
			e.SrcIP, e.SrcZone, e.Conduit, e.Verdict, e.Reason = netip.MustParseAddr("10.50.0.9"), "Z5-ENT", "", "violation", "no_conduit"
		} else {
			e.DstPort, e.AppProtocol, e.Verdict, e.Reason = event.Some[uint16](22), "ssh", "would_block", "not_permitted"
		}
		e.ID = event.NewID(e.DeviceIP, e.Device, e.ReceivedAt, []byte(e.Message))
		evs = append(evs, e)
	}
	if err := storage.Insert(t.Context(), conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	run := func(q storage.Query, filters ...any) string {
		t.Helper()
		tb, err := storage.RunQuery(t.Context(), conn, q, dashboardWindow(append([]any{clickhouse.Named("conduit", "C1-BPCS-OPS")}, filters...)...)...)
		if err != nil {
			t.Fatal(err)
		}
		return rowsText(tb)
	}
	for q, want := range map[storage.Query][]string{
		// finding a (critical) is open, from Z3-OPS to Z2-BPCS; c, acknowledged, is not; b touches no zone
		storage.QueryTopologyZones: {"Z1-SIS Safety Instrumented Systems 1 1 1 3 Safety Critical true true 0 3 0 \n",
			"Z2-BPCS Basic Process Control System 1-2 1 2 2 High false false 1 20 1 critical\n", "Z3-OPS Site Operations 3 3 3 2 ",
			"Z5-ENT Enterprise Network 4 4 4 1 "},
		// C1 in the order it connects its zones: 400 seeded events and 2 SSH, either way
		storage.QueryTopologyPaths: {"C1-BPCS-OPS Z2-BPCS Z3-OPS false 100 202 100 402 [not_permitted]\n",
			"C2-OPS-DMZ Z3-OPS Z4-DMZ false 0 0 0 0 []\n", " Z5-ENT Z2-BPCS true 0 3 0 3 [no_conduit]\n"},
		storage.QueryConduitRules: {"C1-BPCS-OPS#1 OPC UA Z2 -> Z3 (read only) Z2-BPCS Z3-OPS tcp 4840 read-only false 0 0 0 0 0   []\n",
			"C1-BPCS-OPS#2 Modbus/TCP Z3 -> Z2 (read only, FC 3/4 only) Z3-OPS Z2-BPCS tcp 502 ",
			" false 1 400 100 200 100 2026-03-01 10:00:00 +0000 UTC 2026-03-01 10:06:39 +0000 UTC [not_permitted]\n",
			"        false 1 2 0 2 0 2026-03-01 10:20:03 +0000 UTC 2026-03-01 10:20:04 +0000 UTC [not_permitted]\n"},
		storage.QueryModelVersion:  {" petrochemical-refinery-unit-3  Petrochemical Refinery - Unit 3 IEC 62443-3-2:2020 2026-02-23 5 3 6 35 6 1\n"},
		storage.QueryModelZones:    {"Z4-DMZ Industrial Demilitarized Zone 3.5 2 "},
		storage.QueryModelConduits: {"C3-DMZ-ENT DMZ-to-Enterprise Conduit [Z4-DMZ Z5-ENT] 1 ", " [C3-DMZ-ENT#1 C3-DMZ-ENT#2]\n"},
		storage.QueryModelDevices:  {"isa3000-c1 firewall Cisco "},
	} {
		got := run(q)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: want %q in:\n%s", q.Name, w, got)
			}
		}
	}
	if got := run(storage.QueryConduitRules); strings.Count(got, "\n") != 3 {
		t.Errorf("conduit_rules: want C1's 2 rules and the row of what fits none:\n%s", got)
	}

	// Filters: one zone keeps its node and the edges touching it; a
	// severity counts only its findings; a conduit drops undeclared paths.
	for _, c := range []struct {
		q       storage.Query
		filters []any
		want    string
	}{
		{storage.QueryTopologyZones, []any{clickhouse.Named("zones", []string{"Z2-BPCS"}), clickhouse.Named("severities", []string{"critical"})},
			"Z2-BPCS Basic Process Control System 1-2 1 2 2 High false false 1 20 1 critical\n"},
		{storage.QueryTopologyPaths, []any{clickhouse.Named("zones", []string{"Z5-ENT"})},
			"C3-DMZ-ENT Z4-DMZ Z5-ENT false 0 0 0 0 []\n Z5-ENT Z2-BPCS true 0 3 0 3 [no_conduit]\n"},
		{storage.QueryTopologyPaths, []any{clickhouse.Named("conduits", []string{"C1-BPCS-OPS"}), clickhouse.Named("sites", []string{"elsewhere"})},
			"C1-BPCS-OPS Z2-BPCS Z3-OPS false 0 0 0 0 []\n"},
	} {
		if got := run(c.q, c.filters...); got != c.want {
			t.Errorf("%s filtered by %v:\n%s\nwant\n%s", c.q.Name, c.filters, got, c.want)
		}
	}
}
