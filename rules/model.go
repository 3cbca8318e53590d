// Package rules is the plant's zone and conduit model: it loads an IEC
// 62443-3-2 zone definition document (as an assessment writes it) plus the
// networks, assets, reporting devices and data diodes that live traffic
// needs, checks and compiles them into an immutable Model, and answers which
// zone an address is in and whether the declared policy allows a flow.
package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Model is a compiled zone/conduit model. It is immutable and safe for
// concurrent use; lookups do not allocate.
type Model struct {
	Facility       string
	Site           string
	Standard       string
	AssessmentDate string

	zones    []*Zone
	conduits []*Conduit
	assets   []*Asset
	devices  []*Device
	diodes   []*Diode
	services []*Service

	zoneByID     map[string]*Zone
	conduitByID  map[string]*Conduit
	deviceByHost map[string]*Device
	deviceByAddr map[netip.Addr]*Device
	diodeByID    map[string]*Diode
	assetByAddr  map[netip.Addr]*Asset
	// reporterAddr: the addresses of declared devices and diode sides
	// (the sources of monitoring traffic).
	reporterAddr map[netip.Addr]bool
	addrs        addrTable
	between      [][]*Conduit // zone index i*len(zones)+j → conduits joining them

	diagnostics []Diagnostic
	hash        string
}

// Zone is a security zone: assets with one security level target.
type Zone struct {
	ID          string
	Name        string
	Index       int // position in Model.Zones
	Purdue      Level
	SLT         int // security level target, 0-4; -1 when not given
	Criticality string
	// AssetNotes are the zone document's free-text asset descriptions.
	AssetNotes   []string
	Requirements []string
	Networks     []netip.Prefix
	Conduits     []*Conduit
	Pos          Pos
}

// AirGapped reports whether no conduit reaches the zone.
func (z *Zone) AirGapped() bool { return len(z.Conduits) == 0 }

// Safety reports whether the zone holds safety instrumented systems.
func (z *Zone) Safety() bool {
	s := strings.ToLower(z.ID + " " + z.Name + " " + z.Criticality)
	return strings.Contains(s, "safety") || strings.Contains(s, "sis")
}

// Control reports whether the zone holds control systems: Purdue levels 0
// to 2 (process, basic and supervisory control), or a safety zone.
func (z *Zone) Control() bool {
	return z.Purdue.Lo >= 0 && z.Purdue.Lo <= 2 || z.Safety()
}

// Level is a Purdue level or a range of levels (Lo == Hi for one level).
type Level struct{ Lo, Hi float64 }

func (l Level) String() string { return levelRange{l.Lo, l.Hi}.String() }

// Conduit is an allowed path between zones and the rules of what may cross it.
type Conduit struct {
	ID       string
	Name     string
	Zones    []*Zone
	SL       int // security level, 0-4; -1 when not given
	Rules    []*Rule
	Controls []string
	Pos      Pos
}

// Inspected reports whether the conduit declares protocol-aware inspection
// among its controls.
func (c *Conduit) Inspected() bool {
	for _, s := range c.Controls {
		s = strings.ToLower(s)
		for _, k := range []string{"dpi", "deep packet", "protocol inspection", "application-layer inspection",
			"application layer inspection", "function code filtering", "ips"} {
			if strings.Contains(s, k) {
				return true
			}
		}
	}
	return false
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

func (p PortRange) String() string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return strconv.Itoa(int(p.Lo)) + "-" + strconv.Itoa(int(p.Hi))
}

// Rule is one allowed protocol on a conduit.
type Rule struct {
	Conduit *Conduit
	Index   int    // position in Conduit.Rules
	Name    string // the protocol as written
	// App is the canonical app_protocol ("modbus", "https"), or the written
	// name lowercased for protocols otsiem does not know.
	App       string
	Transport string // tcp, udp, icmp, … or "any"
	Ports     []PortRange
	// From and To are the initiating and responding zones; both nil when the
	// rule allows either direction.
	From, To     *Zone
	Functions    FunctionSet
	Diode        bool // the path runs through a data diode, one way only
	Direction    string
	SecurityMode string
	Notes        []string // qualifiers that describe purpose and cannot be checked
	Pos          Pos
}

// ID names the rule as "<conduit>#<n>" with n counted from 1.
func (r *Rule) ID() string { return r.Conduit.ID + "#" + strconv.Itoa(r.Index+1) }

func (r *Rule) allowsDirection(src, dst *Zone) bool {
	return r.From == nil || (r.From == src && r.To == dst)
}

