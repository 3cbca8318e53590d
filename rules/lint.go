package rules

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
