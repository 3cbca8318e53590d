package correlate

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
	"github.com/otsiem/otsiem/rules"
)

// The events the decoders will make of the vendor names of the handed
// cases once they map them (issue 11): the verdict follows from the
// function alone.
func TestMappedVendorFunctions(t *testing.T) {
	m := caseModel(t, "m-fn")
	hist, plc3, opc := netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.12"), netip.MustParseAddr("10.30.1.51")
	for _, tt := range []struct {
		name     string
		device   string
		kind     event.Kind
		src, dst netip.Addr
		port     uint16
		app      string
		code     int32
		fn       string
		verdict  Verdict
	}{
		{"FortiGuard Modbus_Func05 (write single coil)", "fgt-c1", event.KindDPI, hist, plc3, 502, "modbus", 5, "write_single_coil", PolicyDrift},
		{"App-ID modbus-read-write-register (FC 23)", "pa-c1", event.KindFlow, hist, plc3, 502, "modbus", 23, "read_write_multiple_registers", PolicyDrift},
		{"App-ID modbus-encapsulated-transport (FC 43)", "pa-c1", event.KindFlow, hist, plc3, 502, "modbus", 43, "encapsulated_interface_transport", PolicyDrift},
		{"UMAS download block (FC 90)", "pa-c1", event.KindFlow, hist, plc3, 502, "modbus", 90, "umas_download_block", PolicyDrift},
		{"S7 Write Variable", "ids-z3", event.KindDPI, hist, plc3, 102, "s7", 0x05, "write_var", Violation},
		{"S7 Download Block", "ids-z3", event.KindDPI, hist, plc3, 102, "s7", 0x1b, "download_block", Violation},
		{"CIP Read_Modify_Write on a tag", "ids-z2", event.KindDPI, hist, plc3, 44818, "cip", 0x4e, "read_modify_write", Violation},
		{"OPC UA WriteRequest", "ids-z3", event.KindDPI, plc3, opc, 4840, "opcua", -1, "WriteRequest", Violation},
		{"OPC UA Write by FortiGuard", "fgt-c1", event.KindDPI, plc3, opc, 4840, "opcua", -1, "write", PolicyDrift},
	} {
		ev := event.Event{Device: tt.device, Kind: tt.kind, Action: event.ActionAllow, SrcIP: tt.src, DstIP: tt.dst,
			Transport: "tcp", DstPort: event.Some(tt.port), AppProtocol: tt.app, Function: tt.fn, Time: time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)}
		if tt.kind == event.KindDPI && tt.device[:3] == "ids" {
			ev.Action = ""
		}
		if tt.code >= 0 {
			ev.FunctionCode = event.Some(tt.code)
		}
		j := Judge(m, &ev)
		if j.Verdict != tt.verdict || j.Reason != rules.FunctionNotPermitted || j.Decision.Conduit == nil || j.Decision.Conduit.ID != "C1-BPCS-OPS" {
			t.Errorf("%s: %s %s, want %s function_not_permitted on C1", tt.name, j.Verdict, j.Reason, tt.verdict)
		}
	}
}

