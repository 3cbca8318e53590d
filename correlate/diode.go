package correlate

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// diodeState follows one data diode's health reports.
type diodeState struct {
	id        string
	heartbeat time.Duration
	sides     map[string]*diodeSide // "tx", "rx" (or "" when a report names none)
	down      map[string]*fold      // the open diode_down finding of each side
	degraded  *fold                 // the open diode_degraded finding
	gaps      uint64                // heartbeats lost, by sequence numbers
	device    string
	site      string
}

type diodeSide struct {
	last  time.Time // event time of the last report
	seq   uint64
	seqOK bool
}

// heartbeat folds a diode health report: sequence gaps are counted, a
// down status opens diode_down, a degraded status or a lag above
// DiodeMaxLag opens diode_degraded, and an ok report closes both.
// Missed heartbeats are found by checkDiode as the watermark moves.
func (e *Engine) heartbeat(ev *event.Event, t time.Time) {
	d := e.diodes[ev.DiodeID]
	if d == nil {
		d = &diodeState{id: ev.DiodeID, heartbeat: 10 * time.Second, sides: map[string]*diodeSide{}, down: map[string]*fold{}}
		if md := e.model.Diode(ev.DiodeID); md != nil && md.Heartbeat > 0 {
			d.heartbeat = md.Heartbeat
		}
		e.diodes[ev.DiodeID] = d
	}
	d.device = ev.Device
	if ev.Site != "" {
		d.site = ev.Site
	}
	side := strings.ToLower(ev.DiodeSide)
	s := d.sides[side]
	if s == nil {
		s = &diodeSide{}
		d.sides[side] = s
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
	status := strings.ToLower(ev.DiodeStatus)
	lag, lagOK := ev.DiodeLagMS.Get()
	tooSlow := lagOK && time.Duration(lag)*time.Millisecond > e.cfg.DiodeMaxLag
	switch {
	case status == "down" || status == "stopped":
		d.down[side] = e.diodeFinding(d, d.down[side], TypeDiodeDown, "status_"+status, side, ev, t)
	case status == "degraded" || tooSlow:
		reason := "status_degraded"
		if status != "degraded" {
			reason = "lag"
		}
		d.degraded = e.diodeFinding(d, d.degraded, TypeDiodeDegraded, reason, side, ev, t)
		if lagOK {
			setMaxAttr(&d.degraded.f, "max_lag_ms", int(min(lag, 1<<31)))
		}
		e.closeDown(d, side, t)
	case status == "ok" || status == "":
		e.closeDown(d, side, t)
		e.closeDiode(d, &d.degraded, t)
	}
}

func (e *Engine) closeDown(d *diodeState, side string, t time.Time) {
	if f := d.down[side]; f != nil {
		e.closeDiode(d, &f, t)
		delete(d.down, side)
	}
}

// checkDiode opens diode_down for a side silent for DiodeMissed heartbeats.
func (e *Engine) checkDiode(d *diodeState) {
	limit := time.Duration(e.cfg.DiodeMissed) * d.heartbeat
	sides := make([]string, 0, len(d.sides))
	for name := range d.sides {
		sides = append(sides, name)
	}
	sort.Strings(sides) // deterministic when several sides go silent at once
	for _, name := range sides {
		s := d.sides[name]
		if deadline := s.last.Add(limit); d.down[name] == nil && e.watermark.After(deadline) {
			d.down[name] = e.diodeFinding(d, nil, TypeDiodeDown, "missed_heartbeats", name, nil, deadline)
		}
	}
}

// diodeFinding opens (f == nil) or grows a diode finding.
func (e *Engine) diodeFinding(d *diodeState, f *fold, typ, reason, side string, ev *event.Event, t time.Time) *fold {
	if f == nil {
		f = &fold{key: foldKey{typ: typ, reason: reason + "/" + side, conduit: d.id}}
		fd := &f.f
		fd.FindingID = findingID(f.key, event.ID{}, t)
		fd.Type, fd.Reason, fd.Status = typ, reason, event.StatusOpen
		fd.Severity = e.cfg.severity(typ, reason)
		fd.FirstSeen, fd.LastSeen = t, t
		fd.DiodeID, fd.Site, fd.Device = d.id, d.site, d.device
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
		if ev == nil {
			fd.Count = 1 // the silence itself
			fd.SetAttr("missed_heartbeats", strconv.Itoa(e.cfg.DiodeMissed))
		}
		fd.Summary = diodeSummary(fd, d.heartbeat)
	}
	fd := &f.f
	if ev != nil {
		fd.Count++
		if len(fd.EventIDs) < e.cfg.MaxEventIDs && !ev.ID.IsZero() {
			fd.EventIDs = append(fd.EventIDs, ev.ID)
		}
	}
	if t.After(fd.LastSeen) {
		fd.LastSeen = t
	}
	fd.SetAttr("seq_gaps", strconv.FormatUint(d.gaps, 10))
	f.dirty = true
	if fd.Revision == 0 || !t.Before(f.published.Add(e.cfg.UpdateEvery)) {
		e.publish(f, t)
	}
	return f
}

// closeDiode closes an open diode finding on recovery.
func (e *Engine) closeDiode(d *diodeState, f **fold, t time.Time) {
	if *f == nil {
		return
	}
	fd := &(*f).f
	fd.Status = event.StatusClosed
	fd.SetAttr("seq_gaps", strconv.FormatUint(d.gaps, 10))
	fd.SetAttr("recovered_at", t.UTC().Format(time.RFC3339Nano))
	e.publish(*f, t)
	*f = nil
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return ""
	}
	return z.ID
}
