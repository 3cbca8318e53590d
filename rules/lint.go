package rules

import (
	"fmt"
	"net/netip"
	"strings"
)

// lint adds warnings in IEC 62443 terms: designs that load but that an
// assessor would question.
func lint(m *Model, d *diags) {
	for _, z := range m.zones {
		if len(z.Networks) == 0 {
			d.warnf(z.Pos, "no-networks", "zone %q has no networks: no live address maps to it", z.ID)
		}
		if z.SLT < 0 {
			d.warnf(z.Pos, "no-slt", "zone %q has no security_level_target", z.ID)
		}
		if z.Safety() && len(z.Conduits) > 0 {
			d.warnf(z.Pos, "safety-conduit", "safety zone %q is reachable through conduit(s) %s; IEC 62443 expects SIS isolated", z.ID, conduitIDs(z.Conduits))
		}
	}
	for _, c := range m.conduits {
		for _, z := range c.Zones {
			if c.SL >= 0 && z.SLT > c.SL {
				d.warnf(c.Pos, "sl-below-target", "conduit %q has security level SL %d, below zone %q's target SL %d", c.ID, c.SL, z.ID, z.SLT)
			}
			if z.SLT >= 3 && !c.Inspected() {
				d.warnf(c.Pos, "no-inspection", "conduit %q reaches zone %q (SL-T %d) without protocol-inspection controls", c.ID, z.ID, z.SLT)
			}
		}
		for _, a := range c.Zones {
			for _, b := range c.Zones {
				if a.Purdue.Lo >= 4 && b.Purdue.Hi >= 0 && b.Purdue.Hi <= 2 {
					d.warnf(c.Pos, "purdue-skip", "conduit %q joins Purdue level %s (%s) straight to level %s (%s), skipping the DMZ",
						c.ID, a.Purdue, a.ID, b.Purdue, b.ID)
				}
			}
		}
	}
	for _, dv := range m.devices {
		if dv.Role == RoleSensor && len(dv.Zones) == 0 {
			d.warnf(dv.Pos, "sensor-zones", "sensor %q names no zone it watches", dv.Hostname)
		}
	}
	for _, c := range m.conduits {
		for _, r := range c.Rules {
			switch cat := r.Functions.cat; {
			case r.Functions.All() || cat == nil || cat.decoded:
			case len(cat.byName) == 0:
				d.warnf(r.Pos, "function-unverifiable", "conduit %q, %s: otsiem knows no functions of %s, so every %s transaction under this rule is function_unverified (connection records are judged on port alone)",
					c.ID, r.Name, r.Name, r.Name)
			default:
				d.warnf(r.Pos, "function-unverifiable", "conduit %q, %s: no decoder of otsiem identifies %s functions yet, so every %s transaction under this rule is function_unverified",
					c.ID, r.Name, r.App, r.App)
			}
			if r.Diode && m.diodeOf(r) == nil {
				d.warnf(r.Pos, "diode-undeclared", "conduit %q, %s: no diode in diodes[] implements this rule, so otsiem cannot tell the diode's own tx → rx pair from a session around it",
					c.ID, r.Name)
			}
		}
	}
	lintCollectionPath(m, d)
}

// lintCollectionPath warns about declared devices (and diode sides) whose
// syslog cannot reach a collector through the declared conduits: their
// logs cross a zone boundary no rule documents.
func lintCollectionPath(m *Model, d *diags) {
	collectors := m.Collectors()
	if len(collectors) == 0 {
		if len(m.devices) > 0 || len(m.diodes) > 0 {
			d.warnf(m.devices0Pos(), "no-collector", "no collector is declared (infrastructure: role collector): otsiem cannot tell the devices' syslog to it from the plant's traffic")
		}
		return
	}
	reaches := func(a netip.Addr) bool {
		for _, s := range collectors {
			for _, ca := range s.Addresses {
				for _, p := range s.Ports {
					if m.Evaluate(Flow{Src: a, Dst: ca, Transport: p.Transport, Port: p.Lo, FunctionCode: -1}).Allowed {
						return true
					}
				}
			}
		}
		return false
	}
	check := func(pos Pos, what string, addrs ...netip.Addr) {
		for _, a := range addrs {
			if a.IsValid() && !reaches(a) {
				zone := "no zone"
				if z := m.ZoneOf(a); z != nil {
					zone = "zone " + z.ID
				}
				d.warnf(pos, "no-collector-path", "%s (%s, %s) has no path to a collector: no conduit rule carries its syslog to %s",
					what, a, zone, serviceNames(collectors))
			}
		}
	}
	for _, dv := range m.devices {
		check(dv.Pos, fmt.Sprintf("device %q", dv.Hostname), dv.Addresses...)
	}
	for _, dg := range m.diodes {
		check(dg.Pos, fmt.Sprintf("diode %q tx", dg.ID), dg.TX)
		check(dg.Pos, fmt.Sprintf("diode %q rx", dg.ID), dg.RX)
	}
}

func serviceNames(ss []*Service) string {
	var parts []string
	for _, s := range ss {
		for _, a := range s.Addresses {
			parts = append(parts, s.Name+" "+a.String())
		}
	}
	return strings.Join(parts, ", ")
}

// devices0Pos is where a model-wide warning about devices points: the
// first device, else the first diode.
func (m *Model) devices0Pos() Pos {
	if len(m.devices) > 0 {
		return m.devices[0].Pos
	}
	return m.diodes[0].Pos
}

func conduitIDs(cs []*Conduit) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += c.ID
	}
	return s
}