// A firewall's mode applies from its since date: before it, its denies are
// observations like its permits.
func TestDeniesBeforeSinceAreObservations(t *testing.T) {
	m := refinery(t)
	before, after := time.Date(2026, 9, 30, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	ent, jump, hist := netip.MustParseAddr("10.100.10.21"), netip.MustParseAddr("172.16.1.30"), netip.MustParseAddr("172.16.1.10")
	for _, tt := range []struct {
		t       time.Time
		action  event.Action
		dst     netip.Addr
		port    uint16
		verdict Verdict
	}{
		{before, event.ActionDeny, jump, 22, Violation},
		{before, event.ActionDeny, hist, 443, Allowed},
		{before, event.ActionAllow, jump, 22, Violation},
		{after, event.ActionDeny, jump, 22, WouldBlock},
		{after, event.ActionDeny, hist, 443, Allowed},
	} {
		ev := event.Event{Device: "pa-c3", Time: tt.t, Action: tt.action, SrcIP: ent, DstIP: tt.dst, Transport: "tcp", DstPort: event.Some(tt.port)}
		j := Judge(m, &ev)
		if j.Verdict != tt.verdict || j.DeniedInMonitor != (tt.t == after && tt.port == 443) {
			t.Errorf("%s %s :%d: %s (denied in monitor %v), want %s", tt.t.Format(time.DateOnly), tt.action, tt.port, j.Verdict, j.DeniedInMonitor, tt.verdict)
		}
	}
}

// An IPS's threat action inside allowed traffic is a blocked attack, not
// a false block; a denied packet of a flow the firewall lost is not a
// false block either; every IDS/IPS alert is a finding of its own.
func TestThreatActionsAndMidFlowDenies(t *testing.T) {
	m := refinery(t)
	wsus, mes := netip.MustParseAddr("172.16.1.20"), netip.MustParseAddr("10.30.1.52")
	at := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	ips := event.Event{Device: "fgr-c2", Kind: event.KindAlert, Time: at, Action: event.ActionReset, SrcIP: wsus, DstIP: mes,
		Transport: "tcp", DstPort: event.Some[uint16](443), Signature: "Apache.Struts.Code.Execution", SignatureID: "43155", Severity: event.Some[uint8](2)}
	if j := Judge(m, &ips); j.Verdict != Blocked || j.Reason != ReasonThreat {
		t.Errorf("ips reset in allowed https: %s %s", j.Verdict, j.Reason)
	}
	// A monitor-mode firewall's threat action on allowed traffic: enforcing
	// it would stop the attack, not break legitimate traffic.
	pan := event.Event{Device: "pa-c3", Kind: event.KindAlert, Time: at, Action: event.ActionReset, SrcIP: netip.MustParseAddr("10.100.10.20"),
		DstIP: netip.MustParseAddr("172.16.1.10"), Transport: "tcp", DstPort: event.Some[uint16](443), Signature: "SQL injection"}
	if j := Judge(m, &pan); j.Verdict != Allowed || j.DeniedInMonitor {
		t.Errorf("monitor-mode threat action: %s, denied in monitor %v", j.Verdict, j.DeniedInMonitor)
	}
	deny := ips
	deny.Kind, deny.Signature, deny.SignatureID = event.KindFlow, "", ""
	if j := Judge(m, &deny); j.Verdict != FalseBlock {
		t.Errorf("a firewall deny of allowed https stays a false block: %s", j.Verdict)
	}
	mid := event.Event{Device: "isa3000-c1", Time: at, Action: event.ActionDeny, SrcIP: netip.MustParseAddr("10.30.1.50"),
		DstIP: netip.MustParseAddr("10.20.1.10"), Transport: "tcp", DstPort: event.Some[uint16](502)}
	mid.SetAttr(event.AttrMidFlow, "true")
	if j := Judge(m, &mid); j.Verdict != Allowed {
		t.Errorf("a lost poll's reply: %s", j.Verdict)
	}
	mid.DstPort = event.Some[uint16](102)
	if j := Judge(m, &mid); j.Verdict != Blocked || j.Reason != rules.NotPermitted {
		t.Errorf("a lost forbidden flow's packet: %s %s", j.Verdict, j.Reason)
	}

	var col Collector
	e := NewEngine(m, Config{Learn: -1}, col.Emit)
	for _, ev := range []event.Event{ips, ips, mid} {
		e.Process(&ev)
	}
	idsAlert := event.Event{Device: "ids-z2", Kind: event.KindAlert, Time: at, Action: event.ActionAlert, SrcIP: netip.MustParseAddr("10.30.1.50"),
		DstIP: netip.MustParseAddr("10.20.1.10"), Transport: "tcp", DstPort: event.Some[uint16](502), Signature: "ET SCADA Modbus write", Severity: event.Some[uint8](3)}
	e.Process(&idsAlert)
	e.Drain()
	var alerts, others []event.Finding
	for _, f := range col.Items {
		if f.Type == TypeAlert {
			alerts = append(alerts, f)
		} else {
			others = append(others, f)
		}
	}
	if len(alerts) != 2 || alerts[0].Reason != "prevented" || alerts[0].Severity != event.SeverityCritical || alerts[0].Count != 2 ||
		alerts[1].Reason != "detected" || alerts[1].Severity != event.SeverityHigh {
		t.Fatalf("alert findings: %+v", alerts)
	}
	if v, _ := alerts[0].Attr("signature_id"); v != "43155" || alerts[0].Summary == "" || alerts[0].Conduit != "C2-OPS-DMZ" {
		t.Errorf("alert finding: %+v", alerts[0])
	}
	if len(others) != 1 || others[0].Type != string(Blocked) || others[0].Reason != "not_permitted" {
		t.Errorf("the threat block adds no verdict finding, the lost forbidden packet is blocked: %+v", others)
	}
}

// Severity follows consequence: a write into a control zone the policy
// forbids, or from an unmanaged address, is at least high.
func TestSeverityFollowsConsequence(t *testing.T) {
	m := refinery(t)
	at := time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC)
	plc := netip.MustParseAddr("10.20.1.10")
	write := func(src string, port uint16, code int32, action event.Action, device string) event.Event {
		return event.Event{Device: device, Kind: event.KindDPI, Time: at, Action: action, SrcIP: netip.MustParseAddr(src), DstIP: plc,
			Transport: "tcp", DstPort: event.Some(port), AppProtocol: "modbus", FunctionCode: event.Some(code)}
	}
	for _, tt := range []struct {
		name     string
		ev       event.Event
		typ      string
		severity event.Severity
	}{
		{"unmanaged host writes FC 16 into a PLC", write("192.168.99.5", 502, 16, "", "ids-z2"), "unknown_zone", event.SeverityHigh},
		{"unmanaged host reads a PLC", write("192.168.99.5", 502, 3, "", "ids-z2"), "unknown_zone", event.SeverityMedium},
		{"unmanaged host's write, denied", write("192.168.99.5", 502, 16, event.ActionDeny, "isa3000-c1"), "unknown_zone", event.SeverityLow},
		{"write on a port no rule allows", write("10.30.1.50", 5020, 16, "", "ids-z2"), "violation", event.SeverityHigh},
		{"read on a port no rule allows", write("10.30.1.50", 5020, 3, "", "ids-z2"), "violation", event.SeverityMedium},
		{"blocked write", write("10.30.1.50", 5020, 16, event.ActionDeny, "isa3000-c1"), "blocked", event.SeverityLow},
	} {
		var col Collector
		e := NewEngine(m, Config{Learn: -1}, col.Emit)
		ev := tt.ev
		e.Process(&ev)
		if len(col.Items) != 1 || col.Items[0].Type != tt.typ || col.Items[0].Severity != tt.severity {
			t.Errorf("%s: %+v, want %s %s", tt.name, col.Items, tt.typ, tt.severity)
		}
	}
	// An explicit severity from the configuration wins.
	var col Collector
	e := NewEngine(m, Config{Learn: -1, Severities: map[string]event.Severity{"unknown_zone": event.SeverityLow}}, col.Emit)
	ev := write("192.168.99.5", 502, 16, "", "ids-z2")
	e.Process(&ev)
	if col.Items[0].Severity != event.SeverityLow {
		t.Errorf("configured severity overridden: %s", col.Items[0].Severity)
	}
}

