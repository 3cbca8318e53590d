package correlate

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// Engine judges events and keeps the state behind findings. Event time,
// never the wall clock, drives its windows: the watermark is the latest
// event time seen, so a replay of the same events in the same order gives
// the same findings, ids and revisions included. An Engine is not safe for
// concurrent use.
//
// Every new finding and every change to one is passed to the emit
// function as a new revision; the latest revision of a finding id is its
// state. The *event.Finding passed to emit is only valid during the call.
type Engine struct {
	cfg   Config
	model *rules.Model
	emit  func(*event.Finding)

	watermark  time.Time
	learnStart time.Time

	folds   map[foldKey]*list.Element // of *fold
	foldLRU list.List                 // least recently updated first

	scans   map[netip.Addr]*list.Element // of *scanState
	scanLRU list.List

	diodes map[string]*diodeState

	pairs map[pairKey]struct{}

	conns *Connections // openings, to orient the records of connection ends

	stats Stats
}

// Stats counts what the engine holds and did.
type Stats struct {
	Folds, ScanSources, Pairs, Diodes int    // current state sizes
	Evicted                           uint64 // folds closed early and scan sources forgotten at their bounds
	Suppressed                        uint64 // finding revisions dropped by Config.Suppress
	SeqGaps                           uint64 // diode heartbeats lost (sequence gaps)
	PairsFull                         bool   // MaxPairs reached: learning stopped
}

// NewEngine returns an engine over a model; emit receives the findings.
func NewEngine(m *rules.Model, cfg Config, emit func(*event.Finding)) *Engine {
	return &Engine{cfg: cfg.withDefaults(), model: m, emit: emit,
		folds: map[foldKey]*list.Element{}, scans: map[netip.Addr]*list.Element{},
		diodes: map[string]*diodeState{}, pairs: map[pairKey]struct{}{}, conns: NewConnections(0)}
}

// SetModel replaces the model; state is kept.
func (e *Engine) SetModel(m *rules.Model) { e.model = m }

// Model returns the model in use.
func (e *Engine) Model() *rules.Model { return e.model }

// Stats returns the current counts.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Folds, s.ScanSources, s.Pairs, s.Diodes = len(e.folds), len(e.scans), len(e.pairs), len(e.diodes)
	return s
}

// Watermark returns the latest event time seen.
func (e *Engine) Watermark() time.Time { return e.watermark }

// Process judges an event, writes the verdict into it (see Apply) and
// updates the findings.
func (e *Engine) Process(ev *event.Event) Judgement {
	t := ev.Time
	if t.IsZero() {
		t = ev.ReceivedAt
	}
	if t.IsZero() {
		t = e.watermark
	}
	e.Advance(t)
	if e.learnStart.IsZero() && !t.IsZero() {
		e.learnStart = t
	}
	if ev.Kind == event.KindDiode && ev.DiodeID != "" {
		e.heartbeat(ev, t)
	}
	e.conns.Orient(ev)
	j := Judge(e.model, ev)
	Apply(&j, ev)
	scanning := j.Verdict != None && e.scan(&j, ev, t)
	switch {
	case j.Reason == ReasonThreat:
		// An IPS stopped an attack inside allowed traffic: its alert
		// finding (below) says so; the flow itself broke no rule.
	case j.Verdict == None, j.Verdict == Allowed, j.Verdict == IntraZone:
	case j.Verdict == Blocked, j.Verdict == WouldBlock, j.Verdict == Violation:
		// While a source is scanning, what it reaches counts in the scan
		// finding, not as one finding per port or host; only air-gap and
		// diode breaches keep findings of their own.
		if !scanning || j.Reason == rules.AirGap || j.Reason == rules.DiodeReverse {
			e.fold(string(j.Verdict), string(j.Reason), &j, ev, t)
		}
	default:
		e.fold(string(j.Verdict), string(j.Reason), &j, ev, t)
	}
	if j.DeniedInMonitor {
		e.fold(TypeWouldFalseBlock, "", &j, ev, t)
	}
	if ev.Kind == event.KindAlert && ev.Signature != "" {
		e.alert(&j, ev, t)
	}
	if j.Verdict != None {
		e.newPair(&j, ev, t)
	}
	return j
}

