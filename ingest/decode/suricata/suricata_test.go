package suricata_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/suricata"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, suricata.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, suricata.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, suricata.Decoder{}, "testdata/bench.txt")
}

// The CIP service names Suricata's EVE output uses, and Modbus codes from
// function_raw with exception responses: every one is mapped, services
// that depend on the object by the class addressed.
func TestSuricataFunctionNames(t *testing.T) {
	enip := func(service string) string {
		name, class, _ := strings.Cut(service, "@")
		c := ""
		if class != "" {
			c = `,"class_name":"` + class + `"`
		}
		return `{"timestamp":"2026-04-15T09:41:09.000000+0000","event_type":"enip","src_ip":"10.30.1.50","src_port":51115,` +
			`"dest_ip":"10.20.1.10","dest_port":44818,"proto":"TCP","enip":{"request":{"command":"send_rr_data",` +
			`"status":"success","cip":{"service":"` + name + `"` + c + `}}}}`
	}
	decodetest.Functions(t, suricata.Decoder{}, enip, []decodetest.FunctionCase{
		{"Get Attributes All", "cip", "get_attributes_all", "1"},
		{"Set Attributes All", "cip", "set_attributes_all", "2"},
		{"Get Attribute List", "cip", "get_attribute_list", "3"},
		{"Reset", "cip", "reset", "5"},
		{"Start", "cip", "start", "6"},
		{"Stop", "cip", "stop", "7"},
		{"Multiple Service Packet", "cip", "multiple_service_packet", "10"},
		{"Get Attributes Single", "cip", "get_attribute_single", "14"},
		{"Set Attributes Single", "cip", "set_attribute_single", "16"},
		{"No Forward Open", "cip", "nop", "23"},
		{"Get Connection Point Member List", "cip", "get_connection_point_member_list", "29"},
		{"Execute PCCC Service", "cip", "execute_pccc", "75"},
		{"Read Data", "cip", "read_tag", "76"},
		{"Write Data", "cip", "write_tag", "77"},
		{"Read Write Modify Data", "cip", "read_modify_write_tag", "78"},
		{"Read Write Modify Data@Symbol", "cip", "read_modify_write_tag", "78"},
		{"Read Write Modify Data@Connection Manager", "cip", "forward_close", "78"},
		{"Read Data Fragmented", "cip", "read_tag_fragmented", "82"},
		{"Read Data Fragmented@Connection Manager", "cip", "unconnected_send", "82"},
		{"Write Data Fragmented", "cip", "write_tag_fragmented", "83"},
		{"unknown-76@File", "cip", "initiate_download", "76"},
		{"unknown-91@Connection Manager", "cip", "large_forward_open", "91"},
		// An object-specific code without its class names no service.
		{"unknown-91", "cip", "", "91"},
	})

	modbus := func(raw string) string {
		return `{"timestamp":"2026-04-15T09:41:06.000000+0000","event_type":"modbus","src_ip":"10.30.1.50","src_port":51124,` +
			`"dest_ip":"10.20.1.10","dest_port":502,"proto":"TCP","modbus":{"id":6,"response":{"transaction_id":6,` +
			`"unit_id":1,"function_raw":` + raw + `}}}`
	}
	var cases []decodetest.FunctionCase
	for _, code := range []int32{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 90} {
		fn := decode.FunctionName("modbus", code)
		cases = append(cases, decodetest.FunctionCase{strconv.Itoa(int(code)), "modbus", fn, strconv.Itoa(int(code))},
			decodetest.FunctionCase{strconv.Itoa(int(code | 0x80)), "modbus", fn, strconv.Itoa(int(code))})
	}
	decodetest.Functions(t, suricata.Decoder{}, modbus, cases)
}
