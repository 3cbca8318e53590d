package panos_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/panos"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, panos.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, panos.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, panos.Decoder{}, "testdata/bench.txt")
}

// PAN-OS App-IDs of industrial protocols ("App-IDs for ICS and SCADA",
// Applipedia): every function-level App-ID names its function.
func TestOTAppIDs(t *testing.T) {
	line := func(app string) string {
		return "<14>Apr 15 09:43:00 pa-c1 1,2026/04/15 09:43:00,013201009877,TRAFFIC,end,2561,2026/04/15 09:43:00," +
			"10.30.1.50,10.20.1.12,0.0.0.0,0.0.0.0,ops-to-bpcs,,," + app + ",vsys1,ops,bpcs,ethernet1/1,ethernet1/2," +
			"fwd-otsiem,2026/04/15 09:43:00,4801,1,51200,502,0,0,0x400019,tcp,allow,500,250,250,6,2026/04/15 09:43:00,1,any"
	}
	decodetest.Functions(t, panos.Decoder{}, line, []decodetest.FunctionCase{
		{"modbus-base", "modbus", "", ""},
		{"modbus-read-coils", "modbus", "read_coils", "1"},
		{"modbus-read-discrete-inputs", "modbus", "read_discrete_inputs", "2"},
		{"modbus-read-holding-registers", "modbus", "read_holding_registers", "3"},
		{"modbus-read-input-registers", "modbus", "read_input_registers", "4"},
		{"modbus-write-single-coil", "modbus", "write_single_coil", "5"},
		{"modbus-write-single-register", "modbus", "write_single_register", "6"},
		{"modbus-write-multiple-coils", "modbus", "write_multiple_coils", "15"},
		{"modbus-write-multiple-registers", "modbus", "write_multiple_registers", "16"},
		{"modbus-read-file-record", "modbus", "read_file_record", "20"},
		{"modbus-write-file-record", "modbus", "write_file_record", "21"},
		{"modbus-mask-write-register", "modbus", "mask_write_register", "22"},
		{"modbus-read-write-register", "modbus", "read_write_multiple_registers", "23"},
		{"modbus-read-fifo-queue", "modbus", "read_fifo_queue", "24"},
		{"modbus-encapsulated-transport", "modbus", "encapsulated_interface_transport", "43"},
		{"umas-base", "modbus", "umas", "90"},
		{"umas-init-comm", "modbus", "umas_init_comm", "90"},
		{"umas-download-block", "modbus", "umas_download_block", "90"},
		{"umas-initialize-download", "modbus", "umas_initialize_download", "90"},
		{"umas-initialize-upload", "modbus", "umas_initialize_upload", "90"},
		{"umas-monitor-bits-read", "modbus", "umas_monitor_plc_read", "90"},
		{"umas-monitor-words-read", "modbus", "umas_monitor_plc_read", "90"},
		{"umas-monitor-bits-write", "modbus", "umas_monitor_plc_write", "90"},
		{"umas-monitor-words-write", "modbus", "umas_monitor_plc_write", "90"},
		{"umas-coils-registers-read", "modbus", "umas_read_coils_registers", "90"},
		{"umas-coils-registers-write", "modbus", "umas_write_coils_registers", "90"},
		{"umas-start-plc", "modbus", "umas_start_plc", "90"},
		{"umas-stop-plc", "modbus", "umas_stop_plc", "90"},
		{"dnp3-base", "dnp3", "", ""},
		{"dnp3-read", "dnp3", "read", "1"},
		{"dnp3-write", "dnp3", "write", "2"},
		{"dnp3-select", "dnp3", "select", "3"},
		{"dnp3-operate", "dnp3", "operate", "4"},
		{"dnp3-direct-operate", "dnp3", "direct_operate", "5"},
		{"dnp3-cold-restart", "dnp3", "cold_restart", "13"},
		{"dnp3-warm-restart", "dnp3", "warm_restart", "14"},
		{"dnp3-stop-application", "dnp3", "stop_application", "18"},
		{"dnp3-save-config", "dnp3", "save_configuration", "19"},
		{"dnp3-disable-unsolicited", "dnp3", "disable_unsolicited", "21"},
		{"iec-60870-5-104-base", "iec104", "", ""},
		{"104apci-supervisory", "iec104", "apci_supervisory", ""},
		{"104apci-unnumbered", "iec104", "apci_unnumbered", ""},
		{"104asdu-process-info-monitor", "iec104", "asdu_process_info_monitor", ""},
		{"104asdu-process-info-control", "iec104", "asdu_process_info_control", ""},
		{"104asdu-system-info-monitor", "iec104", "asdu_system_info_monitor", ""},
		{"104asdu-system-info-control", "iec104", "asdu_system_info_control", ""},
		{"104asdu-parameter-control", "iec104", "asdu_parameter_control", ""},
		{"104asdu-file-transfer", "iec104", "asdu_file_transfer", ""},
		{"cip-ethernet-ip-base", "cip", "", ""},
		{"cip-ethernet-ip-list-identity", "enip", "list_identity", "99"},
		{"cip-ethernet-ip-reg-session", "enip", "register_session", "101"},
		{"cip-ethernet-ip-unreg-session", "enip", "unregister_session", "102"},
		{"cip-ethernet-ip-list-services", "enip", "list_services", "4"},
		{"cip-ethernet-ip-read-tag", "cip", "read_tag", "76"},
		{"cip-ethernet-ip-write-tag", "cip", "write_tag", "77"},
		{"cip-ethernet-ip-reset", "cip", "reset", "5"},
		{"s7comm-base", "s7", "", ""},
		{"siemens-s7-plc-stop", "s7", "plc_stop", "41"},
		{"s7comm-write-var", "s7", "write_var", "5"},
		{"s7comm-download-block", "s7", "download_block", "27"},
		{"opc-ua", "opcua", "", ""},
		{"bacnet-base", "bacnet", "", ""},
	})
}
