package correlate

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/event"
)

// TestScanSummaryCounts: a sweep over one port says "1 distinct port".
func TestScanSummaryCounts(t *testing.T) {
	for _, c := range []struct{ ports, hosts, want string }{
		{"1", "20", ": 1 distinct port and 20 distinct hosts in Z2-BPCS within 1m0s"},
		{"25", "1", ": 25 distinct ports and 1 distinct host in Z2-BPCS within 1m0s"},
	} {
		f := &event.Finding{SrcIP: netip.MustParseAddr("10.100.66.6"), SrcZone: "Z5-ENT", DstZone: "Z2-BPCS",
			Attrs: []event.Attr{{Key: "distinct_ports", Value: c.ports}, {Key: "distinct_hosts", Value: c.hosts}, {Key: "window", Value: "1m0s"}}}
		if got := scanSummary(f); !strings.Contains(got, c.want) {
			t.Errorf("%s ports, %s hosts: %q", c.ports, c.hosts, got)
		}
	}
}
