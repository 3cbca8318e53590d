package decode

// The function catalogues. Names are snake_case forms of the names in the
// protocol specifications, and the same as the model's catalogue
// (rules/protocols.go); aliases are the spellings devices and sensors use.
// Sources: the Modbus Application Protocol Specification V1.1b3 and the
// public analyses of Schneider Electric's UMAS (Modbus function 90); IEEE
// 1815-2012 (DNP3) table 4-1; the ODVA CIP specification Vol. 1 (common
// services, appendix A) and Vol. 2 (EtherNet/IP encapsulation commands)
// with Rockwell's Logix tag services; Siemens S7comm as Wireshark's and
// CISA ICSNPP's dissectors name it; IEC 60870-5-101/104 type
// identifications; ASHRAE 135 (BACnet) service choices; IEC 62541-4
// (OPC UA services) and -6 (their binary encoding ids).

// folded returns s as fold compares it.
func folded(s string) string { return string(fold(make([]byte, 0, len(s)), s)) }

var modbusCatalog = newCatalog(map[int32]string{
	1: "read_coils", 2: "read_discrete_inputs", 3: "read_holding_registers", 4: "read_input_registers",
	5: "write_single_coil", 6: "write_single_register", 7: "read_exception_status", 8: "diagnostics",
	11: "get_comm_event_counter", 12: "get_comm_event_log", 15: "write_multiple_coils",
	16: "write_multiple_registers", 17: "report_server_id", 20: "read_file_record", 21: "write_file_record",
	22: "mask_write_register", 23: "read_write_multiple_registers", 24: "read_fifo_queue",
	43: "encapsulated_interface_transport", 90: "umas",
}, map[string]int32{
	// UMAS sub-functions, carried by function 90.
	"umas_init_comm": 90, "umas_read_id": 90, "umas_read_project_info": 90, "umas_read_plc_info": 90,
	"umas_read_card_info": 90, "umas_repeat": 90, "umas_take_plc_reservation": 90,
	"umas_release_plc_reservation": 90, "umas_keep_alive": 90, "umas_read_memory_block": 90,
	"umas_read_variables": 90, "umas_write_variables": 90, "umas_read_coils_registers": 90,
	"umas_write_coils_registers": 90, "umas_initialize_upload": 90, "umas_upload_block": 90,
	"umas_end_strategy_upload": 90, "umas_initialize_download": 90, "umas_download_block": 90,
	"umas_end_strategy_download": 90, "umas_read_eth_master_data": 90, "umas_start_plc": 90,
	"umas_stop_plc": 90, "umas_monitor_plc_read": 90, "umas_monitor_plc_write": 90, "umas_check_plc": 90,
	"umas_read_io_object": 90, "umas_write_io_object": 90, "umas_get_status_module": 90,
}, map[string]string{
	// Cisco's Modbus inspection and older Modicon names.
	"force_single_coil": "write_single_coil", "preset_single_register": "write_single_register",
	"force_multiple_coils": "write_multiple_coils", "preset_multiple_registers": "write_multiple_registers",
	"read_input_status": "read_discrete_inputs", "read_coil_status": "read_coils",
	"mask_write_4x_register": "mask_write_register", "read_multiple_registers": "read_holding_registers",
	"report_slave_id": "report_server_id", "write_register": "write_single_register",
	"write_coil": "write_single_coil", "write_registers": "write_multiple_registers",
	"write_coils": "write_multiple_coils", "read_write_registers": "read_write_multiple_registers",
	// Zeek, Suricata, PAN-OS App-IDs and FortiGuard.
	"encap_interface_transport":  "encapsulated_interface_transport",
	"encapsulated_transport":     "encapsulated_interface_transport",
	"read_device_identification": "encapsulated_interface_transport",
	"mei":                        "encapsulated_interface_transport", "read_write_register": "read_write_multiple_registers",
	"diagnostic": "diagnostics", "rd_coils": "read_coils", "rd_discrete_inputs": "read_discrete_inputs",
	"rd_hold_regs": "read_holding_registers", "rd_input_regs": "read_input_registers",
	"wr_single_coil": "write_single_coil", "wr_single_reg": "write_single_register",
	"wr_single_register": "write_single_register", "rd_exc_status": "read_exception_status",
	"get_comm_event_ctr": "get_comm_event_counter", "wr_mult_coils": "write_multiple_coils",
	"wr_mult_regs": "write_multiple_registers", "rd_file_rec": "read_file_record",
	"wr_file_rec": "write_file_record", "mask_wr_reg": "mask_write_register",
	"rd_wr_mult_regs": "read_write_multiple_registers", "rd_fifo_queue": "read_fifo_queue",
	// UMAS as PAN-OS App-IDs word them.
	"umas_monitor_bits_read": "umas_monitor_plc_read", "umas_monitor_words_read": "umas_monitor_plc_read",
	"umas_monitor_bits_write": "umas_monitor_plc_write", "umas_monitor_words_write": "umas_monitor_plc_write",
	"umas_coils_registers_read": "umas_read_coils_registers", "umas_coils_registers_write": "umas_write_coils_registers",
	"umas_variables_read": "umas_read_variables", "umas_variables_write": "umas_write_variables",
	"umas_memory_block_read": "umas_read_memory_block", "umas_plc_start": "umas_start_plc",
	"umas_plc_stop": "umas_stop_plc", "umas_base": "umas",
})

