package rules

import (
	"cmp"
	"net/netip"
	"slices"
)

// addrTable maps addresses to zones by longest prefix. The zone networks are
// flattened into sorted, disjoint address spans at compile time, so a lookup
// is one binary search and never allocates.
type addrTable struct {
	v4 []span4
	v6 []span6
}

type span4 struct {
	lo, hi uint32
	zone   *Zone
}

type span6 struct {
	lo, hi u128
	zone   *Zone
}

// u128 is an IPv6 address as two 64-bit halves.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) add1() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

func (a u128) sub1() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func addrU128(a netip.Addr) u128 {
	b := a.As16()
	return u128{be64(b[:8]), be64(b[8:])}
}

func be64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// prefixRange returns the first and last address of a prefix, in a space
// where IPv4 addresses are 0..2^32-1.
func prefixRange(p netip.Prefix) (lo, hi u128) {
	p = p.Masked()
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		size := uint64(1) << (32 - p.Bits())
		return u128{0, v}, u128{0, v + size - 1}
	}
	lo = addrU128(a)
	bits := p.Bits()
	hi = lo
	switch {
	case bits == 0:
		hi = u128{^uint64(0), ^uint64(0)}
	case bits <= 64:
		hi.hi |= ^uint64(0) >> bits
		hi.lo = ^uint64(0)
	default:
		hi.lo |= ^uint64(0) >> (bits - 64)
	}
	return lo, hi
}

type zonePrefix struct {
	p      netip.Prefix
	lo, hi u128
	zone   *Zone
}

// buildSpans flattens prefixes of one address family into disjoint spans in
// which the most specific prefix wins. CIDR prefixes either nest or are
// disjoint, so one sweep with a stack of enclosing prefixes does it.
func buildSpans(ps []zonePrefix) []span6 {
	slices.SortFunc(ps, func(a, b zonePrefix) int {
		if c := a.lo.cmp(b.lo); c != 0 {
			return c
		}
		return b.hi.cmp(a.hi) // wider first
	})
	var out []span6
	emit := func(lo, hi u128, z *Zone) {
		if n := len(out); n > 0 && out[n-1].zone == z && out[n-1].hi.add1() == lo {
			out[n-1].hi = hi
			return
		}
		out = append(out, span6{lo, hi, z})
	}
	var stack []zonePrefix
	var pos u128  // first address not yet emitted
	done := false // pos passed the end of the address space
	closeTop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done && pos.cmp(top.hi) <= 0 {
			emit(pos, top.hi, top.zone)
			pos = top.hi.add1()
			done = pos == (u128{})
		}
	}
	for _, p := range ps {
		for len(stack) > 0 && stack[len(stack)-1].hi.cmp(p.lo) < 0 {
			closeTop()
		}
		if len(stack) > 0 && !done && pos.cmp(p.lo) < 0 {
			emit(pos, p.lo.sub1(), stack[len(stack)-1].zone)
		}
		pos, done = p.lo, false
		stack = append(stack, p)
	}
	for len(stack) > 0 {
		closeTop()
	}
	return out
}

func newAddrTable(ps []zonePrefix) addrTable {
	var v4, v6 []zonePrefix
	for _, p := range ps {
		if p.p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	var t addrTable
	for _, s := range buildSpans(v4) {
		t.v4 = append(t.v4, span4{uint32(s.lo.lo), uint32(s.hi.lo), s.zone})
	}
	t.v6 = buildSpans(v6)
	return t
}

func (t *addrTable) lookup(a netip.Addr) *Zone {
	if a.Is4() {
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		lo, hi := 0, len(t.v4)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if t.v4[m].hi < v {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(t.v4) && t.v4[lo].lo <= v {
			return t.v4[lo].zone
		}
		return nil
	}
	if !a.IsValid() {
		return nil
	}
	v := addrU128(a)
	lo, hi := 0, len(t.v6)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.v6[m].hi.cmp(v) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.v6) && t.v6[lo].lo.cmp(v) <= 0 {
		return t.v6[lo].zone
	}
	return nil
}