func (r *Rule) matchesPort(port uint16) bool {
	for _, p := range r.Ports {
		if port >= p.Lo && port <= p.Hi {
			return true
		}
	}
	return false
}

// FunctionSet is the set of protocol functions a rule allows. The zero value
// allows every function.
type FunctionSet struct {
	limited bool
	codes   [4]uint64 // bit per function code 0-255
	names   []string  // normalized names, for functions known by name only
	cat     *functionCatalog
	label   string // how the set was declared, e.g. "read-only"
}

// All reports whether every function is allowed.
func (s *FunctionSet) All() bool { return !s.limited }

// Allows reports whether a function, given by code (-1 when unknown) or name
// ("" when unknown), is in the set: true when the set allows every
// function, false when the function is outside it or cannot be identified
// (fail closed). A record that names no function at all is judged by
// Model.Evaluate, not here.
func (s *FunctionSet) Allows(code int, name string) bool {
	return s.judge(s.cat.identify(&Flow{FunctionCode: code, Function: name, Transaction: true})) == functionAllowed
}

// functionVerdict is what a rule's function set says of a flow.
type functionVerdict uint8

const (
	functionAllowed functionVerdict = iota // in the set, or no function to judge
	functionDenied                         // a function otsiem knows, outside the set
	functionUnknown                        // a function otsiem cannot identify
)

func (s *FunctionSet) judge(id function) functionVerdict {
	switch {
	case !s.limited || id.state == functionNone:
		return functionAllowed
	case id.state == functionUnidentified:
		return functionUnknown
	case s.has(id):
		return functionAllowed
	}
	return functionDenied
}

func (s *FunctionSet) has(id function) bool {
	if id.code >= 0 {
		return id.code < 256 && s.codes[id.code>>6]&(1<<(id.code&63)) != 0
	}
	for _, n := range s.names {
		if n == id.name {
			return true
		}
	}
	return false
}