var dnp3Catalog = newCatalog(map[int32]string{
	0: "confirm", 1: "read", 2: "write", 3: "select", 4: "operate", 5: "direct_operate",
	6: "direct_operate_nr", 7: "immediate_freeze", 8: "immediate_freeze_nr", 9: "freeze_clear",
	10: "freeze_clear_nr", 11: "freeze_at_time", 12: "freeze_at_time_nr", 13: "cold_restart",
	14: "warm_restart", 15: "initialize_data", 16: "initialize_application", 17: "start_application",
	18: "stop_application", 19: "save_configuration", 20: "enable_unsolicited", 21: "disable_unsolicited",
	22: "assign_class", 23: "delay_measure", 24: "record_current_time", 25: "open_file", 26: "close_file",
	27: "delete_file", 28: "get_file_info", 29: "authenticate_file", 30: "abort_file",
	31: "activate_config", 32: "authenticate_req", 33: "authenticate_err", 129: "response",
	130: "unsolicited_response", 131: "authenticate_resp",
}, nil, map[string]string{
	// Zeek's names (base/protocols/dnp3/consts.zeek) where they differ.
	"immed_freeze": "immediate_freeze", "immed_freeze_nr": "immediate_freeze_nr",
	"initialize_appl": "initialize_application", "start_appl": "start_application",
	"stop_appl": "stop_application", "save_config": "save_configuration",
	"direct_operate_no_ack": "direct_operate_nr", "direct_operate_no_response": "direct_operate_nr",
	"unsolicited": "unsolicited_response", "save_configuration_file": "save_configuration",
})

