package review_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/rules"
)

// More of the refinery's addresses.
const (
	hist01  = "10.30.1.50" // HIST-01, Z3
	mes01   = "10.30.1.52" // MES-01, Z3
	plc02   = "10.20.1.11" // PLC-02, Z2
	plc03   = "10.20.1.12" // PLC-03, Z2
	sis01   = "10.10.1.10" // SIS-01, Z1 (air-gapped)
	diodeRX = "172.16.1.100"
	diodeTX = "10.30.1.100"
	dmzWSUS = "172.16.1.20"
	hmi01   = "10.20.2.10"
)

// baseline is four weeks of refinery traffic with what the model lacks and
// what must never become a rule:
//   - MES-01 polls PLC-02 with Modbus FC 3 on port 5020 (a Modbus gateway
//     port C1 does not list), seen by the Z2 sensor every day;
//   - an engineer's PC opens SSH to the jump server every day (pa-c3);
//   - the historian writes PLC-03 (Modbus FC 16) every day: a write from
//     operations into the control zone;
//   - MES-01 talks Modbus to the safety controller SIS-01 every day;
//   - the diode's receiving side sends back to its sending side;
//   - an enterprise PC reaches a PLC every day (skipping two levels);
//   - a one-off HTTPS from the enterprise to the patch server on 8530.
//
// Plus the traffic the model allows: historian reads over C1 and PI
// Vision on the DMZ historian.
func baseline(t *testing.T, m *rules.Model, from, to time.Time) *traffic {
	tr := &traffic{m: m}
	sensor := func(src, dst string, port uint16, fc int32, fn string) line {
		return line{device: "ids-z2", kind: event.KindDPI, action: event.ActionAlert, src: src, dst: dst, port: port, app: "modbus", fc: fc, fn: fn}
	}
	tr.daily(from, to, 4, sensor(mes01, plc02, 5020, 3, "read_holding_registers"))
	tr.daily(from, to, 6, sensor(hist01, plc03, 502, 4, "read_input_registers"))
	tr.daily(from, to, 2, sensor(hist01, plc03, 502, 16, "write_multiple_registers"))
	tr.daily(from, to, 3, line{device: "pa-c3", action: event.ActionAllow, src: "10.100.7.7", dst: dmzJump, port: 22, app: "ssh", fc: -1})
	tr.daily(from, to, 5, line{device: "pa-c3", action: event.ActionAllow, src: entPIVision, dst: dmzHist, port: 443, app: "https", fc: -1})
	tr.daily(from, to, 2, line{device: "ids-z3", src: mes01, dst: sis01, port: 502, app: "modbus", fc: -1})
	tr.daily(from, to, 1, line{device: "fgr-c2", action: event.ActionAllow, src: diodeRX, dst: diodeTX, port: 5450, app: "pi", fc: -1})
	tr.daily(from, to, 1, line{device: "pa-c3", action: event.ActionAllow, src: "10.100.66.6", dst: plc01, port: 502, app: "modbus", fc: -1})
	tr.add(from.Add(30*time.Hour), line{device: "pa-c3", action: event.ActionAllow, src: "10.100.7.7", dst: dmzWSUS, port: 8530, app: "", fc: -1})
	return tr
}

var (
	weekFrom = day("2026-10-23")
	weekTo   = day("2026-11-20")
)

