package correlate

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// diodeState follows one declared data diode's health reports. Both sides
// are expected from the moment the diode is declared (the engine's start,
// or a model reload), so a side that never reports is down one timeout
// later.
type diodeState struct {
	id        string
	heartbeat time.Duration
	since     time.Time // heartbeats expected from: declaration, or the end of an observation gap
	sides     map[string]*diodeSide
	gaps      uint64 // heartbeats lost, by sequence numbers
	site      string
}

// The sides of a diode.
var diodeSides = []string{"rx", "tx"}

// diodeSide is one side's reports and findings.
type diodeSide struct {
	last          time.Time // event time of the last report taken
	seq           uint64
	seqOK         bool
	reporter      string    // who reports this side: hostname, else sender address
	device        string    // its hostname
	startingSince time.Time // first of the current run of "starting" reports
	// A silence suspected: the timeout deadline the engine's time passed,
	// and the receive time by which every report that could end it before
	// that deadline has arrived (see Engine.settledSilent).
	suspect, suspectRecv time.Time
	// The side's latest diode_down and diode_degraded findings, open or
	// closed: a relapse with the same reason within FoldWindow reopens
	// the same finding (a flapping side is one finding).
	down, degraded *fold
}

// diodeTimeout is how long a side may be silent: DiodeMissed heartbeats.
func (e *Engine) diodeTimeout(d *diodeState) time.Duration {
	return time.Duration(e.cfg.DiodeMissed) * d.heartbeat
}

// expectDiodes makes the diodes the model declares expected from t and
// forgets (closing their findings) those it no longer declares.
func (e *Engine) expectDiodes(t time.Time) {
	declared := map[string]bool{}
	for _, md := range e.model.Diodes() {
		declared[md.ID] = true
		d := e.diodes[md.ID]
		if d == nil {
			d = &diodeState{id: md.ID, since: t, sides: map[string]*diodeSide{}}
			for _, s := range diodeSides {
				d.sides[s] = &diodeSide{}
			}
			e.diodes[md.ID] = d
		}
		d.heartbeat = md.Heartbeat
		if d.heartbeat <= 0 {
			d.heartbeat = 10 * time.Second
		}
	}
	for id, d := range e.diodes {
		if !declared[id] {
			for _, name := range diodeSides {
				s := d.sides[name]
				e.closeSide(d, &s.down, t)
				e.closeSide(d, &s.degraded, t)
			}
			delete(e.diodes, id)
		}
	}
	e.diodeOrder = e.diodeOrder[:0]
	for id := range e.diodes {
		e.diodeOrder = append(e.diodeOrder, id)
	}
	slices.Sort(e.diodeOrder)
}

// observationGap restarts a diode's heartbeat windows at t: otsiem did not
// observe before it, so silence before t is not the diode's.
func (e *Engine) observationGap(d *diodeState, t time.Time) {
	if t.After(d.since) {
		d.since = t
		e.stats.Gaps++
	}
}