var cipCatalog = newCatalog(map[int32]string{
	0x01: "get_attributes_all", 0x02: "set_attributes_all", 0x03: "get_attribute_list",
	0x04: "set_attribute_list", 0x05: "reset", 0x06: "start", 0x07: "stop", 0x08: "create",
	0x09: "delete", 0x0a: "multiple_service_packet", 0x0d: "apply_attributes",
	0x0e: "get_attribute_single", 0x10: "set_attribute_single", 0x11: "find_next_object_instance",
	0x14: "error_response", 0x15: "restore", 0x16: "save", 0x17: "nop", 0x18: "get_member",
	0x19: "set_member", 0x1a: "insert_member", 0x1b: "remove_member", 0x1c: "group_sync",
	0x1d: "get_connection_point_member_list",
}, map[string]int32{
	// Object-specific services (0x4B-0x63): a code names one only with the
	// class it addresses (see CIPService), a name always.
	"execute_pccc": 0x4b, "read_tag": 0x4c, "write_tag": 0x4d, "forward_close": 0x4e,
	"read_modify_write_tag": 0x4e, "read_tag_fragmented": 0x52, "unconnected_send": 0x52,
	"write_tag_fragmented": 0x53, "forward_open": 0x54, "get_instance_attribute_list": 0x55,
	"get_connection_data": 0x56, "search_connection_data": 0x57, "get_connection_owner": 0x5a,
	"large_forward_open": 0x5b, "initiate_upload": 0x4b, "initiate_download": 0x4c,
	"initiate_partial_read": 0x4d, "initiate_partial_write": 0x4e, "upload_transfer": 0x4f,
	"download_transfer": 0x50, "clear_file": 0x51,
}, map[string]string{
	// Suricata's and ICSNPP's names, Check Point's and others'.
	"get_attributes_single": "get_attribute_single", "set_attributes_single": "set_attribute_single",
	"get_attribute_all": "get_attributes_all", "set_attribute_all": "set_attributes_all",
	"get_attributes_list": "get_attribute_list", "set_attributes_list": "set_attribute_list",
	"no_forward_open": "nop", "no_operation": "nop", "execute_pccc_service": "execute_pccc",
	"read_data": "read_tag", "write_data": "write_tag", "read_write_modify_data": "read_modify_write_tag",
	"read_modify_write_data": "read_modify_write_tag", "read_data_fragmented": "read_tag_fragmented",
	"write_data_fragmented": "write_tag_fragmented", "read_tag_service": "read_tag",
	"write_tag_service": "write_tag", "read_modify_write_tag_service": "read_modify_write_tag",
	"read_tag_fragmented_service": "read_tag_fragmented", "write_tag_fragmented_service": "write_tag_fragmented",
	"multiple_service": "multiple_service_packet", "msp": "multiple_service_packet",
})

var enipCatalog = newCatalog(map[int32]string{
	0x0000: "enip_nop", 0x0004: "list_services", 0x0063: "list_identity", 0x0064: "list_interfaces",
	0x0065: "register_session", 0x0066: "unregister_session", 0x006f: "send_rr_data",
	0x0070: "send_unit_data", 0x0072: "indicate_status", 0x0073: "cancel",
}, nil, map[string]string{
	"nop": "enip_nop", "reg_session": "register_session", "unreg_session": "unregister_session",
	"send_rrdata": "send_rr_data", "send_unitdata": "send_unit_data",
})

var s7Catalog = newCatalog(map[int32]string{
	0x00: "cpu_services", 0x04: "read_var", 0x05: "write_var", 0x1a: "request_download",
	0x1b: "download_block", 0x1c: "download_ended", 0x1d: "start_upload", 0x1e: "upload",
	0x1f: "end_upload", 0x28: "pi_service", 0x29: "plc_stop", 0xf0: "setup_communication",
}, map[string]int32{
	// User-data functions (ROSCTR 7), named by group and sub-function.
	"block_status": -1, "variable_status": -1, "output_istack": -1, "output_bstack": -1,
	"output_lstack": -1, "time_measurement": -1, "force_selection": -1, "modify_variable": -1,
	"force": -1, "breakpoint": -1, "exit_hold": -1, "memory_reset": -1, "disable_job": -1,
	"enable_job": -1, "delete_job": -1, "read_job_list": -1, "read_job": -1, "replace_job": -1,
	"flash_led": -1, "cyclic_transfer": -1, "unsubscribe": -1, "change_driven_transfer": -1,
	"rdrec": -1, "list_blocks": -1, "list_blocks_of_type": -1, "get_block_info": -1, "read_szl": -1,
	"message_service": -1, "diagnostic_message": -1, "alarm_query": -1, "alarm_ack": -1,
	"plc_password": -1, "read_clock": -1, "set_clock": -1, "read_clock_following": -1,
	// S7comm-plus functions.
	"explore": 0x04bb, "create_object": 0x04ca, "delete_object": 0x04d4, "set_variable": 0x04f2,
	"get_variable": 0x04fc, "get_link": 0x0524, "set_multi_variables": 0x0542,
	"get_multi_variables": 0x054c, "begin_sequence": 0x0556, "end_sequence": 0x0560, "invoke": 0x056b,
	"get_var_sub_streamed": 0x0586, "notification": -1,
}, map[string]string{
	"read_variable": "read_var", "write_variable": "write_var", "plc_control": "pi_service",
	"pi": "pi_service", "setup_comm": "setup_communication", "set_clock_2": "set_clock",
	"read_clock_2": "read_clock", "block_status_v2": "block_status", "job_request": "cpu_services",
})

