package report_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// The seeded week: 2026-03-02 00:00 to 2026-03-09 00:00 UTC on the
// refinery model (examples/refinery), with known counts.
//
// Every day (d = 0..6), from 08:00, one event a minute per stream:
//
//	A isa3000-c1 allow "OPS-to-BPCS"  HIST-01 -> PLC-01 Modbus FC 3   C1 allowed 100
//	B isa3000-c1 allow "BPCS-to-OPS"  PLC-01 -> HIST-01 OPC UA 4840   C1 allowed  50
//	C fgr-c2     allow "7"            WSUS -> 10.30.1.40 HTTPS 443    C2 allowed  40
//	D pa-c3      allow "rdp-jump"     10.100.5.20 -> JUMP RDP 3389    C3 allowed  30
//	E ids-z2     HIST-01 -> PLC-02 Modbus FC 3                        C1 allowed  20, silent on days 3 and 4
//	F ids-z3     PLC-01 -> HIST-01 OPC UA, clock 30 s behind          C1 allowed  10
//	G dmz-dd-01  diode heartbeat "ok" every minute of the day, silent all of day 2
//
// and once:
//
//	S1 day 1 10:00 isa3000-c1 deny "MODBUS-INSPECT" HIST-01 -> PLC-01 FC 6 write    C1 blocked function_not_permitted 4
//	S2 day 2 10:00 isa3000-c1 deny "OPS-to-BPCS" 10.30.1.60 -> PLC-01 telnet 23     C1 blocked not_permitted 2
//	S3 day 5 14:00 ids-z2 EWS-01 -> SIS-01 tcp/1502                                  air_gap violation 2
//	S4 day 4 09:00 pa-c3 allow "any-any" 10.100.5.21 -> WSUS SMB 445 (monitor mode)  C3 would_block not_permitted 5
//	S5 day 6 11:00 ids-z3 10.100.5.22 -> HIST-01 SSH 22                              no_conduit violation 3
//
// Findings, none acted on by an analyst (so all open: storage.FindingState):
// an air gap since day 5 14:00 (critical), a diode_down from day 2 the
// correlator closed on day 3 (critical), a scan since 2026-02-01 (high), a
// would_block since day 6 20:00 (medium), and one first seen after the week.
var (
	weekFrom = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	weekTo   = weekFrom.AddDate(0, 0, 7)
)

type stream struct {
	device, rule, action, transport, app, function string
	src, dst                                       string
	port                                           uint16
	fc                                             int32 // -1: none
	srcZone, dstZone, conduit, verdict, reason     string
	skew                                           time.Duration // receive time minus device time
}

