package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// compiler turns a checked document into a Model, reporting every problem.
type compiler struct {
	doc *document
	d   *diags
	m   *Model
}

func compile(doc *document, d *diags) *Model {
	c := &compiler{doc: doc, d: d, m: &Model{
		Facility:       doc.facility.s,
		Site:           doc.site.s,
		Standard:       doc.standard.s,
		AssessmentDate: doc.assessmentDate.s,
		zoneByID:       map[string]*Zone{},
		conduitByID:    map[string]*Conduit{},
		deviceByHost:   map[string]*Device{},
		deviceByAddr:   map[netip.Addr]*Device{},
		diodeByID:      map[string]*Diode{},
		assetByAddr:    map[netip.Addr]*Asset{},
		reporterAddr:   map[netip.Addr]bool{},
	}}
	if c.m.Site == "" {
		c.m.Site = siteName(c.m.Facility)
	}
	c.zones()
	c.conduits()
	c.allowedConduits()
	prefixes := c.networks()
	c.m.addrs = newAddrTable(prefixes)
	c.assets()
	c.devices()
	c.diodes()
	c.services()
	n := len(c.m.zones)
	c.m.between = make([][]*Conduit, n*n)
	for _, cd := range c.m.conduits {
		for _, a := range cd.Zones {
			for _, b := range cd.Zones {
				if a != b && !slices.Contains(c.m.between[a.Index*n+b.Index], cd) {
					c.m.between[a.Index*n+b.Index] = append(c.m.between[a.Index*n+b.Index], cd)
				}
			}
		}
	}
	lint(c.m, d)
	return c.m
}

// siteName derives a short site label from the facility name.
func siteName(facility string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(facility) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		return "default"
	}
	return s
}

func (c *compiler) zones() {
	for _, zd := range c.doc.zones {
		if zd.id.s == "" {
			continue
		}
		if prev := c.m.zoneByID[zd.id.s]; prev != nil {
			c.d.errorf(zd.id.pos, "duplicate-id", "zone %q is defined twice (first at %s)", zd.id.s, prev.Pos)
			continue
		}
		z := &Zone{
			ID: zd.id.s, Name: zd.name.s, Index: len(c.m.zones), Purdue: Level{zd.purdue.lo, zd.purdue.hi}, SLT: zd.slt,
			Criticality: zd.criticality, AssetNotes: zd.assets, Requirements: zd.requirements, Pos: zd.id.pos,
		}
		if !zd.purdueSet {
			z.Purdue = Level{-1, -1}
		}
		c.m.zones = append(c.m.zones, z)
		c.m.zoneByID[z.ID] = z
	}
}

// zoneRef resolves a zone reference: a full id, or a short one such as "Z2"
// for "Z2-BPCS" when exactly one zone id starts with it.
func (c *compiler) zoneRef(t text, what string) *Zone {
	if z := c.m.zoneByID[t.s]; z != nil {
		return z
	}
	var found []*Zone
	for _, z := range c.m.zones {
		if strings.HasPrefix(strings.ToUpper(z.ID), strings.ToUpper(t.s)+"-") || strings.EqualFold(z.ID, t.s) {
			found = append(found, z)
		}
	}
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		c.d.errorf(t.pos, "unknown-zone", "%s: unknown zone %q", what, t.s)
	default:
		c.d.errorf(t.pos, "ambiguous-zone", "%s: zone %q is ambiguous (%s, %s)", what, t.s, found[0].ID, found[1].ID)
	}
	return nil
}

func (c *compiler) conduits() {
	for _, cd := range c.doc.conduits {
		if cd.id.s == "" {
			continue
		}
		if prev := c.m.conduitByID[cd.id.s]; prev != nil {
			c.d.errorf(cd.id.pos, "duplicate-id", "conduit %q is defined twice (first at %s)", cd.id.s, prev.Pos)
			continue
		}
		cn := &Conduit{ID: cd.id.s, Name: cd.name.s, SL: cd.sl, Controls: cd.controls, Pos: cd.id.pos}
		for _, ref := range cd.connects {
			z := c.zoneRef(ref, fmt.Sprintf("conduit %q", cd.id.s))
			if z == nil {
				continue
			}
			if slices.Contains(cn.Zones, z) {
				c.d.errorf(ref.pos, "duplicate-zone", "conduit %q lists zone %q twice", cn.ID, z.ID)
				continue
			}
			cn.Zones = append(cn.Zones, z)
		}
		if len(cd.connects) < 2 {
			c.d.errorf(cd.id.pos, "connects", "conduit %q connects %d zone(s); a conduit joins at least two", cn.ID, len(cd.connects))
		}
		for i, rd := range cd.rules {
			if r := c.rule(cn, rd); r != nil {
				r.Index = i
				cn.Rules = append(cn.Rules, r)
			}
		}
		c.m.conduits = append(c.m.conduits, cn)
		c.m.conduitByID[cn.ID] = cn
		for _, z := range cn.Zones {
			z.Conduits = append(z.Conduits, cn)
		}
	}
}

