package all_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/event"
)

// fields are expected values of an event's JSON form by key ("attrs.x" for
// an attr), written as JSON ("tcp" is written `"tcp"`); "-" means absent.
type fields map[string]string

// checkFields compares an event's JSON form with want.
func checkFields(t *testing.T, where string, ev *event.Event, want fields) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(ev.AppendJSON(nil), &got); err != nil {
		t.Fatal(err)
	}
	attrs, _ := got["attrs"].(map[string]any)
	for k, w := range want {
		var v any
		var ok bool
		if a, isAttr := strings.CutPrefix(k, "attrs."); isAttr {
			v, ok = attrs[a]
		} else {
			v, ok = got[k]
		}
		switch {
		case w == "-" && ok:
			t.Errorf("%s: %s = %v, want it absent", where, k, v)
		case w == "-":
		case !ok:
			t.Errorf("%s: no %s, want %s (parse_error %q)", where, k, w, ev.ParseError)
		default:
			b, _ := json.Marshal(v)
			if string(b) != w {
				t.Errorf("%s: %s = %s, want %s", where, k, b, w)
			}
		}
	}
}

// parseFile parses every input line of a .log file with every decoder,
// received at recv from sender.
func parseFile(t *testing.T, path string, recv time.Time, sender netip.Addr) []event.Event {
	t.Helper()
	lines, err := decodetest.ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &decode.Parser{Site: decodetest.Site}
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		p.Parse([]byte(l.Text), sender, recv, &evs[i])
	}
	return evs
}

// TestRealWorldCases decodes the cases written from public bug reports
// (testdata/realworld, each .log with its .expect.txt) and checks the
// values their expect files give. The verdicts they give are checked by
// cmd/otsiem's TestRealWorldVerdicts.
func TestRealWorldCases(t *testing.T) {
	recv := time.Date(2026, 3, 3, 14, 16, 0, 0, time.UTC) // the cases' day
	cases := map[string][]fields{
		"asa-106100-hostname": {{
			"kind": `"flow"`, "vendor": `"cisco"`, "message_id": `"106100"`, "action": `"allow"`,
			"transport": `"tcp"`, "rule": `"OPS_TO_BPCS"`, "src_ip": "-", "src_port": "49822",
			"src_interface": `"ops"`, "attrs.src_host": `"hist-01"`, "dst_ip": `"10.20.1.10"`,
			"dst_port": "502", "dst_interface": `"bpcs"`, "device": `"isa3000-c1"`,
		}},
		"asa-106100-ipv6": {{
			"vendor": `"cisco"`, "product": `"asa"`, "message_id": `"106100"`, "action": `"allow"`,
			"transport": `"tcp"`, "rule": `"OPS_TO_BPCS"`, "src_ip": `"fd00:30::50"`, "src_port": "49822",
			"src_interface": `"ops"`, "dst_ip": `"fd00:20::10"`, "dst_port": "502", "dst_interface": `"bpcs"`,
		}, {
			"action": `"deny"`, "transport": `"udp"`, "src_ip": `"2001:db8:30::7"`, "src_port": "40111",
			"src_interface": `"ops"`, "dst_ip": `"2001:db8:20::21"`, "dst_port": "161", "dst_interface": `"bpcs"`,
		}},
		"asa-message-class-emblem": {{
			"time": `"2026-03-03T14:15:22Z"`, "vendor": `"cisco"`, "product": `"asa"`, "message_id": `"106100"`,
			"severity": "6", "action": `"allow"`, "transport": `"tcp"`, "src_ip": `"10.30.1.50"`, "src_port": "49822",
			"src_interface": `"ops"`, "dst_ip": `"10.20.1.10"`, "dst_port": "502", "dst_interface": `"bpcs"`,
			"rule": `"OPS_TO_BPCS"`,
		}, {
			"time": `"2026-03-03T14:15:40Z"`, "message_id": `"302014"`, "action": `"close"`,
			"src_ip": `"10.30.1.50"`, "src_port": "49822", "dst_ip": `"10.20.1.10"`, "dst_port": "502", "bytes": "4410",
		}},
		"fortigate-fortianalyzer-tz": {{
			"time": `"2026-03-03T10:15:22Z"`, "device": `"fgr-c2"`, "action": `"allow"`, "src_ip": `"172.16.1.20"`,
			"src_port": "51545", "dst_ip": `"10.30.1.50"`, "dst_port": "443",
		}, {
			"time": `"2026-03-03T10:15:22Z"`, "device": `"fgr-c2"`, "action": `"allow"`, "src_ip": `"172.16.1.20"`,
			"src_port": "51546", "dst_ip": `"10.30.1.50"`, "dst_port": "443",
		}, {
			"time": `"2026-03-03T10:15:22Z"`, "device": `"fgr-c2"`, "action": `"allow"`, "src_ip": `"172.16.1.20"`,
			"src_port": "51547", "dst_ip": `"10.30.1.50"`, "dst_port": "443",
		}},
		"panos-link-switches-braces": {{
			"time": `"2026-03-03T10:15:22.123Z"`, "device": `"pa-c3"`, "action": `"allow"`, "transport": `"tcp"`,
			"src_ip": `"10.100.10.20"`, "src_port": "50123", "dst_ip": `"172.16.1.30"`, "dst_port": "3389",
			"app_protocol": `"rdp"`, "rule": `"ENT-to-JUMP"`,
		}},
		"suricata-alert-to-client": {{
			"kind": `"alert"`, "device": `"ids-z2"`, "src_ip": `"10.30.1.50"`, "src_port": "49822",
			"dst_ip": `"10.20.1.10"`, "dst_port": "502", "app_protocol": `"modbus"`, "signature_id": `"9502001"`,
		}},
		"zeek-modbus-exception": {{
			"kind": `"dpi"`, "src_ip": `"10.30.1.50"`, "src_port": "49822", "dst_ip": `"10.20.1.10"`, "dst_port": "502",
			"app_protocol": `"modbus"`, "function_code": "3", "function": `"read_holding_registers"`,
			"attrs.exception": `"illegal_data_address"`,
		}, {
			"kind": `"dpi"`, "app_protocol": `"modbus"`, "function_code": "4", "function": `"read_input_registers"`,
			"attrs.exception": `"slave_device_busy"`,
		}},
		"zeek-scope-sep-underscore": {{
			"kind": `"flow"`, "src_ip": `"10.100.10.20"`, "src_port": "51233", "dst_ip": `"10.20.1.10"`,
			"dst_port": "44818", "transport": `"tcp"`, "app_protocol": `"enip"`, "action": `"close"`,
		}, {
			"kind": `"dpi"`, "src_ip": `"10.30.1.50"`, "src_port": "49830", "dst_ip": `"10.20.1.10"`, "dst_port": "502",
			"app_protocol": `"modbus"`, "function_code": "6", "function": `"write_single_register"`,
		}},
	}
	logs, _ := filepath.Glob("testdata/realworld/*.log")
	if len(logs) != len(cases) {
		t.Errorf("%d case files, %d with expectations", len(logs), len(cases))
	}
	for _, path := range logs {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		want, ok := cases[name]
		if !ok {
			t.Errorf("%s: no expectations", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			evs := parseFile(t, path, recv, netip.Addr{})
			if len(evs) != len(want) {
				t.Fatalf("%d events, want %d", len(evs), len(want))
			}
			for i := range evs {
				checkFields(t, fmt.Sprintf("line %d", i+1), &evs[i], want[i])
			}
		})
	}
}

