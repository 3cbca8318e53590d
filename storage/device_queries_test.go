package storage_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

// d0 is the first day of the per-device seed.
var d0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// flowEvent is one judged flow event of a device.
func flowEvent(device string, t time.Time, action event.Action, src, dst string, port uint16, app string, fc int32, fn, verdict, reason, rule string) *event.Event {
	ev := &event.Event{Time: t, ReceivedAt: t, Site: "refinery", Kind: event.KindFlow, Device: device, Action: action,
		SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), DstPort: event.Some(port), Transport: "tcp",
		AppProtocol: app, Function: fn, Rule: rule, Verdict: verdict, Reason: reason, SrcZone: "Z5-ENT", DstZone: "Z4-DMZ",
		Conduit: "C3-DMZ-ENT"}
	if fc >= 0 {
		ev.FunctionCode = event.Some(fc)
	}
	ev.Message = fmt.Sprint(device, t.UnixNano(), src, dst, port, fc, verdict, action)
	ev.ID = event.NewID(netip.Addr{}, device, t, []byte(ev.Message))
	return ev
}

// seedDevices stores what three devices reported over four days:
//
//   - "PA-C3" (a monitor-mode firewall; the header's case differs from the
//     model's): day 0 five would_block SSH permits, day 1 three RDP denies
//     the model allows (would_false_block) and one blocked-by-nobody
//     system line, day 2 nothing, day 3 one system line;
//   - "ids-z2" (a sensor): Modbus FC 3 reads on days 0, 1 and 3, one
//     Modbus write (violation) on day 1;
//   - "fw1" (an enforcing firewall): two denied flows (blocked), which
//     never count as baseline traffic.
func seedDevices() []*event.Event {
	h := func(day, hour int) time.Time {
		return d0.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
	}
	var evs []*event.Event
	for i := range 5 {
		evs = append(evs, flowEvent("PA-C3", h(0, 9).Add(time.Duration(i)*time.Minute), event.ActionAllow, "10.100.7.7", "172.16.1.30", 22, "ssh", -1, "", "would_block", "not_permitted", "monitor-any"))
	}
	for i := range 3 {
		evs = append(evs, flowEvent("PA-C3", h(1, 14).Add(time.Duration(i)*time.Minute), event.ActionDeny, "10.100.7.8", "172.16.1.30", 3389, "rdp", -1, "", "allowed", "", "interzone-default"))
	}
	for _, day := range []int{1, 3} {
		ev := &event.Event{Time: h(day, 23), ReceivedAt: h(day, 23), Site: "refinery", Kind: event.KindSystem, Device: "pa-c3", Message: fmt.Sprint("system ", day)}
		ev.ID = event.NewID(netip.Addr{}, ev.Device, ev.Time, []byte(ev.Message))
		evs = append(evs, ev)
	}
	for _, day := range []int{0, 1, 3} {
		for i := range 4 {
			evs = append(evs, flowEvent("ids-z2", h(day, 10+i), event.ActionUnknown, "10.30.1.50", "10.20.1.10", 502, "modbus", 3, "read_holding_registers", "allowed", "", ""))
		}
	}
	evs = append(evs, flowEvent("ids-z2", h(1, 12), event.ActionUnknown, "10.30.1.50", "10.20.1.10", 502, "modbus", 6, "write_single_register", "violation", "function_not_permitted", ""))
	for i := range 2 {
		evs = append(evs, flowEvent("fw1", h(2, 8+i), event.ActionDeny, "10.30.1.77", "10.20.1.11", 102, "s7", -1, "", "blocked", "not_permitted", "deny-all"))
	}
	return evs
}

