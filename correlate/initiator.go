package correlate

import (
	"hash/maphash"
	"net/netip"

	"github.com/otsiem/otsiem/ingest/event"
)

// Connections remembers who opened each connection a device logged the
// opening of (a record with an event.AttrConnectionID and action allow,
// such as an ASA build, 302013), so that the record of its end (the same
// id, action close), which ASA prints in its build's order without
// saying which side opened it, is oriented like its opening: the
// initiator is the source. The decoder's port heuristic stays for ends
// whose opening was not seen (before otsiem started, lost, or judged by
// another correlator process: each process remembers what it saw).
//
// It holds at most a bounded number of open connections, forgetting the
// oldest first; a connection's end forgets it. Not safe for concurrent use.
type Connections struct {
	seed  maphash.Seed
	open  map[uint64]opener
	order []uint64 // ring of keys in insertion order, for forgetting the oldest
	next  int
}

type opener struct {
	addr netip.Addr
	port event.Opt[uint16]
}

// NewConnections returns a table remembering up to max open connections
// (default 100,000 when max <= 0).
func NewConnections(max int) *Connections {
	if max <= 0 {
		max = 100_000
	}
	return &Connections{seed: maphash.MakeSeed(), open: map[uint64]opener{}, order: make([]uint64, max)}
}

// Orient records an opening, or orients an end by its opening and marks it
// (event.AttrInitiator = event.InitiatorOpening). Other events are left
// alone.
func (c *Connections) Orient(ev *event.Event) {
	id, ok := ev.Attr(event.AttrConnectionID)
	if !ok || id == "" {
		return
	}
	k := c.key(ev, id)
	switch ev.Action {
	case event.ActionAllow:
		if _, unsure := ev.Attr(event.AttrInitiator); unsure {
			return // an opening that does not name its initiator either
		}
		if old := c.order[c.next]; old != 0 {
			delete(c.open, old)
		}
		c.open[k] = opener{ev.SrcIP, ev.SrcPort}
		c.order[c.next] = k
		c.next = (c.next + 1) % len(c.order)
	case event.ActionClose:
		o, ok := c.open[k]
		if !ok {
			return
		}
		delete(c.open, k)
		switch {
		case ev.SrcIP == o.addr && ev.SrcPort == o.port:
		case ev.DstIP == o.addr && ev.DstPort == o.port:
			ev.SwapEndpoints()
		default:
			return // not the same endpoints: leave the record as it is
		}
		if v, ok := ev.Attr(event.AttrInitiator); ok && v != event.InitiatorOpening {
			ev.SetAttr(event.AttrInitiator, event.InitiatorOpening)
		}
	}
}

// key identifies a connection: its reporting device (name and address)
// and its id.
func (c *Connections) key(ev *event.Event, id string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(ev.Device)
	h.WriteByte(0)
	a := ev.DeviceIP.As16()
	h.Write(a[:])
	h.WriteString(id)
	k := h.Sum64()
	if k == 0 {
		k = 1 // 0 marks a free slot of the ring
	}
	return k
}

// Len returns how many open connections are remembered.
func (c *Connections) Len() int { return len(c.open) }