// TestFunctionCases names the function of every case of the verdict cases'
// area 3 (testdata/functions/3-functions.log, F-1 to F-25): however the
// device names it, the event carries the protocol, the code on the wire
// and otsiem's name; an exception response is the request's function.
func TestFunctionCases(t *testing.T) {
	want := []fields{
		{"app_protocol": `"modbus"`, "function_code": "43", "function": `"encapsulated_interface_transport"`},
		{"app_protocol": `"modbus"`, "function_code": "8", "function": `"diagnostics"`},
		{"app_protocol": `"modbus"`, "function_code": "23", "function": `"read_write_multiple_registers"`},
		{"app_protocol": `"modbus"`, "function_code": "3", "function": `"read_holding_registers"`, "attrs.exception": `"illegal_data_address"`},
		{"app_protocol": `"modbus"`, "function_code": "16", "function": `"write_multiple_registers"`, "dst_port": "5020"},
		{"app_protocol": `"modbus"`, "function_code": "5", "function": `"write_single_coil"`, "device": `"fgt-c1"`},
		{"app_protocol": `"modbus"`, "function_code": "90", "function": `"umas_download_block"`},
		{"app_protocol": `"modbus"`, "function_code": "23", "function": `"read_write_multiple_registers"`, "device": `"pa-c1"`},
		{"app_protocol": `"modbus"`, "function_code": "43", "function": `"encapsulated_interface_transport"`},
		{"app_protocol": `"modbus"`, "function_code": "90", "function": `"umas_download_block"`},
		{"app_protocol": `"dnp3"`, "function_code": "13", "function": `"cold_restart"`},
		{"app_protocol": `"dnp3"`, "function_code": "129", "function": `"response"`},
		{"app_protocol": `"dnp3"`, "function_code": "5", "function": `"direct_operate"`},
		{"app_protocol": `"dnp3"`, "function_code": "19", "function": `"save_configuration"`},
		{"app_protocol": `"cip"`, "function_code": "77", "function": `"write_tag"`},
		{"app_protocol": `"cip"`, "function_code": "78", "function": `"read_modify_write_tag"`},
		{"app_protocol": `"cip"`, "function_code": "78", "function": `"read_modify_write_tag"`},
		{"app_protocol": `"cip"`, "function_code": "5", "function": `"reset"`},
		{"app_protocol": `"s7"`, "function_code": "5", "function": `"write_var"`},
		{"app_protocol": `"s7"`, "function_code": "27", "function": `"download_block"`},
		{"app_protocol": `"s7"`, "function_code": "4", "function": `"read_var"`},
		{"app_protocol": `"opcua"`, "function_code": "673", "function": `"write"`},
		{"app_protocol": `"opcua"`, "function_code": "673", "function": `"write"`, "device": `"fgt-c1"`},
		{"app_protocol": `"modbus"`, "function_code": "1", "function": `"read_coils"`},
		{"app_protocol": `"modbus"`, "function_code": "4", "function": `"read_input_registers"`, "attrs.exception": `"illegal_data_address"`},
	}
	recv := time.Date(2026, 10, 2, 12, 0, 0, 0, time.UTC) // as the cases' README runs them
	evs := parseFile(t, "testdata/functions/3-functions.log", recv, netip.Addr{})
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i := range evs {
		if evs[i].Kind == event.KindRaw {
			t.Errorf("F-%d: raw: %s", i+1, evs[i].ParseError)
			continue
		}
		checkFields(t, fmt.Sprintf("F-%d", i+1), &evs[i], want[i])
	}
}
