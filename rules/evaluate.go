package rules

import "net/netip"

// Flow is one observed communication, from initiator to responder.
//
// How a record says what function it performs (see Model.Evaluate):
//   - FunctionCode >= 0: the function by code (a Modbus function code, a
//     CIP service, …). For CIP's object-specific services the name must
//     say which service the code is.
//   - else Function != "": the function by name, matched to the protocol's
//     catalogue ignoring case and punctuation; a name the catalogue cannot
//     map is an unknown function.
//   - else Transaction: the record is one application-layer operation (a
//     DPI transaction) that names no function: an unknown function. A
//     DPI engine's identification of a session's protocol alone
//     (FortiGate application control's "OPC.UA", a PAN-OS App-ID base) is
//     no operation: decoders give it kind flow, not dpi.
//   - else the record names no function at all (a connection or flow
//     record): there is no function to judge, and the flow is judged on
//     transport, port and application.
//
// Under a rule that restricts functions an unknown function is never
// allowed (reason function_unverified); neither is an application a DPI
// engine named in words otsiem cannot map to a protocol (App neither in
// the catalogue nor the rule's own protocol name, e.g. a vendor App-ID of
// one function).
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
	// Transaction says that the record is one application-layer request
	// or response, so it performs a function even when it names none.
	Transaction bool
	// Reporter is the device that reported the flow, nil when unknown. Of
	// several conduits between two zones, the one it enforces is named,
	// with its own rules' reason, when no rule allows the flow; a sensor
	// watching one zone taps the segment where link-local traffic was seen.
	Reporter *Device
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
	// FunctionUnverified: a rule restricts the protocol's functions and
	// the flow performs one otsiem cannot identify (fail closed).
	FunctionUnverified Reason = "function_unverified"
	AirGap             Reason = "air_gap"
	DiodeReverse       Reason = "diode_reverse"
	// DiodeBypass: a rule allows a protocol only through a data diode, and
	// this session of it between the zones is not the diode's own TX → RX
	// pair: it went around the diode, two-way.
	DiodeBypass Reason = "diode_bypass"
	// Monitoring: monitoring traffic (a declared device's syslog, diode
	// health or time sync to a declared collector or infrastructure
	// service) that no conduit rule carries.
	Monitoring Reason = "monitoring"
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
	// Monitoring: the flow is otsiem's own collection path or a declared
	// device's infrastructure traffic (see Service).
	Monitoring bool
	// Local: an endpoint is a broadcast, multicast, link-local or
	// unspecified address, so the flow stayed on one segment and was
	// judged in that segment's zone.
	Local bool
	// Writes: the flow performs a function its protocol's catalogue knows
	// changes state (any function but the reads).
	Writes bool
}

// Evaluate judges a flow against the declared zones and conduits. It never
// allocates. In order:
//  1. link-local traffic (broadcast, multicast, link-local, unspecified
//     addresses) stays on its segment: such an endpoint is in the zone the
//     reporting sensor taps (when it watches one), else of the other
//     endpoint;
//  2. air gaps (anything between a zone with no conduits and any other
//     address), unknown zones, traffic within one zone;
//  3. monitoring traffic (a declared device to a declared collector or
//     infrastructure service): the conduit rules, else reason monitoring;
//  4. reverse traffic through a diode;
//  5. the conduit rules: function_not_permitted, function_unverified,
//     diode_bypass, wrong_direction (diode_reverse for a diode rule),
//     not_permitted.
func (m *Model) Evaluate(f Flow) Decision {
	d := m.evaluate(&f)
	if !d.Allowed && f.App != "" {
		// Only what the policy forbids needs its consequence weighed.
		if p := protocolByName[f.App]; p != nil && p.functions != nil {
			d.Writes = p.functions.writes(p.functions.identify(&f))
		}
	}
	return d
}

