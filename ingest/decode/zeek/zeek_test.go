package zeek_test

import (
	"strconv"
	"testing"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/zeek"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, zeek.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, zeek.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, zeek.Decoder{}, "testdata/bench.txt")
}

// Zeek's own function names (base/protocols/modbus/consts.zeek and
// base/protocols/dnp3/consts.zeek), exception responses included: every
// one is mapped, an exception to the request's function.
func TestZeekFunctionNames(t *testing.T) {
	modbus := func(name string) string {
		return `{"_path":"modbus","ts":1776246401.5,"uid":"C1","id.orig_h":"10.30.1.50","id.orig_p":50210,` +
			`"id.resp_h":"10.20.1.10","id.resp_p":502,"func":"` + name + `"}`
	}
	var cases []decodetest.FunctionCase
	for name, code := range map[string]int32{
		"READ_COILS": 1, "READ_DISCRETE_INPUTS": 2, "READ_HOLDING_REGISTERS": 3, "READ_INPUT_REGISTERS": 4,
		"WRITE_SINGLE_COIL": 5, "WRITE_SINGLE_REGISTER": 6, "READ_EXCEPTION_STATUS": 7, "DIAGNOSTICS": 8,
		"GET_COMM_EVENT_COUNTER": 11, "GET_COMM_EVENT_LOG": 12, "WRITE_MULTIPLE_COILS": 15,
		"WRITE_MULTIPLE_REGISTERS": 16, "REPORT_SLAVE_ID": 17, "READ_FILE_RECORD": 20, "WRITE_FILE_RECORD": 21,
		"MASK_WRITE_REGISTER": 22, "READ_WRITE_MULTIPLE_REGISTERS": 23, "READ_FIFO_QUEUE": 24,
		"ENCAP_INTERFACE_TRANSPORT": 43,
	} {
		fn := decode.FunctionName("modbus", code)
		cases = append(cases, decodetest.FunctionCase{name, "modbus", fn, strconv.Itoa(int(code))},
			decodetest.FunctionCase{name + "_EXCEPTION", "modbus", fn, strconv.Itoa(int(code))})
	}
	cases = append(cases, decodetest.FunctionCase{"unknown-90", "modbus", "umas", strconv.Itoa(int(90))})
	decodetest.Functions(t, zeek.Decoder{}, modbus, cases)

	dnp3 := func(name string) string {
		return `{"_path":"dnp3","ts":1776246401.5,"uid":"C2","id.orig_h":"10.30.1.50","id.orig_p":51110,` +
			`"id.resp_h":"10.20.1.14","id.resp_p":20000,"fc_request":"` + name + `","fc_reply":"RESPONSE","iin":0}`
	}
	cases = cases[:0]
	for name, code := range map[string]int32{
		"CONFIRM": 0, "READ": 1, "WRITE": 2, "SELECT": 3, "OPERATE": 4, "DIRECT_OPERATE": 5,
		"DIRECT_OPERATE_NR": 6, "IMMED_FREEZE": 7, "IMMED_FREEZE_NR": 8, "FREEZE_CLEAR": 9,
		"FREEZE_CLEAR_NR": 10, "FREEZE_AT_TIME": 11, "FREEZE_AT_TIME_NR": 12, "COLD_RESTART": 13,
		"WARM_RESTART": 14, "INITIALIZE_DATA": 15, "INITIALIZE_APPL": 16, "START_APPL": 17, "STOP_APPL": 18,
		"SAVE_CONFIG": 19, "ENABLE_UNSOLICITED": 20, "DISABLE_UNSOLICITED": 21, "ASSIGN_CLASS": 22,
		"DELAY_MEASURE": 23, "RECORD_CURRENT_TIME": 24, "OPEN_FILE": 25, "CLOSE_FILE": 26, "DELETE_FILE": 27,
		"GET_FILE_INFO": 28, "AUTHENTICATE_FILE": 29, "ABORT_FILE": 30, "ACTIVATE_CONFIG": 31,
		"AUTHENTICATE_REQ": 32, "AUTHENTICATE_ERR": 33,
	} {
		cases = append(cases, decodetest.FunctionCase{name, "dnp3", decode.FunctionName("dnp3", code), strconv.Itoa(int(code))})
	}
	decodetest.Functions(t, zeek.Decoder{}, dnp3, cases)
}