func TestDeviceQueriesOnSeededData(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	evs := seedDevices()
	if err := storage.Insert(ctx, conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_daily", uint64(len(evs)))
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_flows_hourly", uint64(len(evs)-2))
	from, to := d0, d0.Add(4*24*time.Hour)

	var days []storage.DeviceDay
	if err := storage.Select(ctx, conn, storage.QueryDeviceDays, &days, storage.DeviceWindow("Pa-C3", from, to)...); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for i, d := range days {
		if !d.Day.Equal(d0.Add(time.Duration(i) * 24 * time.Hour)) {
			t.Errorf("day %d is %v", i, d.Day)
		}
		got = append(got, d.Events)
	}
	if want := []uint64{5, 4, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("pa-c3 lines per day = %v, want %v (a silent day as 0)", got, want)
	}
	// A window ending mid-day still shows that day; one starting mid-day too.
	if err := storage.Select(ctx, conn, storage.QueryDeviceDays, &days, storage.DeviceWindow("pa-c3", from.Add(time.Hour), from.Add(25*time.Hour))...); err != nil || len(days) != 2 {
		t.Errorf("partial days: %d rows, %v", len(days), err)
	}
	if err := storage.Select(ctx, conn, storage.QueryDeviceDays, &days, storage.DeviceWindow("nobody", from, to)...); err != nil || len(days) != 4 || days[0].Events != 0 {
		t.Errorf("a device never heard from: %v, %v", days, err)
	}

	var wfb []storage.DeviceFlow
	if err := storage.Select(ctx, conn, storage.QueryWouldFalseBlock, &wfb, storage.DeviceWindow("pa-c3", from, to)...); err != nil {
		t.Fatal(err)
	}
	if len(wfb) != 1 || wfb[0].Device != "pa-c3" || wfb[0].SrcIP.Unmap() != netip.MustParseAddr("10.100.7.8") || wfb[0].DstPort != 3389 ||
		wfb[0].Events != 3 || wfb[0].Rule != "interzone-default" || wfb[0].FunctionCode != -1 || len(wfb[0].Days) != 1 || !wfb[0].Days[0].Equal(d0.Add(24*time.Hour)) ||
		!wfb[0].FirstSeen.Equal(d0.Add(38*time.Hour)) || !wfb[0].LastSeen.Equal(d0.Add(38*time.Hour+2*time.Minute)) {
		t.Errorf("would_false_block = %+v", wfb)
	}
	// fw1's denies are blocked (the model forbids them): nothing would break.
	if err := storage.Select(ctx, conn, storage.QueryWouldFalseBlock, &wfb, storage.DeviceWindow("fw1", from, to)...); err != nil || len(wfb) != 0 {
		t.Errorf("fw1 would_false_block = %+v, %v", wfb, err)
	}

	var wb []storage.DeviceFlow
	if err := storage.Select(ctx, conn, storage.QueryDeviceWouldBlock, &wb, storage.DeviceWindow("", from, to)...); err != nil {
		t.Fatal(err)
	}
	if len(wb) != 1 || wb[0].Device != "pa-c3" || wb[0].DstPort != 22 || wb[0].Events != 5 || wb[0].Reason != "not_permitted" ||
		wb[0].Action != "allow" || wb[0].Rule != "monitor-any" || wb[0].AppProtocol != "ssh" {
		t.Errorf("device_would_block = %+v", wb)
	}
	// The window bounds it: nothing on day 1 onwards.
	if err := storage.Select(ctx, conn, storage.QueryDeviceWouldBlock, &wb, storage.DeviceWindow("pa-c3", from.Add(24*time.Hour), to)...); err != nil || len(wb) != 0 {
		t.Errorf("device_would_block after day 0 = %+v, %v", wb, err)
	}

	var base []storage.BaselineFlow
	if err := storage.Select(ctx, conn, storage.QueryBaselineFlows, &base, storage.DeviceWindow("", from, to)...); err != nil {
		t.Fatal(err)
	}
	type key struct {
		port uint16
		fc   int32
	}
	byKey := map[key]storage.BaselineFlow{}
	for _, b := range base {
		byKey[key{b.DstPort, b.FunctionCode}] = b
	}
	if len(base) != 4 {
		t.Errorf("baseline has %d rows, want 4 (ssh, rdp, modbus FC 3, modbus FC 6; fw1's blocked S7 left out): %+v", len(base), base)
	}
	if r := byKey[key{502, 3}]; r.Events != 12 || len(r.Days) != 3 || !slices.Equal(r.Devices, []string{"ids-z2"}) || r.Function != "read_holding_registers" {
		t.Errorf("modbus FC 3 baseline = %+v", r)
	}
	if r := byKey[key{3389, -1}]; r.Events != 3 || !slices.Equal(r.Devices, []string{"pa-c3"}) {
		t.Errorf("rdp baseline = %+v", r)
	}
	if _, ok := byKey[key{102, -1}]; ok {
		t.Error("a blocked flow is in the baseline")
	}
}

// TestDeviceRollupsBackfill: the device rollups, created on a store that
// already holds events, count those events once, and re-running the
// migration's statements (as after an interruption) adds nothing.
func TestDeviceRollupsBackfill(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	evs := seedDevices()
	if err := storage.Insert(ctx, conn, eventBatch(t, evs)); err != nil {
		t.Fatal(err)
	}
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_flows_hourly", uint64(len(evs)-2))
	// Back to the schema before the device rollups, with the events kept.
	for _, stmt := range []string{"DROP VIEW device_daily_mv", "DROP VIEW device_flows_hourly_mv", "DROP TABLE device_daily",
		"DROP TABLE device_flows_hourly", "DELETE FROM schema_migrations WHERE version = 6"} {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	ms, err := storage.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var m6 storage.Migration
	for _, m := range ms {
		if m.Version == 6 {
			m6 = m
		}
	}
	for range 2 {
		for _, stmt := range m6.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_daily", uint64(len(evs)))
	chdbtest.WaitUint(t, conn, "SELECT sum(events) FROM device_flows_hourly", uint64(len(evs)-2))
}
