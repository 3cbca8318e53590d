package correlate

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// scanState is what one source reached recently with traffic the design
// forbids.
type scanState struct {
	src   netip.Addr
	ports map[uint16]time.Time
	hosts map[netip.Addr]time.Time
	// raised are the findings this source's probes opened before it was
	// found scanning; the scan absorbs those still open (bounded).
	raised   []foldKey
	isRaised map[foldKey]bool
}

// probes reports whether an event counts towards a scan: traffic into
// another zone (or into no zone) that the design forbids, whether or not a
// firewall stopped it. Allowed traffic never does: a historian polling
// every PLC it is meant to poll is no scan.
func probes(j *Judgement) bool {
	switch j.Verdict {
	case Violation, PolicyDrift, WouldBlock, Blocked, UnknownZone:
	default:
		return false
	}
	d := &j.Decision
	return d.DstZone == nil || d.DstZone != d.SrcZone
}

// absorbable reports whether a scan may fold an event into itself instead
// of the event's own finding: a bare connection attempt (no protocol
// function) to a port the conduit does not permit, across no conduit, or
// to or from an address in no zone. A scan never absorbs what is more than
// a probe: a function the conduit forbids (a Modbus write while
// "scanning"), a flow against the conduit's direction, a firewall rule
// looser than the design (policy_drift), anything touching an air gap or
// running against a diode.
func absorbable(j *Judgement, ev *event.Event) bool {
	if j.Verdict == PolicyDrift || ev.Function != "" || ev.FunctionCode.OK {
		return false
	}
	switch j.Reason {
	case rules.NotPermitted, rules.NoConduit, rules.UnknownZone:
		return true
	}
	return false
}

// scan tracks what a source probes in other zones and folds the event into
// the source's scan finding when the source is scanning and the event is
// absorbable; it reports whether it did. A source is scanning once its
// probes reach ScanPorts ports or ScanHosts hosts within ScanWindow, or the
// slow thresholds within SlowScanWindow, and stays so while its scan
// finding is open: one scanner, one scan. When the scan opens, the
// findings the source's probes already opened are absorbed into it.
func (e *Engine) scan(j *Judgement, ev *event.Event, t time.Time) bool {
	if !probes(j) || !initiated(ev) {
		return false
	}
	el, ok := e.scans[ev.SrcIP]
	if !ok {
		if len(e.scans) >= e.cfg.MaxScanSources {
			old := e.scanLRU.Remove(e.scanLRU.Front()).(*scanState)
			delete(e.scans, old.src)
			e.stats.Evicted++
		}
		el = e.scanLRU.PushBack(&scanState{src: ev.SrcIP, ports: map[uint16]time.Time{}, hosts: map[netip.Addr]time.Time{}})
		e.scans[ev.SrcIP] = el
	} else {
		e.scanLRU.MoveToBack(el)
	}
	s := el.Value.(*scanState)
	slowCut := t.Add(-e.cfg.SlowScanWindow) // older entries go once a set is full
	if ev.DstPort.OK {
		addRecent(s.ports, ev.DstPort.V, t, slowCut, 2*max(e.cfg.ScanPorts, e.cfg.SlowScanPorts))
	}
	addRecent(s.hosts, ev.DstIP, t, slowCut, 2*max(e.cfg.ScanHosts, e.cfg.SlowScanHosts))
	k := foldKey{typ: TypeScan, src: ev.SrcIP, port: -1}
	window := e.cfg.ScanWindow
	if _, open := e.folds[k]; !open {
		var scanning bool
		if window, scanning = e.scanning(s, t); !scanning {
			if absorbable(j, ev) {
				s.raise(verdictKey(string(j.Verdict), string(j.Reason), ev), 2*max(e.cfg.SlowScanPorts, e.cfg.SlowScanHosts))
			}
			return false
		}
	}
	if !absorbable(j, ev) {
		return false
	}
	d := &j.Decision
	sev := e.cfg.severity(string(j.Verdict), string(j.Reason))
	e.foldInto(k, nil, ev, t, func(fo *fold) {
		f := &fo.f
		if fo.probes == nil { // opening: describe the scanner, absorb what it raised
			fo.probes = map[probeKind]uint64{}
			f.SrcIP, f.SrcZone = ev.SrcIP, ev.SrcZone
			if d.SrcAsset != nil {
				f.SrcAsset = d.SrcAsset.Name
			}
			f.DstZone = ev.DstZone
			f.Device = ev.Device
			if j.Device != nil {
				f.Device = j.Device.Hostname
			}
			f.SetAttr("window", window.String())
			e.absorbRaised(s, fo, t.Add(-window))
		}
		if f.DstZone != ev.DstZone {
			f.DstZone = "" // several zones
		}
		fo.probes[probeKind{string(j.Verdict), string(j.Reason)}] += occurrences(ev)
		if sev.Rank() > f.Severity.Rank() {
			f.Severity = sev // never hide a graver probe under a milder scan
		}
	})
	return true
}

// scanning reports whether a source's probes up to t make a scan, and in
// which window.
func (e *Engine) scanning(s *scanState, t time.Time) (time.Duration, bool) {
	c := &e.cfg
	if len(s.ports) < min(c.ScanPorts, c.SlowScanPorts) && len(s.hosts) < min(c.ScanHosts, c.SlowScanHosts) {
		return 0, false // too few to be a scan in any window: no need to count
	}
	if cut := t.Add(-c.ScanWindow); recent(s.ports, cut) >= c.ScanPorts || recent(s.hosts, cut) >= c.ScanHosts {
		return c.ScanWindow, true
	}
	cut := t.Add(-c.SlowScanWindow)
	return c.SlowScanWindow, recent(s.ports, cut) >= c.SlowScanPorts || recent(s.hosts, cut) >= c.SlowScanHosts
}