// Advance moves the watermark to t if it is later, closing folds whose
// window passed and declaring diodes down whose heartbeats stopped. Process
// calls it with each event's time; the service does not yet call it on a
// wall-clock tick, so on a stream with no events at all the watermark, and
// with it diode_down, waits for the next event.
func (e *Engine) Advance(t time.Time) {
	if !t.After(e.watermark) {
		return
	}
	e.watermark = t
	for el := e.foldLRU.Front(); el != nil; el = e.foldLRU.Front() {
		f := el.Value.(*fold)
		if !f.f.LastSeen.Add(e.cfg.FoldWindow).Before(t) {
			break
		}
		e.closeFold(el)
	}
	for _, d := range e.diodes {
		e.checkDiode(d)
	}
}

// Drain publishes the current state of every open finding that changed
// since its last publication (offline replay calls it at the end, so that
// each finding's last revision carries its final count).
func (e *Engine) Drain() {
	for el := e.foldLRU.Front(); el != nil; el = el.Next() {
		f := el.Value.(*fold)
		if f.dirty {
			e.publish(f, f.f.LastSeen)
		}
	}
	for _, d := range e.diodes {
		for _, f := range d.down {
			if f.dirty {
				e.publish(f, f.f.LastSeen)
			}
		}
		if f := d.degraded; f != nil && f.dirty {
			e.publish(f, f.f.LastSeen)
		}
	}
}

// fold is one open finding and its publication state.
type fold struct {
	key       foldKey
	f         event.Finding
	published time.Time // event time of the last publication
	dirty     bool      // changed since the last publication
}

type foldKey struct {
	typ, reason, conduit string
	src, dst             netip.Addr
	port                 int32 // -1 when unknown
}

func (e *Engine) fold(typ, reason string, j *Judgement, ev *event.Event, t time.Time) {
	k := foldKey{typ: typ, reason: reason, src: ev.SrcIP, dst: ev.DstIP, port: -1, conduit: ev.Conduit}
	if ev.DstPort.OK {
		k.port = int32(ev.DstPort.V)
	}
	var raise func(*event.Finding)
	if floor := consequence(j, typ); floor.Rank() > e.cfg.severity(typ, reason).Rank() && !e.cfg.overridden(typ, reason) {
		raise = func(f *event.Finding) {
			if f.Severity.Rank() < floor.Rank() {
				f.Severity = floor
			}
		}
	}
	e.foldInto(k, j, ev, t, raise)
}

// alert folds an IDS/IPS alert into a finding of its own per signature and
// flow (type alert, reason prevented when the device stopped it, detected
// otherwise), with the sensor's severity unless Config.Severities says
// otherwise.
func (e *Engine) alert(j *Judgement, ev *event.Event, t time.Time) {
	sig := ev.SignatureID
	if sig == "" {
		sig = ev.Signature
	}
	reason := "detected"
	if j.Seen == Denied && j.Mode != rules.ModeMonitor && (j.Device == nil || j.Device.Role == rules.RoleFirewall) {
		reason = "prevented"
	}
	k := foldKey{typ: TypeAlert, reason: "signature " + sig, src: ev.SrcIP, dst: ev.DstIP, port: -1, conduit: ev.Conduit}
	if ev.DstPort.OK {
		k.port = int32(ev.DstPort.V)
	}
	e.foldInto(k, j, ev, t, func(f *event.Finding) {
		if f.Revision > 0 {
			return // described when opened
		}
		f.Reason = reason
		f.Severity = AlertSeverity(ev.Severity)
		if e.cfg.overridden(TypeAlert, reason) {
			f.Severity = e.cfg.severity(TypeAlert, reason)
		}
		f.SetAttr("signature", ev.Signature)
		if ev.SignatureID != "" {
			f.SetAttr("signature_id", ev.SignatureID)
		}
		if ev.Action != "" {
			f.SetAttr("action", string(ev.Action))
		}
		f.Summary = alertSummary(f, ev)
	})
}

