package correlate

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

// caseReceived is the receive time the handed cases are run with (their
// README): one made-up value for every line, as offline replays have.
var caseReceived = time.Date(2026, 10, 2, 12, 0, 0, 0, time.UTC)

// caseEvents decodes a handed case file (testdata/findings-cases, copied from the
// team's shared cases): every line not starting with '#'.
func caseEvents(tb testing.TB, name string) []event.Event {
	tb.Helper()
	f, err := os.Open("testdata/findings-cases/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p := &decode.Parser{Header: syslog.NewParser(syslog.Config{Location: time.UTC}), Site: "refinery"}
	var evs []event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			var ev event.Event
			p.Parse([]byte(l), netip.Addr{}, caseReceived, &ev)
			if ev.Kind == event.KindRaw {
				tb.Fatalf("%s: not decoded: %s: %s", name, ev.ParseError, l)
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

// run replays events through a new engine over the refinery and returns
// the findings in their final state.
func run(tb testing.TB, cfg Config, evs []event.Event) []event.Finding {
	tb.Helper()
	var col Collector
	e := NewEngine(refinery(tb), cfg, col.Emit)
	for i := range evs {
		e.Process(&evs[i])
	}
	e.Drain()
	return col.Items
}

// digest is a finding in one comparable line.
func digest(f *event.Finding) string {
	side, _ := f.Attr("side")
	return fmt.Sprintf("%s/%s %s %s count=%d side=%s %s→%s", f.Type, f.Reason, f.Severity, f.Status, f.Count, side,
		f.FirstSeen.Format("15:04:05"), f.LastSeen.Format("15:04:05"))
}

func digests(fs []event.Finding) []string {
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = digest(&fs[i])
	}
	return out
}

func sameFindings(t *testing.T, got []event.Finding, want ...string) {
	t.Helper()
	g := digests(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

// 6a: statuses outside the documented set are down, a side stuck starting
// is degraded, a restart of the sequence is no gap, and lag spikes on one
// side are one (flapping) finding.
func TestCaseDiodeStatus(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "6a-diode-status.log"))
	sameFindings(t, fs,
		"diode_down/status_fault critical closed count=18 side=rx 08:01:30→08:04:20", // fault ×12 then error ×6, ok at 08:04:30
		"diode_degraded/stuck_starting high closed count=1 side=tx 08:05:30→08:05:30",
		"diode_degraded/lag high closed count=3 side=tx 08:09:00→08:09:40")
	for _, f := range fs {
		if v, _ := f.Attr("seq_gaps"); v != "0" {
			t.Errorf("%s: seq_gaps %s: tx's restart 501 -> 1 is no gap", digest(&f), v)
		}
	}
	if v, _ := fs[0].Attr("last_status"); v != "error" {
		t.Errorf("last status %q", v)
	}
	if v, _ := fs[2].Attr("flaps"); v != "2" {
		t.Errorf("lag spikes: flaps %q, want 2 relapses folded", v)
	}
}

// 6b: one side degraded for three minutes while the other is fine: one
// finding, closed by that side's recovery only.
func TestCaseDiodeOneSideDegraded(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "6b-diode-one-side-degraded.log"))
	sameFindings(t, fs, "diode_degraded/status_degraded high closed count=18 side=rx 08:00:00→08:02:50")
	if v, _ := fs[0].Attr("recovered_at"); v != "2026-10-02T08:03:00Z" {
		t.Errorf("recovered_at %q", v)
	}
}

// 6c: the rx side never reports (its host labels itself tx): rx is down
// after its timeout, and the second reporter for tx is flagged, not taken.
func TestCaseDiodeSideNeverReports(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "6c-diode-side-never-reports.log"))
	sameFindings(t, fs,
		"diode_report_rejected/second_reporter low open count=60 side=tx 08:00:00→08:09:50",
		"diode_down/missed_heartbeats critical open count=1 side=rx 08:00:30→08:00:30")
	if fs[0].Device != "dmz-dd-01-rx" {
		t.Errorf("rejected reporter %q", fs[0].Device)
	}
}

