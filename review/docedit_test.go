package review_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

// A model in another hand's style: two files, plain scalars, dashes at
// the keys' column, allowed_conduits as a flow list and as a block list,
// a conduit with no rules yet, and no newline at the end of a file.
const (
	styleZones = `zones:
- zone_id: Z1-PROC   # drives and I/O
  purdue_level: 0-1
- zone_id: Z2-BPCS
  purdue_level: 2
  allowed_conduits: [C1-BPCS-OPS]  # reviewed 2026-03
- zone_id: Z3-OPS
  purdue_level: 3
  allowed_conduits:
  - C1-BPCS-OPS
- zone_id: Z4-DMZ
  purdue_level: 3.5
`
	styleConduits = `conduits:
- conduit_id: C1-BPCS-OPS
  connects: [Z2-BPCS, Z3-OPS]
  controls: [firewall]`
)

// row is one baseline row, as storage.QueryBaselineFlows returns it.
func row(src, dst string, port uint16, app string, fc int32, fn string) storage.BaselineFlow {
	days := make([]time.Time, 5)
	for i := range days {
		days[i] = day("2026-11-10").Add(time.Duration(i) * 24 * time.Hour)
	}
	return storage.BaselineFlow{SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst), Transport: "tcp", DstPort: port,
		AppProtocol: app, FunctionCode: fc, Function: fn, Events: 50, FirstSeen: days[0], LastSeen: days[4].Add(time.Hour), Days: days}
}

func stylePlant(t *testing.T) *review.Plant {
	t.Helper()
	// Networks in a third file: 10.<zone>.0.0/16.
	nets := "networks:\n- {zone: Z1-PROC, cidrs: [10.1.0.0/16]}\n- {zone: Z2-BPCS, cidrs: [10.2.0.0/16]}\n- {zone: Z3-OPS, cidrs: [10.3.0.0/16]}\n- {zone: Z4-DMZ, cidrs: [10.4.0.0/16]}\n"
	p, err := review.NewPlant("/plant", []rules.Source{{Name: "/plant/conduits.yaml", Data: []byte(styleConduits)},
		{Name: "/plant/networks.yaml", Data: []byte(nets)}, {Name: "/plant/zones.yaml", Data: []byte(styleZones)}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEditKeepsTheDocumentsStyle(t *testing.T) {
	p := stylePlant(t)
	prop := p.Propose([]storage.BaselineFlow{
		row("10.3.0.5", "10.2.0.9", 502, "modbus", 3, "read_holding_registers"), // onto C1, which has no rules yet
		row("10.3.0.5", "10.4.0.7", 443, "https", -1, ""),                       // a new conduit Z3-Z4
		row("10.2.0.9", "10.1.0.3", 502, "modbus", 4, "read_input_registers"),   // a new conduit Z1-Z2
	}, review.ProposeOptions{})
	edited, err := p.Edit(prop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verify(prop, edited); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/plant/conduits.yaml": `conduits:
- conduit_id: C1-BPCS-OPS
  connects: [Z2-BPCS, Z3-OPS]
  controls: [firewall]
  protocols_allowed:
    # proposed by otsiem: 50 events on 5 days, 2026-11-10 .. 2026-11-14; 10.3.0.5 -> 10.2.0.9; the model: not_permitted
    - protocol: Modbus/TCP
      port: 502
      direction: Z3 -> Z2 (read only, FC 3 only)
# proposed by otsiem: the baseline crosses between Z1-PROC and Z2-BPCS, which no conduit joins
- conduit_id: C2-PROC-BPCS
  name: Z1-PROC to Z2-BPCS (proposed)
  connects: [Z1-PROC, Z2-BPCS]
  protocols_allowed:
    # proposed by otsiem: 50 events on 5 days, 2026-11-10 .. 2026-11-14; 10.2.0.9 -> 10.1.0.3; the model: no_conduit
    - protocol: Modbus/TCP
      port: 502
      direction: Z2 -> Z1 (read only, FC 4 only)
  controls: []  # to be decided: the firewall and inspection that enforce it
# proposed by otsiem: the baseline crosses between Z3-OPS and Z4-DMZ, which no conduit joins
- conduit_id: C3-OPS-DMZ
  name: Z3-OPS to Z4-DMZ (proposed)
  connects: [Z3-OPS, Z4-DMZ]
  protocols_allowed:
    # proposed by otsiem: 50 events on 5 days, 2026-11-10 .. 2026-11-14; 10.3.0.5 -> 10.4.0.7; the model: no_conduit
    - protocol: HTTPS
      port: 443
      direction: Z3 -> Z4
  controls: []  # to be decided: the firewall and inspection that enforce it
`,
		"/plant/zones.yaml": `zones:
- zone_id: Z1-PROC   # drives and I/O
  purdue_level: 0-1
- zone_id: Z2-BPCS
  purdue_level: 2
  allowed_conduits: [C1-BPCS-OPS, C2-PROC-BPCS]  # reviewed 2026-03
- zone_id: Z3-OPS
  purdue_level: 3
  allowed_conduits:
  - C1-BPCS-OPS
  - C3-OPS-DMZ
- zone_id: Z4-DMZ
  purdue_level: 3.5
`,
	}
	for _, s := range edited {
		w, ok := want[s.Name]
		if !ok {
			w = string(p.Sources[1].Data) // networks.yaml: untouched
		}
		if string(s.Data) != w {
			t.Errorf("%s:\n%s\nwant:\n%s", s.Name, s.Data, w)
		}
	}
	if d := p.Diff(edited); !strings.Contains(d, "--- a/conduits.yaml\n+++ b/conduits.yaml\n") || strings.Contains(d, "networks.yaml") ||
		!strings.Contains(d, "-  controls: [firewall]\n\\ No newline at end of file\n") {
		t.Errorf("diff:\n%s", d)
	}
}

// FuzzEdit: whatever a zone document holds, editing it for a proposal
// never panics, and an edit it makes leaves YAML that parses and a model
// that loads, or says why not.
func FuzzEdit(f *testing.F) {
	f.Add(styleZones, styleConduits)
	f.Add(flatZones, "")
	f.Add("zones:\n  - zone_id: Z2-BPCS\n    purdue_level: 2\n    allowed_conduits: [\"C1-BPCS-OPS\"]\n  - zone_id: Z3-OPS\n    purdue_level: 3\n", "conduits: []\n")
	f.Fuzz(func(t *testing.T, zones, conduits string) {
		nets := "networks:\n- {zone: Z2-BPCS, cidrs: [10.2.0.0/16]}\n- {zone: Z3-OPS, cidrs: [10.3.0.0/16]}\n- {zone: Z4-DMZ, cidrs: [10.4.0.0/16]}\n"
		p, err := review.NewPlant("/plant", []rules.Source{{Name: "/plant/a.yaml", Data: []byte(conduits)},
			{Name: "/plant/b.yaml", Data: []byte(nets)}, {Name: "/plant/c.yaml", Data: []byte(zones)}})
		if err != nil || p.Model.Zone("Z2-BPCS") == nil || p.Model.Zone("Z3-OPS") == nil {
			return
		}
		prop := p.Propose([]storage.BaselineFlow{
			row("10.3.0.5", "10.2.0.9", 502, "modbus", 3, "read_holding_registers"),
			row("10.3.0.5", "10.4.0.7", 443, "https", -1, ""),
		}, review.ProposeOptions{})
		edited, err := p.Edit(prop)
		if err != nil {
			return
		}
		if _, err := p.Verify(prop, edited); err != nil && !strings.Contains(err.Error(), "does not load") {
			t.Errorf("verify: %v", err)
		}
	})
}
