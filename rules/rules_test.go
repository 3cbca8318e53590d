package rules

import (
	"bytes"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const refinery = "../examples/refinery"

func loadRefinery(tb testing.TB) *Model {
	tb.Helper()
	m, err := Load(refinery)
	if err != nil {
		tb.Fatalf("load %s: %v", refinery, err)
	}
	return m
}

// The seed's zone definition document must load exactly as the assessment
// wrote it, and be the seed byte for byte.
func TestSeedLoadsUnchanged(t *testing.T) {
	ours, err := os.ReadFile(refinery + "/zones.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if seed, err := os.ReadFile("../../shared/seeds/refinery-zones.yaml"); err == nil && !bytes.Equal(ours, seed) {
		t.Error("examples/refinery/zones.yaml differs from shared/seeds/refinery-zones.yaml")
	}
	m, err := Load(refinery + "/zones.yaml")
	if err != nil {
		t.Fatalf("seed does not load: %v", err)
	}
	if m.Facility != "Petrochemical Refinery - Unit 3" || m.Standard != "IEC 62443-3-2:2020" {
		t.Errorf("facility %q standard %q", m.Facility, m.Standard)
	}
	var zones []string
	for _, z := range m.Zones() {
		zones = append(zones, z.ID+" L"+z.Purdue.String()+" "+sl(z.SLT))
	}
	wantZones := []string{"Z1-SIS L1 SL3", "Z2-BPCS L1-2 SL2", "Z3-OPS L3 SL2", "Z4-DMZ L3.5 SL2", "Z5-ENT L4 SL1"}
	if !slices.Equal(zones, wantZones) {
		t.Errorf("zones\n got %v\nwant %v", zones, wantZones)
	}
	if !m.Zone("Z1-SIS").AirGapped() || m.Zone("Z3-OPS").AirGapped() {
		t.Error("only Z1-SIS is air-gapped")
	}
	type rule struct {
		id, app, transport, ports, from, to, functions string
		diode                                          bool
	}
	var got []rule
	for _, c := range m.Conduits() {
		for _, r := range c.Rules {
			var ports []string
			for _, p := range r.Ports {
				ports = append(ports, p.String())
			}
			got = append(got, rule{r.ID(), r.App, r.Transport, strings.Join(ports, ","), r.From.ID, r.To.ID, r.Functions.String(), r.Diode})
		}
	}
	want := []rule{
		{"C1-BPCS-OPS#1", "opcua", "tcp", "4840", "Z2-BPCS", "Z3-OPS", "read-only", false},
		{"C1-BPCS-OPS#2", "modbus", "tcp", "502", "Z3-OPS", "Z2-BPCS", "3,4", false},
		{"C2-OPS-DMZ#1", "pi", "tcp", "5450", "Z3-OPS", "Z4-DMZ", "all", true},
		{"C2-OPS-DMZ#2", "https", "tcp", "443", "Z4-DMZ", "Z3-OPS", "all", false},
		{"C3-DMZ-ENT#1", "https", "tcp", "443", "Z5-ENT", "Z4-DMZ", "all", false},
		{"C3-DMZ-ENT#2", "rdp", "tcp", "3389", "Z5-ENT", "Z4-DMZ", "all", false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules\n got %v\nwant %v", got, want)
	}
	if c := m.Conduit("C3-DMZ-ENT"); c.SL != 1 || len(c.Controls) != 2 {
		t.Errorf("C3: SL %d, %d controls", c.SL, len(c.Controls))
	}
	// The seed alone has no networks; every zone says so.
	var codes []string
	for _, d := range m.Diagnostics() {
		codes = append(codes, d.Code)
	}
	if n := strings.Count(strings.Join(codes, " "), "no-networks"); n != 5 {
		t.Errorf("%d no-networks warnings, want 5: %v", n, codes)
	}
}

func sl(n int) string { return "SL" + string(rune('0'+n)) }

func TestRefineryModel(t *testing.T) {
	m := loadRefinery(t)
	if len(m.Assets()) != 35 || len(m.Devices()) != 6 || len(m.Diodes()) != 1 {
		t.Fatalf("%d assets, %d devices, %d diodes", len(m.Assets()), len(m.Devices()), len(m.Diodes()))
	}
	// The seed's conduits carry no syslog: the devices outside the
	// collector's zone have no declared path to it.
	var noPath []string
	for _, w := range m.Diagnostics() {
		switch {
		case w.Severity != SeverityWarning, w.Code == "sl-below-target":
		case w.Code == "no-collector-path":
			noPath = append(noPath, strings.Fields(w.Message)[1])
		default:
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if want := []string{`"pa-c3"`, `"ids-z2"`, `"DMZ-DD-01"`}; !slices.Equal(noPath, want) {
		t.Errorf("no path to the collector: %v, want %v", noPath, want)
	}
	if cs := m.Collectors(); len(cs) != 1 || cs[0].Name != "OTSIEM-01" || len(cs[0].Ports) != 3 || cs[0].Ports[2].String() != "tcp/6514" {
		t.Errorf("collectors: %+v", cs)
	}
	pa := m.Device("PA-C3")
	if pa == nil || pa.Mode != ModeMonitor || !pa.Since.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !pa.OnConduit(m.Conduit("C3-DMZ-ENT")) {
		t.Errorf("pa-c3: %+v", pa)
	}
	if d := m.Device("ids-z2"); d.Role != RoleSensor || d.Mode != ModeNone || d.Zones[0].ID != "Z2-BPCS" {
		t.Errorf("ids-z2: %+v", d)
	}
	if d := m.DeviceByAddr(netip.MustParseAddr("10.30.1.1")); d == nil || d.Hostname != "isa3000-c1" {
		t.Errorf("device at 10.30.1.1: %v", d)
	}
	dd := m.Diode("DMZ-DD-01")
	if dd.Heartbeat != 10*time.Second || dd.Rule.ID() != "C2-OPS-DMZ#1" || dd.TXZone.ID != "Z3-OPS" || dd.RXZone.ID != "Z4-DMZ" {
		t.Errorf("diode: %+v", dd)
	}
	if a := m.AssetOf(netip.MustParseAddr("10.20.1.21")); a == nil || a.Name != "PLC-12" || a.Vendor != "Rockwell Automation" {
		t.Errorf("10.20.1.21 is %+v", a)
	}
	if cs := m.ConduitsBetween(m.Zone("Z3-OPS"), m.Zone("Z2-BPCS")); len(cs) != 1 || cs[0].ID != "C1-BPCS-OPS" {
		t.Errorf("conduits Z3-Z2: %v", cs)
	}
	if cs := m.ConduitsBetween(m.Zone("Z5-ENT"), m.Zone("Z2-BPCS")); cs != nil {
		t.Errorf("conduits Z5-Z2: %v", cs)
	}
}

func TestEvaluateRefinery(t *testing.T) {
	m := loadRefinery(t)
	tests := []struct {
		name           string
		src, dst       string
		transport      string
		port           uint16
		app            string
		code           int
		fn             string
		allowed        bool
		reason         Reason
		srcZ, dstZ, cd string
		rule           string
	}{
		{"opc ua read to historian", "10.20.1.10", "10.30.1.50", "tcp", 4840, "opcua", -1, "", true, "", "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "C1-BPCS-OPS#1"},
		{"opc ua Read service", "10.20.1.10", "10.30.1.50", "tcp", 4840, "opcua", -1, "Read", true, "", "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "C1-BPCS-OPS#1"},
		{"opc ua Write service", "10.20.1.10", "10.30.1.50", "tcp", 4840, "opcua", -1, "Write", false, FunctionNotPermitted, "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "C1-BPCS-OPS#1"},
		{"opc ua over udp", "10.20.1.10", "10.30.1.50", "udp", 4840, "", -1, "", false, NotPermitted, "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", ""},
		{"modbus fc3 from historian", "10.30.1.50", "10.20.1.10", "tcp", 502, "modbus", 3, "", true, "", "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus fc4", "10.30.1.50", "10.20.1.11", "tcp", 502, "modbus", 4, "", true, "", "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus fc6 write", "10.30.1.50", "10.20.1.10", "tcp", 502, "modbus", 6, "", false, FunctionNotPermitted, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus fc1 outside FC 3/4", "10.30.1.50", "10.20.1.10", "tcp", 502, "modbus", 1, "", false, FunctionNotPermitted, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus write by name", "10.30.1.50", "10.20.1.10", "tcp", 502, "modbus", -1, "Write Single Register", false, FunctionNotPermitted, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus read by name", "10.30.1.50", "10.20.1.10", "tcp", 502, "modbus", -1, "read_holding_registers", true, "", "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus flow without dpi", "10.30.1.50", "10.20.1.10", "tcp", 502, "", -1, "", true, "", "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"modbus wrong direction", "10.20.1.10", "10.30.1.50", "tcp", 502, "modbus", 3, "", false, WrongDirection, "Z2-BPCS", "Z3-OPS", "C1-BPCS-OPS", "C1-BPCS-OPS#2"},
		{"http tunnelled on 502", "10.30.1.50", "10.20.1.10", "tcp", 502, "http", -1, "", false, NotPermitted, "Z3-OPS", "Z2-BPCS", "C1-BPCS-OPS", ""},
		{"enterprise straight to a plc", "10.100.5.5", "10.20.1.10", "tcp", 502, "", -1, "", false, NoConduit, "Z5-ENT", "Z2-BPCS", "", ""},
		{"into the sis", "10.20.3.10", "10.10.1.10", "tcp", 502, "", -1, "", false, AirGap, "Z2-BPCS", "Z1-SIS", "", ""},
		{"out of the sis", "10.10.1.20", "10.30.1.50", "tcp", 443, "", -1, "", false, AirGap, "Z1-SIS", "Z3-OPS", "", ""},
		{"sis to the internet", "10.10.1.11", "8.8.8.8", "udp", 53, "", -1, "", false, AirGap, "Z1-SIS", "", "", ""},
		{"enterprise into the sis", "10.100.7.7", "10.10.0.99", "icmp", 0, "", -1, "", false, AirGap, "Z5-ENT", "Z1-SIS", "", ""},
		{"within the sis", "10.10.1.20", "10.10.1.10", "tcp", 1502, "", -1, "", true, IntraZone, "Z1-SIS", "Z1-SIS", "", ""},
		{"diode rx back to tx", "172.16.1.100", "10.30.1.100", "tcp", 5450, "", -1, "", false, DiodeReverse, "Z4-DMZ", "Z3-OPS", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"icmp to diode tx", "172.16.1.30", "10.30.1.100", "icmp", 0, "", -1, "", false, DiodeReverse, "Z4-DMZ", "Z3-OPS", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"pi replication reversed", "172.16.1.10", "10.30.1.50", "tcp", 5450, "", -1, "", false, DiodeReverse, "Z4-DMZ", "Z3-OPS", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"pi replication through the diode", "10.30.1.100", "172.16.1.100", "tcp", 5450, "pi", -1, "", true, "", "Z3-OPS", "Z4-DMZ", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"pi replication as a firewall names it", "10.30.1.100", "172.16.1.100", "tcp", 5450, "pi-to-pi", -1, "", true, "", "Z3-OPS", "Z4-DMZ", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"pi-to-pi around the diode", "10.30.1.50", "172.16.1.10", "tcp", 5450, "pi", -1, "", false, DiodeBypass, "Z3-OPS", "Z4-DMZ", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"diode tx to another dmz host", "10.30.1.100", "172.16.1.10", "tcp", 5450, "", -1, "", false, DiodeBypass, "Z3-OPS", "Z4-DMZ", "C2-OPS-DMZ", "C2-OPS-DMZ#1"},
		{"rdp named ssh is not rdp", "10.100.7.7", "172.16.1.30", "tcp", 3389, "ssh", -1, "", false, NotPermitted, "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", ""},
		{"patch download", "172.16.1.20", "10.30.1.52", "tcp", 443, "https", -1, "", true, "", "Z4-DMZ", "Z3-OPS", "C2-OPS-DMZ", "C2-OPS-DMZ#2"},
		{"https out of ops", "10.30.1.52", "172.16.1.20", "tcp", 443, "", -1, "", false, WrongDirection, "Z3-OPS", "Z4-DMZ", "C2-OPS-DMZ", "C2-OPS-DMZ#2"},
		{"rdp to jump server", "10.100.7.7", "172.16.1.30", "tcp", 3389, "rdp", -1, "", true, "", "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "C3-DMZ-ENT#2"},
		{"rdp as ipv4-mapped ipv6", "::ffff:10.100.7.7", "::ffff:172.16.1.30", "tcp", 3389, "", -1, "", true, "", "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "C3-DMZ-ENT#2"},
		{"ssh to jump server", "10.100.7.7", "172.16.1.30", "tcp", 22, "", -1, "", false, NotPermitted, "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", ""},
		{"tls app name to historian", "10.100.7.7", "172.16.1.10", "tcp", 443, "ssl", -1, "", true, "", "Z5-ENT", "Z4-DMZ", "C3-DMZ-ENT", "C3-DMZ-ENT#1"},
		{"unmanaged address", "192.168.50.4", "10.30.1.50", "tcp", 443, "", -1, "", false, UnknownZone, "", "Z3-OPS", "", ""},
		{"within control", "10.20.2.10", "10.20.1.10", "tcp", 44818, "enip", 0x4d, "", true, IntraZone, "Z2-BPCS", "Z2-BPCS", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := m.Evaluate(Flow{Src: netip.MustParseAddr(tt.src), Dst: netip.MustParseAddr(tt.dst), Transport: tt.transport,
				Port: tt.port, App: tt.app, FunctionCode: tt.code, Function: tt.fn})
			if d.Allowed != tt.allowed || d.Reason != tt.reason {
				t.Errorf("allowed %v reason %q, want %v %q", d.Allowed, d.Reason, tt.allowed, tt.reason)
			}
			if id(d.SrcZone) != tt.srcZ || id(d.DstZone) != tt.dstZ {
				t.Errorf("zones %s→%s, want %s→%s", id(d.SrcZone), id(d.DstZone), tt.srcZ, tt.dstZ)
			}
			cd, rule := "", ""
			if d.Conduit != nil {
				cd = d.Conduit.ID
			}
			if d.Rule != nil {
				rule = d.Rule.ID()
			}
			if cd != tt.cd || rule != tt.rule {
				t.Errorf("conduit %q rule %q, want %q %q", cd, rule, tt.cd, tt.rule)
			}
		})
	}
}

func id(z *Zone) string {
	if z == nil {
		return ""
	}
	return z.ID
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	m := loadRefinery(t)
	flows := []Flow{
		{Src: netip.MustParseAddr("10.30.1.50"), Dst: netip.MustParseAddr("10.20.1.10"), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 6},
		{Src: netip.MustParseAddr("10.20.1.10"), Dst: netip.MustParseAddr("10.30.1.50"), Transport: "tcp", Port: 4840, App: "opcua", FunctionCode: -1, Function: "Write"},
		{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("10.30.1.50"), Transport: "tcp", Port: 443, FunctionCode: -1},
		{Src: netip.MustParseAddr("10.20.1.10"), Dst: netip.MustParseAddr("10.30.1.50"), Transport: "tcp", Port: 4840, App: "opcua", FunctionCode: -1, Function: "WriteRequest", Transaction: true},
		{Src: netip.MustParseAddr("10.30.1.50"), Dst: netip.MustParseAddr("10.20.1.10"), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: -1, Function: "Func05.Write", Transaction: true},
		{Src: netip.MustParseAddr("10.10.1.10"), Dst: netip.MustParseAddr("224.0.0.1"), Transport: "udp", Port: 5000, FunctionCode: -1},
		{Src: netip.MustParseAddr("172.16.1.100"), Dst: netip.MustParseAddr("10.30.1.60"), Transport: "udp", Port: 514, FunctionCode: -1},
		{Src: netip.MustParseAddr("10.30.1.50"), Dst: netip.MustParseAddr("172.16.1.10"), Transport: "tcp", Port: 5450, FunctionCode: -1},
	}
	for _, f := range flows {
		if n := testing.AllocsPerRun(100, func() { _ = m.Evaluate(f) }); n != 0 {
			t.Errorf("Evaluate(%v→%v) allocates %v times", f.Src, f.Dst, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = m.ZoneOf(f.Src) }); n != 0 {
			t.Errorf("ZoneOf(%v) allocates %v times", f.Src, n)
		}
	}
}

func TestStructuredForm(t *testing.T) {
	m, err := Load("testdata/structured.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Site != "test-plant" {
		t.Errorf("site %q", m.Site)
	}
	ab := m.Conduit("C-AB")
	if got := ab.Rules[0].Functions.String(); got != "1,2,3,4" {
		t.Errorf("structured functions win over the text: %s", got)
	}
	sync := ab.Rules[1]
	if sync.App != "vendor sync" || sync.Transport != "udp" || len(sync.Ports) != 2 || sync.Ports[1] != (PortRange{6000, 6010}) {
		t.Errorf("custom protocol: %+v", sync)
	}
	bc := m.Conduit("C-BC")
	if !bc.Rules[0].Diode || bc.Rules[1].From != nil || bc.Rules[1].Ports[0].Lo != 44818 {
		t.Errorf("C-BC rules: %+v %+v", bc.Rules[0], bc.Rules[1])
	}
	if m.Diode("DD-1").Heartbeat != 5*time.Second {
		t.Errorf("heartbeat %v", m.Diode("DD-1").Heartbeat)
	}
	eval := func(src, dst string, port uint16, tr string) Decision {
		return m.Evaluate(Flow{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Port: port, Transport: tr, FunctionCode: -1})
	}
	if d := eval("10.1.0.5", "10.2.0.9", 6005, "udp"); !d.Allowed {
		t.Errorf("port range: %+v", d.Reason)
	}
	if d := eval("10.1.0.5", "10.2.0.9", 6011, "udp"); d.Reason != NotPermitted {
		t.Errorf("past the port range: %q", d.Reason)
	}
	if d := eval("fd00:b::7", "fd00:a::10", 502, "tcp"); !d.Allowed || d.DstAsset == nil || d.DstAsset.Name != "PLC-1" {
		t.Errorf("ipv6 modbus: %+v", d)
	}
	if d := eval("10.3.0.5", "10.2.0.50", 44818, "tcp"); !d.Allowed {
		t.Errorf("bidirectional enip reverse way: %q", d.Reason)
	}
	if d := eval("10.3.0.100", "10.2.0.1", 80, "tcp"); d.Reason != DiodeReverse {
		t.Errorf("from diode rx: %q", d.Reason)
	}
}

func TestZoneOfLongestPrefix(t *testing.T) {
	m, err := Compile(Source{Name: "nested.yaml", Data: []byte(`
zones:
  - {zone_id: A, purdue_level: 2, security_level_target: SL 1, networks: [10.0.0.0/8, 10.5.0.0/16, "2001:db8::/32"]}
  - {zone_id: B, purdue_level: 3, security_level_target: SL 1, networks: [192.168.0.0/24, "2001:db9::/32", "ffff::/16"]}
  - {zone_id: C, purdue_level: 3, security_level_target: SL 1, networks: [0.0.0.0/32, 255.255.255.255/32]}
assets:
  - {name: h1, address: 10.5.5.5, zone: A}
  - {name: h2, address: "2001:db8::5"}
`)})
	var le *LoadError
	if err != nil {
		t.Fatalf("%v %v", err, le)
	}
	cases := map[string]string{
		"10.0.0.0": "A", "10.255.255.255": "A", "10.5.0.1": "A", "11.0.0.0": "", "9.255.255.255": "",
		"192.168.0.255": "B", "192.168.1.0": "", "0.0.0.0": "C", "255.255.255.255": "C", "255.255.255.254": "",
		"2001:db8::1": "A", "2001:db9::": "B", "2001:dba::": "", "::": "", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "B", "fffe::1": "",
		"::ffff:10.1.2.3": "A", "10.5.5.5": "A", "2001:db8::5": "A",
	}
	for a, want := range cases {
		if got := id(m.ZoneOf(netip.MustParseAddr(a))); got != want {
			t.Errorf("ZoneOf(%s) = %q, want %q", a, got, want)
		}
	}
	if m.ZoneOf(netip.Addr{}) != nil {
		t.Error("invalid address has a zone")
	}
}

// Nested networks of different zones are errors, but the table itself must
// still answer by longest prefix; check it against a brute force search.
func TestBuildSpansLongestPrefix(t *testing.T) {
	zs := []*Zone{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	var ps []zonePrefix
	for i, s := range []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.2.0.0/15", "10.255.255.0/24", "0.0.0.0/0", "10.1.2.128/32"} {
		p := netip.MustParsePrefix(s)
		lo, hi := prefixRange(p)
		ps = append(ps, zonePrefix{p, lo, hi, zs[i%3]})
	}
	tab := newAddrTable(slices.Clone(ps))
	probe := []string{"0.0.0.0", "9.9.9.9", "10.0.0.0", "10.1.0.0", "10.1.2.3", "10.1.2.127", "10.1.2.128", "10.1.2.129",
		"10.1.2.255", "10.1.3.0", "10.2.0.0", "10.3.255.255", "10.4.0.0", "10.255.255.255", "11.0.0.0", "255.255.255.255"}
	for _, s := range probe {
		a := netip.MustParseAddr(s)
		var best *zonePrefix
		for i := range ps {
			if ps[i].p.Contains(a) && (best == nil || ps[i].p.Bits() > best.p.Bits()) {
				best = &ps[i]
			}
		}
		if got := tab.lookup(a); got != best.zone {
			t.Errorf("%s: got %s, want %s (%s)", s, got.ID, best.zone.ID, best.p)
		}
	}
}

func TestParseDirection(t *testing.T) {
	tests := []struct {
		in       string
		aware    bool
		from, to string
		both     bool
		readOnly bool
		codes    []int
		diode    bool
		notes    []string
		err      string
	}{
		{in: "Z2 -> Z3 (read only)", aware: true, from: "Z2", to: "Z3", readOnly: true},
		{in: "Z3 -> Z2 (read only, FC 3/4 only)", aware: true, from: "Z3", to: "Z2", readOnly: true, codes: []int{3, 4}},
		{in: "Z3 -> Z4 (unidirectional via data diode)", from: "Z3", to: "Z4", diode: true},
		{in: "Z4 -> Z3 (patch downloads only)", from: "Z4", to: "Z3", notes: []string{"patch downloads only"}},
		{in: "Z3 <- Z2", from: "Z2", to: "Z3"},
		{in: "Z3 → Z2 (function codes 1-4)", aware: true, from: "Z3", to: "Z2", codes: []int{1, 2, 3, 4}},
		{in: "Z3 <-> Z2", from: "Z3", to: "Z2", both: true},
		{in: "bidirectional", both: true},
		{in: "Z3 -> Z2 (FC 3 and 16)", aware: true, from: "Z3", to: "Z2", codes: []int{3, 16}},
		{in: "Z3 -> Z2 (read/write)", aware: true, from: "Z3", to: "Z2"},
		{in: "Z3 -> Z2 (FC 300)", aware: true, err: "bad function code"},
		{in: "Z3 -> Z2 (only weekdays)", aware: true, err: "cannot interpret"},
		{in: "Z3 -> Z2 (not on weekends)", err: "cannot interpret"},
		{in: "Z3 <-> Z2 (via data diode)", err: "cannot be two-way"},
		{in: "Z3 -> Z2 (read only", aware: true, err: "one parenthesised list"},
		{in: "Z3 to Z2", err: "want"},
		{in: "Z3 -> Z2 (read only)", from: "Z3", to: "Z2", readOnly: true},
		{in: "Z3 -> Z2 (FC 3 only)", err: "without function codes"},
	}
	for _, tt := range tests {
		d, err := parseDirection(tt.in, tt.aware)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if d.from != tt.from || d.to != tt.to || d.both != tt.both || d.readOnly != tt.readOnly || !slices.Equal(d.codes, tt.codes) ||
			d.diode != tt.diode || !slices.Equal(d.notes, tt.notes) {
			t.Errorf("%q: got %+v", tt.in, d)
		}
	}
}

func TestAssetCSV(t *testing.T) {
	zones := Source{Name: "zones.yaml", Data: []byte("zones:\n  - {zone_id: A-CTL, purdue_level: 2, security_level_target: SL 2, networks: [10.1.0.0/16]}\n")}
	m, err := Compile(zones, Source{Name: "inv.csv", Data: []byte("\xef\xbb\xbfAsset Name,IP Address,Manufacturer,Serial\n" +
		"PLC-1,10.1.0.10,Rockwell,AB123\n\n# a comment\n\"HMI-1\",\"10.1.0.20; 10.1.0.21\",Rockwell,X\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Assets()) != 2 || m.AssetOf(netip.MustParseAddr("10.1.0.21")).Name != "HMI-1" || m.Assets()[0].Vendor != "Rockwell" {
		t.Errorf("assets: %+v", m.Assets())
	}
	bad := []struct{ csv, want string }{
		{"hostname,zone\nx,A-CTL\n", "inv.csv:1:1: error: asset inventory header has no address column (have hostname, zone)"},
		{"name,ip\nPLC-1,10.9.0.1\n", "inv.csv:2:7: error: asset \"PLC-1\": address 10.9.0.1 is in no zone's networks and the asset names no zone"},
		{"name,ip,zone\nPLC-1,10.1.0.1,A-CTL\nPLC-1,10.1.0.2,A-CTL\n", "inv.csv:3:1: error: asset \"PLC-1\" is defined twice (first at inv.csv:2:1)"},
		{"name,ip\nPLC-1,\"10.1.0.1\nx,y\n", "inv.csv:3:5: error: extraneous or missing \" in quoted-field"},
		{"name,ip\nPLC-1,10.1.0.300\n", "inv.csv:2:7: error: asset \"PLC-1\": \"10.1.0.300\" is not an IP address"},
	}
	for _, b := range bad {
		_, err := Compile(zones, Source{Name: "inv.csv", Data: []byte(b.csv)})
		if err == nil || err.Error() != b.want {
			t.Errorf("csv %q:\n got %v\nwant %s", b.csv, err, b.want)
		}
	}
}

// FuzzCompile feeds arbitrary bytes to the YAML and CSV loaders: they must
// never panic, and a failure must carry diagnostics.
func FuzzCompile(f *testing.F) {
	for _, name := range []string{"../examples/refinery/zones.yaml", "testdata/structured.good.yaml", "testdata/overlap.bad.yaml", "../examples/refinery/assets.csv"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(name, ".csv"))
	}
	f.Add([]byte("zones: [{zone_id: &a A, purdue_level: *a}]"), false)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		name := "fuzz.yaml"
		if csv {
			name = "fuzz.csv"
		}
		m, err := Compile(Source{Name: name, Data: data})
		if err != nil && Diagnostics(err) == nil {
			t.Fatalf("error without diagnostics: %v", err)
		}
		if err == nil && m == nil {
			t.Fatal("nil model without error")
		}
	})
}

// The hash names the files' content, not where they live: a copy of the
// model elsewhere hashes alike, any edit (a comment too) does not.
func TestModelHash(t *testing.T) {
	a := loadRefinery(t)
	if len(a.Hash()) != 64 || a.ShortHash() != a.Hash()[:12] {
		t.Fatalf("hash %q short %q", a.Hash(), a.ShortHash())
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(refinery)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(refinery + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+e.Name(), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash() != a.Hash() {
		t.Errorf("copy hashes %s, original %s", b.Hash(), a.Hash())
	}
	f, err := os.OpenFile(dir+"/zones.yaml", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# reviewed\n")
	f.Close()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() == a.Hash() {
		t.Error("an edited model keeps its hash")
	}
	// Moving bytes from one file to the next is a different model version.
	x, _ := Compile(Source{"a.yaml", []byte("facility: x\n")}, Source{"b.yaml", []byte("site: y\n")})
	y, _ := Compile(Source{"a.yaml", []byte("facility: x\nsite: y\n")}, Source{"b.yaml", nil})
	if x == nil || y == nil || x.Hash() == y.Hash() {
		t.Errorf("framing: %v %v", x, y)
	}
}

// Read-only rules on the functions decoders name beyond the codes: UMAS
// sub-functions, CIP services by object, S7 user data and S7comm-plus,
// OPC UA services, BACnet's unconfirmed services, IEC 104 App-ID groups.
func TestReadOnlyByName(t *testing.T) {
	for _, tc := range []struct {
		proto, fn string
		code      int
		allowed   bool
	}{
		{"modbus", "umas_read_variables", 90, true}, {"modbus", "umas_download_block", 90, false},
		{"modbus", "umas_stop_plc", 90, false}, {"modbus", "umas", 90, false},
		{"enip", "read_modify_write_tag", 0x4e, false}, {"enip", "forward_close", 0x4e, true},
		{"enip", "", 0x4e, false}, {"enip", "unconnected_send", 0x52, false}, {"enip", "read_tag_fragmented", 0x52, true},
		{"enip", "initiate_download", 0x4c, false}, {"enip", "initiate_partial_read", 0x4d, true},
		{"s7", "read_var", 4, true}, {"s7", "write_var", 5, false}, {"s7", "download_block", 0x1b, false},
		{"s7", "plc_stop", 0x29, false}, {"s7", "read_szl", -1, true}, {"s7", "plc_password", -1, false},
		{"s7", "get_multi_variables", 0x054c, true}, {"s7", "set_multi_variables", 0x0542, false},
		{"s7", "notification", -1, true},
		{"opcua", "write", 673, false}, {"opcua", "call", 712, false}, {"opcua", "browse", 527, true},
		{"opcua", "hello", -1, true}, {"opcua", "WriteRequest", -1, false},
		{"bacnet", "who_is", -1, true}, {"bacnet", "write_property", 15, false}, {"bacnet", "time_synchronization", -1, false},
		{"iec104", "asdu_process_info_control", -1, false}, {"iec104", "asdu_process_info_monitor", -1, true},
		{"iec104", "single_command", 45, false}, {"iec104", "m_me_nc_1", 13, true},
		{"dnp3", "save_configuration", 19, false}, {"dnp3", "response", 129, true},
	} {
		p := lookupProtocol(tc.proto)
		fs := newFunctionSet(p.functions, p.functions.readOnly, p.functions.readCode)
		if got := fs.Allows(tc.code, tc.fn); got != tc.allowed {
			t.Errorf("%s %s (%d) under read-only: allowed %v, want %v", tc.proto, tc.fn, tc.code, got, tc.allowed)
		}
	}
}

func TestProtocolCatalogueLookups(t *testing.T) {
	if p, ok := LookupProtocol("Modbus/TCP"); !ok || p.Name != "modbus" || p.Transport != "tcp" || p.Ports[0] != 502 || !p.Functions || p.NamedFunctions {
		t.Errorf("Modbus/TCP: %+v %v", p, ok)
	}
	if p, ok := LookupProtocol("OPC UA"); !ok || !p.NamedFunctions {
		t.Errorf("OPC UA: %+v", p)
	}
	if _, ok := LookupProtocol("msrpc"); ok {
		t.Error("msrpc is in the catalogue")
	}
	if p, ok := ProtocolByPort("tcp", 44818); !ok || p.Name != "enip" {
		t.Errorf("tcp/44818: %+v", p)
	}
	if _, ok := ProtocolByPort("udp", 502); ok {
		t.Error("udp/502 is Modbus/TCP")
	}
	for _, c := range []struct {
		proto          string
		code           int
		name           string
		readOnly, know bool
	}{
		{"modbus", 3, "", true, true},
		{"modbus", 16, "", false, true},
		{"modbus", -1, "write_single_register", false, true},
		{"modbus", -1, "Read Holding Registers", true, true},
		{"modbus", 90, "", false, true}, // not in the catalogue: not read-only
		{"modbus", -1, "", false, false},
		{"modbus", -1, "frobnicate", false, true}, // named, not listed: no read
		{"opcua", -1, "frobnicate", false, true},
		{"opcua", -1, "Read", true, true},
		{"opcua", -1, "write", false, true},
		{"opcua", 3, "", false, true}, // OPC UA services are named: a bare code is no read
		{"https", -1, "GET", false, false},
		{"dnp3", 129, "", true, true},
	} {
		if ro, known := ReadOnlyFunction(c.proto, c.code, c.name); ro != c.readOnly || known != c.know {
			t.Errorf("%s %d %q: read-only %v known %v, want %v %v", c.proto, c.code, c.name, ro, known, c.readOnly, c.know)
		}
	}
}
