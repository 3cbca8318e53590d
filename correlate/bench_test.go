package correlate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// largeModel generates a model of 10,000 /24 networks in 100 zones chained
// by conduits, with a firewall on every conduit (the idea of rules'
// generated benchmark model, rebuilt here).
func largeModel(tb testing.TB) *rules.Model {
	tb.Helper()
	const nets, zones = 10_000, 100
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
		fmt.Fprintf(&y, "  - {zone: Z%04d-GEN, cidrs: [10.%d.%d.0/24]}\n", k/100, k/256, k%256)
	}
	y.WriteString("devices:\n")
	for z := 0; z+1 < zones; z++ {
		mode := "enforce"
		if z%2 == 1 {
			mode = "monitor"
		}
		fmt.Fprintf(&y, "  - {hostname: fw-%d, role: firewall, conduits: [C%04d], mode: %s, addresses: [192.168.%d.%d]}\n", z, z, mode, z/256, z%256+1)
	}
	m, err := rules.Compile(rules.Source{Name: "gen.yaml", Data: []byte(y.String())})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// benchEvents returns n events between random addresses of addrs.
func benchEvents(n int, addrs []netip.Addr, devices []string) []event.Event {
	r := rand.New(rand.NewPCG(3, 4))
	actions := []event.Action{event.ActionAllow, event.ActionDeny, event.ActionClose, event.ActionAlert}
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Device: devices[r.IntN(len(devices))], Action: actions[r.IntN(len(actions))],
			SrcIP: addrs[r.IntN(len(addrs))], DstIP: addrs[r.IntN(len(addrs))], Transport: "tcp",
			DstPort: event.Some([]uint16{502, 443, 102, 4840}[r.IntN(4)]), Time: time.Unix(1776245810, 0)}
	}
	return evs
}

func benchVerdicts(b *testing.B, m *rules.Model, evs []event.Event) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		Enrich(m, ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkVerdictRefinery is the verdict stage (Judge and Apply) over the
// refinery model.
func BenchmarkVerdictRefinery(b *testing.B) {
	m := refinery(b)
	var addrs []netip.Addr
	for _, a := range m.Assets() {
		addrs = append(addrs, a.Addresses...)
	}
	addrs = append(addrs, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("10.20.99.1"))
	benchVerdicts(b, m, benchEvents(4096, addrs, []string{"isa3000-c1", "fgr-c2", "pa-c3", "ids-z2"}))
}

// BenchmarkVerdictLarge is the verdict stage over 10,000 networks.
func BenchmarkVerdictLarge(b *testing.B) {
	m := largeModel(b)
	r := rand.New(rand.NewPCG(5, 6))
	addrs := make([]netip.Addr, 4096)
	for i := range addrs {
		k := r.IntN(10_000)
		// Mostly neighbouring zones, so that conduits and rules are exercised.
		addrs[i] = netip.AddrFrom4([4]byte{10, byte(k / 256), byte(k % 256), byte(1 + r.IntN(250))})
	}
	devs := make([]string, 99)
	for i := range devs {
		devs[i] = fmt.Sprintf("fw-%d", i)
	}
	benchVerdicts(b, m, benchEvents(4096, addrs, devs))
}

// BenchmarkEngine is the whole stateful engine (verdict, folding, scans,
// pairs) over the refinery model, with event time advancing 1 ms per event.
func BenchmarkEngine(b *testing.B) {
	m := refinery(b)
	var addrs []netip.Addr
	for _, a := range m.Assets() {
		addrs = append(addrs, a.Addresses...)
	}
	evs := benchEvents(4096, addrs, []string{"isa3000-c1", "fgr-c2", "pa-c3", "ids-z2"})
	e := NewEngine(m, Config{Learn: time.Second}, func(*event.Finding) {})
	t0 := time.Unix(1776245810, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		e.Process(&ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	st := e.Stats()
	b.ReportMetric(float64(st.Folds+st.ScanSources+st.Pairs), "state_entries")
}
