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
		{"Get Attributes All", "cip", "get_attributes_all", 0x01},
		{"Set Attributes All", "cip", "set_attributes_all", 0x02},
		{"Get Attribute List", "cip", "get_attribute_list", 0x03},
		{"Reset", "cip", "reset", 0x05},
		{"Start", "cip", "start", 0x06},
		{"Stop", "cip", "stop", 0x07},
		{"Multiple Service Packet", "cip", "multiple_service_packet", 0x0a},
		{"Get Attributes Single", "cip", "get_attribute_single", 0x0e},
		{"Set Attributes Single", "cip", "set_attribute_single", 0x10},
		{"No Forward Open", "cip", "nop", 0x17},
		{"Get Connection Point Member List", "cip", "get_connection_point_member_list", 0x1d},
		{"Execute PCCC Service", "cip", "execute_pccc", 0x4b},
		{"Read Data", "cip", "read_tag", 0x4c},
		{"Write Data", "cip", "write_tag", 0x4d},
		{"Read Write Modify Data", "cip", "read_modify_write_tag", 0x4e},
		{"Read Write Modify Data@Symbol", "cip", "read_modify_write_tag", 0x4e},
		{"Read Write Modify Data@Connection Manager", "cip", "forward_close", 0x4e},
		{"Read Data Fragmented", "cip", "read_tag_fragmented", 0x52},
		{"Read Data Fragmented@Connection Manager", "cip", "unconnected_send", 0x52},
		{"Write Data Fragmented", "cip", "write_tag_fragmented", 0x53},
		{"unknown-76@File", "cip", "initiate_download", 0x4c},
		{"unknown-91@Connection Manager", "cip", "large_forward_open", 0x5b},
		// An object-specific code without its class names no service.
		{"unknown-91", "cip", "", 0x5b},
	})

	modbus := func(raw string) string {
		return `{"timestamp":"2026-04-15T09:41:06.000000+0000","event_type":"modbus","src_ip":"10.30.1.50","src_port":51124,` +
			`"dest_ip":"10.20.1.10","dest_port":502,"proto":"TCP","modbus":{"id":6,"response":{"transaction_id":6,` +
			`"unit_id":1,"function_raw":` + raw + `}}}`
	}
	var cases []decodetest.FunctionCase
	for _, code := range []int32{1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 90} {
		fn := decode.FunctionName("modbus", code)
		cases = append(cases, decodetest.FunctionCase{Name: strconv.Itoa(int(code)), Proto: "modbus", Function: fn, Code: code},
			decodetest.FunctionCase{Name: strconv.Itoa(int(code | 0x80)), Proto: "modbus", Function: fn, Code: code})
	}
	decodetest.Functions(t, suricata.Decoder{}, modbus, cases)
}