func (m *Model) evaluate(f *Flow) Decision {
	var d Decision
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	d.SrcAsset, d.DstAsset = m.assetByAddr[src], m.assetByAddr[dst]
	d.SrcZone, d.DstZone = m.zoneOf(src, d.SrcAsset), m.zoneOf(dst, d.DstAsset)
	if localScope(src) || localScope(dst) {
		m.segment(&d, f, src, dst)
	}
	sz, dz := d.SrcZone, d.DstZone
	switch {
	case sz != dz && (sz != nil && sz.AirGapped() || dz != nil && dz.AirGapped()):
		d.Reason = AirGap
		return d
	case sz == nil && dz == nil && d.Local:
		d.Allowed, d.Reason = true, IntraZone // nothing says which segment: it stayed on it
		return d
	case sz == nil || dz == nil:
		d.Reason = UnknownZone
		return d
	case sz == dz:
		d.Allowed, d.Reason = true, IntraZone
		return d
	}
	d.Monitoring = len(m.services) > 0 && m.monitoring(f, src, dst)
	if !d.Monitoring {
		for _, dg := range m.diodes {
			if dg.RXZone == sz && dg.TXZone == dz && (dst == dg.TX || src == dg.RX) {
				d.Reason, d.Conduit, d.Rule = DiodeReverse, dg.Conduit, dg.Rule
				return d
			}
		}
	}
	conduits := m.between[sz.Index*len(m.zones)+dz.Index]
	if len(conduits) == 0 {
		d.Reason = pickReason(d.Monitoring, Monitoring, NoConduit)
		return d
	}
	// The reporter's own conduits first: of two conduits between the same
	// zones, the one whose firewall saw the flow is the one it crossed. A
	// rule of any conduit between the zones allows the flow; when none
	// does, the reporter's conduits alone say why (the firewall that passed
	// it is on the path, whatever another conduit's rules say).
	var c, own candidates
	for pass := 0; pass < 2; pass++ {
		for _, cd := range conduits {
			if (f.Reporter != nil && f.Reporter.OnConduit(cd)) != (pass == 0) {
				continue
			}
			if c.conduit == nil {
				c.conduit = cd
			}
			for _, r := range cd.Rules {
				if r := m.judgeRule(&c, r, f, sz, dz, src, dst); r != nil {
					d.Allowed, d.Conduit, d.Rule = true, cd, r
					return d
				}
			}
		}
		if pass == 0 {
			own = c
		}
	}
	if own.conduit != nil {
		c = own
	}
	d.Conduit = c.conduit
	switch {
	case d.Monitoring:
		d.Reason = Monitoring
		if r := c.closest(); r != nil {
			d.Conduit, d.Rule = r.Conduit, r
		}
	case c.fnDenied != nil:
		d.Reason, d.Conduit, d.Rule = FunctionNotPermitted, c.fnDenied.Conduit, c.fnDenied
	case c.fnUnknown != nil:
		d.Reason, d.Conduit, d.Rule = FunctionUnverified, c.fnUnknown.Conduit, c.fnUnknown
	case c.bypass != nil:
		d.Reason, d.Conduit, d.Rule = DiodeBypass, c.bypass.Conduit, c.bypass
	case c.reverse != nil && c.reverse.Diode:
		d.Reason, d.Conduit, d.Rule = DiodeReverse, c.reverse.Conduit, c.reverse
	case c.reverse != nil:
		d.Reason, d.Conduit, d.Rule = WrongDirection, c.reverse.Conduit, c.reverse
	default:
		d.Reason = NotPermitted
	}
	return d
}

// candidates are the rules a flow came closest to, the first of each kind.
type candidates struct {
	conduit                              *Conduit // the first conduit tried
	fnDenied, fnUnknown, bypass, reverse *Rule
}

func (c *candidates) closest() *Rule {
	for _, r := range [...]*Rule{c.fnDenied, c.fnUnknown, c.bypass, c.reverse} {
		if r != nil {
			return r
		}
	}
	return nil
}

