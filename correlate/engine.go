package correlate

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// Engine judges events and keeps the state behind findings. Event time,
// never the wall clock, drives its windows: the watermark is the latest
// trusted event time seen, so a replay of the same events in the same
// order gives the same findings, ids and revisions included. Only Tick,
// which the service calls with the wall clock when it has processed every
// event, brings the wall clock in. An Engine is not safe for concurrent
// use.
//
// Time is guarded twice. A device whose clock runs ahead (see
// Config.ClockSkew) does not move the watermark: its events are judged at
// the watermark and it gets a clock_skew finding. A watermark jump longer
// than a diode's timeout (DiodeMissed heartbeats) is a gap in otsiem's own
// observation — it was stopped, restored from a snapshot, or its
// collectors were down — not the diode's silence: the diode's heartbeat
// windows restart at the end of the gap, and a side that stays silent is
// down one timeout later.
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
	restored   bool // restored from a snapshot and not yet advanced: see Tick
	// The stream is live while its events arrive within liveLag of their
	// time: only then does Tick move time (a backfill of old logs is read
	// in its own time). minLag is the least lag since the last Tick.
	backfill bool
	minLag   time.Duration
	lagSeen  bool
	// Receive time (with Config.ReceiveClock): recvMark is the latest
	// receive time processed; every event received before settled has
	// been processed (receive time less DeliveryLag, or a Tick's time).
	// A diode side suspected silent at recvMark is down once settled
	// reaches it (see settledSilent); settleDue is the earliest such
	// suspicion, zero when none is pending.
	recvMark, settled, settleDue time.Time
	recvGap                      time.Duration // the receive time from the event before to this one (see advance)

	folds   map[foldKey]*list.Element // of *fold
	foldLRU list.List                 // least recently updated first

	scans   map[netip.Addr]*list.Element // of *scanState
	scanLRU list.List

	diodes     map[string]*diodeState
	diodeOrder []string // ids in order, for deterministic output

	clocks clockState

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
	Gaps                              uint64 // gaps in otsiem's own observation (heartbeat windows restarted)
	ClockAhead                        uint64 // events whose device clock ran ahead: judged without moving time
	RejectedDiodeReports              uint64 // diode health reports not taken (undeclared diode, wrong sender)
}

// NewEngine returns an engine over a model; emit receives the findings.
func NewEngine(m *rules.Model, cfg Config, emit func(*event.Finding)) *Engine {
	return &Engine{cfg: cfg.withDefaults(), model: m, emit: emit,
		folds: map[foldKey]*list.Element{}, scans: map[netip.Addr]*list.Element{},
		diodes: map[string]*diodeState{}, pairs: map[pairKey]struct{}{}, clocks: newClockState(), conns: NewConnections(0)}
}

// SetModel replaces the model; state is kept. Diodes the new model
// declares are expected from now on; diodes it no longer declares are
// forgotten, their open findings closed.
func (e *Engine) SetModel(m *rules.Model) {
	if m == e.model {
		return
	}
	e.model = m
	if !e.watermark.IsZero() {
		e.expectDiodes(e.watermark)
	}
}

// Model returns the model in use.
func (e *Engine) Model() *rules.Model { return e.model }

// Stats returns the current counts.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Folds, s.ScanSources, s.Pairs, s.Diodes = len(e.folds), len(e.scans), len(e.pairs), len(e.diodes)
	return s
}

// Watermark returns the engine's time: the latest trusted event time, or
// the latest Tick.
func (e *Engine) Watermark() time.Time { return e.watermark }

