package decode

import (
	"net/netip"
	"testing"

	"github.com/otsiem/otsiem/ingest/event"
)

func TestOrientByPorts(t *testing.T) {
	a, b := netip.MustParseAddr("10.30.1.50"), netip.MustParseAddr("10.20.1.10")
	for _, tt := range []struct {
		name       string
		sport, dpt int // -1: unknown
		swapped    bool
		initiator  string
	}{
		{"client first", 51000, 502, false, event.InitiatorPorts},
		{"server first", 502, 51000, true, event.InitiatorPorts},
		{"registered service port first", 44818, 50001, true, event.InitiatorPorts},
		{"snmp trap listener first", 162, 50162, true, event.InitiatorPorts},
		{"both ephemeral", 50001, 50002, false, event.InitiatorUnknown},
		{"both services", 123, 123, false, event.InitiatorUnknown},
		{"port unknown", -1, 502, false, event.InitiatorUnknown},
		{"port zero", 0, 51000, false, event.InitiatorUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := event.Event{SrcIP: a, DstIP: b, SrcInterface: "ops", SrcMappedIP: netip.MustParseAddr("172.16.1.2")}
			if tt.sport >= 0 {
				ev.SrcPort = event.Some(uint16(tt.sport))
			}
			ev.DstPort = event.Some(uint16(tt.dpt))
			OrientByPorts(&ev)
			if got := ev.SrcIP == b; got != tt.swapped {
				t.Errorf("swapped %v, want %v", got, tt.swapped)
			}
			if tt.swapped && (ev.DstInterface != "ops" || ev.DstMappedIP != netip.MustParseAddr("172.16.1.2") || ev.DstPort.V != uint16(tt.sport)) {
				t.Errorf("not every endpoint field swapped: %+v", ev)
			}
			if v, _ := ev.Attr(event.AttrInitiator); v != tt.initiator {
				t.Errorf("initiator %q, want %q", v, tt.initiator)
			}
			ev2 := event.Event{SrcIP: a, DstIP: b, SrcPort: ev.SrcPort, DstPort: ev.DstPort}
			if ReverseIfResponder(&ev2) {
				t.Errorf("an oriented record reversed again: %+v", ev2)
			}
		})
	}
}

// A function an industrial App-ID names and otsiem cannot map is kept in
// the vendor's words, so that rules can fail closed on it; a signature's
// name gives no function unless it maps.
func TestSetOTAppKeepsUnmappedFunctions(t *testing.T) {
	for _, tt := range []struct {
		name, signature string
		app, function   string
		code            int32
		hasCode         bool
	}{
		{"Modbus.Write.Single.Register", "", "modbus", "write_single_register", 6, true},
		{"Modbus_Func05.Write.Single.Coil.Validation", "", "modbus", "write_single_coil", 5, true},
		{"Modbus.Unity_Download.Block", "", "modbus", "umas_download_block", 90, true},
		{"Modbus_Vendor.Specific.Thing", "", "modbus", "Vendor.Specific.Thing", 0, false},
		{"modbus-base", "", "modbus", "", 0, false},
		{"OPC.UA", "", "opcua", "", 0, false},
		{"Modbus.TCP.Function.Code.Scan", "Modbus.TCP.Function.Code.Scan", "modbus", "", 0, false},
		{"DNP3.Cold.Restart", "DNP3.Cold.Restart", "dnp3", "cold_restart", 13, true},
	} {
		ev := event.Event{Signature: tt.signature}
		set := SetOTApp
		if tt.signature != "" {
			set = SetOTSignature
		}
		if !set(&ev, tt.name) {
			t.Fatalf("%s: not an industrial name", tt.name)
		}
		if ev.AppProtocol != tt.app || ev.Function != tt.function || ev.FunctionCode.OK != tt.hasCode || ev.FunctionCode.V != tt.code {
			t.Errorf("%s: app %q function %q code %v, want %q %q %v/%d", tt.name, ev.AppProtocol, ev.Function, ev.FunctionCode, tt.app, tt.function, tt.hasCode, tt.code)
		}
	}
}