// probeKind is a verdict and reason a scan's probes got.
type probeKind struct{ Verdict, Reason string }

// describeScan brings a scan finding's attributes, reason and summary up
// to date before it is published: its probes by verdict and reason, and
// the distinct ports and hosts in its window.
func (e *Engine) describeScan(fo *fold) {
	f := &fo.f
	kinds := make([]probeKind, 0, len(fo.probes))
	for k := range fo.probes {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(a, b int) bool {
		return kinds[a].Verdict < kinds[b].Verdict || kinds[a].Verdict == kinds[b].Verdict && kinds[a].Reason < kinds[b].Reason
	})
	for _, k := range kinds {
		f.SetAttr("probes_"+k.Verdict+"_"+k.Reason, strconv.FormatUint(fo.probes[k], 10))
	}
	if el, ok := e.scans[f.SrcIP]; ok {
		s := el.Value.(*scanState)
		window := e.cfg.ScanWindow
		if w, _ := f.Attr("window"); w == e.cfg.SlowScanWindow.String() {
			window = e.cfg.SlowScanWindow
		}
		cut := f.LastSeen.Add(-window)
		nPorts, nHosts := recent(s.ports, cut), recent(s.hosts, cut)
		setMaxAttr(f, "distinct_ports", nPorts)
		setMaxAttr(f, "distinct_hosts", nHosts)
		// What made it a scan, once seen, stays in the reason.
		hosts := nHosts >= e.cfg.ScanHosts || strings.Contains(f.Reason, "hosts")
		switch ports := nPorts >= e.cfg.ScanPorts || strings.Contains(f.Reason, "ports"); {
		case ports && hosts:
			f.Reason = "hosts_ports"
		case hosts:
			f.Reason = "hosts"
		default:
			f.Reason = "ports"
		}
	}
	f.Summary = scanSummary(f)
}

// raise notes a finding the source's probes opened, keeping the latest
// limit distinct ones.
func (s *scanState) raise(k foldKey, limit int) {
	if s.isRaised == nil {
		s.isRaised = map[foldKey]bool{}
	}
	if s.isRaised[k] {
		return
	}
	if len(s.raised) >= limit {
		delete(s.isRaised, s.raised[0])
		s.raised = s.raised[1:]
	}
	s.raised = append(s.raised, k)
	s.isRaised[k] = true
}

// absorbRaised folds the still-open findings a scanner's probes opened
// since cut into its scan finding fo (being opened), closing each with
// absorbed_by naming the scan.
func (e *Engine) absorbRaised(s *scanState, fo *fold, cut time.Time) {
	f := &fo.f
	for _, k := range s.raised {
		el, ok := e.folds[k]
		if !ok {
			continue
		}
		a := el.Value.(*fold)
		if a.f.LastSeen.Before(cut) {
			continue
		}
		f.Count += a.f.Count
		if a.f.FirstSeen.Before(f.FirstSeen) {
			f.FirstSeen = a.f.FirstSeen
		}
		for _, id := range a.f.EventIDs {
			if len(f.EventIDs) < e.cfg.MaxEventIDs {
				f.EventIDs = append(f.EventIDs, id)
			}
		}
		fo.probes[probeKind{a.f.Type, a.f.Reason}] += a.f.Count
		if a.f.Severity.Rank() > f.Severity.Rank() {
			f.Severity = a.f.Severity
		}
		a.f.SetAttr("absorbed_by", f.FindingID)
		e.closeFold(el)
	}
	s.raised, s.isRaised = nil, nil
}

// addRecent records key at t in a bounded recency set: entries older than
// cut are pruned once the set reaches capacity, and a full set takes no
// new keys (the scan is reported by then).
func addRecent[K comparable](m map[K]time.Time, k K, t, cut time.Time, capacity int) {
	if _, ok := m[k]; !ok && len(m) >= capacity {
		for x, seen := range m {
			if seen.Before(cut) {
				delete(m, x)
			}
		}
		if len(m) >= capacity {
			return
		}
	}
	if old, ok := m[k]; !ok || t.After(old) {
		m[k] = t
	}
}

// recent counts the entries seen at or after cut.
func recent[K comparable](m map[K]time.Time, cut time.Time) int {
	n := 0
	for _, seen := range m {
		if !seen.Before(cut) {
			n++
		}
	}
	return n
}

// addAttr adds n to a numeric attribute.
func addAttr(f *event.Finding, key string, n uint64) {
	v, _ := f.Attr(key)
	old, _ := strconv.ParseUint(v, 10, 64)
	f.SetAttr(key, strconv.FormatUint(old+n, 10))
}

// scanProbes describes a scan's probes by verdict and reason, most first:
// "120 would_block/no_conduit, 3 blocked/not_permitted".
func scanProbes(f *event.Finding) string {
	type kv struct {
		what string
		n    uint64
	}
	var l []kv
	for _, a := range f.Attrs {
		what, ok := strings.CutPrefix(a.Key, "probes_")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(a.Value, 10, 64)
		for _, v := range [...]string{string(WouldBlock), string(Violation), string(Blocked), string(UnknownZone)} {
			if r, ok := strings.CutPrefix(what, v+"_"); ok {
				what = v + "/" + r
				break
			}
		}
		l = append(l, kv{what, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || l[i].n == l[j].n && l[i].what < l[j].what })
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = strconv.FormatUint(x.n, 10) + " " + x.what
	}
	return strings.Join(parts, ", ")
}