// foldInto adds an event to the finding with key k, opening it (filled by
// fill, or from the judgement) when there is none.
func (e *Engine) foldInto(k foldKey, j *Judgement, ev *event.Event, t time.Time, fill func(*event.Finding)) *fold {
	if el, ok := e.folds[k]; ok {
		f := el.Value.(*fold)
		e.foldLRU.MoveToBack(el)
		f.f.Count += occurrences(ev)
		if t.Before(f.f.FirstSeen) {
			f.f.FirstSeen = t
		}
		if t.After(f.f.LastSeen) {
			f.f.LastSeen = t
		}
		if len(f.f.EventIDs) < e.cfg.MaxEventIDs && !ev.ID.IsZero() {
			f.f.EventIDs = append(f.f.EventIDs, ev.ID)
		}
		if fill != nil {
			fill(&f.f)
		}
		f.dirty = true
		if !t.Before(f.published.Add(e.cfg.UpdateEvery)) {
			e.publish(f, t)
		}
		return f
	}
	if len(e.folds) >= e.cfg.MaxFolds {
		e.stats.Evicted++
		e.closeFold(e.foldLRU.Front())
	}
	f := &fold{key: k}
	fd := &f.f
	fd.FindingID = findingID(k, ev.ID, t)
	fd.FirstSeen, fd.LastSeen, fd.Count = t, t, occurrences(ev)
	fd.Type, fd.Reason = k.typ, k.reason
	fd.Severity = e.cfg.severity(k.typ, k.reason)
	fd.Status = event.StatusOpen
	fd.Site = ev.Site
	if fd.Site == "" {
		fd.Site = e.cfg.Site
	}
	if j != nil {
		e.describe(fd, j, ev)
	}
	if !ev.ID.IsZero() {
		fd.EventIDs = append(make([]event.ID, 0, 2), ev.ID)
	}
	if fill != nil {
		fill(fd)
	}
	e.folds[k] = e.foldLRU.PushBack(f)
	e.publish(f, t)
	return f
}

// describe fills a finding's endpoints and context from a judged event.
func (e *Engine) describe(fd *event.Finding, j *Judgement, ev *event.Event) {
	d := &j.Decision
	fd.SrcIP, fd.DstIP, fd.DstPort = ev.SrcIP, ev.DstIP, ev.DstPort
	fd.SrcZone, fd.DstZone, fd.Conduit = ev.SrcZone, ev.DstZone, ev.Conduit
	if d.SrcAsset != nil {
		fd.SrcAsset = d.SrcAsset.Name
	}
	if d.DstAsset != nil {
		fd.DstAsset = d.DstAsset.Name
	}
	fd.Transport, fd.AppProtocol, fd.FunctionCode = ev.Transport, ev.AppProtocol, ev.FunctionCode
	fd.Device, fd.Mode = ev.Device, string(j.Mode)
	if j.Device != nil {
		fd.Device = j.Device.Hostname
	}
	fd.Rule = ev.Rule
	if d.Rule != nil {
		fd.Rule = d.Rule.ID()
	}
	fd.Summary = summary(fd, ev)
}

func (e *Engine) publish(f *fold, t time.Time) {
	f.f.Revision++
	f.f.Time = t
	f.published, f.dirty = t, false
	for i := range e.cfg.Suppress {
		if e.cfg.Suppress[i].matches(&f.f) {
			e.stats.Suppressed++
			return
		}
	}
	if e.emit != nil {
		e.emit(&f.f)
	}
}

func (e *Engine) closeFold(el *list.Element) {
	f := e.foldLRU.Remove(el).(*fold)
	delete(e.folds, f.key)
	f.f.Status = event.StatusClosed
	e.publish(f, f.f.LastSeen)
}