// judgeRule returns r when it allows the flow, and otherwise notes how
// close the flow came to it.
func (m *Model) judgeRule(c *candidates, r *Rule, f *Flow, sz, dz *Zone, src, dst netip.Addr) *Rule {
	if !r.matchesService(f) {
		return nil
	}
	if !r.allowsDirection(sz, dz) {
		c.reverse = first(c.reverse, r)
		return nil
	}
	if r.Diode {
		if dg := m.diodeOf(r); dg != nil && (src != dg.TX || dst != dg.RX) {
			c.bypass = first(c.bypass, r)
			return nil
		}
	}
	if r.Functions.All() {
		return r
	}
	fv := r.Functions.judge(r.Functions.cat.identify(f))
	if fv == functionAllowed && f.App != "" && protocolByName[f.App] == nil && !sameName(f.App, r.App) {
		fv = functionUnknown // a DPI name otsiem cannot map, under a function restriction
	}
	switch fv {
	case functionAllowed:
		return r
	case functionDenied:
		c.fnDenied = first(c.fnDenied, r)
	default:
		c.fnUnknown = first(c.fnUnknown, r)
	}
	return nil
}

func first(have, r *Rule) *Rule {
	if have != nil {
		return have
	}
	return r
}

func pickReason(cond bool, yes, no Reason) Reason {
	if cond {
		return yes
	}
	return no
}

func (m *Model) zoneOf(a netip.Addr, as *Asset) *Zone {
	if as != nil {
		return as.Zone
	}
	return m.addrs.lookup(a)
}

// localScope reports whether an address never leaves its segment: the
// limited broadcast, multicast, link-local and unspecified addresses
// (RFC 919, RFC 5771, RFC 3927, RFC 4291).
func localScope(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		return b[0] >= 224 && b[0] <= 239 || b[0] == 169 && b[1] == 254 ||
			b == [4]byte{} || b == [4]byte{255, 255, 255, 255}
	}
	b := a.As16()
	return b[0] == 0xff || b[0] == 0xfe && b[1]&0xc0 == 0x80 || a.IsUnspecified()
}

// segment puts the link-local endpoints of a flow in the zone of the
// segment it was seen on: the zone a reporting sensor taps when it watches
// one zone (a SIS controller's broadcast on the BPCS sensor's segment means
// the controller is on that segment: an air gap breach), else the other
// endpoint's zone, else, when that is link-local too or in no zone, the
// zone a reporting device watches.
func (m *Model) segment(d *Decision, f *Flow, src, dst netip.Addr) {
	d.Local = true
	var z *Zone
	tapped := f.Reporter != nil && len(f.Reporter.Zones) == 1
	switch {
	case tapped && f.Reporter.Role == RoleSensor:
		z = f.Reporter.Zones[0]
	case !localScope(src):
		z = d.SrcZone
	case !localScope(dst):
		z = d.DstZone
	}
	if z == nil && tapped {
		z = f.Reporter.Zones[0]
	}
	if localScope(src) {
		d.SrcZone = z
	}
	if localScope(dst) {
		d.DstZone = z
	}
}

// monitoring reports whether a flow runs from a declared device (or a
// diode's side) to a declared collector or infrastructure service on one
// of its ports.
func (m *Model) monitoring(f *Flow, src, dst netip.Addr) bool {
	for _, s := range m.services { // a handful: cheaper than hashing dst
		for _, a := range s.Addresses {
			if a == dst && s.serves(f) && m.reporterAddr[src] {
				return true
			}
		}
	}
	return false
}

// serves reports whether a flow reaches one of the service's ports; a flow
// without a port matches on its application protocol.
func (s *Service) serves(f *Flow) bool {
	if f.Port == 0 {
		return f.App != "" && protocolByName[f.App] != nil && protocolByName[f.App].name == s.App
	}
	for _, p := range s.Ports {
		if (f.Transport == "" || p.Transport == "any" || f.Transport == p.Transport) && f.Port >= p.Lo && f.Port <= p.Hi {
			return true
		}
	}
	return false
}

// diodeOf returns the declared diode implementing a diode rule, or nil.
func (m *Model) diodeOf(r *Rule) *Diode {
	for _, dg := range m.diodes {
		if dg.Rule == r {
			return dg
		}
	}
	return nil
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
