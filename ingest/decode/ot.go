package decode

import "github.com/otsiem/otsiem/ingest/event"

// Function names are snake_case forms of the names in the protocol
// specifications: the Modbus Application Protocol Specification V1.1b3,
// IEEE 1815 (DNP3) and the ODVA CIP / EtherNet/IP specifications.

// modbusFunctions are the public Modbus function codes.
var modbusFunctions = map[int32]string{
	1: "read_coils", 2: "read_discrete_inputs", 3: "read_holding_registers", 4: "read_input_registers",
	5: "write_single_coil", 6: "write_single_register", 7: "read_exception_status", 8: "diagnostics",
	11: "get_comm_event_counter", 12: "get_comm_event_log", 15: "write_multiple_coils",
	16: "write_multiple_registers", 17: "report_server_id", 20: "read_file_record", 21: "write_file_record",
	22: "mask_write_register", 23: "read_write_multiple_registers", 24: "read_fifo_queue",
	43: "encapsulated_interface_transport",
}

// dnp3Functions are the DNP3 application layer function codes.
var dnp3Functions = map[int32]string{
	0: "confirm", 1: "read", 2: "write", 3: "select", 4: "operate", 5: "direct_operate",
	6: "direct_operate_nr", 7: "immed_freeze", 8: "immed_freeze_nr", 9: "freeze_clear",
	10: "freeze_clear_nr", 11: "freeze_at_time", 12: "freeze_at_time_nr", 13: "cold_restart",
	14: "warm_restart", 15: "initialize_data", 16: "initialize_application", 17: "start_application",
	18: "stop_application", 19: "save_configuration", 20: "enable_unsolicited", 21: "disable_unsolicited",
	22: "assign_class", 23: "delay_measure", 24: "record_current_time", 25: "open_file", 26: "close_file",
	27: "delete_file", 28: "get_file_info", 29: "authenticate_file", 30: "abort_file",
	31: "activate_config", 32: "authenticate_req", 33: "authenticate_err", 129: "response",
	130: "unsolicited_response", 131: "authenticate_resp",
}

// cipServices are common CIP service codes (the common services of the CIP
// specification and the Connection Manager and Logix symbol services).
var cipServices = map[int32]string{
	0x01: "get_attributes_all", 0x02: "set_attributes_all", 0x03: "get_attribute_list",
	0x04: "set_attribute_list", 0x05: "reset", 0x06: "start", 0x07: "stop", 0x08: "create",
	0x09: "delete", 0x0a: "multiple_service_packet", 0x0d: "apply_attributes",
	0x0e: "get_attribute_single", 0x10: "set_attribute_single", 0x11: "find_next_object_instance",
	0x14: "error_response", 0x15: "restore", 0x16: "save", 0x17: "nop", 0x18: "get_member",
	0x19: "set_member", 0x1a: "insert_member", 0x1b: "remove_member", 0x1c: "group_sync",
	0x4c: "read_tag", 0x4d: "write_tag", 0x4e: "forward_close", 0x52: "unconnected_send",
	0x53: "write_tag_fragmented", 0x54: "forward_open", 0x5b: "large_forward_open",
}

// enipCommands are the EtherNet/IP encapsulation commands.
var enipCommands = map[int32]string{
	0x0000: "nop", 0x0004: "list_services", 0x0063: "list_identity", 0x0064: "list_interfaces",
	0x0065: "register_session", 0x0066: "unregister_session", 0x006f: "send_rr_data",
	0x0070: "send_unit_data", 0x0072: "indicate_status", 0x0073: "cancel",
}

// s7Functions are S7comm job function codes.
var s7Functions = map[int32]string{
	0x00: "cpu_services", 0x04: "read_var", 0x05: "write_var", 0x1a: "request_download",
	0x1b: "download_block", 0x1c: "download_ended", 0x1d: "start_upload", 0x1e: "upload",
	0x1f: "end_upload", 0x28: "plc_control", 0x29: "plc_stop", 0xf0: "setup_communication",
}