// findingID is stable across replays: it hashes the key and the first
// event's id (or, for findings no single event opens, the time).
func findingID(k foldKey, first event.ID, t time.Time) string {
	h := sha256.New()
	var b [16 + 16 + 4 + 8]byte
	s, d := k.src.As16(), k.dst.As16()
	copy(b[:16], s[:])
	copy(b[16:32], d[:])
	binary.BigEndian.PutUint32(b[32:36], uint32(k.port))
	binary.BigEndian.PutUint64(b[36:44], uint64(t.UnixNano()))
	h.Write(b[:])
	h.Write(first[:])
	for _, s := range [...]string{k.typ, k.reason, k.conduit} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// scanState is what one source reached recently.
type scanState struct {
	src   netip.Addr
	ports map[uint16]time.Time
	hosts map[netip.Addr]time.Time
}

// scan tracks what a source reaches in other zones and folds the event
// into the source's scan finding when it is scanning; it reports whether
// it did.
func (e *Engine) scan(j *Judgement, ev *event.Event, t time.Time) bool {
	d := &j.Decision
	if d.DstZone == nil || d.DstZone == d.SrcZone || !initiated(ev) {
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
	cut := t.Add(-e.cfg.ScanWindow)
	if ev.DstPort.OK {
		addRecent(s.ports, ev.DstPort.V, t, cut, e.cfg.ScanPorts)
	}
	addRecent(s.hosts, ev.DstIP, t, cut, e.cfg.ScanHosts)
	var reason string
	switch {
	case len(s.ports) >= e.cfg.ScanPorts:
		reason = "ports"
	case len(s.hosts) >= e.cfg.ScanHosts:
		reason = "hosts"
	default:
		return false
	}
	nPorts, nHosts := len(s.ports), len(s.hosts)
	k := foldKey{typ: TypeScan, reason: reason, src: ev.SrcIP, port: -1}
	e.foldInto(k, nil, ev, t, func(f *event.Finding) {
		if f.Count == 1 {
			f.SrcIP, f.SrcZone = ev.SrcIP, ev.SrcZone
			if d.SrcAsset != nil {
				f.SrcAsset = d.SrcAsset.Name
			}
			f.DstZone = ev.DstZone
			f.Device = ev.Device
			if j.Device != nil {
				f.Device = j.Device.Hostname
			}
		}
		if f.DstZone != ev.DstZone {
			f.DstZone = "" // several zones
		}
		setMaxAttr(f, "distinct_ports", nPorts)
		setMaxAttr(f, "distinct_hosts", nHosts)
		f.Summary = scanSummary(f)
	})
	return true
}

// initiated reports whether an event's source is known to have opened its
// flow: a packet of a flow the device no longer tracked (a reply after a
// failover) or a record whose initiator could not be told says nothing of
// what its source reached, so it never counts towards a scan.
func initiated(ev *event.Event) bool {
	if _, mid := ev.Attr(event.AttrMidFlow); mid {
		return false
	}
	v, _ := ev.Attr(event.AttrInitiator)
	return v != event.InitiatorUnknown
}

// addRecent records key at t in a bounded recency set: entries older than
// cut are pruned once the set reaches its threshold, and past four times
// the threshold new keys are not added (the scan is already reported).
func addRecent[K comparable](m map[K]time.Time, k K, t, cut time.Time, threshold int) {
	if _, ok := m[k]; !ok && len(m) >= threshold-1 {
		for x, seen := range m {
			if seen.Before(cut) {
				delete(m, x)
			}
		}
		if len(m) >= 4*threshold {
			return
		}
	}
	if old, ok := m[k]; !ok || t.After(old) {
		m[k] = t
	}
}

func setMaxAttr(f *event.Finding, key string, n int) {
	if v, ok := f.Attr(key); ok {
		if old, err := strconv.Atoi(v); err == nil && old >= n {
			return
		}
	}
	f.SetAttr(key, strconv.Itoa(n))
}

// pairKey is a communication pair: assets by name, or addresses when the
// inventory does not know them.
type pairKey struct {
	src, dst         string
	srcAddr, dstAddr netip.Addr
	port             uint16
}

func (e *Engine) newPair(j *Judgement, ev *event.Event, t time.Time) {
	d := &j.Decision
	if e.cfg.Learn < 0 || d.Conduit == nil {
		return
	}
	switch j.Verdict {
	case Allowed, Violation, PolicyDrift, WouldBlock:
	default:
		return // did not cross
	}
	k := pairKey{srcAddr: ev.SrcIP, dstAddr: ev.DstIP}
	if ev.DstPort.OK {
		k.port = ev.DstPort.V
	}
	if d.SrcAsset != nil {
		k.src, k.srcAddr = d.SrcAsset.Name, netip.Addr{}
	}
	if d.DstAsset != nil {
		k.dst, k.dstAddr = d.DstAsset.Name, netip.Addr{}
	}
	if _, ok := e.pairs[k]; ok {
		return
	}
	if len(e.pairs) >= e.cfg.MaxPairs {
		e.stats.PairsFull = true
		return
	}
	e.pairs[k] = struct{}{}
	if t.Before(e.learnStart.Add(e.cfg.Learn)) {
		return
	}
	fk := foldKey{typ: TypeNewPair, src: ev.SrcIP, dst: ev.DstIP, port: int32(k.port), conduit: ev.Conduit}
	e.foldInto(fk, j, ev, t, func(f *event.Finding) {
		if f.Count == 1 {
			f.Summary = "New communication pair across " + f.Conduit + ": " + endpoint(f.SrcAsset, f.SrcIP, f.SrcZone) +
				" → " + endpoint(f.DstAsset, f.DstIP, f.DstZone) + service(f) + ", not seen since the baseline; confirm it is expected."
		}
	})
}

// occurrences is how many times an event happened: a relay's "message
// repeated N times" (decode.AttrRepeatCount) stands for N.
func occurrences(ev *event.Event) uint64 {
	if v, ok := ev.Attr("repeat_count"); ok {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil && n > 0 {
			return n
		}
	}
	return 1
}