func (c *compiler) rule(cn *Conduit, rd *ruleDoc) *Rule {
	r := &Rule{Conduit: cn, Name: rd.protocol.s, Direction: rd.direction.s, SecurityMode: rd.securityMode, Pos: rd.pos}
	proto := lookupProtocol(rd.protocol.s)
	var cat *functionCatalog
	if proto != nil {
		r.App, r.Transport, cat = proto.name, proto.transport, proto.functions
		for _, p := range proto.ports {
			r.Ports = append(r.Ports, PortRange{p, p})
		}
	} else if rd.protocol.s != "" {
		if rd.transport.s == "" || len(rd.ports) == 0 {
			c.d.errorf(rd.protocol.pos, "unknown-protocol", "unknown protocol %q: give its transport and ports explicitly", rd.protocol.s)
			return nil
		}
		r.App = strings.ToLower(rd.protocol.s)
	}
	if rd.transport.s != "" {
		switch t := strings.ToLower(rd.transport.s); t {
		case "tcp", "udp", "sctp", "icmp", "icmp6", "any":
			r.Transport = t
		default:
			c.d.errorf(rd.transport.pos, "value", "transport %q: want tcp, udp, sctp, icmp, icmp6 or any", rd.transport.s)
		}
	}
	if len(rd.ports) > 0 {
		r.Ports = nil
		for _, t := range rd.ports {
			if p, ok := parsePortRange(t.s); ok {
				r.Ports = append(r.Ports, p)
			} else {
				c.d.errorf(t.pos, "value", "port %q: want a port 1-65535 or a range such as 1024-2047", t.s)
			}
		}
	}
	if len(r.Ports) == 0 && r.Transport != "icmp" && r.Transport != "icmp6" && r.Transport != "any" {
		c.d.errorf(rd.pos, "missing", "rule %s has no port", rd.protocol.s)
	}

	var dir direction
	if rd.direction.s != "" {
		var err error
		if dir, err = parseDirection(rd.direction.s, cat != nil); err != nil {
			c.d.errorf(rd.direction.pos, "direction", "conduit %q: %v", cn.ID, err)
			return nil
		}
	}
	// The structured form wins where given.
	if rd.from.s != "" || rd.to.s != "" {
		dir.from, dir.to, dir.both = rd.from.s, rd.to.s, false
		if rd.from.s == "" || rd.to.s == "" {
			c.d.errorf(rd.pos, "direction", "conduit %q: a rule needs both from and to, or neither", cn.ID)
		}
	}
	if rd.bidirectional {
		dir.from, dir.to, dir.both = "", "", true
	}
	if rd.diodeS {
		dir.diode = rd.diode
	}
	if dir.from != "" {
		pos := rd.direction.pos
		if rd.from.s != "" {
			pos = rd.from.pos
		}
		r.From = c.zoneRef(text{dir.from, pos}, fmt.Sprintf("conduit %q", cn.ID))
		r.To = c.zoneRef(text{dir.to, pos}, fmt.Sprintf("conduit %q", cn.ID))
		for _, z := range []*Zone{r.From, r.To} {
			if z != nil && !slices.Contains(cn.Zones, z) {
				c.d.errorf(pos, "direction", "conduit %q: rule %s names zone %q, which the conduit does not connect", cn.ID, rd.protocol.s, z.ID)
			}
		}
		if r.From != nil && r.From == r.To {
			c.d.errorf(pos, "direction", "conduit %q: rule %s goes from a zone to itself", cn.ID, rd.protocol.s)
		}
		if r.From == nil || r.To == nil || dir.both {
			r.From, r.To = nil, nil
		}
	}
	if rd.direction.s == "" && rd.from.s == "" && !rd.bidirectional {
		c.d.warnf(rd.pos, "no-direction", "conduit %q, %s: no direction given, so either zone may initiate", cn.ID, rd.protocol.s)
	}
	r.Diode = dir.diode
	if r.Diode && r.From == nil {
		c.d.errorf(rd.pos, "direction", "conduit %q: diode rule %s needs a direction", cn.ID, rd.protocol.s)
	}
	r.Notes = dir.notes
	for _, n := range dir.notes {
		c.d.notef(rd.direction.pos, "note", "conduit %q, %s: %q describes purpose and is not checked from logs", cn.ID, rd.protocol.s, n)
	}

	// Functions: the structured list wins over the free text.
	switch {
	case len(rd.functions) > 0:
		if cat == nil {
			for _, t := range rd.functions {
				if !readOnlyRE.MatchString(strings.ToLower(t.s)) {
					c.d.errorf(t.pos, "functions", "protocol %q has no functions otsiem knows: only read-only can be declared (and is judged fail closed)", rd.protocol.s)
					return r
				}
			}
			cat = uncatalogued()
		}
		var names []string
		var codes []int
		for _, t := range rd.functions {
			if strings.EqualFold(t.s, "read-only") || strings.EqualFold(t.s, "read only") {
				names = append(names, cat.readOnly...)
				codes = append(codes, cat.readCode...)
			} else if cs, err := parseCodes(t.s); err == nil && !cat.named {
				codes = append(codes, cs...)
			} else if v, ok := cat.byName[normName(t.s)]; ok {
				if cat.named || v < 0 {
					names = append(names, normName(t.s))
				} else {
					codes = append(codes, v)
				}
			} else {
				c.d.errorf(t.pos, "functions", "%s has no function %q", r.App, t.s)
			}
		}
		r.Functions = newFunctionSet(cat, names, codes)
	case dir.readOnly || len(dir.codes) > 0:
		if cat == nil {
			cat = uncatalogued() // read only: parseDirection refused codes
		}
		var fs FunctionSet
		if dir.readOnly {
			fs = newFunctionSet(cat, cat.readOnly, cat.readCode)
			fs.label = "read-only"
		}
		if len(dir.codes) > 0 {
			if cat.named {
				c.d.errorf(rd.direction.pos, "functions", "%s functions are named, not numbered", r.App)
				return r
			}
			only := newFunctionSet(cat, nil, dir.codes)
			if dir.readOnly {
				// "read only, FC 3/4 only": both restrictions hold.
				for i := range only.codes {
					only.codes[i] &= fs.codes[i]
				}
				if only.codes == [4]uint64{} {
					c.d.errorf(rd.direction.pos, "functions", "conduit %q: function codes %v are not read-only for %s", cn.ID, dir.codes, r.App)
				}
			}
			fs = only
		}
		r.Functions = fs
	}
	return r
}