// Connections orients a teardown like its build, by device and id, and
// forgets the oldest openings when full.
func TestConnectionsOrientTeardowns(t *testing.T) {
	a, b := netip.MustParseAddr("10.20.1.12"), netip.MustParseAddr("10.30.1.50")
	build := func(id string) event.Event {
		ev := event.Event{Device: "fw", Action: event.ActionAllow, SrcIP: a, SrcPort: event.Some[uint16](49700), DstIP: b, DstPort: event.Some[uint16](4840)}
		ev.SetAttr(event.AttrConnectionID, id)
		return ev
	}
	teardown := func(id, device string) event.Event {
		ev := event.Event{Device: device, Action: event.ActionClose, SrcIP: b, SrcPort: event.Some[uint16](4840), DstIP: a, DstPort: event.Some[uint16](49700)}
		ev.SetAttr(event.AttrConnectionID, id)
		ev.SetAttr(event.AttrInitiator, event.InitiatorUnknown)
		return ev
	}
	c := NewConnections(2)
	for _, id := range []string{"1", "2", "3"} {
		ev := build(id)
		c.Orient(&ev)
	}
	if c.Len() != 2 {
		t.Fatalf("%d remembered, want 2", c.Len())
	}
	for _, tt := range []struct {
		id, device string
		oriented   bool
	}{{"1", "fw", false}, {"2", "other-fw", false}, {"2", "fw", true}, {"2", "fw", false}, {"3", "fw", true}} {
		ev := teardown(tt.id, tt.device)
		c.Orient(&ev)
		v, _ := ev.Attr(event.AttrInitiator)
		if (ev.SrcIP == a) != tt.oriented || (v == event.InitiatorOpening) != tt.oriented {
			t.Errorf("teardown %s from %s: src %s initiator %s, oriented want %v", tt.id, tt.device, ev.SrcIP, v, tt.oriented)
		}
	}
}

