package rules

import "net/netip"

// Flow is one observed communication, from initiator to responder.
type Flow struct {
	Src, Dst  netip.Addr
	Transport string // tcp, udp, icmp, …; "" when unknown
	Port      uint16 // destination port; 0 when unknown
	// App is the application protocol a DPI engine identified ("modbus"),
	// "" when unknown.
	App string
	// FunctionCode is the protocol function (a Modbus function code, a CIP
	// service, …), -1 when unknown; Function is its name, "" when unknown.
	FunctionCode int
	Function     string
}

// Reason says why the declared policy does or does not allow a flow.
type Reason string

// Reasons. An empty Reason means a conduit rule allows the flow.
const (
	ReasonNone           Reason = ""
	IntraZone            Reason = "intra_zone"
	UnknownZone          Reason = "unknown_zone"
	NoConduit            Reason = "no_conduit"
	NotPermitted         Reason = "not_permitted"
	WrongDirection       Reason = "wrong_direction"
	FunctionNotPermitted Reason = "function_not_permitted"
	AirGap               Reason = "air_gap"
	DiodeReverse         Reason = "diode_reverse"
)

// Decision is what the declared policy says of a flow.
type Decision struct {
	Allowed            bool
	Reason             Reason
	SrcZone, DstZone   *Zone
	SrcAsset, DstAsset *Asset
	// Conduit is the conduit the flow crosses (or would cross), nil when no
	// conduit joins the zones. Rule is the rule that allowed it, or the
	// rule it came closest to (wrong direction, function not allowed).
	Conduit *Conduit
	Rule    *Rule
}

// Evaluate judges a flow against the declared zones and conduits. It never
// allocates. Air gaps come first (anything between a zone with no conduits
// and any other address), then unknown zones, traffic within one zone,
// reverse traffic through a diode, and finally the conduit rules.
func (m *Model) Evaluate(f Flow) Decision {
	var d Decision
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	d.SrcAsset, d.DstAsset = m.assetByAddr[src], m.assetByAddr[dst]
	d.SrcZone, d.DstZone = m.zoneOf(src, d.SrcAsset), m.zoneOf(dst, d.DstAsset)
	sz, dz := d.SrcZone, d.DstZone
	switch {
	case sz != dz && (sz != nil && sz.AirGapped() || dz != nil && dz.AirGapped()):
		d.Reason = AirGap
		return d
	case sz == nil || dz == nil:
		d.Reason = UnknownZone
		return d
	case sz == dz:
		d.Allowed, d.Reason = true, IntraZone
		return d
	}
	for _, dg := range m.diodes {
		if dg.RXZone == sz && dg.TXZone == dz && (dst == dg.TX || src == dg.RX) {
			d.Reason, d.Conduit, d.Rule = DiodeReverse, dg.Conduit, dg.Rule
			return d
		}
	}
	conduits := m.between[sz.Index*len(m.zones)+dz.Index]
	if len(conduits) == 0 {
		d.Reason = NoConduit
		return d
	}
	d.Conduit = conduits[0]
	var fnDenied, reverse *Rule
	for _, c := range conduits {
		for _, r := range c.Rules {
			if !r.matchesService(&f) {
				continue
			}
			switch {
			case !r.allowsDirection(sz, dz):
				if reverse == nil {
					reverse = r
				}
			case r.Functions.Allows(f.FunctionCode, f.Function):
				d.Allowed, d.Conduit, d.Rule = true, c, r
				return d
			case fnDenied == nil:
				fnDenied = r
			}
		}
	}
	switch {
	case fnDenied != nil:
		d.Reason, d.Conduit, d.Rule = FunctionNotPermitted, fnDenied.Conduit, fnDenied
	case reverse != nil && reverse.Diode:
		d.Reason, d.Conduit, d.Rule = DiodeReverse, reverse.Conduit, reverse
	case reverse != nil:
		d.Reason, d.Conduit, d.Rule = WrongDirection, reverse.Conduit, reverse
	default:
		d.Reason = NotPermitted
	}
	return d
}

func (m *Model) zoneOf(a netip.Addr, as *Asset) *Zone {
	if as != nil {
		return as.Zone
	}
	return m.addrs.lookup(a)
}

// matchesService reports whether a flow's transport, port and application
// protocol fit the rule, direction and functions aside. What the flow does
// not say is not held against it; an application protocol otsiem knows and
// the rule does not name is.
func (r *Rule) matchesService(f *Flow) bool {
	if f.Transport != "" && r.Transport != "any" && f.Transport != r.Transport {
		return false
	}
	if f.App != "" && f.App != r.App {
		if p := protocolByName[f.App]; p != nil && p.name != r.App {
			return false
		}
	}
	switch {
	case f.Port != 0:
		return len(r.Ports) == 0 || r.matchesPort(f.Port)
	case len(r.Ports) == 0:
		return true
	default:
		// No port: only a DPI identification of the rule's own protocol fits.
		return f.App != "" && (f.App == r.App || protocolByName[f.App] != nil && protocolByName[f.App].name == r.App)
	}
}
