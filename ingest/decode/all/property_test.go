package all_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/event"
)

// TestNoFlowWithoutBothAddresses is the property every decoder keeps: no
// flow, dpi or alert event without both endpoints (an address, or a host
// name the model can resolve), and every event survives the codec. It runs
// every golden line of every decoder, and every variant of each with one of
// its fields or words removed and cut short, through each decoder forced
// and through detection.
func TestNoFlowWithoutBothAddresses(t *testing.T) {
	logs, _ := filepath.Glob("../*/testdata/*.log")
	more, _ := filepath.Glob("testdata/*/*.log")
	logs = append(logs, more...)
	var lines []string
	for _, path := range logs {
		ls, err := decodetest.ReadLog(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			lines = append(lines, variants(l.Text)...)
		}
	}
	parsers := []*decode.Parser{{}}
	for _, name := range decode.Default.Names() {
		d, _ := decode.Default.Lookup(name)
		parsers = append(parsers, &decode.Parser{Decoder: d})
	}
	sender := netip.MustParseAddr("10.30.1.1")
	checked, judged := 0, 0
	var ev, back event.Event
	for _, line := range lines {
		for _, p := range parsers {
			p.Parse([]byte(line), sender, decodetest.Received, &ev)
			checked++
			switch ev.Kind {
			case event.KindFlow, event.KindDPI, event.KindAlert:
				judged++
				_, srcHost := ev.Attr(event.AttrSrcHost)
				_, dstHost := ev.Attr(event.AttrDstHost)
				if !ev.SrcIP.IsValid() && !srcHost || !ev.DstIP.IsValid() && !dstHost {
					t.Fatalf("%s event without both endpoints from %q", ev.Kind, line)
				}
			}
			if err := event.Decode(ev.AppendJSON(nil), &back); err != nil {
				t.Fatalf("%q: codec round trip: %v", line, err)
			}
		}
	}
	t.Logf("%d lines and variants through %d parsers: %d events, %d flow/dpi/alert", len(lines), len(parsers), checked, judged)
	if judged == 0 {
		t.Fatal("no flow, dpi or alert event at all")
	}
}

// variants returns line and copies with one separator-delimited field
// removed, for every field, and cut at every tenth of its length.
func variants(line string) []string {
	out := []string{line}
	isSep := func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }
	var starts []int
	for i, r := range line {
		if i == 0 || isSep(r) {
			starts = append(starts, i)
		}
	}
	starts = append(starts, len(line))
	for k := 0; k+1 < len(starts); k++ {
		out = append(out, line[:starts[k]]+line[starts[k+1]:])
	}
	for n := 1; n < 10; n++ {
		out = append(out, strings.TrimRight(line[:len(line)*n/10], "\\"))
	}
	return out
}