var iec104Catalog = newCatalog(map[int32]string{
	1: "m_sp_na_1", 2: "m_sp_ta_1", 3: "m_dp_na_1", 4: "m_dp_ta_1", 5: "m_st_na_1", 6: "m_st_ta_1",
	7: "m_bo_na_1", 8: "m_bo_ta_1", 9: "m_me_na_1", 10: "m_me_ta_1", 11: "m_me_nb_1", 12: "m_me_tb_1",
	13: "m_me_nc_1", 14: "m_me_tc_1", 15: "m_it_na_1", 16: "m_it_ta_1", 17: "m_ep_ta_1", 18: "m_ep_tb_1",
	19: "m_ep_tc_1", 20: "m_ps_na_1", 21: "m_me_nd_1", 30: "m_sp_tb_1", 31: "m_dp_tb_1", 32: "m_st_tb_1",
	33: "m_bo_tb_1", 34: "m_me_td_1", 35: "m_me_te_1", 36: "m_me_tf_1", 37: "m_it_tb_1", 38: "m_ep_td_1",
	39: "m_ep_te_1", 40: "m_ep_tf_1",
	45: "single_command", 46: "double_command", 47: "regulating_step", 48: "setpoint_normalized",
	49: "setpoint_scaled", 50: "setpoint_float", 51: "bitstring_command", 58: "c_sc_ta_1", 59: "c_dc_ta_1",
	60: "c_rc_ta_1", 61: "c_se_ta_1", 62: "c_se_tb_1", 63: "c_se_tc_1", 64: "c_bo_ta_1",
	70: "end_of_initialization", 100: "interrogation", 101: "counter_interrogation", 102: "read",
	103: "clock_sync", 104: "test", 105: "reset_process", 107: "test_with_time",
	110: "p_me_na_1", 111: "p_me_nb_1", 112: "p_me_nc_1", 113: "p_ac_na_1",
	120: "f_fr_na_1", 121: "f_sr_na_1", 122: "f_sc_na_1", 123: "f_ls_na_1", 124: "f_af_na_1",
	125: "f_sg_na_1", 126: "f_dr_ta_1", 127: "f_sc_nb_1",
}, map[string]int32{
	// PAN-OS App-IDs name groups of frames and type identifications.
	"apci_supervisory": -1, "apci_unnumbered": -1, "asdu_process_info_monitor": -1,
	"asdu_process_info_control": -1, "asdu_system_info_monitor": -1, "asdu_system_info_control": -1,
	"asdu_parameter_control": -1, "asdu_file_transfer": -1,
}, map[string]string{
	"c_sc_na_1": "single_command", "c_dc_na_1": "double_command", "c_rc_na_1": "regulating_step",
	"c_se_na_1": "setpoint_normalized", "c_se_nb_1": "setpoint_scaled", "c_se_nc_1": "setpoint_float",
	"c_bo_na_1": "bitstring_command", "m_ei_na_1": "end_of_initialization", "c_ic_na_1": "interrogation",
	"c_ci_na_1": "counter_interrogation", "c_rd_na_1": "read", "c_cs_na_1": "clock_sync",
	"c_ts_na_1": "test", "c_rp_na_1": "reset_process", "c_ts_ta_1": "test_with_time",
	"general_interrogation": "interrogation", "clock_synchronization": "clock_sync",
})