// 6d: a declared diode that never reports: both sides down after three
// heartbeats from the start.
func TestCaseDiodeNeverReports(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "6d-diode-never-reports.log"))
	sameFindings(t, fs,
		"diode_down/missed_heartbeats critical open count=1 side=rx 08:00:30→08:00:30",
		"diode_down/missed_heartbeats critical open count=1 side=tx 08:00:30→08:00:30")
}

// 6e: one FortiGate line in local time (2 h ahead) among correct clocks:
// no diode_down, no fold closed early, the device's clock flagged.
func TestCaseClockSkew(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "6e-diode-clock-skew.log"))
	sameFindings(t, fs,
		"blocked/not_permitted low open count=3 side= 08:00:00→10:01:00",
		"clock_skew/ahead low open count=1 side= 08:01:00→08:01:00")
	if fs[1].Device != "fgr-c2" {
		t.Errorf("clock_skew device %q", fs[1].Device)
	}
	if v, _ := fs[1].Attr("ahead_seconds"); v != "7190" { // 10:01:00 against the diode's 08:01:10
		t.Errorf("ahead_seconds %q", v)
	}
}

// 7b: a historian polling 24 devices with allowed reads is no scan, and
// its write in the middle of it is a finding of its own. (The diode sends
// no heartbeat in this file: both sides are down.)
func TestCasePollingIsNoScan(t *testing.T) {
	fs := run(t, Config{}, caseEvents(t, "7b-polling-vs-scan.log"))
	sameFindings(t, fs,
		"diode_down/missed_heartbeats critical open count=1 side=rx 08:00:30→08:00:30",
		"diode_down/missed_heartbeats critical open count=1 side=tx 08:00:30→08:00:30",
		"violation/function_not_permitted high open count=1 side= 08:00:35→08:00:35")
	if fc := fs[2].FunctionCode; !fc.OK || fc.V != 16 {
		t.Errorf("the write's function code: %+v", fc)
	}
}

// 7f: a write is never folded into the finding a read's exception opened:
// the write is a finding of its own (whether the exception is one depends
// on how the read is judged).
func TestCaseFoldKeepsWriteApart(t *testing.T) {
	fs := run(t, Config{Learn: -1, DiodeMissed: 1000}, caseEvents(t, "7f-fold-masks-write.log"))
	var write *event.Finding
	for i := range fs {
		if fs[i].FunctionCode.OK && fs[i].FunctionCode.V == 6 {
			write = &fs[i]
		}
	}
	if write == nil || write.Count != 1 || write.FirstSeen.Format("15:04:05") != "08:20:00" {
		t.Fatalf("want the write apart:\n%s", strings.Join(digests(fs), "\n"))
	}
	if !strings.Contains(write.Summary, "function code 6") && !strings.Contains(strings.ToLower(write.Summary), "write") {
		t.Errorf("the write's summary does not name it: %s", write.Summary)
	}
}

// The fold key holds the function: a read and a write over the same flow,
// both forbidden, are two findings.
func TestFoldKeyHoldsFunction(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	ev := func(at time.Duration, fc int32) event.Event {
		return event.Event{Time: t0.Add(at), Device: "ids-z2", Action: event.ActionAlert, SrcIP: netip.MustParseAddr("172.16.1.10"),
			DstIP: netip.MustParseAddr("10.20.1.10"), Transport: "tcp", DstPort: event.Some(uint16(502)), AppProtocol: "modbus",
			FunctionCode: event.Some(fc)}
	}
	fs := run(t, Config{Learn: -1, DiodeMissed: 1000}, []event.Event{ev(0, 3), ev(time.Second, 3), ev(2*time.Second, 16)})
	if len(fs) != 2 || fs[0].Count != 2 || fs[0].FunctionCode.V != 3 || fs[1].Count != 1 || fs[1].FunctionCode.V != 16 {
		t.Fatalf("findings:\n%s", strings.Join(digests(fs), "\n"))
	}
}