func TestProposeOnTheRefinery(t *testing.T) {
	conn := migrated(t)
	p := refinery(t)
	baseline(t, p.Model, weekFrom, weekTo).store(t, conn)
	prop, err := review.Propose(t.Context(), conn, p, review.ProposeOptions{From: weekFrom, To: weekTo})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*review.Rule{}
	for _, r := range prop.Rules {
		got[r.Conduit+" "+r.Protocol+" "+r.Direction] = r
	}
	modbus := got[`C1-BPCS-OPS Modbus/TCP Z3 -> Z2 (read only, FC 3 only)`]
	if modbus == nil || modbus.Port != 5020 || modbus.Events != 4*28 || modbus.Days != 28 || len(modbus.Flows) != 1 ||
		modbus.Flows[0].From() != "MES-01" || modbus.Flows[0].To() != "PLC-02" || modbus.NewConduit {
		t.Errorf("the Modbus read on 5020 is not proposed as a C1 rule with FC 3: %v", keys(got))
	}
	if ssh := got[`C3-DMZ-ENT SSH Z5 -> Z4`]; ssh == nil || ssh.Port != 22 {
		t.Errorf("SSH to the jump server is not proposed: %v", keys(got))
	}
	if len(prop.Rules) != 2 || len(prop.Conduits) != 0 {
		t.Errorf("rules %v, new conduits %d", keys(got), len(prop.Conduits))
	}
	refused := map[review.Refusal]string{}
	for _, g := range prop.Refused {
		refused[g.Kind] += g.SrcZone + "->" + g.DstZone + " " + g.Service + ": " + g.Reason + "\n"
	}
	for kind, want := range map[review.Refusal]string{
		review.RefuseControlWrite: "Z3-OPS->Z2-BPCS modbus tcp/502: Modbus/TCP FC 16 write_multiple_registers is a write from lower-trust Z3-OPS into control zone Z2-BPCS",
		review.RefuseIsolated:     "Z3-OPS->Z1-SIS modbus tcp/502: Z1-SIS is air-gapped: declared with no allowed conduits",
		review.RefuseDiode:        "Z4-DMZ->Z3-OPS pi tcp/5450: against the one-way data diode path of C2-OPS-DMZ",
		review.RefusePurdueSkip:   "Z5-ENT->Z2-BPCS modbus tcp/502: Z5-ENT (level 4) to Z2-BPCS (level 1-2) skips",
	} {
		if !strings.Contains(refused[kind], want) {
			t.Errorf("%s: want %q in:\n%s", kind, want, refused[kind])
		}
	}
	if len(prop.Rare) != 1 || prop.Rare[0].Port != 8530 || prop.Rare[0].Events != 1 {
		t.Errorf("rare: %+v", prop.Rare)
	}
	// The historian's reads of PLC-03 are allowed; only its write is refused.
	if prop.AllowedEvents != uint64(28*(6+5)) {
		t.Errorf("allowed events %d", prop.AllowedEvents)
	}

	// The diff, applied to a copy of the model with git apply, gives a
	// model that loads and allows the proposed flows; its comments and
	// order are the original's.
	var diff bytes.Buffer
	if err := p.Write(&diff, prop, "diff"); err != nil {
		t.Fatal(err)
	}
	dir := applyDiff(t, "../examples/refinery", diff.Bytes())
	m, err := rules.Load(dir)
	if err != nil {
		t.Fatalf("the patched model does not load: %v\n%s", err, diff.String())
	}
	for _, l := range []line{
		{device: "ids-z2", kind: event.KindDPI, src: mes01, dst: plc02, port: 5020, app: "modbus", fc: 3, fn: "read_holding_registers"},
		{device: "pa-c3", action: event.ActionAllow, src: "10.100.7.7", dst: dmzJump, port: 22, app: "ssh", fc: -1},
	} {
		tr := &traffic{m: m}
		tr.add(weekTo, l)
		if v := tr.evs[0].Verdict; v != string(correlate.Allowed) {
			t.Errorf("%+v under the patched model: %s %s", l, v, tr.evs[0].Reason)
		}
	}
	// What stays refused stays refused.
	tr := &traffic{m: m}
	tr.add(weekTo, line{device: "ids-z2", kind: event.KindDPI, src: hist01, dst: plc03, port: 502, app: "modbus", fc: 16, fn: "write_multiple_registers"})
	if tr.evs[0].Verdict == string(correlate.Allowed) {
		t.Error("the write is allowed under the patched model")
	}
	orig, _ := os.ReadFile("../examples/refinery/zones.yaml")
	patched, _ := os.ReadFile(filepath.Join(dir, "zones.yaml"))
	if removed := strings.Count(diff.String(), "\n-"); removed != 0 {
		t.Errorf("the diff removes %d lines:\n%s", removed, diff.String())
	}
	if !strings.Contains(string(patched), `        direction: "Z3 -> Z2 (read only, FC 3 only)"`) || strings.Count(diff.String(), "\n+") != 1+2*4 {
		t.Errorf("patched zones.yaml:\n%s", diff.String())
	}
	_ = orig
}

// applyDiff copies a model directory and applies a unified diff to the
// copy with git apply (as a user would, with patch -p1 or git apply).
func applyDiff(t *testing.T, model string, diff []byte) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(model, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("git", "apply", "-p1", "-")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(diff)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s\n%s", err, out, diff)
	}
	return dir
}

func keys(m map[string]*review.Rule) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// flatZones is a plant being zoned: zones with their networks and no
// conduits yet, and a safety zone declared isolated.
const flatZones = `# Unit 7 after the gap assessment: zones drawn, conduits to come.
facility: "Unit 7"
zones:
  - zone_id: "Z1-SIS"
    name: "Safety"
    purdue_level: 1
    security_level_target: "SL 3"
    allowed_conduits: []   # air-gapped
    networks: [10.71.0.0/16]
  - zone_id: "Z2-CTRL"   # PLCs and HMIs
    name: "Control"
    purdue_level: "1-2"
    security_level_target: "SL 2"
    networks: [10.72.0.0/16]

  - zone_id: "Z3-OPS"
    name: "Operations"
    purdue_level: 3
    security_level_target: "SL 2"
    networks: [10.73.0.0/16]
  - zone_id: "Z4-ENT"
    name: "Enterprise"
    purdue_level: 4
    security_level_target: "SL 1"
    networks: [10.74.0.0/16]
`