// Codes lists the allowed function codes, nil when all are allowed or the
// protocol's functions are named.
func (s *FunctionSet) Codes() []int {
	var out []int
	if s.limited {
		for c := 0; c < 256; c++ {
			if s.codes[c>>6]&(1<<(c&63)) != 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

func (s *FunctionSet) String() string {
	if !s.limited {
		return "all"
	}
	if s.cat != nil && s.cat.named {
		if s.label != "" {
			return s.label
		}
		return strings.Join(s.names, ",")
	}
	var parts []string
	for _, c := range s.Codes() {
		parts = append(parts, strconv.Itoa(c))
	}
	if s.label != "" {
		return s.label + " (" + strings.Join(parts, ",") + ")"
	}
	return strings.Join(parts, ",")
}

// Asset is an inventoried device with its addresses.
type Asset struct {
	Name      string
	Addresses []netip.Addr
	Zone      *Zone
	Role      string
	Vendor    string
	Product   string
	Pos       Pos
}

// Controller reports whether the asset's role names a controller: a PLC,
// RTU, IED, DCS or safety controller.
func (a *Asset) Controller() bool {
	r := strings.ToLower(a.Role)
	for _, k := range [...]string{"plc", "rtu", "ied", "dcs", "controller"} {
		if strings.Contains(r, k) {
			return true
		}
	}
	return false
}

// Mode is a firewall's enforcement mode.
type Mode string

// Enforcement modes. A passive sensor has none.
const (
	ModeNone    Mode = ""
	ModeMonitor Mode = "monitor"
	ModeEnforce Mode = "enforce"
)

// Role is what a reporting device does.
type Role string

// Device roles.
const (
	RoleFirewall Role = "firewall"
	RoleSensor   Role = "sensor"
	RoleDiode    Role = "diode"
)

// Device is a reporting device: a firewall on conduits, a passive sensor in
// zones, or a diode's management interface.
type Device struct {
	Hostname  string // as it appears in syslog
	Vendor    string
	Product   string
	Decoder   string // the decoder its logs need; empty to detect by content
	Role      Role
	Mode      Mode
	Since     time.Time // when Mode took effect; zero when not given
	Addresses []netip.Addr
	Conduits  []*Conduit
	Zones     []*Zone
	Pos       Pos
}

// OnConduit reports whether the device enforces the conduit.
func (d *Device) OnConduit(c *Conduit) bool {
	for _, x := range d.Conduits {
		if x == c {
			return true
		}
	}
	return false
}

// Diode is a unidirectional gateway implementing a conduit rule.
type Diode struct {
	ID        string
	Name      string
	Vendor    string
	TX, RX    netip.Addr
	TXZone    *Zone
	RXZone    *Zone
	Heartbeat time.Duration
	Conduit   *Conduit
	Rule      *Rule
	Pos       Pos
}

// Service is part of otsiem's collection path, or of the plant's
// infrastructure that the declared devices may reach: a collector (otsiem's
// syslog receiver, where devices send their logs and diodes their health
// reports) or a service such as time (NTP). The model declares them;
// otsiem never assumes one. Traffic from a declared device (a devices[]
// address, a diode's tx or rx) to a service on one of its ports is
// monitoring traffic: allowed where a conduit rule carries it, reason
// monitoring (a low finding) where none does, and never diode_reverse.
type Service struct {
	Name      string
	Collector bool   // otsiem's collector
	App       string // canonical protocol: "syslog", "ntp", …
	Ports     []ServicePort
	Addresses []netip.Addr
	Pos       Pos
}

// ServicePort is a transport and a range of ports a service listens on.
type ServicePort struct {
	Transport string // tcp, udp, sctp or any
	PortRange
}

func (p ServicePort) String() string { return p.Transport + "/" + p.PortRange.String() }

// Hash is the model's version: the hex SHA-256 of the files it was loaded
// from (each file's base name and bytes, in load order), so the same files
// give the same hash wherever they live and any edit, a comment included,
// gives a new one. Reports and the model tables in storage name the model
// by it; [ShortHash] is its first 12 digits for people.
func (m *Model) Hash() string { return m.hash }

// ShortHash is the first 12 hex digits of [Model.Hash], as reports print it.
func (m *Model) ShortHash() string { return m.hash[:min(12, len(m.hash))] }

// Zones returns the zones in document order.
func (m *Model) Zones() []*Zone { return m.zones }

// Conduits returns the conduits in document order.
func (m *Model) Conduits() []*Conduit { return m.conduits }

// Assets returns the inventoried assets.
func (m *Model) Assets() []*Asset { return m.assets }

// Devices returns the reporting devices.
func (m *Model) Devices() []*Device { return m.devices }

// Diodes returns the data diodes.
func (m *Model) Diodes() []*Diode { return m.diodes }

// Infrastructure returns the declared collectors and infrastructure
// services, in document order.
func (m *Model) Infrastructure() []*Service { return m.services }

// Collectors returns the declared collectors.
func (m *Model) Collectors() []*Service {
	var out []*Service
	for _, s := range m.services {
		if s.Collector {
			out = append(out, s)
		}
	}
	return out
}

// Zone returns the zone with the given id, or nil.
func (m *Model) Zone(id string) *Zone { return m.zoneByID[id] }

// Conduit returns the conduit with the given id, or nil.
func (m *Model) Conduit(id string) *Conduit { return m.conduitByID[id] }

// Diode returns the diode with the given id, or nil.
func (m *Model) Diode(id string) *Diode { return m.diodeByID[id] }

// Device returns the device with the given syslog hostname (case-insensitive), or nil.
func (m *Model) Device(hostname string) *Device {
	if d := m.deviceByHost[hostname]; d != nil {
		return d
	}
	return m.deviceByHost[strings.ToLower(hostname)]
}

// DeviceByAddr returns the device that sends from the given address, or nil.
func (m *Model) DeviceByAddr(a netip.Addr) *Device { return m.deviceByAddr[a.Unmap()] }

// Diagnostics returns the warnings and notes found when the model was loaded.
func (m *Model) Diagnostics() []Diagnostic { return m.diagnostics }

// AssetOf returns the asset that owns an address, or nil.
func (m *Model) AssetOf(a netip.Addr) *Asset { return m.assetByAddr[a.Unmap()] }

// AssetNamed returns the asset of a name, compared without case, or nil:
// for devices that print a host name where an address belongs (Cisco's
// "names"). Linear in the assets; it runs only for such events.
func (m *Model) AssetNamed(name string) *Asset {
	for _, a := range m.assets {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// ZoneOf returns the zone of an address, or nil when it is in none: an
// asset's own address first, then the longest matching network.
func (m *Model) ZoneOf(a netip.Addr) *Zone {
	a = a.Unmap()
	if as := m.assetByAddr[a]; as != nil {
		return as.Zone
	}
	return m.addrs.lookup(a)
}

// ConduitsBetween returns the conduits that join two zones (in either
// direction), or nil.
func (m *Model) ConduitsBetween(a, b *Zone) []*Conduit {
	if a == nil || b == nil {
		return nil
	}
	return m.between[a.Index*len(m.zones)+b.Index]
}