// sweep is pa-c3 (monitor mode) passing an nmap sweep from the enterprise
// zone over n PLC addresses on port 502, one probe per second from t0:
// would_block, no_conduit.
func sweep(tb testing.TB, t0 time.Time, n int) []event.Event {
	var lines []scenarioLine
	for i := range n {
		ts := t0.Add(time.Duration(i) * time.Second)
		pan := ts.Format("2006/01/02 15:04:05")
		lines = append(lines, scenarioLine{raw: fmt.Sprintf("<14>1 %s pa-c3 - - - - 1,%s,012801000003,TRAFFIC,end,2561,%s,10.100.66.6,10.20.1.%d,0.0.0.0,0.0.0.0,monitor-any,,,incomplete,vsys1,ent,dmz,ethernet1/1,ethernet1/2,fwd-otsiem,%s,%d,1,%d,502,0,0,0x400019,tcp,allow,120,60,60,2,%s,0,any,,%d,0x0,10.0.0.0-10.255.255.255,10.0.0.0-10.255.255.255,,1,1,tcp-rst-from-client,0,0,0,0,,pa-c3,from-policy",
			ts.Format(time.RFC3339), pan, pan, 10+i, pan, 5000+i, 40000+i, pan, 7005000+i)})
	}
	return parseLines(tb, lines)
}

// A sweep of 30 hosts from one source is one open scan finding and no
// other open finding from that source; a write it makes meanwhile is a
// finding of its own.
func TestSweepIsOneScan(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	evs := sweep(t, t0, 30)
	write := evs[25]
	write.FunctionCode, write.AppProtocol, write.Action, write.Device = event.Some(int32(16)), "modbus", event.ActionAlert, "ids-z2"
	evs = append(evs[:26], append([]event.Event{write}, evs[26:]...)...)
	fs := run(t, Config{Learn: -1, DiodeMissed: 1000}, evs)
	var open []string
	var scan *event.Finding
	for i := range fs {
		f := &fs[i]
		if f.Status == event.StatusOpen && f.SrcIP == netip.MustParseAddr("10.100.66.6") {
			open = append(open, digest(f))
		}
		if f.Type == TypeScan {
			scan = f
		}
	}
	if scan == nil {
		t.Fatalf("no scan:\n%s", strings.Join(digests(fs), "\n"))
	}
	// The write crosses no conduit either, but carries a function: no probe.
	if len(open) != 2 || !strings.HasPrefix(open[0], "scan/hosts ") || !strings.HasPrefix(open[1], "violation/no_conduit ") {
		t.Errorf("open findings from the scanner:\n  %s\nwant the scan and the write only", strings.Join(open, "\n  "))
	}
	if scan.Count != 30 || !scan.FirstSeen.Equal(t0) || scan.Severity != event.SeverityHigh {
		t.Errorf("scan %s: want all 30 probes from %s", digest(scan), t0)
	}
	if v, _ := scan.Attr("probes_would_block_no_conduit"); v != "30" {
		t.Errorf("scan probes: %v", scan.Attrs)
	}
	if !strings.Contains(scan.Summary, "30 would_block/no_conduit") {
		t.Errorf("summary: %s", scan.Summary)
	}
}

