package correlate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
)

// snapshot is the engine's state in serializable form.
type snapshot struct {
	Watermark  time.Time   `json:"watermark"`
	LearnStart time.Time   `json:"learn_start"`
	Folds      []snapFold  `json:"folds"` // least recently updated first
	Scans      []snapScan  `json:"scans"` // least recently active first
	Diodes     []snapDiode `json:"diodes"`
	Pairs      []snapPair  `json:"pairs"`
	Stats      Stats       `json:"stats"`
	Clocks     snapClocks  `json:"clocks"`
}

type snapClocks struct {
	Pending []aheadClock
	Skewed  []string
}

type snapFold struct {
	Typ, Reason, Conduit string
	Src, Dst             netip.Addr
	Port                 int32
	Fn, Device           string
	Finding              event.Finding
	Published            time.Time
	Dirty                bool
	Probes               []snapProbes `json:",omitempty"`
}

type snapProbes struct {
	Verdict, Reason string
	N               uint64
}

type snapScan struct {
	Src    netip.Addr
	Ports  map[uint16]time.Time
	Hosts  map[netip.Addr]time.Time
	Raised []snapFold // keys only
}

type snapDiode struct {
	ID, Site  string
	Heartbeat time.Duration
	Since     time.Time
	Sides     map[string]snapSide
	Gaps      uint64
}

type snapSide struct {
	Last             time.Time
	Seq              uint64
	SeqOK            bool
	Reporter, Device string
	StartingSince    time.Time
	Down, Degraded   *snapFold
}

type snapPair struct {
	Src, Dst         string
	SrcAddr, DstAddr netip.Addr
	Port             uint16
}

func foldSnap(f *fold) snapFold {
	s := snapFold{Typ: f.key.typ, Reason: f.key.reason, Conduit: f.key.conduit, Src: f.key.src, Dst: f.key.dst,
		Port: f.key.port, Fn: f.key.fn, Device: f.key.device, Finding: f.f, Published: f.published, Dirty: f.dirty}
	for k, n := range f.probes {
		s.Probes = append(s.Probes, snapProbes{k.Verdict, k.Reason, n})
	}
	return s
}

func (s *snapFold) key() foldKey {
	return foldKey{typ: s.Typ, reason: s.Reason, conduit: s.Conduit, src: s.Src, dst: s.Dst, port: s.Port, fn: s.Fn, device: s.Device}
}

func (s *snapFold) fold() *fold {
	f := &fold{key: s.key(), f: s.Finding, published: s.Published, dirty: s.Dirty}
	if s.Typ == TypeScan {
		f.probes = map[probeKind]uint64{}
		for _, p := range s.Probes {
			f.probes[probeKind{p.Verdict, p.Reason}] = p.N
		}
	}
	return f
}

func optFoldSnap(f *fold) *snapFold {
	if f == nil {
		return nil
	}
	s := foldSnap(f)
	return &s
}

func (s *snapFold) optFold() *fold {
	if s == nil {
		return nil
	}
	return s.fold()
}

// Snapshot returns the engine's state; Restore on a new engine continues
// exactly where this one stands.
func (e *Engine) Snapshot() ([]byte, error) {
	s := snapshot{Watermark: e.watermark, LearnStart: e.learnStart, Stats: e.stats}
	for el := e.foldLRU.Front(); el != nil; el = el.Next() {
		s.Folds = append(s.Folds, foldSnap(el.Value.(*fold)))
	}
	for el := e.scanLRU.Front(); el != nil; el = el.Next() {
		sc := el.Value.(*scanState)
		ss := snapScan{Src: sc.src, Ports: sc.ports, Hosts: sc.hosts}
		for _, k := range sc.raised {
			ss.Raised = append(ss.Raised, foldSnap(&fold{key: k}))
		}
		s.Scans = append(s.Scans, ss)
	}
	for _, id := range e.diodeOrder {
		d := e.diodes[id]
		sd := snapDiode{ID: d.id, Site: d.site, Heartbeat: d.heartbeat, Since: d.since, Gaps: d.gaps, Sides: map[string]snapSide{}}
		for name, side := range d.sides {
			sd.Sides[name] = snapSide{Last: side.last, Seq: side.seq, SeqOK: side.seqOK, Reporter: side.reporter,
				Device: side.device, StartingSince: side.startingSince, Down: optFoldSnap(side.down), Degraded: optFoldSnap(side.degraded)}
		}
		s.Diodes = append(s.Diodes, sd)
	}
	s.Clocks.Pending = e.clocks.pending
	for dev := range e.clocks.skewed {
		s.Clocks.Skewed = append(s.Clocks.Skewed, dev)
	}
	for k := range e.pairs {
		s.Pairs = append(s.Pairs, snapPair{k.src, k.dst, k.srcAddr, k.dstAddr, k.port})
	}
	b, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("correlate: snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the engine's state with a snapshot. The restored engine
// continues exactly as the saved one would on the same events; only its
// first Tick treats the time since as a restart gap (see Tick).
func (e *Engine) Restore(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("correlate: restore: %w", err)
	}
	fresh := NewEngine(e.model, e.cfg, e.emit)
	*e = *fresh
	e.watermark, e.learnStart, e.stats = s.Watermark, s.LearnStart, s.Stats
	for i := range s.Folds {
		f := s.Folds[i].fold()
		e.folds[f.key] = e.foldLRU.PushBack(f)
	}
	for _, sc := range s.Scans {
		st := &scanState{src: sc.Src, ports: sc.Ports, hosts: sc.Hosts}
		for i := range sc.Raised {
			st.raise(sc.Raised[i].key(), len(sc.Raised))
		}
		if st.ports == nil {
			st.ports = map[uint16]time.Time{}
		}
		if st.hosts == nil {
			st.hosts = map[netip.Addr]time.Time{}
		}
		e.scans[sc.Src] = e.scanLRU.PushBack(st)
	}
	for _, sd := range s.Diodes {
		d := &diodeState{id: sd.ID, site: sd.Site, heartbeat: sd.Heartbeat, since: sd.Since, gaps: sd.Gaps, sides: map[string]*diodeSide{}}
		for _, name := range diodeSides {
			side := sd.Sides[name]
			d.sides[name] = &diodeSide{last: side.Last, seq: side.Seq, seqOK: side.SeqOK, reporter: side.Reporter,
				device: side.Device, startingSince: side.StartingSince, down: side.Down.optFold(), degraded: side.Degraded.optFold()}
		}
		e.diodes[sd.ID] = d
		e.diodeOrder = append(e.diodeOrder, sd.ID)
	}
	e.clocks.pending = s.Clocks.Pending
	for _, dev := range s.Clocks.Skewed {
		e.clocks.skewed[dev] = true
	}
	if !e.watermark.IsZero() {
		e.expectDiodes(e.watermark) // the model may have changed since
	}
	e.restored = true
	for _, p := range s.Pairs {
		e.pairs[pairKey{p.Src, p.Dst, p.SrcAddr, p.DstAddr, p.Port}] = struct{}{}
	}
	return nil
}