func TestProposeFirstConduitsForAFlatNetwork(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zones.yaml")
	if err := os.WriteFile(path, []byte(flatZones), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := review.LoadPlant(dir)
	if err != nil {
		t.Fatal(err)
	}
	conn := migrated(t)
	from, to := day("2026-11-13"), day("2026-11-20")
	tr := &traffic{m: p.Model}
	dpi := func(src, dst string, port uint16, app string, fc int32, fn string) line {
		return line{device: "ids-1", kind: event.KindDPI, src: src, dst: dst, port: port, app: app, fc: fc, fn: fn}
	}
	tr.daily(from, to, 8, dpi("10.73.1.5", "10.72.1.10", 502, "modbus", 3, "read_holding_registers"))
	tr.daily(from, to, 8, dpi("10.73.1.5", "10.72.1.11", 502, "modbus", 4, "read_input_registers"))
	tr.daily(from, to, 4, dpi("10.72.2.10", "10.73.1.5", 4840, "opcua", -1, "read"))
	tr.daily(from, to, 4, dpi("10.74.9.9", "10.73.1.80", 443, "https", -1, ""))
	tr.daily(from, to, 4, dpi("10.74.9.9", "10.72.1.10", 44818, "enip", -1, ""))
	tr.daily(from, to, 2, dpi("10.73.1.5", "10.71.1.1", 502, "modbus", 3, "read_holding_registers"))
	tr.daily(from, to, 20, dpi("10.72.2.10", "10.72.1.10", 44818, "enip", 0x4c, "read_tag"))
	if tr.evs[0].Reason != "air_gap" {
		t.Fatalf("zones with no conduits: %s %s", tr.evs[0].Verdict, tr.evs[0].Reason)
	}
	tr.store(t, conn)
	prop, err := review.Propose(t.Context(), conn, p, review.ProposeOptions{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range prop.Conduits {
		ids = append(ids, c.ID+" "+strings.Join(c.Zones, ",")+" "+strings.Repeat("r", len(c.Rules)))
	}
	if strings.Join(ids, "; ") != "C1-CTRL-OPS Z2-CTRL,Z3-OPS rr; C2-OPS-ENT Z3-OPS,Z4-ENT r" {
		t.Errorf("new conduits: %q", ids)
	}
	var dirs []string
	for _, r := range prop.Rules {
		dirs = append(dirs, r.Conduit+" "+r.Protocol+" "+r.Direction)
	}
	if want := `C1-CTRL-OPS OPC UA Z2 -> Z3 (read only)|C1-CTRL-OPS Modbus/TCP Z3 -> Z2 (read only, FC 3/4 only)|C2-OPS-ENT HTTPS Z4 -> Z3`; strings.Join(dirs, "|") != want {
		t.Errorf("rules:\n%s\nwant\n%s", strings.Join(dirs, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
	kinds := map[review.Refusal]bool{}
	for _, g := range prop.Refused {
		kinds[g.Kind] = true
	}
	if !kinds[review.RefuseIsolated] || !kinds[review.RefusePurdueSkip] || len(prop.Refused) != 2 {
		t.Errorf("refused: %+v", prop.Refused)
	}

	edited, err := p.Edit(prop)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Verify(prop, edited)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Conduits()) != 2 || m.Zone("Z1-SIS").Conduits != nil {
		t.Errorf("the proposed model has %d conduits", len(m.Conduits()))
	}
	text := string(edited[0].Data)
	t.Logf("%s", p.Diff(edited))
	if !strings.HasPrefix(text, flatZones) || !strings.Contains(text, "\nconduits:\n  # proposed by otsiem") {
		t.Errorf("the flat model, proposed:\n%s", text)
	}
	var yml bytes.Buffer
	if err := p.Write(&yml, prop, "yaml"); err != nil {
		t.Fatal(err)
	}
	// The YAML output is the zone document's own format: with the zones,
	// it loads as a model.
	if _, err := rules.Compile(rules.Source{Name: "zones.yaml", Data: []byte(flatZones)}, rules.Source{Name: "proposed.yaml", Data: yml.Bytes()}); err != nil {
		t.Errorf("zones + the proposed YAML do not load: %v\n%s", err, yml.String())
	}
}

func TestProposeEmptyPeriod(t *testing.T) {
	conn := migrated(t)
	p := refinery(t)
	prop, err := review.Propose(t.Context(), conn, p, review.ProposeOptions{From: weekFrom, To: weekTo})
	if err != nil {
		t.Fatal(err)
	}
	if !prop.Empty() {
		t.Fatal("an empty store gives a non-empty proposal")
	}
	for _, f := range review.ProposeFormats {
		var b bytes.Buffer
		if err := p.Write(&b, prop, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f != "json" && f != "diff" && !strings.Contains(b.String(), "no traffic stored in this period") {
			t.Errorf("%s does not say the period is empty:\n%s", f, b.String())
		}
		// Lists are lists, empty or not: [] for tools, never null.
		if f == "json" && (strings.Contains(b.String(), "null") || !strings.Contains(b.String(), `"rules": []`)) {
			t.Errorf("json of an empty proposal:\n%s", b.String())
		}
	}
}
