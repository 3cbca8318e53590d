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
}

type snapFold struct {
	Typ, Reason, Conduit string
	Src, Dst             netip.Addr
	Port                 int32
	Finding              event.Finding
	Published            time.Time
	Dirty                bool
}

type snapScan struct {
	Src   netip.Addr
	Ports map[uint16]time.Time
	Hosts map[netip.Addr]time.Time
}

type snapDiode struct {
	ID, Device, Site string
	Heartbeat        time.Duration
	Sides            map[string]diodeSideSnap
	Down             map[string]snapFold
	Degraded         *snapFold
	Gaps             uint64
}

type diodeSideSnap struct {
	Last  time.Time
	Seq   uint64
	SeqOK bool
}

type snapPair struct {
	Src, Dst         string
	SrcAddr, DstAddr netip.Addr
	Port             uint16
}

func foldSnap(f *fold) snapFold {
	return snapFold{f.key.typ, f.key.reason, f.key.conduit, f.key.src, f.key.dst, f.key.port, f.f, f.published, f.dirty}
}

func (s *snapFold) fold() *fold {
	return &fold{key: foldKey{s.Typ, s.Reason, s.Conduit, s.Src, s.Dst, s.Port}, f: s.Finding, published: s.Published, dirty: s.Dirty}
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
		s.Scans = append(s.Scans, snapScan{sc.src, sc.ports, sc.hosts})
	}
	for _, d := range e.diodes {
		sd := snapDiode{ID: d.id, Device: d.device, Site: d.site, Heartbeat: d.heartbeat, Gaps: d.gaps,
			Sides: map[string]diodeSideSnap{}, Down: map[string]snapFold{}}
		for name, side := range d.sides {
			sd.Sides[name] = diodeSideSnap{side.last, side.seq, side.seqOK}
		}
		for name, f := range d.down {
			sd.Down[name] = foldSnap(f)
		}
		if d.degraded != nil {
			f := foldSnap(d.degraded)
			sd.Degraded = &f
		}
		s.Diodes = append(s.Diodes, sd)
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

// Restore replaces the engine's state with a snapshot.
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
		if st.ports == nil {
			st.ports = map[uint16]time.Time{}
		}
		if st.hosts == nil {
			st.hosts = map[netip.Addr]time.Time{}
		}
		e.scans[sc.Src] = e.scanLRU.PushBack(st)
	}
	for _, sd := range s.Diodes {
		d := &diodeState{id: sd.ID, device: sd.Device, site: sd.Site, heartbeat: sd.Heartbeat, gaps: sd.Gaps,
			sides: map[string]*diodeSide{}, down: map[string]*fold{}}
		for name, side := range sd.Sides {
			d.sides[name] = &diodeSide{side.Last, side.Seq, side.SeqOK}
		}
		for name, f := range sd.Down {
			d.down[name] = f.fold()
		}
		if sd.Degraded != nil {
			d.degraded = sd.Degraded.fold()
		}
		e.diodes[sd.ID] = d
	}
	for _, p := range s.Pairs {
		e.pairs[pairKey{p.Src, p.Dst, p.SrcAddr, p.DstAddr, p.Port}] = struct{}{}
	}
	return nil
}
