package rules

import (
	"net/netip"
	"strings"
	"testing"
)

// Broadcast, multicast, link-local and unspecified addresses never make a
// cross-zone verdict or an air-gap breach: they are judged in the zone of
// the segment they were seen on. The routed endpoint keeps its own zone, so
// a host heard on another zone's segment still crosses into it.
func TestLinkLocalStaysOnItsSegment(t *testing.T) {
	m := loadRefinery(t)
	idsZ2, fw := m.Device("ids-z2"), m.Device("isa3000-c1")
	for _, tt := range []struct {
		name, src, dst string
		reporter       *Device
		reason         Reason
		zone           string
	}{
		{"sis controller's broadcast", "10.10.1.10", "255.255.255.255", nil, IntraZone, "Z1-SIS"},
		{"sis controller's multicast", "10.10.1.11", "224.0.0.251", fw, IntraZone, "Z1-SIS"},
		{"subnet-directed broadcast in the sis", "10.10.1.10", "10.10.255.255", nil, IntraZone, "Z1-SIS"},
		{"enip class-1 multicast i/o", "10.20.1.10", "239.192.1.10", idsZ2, IntraZone, "Z2-BPCS"},
		{"dhcp discover seen by the z2 sensor", "0.0.0.0", "255.255.255.255", idsZ2, IntraZone, "Z2-BPCS"},
		{"dhcpv6 solicit seen by the z2 sensor", "fe80::1", "ff02::1:2", idsZ2, IntraZone, "Z2-BPCS"},
		{"dhcp discover, segment unknown", "0.0.0.0", "255.255.255.255", fw, IntraZone, ""},
		{"apipa host to a plc", "169.254.7.7", "10.20.1.10", nil, IntraZone, "Z2-BPCS"},
		{"unmanaged host broadcasting on z2", "192.168.5.5", "255.255.255.255", idsZ2, UnknownZone, ""},
		// The segment is the sensor's: a SIS controller heard on the BPCS
		// tap is on the BPCS network, whatever its address says.
		{"sis controller's broadcast on the z2 tap", "10.10.1.10", "255.255.255.255", idsZ2, AirGap, ""},
		{"z3 host's multicast on the z2 tap", "10.30.1.50", "239.192.1.10", idsZ2, NotPermitted, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := m.Evaluate(Flow{Src: netip.MustParseAddr(tt.src), Dst: netip.MustParseAddr(tt.dst), Transport: "udp", Port: 67,
				FunctionCode: -1, Reporter: tt.reporter})
			if d.Reason != tt.reason || d.Local == strings.HasPrefix(tt.dst, "10.10.") {
				t.Errorf("reason %q local %v, want %q", d.Reason, d.Local, tt.reason)
			}
			if tt.reason == IntraZone && (id(d.SrcZone) != tt.zone || id(d.DstZone) != tt.zone) {
				t.Errorf("zones %s→%s, want %s", id(d.SrcZone), id(d.DstZone), tt.zone)
			}
		})
	}
	// A routed address is not local: a SIS host reaching another zone's
	// broadcast address is still an air gap breach.
	if d := m.Evaluate(Flow{Src: netip.MustParseAddr("10.10.1.10"), Dst: netip.MustParseAddr("10.20.255.255"), FunctionCode: -1}); d.Reason != AirGap {
		t.Errorf("directed broadcast into Z2 from the SIS: %q", d.Reason)
	}
}