// iec104Types are common IEC 60870-5-104 ASDU type identifications.
var iec104Types = map[int32]string{
	1: "m_sp_na_1", 3: "m_dp_na_1", 9: "m_me_na_1", 11: "m_me_nb_1", 13: "m_me_nc_1", 30: "m_sp_tb_1",
	31: "m_dp_tb_1", 36: "m_me_tf_1", 45: "c_sc_na_1", 46: "c_dc_na_1", 47: "c_rc_na_1", 48: "c_se_na_1",
	49: "c_se_nb_1", 50: "c_se_nc_1", 58: "c_sc_ta_1", 59: "c_dc_ta_1", 100: "c_ic_na_1",
	101: "c_ci_na_1", 102: "c_rd_na_1", 103: "c_cs_na_1", 105: "c_rp_na_1",
}

func tableFor(proto string) map[int32]string {
	switch proto {
	case "modbus":
		return modbusFunctions
	case "dnp3":
		return dnp3Functions
	case "cip":
		return cipServices
	case "enip":
		return enipCommands
	case "s7":
		return s7Functions
	case "iec104":
		return iec104Types
	}
	return nil
}

// FunctionName returns the name of function code code of an app protocol
// (as AppProtocol names it), or "" when unknown. Modbus exception
// responses (code+0x80) are named "<function>_exception".
func FunctionName(proto string, code int32) string {
	t := tableFor(proto)
	if t == nil {
		return ""
	}
	if name, ok := t[code]; ok {
		return name
	}
	if proto == "modbus" && code >= 0x80 {
		if name, ok := t[code-0x80]; ok {
			return modbusExceptions[name]
		}
	}
	return ""
}

var modbusExceptions = func() map[string]string {
	m := map[string]string{}
	for _, n := range modbusFunctions {
		m[n] = n + "_exception"
	}
	return m
}()

// FunctionCode returns the function code named name for an app protocol,
// matching names case-insensitively and ignoring '-', '_' and spaces, so
// "read-holding-registers", "READ_HOLDING_REGISTERS" and "Read Holding
// Registers" all give Modbus 3. Cisco's Modbus inspection names
// (force-single-coil, preset-single-register, force-multiple-coils,
// preset-multiple-registers) are understood too.
func FunctionCode(proto, name string) (int32, bool) {
	t := tableFor(proto)
	if t == nil || name == "" {
		return 0, false
	}
	var buf, buf2 [48]byte
	key := fold(buf[:0], name)
	if code, ok := aliases[proto][string(key)]; ok {
		return code, true
	}
	for code, n := range t {
		if string(key) == string(fold(buf2[:0], n)) {
			return code, true
		}
	}
	return 0, false
}

// aliases are other names of functions, folded, by protocol: Cisco's
// Modbus inspection names, Zeek's Modbus and DNP3 names.
var aliases = map[string]map[string]int32{
	"modbus": {
		"forcesinglecoil": 5, "presetsingleregister": 6, "forcemultiplecoils": 15,
		"presetmultipleregisters": 16, "readinputstatus": 2, "readcoilstatus": 1,
		"readwriteregisters": 23, "maskwrite4xregister": 22, "readmultipleregisters": 3,
		"writeregister": 6, "writecoil": 5, "writeregisters": 16, "writecoils": 15,
		"reportslaveid": 17, "encapinterfacetransport": 43,
	},
	"dnp3": {"initializeappl": 16, "startappl": 17, "stopappl": 18},
}

// SetOTApp sets ev's app_protocol from a name OTApp understands, and its
// function code and name when the name gives them (the vendor's words for
// a function otsiem cannot map); it reports whether the
// name started with an industrial protocol.
func SetOTApp(ev *event.Event, name string) bool {
	proto, code, fn, hasCode, ok := OTApp(name)
	if !ok {
		return false
	}
	ev.AppProtocol = proto
	switch {
	case hasCode:
		ev.FunctionCode, ev.Function = event.Some(code), fn
	case fn != "" && name != ev.Signature:
		// A function the vendor named and otsiem cannot map: kept in the
		// vendor's words, so that a rule restricting functions judges it
		// unknown (fail closed) instead of seeing no function at all. A
		// signature's name names an attack, not a function: its rest is
		// not kept.
		ev.Function = fn
	}
	return true
}