// heartbeat takes a diode health report (see package ingest/decode/diode),
// or rejects it with a diode_report_rejected finding and no state change
// when the diode is not declared, the side cannot be told, the sender is
// not the side's declared address, or another reporter already speaks for
// that side.
//
// Taken reports: sequence gaps are counted; ok (or up) is a healthy
// heartbeat and closes the side's findings (a lag above DiodeMaxLag keeps
// it degraded); degraded opens diode_degraded; starting for longer than
// the timeout is degraded (stuck_starting); down, stopped and every status
// outside the documented set (fault, error, unknown) open diode_down. Only
// a healthy report closes anything. Silence is found by checkDiode as the
// watermark moves.
func (e *Engine) heartbeat(ev *event.Event, t time.Time) {
	md := e.model.Diode(ev.DiodeID)
	if md == nil {
		e.rejectDiodeReport(ev, t, "undeclared_diode", ev.DiodeSide)
		return
	}
	if e.diodes[md.ID] == nil {
		e.expectDiodes(t)
	}
	d := e.diodes[md.ID]
	sender := ev.DeviceIP.Unmap()
	side := ev.DiodeSide
	if side == "" {
		switch {
		case sender.IsValid() && sender == md.TX:
			side = "tx"
		case sender.IsValid() && sender == md.RX:
			side = "rx"
		default:
			e.rejectDiodeReport(ev, t, "no_side", side)
			return
		}
	}
	if !e.diodeSender(md, side, sender) {
		e.rejectDiodeReport(ev, t, "sender_mismatch", side)
		return
	}
	s := d.sides[side]
	rep := deviceClock(ev) // the reporting host: its name, else its address
	if s.reporter != "" && s.reporter != rep && !t.After(s.last.Add(e.diodeTimeout(d))) {
		// Two reporters for one side (a script labelling the wrong side):
		// the one that spoke first keeps it while it keeps reporting.
		e.rejectDiodeReport(ev, t, "second_reporter", side)
		return
	}
	s.reporter, s.device = rep, ev.Device
	if ev.Site != "" {
		d.site = ev.Site
	}
	// A report after a silence longer than the timeout proves that
	// silence, even when it was still only suspected (see settledSilent).
	from := s.last
	if d.since.After(from) {
		from = d.since
	}
	if deadline := from.Add(e.diodeTimeout(d)); !isOpen(s.down) && t.After(deadline) {
		e.sideFinding(d, side, &s.down, TypeDiodeDown, "missed_heartbeats", nil, deadline)
	}
	if t.After(s.last) {
		s.last = t
	}
	if seq, ok := ev.DiodeSeq.Get(); ok {
		if s.seqOK && seq > s.seq+1 {
			lost := seq - s.seq - 1
			d.gaps += lost
			e.stats.SeqGaps += lost
		}
		// A lower number is a restart, not a gap.
		s.seq, s.seqOK = seq, true
	}
	lag, lagOK := ev.DiodeLagMS.Get()
	tooSlow := lagOK && time.Duration(lag)*time.Millisecond > e.cfg.DiodeMaxLag
	status := ev.DiodeStatus
	if status != "starting" {
		s.startingSince = time.Time{}
	}
	switch status {
	case "ok", "up":
		e.closeSide(d, &s.down, t)
		if tooSlow {
			e.sideFinding(d, side, &s.degraded, TypeDiodeDegraded, "lag", ev, t)
			setMaxAttr(&s.degraded.f, "max_lag_ms", int(min(lag, 1<<31)))
		} else {
			e.closeSide(d, &s.degraded, t)
		}
	case "degraded":
		e.closeSide(d, &s.down, t)
		e.sideFinding(d, side, &s.degraded, TypeDiodeDegraded, "status_degraded", ev, t)
		if lagOK {
			setMaxAttr(&s.degraded.f, "max_lag_ms", int(min(lag, 1<<31)))
		}
	case "starting":
		if s.startingSince.IsZero() {
			s.startingSince = t
		}
		e.checkDiode(d)
	default: // down, stopped, and anything outside the documented set
		if status == "" {
			status = "unknown"
		}
		e.sideFinding(d, side, &s.down, TypeDiodeDown, "status_"+status, ev, t)
		s.down.f.SetAttr("last_status", status)
	}
}

// diodeSender reports whether a report for a side may come from sender:
// the side's declared address, the address of a device the model declares
// with role diode (a diode's management interface or its syslog relay),
// the collector's own host (loopback: a local relay), or an unknown sender
// (an offline replay without --sender).
func (e *Engine) diodeSender(md *rules.Diode, side string, sender netip.Addr) bool {
	if !sender.IsValid() || sender.IsLoopback() {
		return true
	}
	if side == "tx" && sender == md.TX || side == "rx" && sender == md.RX {
		return true
	}
	dev := e.model.DeviceByAddr(sender)
	return dev != nil && dev.Role == rules.RoleDiode
}

// rejectDiodeReport opens or grows the diode_report_rejected finding of a
// (reason, diode, reporter).
func (e *Engine) rejectDiodeReport(ev *event.Event, t time.Time, reason, side string) {
	e.stats.RejectedDiodeReports++
	sender := ev.DeviceIP.Unmap()
	k := foldKey{typ: TypeDiodeReportRejected, reason: reason, conduit: ev.DiodeID, device: ev.Device, src: sender, port: -1}
	e.foldInto(k, nil, ev, t, func(fo *fold) {
		f := &fo.f
		f.DiodeID, f.Device, f.SrcIP = ev.DiodeID, ev.Device, sender
		if md := e.model.Diode(ev.DiodeID); md != nil && md.Conduit != nil {
			f.Conduit = md.Conduit.ID
		}
		if side != "" {
			f.SetAttr("side", side)
		}
		if ev.DiodeStatus != "" {
			f.SetAttr("claimed_status", ev.DiodeStatus)
		}
		f.Summary = rejectedSummary(f, e.model.Diode(ev.DiodeID))
	})
}

// checkDiodes runs checkDiode on every diode, in order.
func (e *Engine) checkDiodes() {
	e.settleDue = time.Time{}
	for _, id := range e.diodeOrder {
		e.checkDiode(e.diodes[id])
	}
}

// checkDiode opens diode_down for a side silent for the diode's timeout
// since its last report (or since the diode was expected), and
// diode_degraded for a side reporting "starting" for that long.
func (e *Engine) checkDiode(d *diodeState) {
	limit := e.diodeTimeout(d)
	for _, name := range diodeSides {
		s := d.sides[name]
		from := s.last
		if d.since.After(from) {
			from = d.since
		}
		if deadline := from.Add(limit); !isOpen(s.down) && e.watermark.After(deadline) && e.settledSilent(s, deadline) {
			e.sideFinding(d, name, &s.down, TypeDiodeDown, "missed_heartbeats", nil, deadline)
		}
		if !s.startingSince.IsZero() && !isOpen(s.degraded) && !e.watermark.Before(s.startingSince.Add(limit)) {
			e.sideFinding(d, name, &s.degraded, TypeDiodeDegraded, "stuck_starting", nil, s.startingSince.Add(limit))
		}
	}
}