// otsiem's collection path: a declared device's syslog and time sync to a
// declared service are monitoring traffic, never diode_reverse; anything
// else from the diode's low side stays diode_reverse.
func TestMonitoringTraffic(t *testing.T) {
	m := loadRefinery(t)
	for _, tt := range []struct {
		name, src, dst string
		transport      string
		port           uint16
		reason         Reason
		allowed        bool
	}{
		{"diode rx health report to the collector", "172.16.1.100", "10.30.1.60", "udp", 514, Monitoring, false},
		{"diode rx syslog over tls", "172.16.1.100", "10.30.1.60", "tcp", 6514, Monitoring, false},
		{"diode rx time sync", "172.16.1.100", "10.30.1.60", "udp", 123, Monitoring, false},
		{"pa-c3's syslog from the dmz", "172.16.1.2", "10.30.1.60", "udp", 514, Monitoring, false},
		{"ids-z2's syslog from the control zone", "10.20.0.5", "10.30.1.60", "tcp", 514, Monitoring, false},
		{"ids-z3's syslog, same zone", "10.30.1.5", "10.30.1.60", "udp", 514, IntraZone, true},
		{"diode rx ssh into z3", "172.16.1.100", "10.30.1.60", "tcp", 22, DiodeReverse, false},
		{"diode rx to a port the collector does not serve", "172.16.1.100", "10.30.1.60", "udp", 5514, DiodeReverse, false},
		{"a dmz host that is no device, to the collector", "172.16.1.30", "10.30.1.60", "udp", 514, NotPermitted, false},
		{"anything aimed at the diode tx", "172.16.1.30", "10.30.1.100", "udp", 514, DiodeReverse, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := m.Evaluate(Flow{Src: netip.MustParseAddr(tt.src), Dst: netip.MustParseAddr(tt.dst), Transport: tt.transport, Port: tt.port, FunctionCode: -1})
			if d.Reason != tt.reason || d.Allowed != tt.allowed {
				t.Errorf("reason %q allowed %v, want %q %v", d.Reason, d.Allowed, tt.reason, tt.allowed)
			}
		})
	}
	// With a conduit rule that carries it, monitoring traffic is allowed.
	srcs := refinerySources(t)
	for i, s := range srcs {
		if strings.HasSuffix(s.Name, "zones.yaml") {
			anchor := "        direction: \"Z4 -> Z3 (patch downloads only)\"\n"
			srcs[i].Data = []byte(strings.Replace(string(s.Data), anchor,
				anchor+"      - protocol: Syslog\n        transport: any\n        ports: [514, 6514]\n        direction: \"Z4 -> Z3\"\n", 1))
		}
	}
	m2, err := Compile(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	d := m2.Evaluate(Flow{Src: netip.MustParseAddr("172.16.1.100"), Dst: netip.MustParseAddr("10.30.1.60"), Transport: "udp", Port: 514, FunctionCode: -1})
	if !d.Allowed || !d.Monitoring || d.Rule == nil || d.Rule.App != "syslog" {
		t.Errorf("syslog over a declared rule: %+v", d)
	}
	for _, w := range m2.Diagnostics() {
		if w.Code == "no-collector-path" && (strings.Contains(w.Message, `"pa-c3"`) || strings.Contains(w.Message, "DMZ-DD-01")) {
			t.Errorf("a path exists now: %s", w)
		}
	}
}

// A rule "via data diode" allows only the diode's own tx → rx pair.
func TestDiodeBypass(t *testing.T) {
	m := loadRefinery(t)
	for _, tt := range []struct {
		name, src, dst string
		reason         Reason
	}{
		{"the diode's pair", "10.30.1.100", "172.16.1.100", ""},
		{"historian straight to the dmz historian", "10.30.1.50", "172.16.1.10", DiodeBypass},
		{"tx to another dmz host", "10.30.1.100", "172.16.1.10", DiodeBypass},
		{"another z3 host to the rx", "10.30.1.50", "172.16.1.100", DiodeBypass},
		{"back from the rx", "172.16.1.100", "10.30.1.100", DiodeReverse},
	} {
		d := m.Evaluate(Flow{Src: netip.MustParseAddr(tt.src), Dst: netip.MustParseAddr(tt.dst), Transport: "tcp", Port: 5450, App: "pi", FunctionCode: -1})
		if d.Reason != tt.reason || d.Allowed != (tt.reason == "") || d.Rule == nil || d.Rule.ID() != "C2-OPS-DMZ#1" {
			t.Errorf("%s: reason %q allowed %v rule %v", tt.name, d.Reason, d.Allowed, d.Rule)
		}
	}
}

