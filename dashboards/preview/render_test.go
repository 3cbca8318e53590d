package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The zone matrix: grouped into rows and columns, each cell coloured by
// its sign, the row names not (an override must not leak into the
// defaults).
func TestRenderMatrix(t *testing.T) {
	raw, err := os.ReadFile("../json/matrix.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	p := &d.Panels[1]
	tb := &table{cols: []string{"src_zone", "dst_zone", "conduit", "allowed", "policy_breaking", "blocked", "total", "cell"},
		types: make([]string, 8), rows: [][]any{
			{"Z1", "Z1", "", uint64(0), uint64(0), uint64(0), uint64(0), "·"},
			{"Z1", "Z2", "", uint64(0), uint64(0), uint64(0), uint64(3), "✗ no conduit: 3 events"},
			{"Z2", "Z1", "C1", uint64(5), uint64(0), uint64(0), uint64(5), "✓ C1: 5 allowed"},
			{"Z2", "Z2", "", uint64(0), uint64(0), uint64(0), uint64(0), "·"}}}
	out := renderTable(p, applyTransforms(p, tb), 300)
	for _, want := range []string{"<th>from \\ to</th><th>Z1</th><th>Z2</th>", "<td>Z1</td><td>·</td>",
		`<td class="colored" style="background:#F2495C">✗ no conduit: 3 events</td>`,
		`<td>Z2</td><td class="colored" style="background:#73BF69">✓ C1: 5 allowed</td>`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in\n%s", want, out)
		}
	}
}