// uncatalogued is the catalogue of a protocol whose functions otsiem does
// not know (HTTPS, or a protocol outside the catalogue such as PROFINET),
// for a rule that restricts them ("read only"): it identifies no function,
// so every transaction of the protocol under the rule is
// function_unverified (fail closed) while records that name no function
// (connection logs) are judged on transport and port; validate warns
// (function-unverifiable).
func uncatalogued() *functionCatalog {
	return &functionCatalog{byName: map[string]int{}, keys: map[string]string{}, named: true}
}

// newFunctionSet builds a limited set from names and codes of a catalogue.
func newFunctionSet(cat *functionCatalog, names []string, codes []int) FunctionSet {
	fs := FunctionSet{limited: true, cat: cat}
	for _, n := range names {
		v := cat.byName[normName(n)]
		if cat.named || v < 0 {
			if !slices.Contains(fs.names, normName(n)) {
				fs.names = append(fs.names, normName(n))
			}
			continue
		}
		codes = append(codes, v)
	}
	for _, v := range codes {
		if v >= 0 && v < 256 {
			fs.codes[v>>6] |= 1 << (v & 63)
		}
	}
	return fs
}

// addr reads an IP address (IPv4-mapped IPv6 as IPv4), reporting text
// that is none as "<owner>: "x" is not an IP address".
func (c *compiler) addr(t text, owner string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(t.s)
	if err != nil || a.Zone() != "" {
		c.d.errorf(t.pos, "value", "%s: %q is not an IP address", owner, t.s)
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func parsePortRange(s string) (PortRange, bool) {
	lo, hi, isRange := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	a, err := strconv.Atoi(lo)
	b := a
	if err == nil && isRange {
		b, err = strconv.Atoi(hi)
	}
	if err != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, false
	}
	return PortRange{uint16(a), uint16(b)}, true
}

// allowedConduits checks each zone's allowed_conduits against the conduits
// that connect it; when a zone does not list them, they are taken from the
// conduits.
func (c *compiler) allowedConduits() {
	for _, zd := range c.doc.zones {
		z := c.m.zoneByID[zd.id.s]
		if z == nil || z.Pos != zd.id.pos || !zd.allowedGiven {
			continue
		}
		listed := map[*Conduit]bool{}
		for _, ref := range zd.allowedConduits {
			cn := c.m.conduitByID[ref.s]
			switch {
			case cn == nil:
				c.d.errorf(ref.pos, "unknown-conduit", "zone %q: allowed_conduits names unknown conduit %q", z.ID, ref.s)
			case !slices.Contains(cn.Zones, z):
				c.d.errorf(ref.pos, "allowed-conduits", "zone %q lists conduit %q, which does not connect it (connects %s)", z.ID, cn.ID, zoneIDs(cn.Zones))
			default:
				listed[cn] = true
			}
		}
		for _, cn := range z.Conduits {
			if !listed[cn] {
				c.d.errorf(zd.id.pos, "allowed-conduits", "conduit %q connects zone %q, but the zone's allowed_conduits does not list it", cn.ID, z.ID)
			}
		}
	}
}

func zoneIDs(zs []*Zone) string {
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.ID
	}
	return strings.Join(ids, ", ")
}