// One port every 10 s for ten minutes is a (slow) scan.
func TestSlowScan(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	var evs []event.Event
	for i := range 60 {
		evs = append(evs, event.Event{Time: t0.Add(time.Duration(i) * 10 * time.Second), Device: "isa3000-c1",
			Action: event.ActionDeny, SrcIP: netip.MustParseAddr("10.30.1.77"), DstIP: netip.MustParseAddr("10.20.1.14"),
			Transport: "tcp", DstPort: event.Some(uint16(2000 + i))})
	}
	fs := run(t, Config{Learn: -1, DiodeMissed: 1000}, evs)
	var scans []string
	for i := range fs {
		if fs[i].Type == TypeScan {
			scans = append(scans, digest(&fs[i])+" "+fs[i].Summary)
			if w, _ := fs[i].Attr("window"); w != "15m0s" || fs[i].Count != 60 {
				t.Errorf("slow scan: window %s, count %d", w, fs[i].Count)
			}
		} else if fs[i].Status == event.StatusOpen {
			t.Errorf("open beside the scan: %s", digest(&fs[i]))
		}
	}
	if len(scans) != 1 {
		t.Fatalf("scans: %v", scans)
	}
}

// heartbeats returns both sides' ok reports every 10 s in [from, to).
func heartbeats(from, to time.Time, recv func(time.Time) time.Time) []event.Event {
	var evs []event.Event
	seq := uint64(1)
	for t := from; t.Before(to); t = t.Add(10 * time.Second) {
		for _, side := range []string{"tx", "rx"} {
			evs = append(evs, event.Event{Time: t, ReceivedAt: recv(t), Kind: event.KindDiode, Device: "dmz-dd-01-" + side,
				DiodeID: "DMZ-DD-01", DiodeSide: side, DiodeStatus: "ok", DiodeSeq: event.Some(seq)})
		}
		seq++
	}
	return evs
}

// withoutSide drops one side's reports from t on.
func withoutSide(evs []event.Event, side string, t time.Time) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if ev.DiodeSide != side || ev.Time.Before(t) {
			out = append(out, ev)
		}
	}
	return out
}

