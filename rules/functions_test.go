package rules

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fnModel is the refinery with read-only rules for every protocol that has
// functions and for GE SRTP, whose functions otsiem does not know, all
// Z3 -> Z2 on C1.
func fnModel(tb testing.TB) *Model {
	tb.Helper()
	srcs := refinerySources(tb)
	for i, s := range srcs {
		if strings.HasSuffix(s.Name, "zones.yaml") {
			extra := ""
			for _, p := range []string{"DNP3", "EtherNet/IP", "S7comm", "IEC 104", "BACnet/IP"} {
				extra += "      - protocol: \"" + p + "\"\n        direction: \"Z3 -> Z2 (read only)\"\n"
			}
			extra += "      - protocol: \"OPC UA\"\n        port: 4841\n        direction: \"Z3 -> Z2 (read only)\"\n"
			// GE SRTP: a protocol outside the catalogue (tcp/18245).
			extra += "      - protocol: \"GE-SRTP\"\n        transport: tcp\n        port: 18245\n        direction: \"Z3 -> Z2 (read only)\"\n"
			anchor := "        security_mode: \"Firewall-enforced function code filtering\"\n"
			srcs[i].Data = []byte(strings.Replace(string(s.Data), anchor, anchor+extra, 1))
		}
	}
	m, err := Compile(srcs...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestFailClosedOnFunctions: under a rule that restricts functions, a
// function otsiem cannot identify is never allowed; a record that names no
// function at all is judged on its service.
func TestFailClosedOnFunctions(t *testing.T) {
	m := fnModel(t)
	hist, plc := netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.10")
	for _, tt := range []struct {
		name        string
		port        uint16
		app         string
		code        int
		fn          string
		transaction bool
		want        Reason
		allowed     bool
	}{
		{"modbus poll, flow record", 502, "", -1, "", false, "", true},
		{"modbus flow record with dpi app", 502, "modbus", -1, "", false, "", true},
		{"modbus fc 3", 502, "modbus", 3, "", true, "", true},
		{"modbus fc 3 exception response 0x83", 502, "modbus", 0x83, "", true, "", true},
		{"modbus fc 6 exception response 0x86", 502, "modbus", 0x86, "", true, FunctionNotPermitted, false},
		{"modbus exception by name only", 502, "modbus", -1, "READ_INPUT_REGISTERS_EXCEPTION", true, "", true},
		{"modbus fc 90 (umas)", 502, "modbus", 90, "", true, FunctionNotPermitted, false},
		{"modbus transaction naming nothing", 502, "modbus", -1, "", true, FunctionUnverified, false},
		{"modbus function in words otsiem cannot map", 502, "modbus", -1, "Func05.Write.Single.Coil.Validation", false, FunctionUnverified, false},
		{"an app-id otsiem does not know on 502", 502, "umas-download-block", -1, "", false, FunctionUnverified, false},
		{"dnp3 read", 20000, "dnp3", 1, "", true, "", true},
		{"dnp3 cold restart by name", 20000, "dnp3", -1, "COLD_RESTART", true, FunctionNotPermitted, false},
		{"dnp3 unknown name", 20000, "dnp3", -1, "SAVE_CONFIG", true, FunctionUnverified, false},
		{"cip get attribute single", 44818, "cip", 0x0e, "get_attribute_single", true, "", true},
		{"cip write tag by code and name", 44818, "cip", 0x4d, "write_tag", true, FunctionNotPermitted, false},
		{"cip 0x4e without a name says nothing", 44818, "cip", 0x4e, "", true, FunctionUnverified, false},
		{"cip 0x4e forward close", 44818, "cip", 0x4e, "forward_close", true, "", true},
		{"cip 0x4e read-modify-write on a tag", 44818, "cip", 0x4e, "Read Write Modify Data", true, FunctionNotPermitted, false},
		{"cip multiple service packet carries others", 44818, "cip", 0x0a, "multiple_service_packet", true, FunctionUnverified, false},
		{"enip encapsulation command is no function", 44818, "enip", 0x6f, "send_rr_data", true, "", true},
		{"s7 read var", 102, "s7", 0x04, "", true, "", true},
		{"s7 write variable by name", 102, "s7", -1, "Write Variable", true, FunctionNotPermitted, false},
		{"s7 download block", 102, "s7", -1, "Download Block", true, FunctionNotPermitted, false},
		{"s7 log otsiem cannot map", 102, "s7comm_upload_download", -1, "", true, FunctionUnverified, false},
		{"opc ua read request", 4841, "opcua", -1, "ReadRequest", true, "", true},
		{"opc ua write request", 4841, "opcua", -1, "WriteRequest", true, FunctionNotPermitted, false},
		{"opc ua service code is no name", 4841, "opcua", 673, "", true, FunctionUnverified, false},
		{"iec 104 interrogation", 2404, "iec104", 100, "", true, "", true},
		{"iec 104 single command", 2404, "iec104", 45, "", true, FunctionNotPermitted, false},
		{"ge-srtp connection record", 18245, "", -1, "", false, "", true},
		{"ge-srtp connection record, app named", 18245, "GE-SRTP", -1, "", false, "", true},
		{"ge-srtp transaction: otsiem knows none of its functions", 18245, "ge-srtp", -1, "read_sysmem", true, FunctionUnverified, false},
		{"ge-srtp function by code", 18245, "ge-srtp", 4, "", true, FunctionUnverified, false},
		{"ge-srtp transaction naming nothing", 18245, "ge-srtp", -1, "", true, FunctionUnverified, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := m.Evaluate(Flow{Src: hist, Dst: plc, Transport: "tcp", Port: tt.port, App: tt.app,
				FunctionCode: tt.code, Function: tt.fn, Transaction: tt.transaction})
			if d.Allowed != tt.allowed || d.Reason != tt.want {
				t.Errorf("allowed %v reason %q, want %v %q", d.Allowed, d.Reason, tt.allowed, tt.want)
			}
			if !d.Allowed && (d.Conduit == nil || d.Conduit.ID != "C1-BPCS-OPS" || d.Rule == nil) {
				t.Errorf("conduit %v rule %v: want the C1 rule it came closest to", d.Conduit, d.Rule)
			}
		})
	}
}

// TestNoUnknownFunctionIsAllowed is the property test: no flow of a
// protocol with a function catalogue is allowed under a rule restricting
// its functions unless its function is known and in the rule's set, or the
// record names no function at all (a connection record).
func TestNoUnknownFunctionIsAllowed(t *testing.T) {
	m := fnModel(t)
	r := rand.New(rand.NewPCG(9, 10))
	hist, plc := netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.10")
	type proto struct {
		port uint16
		apps []string
	}
	protos := []proto{{502, []string{"modbus", "", "Modbus"}}, {20000, []string{"dnp3", ""}}, {44818, []string{"cip", "enip", ""}},
		{102, []string{"s7", "s7comm", ""}}, {2404, []string{"iec104", ""}}, {47808, []string{"bacnet", ""}}, {4841, []string{"opcua", ""}}}
	words := []string{"read", "write", "holding", "registers", "coil", "single", "multiple", "download", "block", "func05",
		"validation", "variable", "request", "response", "data", "tag", "forward", "close", "open", "exception", "x"}
	name := func() string {
		n := r.IntN(4)
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, words[r.IntN(len(words))])
		}
		return strings.Join(parts, []string{"_", "-", " ", "."}[r.IntN(4)])
	}
	allowed := 0
	for i := 0; i < 200_000; i++ {
		p := protos[r.IntN(len(protos))]
		f := Flow{Src: hist, Dst: plc, Transport: []string{"", "tcp", "udp"}[r.IntN(3)], Port: p.port,
			App: p.apps[r.IntN(len(p.apps))], FunctionCode: -1, Transaction: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			f.FunctionCode = r.IntN(300) - 10
		}
		if r.IntN(2) == 0 {
			f.Function = name()
		}
		d := m.Evaluate(f)
		if !d.Allowed {
			continue
		}
		allowed++
		if d.Rule == nil || d.Rule.Functions.All() {
			t.Fatalf("allowed by %v, which restricts no functions: %+v", d.Rule, f)
		}
		cat := d.Rule.Functions.cat
		id := cat.identify(&f)
		switch {
		case id.state == functionNone && f.App != cat.envelope && (f.Transaction || f.FunctionCode >= 0 || f.Function != ""):
			t.Fatalf("allowed a record that performs a function, as if it named none: %+v", f)
		case id.state == functionUnidentified:
			t.Fatalf("allowed an unknown function: %+v", f)
		case id.state == functionKnown && !d.Rule.Functions.has(id):
			t.Fatalf("allowed a function outside the set: %+v (%+v)", f, id)
		case f.App != "" && protocolByName[f.App] == nil && !sameName(f.App, d.Rule.App):
			t.Fatalf("allowed an application otsiem does not know: %+v", f)
		}
	}
	if allowed == 0 {
		t.Fatal("nothing was allowed: the property was never exercised")
	}
}