// FortiGate application control names either one operation of a protocol
// (a function signature) or only the protocol (its session's application).
// Under a read-only rule the protocol alone is a connection record, judged
// on its service; a function name otsiem cannot map fails closed.
func TestAppControlProtocolOrFunction(t *testing.T) {
	m := caseModel(t, "m-fn")
	p := &decode.Parser{Header: syslog.NewParser(syslog.Config{Location: time.UTC}), Site: m.Site}
	for _, tt := range []struct {
		app, src, dst string
		port          int
		kind          event.Kind
		verdict       Verdict
		reason        rules.Reason
	}{
		// PLC-03 to OPC-01 under OPC UA "Z2 -> Z3 (read only)".
		{"OPC.UA", "10.20.1.12", "10.30.1.51", 4840, event.KindFlow, Allowed, ""},
		{"OPC.UA_Read.Request", "10.20.1.12", "10.30.1.51", 4840, event.KindDPI, Allowed, ""},
		{"OPC.UA_Write.Request", "10.20.1.12", "10.30.1.51", 4840, event.KindDPI, PolicyDrift, rules.FunctionNotPermitted},
		// HIST-01 to PLC-01 under Modbus/TCP "Z3 -> Z2 (read only, FC 3/4 only)".
		{"Modbus", "10.30.1.50", "10.20.1.10", 502, event.KindFlow, Allowed, ""},
		{"Modbus_Read.Holding.Registers", "10.30.1.50", "10.20.1.10", 502, event.KindDPI, Allowed, ""},
		{"Modbus_Keep.Alive.Custom", "10.30.1.50", "10.20.1.10", 502, event.KindDPI, PolicyDrift, rules.FunctionUnverified},
	} {
		line := `<189>date=2026-10-02 time=08:00:22 devname="fgt-c1" logid="1059028704" type="utm" subtype="app-ctrl" eventtype="signature" level="information" vd="root" appid=50100 srcip=` +
			tt.src + ` srcport=51122 srcintf="a" dstip=` + tt.dst + ` dstport=` + strconv.Itoa(tt.port) +
			` dstintf="b" proto=6 policyid=12 sessionid=703 applist="OT" action="pass" appcat="Industrial" app="` + tt.app + `"`
		var ev event.Event
		p.Parse([]byte(line), netip.Addr{}, time.Date(2026, 10, 2, 12, 0, 0, 0, time.UTC), &ev)
		j := Judge(m, &ev)
		if ev.Kind != tt.kind || j.Verdict != tt.verdict || j.Reason != tt.reason {
			t.Errorf("%s: %s %s %s, want %s %s %s", tt.app, ev.Kind, j.Verdict, j.Reason, tt.kind, tt.verdict, tt.reason)
		}
	}
}