// networks collects zone networks from the zones and the networks list and
// reports networks that overlap across zones.
func (c *compiler) networks() []zonePrefix {
	type placed struct {
		zonePrefix
		pos Pos
	}
	var all []placed
	add := func(z *Zone, t text) {
		p, err := netip.ParsePrefix(t.s)
		if err != nil {
			c.d.errorf(t.pos, "value", "network %q is not a CIDR prefix such as 10.20.0.0/16 or fd00::/64", t.s)
			return
		}
		if p.Masked() != p {
			c.d.errorf(t.pos, "value", "network %q has host bits set (did you mean %s?)", t.s, p.Masked())
			return
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		lo, hi := prefixRange(p)
		z.Networks = append(z.Networks, p)
		all = append(all, placed{zonePrefix{p, lo, hi, z}, t.pos})
	}
	for _, zd := range c.doc.zones {
		if z := c.m.zoneByID[zd.id.s]; z != nil && z.Pos == zd.id.pos {
			for _, t := range zd.networks {
				add(z, t)
			}
		}
	}
	for _, nd := range c.doc.networks {
		if z := c.zoneRef(nd.zone, "network"); z != nil {
			for _, t := range nd.cidrs {
				add(z, t)
			}
			if len(nd.cidrs) == 0 {
				c.d.errorf(nd.pos, "missing", "network for zone %q has no cidrs", z.ID)
			}
		}
	}
	// Overlaps: after sorting by start (wider first), a prefix overlaps
	// another zone's exactly when it lies inside an enclosing one.
	slices.SortStableFunc(all, func(a, b placed) int {
		if a.p.Addr().Is4() != b.p.Addr().Is4() {
			if a.p.Addr().Is4() {
				return -1
			}
			return 1
		}
		if x := a.lo.cmp(b.lo); x != 0 {
			return x
		}
		return b.hi.cmp(a.hi)
	})
	var stack []placed
	out := make([]zonePrefix, 0, len(all))
	for _, p := range all {
		for len(stack) > 0 && (stack[len(stack)-1].hi.cmp(p.lo) < 0 || stack[len(stack)-1].p.Addr().Is4() != p.p.Addr().Is4()) {
			stack = stack[:len(stack)-1]
		}
		for _, enc := range stack {
			if enc.zone != p.zone {
				c.d.errorf(p.pos, "overlap", "network %s of zone %q overlaps %s of zone %q (%s)", p.p, p.zone.ID, enc.p, enc.zone.ID, enc.pos)
				break
			}
		}
		stack = append(stack, p)
		out = append(out, p.zonePrefix)
	}
	return out
}

func (c *compiler) assets() {
	byName := map[string]*Asset{}
	for _, ad := range c.doc.assets {
		if ad.name.s == "" {
			continue
		}
		if prev := byName[ad.name.s]; prev != nil {
			c.d.errorf(ad.name.pos, "duplicate-id", "asset %q is defined twice (first at %s)", ad.name.s, prev.Pos)
			continue
		}
		a := &Asset{Name: ad.name.s, Role: ad.role, Vendor: ad.vendor, Product: ad.product, Pos: ad.name.pos}
		if ad.zone.s != "" {
			a.Zone = c.zoneRef(ad.zone, fmt.Sprintf("asset %q", a.Name))
			if a.Zone == nil {
				continue
			}
		}
		if len(ad.addresses) == 0 {
			c.d.errorf(ad.pos, "missing", "asset %q has no address", a.Name)
		}
		for _, t := range ad.addresses {
			addr, ok := c.addr(t, fmt.Sprintf("asset %q", a.Name))
			if !ok {
				continue
			}
			netZone := c.m.addrs.lookup(addr)
			switch {
			case a.Zone == nil && netZone == nil:
				c.d.errorf(t.pos, "asset-zone", "asset %q: address %s is in no zone's networks and the asset names no zone", a.Name, addr)
				continue
			case a.Zone == nil:
				a.Zone = netZone
			case netZone != a.Zone && (netZone != nil || len(a.Zone.Networks) > 0):
				where := "in no zone's networks"
				if netZone != nil {
					where = "in zone " + strconv.Quote(netZone.ID)
				}
				c.d.errorf(t.pos, "asset-zone", "asset %q: address %s is outside its zone %q's networks (%s)", a.Name, addr, a.Zone.ID, where)
				continue
			}
			if other := c.m.assetByAddr[addr]; other != nil {
				c.d.errorf(t.pos, "duplicate-address", "asset %q: address %s already belongs to asset %q", a.Name, addr, other.Name)
				continue
			}
			a.Addresses = append(a.Addresses, addr)
			c.m.assetByAddr[addr] = a
		}
		byName[a.Name] = a
		c.m.assets = append(c.m.assets, a)
	}
}

func (c *compiler) devices() {
	for _, dd := range c.doc.devices {
		if dd.hostname.s == "" {
			continue
		}
		key := strings.ToLower(dd.hostname.s)
		if prev := c.m.deviceByHost[key]; prev != nil {
			c.d.errorf(dd.hostname.pos, "duplicate-id", "device %q is defined twice (first at %s)", dd.hostname.s, prev.Pos)
			continue
		}
		dv := &Device{Hostname: dd.hostname.s, Vendor: dd.vendor, Product: dd.product, Decoder: dd.decoder, Pos: dd.hostname.pos}
		switch Role(strings.ToLower(dd.role.s)) {
		case RoleFirewall, "":
			dv.Role = RoleFirewall
			if dd.role.s == "" && len(dd.conduits) == 0 {
				c.d.errorf(dd.pos, "missing", "device %q: give its role (firewall, sensor or diode)", dv.Hostname)
			}
		case RoleSensor:
			dv.Role = RoleSensor
		case RoleDiode:
			dv.Role = RoleDiode
		default:
			c.d.errorf(dd.role.pos, "value", "device %q: role %q: want firewall, sensor or diode", dv.Hostname, dd.role.s)
		}
		switch Mode(strings.ToLower(dd.mode.s)) {
		case ModeMonitor:
			dv.Mode = ModeMonitor
		case ModeEnforce:
			dv.Mode = ModeEnforce
		case ModeNone:
			if dv.Role == RoleFirewall {
				c.d.errorf(dd.pos, "missing", "firewall %q has no mode: say monitor or enforce", dv.Hostname)
			}
		default:
			c.d.errorf(dd.mode.pos, "value", "device %q: mode %q: want monitor or enforce", dv.Hostname, dd.mode.s)
		}
		if dv.Mode != ModeNone && dv.Role != RoleFirewall {
			c.d.errorf(dd.mode.pos, "value", "device %q: only a firewall has a mode; a %s only observes", dv.Hostname, dv.Role)
		}
		if dd.since.s != "" {
			t, err := parseDate(dd.since.s)
			if err != nil {
				c.d.errorf(dd.since.pos, "value", "device %q: since %q is not a date (2026-10-01) or RFC 3339 time", dv.Hostname, dd.since.s)
			}
			if dd.mode.s == "" {
				c.d.errorf(dd.since.pos, "value", "device %q: since needs a mode", dv.Hostname)
			}
			dv.Since = t
		}
		for _, t := range dd.addresses {
			addr, ok := c.addr(t, fmt.Sprintf("device %q", dv.Hostname))
			if !ok {
				continue
			}
			if other := c.m.deviceByAddr[addr]; other != nil {
				c.d.errorf(t.pos, "duplicate-address", "device %q: address %s already belongs to device %q", dv.Hostname, addr, other.Hostname)
				continue
			}
			dv.Addresses = append(dv.Addresses, addr)
			c.m.deviceByAddr[addr] = dv
		}
		for _, ref := range dd.conduits {
			if cn := c.m.conduitByID[ref.s]; cn != nil {
				dv.Conduits = append(dv.Conduits, cn)
			} else {
				c.d.errorf(ref.pos, "unknown-conduit", "device %q: unknown conduit %q", dv.Hostname, ref.s)
			}
		}
		for _, ref := range dd.zones {
			if z := c.zoneRef(ref, fmt.Sprintf("device %q", dv.Hostname)); z != nil {
				dv.Zones = append(dv.Zones, z)
			}
		}
		if dv.Role == RoleFirewall && len(dd.conduits) == 0 {
			c.d.errorf(dd.pos, "missing", "firewall %q names no conduit it enforces", dv.Hostname)
		}
		c.m.deviceByHost[key] = dv
		c.m.devices = append(c.m.devices, dv)
	}
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func (c *compiler) diodes() {
	for _, dd := range c.doc.diodes {
		if dd.id.s == "" {
			continue
		}
		if prev := c.m.diodeByID[dd.id.s]; prev != nil {
			c.d.errorf(dd.id.pos, "duplicate-id", "diode %q is defined twice (first at %s)", dd.id.s, prev.Pos)
			continue
		}
		dg := &Diode{ID: dd.id.s, Name: dd.name, Vendor: dd.vendor, Heartbeat: 10 * time.Second, Pos: dd.id.pos}
		addr := func(t text, side string) (netip.Addr, *Zone) {
			a, ok := c.addr(t, fmt.Sprintf("diode %q: %s", dg.ID, side))
			if !ok {
				return a, nil
			}
			z := c.m.ZoneOf(a)
			if z == nil {
				c.d.errorf(t.pos, "asset-zone", "diode %q: %s address %s is in no zone", dg.ID, side, a)
			}
			return a, z
		}
		dg.TX, dg.TXZone = addr(dd.tx, "tx")
		dg.RX, dg.RXZone = addr(dd.rx, "rx")
		if dd.heartbeat.s != "" {
			hb, err := time.ParseDuration(dd.heartbeat.s)
			if err != nil {
				if n, errN := strconv.Atoi(dd.heartbeat.s); errN == nil {
					hb, err = time.Duration(n)*time.Second, nil
				}
			}
			if err != nil || hb <= 0 {
				c.d.errorf(dd.heartbeat.pos, "value", "diode %q: heartbeat %q is not a duration such as 10s", dg.ID, dd.heartbeat.s)
			} else {
				dg.Heartbeat = hb
			}
		}
		dg.Conduit = c.m.conduitByID[dd.conduit.s]
		switch {
		case dd.conduit.s == "":
			c.d.errorf(dd.pos, "missing", "diode %q names no conduit", dg.ID)
		case dg.Conduit == nil:
			c.d.errorf(dd.conduit.pos, "unknown-conduit", "diode %q: unknown conduit %q", dg.ID, dd.conduit.s)
		default:
			for _, r := range dg.Conduit.Rules {
				if r.Diode && (dd.protocol.s == "" || sameName(r.Name, dd.protocol.s) || r.App == normName(dd.protocol.s)) {
					dg.Rule = r
					break
				}
			}
			if dg.Rule == nil {
				c.d.errorf(dd.conduit.pos, "diode", "diode %q: conduit %q has no unidirectional diode rule to implement", dg.ID, dg.Conduit.ID)
			} else if dg.TXZone != nil && dg.RXZone != nil && (dg.TXZone != dg.Rule.From || dg.RXZone != dg.Rule.To) {
				c.d.errorf(dd.pos, "diode", "diode %q: tx %s (zone %s) → rx %s (zone %s) does not run the way rule %s does (%s → %s)",
					dg.ID, dg.TX, dg.TXZone.ID, dg.RX, dg.RXZone.ID, dg.Rule.ID(), dg.Rule.From.ID, dg.Rule.To.ID)
			}
		}
		c.m.diodeByID[dg.ID] = dg
		c.m.diodes = append(c.m.diodes, dg)
	}
}

// collectorPorts are where a collector receives syslog unless its ports
// are given: UDP and TCP 514 (RFC 5426, RFC 6587) and TLS 6514 (RFC 5425).
var collectorPorts = []ServicePort{{"udp", PortRange{514, 514}}, {"tcp", PortRange{514, 514}}, {"tcp", PortRange{6514, 6514}}}

// services compiles the infrastructure list, and collects the addresses
// monitoring traffic comes from: every declared device's and diode side's.
func (c *compiler) services() {
	for _, dv := range c.m.devices {
		for _, a := range dv.Addresses {
			c.m.reporterAddr[a] = true
		}
	}
	for _, dg := range c.m.diodes {
		for _, a := range [...]netip.Addr{dg.TX, dg.RX} {
			if a.IsValid() {
				c.m.reporterAddr[a] = true
			}
		}
	}
	names := map[string]*Service{}
	for _, sd := range c.doc.services {
		if sd.name.s == "" {
			continue
		}
		if prev := names[sd.name.s]; prev != nil {
			c.d.errorf(sd.name.pos, "duplicate-id", "infrastructure service %q is defined twice (first at %s)", sd.name.s, prev.Pos)
			continue
		}
		s := &Service{Name: sd.name.s, Pos: sd.name.pos}
		switch strings.ToLower(sd.role.s) {
		case "collector":
			s.Collector = true
		case "", "service":
		default:
			c.d.errorf(sd.role.pos, "value", "infrastructure service %q: role %q: want collector or service", s.Name, sd.role.s)
			continue
		}
		proto := sd.protocol.s
		if proto == "" && s.Collector {
			proto = "syslog"
		}
		transport := strings.ToLower(sd.transport.s)
		var defaults []ServicePort
		switch p := lookupProtocol(proto); {
		case p != nil:
			s.App = p.name
			if transport == "" {
				transport = p.transport
			}
			for _, port := range p.ports {
				defaults = append(defaults, ServicePort{transport, PortRange{port, port}})
			}
		case proto != "":
			s.App = strings.ToLower(proto)
			if transport == "" || len(sd.ports) == 0 {
				c.d.errorf(sd.protocol.pos, "unknown-protocol", "infrastructure service %q: unknown protocol %q: give its transport and ports explicitly", s.Name, proto)
			}
		case len(sd.ports) == 0:
			c.d.errorf(sd.pos, "missing", "infrastructure service %q: give its protocol (NTP, syslog, …) or its ports", s.Name)
		}
		if s.Collector && sd.protocol.s == "" && sd.transport.s == "" {
			defaults = collectorPorts
		}
		for _, t := range sd.ports {
			tr, ports, hasTransport := strings.Cut(t.s, "/")
			if !hasTransport {
				tr, ports = transport, t.s
			}
			tr = strings.ToLower(tr)
			pr, ok := parsePortRange(ports)
			switch {
			case !ok:
				c.d.errorf(t.pos, "value", "infrastructure service %q: port %q: want a port or range, optionally after a transport (udp/514, tcp/6514)", s.Name, t.s)
			case tr != "tcp" && tr != "udp" && tr != "sctp" && tr != "any":
				c.d.errorf(t.pos, "value", "infrastructure service %q: port %q: the transport must be tcp, udp, sctp or any", s.Name, t.s)
			default:
				s.Ports = append(s.Ports, ServicePort{tr, pr})
			}
		}
		if len(sd.ports) == 0 {
			s.Ports = defaults
		}
		if len(sd.addresses) == 0 {
			c.d.errorf(sd.pos, "missing", "infrastructure service %q has no address", s.Name)
		}
		for _, t := range sd.addresses {
			a, ok := c.addr(t, fmt.Sprintf("infrastructure service %q", s.Name))
			if !ok {
				continue
			}
			if c.m.ZoneOf(a) == nil {
				c.d.errorf(t.pos, "asset-zone", "infrastructure service %q: address %s is in no zone", s.Name, a)
			}
			s.Addresses = append(s.Addresses, a)
		}
		names[s.Name] = s
		c.m.services = append(c.m.services, s)
	}
}
