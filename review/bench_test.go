package review_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/storage"
)

// BenchmarkPropose judges a baseline of 100,000 rows (the distinct flows
// of a large plant over four weeks: a tenth cross zones without a rule)
// and groups them into proposals.
func BenchmarkPropose(b *testing.B) {
	p, err := review.LoadPlant("../examples/refinery")
	if err != nil {
		b.Fatal(err)
	}
	days := []time.Time{day("2026-11-01"), day("2026-11-02"), day("2026-11-03"), day("2026-11-04")}
	rows := make([]storage.BaselineFlow, 100_000)
	for i := range rows {
		r := storage.BaselineFlow{Transport: "tcp", Events: 40, FirstSeen: days[0], LastSeen: days[3], Days: days, Devices: []string{"ids-z2"}}
		switch i % 10 {
		case 0: // operations to a PLC on a port C1 does not list
			r.SrcIP, r.DstIP, r.DstPort, r.AppProtocol, r.FunctionCode = addr(10, 30, i), addr(10, 20, i), 5020, "modbus", 3
		default: // within the control zone
			r.SrcIP, r.DstIP, r.DstPort, r.AppProtocol, r.FunctionCode = addr(10, 20, i), addr(10, 20, i+1), 44818, "enip", 0x4c
		}
		rows[i] = r
	}
	b.ReportAllocs()
	for b.Loop() {
		prop := p.Propose(rows, review.ProposeOptions{})
		if len(prop.Rules) != 1 {
			b.Fatalf("%d rules", len(prop.Rules))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/row")
}

func addr(a, b byte, i int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("%d.%d.%d.%d", a, b, (i/250)%250+1, i%250+1))
}