// interleave merges event lists in receive order.
func interleave(lists ...[]event.Event) []event.Event {
	var out []event.Event
	for _, l := range lists {
		out = append(out, l...)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ReceivedAt.Before(out[j-1].ReceivedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// A device whose clock runs two hours ahead, logging every 15 s among
// correct clocks: no false diode_down, and a real outage of the rx side
// after it is found within its timeout, with receive times from the
// collector (the service) and with a made-up receive time (offline).
func TestClockAheadAmongCorrect(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	outage := t0.Add(5 * time.Minute)
	for _, live := range []bool{true, false} {
		t.Run(fmt.Sprintf("receive_clock=%v", live), func(t *testing.T) {
			recv := func(t time.Time) time.Time { return t.Add(200 * time.Millisecond) }
			var fortigate []event.Event
			for ts := t0.Add(3 * time.Second); ts.Before(t0.Add(10 * time.Minute)); ts = ts.Add(15 * time.Second) {
				fortigate = append(fortigate, event.Event{Time: ts.Add(2 * time.Hour), ReceivedAt: recv(ts), Device: "fgr-c2",
					Action: event.ActionDeny, SrcIP: netip.MustParseAddr("10.30.1.77"), DstIP: netip.MustParseAddr("172.16.1.20"),
					Transport: "tcp", DstPort: event.Some(uint16(445))})
			}
			hb := withoutSide(heartbeats(t0, t0.Add(10*time.Minute), recv), "rx", outage)
			evs := interleave(hb, fortigate)
			if !live {
				for i := range evs {
					evs[i].ReceivedAt = caseReceived
				}
			}
			fs := run(t, Config{Learn: -1, ReceiveClock: live}, evs)
			var downs, skews []string
			for i := range fs {
				switch fs[i].Type {
				case TypeDiodeDown:
					downs = append(downs, digest(&fs[i]))
				case TypeClockSkew:
					skews = append(skews, digest(&fs[i]))
					if fs[i].Device != "fgr-c2" {
						t.Errorf("clock_skew for %q", fs[i].Device)
					}
				}
			}
			// rx's last report is at 08:05:00 minus nothing: 08:04:50; down 30 s later.
			want := "diode_down/missed_heartbeats critical open count=1 side=rx 08:05:20→08:05:20"
			if len(downs) != 1 || downs[0] != want {
				t.Errorf("diode_down: %v, want [%s]", downs, want)
			}
			if len(skews) != 1 {
				t.Errorf("clock_skew findings: %v", skews)
			}
		})
	}
}

// otsiem stopped for longer than the diode's timeout is a gap in its own
// observation: no diode_down for it; a side that stays silent after the
// gap is down one timeout after otsiem resumed.
func TestObservationGapIsNotDiodeSilence(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	resume := t0.Add(2*time.Minute + 5*time.Second)
	before := heartbeats(t0, t0.Add(time.Minute), func(t time.Time) time.Time { return t })
	// After the gap tx never reports again: down one timeout after 08:02:05.
	after := withoutSide(heartbeats(resume, resume.Add(2*time.Minute), func(t time.Time) time.Time { return t }), "tx", resume)
	fs := run(t, Config{Learn: -1, ReceiveClock: true}, append(before, after...))
	sameFindings(t, fs, "diode_down/missed_heartbeats critical open count=1 side=tx 08:02:35→08:02:35")
}

// Ticks move time while no event arrives: a diode silent from 08:00:50 is
// down at 08:01:20, found by the first tick after it. After a restore, the
// first tick's jump is a restart gap: no diode_down for otsiem's downtime.
func TestTicks(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	var col Collector
	e := NewEngine(refinery(t), Config{Learn: -1, ReceiveClock: true}, col.Emit)
	for _, ev := range heartbeats(t0, t0.Add(time.Minute), func(t time.Time) time.Time { return t }) {
		e.Process(&ev)
	}
	for tick := t0.Add(time.Minute); !tick.After(t0.Add(time.Minute + 20*time.Second)); tick = tick.Add(time.Second) {
		e.Tick(tick)
	}
	if len(col.Items) != 0 {
		t.Fatalf("down too early: %v", digests(col.Items))
	}
	e.Tick(t0.Add(time.Minute + 21*time.Second))
	sameFindings(t, col.Items,
		"diode_down/missed_heartbeats critical open count=1 side=rx 08:01:20→08:01:20",
		"diode_down/missed_heartbeats critical open count=1 side=tx 08:01:20→08:01:20")

	// Restart after 25 s of downtime (less than the timeout, more than a
	// heartbeat): heartbeats sent meanwhile were lost, none is late.
	var col2 Collector
	e2 := NewEngine(refinery(t), Config{Learn: -1, ReceiveClock: true}, col2.Emit)
	for _, ev := range heartbeats(t0, t0.Add(time.Minute), func(t time.Time) time.Time { return t }) {
		e2.Process(&ev)
	}
	snap, err := e2.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e3 := NewEngine(refinery(t), Config{Learn: -1, ReceiveClock: true}, col2.Emit)
	if err := e3.Restore(snap); err != nil {
		t.Fatal(err)
	}
	restart := t0.Add(time.Minute + 15*time.Second) // last heartbeat 08:00:50; deadline 08:01:20
	e3.Tick(restart)
	for tick := restart; tick.Before(restart.Add(25 * time.Second)); tick = tick.Add(time.Second) {
		if tick.Sub(restart)%(10*time.Second) == 7*time.Second { // the diode's own phase: 08:01:22, 08:01:32
			for _, ev := range heartbeats(tick, tick.Add(time.Second), func(t time.Time) time.Time { return t }) {
				e3.Process(&ev)
			}
		}
		e3.Tick(tick)
	}
	if len(col2.Items) != 0 {
		t.Errorf("false diode_down after a restart: %v", digests(col2.Items))
	}
}

// Diode health from an undeclared diode, from a sender that is not the
// side's declared address, or naming no side is flagged (low) and changes
// no diode state; the declared address, a loopback relay and an unknown
// sender are taken.
func TestDiodeReportsFromUndeclaredSenders(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	report := func(at time.Duration, id, side, status, sender string) event.Event {
		ev := event.Event{Time: t0.Add(at), ReceivedAt: t0.Add(at), Kind: event.KindDiode, Device: "dd", DiodeID: id,
			DiodeSide: side, DiodeStatus: status}
		if sender != "" {
			ev.DeviceIP = netip.MustParseAddr(sender)
		}
		return ev
	}
	evs := []event.Event{
		report(0, "DMZ-DD-01", "tx", "ok", "10.30.1.100"),
		report(0, "DMZ-DD-01", "rx", "ok", "172.16.1.100"),
		report(5*time.Second, "DMZ-DD-99", "tx", "down", "10.99.0.1"),   // undeclared diode
		report(6*time.Second, "DMZ-DD-01", "rx", "down", "10.30.1.200"), // forged: not rx's address
		report(7*time.Second, "DMZ-DD-01", "", "down", "10.30.1.201"),   // no side, unknown sender
		report(10*time.Second, "DMZ-DD-01", "tx", "ok", "127.0.0.1"),    // a relay on the collector host
		report(10*time.Second, "DMZ-DD-01", "", "ok", "172.16.1.100"),   // side from the sender address
		report(20*time.Second, "DMZ-DD-01", "tx", "ok", ""),             // offline: sender unknown
		report(20*time.Second, "DMZ-DD-01", "rx", "ok", "::ffff:172.16.1.100"),
	}
	fs := run(t, Config{Learn: -1, ReceiveClock: true}, evs)
	sameFindings(t, fs,
		"diode_report_rejected/undeclared_diode low open count=1 side=tx 08:00:05→08:00:05",
		"diode_report_rejected/sender_mismatch low open count=1 side=rx 08:00:06→08:00:06",
		"diode_report_rejected/no_side low open count=1 side= 08:00:07→08:00:07")
	if !strings.Contains(fs[1].Summary, "172.16.1.100") || fs[1].SrcIP != netip.MustParseAddr("10.30.1.200") {
		t.Errorf("sender mismatch finding: %s %s", fs[1].SrcIP, fs[1].Summary)
	}
}

// A backfill of old logs through the live service is read in its own time:
// ticks do not drag it to the wall clock (which would close every fold at
// once and make every heartbeat late).
func TestTicksLeaveBackfillAlone(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	recv := t0.Add(30 * 24 * time.Hour)
	var col Collector
	e := NewEngine(refinery(t), Config{Learn: -1, ReceiveClock: true}, col.Emit)
	e.Tick(recv.Add(-time.Second)) // the service ticks before the first event arrives
	hb := heartbeats(t0, t0.Add(time.Minute), func(time.Time) time.Time { return recv })
	for i, ev := range hb {
		e.Process(&ev)
		if i%4 == 3 {
			e.Tick(recv.Add(time.Duration(i) * time.Second))
		}
	}
	if len(col.Items) != 0 || !e.Watermark().Equal(t0.Add(50*time.Second)) {
		t.Errorf("watermark %s, findings %v", e.Watermark(), digests(col.Items))
	}
	// Live again: ticks move time, and the silence since the backfill is
	// now the diode's.
	live := recv.Add(time.Minute)
	for _, ev := range heartbeats(live, live.Add(time.Second), func(t time.Time) time.Time { return t }) {
		e.Process(&ev)
	}
	for tick := live; !tick.After(live.Add(31 * time.Second)); tick = tick.Add(time.Second) {
		e.Tick(tick)
	}
	if len(col.Items) != 2 {
		t.Errorf("findings %v", digests(col.Items))
	}
}

// batched puts events in stream order the way the collectors publish
// them: each device's events in batches of n, a batch in the stream when
// its last event is received.
func batched(n int, lists ...[]event.Event) []event.Event {
	var batches [][]event.Event
	for _, l := range lists {
		for len(l) > 0 {
			k := min(n, len(l))
			batches = append(batches, l[:k])
			l = l[k:]
		}
	}
	slices.SortStableFunc(batches, func(a, b []event.Event) int {
		return a[len(a)-1].ReceivedAt.Compare(b[len(b)-1].ReceivedAt)
	})
	var out []event.Event
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

// A fast replay (an hour of plant time received in 0.36 s) whose diode
// heartbeats reach the stream in batches spanning 20 minutes, behind the
// firewall's: exactly the injected outages (45 s at 08:30 and 10:00, both
// sides) are diode_down, once each, at their timeout — none for the
// minutes the firewall's time ran ahead of the heartbeats not yet read.
// Ticks while the replay is read settle only what was received a minute
// before. A live stream confirms a silence once every event received up
// to it is read (TestClockAheadAmongCorrect), the last one by a Tick.
func TestDiodeReportsBehindOtherSubjects(t *testing.T) {
	t0 := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	recv := func(t time.Time) time.Time { return wall.Add(t.Sub(t0) / 10_000) }
	var hb []event.Event
	for _, ev := range heartbeats(t0, t0.Add(150*time.Minute), recv) {
		if in := func(from time.Time) bool { return !ev.Time.Before(from) && ev.Time.Before(from.Add(45*time.Second)) }; in(t0.Add(30*time.Minute)) || in(t0.Add(2*time.Hour)) {
			continue
		}
		hb = append(hb, ev)
	}
	var fw []event.Event
	for ts := t0.Add(time.Second); ts.Before(t0.Add(150 * time.Minute)); ts = ts.Add(2 * time.Second) {
		fw = append(fw, event.Event{Time: ts, ReceivedAt: recv(ts), Device: "fgr-c2", Action: event.ActionAllow,
			SrcIP: netip.MustParseAddr("10.30.1.50"), DstIP: netip.MustParseAddr("10.30.1.51"), Transport: "tcp", DstPort: event.Some(uint16(4840))})
	}
	evs := batched(256, hb, fw)
	if evs[0].Kind == event.KindDiode {
		t.Fatal("the stream should start with the firewall's batch")
	}
	var col Collector
	e := NewEngine(refinery(t), Config{Learn: -1, ReceiveClock: true}, col.Emit)
	for i := range evs {
		if i > 0 && evs[i].Kind == event.KindDiode && evs[i-1].Kind != event.KindDiode {
			// The service read all there was, while the collectors,
			// loaded by the replay, still hold the heartbeats received
			// 3 s ago: a backfill's tick settles nothing that recent.
			e.Tick(evs[i-1].ReceivedAt.Add(3 * time.Second))
		}
		e.Process(&evs[i])
	}
	// Caught up, on the wall clock, a minute later: a side still silent
	// would be down now.
	e.Tick(recv(t0.Add(150 * time.Minute)).Add(time.Minute + time.Second))
	e.Drain()
	latest := map[string]*event.Finding{}
	for i := range col.Items {
		if f := &col.Items[i]; f.Type == TypeDiodeDown {
			latest[f.FindingID] = f
		}
	}
	var downs []string
	for _, f := range latest {
		downs = append(downs, digest(f))
	}
	want := []string{
		"diode_down/missed_heartbeats critical closed count=1 side=rx 08:30:20→08:30:20",
		"diode_down/missed_heartbeats critical closed count=1 side=rx 10:00:20→10:00:20",
		"diode_down/missed_heartbeats critical closed count=1 side=tx 08:30:20→08:30:20",
		"diode_down/missed_heartbeats critical closed count=1 side=tx 10:00:20→10:00:20",
	}
	slices.Sort(downs)
	if !slices.Equal(downs, want) {
		t.Errorf("diode_down findings:\n%s\nwant:\n%s", strings.Join(downs, "\n"), strings.Join(want, "\n"))
	}
}
