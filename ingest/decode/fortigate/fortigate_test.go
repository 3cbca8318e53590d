package fortigate_test

import (
	"testing"

	"github.com/otsiem/otsiem/ingest/decode/decodetest"
	"github.com/otsiem/otsiem/ingest/decode/fortigate"
)

func TestGolden(t *testing.T) { decodetest.Golden(t, fortigate.Decoder{}) }

func FuzzDecode(f *testing.F) { decodetest.Fuzz(f, fortigate.Decoder{}) }

func BenchmarkDecode(b *testing.B) {
	decodetest.Bench(b, fortigate.Decoder{}, "testdata/bench.txt")
}

// FortiGuard's OT application-control signatures (OT Security Service),
// as FortiGate logs them in app=: every function they name is mapped.
func TestFortiGuardOTSignatures(t *testing.T) {
	line := func(app string) string {
		return `<189>date=2026-04-15 time=09:37:00 devname="fgt-c1" logid="1059028705" type="utm" subtype="app-ctrl" ` +
			`level="information" vd="root" srcip=10.30.1.50 srcport=51105 srcintf="ops" dstip=10.20.1.10 dstport=502 ` +
			`dstintf="bpcs" proto=6 action="pass" appcat="Industrial" app="` + app + `"`
	}
	decodetest.Functions(t, fortigate.Decoder{}, line, []decodetest.FunctionCase{
		{"Modbus", "modbus", "", ""},
		{"Modbus_Read.Coils", "modbus", "read_coils", "1"},
		{"Modbus_Read.Discrete.Inputs", "modbus", "read_discrete_inputs", "2"},
		{"Modbus_Read.Holding.Registers", "modbus", "read_holding_registers", "3"},
		{"Modbus_Read.Input.Registers", "modbus", "read_input_registers", "4"},
		{"Modbus_Write.Single.Coil", "modbus", "write_single_coil", "5"},
		{"Modbus_Write.Single.Register", "modbus", "write_single_register", "6"},
		{"Modbus_Read.Exception.Status", "modbus", "read_exception_status", "7"},
		{"Modbus_Diagnostics", "modbus", "diagnostics", "8"},
		{"Modbus_Get.Comm.Event.Counter", "modbus", "get_comm_event_counter", "11"},
		{"Modbus_Get.Comm.Event.Log", "modbus", "get_comm_event_log", "12"},
		{"Modbus_Write.Multiple.Coils", "modbus", "write_multiple_coils", "15"},
		{"Modbus_Write.Multiple.Registers", "modbus", "write_multiple_registers", "16"},
		{"Modbus_Report.Slave.ID", "modbus", "report_server_id", "17"},
		{"Modbus_Read.File.Record", "modbus", "read_file_record", "20"},
		{"Modbus_Write.File.Record", "modbus", "write_file_record", "21"},
		{"Modbus_Mask.Write.Register", "modbus", "mask_write_register", "22"},
		{"Modbus_Read.Write.Multiple.Registers", "modbus", "read_write_multiple_registers", "23"},
		{"Modbus_Read.FIFO.Queue", "modbus", "read_fifo_queue", "24"},
		{"Modbus_Read.Device.Identification", "modbus", "encapsulated_interface_transport", "43"},
		{"Modbus_Func05.Write.Single.Coil.Validation", "modbus", "write_single_coil", "5"},
		{"Modbus_Func16.Write.Multiple.Registers.Validation", "modbus", "write_multiple_registers", "16"},
		{"Modbus_Func90", "modbus", "umas", "90"},
		{"Modbus.Unity", "modbus", "umas", "90"},
		{"Modbus.Unity_Check.PLC", "modbus", "umas_check_plc", "90"},
		{"Modbus.Unity_Download.Block", "modbus", "umas_download_block", "90"},
		{"ModBus.Unity_End.Strategy.Download", "modbus", "umas_end_strategy_download", "90"},
		{"ModBus.Unity_End.Strategy.Upload", "modbus", "umas_end_strategy_upload", "90"},
		{"ModBus.Unity_Get.Status.Module", "modbus", "umas_get_status_module", "90"},
		{"Modbus.Unity_Init.Comm", "modbus", "umas_init_comm", "90"},
		{"Modbus.Unity_Initialize.Download", "modbus", "umas_initialize_download", "90"},
		{"Modbus.Unity_Initialize.Upload", "modbus", "umas_initialize_upload", "90"},
		{"ModBus.Unity_Keep.Alive", "modbus", "umas_keep_alive", "90"},
		{"Modbus.Unity_Monitor.PLC.Read", "modbus", "umas_monitor_plc_read", "90"},
		{"Modbus.Unity_Monitor.PLC.Write", "modbus", "umas_monitor_plc_write", "90"},
		{"ModBus.Unity_Read.Card.Info", "modbus", "umas_read_card_info", "90"},
		{"Modbus.Unity_Read.Coils.Registers", "modbus", "umas_read_coils_registers", "90"},
		{"Modbus.Unity_Read.ID", "modbus", "umas_read_id", "90"},
		{"Modbus.Unity_Read.Memory.Block", "modbus", "umas_read_memory_block", "90"},
		{"Modbus.Unity_Read.PLC.Info", "modbus", "umas_read_plc_info", "90"},
		{"Modbus.Unity_Read.Project.Info", "modbus", "umas_read_project_info", "90"},
		{"Modbus.Unity_Read.Variables", "modbus", "umas_read_variables", "90"},
		{"Modbus.Unity_Release.PLC.Reservation", "modbus", "umas_release_plc_reservation", "90"},
		{"Modbus.Unity_Start.PLC", "modbus", "umas_start_plc", "90"},
		{"Modbus.Unity_Stop.PLC", "modbus", "umas_stop_plc", "90"},
		{"Modbus.Unity_Take.PLC.Reservation", "modbus", "umas_take_plc_reservation", "90"},
		{"Modbus.Unity_Upload.Block", "modbus", "umas_upload_block", "90"},
		{"Modbus.Unity_Write.Coils.Registers", "modbus", "umas_write_coils_registers", "90"},
		{"Modbus.Unity_Write.Variables", "modbus", "umas_write_variables", "90"},
		{"DNP3_Read", "dnp3", "read", "1"},
		{"DNP3_Write", "dnp3", "write", "2"},
		{"DNP3_Select", "dnp3", "select", "3"},
		{"DNP3_Operate", "dnp3", "operate", "4"},
		{"DNP3_Direct.Operate", "dnp3", "direct_operate", "5"},
		{"DNP3_Direct.Operate.No.Ack", "dnp3", "direct_operate_nr", "6"},
		{"DNP3_Immediate.Freeze", "dnp3", "immediate_freeze", "7"},
		{"DNP3_Cold.Restart", "dnp3", "cold_restart", "13"},
		{"DNP3_Warm.Restart", "dnp3", "warm_restart", "14"},
		{"DNP3_Initialize.Data", "dnp3", "initialize_data", "15"},
		{"DNP3_Start.Application", "dnp3", "start_application", "17"},
		{"DNP3_Stop.Application", "dnp3", "stop_application", "18"},
		{"DNP3_Save.Configuration", "dnp3", "save_configuration", "19"},
		{"DNP3_Enable.Unsolicited", "dnp3", "enable_unsolicited", "20"},
		{"DNP3_Disable.Unsolicited", "dnp3", "disable_unsolicited", "21"},
		{"DNP3_Delete.File", "dnp3", "delete_file", "27"},
		{"OPC.UA", "opcua", "", ""},
		{"OPC.UA_Read.Request", "opcua", "read", "631"},
		{"OPC.UA_Write.Request", "opcua", "write", "673"},
		{"OPC.UA_Call.Request", "opcua", "call", "712"},
		{"OPC.UA_Browse.Request", "opcua", "browse", "527"},
		{"OPC.UA_Create.Session.Request", "opcua", "create_session", "461"},
		{"IEC.60870.5.104", "iec104", "", ""},
		{"IEC.60870.5.104_C_SC_NA_1", "iec104", "single_command", "45"},
		{"IEC.60870.5.104_Interrogation.Command", "iec104", "interrogation", "100"},
		{"IEC.60870.5.104_Clock.Synchronization", "iec104", "clock_sync", "103"},
		{"S7.Protocol_PLC.Stop", "s7", "plc_stop", "41"},
		{"S7.Protocol_Write.Var", "s7", "write_var", "5"},
		{"S7.Protocol_Download.Block", "s7", "download_block", "27"},
		{"BACnet_Write.Property", "bacnet", "write_property", "15"},
		{"BACnet_Who.Is", "bacnet", "who_is", ""},
		{"CIP_Write.Tag", "cip", "write_tag", "77"},
		{"EtherNet.IP_List.Identity", "enip", "list_identity", "99"},
		// A function FortiGuard names and otsiem cannot map is kept as written.
		{"Modbus_Vendor.Specific.Thing", "modbus", "Vendor.Specific.Thing", ""},
	})
}