// Decision.Writes says whether a flow's function changes state.
func TestWrites(t *testing.T) {
	m := loadRefinery(t)
	ext, plc := netip.MustParseAddr("192.168.9.9"), netip.MustParseAddr("10.20.1.10")
	for _, tt := range []struct {
		app    string
		code   int
		fn     string
		writes bool
	}{
		{"modbus", 16, "", true}, {"modbus", 3, "", false}, {"modbus", 0x90, "", true}, {"modbus", -1, "", false},
		{"dnp3", 5, "", true}, {"dnp3", 129, "", false}, {"cip", 0x4d, "write_tag", true}, {"opcua", -1, "Write", true},
		{"opcua", -1, "Browse", false}, {"https", -1, "", false},
	} {
		d := m.Evaluate(Flow{Src: ext, Dst: plc, Transport: "tcp", Port: 502, App: tt.app, FunctionCode: tt.code, Function: tt.fn})
		if d.Writes != tt.writes || d.Reason != UnknownZone {
			t.Errorf("%s %d %q: writes %v (%s), want %v", tt.app, tt.code, tt.fn, d.Writes, d.Reason, tt.writes)
		}
	}
	if !m.Zone("Z2-BPCS").Control() || m.Zone("Z3-OPS").Control() || !m.Zone("Z1-SIS").Control() {
		t.Error("control zones are Purdue 0-2 and safety zones")
	}
	if !m.AssetOf(plc).Controller() || m.AssetOf(netip.MustParseAddr("10.30.1.50")).Controller() {
		t.Error("PLC-01 is a controller, HIST-01 is not")
	}
}

// refinerySources reads examples/refinery's files, for tests that vary
// the model.
func refinerySources(tb testing.TB) []Source {
	tb.Helper()
	files, err := filepath.Glob(refinery + "/*")
	if err != nil || len(files) == 0 {
		tb.Fatalf("refinery files: %v", err)
	}
	var srcs []Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, Source{Name: f, Data: data})
	}
	return srcs
}

// validate warns about a rule restricting the functions of a protocol no
// decoder names functions of (none today: the mark is flipped here).
func TestFunctionUnverifiableWarning(t *testing.T) {
	opcuaFunctions.decoded = false
	defer func() { opcuaFunctions.decoded = true }()
	m := loadRefinery(t)
	var got []string
	for _, d := range m.Diagnostics() {
		if d.Code == "function-unverifiable" {
			got = append(got, d.Message)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], `conduit "C1-BPCS-OPS", OPC UA: no decoder of otsiem identifies opcua functions yet`) {
		t.Errorf("warnings: %q", got)
	}
}