var (
	sA  = stream{"isa3000-c1", "OPS-to-BPCS", "allow", "tcp", "modbus", "read_holding_registers", "10.30.1.50", "10.20.1.10", 502, 3, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", "", 0}
	sB  = stream{"isa3000-c1", "BPCS-to-OPS", "allow", "tcp", "opcua", "", "10.20.1.10", "10.30.1.50", 4840, -1, "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "allowed", "", 0}
	sC  = stream{"fgr-c2", "7", "allow", "tcp", "https", "", "172.16.1.20", "10.30.1.40", 443, -1, "Z4-DMZ", "Z3-OPS", "C2-OPS-DMZ", "allowed", "", 0}
	sD  = stream{"pa-c3", "rdp-jump", "allow", "tcp", "rdp", "", "10.100.5.20", "172.16.1.30", 3389, -1, "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "allowed", "", 0}
	sE  = stream{"ids-z2", "", "allow", "tcp", "modbus", "read_holding_registers", "10.30.1.50", "10.20.1.11", 502, 3, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "allowed", "", 0}
	sF  = stream{"ids-z3", "", "allow", "tcp", "opcua", "", "10.20.1.10", "10.30.1.50", 4840, -1, "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "allowed", "", 30 * time.Second}
	sS1 = stream{"isa3000-c1", "MODBUS-INSPECT", "deny", "tcp", "modbus", "write_single_register", "10.30.1.50", "10.20.1.10", 502, 6, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "blocked", "function_not_permitted", 0}
	sS2 = stream{"isa3000-c1", "OPS-to-BPCS", "deny", "tcp", "telnet", "", "10.30.1.60", "10.20.1.10", 23, -1, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "blocked", "not_permitted", 0}
	sS3 = stream{"ids-z2", "", "allow", "tcp", "", "", "10.20.3.10", "10.10.1.10", 1502, -1, "Z2-BPCS", "Z1-SIS", "", "violation", "air_gap", 0}
	sS4 = stream{"pa-c3", "any-any", "allow", "tcp", "smb", "", "10.100.5.21", "172.16.1.20", 445, -1, "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "would_block", "not_permitted", 0}
	sS5 = stream{"ids-z3", "", "allow", "tcp", "ssh", "", "10.100.5.22", "10.30.1.50", 22, -1, "Z5-ENT", "Z3-OPS", "", "violation", "no_conduit", 30 * time.Second}
)

// devIP is each device's sending address, as devices.yaml declares it.
var devIP = map[string]string{"isa3000-c1": "10.30.1.1", "fgr-c2": "10.30.1.2", "pa-c3": "172.16.1.2",
	"ids-z2": "10.20.0.5", "ids-z3": "10.30.1.5", "dmz-dd-01": "10.30.1.100"}

// events returns n events of a stream, one a minute from start.
func (s stream) events(start time.Time, n int) []*event.Event {
	var out []*event.Event
	for i := range n {
		t := start.Add(time.Duration(i) * time.Minute)
		skew := s.skew
		if skew == 0 {
			skew = 200 * time.Millisecond
		}
		ev := &event.Event{Time: t, ReceivedAt: t.Add(skew), Site: "refinery", Kind: event.KindFlow, Vendor: "test",
			Device: s.device, DeviceIP: netip.MustParseAddr(devIP[s.device]), Action: event.Action(s.action),
			SrcIP: netip.MustParseAddr(s.src), SrcPort: event.Some(uint16(40000 + i)), DstIP: netip.MustParseAddr(s.dst),
			DstPort: event.Some(s.port), Transport: s.transport, AppProtocol: s.app, Function: s.function, Rule: s.rule,
			SrcZone: s.srcZone, DstZone: s.dstZone, Conduit: s.conduit, Verdict: s.verdict, Reason: s.reason}
		if s.fc >= 0 {
			ev.FunctionCode = event.Some(s.fc)
			ev.Kind = event.KindDPI
		}
		ev.Message = fmt.Sprintf("%s %s %d", s.device, t.Format(time.RFC3339), i)
		ev.ID = event.NewID(ev.DeviceIP, ev.Device, ev.ReceivedAt, []byte(ev.Message))
		out = append(out, ev)
	}
	return out
}

func heartbeats(day time.Time) []*event.Event {
	var out []*event.Event
	for i := range 1440 {
		t := day.Add(time.Duration(i) * time.Minute)
		ev := &event.Event{Time: t, ReceivedAt: t.Add(200 * time.Millisecond), Site: "refinery", Kind: event.KindDiode,
			Vendor: "otsiem", Device: "dmz-dd-01", DeviceIP: netip.MustParseAddr("10.30.1.100"), DiodeID: "DMZ-DD-01",
			DiodeSide: "tx", DiodeStatus: "ok", Message: fmt.Sprintf("diode=DMZ-DD-01 side=tx status=ok seq=%d", i)}
		ev.ID = event.NewID(ev.DeviceIP, ev.Device, ev.ReceivedAt, []byte(ev.Message))
		out = append(out, ev)
	}
	return out
}

// seedWeek stores the seeded week.
func seedWeek(t *testing.T, conn driver.Conn) { seedWeekTB(t, conn) }

// seedWeekTB stores the seeded week for a test or a benchmark.
func seedWeekTB(t testing.TB, conn driver.Conn) {
	t.Helper()
	var evs []*event.Event
	at := func(d, h int) time.Time { return weekFrom.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	for d := range 7 {
		evs = append(evs, sA.events(at(d, 8), 100)...)
		evs = append(evs, sB.events(at(d, 8), 50)...)
		evs = append(evs, sC.events(at(d, 8), 40)...)
		evs = append(evs, sD.events(at(d, 8), 30)...)
		if d != 3 && d != 4 {
			evs = append(evs, sE.events(at(d, 8), 20)...)
		}
		evs = append(evs, sF.events(at(d, 8), 10)...)
		if d != 2 {
			evs = append(evs, heartbeats(at(d, 0))...)
		}
	}
	evs = append(evs, sS1.events(at(1, 10), 4)...)
	evs = append(evs, sS2.events(at(2, 10), 2)...)
	evs = append(evs, sS3.events(at(5, 14), 2)...)
	evs = append(evs, sS4.events(at(4, 9), 5)...)
	evs = append(evs, sS5.events(at(6, 11), 3)...)
	// Outside the week: must not count.
	evs = append(evs, sA.events(weekFrom.Add(-time.Hour), 7)...)
	evs = append(evs, sS5.events(weekTo, 2)...)
	insertEvents(t, conn, evs)

	fb := storage.NewFindings()
	for _, f := range []*event.Finding{
		{FindingID: "air", Revision: 1, Type: "violation", Reason: "air_gap", Severity: "critical", Status: "open", Count: 2,
			FirstSeen: at(5, 14), LastSeen: at(5, 14).Add(time.Minute), Time: at(5, 14).Add(time.Minute)},
		{FindingID: "dd", Revision: 1, Type: "diode_down", Severity: "critical", Status: "open", Count: 1,
			FirstSeen: at(2, 0), LastSeen: at(2, 0), Time: at(2, 0)},
		{FindingID: "dd", Revision: 2, Type: "diode_down", Severity: "critical", Status: "closed", Count: 1,
			FirstSeen: at(2, 0), LastSeen: at(3, 0), Time: at(3, 0)},
		{FindingID: "scan", Revision: 1, Type: "scan", Severity: "high", Status: "open", Count: 40,
			FirstSeen: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), LastSeen: at(0, 1), Time: at(0, 1)},
		{FindingID: "wb", Revision: 1, Type: "would_block", Severity: "medium", Status: "open", Count: 5,
			FirstSeen: at(6, 20), LastSeen: at(6, 20), Time: at(6, 20)},
		// Published after the week: the report as of its end does not see it.
		{FindingID: "late", Revision: 1, Type: "scan", Severity: "high", Status: "open", Count: 1,
			FirstSeen: weekTo, LastSeen: weekTo, Time: weekTo},
	} {
		if err := fb.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.Insert(t.Context(), conn, fb.Batch); err != nil {
		t.Fatal(err)
	}
}

func insertEvents(t testing.TB, conn driver.Conn, evs []*event.Event) {
	t.Helper()
	b := storage.NewEvents()
	for _, ev := range evs {
		if err := b.Add(ev, ev.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.Insert(t.Context(), conn, b.Batch); err != nil {
		t.Fatal(err)
	}
}
