package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// generateModel writes a model of nets /24 networks spread over nets/100
// zones in a chain (conduit i joins zone i and i+1: Modbus FC 3/4 from the
// upper zone, HTTPS up), and assets addresses, 10 to a network.
func generateModel(nets, assets int) []Source {
	zones := nets / 100
	var y strings.Builder
	y.WriteString("zones:\n")
	for z := 0; z < zones; z++ {
		fmt.Fprintf(&y, "  - zone_id: Z%04d-GEN\n    purdue_level: %d\n    security_level_target: SL 2\n", z, 1+z%3)
	}
	y.WriteString("conduits:\n")
	for z := 0; z+1 < zones; z++ {
		fmt.Fprintf(&y, "  - conduit_id: C%04d\n    connects: [Z%04d-GEN, Z%04d-GEN]\n    security_level: SL 2\n    controls: [DPI]\n", z, z, z+1)
		fmt.Fprintf(&y, "    protocols_allowed:\n      - {protocol: Modbus/TCP, port: 502, direction: \"Z%04d -> Z%04d (read only, FC 3/4 only)\"}\n", z+1, z)
		fmt.Fprintf(&y, "      - {protocol: HTTPS, port: 443, direction: \"Z%04d -> Z%04d\"}\n", z, z+1)
	}
	y.WriteString("networks:\n")
	for k := 0; k < nets; k++ {
		fmt.Fprintf(&y, "  - {zone: Z%04d-GEN, cidrs: [%s]}\n", k/100, genNet(k))
	}
	var c strings.Builder
	c.WriteString("name,ip\n")
	for a := 0; a < assets; a++ {
		k := a / 10 % nets
		fmt.Fprintf(&c, "asset-%d,%s\n", a, genAddr(k, a%10+10+a/(10*nets)*10))
	}
	return []Source{{Name: "gen.yaml", Data: []byte(y.String())}, {Name: "gen.csv", Data: []byte(c.String())}}
}

func genNet(k int) string { return fmt.Sprintf("10.%d.%d.0/24", k/256, k%256) }

func genAddr(k, host int) string { return fmt.Sprintf("10.%d.%d.%d", k/256, k%256, host) }

var (
	largeOnce  sync.Once
	largeModel *Model
	largeErr   error
)

func loadLarge(tb testing.TB) *Model {
	largeOnce.Do(func() { largeModel, largeErr = Compile(generateModel(10_000, 100_000)...) })
	if largeErr != nil {
		tb.Fatal(largeErr)
	}
	return largeModel
}

func TestLargeModel(t *testing.T) {
	if testing.Short() {
		t.Skip("large model")
	}
	m := loadLarge(t)
	if len(m.Zones()) != 100 || len(m.Assets()) != 100_000 || len(m.Conduits()) != 99 {
		t.Fatalf("%d zones %d assets %d conduits", len(m.Zones()), len(m.Assets()), len(m.Conduits()))
	}
	a := netip.MustParseAddr
	if z := m.ZoneOf(a(genAddr(9999, 200))); z == nil || z.ID != "Z0099-GEN" {
		t.Errorf("last network: %v", z)
	}
	d := m.Evaluate(Flow{Src: a(genAddr(150, 12)), Dst: a(genAddr(50, 12)), Transport: "tcp", Port: 502, FunctionCode: 16})
	if d.Reason != FunctionNotPermitted || d.Conduit.ID != "C0000" || d.SrcAsset == nil {
		t.Errorf("write down the chain: %+v", d)
	}
	if d := m.Evaluate(Flow{Src: a(genAddr(250, 1)), Dst: a(genAddr(50, 1)), Transport: "tcp", Port: 502, FunctionCode: 3}); d.Reason != NoConduit {
		t.Errorf("two zones apart: %q", d.Reason)
	}
}

// flows is a mix of what a plant sees: allowed reads, a denied write,
// wrong-direction traffic, an unmanaged address and traffic within a zone.
func benchFlows(m *Model, large bool) []Flow {
	a := netip.MustParseAddr
	if large {
		return []Flow{
			{Src: a(genAddr(150, 12)), Dst: a(genAddr(50, 13)), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 3},
			{Src: a(genAddr(150, 12)), Dst: a(genAddr(50, 13)), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 6},
			{Src: a(genAddr(5050, 99)), Dst: a(genAddr(5150, 99)), Transport: "tcp", Port: 443, FunctionCode: -1},
			{Src: a(genAddr(7000, 14)), Dst: a(genAddr(6900, 14)), Transport: "tcp", Port: 443, FunctionCode: -1},
			{Src: a("192.168.1.1"), Dst: a(genAddr(10, 10)), Transport: "udp", Port: 53, FunctionCode: -1},
			{Src: a(genAddr(9000, 10)), Dst: a(genAddr(9001, 200)), Transport: "tcp", Port: 22, FunctionCode: -1},
		}
	}
	return []Flow{
		{Src: a("10.30.1.50"), Dst: a("10.20.1.10"), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 3},
		{Src: a("10.30.1.50"), Dst: a("10.20.1.10"), Transport: "tcp", Port: 502, App: "modbus", FunctionCode: 6},
		{Src: a("10.20.1.10"), Dst: a("10.30.1.50"), Transport: "tcp", Port: 4840, App: "opcua", FunctionCode: -1},
		{Src: a("10.100.7.7"), Dst: a("172.16.1.30"), Transport: "tcp", Port: 3389, FunctionCode: -1},
		{Src: a("10.100.5.5"), Dst: a("10.20.1.10"), Transport: "tcp", Port: 502, FunctionCode: -1},
		{Src: a("172.16.1.100"), Dst: a("10.30.1.100"), Transport: "tcp", Port: 5450, FunctionCode: -1},
	}
}

func BenchmarkZoneOf(b *testing.B) {
	for _, size := range []string{"refinery", "10k-networks-100k-assets"} {
		b.Run(size, func(b *testing.B) {
			m, large := loadRefinery(b), size != "refinery"
			if large {
				m = loadLarge(b)
			}
			var addrs []netip.Addr
			for _, f := range benchFlows(m, large) {
				addrs = append(addrs, f.Src, f.Dst)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.ZoneOf(addrs[i%len(addrs)])
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, size := range []string{"refinery", "10k-networks-100k-assets"} {
		b.Run(size, func(b *testing.B) {
			m, large := loadRefinery(b), size != "refinery"
			if large {
				m = loadLarge(b)
			}
			flows := benchFlows(m, large)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = m.Evaluate(flows[i%len(flows)])
			}
		})
	}
}

func BenchmarkCompileLarge(b *testing.B) {
	srcs := generateModel(10_000, 100_000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(srcs...); err != nil {
			b.Fatal(err)
		}
	}
}