var bacnetCatalog = newCatalog(map[int32]string{
	0: "acknowledge_alarm", 1: "confirmed_cov_notification", 2: "confirmed_event_notification",
	3: "get_alarm_summary", 4: "get_enrollment_summary", 5: "subscribe_cov", 6: "atomic_read_file",
	7: "atomic_write_file", 8: "add_list_element", 9: "remove_list_element", 10: "create_object",
	11: "delete_object", 12: "read_property", 13: "read_property_conditional", 14: "read_property_multiple",
	15: "write_property", 16: "write_property_multiple", 17: "device_communication_control",
	18: "confirmed_private_transfer", 19: "confirmed_text_message", 20: "reinitialize_device",
	21: "vt_open", 22: "vt_close", 23: "vt_data", 24: "authenticate", 25: "request_key", 26: "read_range",
	27: "life_safety_operation", 28: "subscribe_cov_property", 29: "get_event_information",
	30: "subscribe_cov_property_multiple", 31: "confirmed_cov_notification_multiple",
}, map[string]int32{
	// Unconfirmed services: a code space of their own.
	"i_am": -1, "i_have": -1, "unconfirmed_cov_notification": -1, "unconfirmed_event_notification": -1,
	"unconfirmed_private_transfer": -1, "unconfirmed_text_message": -1, "time_synchronization": -1,
	"who_has": -1, "who_is": -1, "utc_time_synchronization": -1, "write_group": -1,
	"unconfirmed_cov_notification_multiple": -1, "who_am_i": -1, "you_are": -1,
}, map[string]string{"readproperty": "read_property", "writeproperty": "write_property"})

// opcuaServices are the services of IEC 62541-4 by the binary encoding id
// of their request (IEC 62541-6, NodeIds.csv); a response's id is the
// request's plus 3 (plus 1 for the two late additions).
var opcuaServices = map[int32]string{
	422: "find_servers", 12208: "find_servers_on_network", 428: "get_endpoints", 437: "register_server",
	12211: "register_server2", 446: "open_secure_channel", 452: "close_secure_channel",
	461: "create_session", 467: "activate_session", 473: "close_session", 479: "cancel",
	488: "add_nodes", 494: "add_references", 500: "delete_nodes", 506: "delete_references",
	527: "browse", 533: "browse_next", 554: "translate_browse_paths_to_node_ids", 560: "register_nodes",
	566: "unregister_nodes", 615: "query_first", 621: "query_next", 631: "read", 664: "history_read",
	673: "write", 700: "history_update", 712: "call", 751: "create_monitored_items",
	763: "modify_monitored_items", 769: "set_monitoring_mode", 775: "set_triggering",
	781: "delete_monitored_items", 787: "create_subscription", 793: "modify_subscription",
	799: "set_publishing_mode", 826: "publish", 832: "republish", 841: "transfer_subscriptions",
	847: "delete_subscriptions",
}

var opcuaCatalog = func() *catalog {
	named := map[string]int32{
		// Transport messages (IEC 62541-6 7.1.2) and the fault response.
		"hello": -1, "acknowledge": -1, "error": -1, "reverse_hello": -1, "service_fault": 397,
	}
	aliases := map[string]string{
		"hel": "hello", "ack": "acknowledge", "err": "error", "rhe": "reverse_hello",
		"opn": "open_secure_channel", "clo": "close_secure_channel",
	}
	for _, name := range opcuaServices {
		aliases[name+"_request"] = name
		aliases[name+"_response"] = name
	}
	return newCatalog(opcuaServices, named, aliases)
}()

// OPCUAService names the service of a binary encoding id, a request's or a
// response's, and reports whether the id is a response's.
func OPCUAService(id int32) (name string, response bool) {
	if n, ok := opcuaServices[id]; ok {
		return n, false
	}
	if n, ok := opcuaServices[id-3]; ok && id-3 < 12000 {
		return n, true
	}
	if n, ok := opcuaServices[id-1]; ok && id-1 > 12000 {
		return n, true
	}
	if id == 397 {
		return "service_fault", true
	}
	return "", false
}