// settledSilent reports whether a side whose timeout deadline the
// engine's time passed is really silent: with Config.ReceiveClock, only
// once every event received up to the one that moved time past the
// deadline has been processed (Config.DeliveryLag), since a report of the
// side received earlier may still be on its way in another batch. Until
// then the side is suspected, and the engine checks again when that
// receive time is settled. Offline replays read in order: always true.
func (e *Engine) settledSilent(s *diodeSide, deadline time.Time) bool {
	if !e.cfg.ReceiveClock || e.recvMark.IsZero() {
		return true
	}
	if !s.suspect.Equal(deadline) {
		s.suspect, s.suspectRecv = deadline, e.recvMark
	}
	if !e.settled.Before(s.suspectRecv) {
		return true
	}
	if e.settleDue.IsZero() || s.suspectRecv.Before(e.settleDue) {
		e.settleDue = s.suspectRecv
	}
	return false
}

func isOpen(f *fold) bool { return f != nil && f.f.Status == event.StatusOpen }

// sideFinding opens, reopens or grows a side's diode finding in *slot: a
// closed finding with the same reason last seen within FoldWindow reopens
// (a flapping side stays one finding, counting its relapses in "flaps").
func (e *Engine) sideFinding(d *diodeState, side string, slot **fold, typ, reason string, ev *event.Event, t time.Time) {
	f := *slot
	reopened := false
	if f != nil && !isOpen(f) {
		if f.f.Reason == reason && !t.After(f.f.LastSeen.Add(e.cfg.FoldWindow)) {
			f.f.Status, reopened = event.StatusOpen, true
			addAttr(&f.f, "flaps", 1)
			f.f.Attrs = slices.DeleteFunc(f.f.Attrs, func(a event.Attr) bool { return a.Key == "recovered_at" })
		} else {
			f = nil
		}
	}
	if f == nil {
		f = &fold{key: foldKey{typ: typ, reason: reason + "/" + side, conduit: d.id, port: -1}}
		fd := &f.f
		fd.FindingID = findingID(f.key, event.ID{}, t)
		fd.Type, fd.Reason, fd.Status = typ, reason, event.StatusOpen
		fd.Severity = e.cfg.severity(typ, reason)
		fd.FirstSeen, fd.LastSeen = t, t
		fd.DiodeID, fd.Site, fd.Device = d.id, d.site, d.sides[side].device
		if fd.Site == "" {
			fd.Site = e.cfg.Site
		}
		if md := e.model.Diode(d.id); md != nil {
			fd.SrcIP, fd.DstIP = md.TX, md.RX
			fd.SrcZone, fd.DstZone = zoneID(md.TXZone), zoneID(md.RXZone)
			if md.Conduit != nil {
				fd.Conduit = md.Conduit.ID
			}
			if md.Rule != nil {
				fd.Rule = md.Rule.ID()
				fd.AppProtocol = md.Rule.App
			}
		}
		fd.SetAttr("side", side)
		fd.SetAttr("timeout", e.diodeTimeout(d).String())
		*slot = f
	}
	fd := &f.f
	if ev != nil {
		fd.Count += occurrences(ev)
		if len(fd.EventIDs) < e.cfg.MaxEventIDs && !ev.ID.IsZero() {
			fd.EventIDs = append(fd.EventIDs, ev.ID)
		}
	} else {
		fd.Count++ // the silence, or the stuck start, itself
		if reason == "missed_heartbeats" {
			fd.SetAttr("missed_heartbeats", strconv.Itoa(e.cfg.DiodeMissed))
		}
	}
	if t.After(fd.LastSeen) {
		fd.LastSeen = t
	}
	fd.SetAttr("seq_gaps", strconv.FormatUint(d.gaps, 10))
	fd.Summary = diodeSummary(fd, d.heartbeat)
	f.dirty = true
	if fd.Revision == 0 || reopened || !t.Before(f.published.Add(e.cfg.UpdateEvery)) {
		e.publish(f, t)
	}
}

// closeSide closes a side's open diode finding on recovery; the finding
// stays in *slot so that a relapse can reopen it.
func (e *Engine) closeSide(d *diodeState, slot **fold, t time.Time) {
	f := *slot
	if !isOpen(f) {
		return
	}
	fd := &f.f
	fd.Status = event.StatusClosed
	fd.SetAttr("seq_gaps", strconv.FormatUint(d.gaps, 10))
	fd.SetAttr("recovered_at", t.UTC().Format(time.RFC3339Nano))
	e.publish(f, t)
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return ""
	}
	return z.ID
}