// With several conduits between two zones, the verdict names the conduit
// whose rule matches, else the one the reporting firewall enforces, judged
// by its own rules.
func TestRightConduit(t *testing.T) {
	src := `
zones:
  - {zone_id: Z2-BPCS, purdue_level: 2, security_level_target: SL 2, networks: [10.20.0.0/16]}
  - {zone_id: Z3-OPS, purdue_level: 3, security_level_target: SL 2, networks: [10.30.0.0/16]}
conduits:
  - conduit_id: C1-A
    connects: [Z2-BPCS, Z3-OPS]
    protocols_allowed:
      - {protocol: Modbus/TCP, port: 502, direction: "Z3 -> Z2 (read only)"}
  - conduit_id: C1-B
    connects: [Z2-BPCS, Z3-OPS]
    protocols_allowed:
      - {protocol: OPC UA, port: 4840, direction: "Z2 -> Z3"}
devices:
  - {hostname: fw-a, role: firewall, mode: enforce, conduits: [C1-A], addresses: [10.30.0.1]}
  - {hostname: fw-b, role: firewall, mode: enforce, conduits: [C1-B], addresses: [10.30.0.2]}
`
	m, err := Compile(Source{Name: "two.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	hist, plc := netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.10")
	for _, tt := range []struct {
		name      string
		src, dst  netip.Addr
		port      uint16
		reporter  string
		conduit   string
		reason    Reason
		allowedOK bool
	}{
		{"opc ua matches C1-B's rule, whoever reports", plc, hist, 4840, "fw-a", "C1-B", "", true},
		{"modbus matches C1-A's rule", hist, plc, 502, "fw-b", "C1-A", "", true},
		{"ssh through fw-b: C1-B", hist, plc, 22, "fw-b", "C1-B", NotPermitted, false},
		{"ssh through fw-a: C1-A", hist, plc, 22, "fw-a", "C1-A", NotPermitted, false},
		// fw-a passed it: its conduit has no OPC UA rule (C1-B's rule
		// runs the other way, but fw-a is not on C1-B).
		{"opc ua the wrong way through fw-a", hist, plc, 4840, "fw-a", "C1-A", NotPermitted, false},
		{"opc ua the wrong way through fw-b", hist, plc, 4840, "fw-b", "C1-B", WrongDirection, false},
		{"ssh seen by a sensor: the first conduit", hist, plc, 22, "", "C1-A", NotPermitted, false},
	} {
		d := m.Evaluate(Flow{Src: tt.src, Dst: tt.dst, Transport: "tcp", Port: tt.port, FunctionCode: -1, Reporter: m.Device(tt.reporter)})
		if d.Conduit == nil || d.Conduit.ID != tt.conduit || d.Reason != tt.reason || d.Allowed != tt.allowedOK {
			t.Errorf("%s: conduit %v reason %q allowed %v", tt.name, d.Conduit, d.Reason, d.Allowed)
		}
	}
	// A Modbus write (FC 16): C1-A allows reads only, C1-B no Modbus.
	for _, tt := range []struct {
		reporter, conduit string
		reason            Reason
	}{{"fw-b", "C1-B", NotPermitted}, {"fw-a", "C1-A", FunctionNotPermitted}, {"", "C1-A", FunctionNotPermitted}} {
		d := m.Evaluate(Flow{Src: hist, Dst: plc, Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 16, Transaction: true,
			Reporter: m.Device(tt.reporter)})
		if d.Conduit == nil || d.Conduit.ID != tt.conduit || d.Reason != tt.reason || d.Allowed {
			t.Errorf("modbus write reported by %q: conduit %v reason %q allowed %v", tt.reporter, d.Conduit, d.Reason, d.Allowed)
		}
	}
}