// Process judges an event, writes the verdict into it (see Apply) and
// updates the findings.
func (e *Engine) Process(ev *event.Event) Judgement {
	e.restored = false // the stream continues: a replay stays exact
	e.recvGap = anyGap
	if e.cfg.ReceiveClock && !ev.ReceivedAt.IsZero() {
		if !ev.Time.IsZero() {
			if lag := ev.ReceivedAt.Sub(ev.Time); !e.lagSeen || lag < e.minLag {
				e.minLag, e.lagSeen = lag, true
			}
		}
		e.received(ev.ReceivedAt)
	}
	if e.learnStart.IsZero() && ev.Time.Before(e.watermark) && !ev.Time.IsZero() {
		// The first event is older than the ticks so far: the stream
		// starts with a backfill, read in its own time.
		e.watermark = ev.Time
		for _, d := range e.diodes {
			d.since = ev.Time
		}
	}
	t := e.clock(ev)
	if e.learnStart.IsZero() && !t.IsZero() {
		e.learnStart = t
	}
	if ev.Kind == event.KindDiode && ev.DiodeID != "" {
		e.heartbeat(ev, t)
	}
	e.settle()
	e.conns.Orient(ev)
	j := Judge(e.model, ev)
	Apply(&j, ev)
	// A source found scanning folds its probes into one scan finding;
	// what a scan never absorbs keeps a finding of its own (see scan).
	absorbed := j.Verdict != None && e.scan(&j, ev, t)
	switch {
	case j.Reason == ReasonThreat:
		// An IPS stopped an attack inside allowed traffic: its alert
		// finding (below) says so; the flow itself broke no rule.
	case j.Verdict == None, j.Verdict == Allowed, j.Verdict == IntraZone:
	default:
		if !absorbed {
			e.fold(string(j.Verdict), string(j.Reason), &j, ev, t)
		}
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
// calls it with each trusted event time, the service through Tick. A jump
// longer than a diode's timeout is a gap in otsiem's observation: that
// diode's heartbeat windows restart at t.
func (e *Engine) Advance(t time.Time) { e.advance(t, anyGap) }

// anyGap: no receive clock tells whether otsiem itself stopped observing.
const anyGap = time.Duration(math.MaxInt64)

// advance is Advance for an event received recvGap after the one before
// it (anyGap when unknown). With the receive clock, a jump of event time
// is a gap in otsiem's observation only when receive time jumped as well:
// a fast replay, or a device whose lines reach the stream in batches
// minutes apart in event time, is read continuously.
func (e *Engine) advance(t time.Time, recvGap time.Duration) {
	if !t.After(e.watermark) {
		return
	}
	prev := e.watermark
	e.watermark = t
	e.clocks.advanced(t, e.cfg.ClockSkew)
	for el := e.foldLRU.Front(); el != nil; el = e.foldLRU.Front() {
		f := el.Value.(*fold)
		if !f.f.LastSeen.Add(e.cfg.FoldWindow).Before(t) {
			break
		}
		e.closeFold(el)
	}
	if prev.IsZero() {
		e.expectDiodes(t)
	}
	for _, id := range e.diodeOrder {
		d := e.diodes[id]
		if timeout := e.diodeTimeout(d); !prev.IsZero() && t.Sub(prev) > timeout && recvGap > timeout {
			e.observationGap(d, t)
		}
	}
	e.checkDiodes()
}

// settle checks the diode sides suspected silent once every event that
// could end their silence has arrived.
func (e *Engine) settle() {
	if !e.settleDue.IsZero() && !e.settled.Before(e.settleDue) {
		e.checkDiodes()
	}
}

// received takes the receive time of an event (Config.ReceiveClock):
// every event received DeliveryLag before it has been processed.
func (e *Engine) received(r time.Time) {
	switch {
	case e.recvMark.IsZero():
	case r.After(e.recvMark):
		e.recvGap = r.Sub(e.recvMark)
	default:
		e.recvGap = 0
	}
	if r.After(e.recvMark) {
		e.recvMark = r
	}
	if s := r.Add(-e.cfg.DeliveryLag); s.After(e.settled) {
		e.settled = s
	}
}

// liveLag: events received within this time of their event time make a
// live stream.
const liveLag = time.Minute

// Tick advances the engine to the wall-clock time now. The service calls
// it every second or so while it has processed every event, so that a
// diode going silent while nothing else is logged is down within its
// timeout. The first Tick after Restore that jumps more than a diode's
// heartbeat interval is a restart gap for that diode: heartbeats sent
// while otsiem was stopped were never received, so its windows restart at
// now. Ticks move time only while the stream is live: when none of the
// events since the last Tick arrived within a minute of its time (a
// backfill of old logs), time follows the events alone. Offline replays
// never call Tick.
func (e *Engine) Tick(now time.Time) {
	if e.lagSeen {
		e.backfill, e.lagSeen = e.minLag > liveLag, false
	}
	// The service ticks only when it has read everything, with the wall
	// clock less TickSlack: every event received before now is in — on a
	// live stream. A backfill or fast replay loads the collectors, whose
	// batches may then take longer to reach the stream: a silence it
	// holds is settled by its own later events, or liveLag after it.
	settle := now
	if e.backfill {
		settle = now.Add(-liveLag)
	}
	if settle.After(e.settled) {
		e.settled = settle
	}
	if e.backfill && !e.restored {
		e.settle()
		return
	}
	if e.restored && now.After(e.watermark) {
		for _, id := range e.diodeOrder {
			if d := e.diodes[id]; now.Sub(e.watermark) > d.heartbeat {
				e.observationGap(d, now)
			}
		}
	}
	e.restored = false
	e.Advance(now)
	e.settle()
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
	for _, id := range e.diodeOrder {
		for _, s := range e.diodes[id].sides {
			for _, f := range []*fold{s.down, s.degraded} {
				if f != nil && f.dirty {
					e.publish(f, f.f.LastSeen)
				}
			}
		}
	}
}

// fold is one open finding and its publication state.
type fold struct {
	key       foldKey
	f         event.Finding
	published time.Time            // event time of the last publication
	dirty     bool                 // changed since the last publication
	probes    map[probeKind]uint64 // a scan's probes by verdict and reason
}

// foldKey identifies a folded finding. The function is part of it, so a
// write is never folded into a finding a read opened; the source port is
// not, so a client's ephemeral ports do not split one finding.
type foldKey struct {
	typ, reason, conduit string
	src, dst             netip.Addr
	port                 int32  // -1 when unknown
	fn                   string // the protocol function: its name, or "fc<code>"
	device               string // for per-device findings (clock_skew, diode_report_rejected)
}

// verdictKey is the fold key of a verdict finding of an event.
func verdictKey(typ, reason string, ev *event.Event) foldKey {
	k := foldKey{typ: typ, reason: reason, src: ev.SrcIP, dst: ev.DstIP, port: -1, conduit: ev.Conduit}
	if ev.DstPort.OK {
		k.port = int32(ev.DstPort.V)
	}
	switch {
	case ev.Function != "":
		k.fn = ev.Function
	case ev.FunctionCode.OK:
		k.fn = "fc" + strconv.Itoa(int(ev.FunctionCode.V))
	}
	return k
}

// fold adds an event to its verdict finding; the finding's severity is at
// least what its flow's consequence deserves (see consequence).
func (e *Engine) fold(typ, reason string, j *Judgement, ev *event.Event, t time.Time) {
	var raise func(*fold)
	if floor := consequence(j, typ); floor.Rank() > e.cfg.severity(typ, reason).Rank() && !e.cfg.overridden(typ, reason) {
		raise = func(f *fold) {
			if f.f.Severity.Rank() < floor.Rank() {
				f.f.Severity = floor
			}
		}
	}
	e.foldInto(verdictKey(typ, reason, ev), j, ev, t, raise)
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
	e.foldInto(k, j, ev, t, func(fo *fold) {
		f := &fo.f
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
func (e *Engine) foldInto(k foldKey, j *Judgement, ev *event.Event, t time.Time, fill func(*fold)) *fold {
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
			fill(f)
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
		fill(f)
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
	if f.key.typ == TypeScan {
		e.describeScan(f)
	}
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
	for _, s := range [...]string{k.typ, k.reason, k.conduit, k.fn, k.device} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
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
	e.foldInto(fk, j, ev, t, func(fo *fold) {
		if f := &fo.f; f.Count == 1 {
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
