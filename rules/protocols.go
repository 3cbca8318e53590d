package rules

import "strings"

// protocol describes an application protocol the model can name: its
// canonical name (the event's app_protocol), default transport and ports,
// other names it is known by, and, for industrial protocols, its functions.
type protocol struct {
	name      string
	transport string
	ports     []uint16
	aliases   []string
	functions *functionCatalog
}

// functionCatalog names a protocol's functions and says which of them only
// read. Protocols whose functions are numbered (Modbus function codes, DNP3
// function codes, CIP services, S7 functions, IEC 104 type ids, BACnet
// services) fit in a byte; OPC UA services are known by name only. A
// numbered catalogue may also know functions by name only (code -1): those
// a code alone does not tell apart, such as the UMAS sub-functions of
// Modbus function 90, S7 user-data and S7comm-plus functions, BACnet's
// unconfirmed services, CIP services whose meaning depends on the object
// class, EtherNet/IP encapsulation commands. Decoders name functions the
// same way (package ingest/decode's catalogue; a test checks both agree).
type functionCatalog struct {
	byName   map[string]int // normalized name → code (-1 when named only)
	readOnly []string       // function names that only read
	readCode []int          // function codes that only read, besides readOnly
	named    bool           // functions are compared by name, not code
}

func catalog(named bool, readOnly []string, readCodes []int, fns ...any) *functionCatalog {
	c := &functionCatalog{byName: map[string]int{}, readOnly: readOnly, readCode: readCodes, named: named}
	for i := 0; i+1 < len(fns); i += 2 {
		c.byName[normName(fns[i].(string))] = fns[i+1].(int)
	}
	return c
}

// Modbus function codes from the Modbus Application Protocol Specification
// V1.1b3, with the names Cisco's Modbus inspection uses as aliases.
// Read-only: the four reads, and the diagnostics that only report (7, 11, 12,
// 17) or read records (20, 24). Diagnostics (8) is left out: its
// sub-functions restart the device or force listen-only mode; 43 (MEI
// transport) is left out because MEI type 13 carries CANopen writes.
// Function 90 is Schneider Electric's UMAS; its sub-functions (public
// analyses of the protocol) are known by name, and those that only read
// are read-only. Reservations, uploads and downloads of the program, start
// and stop are not.
var modbusFunctions = catalog(false,
	[]string{"read-coils", "read-discrete-inputs", "read-holding-registers", "read-input-registers",
		"read-exception-status", "get-comm-event-counter", "get-comm-event-log", "report-server-id",
		"read-file-record", "read-fifo-queue",
		"umas-init-comm", "umas-read-id", "umas-read-project-info", "umas-read-plc-info", "umas-read-card-info",
		"umas-repeat", "umas-keep-alive", "umas-read-memory-block", "umas-read-variables",
		"umas-read-coils-registers", "umas-read-eth-master-data", "umas-monitor-plc-read", "umas-check-plc",
		"umas-read-io-object", "umas-get-status-module"}, nil,
	"read-coils", 1, "read-discrete-inputs", 2, "read-holding-registers", 3, "read-input-registers", 4,
	"write-single-coil", 5, "force-single-coil", 5, "write-single-register", 6, "preset-single-register", 6,
	"read-exception-status", 7, "diagnostics", 8, "get-comm-event-counter", 11, "get-comm-event-log", 12,
	"write-multiple-coils", 15, "force-multiple-coils", 15, "write-multiple-registers", 16,
	"preset-multiple-registers", 16, "report-server-id", 17, "report-slave-id", 17, "read-file-record", 20,
	"write-file-record", 21, "mask-write-register", 22, "read-write-multiple-registers", 23,
	"read-fifo-queue", 24, "encapsulated-interface-transport", 43, "read-device-identification", 43,
	"umas", 90,
	"umas-init-comm", -1, "umas-read-id", -1, "umas-read-project-info", -1, "umas-read-plc-info", -1,
	"umas-read-card-info", -1, "umas-repeat", -1, "umas-take-plc-reservation", -1,
	"umas-release-plc-reservation", -1, "umas-keep-alive", -1, "umas-read-memory-block", -1,
	"umas-read-variables", -1, "umas-write-variables", -1, "umas-read-coils-registers", -1,
	"umas-write-coils-registers", -1, "umas-initialize-upload", -1, "umas-upload-block", -1,
	"umas-end-strategy-upload", -1, "umas-initialize-download", -1, "umas-download-block", -1,
	"umas-end-strategy-download", -1, "umas-read-eth-master-data", -1, "umas-start-plc", -1,
	"umas-stop-plc", -1, "umas-monitor-plc-read", -1, "umas-monitor-plc-write", -1, "umas-check-plc", -1,
	"umas-read-io-object", -1, "umas-write-io-object", -1, "umas-get-status-module", -1)

// DNP3 function codes (IEEE 1815-2012, table 4-1). Read-only: confirm, read,
// delay measurement and the two responses.
var dnp3Functions = catalog(false,
	[]string{"confirm", "read", "delay-measure", "response", "unsolicited-response"}, nil,
	"confirm", 0, "read", 1, "write", 2, "select", 3, "operate", 4, "direct-operate", 5,
	"direct-operate-nr", 6, "immediate-freeze", 7, "immediate-freeze-nr", 8, "freeze-clear", 9,
	"freeze-clear-nr", 10, "freeze-at-time", 11, "freeze-at-time-nr", 12, "cold-restart", 13,
	"warm-restart", 14, "initialize-data", 15, "initialize-application", 16, "start-application", 17,
	"stop-application", 18, "save-configuration", 19, "enable-unsolicited", 20, "disable-unsolicited", 21,
	"assign-class", 22, "delay-measure", 23, "record-current-time", 24, "open-file", 25, "close-file", 26,
	"delete-file", 27, "get-file-info", 28, "authenticate-file", 29, "abort-file", 30,
	"activate-config", 31, "authenticate-req", 32, "authenticate-err", 33, "response", 129,
	"unsolicited-response", 130, "authenticate-resp", 131)

// CIP service codes (EtherNet/IP). Read-only: the Get services, Logix tag
// reads, and connection set-up and tear-down. 0x4E is Forward_Close on the
// Connection Manager and Read-Modify-Write on Logix tag objects: decoders
// name it by the class addressed when the sensor logs it, and a bare 0x4E
// counts as Forward_Close; likewise 0x52 is Unconnected_Send (which carries
// any service, so not read-only) or Read Tag Fragmented. Services known by
// name only: those object-specific ones, the File object's transfers, and
// the EtherNet/IP encapsulation commands (an event with no CIP service is
// judged by its command; SendRRData and SendUnitData carry services
// otsiem did not see, so they are not read-only).
var cipFunctions = catalog(false,
	[]string{"get-attributes-all", "get-attribute-list", "get-attribute-single", "find-next-object-instance",
		"read-tag", "read-tag-fragmented", "forward-open", "large-forward-open", "forward-close",
		"get-instance-attribute-list", "nop", "get-member", "error-response", "get-connection-point-member-list",
		"get-connection-data", "search-connection-data", "get-connection-owner", "initiate-partial-read",
		"enip-nop", "list-services", "list-identity", "list-interfaces", "register-session",
		"unregister-session", "indicate-status", "cancel"}, nil,
	"get-attributes-all", 0x01, "set-attributes-all", 0x02, "get-attribute-list", 0x03,
	"set-attribute-list", 0x04, "reset", 0x05, "start", 0x06, "stop", 0x07, "create", 0x08,
	"delete", 0x09, "multiple-service-packet", 0x0a, "apply-attributes", 0x0d,
	"get-attribute-single", 0x0e, "set-attribute-single", 0x10, "find-next-object-instance", 0x11,
	"error-response", 0x14, "restore", 0x15, "save", 0x16, "nop", 0x17, "get-member", 0x18,
	"set-member", 0x19, "insert-member", 0x1a, "remove-member", 0x1b, "group-sync", 0x1c,
	"get-connection-point-member-list", 0x1d, "execute-pccc", 0x4b,
	"read-tag", 0x4c, "write-tag", 0x4d, "forward-close", 0x4e, "read-tag-fragmented", 0x52,
	"write-tag-fragmented", 0x53, "forward-open", 0x54, "get-instance-attribute-list", 0x55,
	"large-forward-open", 0x5b,
	"read-modify-write-tag", -1, "unconnected-send", -1, "get-connection-data", -1,
	"search-connection-data", -1, "get-connection-owner", -1, "initiate-upload", -1,
	"initiate-download", -1, "initiate-partial-read", -1, "initiate-partial-write", -1,
	"upload-transfer", -1, "download-transfer", -1, "clear-file", -1,
	"enip-nop", -1, "list-services", -1, "list-identity", -1, "list-interfaces", -1,
	"register-session", -1, "unregister-session", -1, "send-rr-data", -1, "send-unit-data", -1,
	"indicate-status", -1, "cancel", -1)

// S7comm job functions, with the user-data (ROSCTR 7) and S7comm-plus
// functions by name. Read-only: reading variables, communication set-up,
// and user-data functions that only report (status, stacks, block lists,
// the SZL, diagnostics, alarms queried, the clock read, cyclic reads);
// S7comm-plus explore and gets. Uploads (reading the program out) are not,
// nor S7comm-plus CreateObject and DeleteObject: every S7comm-plus session
// opens with them, so a read-only rule on S7comm-plus must list them.
var s7Functions = catalog(false,
	[]string{"read-var", "setup-communication", "block-status", "variable-status", "output-istack",
		"output-bstack", "output-lstack", "time-measurement", "read-job-list", "read-job", "cyclic-transfer",
		"unsubscribe", "change-driven-transfer", "rdrec", "list-blocks", "list-blocks-of-type", "get-block-info",
		"read-szl", "message-service", "diagnostic-message", "alarm-query", "read-clock", "read-clock-following",
		"explore", "get-variable", "get-link", "get-multi-variables", "get-var-sub-streamed"}, nil,
	"cpu-services", 0x00, "read-var", 0x04, "write-var", 0x05, "request-download", 0x1a,
	"download-block", 0x1b, "download-ended", 0x1c, "start-upload", 0x1d, "upload", 0x1e,
	"end-upload", 0x1f, "pi-service", 0x28, "plc-stop", 0x29, "setup-communication", 0xf0,
	"block-status", -1, "variable-status", -1, "output-istack", -1, "output-bstack", -1,
	"output-lstack", -1, "time-measurement", -1, "force-selection", -1, "modify-variable", -1,
	"force", -1, "breakpoint", -1, "exit-hold", -1, "memory-reset", -1, "disable-job", -1,
	"enable-job", -1, "delete-job", -1, "read-job-list", -1, "read-job", -1, "replace-job", -1,
	"flash-led", -1, "cyclic-transfer", -1, "unsubscribe", -1, "change-driven-transfer", -1,
	"rdrec", -1, "list-blocks", -1, "list-blocks-of-type", -1, "get-block-info", -1, "read-szl", -1,
	"message-service", -1, "diagnostic-message", -1, "alarm-query", -1, "alarm-ack", -1,
	"plc-password", -1, "read-clock", -1, "set-clock", -1, "read-clock-following", -1,
	"explore", -1, "create-object", -1, "delete-object", -1, "set-variable", -1, "get-variable", -1,
	"get-link", -1, "set-multi-variables", -1, "get-multi-variables", -1, "begin-sequence", -1,
	"end-sequence", -1, "invoke", -1, "get-var-sub-streamed", -1)

// IEC 60870-5-104 ASDU type identifiers. Read-only: every monitoring type in
// the process-information direction (1-40), end of initialisation (70),
// interrogations, read and test commands; of the frame and ASDU groups
// PAN-OS App-IDs name, the link frames and the monitoring direction.
var iec104Functions = catalog(false,
	[]string{"end-of-initialization", "interrogation", "counter-interrogation", "read", "test", "test-with-time",
		"apci-supervisory", "apci-unnumbered", "asdu-process-info-monitor", "asdu-system-info-monitor"},
	rangeInts(1, 40),
	"single-command", 45, "double-command", 46, "regulating-step", 47, "setpoint-normalized", 48,
	"setpoint-scaled", 49, "setpoint-float", 50, "bitstring-command", 51, "end-of-initialization", 70,
	"interrogation", 100, "counter-interrogation", 101, "read", 102, "clock-sync", 103, "test", 104,
	"reset-process", 105, "test-with-time", 107,
	// Type identification mnemonics (IEC 60870-5-101 7.2.1.1).
	"m-sp-na-1", 1, "m-sp-ta-1", 2, "m-dp-na-1", 3, "m-dp-ta-1", 4, "m-st-na-1", 5, "m-st-ta-1", 6,
	"m-bo-na-1", 7, "m-bo-ta-1", 8, "m-me-na-1", 9, "m-me-ta-1", 10, "m-me-nb-1", 11, "m-me-tb-1", 12,
	"m-me-nc-1", 13, "m-me-tc-1", 14, "m-it-na-1", 15, "m-it-ta-1", 16, "m-ep-ta-1", 17, "m-ep-tb-1", 18,
	"m-ep-tc-1", 19, "m-ps-na-1", 20, "m-me-nd-1", 21, "m-sp-tb-1", 30, "m-dp-tb-1", 31, "m-st-tb-1", 32,
	"m-bo-tb-1", 33, "m-me-td-1", 34, "m-me-te-1", 35, "m-me-tf-1", 36, "m-it-tb-1", 37, "m-ep-td-1", 38,
	"m-ep-te-1", 39, "m-ep-tf-1", 40, "c-sc-na-1", 45, "c-dc-na-1", 46, "c-rc-na-1", 47, "c-se-na-1", 48,
	"c-se-nb-1", 49, "c-se-nc-1", 50, "c-bo-na-1", 51, "c-sc-ta-1", 58, "c-dc-ta-1", 59, "c-rc-ta-1", 60,
	"c-se-ta-1", 61, "c-se-tb-1", 62, "c-se-tc-1", 63, "c-bo-ta-1", 64, "m-ei-na-1", 70, "c-ic-na-1", 100,
	"c-ci-na-1", 101, "c-rd-na-1", 102, "c-cs-na-1", 103, "c-ts-na-1", 104, "c-rp-na-1", 105, "c-ts-ta-1", 107,
	"p-me-na-1", 110, "p-me-nb-1", 111, "p-me-nc-1", 112, "p-ac-na-1", 113, "f-fr-na-1", 120, "f-sr-na-1", 121,
	"f-sc-na-1", 122, "f-ls-na-1", 123, "f-af-na-1", 124, "f-sg-na-1", 125, "f-dr-ta-1", 126, "f-sc-nb-1", 127,
	"apci-supervisory", -1, "apci-unnumbered", -1, "asdu-process-info-monitor", -1,
	"asdu-process-info-control", -1, "asdu-system-info-monitor", -1, "asdu-system-info-control", -1,
	"asdu-parameter-control", -1, "asdu-file-transfer", -1)

// BACnet confirmed services (ASHRAE 135), and the unconfirmed services by
// name (a code space of their own). Read-only: reads, change-of-value
// subscriptions and the notifications and discovery (Who-Is, I-Am, Who-Has,
// I-Have) devices send on their own; not time synchronization, which sets
// the clock.
var bacnetFunctions = catalog(false,
	[]string{"subscribe-cov", "atomic-read-file", "read-property", "read-property-multiple", "read-range",
		"subscribe-cov-property", "confirmed-cov-notification", "confirmed-event-notification",
		"get-alarm-summary", "get-enrollment-summary", "read-property-conditional", "get-event-information",
		"subscribe-cov-property-multiple", "confirmed-cov-notification-multiple", "i-am", "i-have",
		"unconfirmed-cov-notification", "unconfirmed-event-notification", "who-has", "who-is",
		"unconfirmed-cov-notification-multiple", "who-am-i"}, nil,
	"acknowledge-alarm", 0, "confirmed-cov-notification", 1, "confirmed-event-notification", 2,
	"get-alarm-summary", 3, "get-enrollment-summary", 4, "subscribe-cov", 5, "atomic-read-file", 6,
	"atomic-write-file", 7, "add-list-element", 8, "remove-list-element", 9, "create-object", 10,
	"delete-object", 11, "read-property", 12, "read-property-conditional", 13, "read-property-multiple", 14,
	"write-property", 15, "write-property-multiple", 16, "device-communication-control", 17,
	"confirmed-private-transfer", 18, "confirmed-text-message", 19, "reinitialize-device", 20,
	"vt-open", 21, "vt-close", 22, "vt-data", 23, "authenticate", 24, "request-key", 25, "read-range", 26,
	"life-safety-operation", 27, "subscribe-cov-property", 28, "get-event-information", 29,
	"subscribe-cov-property-multiple", 30, "confirmed-cov-notification-multiple", 31,
	"i-am", -1, "i-have", -1, "unconfirmed-cov-notification", -1, "unconfirmed-event-notification", -1,
	"unconfirmed-private-transfer", -1, "unconfirmed-text-message", -1, "time-synchronization", -1,
	"who-has", -1, "who-is", -1, "utc-time-synchronization", -1, "write-group", -1,
	"unconfirmed-cov-notification-multiple", -1, "who-am-i", -1, "you-are", -1)

// OPC UA services (IEC 62541-4), by name. Read-only: everything but writes,
// method calls, history updates and address-space changes.
var opcuaFunctions = catalog(true,
	[]string{"read", "browse", "browse-next", "translate-browse-paths-to-node-ids", "register-nodes",
		"unregister-nodes", "create-subscription", "modify-subscription", "delete-subscriptions",
		"set-publishing-mode", "publish", "republish", "transfer-subscriptions", "create-monitored-items",
		"modify-monitored-items", "delete-monitored-items", "set-monitoring-mode", "set-triggering",
		"history-read", "query-first", "query-next", "find-servers", "get-endpoints", "create-session",
		"activate-session", "close-session", "cancel", "open-secure-channel", "close-secure-channel",
		"find-servers-on-network", "service-fault", "hello", "acknowledge", "error", "reverse-hello"}, nil,
	"read", -1, "write", -1, "call", -1, "browse", -1, "browse-next", -1,
	"translate-browse-paths-to-node-ids", -1, "register-nodes", -1, "unregister-nodes", -1,
	"create-subscription", -1, "modify-subscription", -1, "delete-subscriptions", -1,
	"set-publishing-mode", -1, "publish", -1, "republish", -1, "transfer-subscriptions", -1,
	"create-monitored-items", -1, "modify-monitored-items", -1, "delete-monitored-items", -1,
	"set-monitoring-mode", -1, "set-triggering", -1, "history-read", -1, "history-update", -1,
	"add-nodes", -1, "add-references", -1, "delete-nodes", -1, "delete-references", -1,
	"query-first", -1, "query-next", -1, "find-servers", -1, "get-endpoints", -1,
	"register-server", -1, "create-session", -1, "activate-session", -1, "close-session", -1,
	"cancel", -1, "open-secure-channel", -1, "close-secure-channel", -1,
	"find-servers-on-network", -1, "register-server2", -1, "service-fault", -1, "hello", -1,
	"acknowledge", -1, "error", -1, "reverse-hello", -1)

// protocols is the catalogue of protocols a model may name.
var protocols = []*protocol{
	{name: "modbus", transport: "tcp", ports: []uint16{502}, aliases: []string{"modbus/tcp", "modbus tcp", "mbtcp", "modbus-tcp"}, functions: modbusFunctions},
	{name: "dnp3", transport: "tcp", ports: []uint16{20000}, aliases: []string{"dnp 3", "dnp3/tcp"}, functions: dnp3Functions},
	{name: "opcua", transport: "tcp", ports: []uint16{4840}, aliases: []string{"opc ua", "opc-ua", "opc.tcp", "opcua-tcp"}, functions: opcuaFunctions},
	{name: "enip", transport: "tcp", ports: []uint16{44818}, aliases: []string{"ethernet/ip", "ethernet-ip", "ethernetip", "cip"}, functions: cipFunctions},
	{name: "s7", transport: "tcp", ports: []uint16{102}, aliases: []string{"s7comm", "s7comm-plus", "iso-tsap", "s7-comm"}, functions: s7Functions},
	{name: "iec104", transport: "tcp", ports: []uint16{2404}, aliases: []string{"iec 104", "iec-104", "iec 60870-5-104", "iec-60870-5-104", "iec60870-5-104"}, functions: iec104Functions},
	{name: "bacnet", transport: "udp", ports: []uint16{47808}, aliases: []string{"bacnet/ip", "bacnet-ip"}, functions: bacnetFunctions},
	{name: "https", transport: "tcp", ports: []uint16{443}, aliases: []string{"ssl", "tls", "http/tls"}},
	{name: "http", transport: "tcp", ports: []uint16{80}, aliases: []string{"web-browsing"}},
	{name: "rdp", transport: "tcp", ports: []uint16{3389}, aliases: []string{"ms-rdp", "remote desktop"}},
	{name: "ssh", transport: "tcp", ports: []uint16{22}},
	{name: "pi", transport: "tcp", ports: []uint16{5450}, aliases: []string{"pi-to-pi", "osisoft-pi", "pi-api", "pi data archive"}},
	{name: "dns", transport: "udp", ports: []uint16{53}},
	{name: "ntp", transport: "udp", ports: []uint16{123}},
	{name: "syslog", transport: "udp", ports: []uint16{514}},
	{name: "snmp", transport: "udp", ports: []uint16{161}},
	{name: "smb", transport: "tcp", ports: []uint16{445}, aliases: []string{"ms-ds-smb", "cifs"}},
	{name: "ftp", transport: "tcp", ports: []uint16{21}},
	{name: "telnet", transport: "tcp", ports: []uint16{23}},
	{name: "mqtt", transport: "tcp", ports: []uint16{1883}},
	{name: "vnc", transport: "tcp", ports: []uint16{5900}},
	{name: "icmp", transport: "icmp", aliases: []string{"ping"}},
}

var protocolByName = func() map[string]*protocol {
	m := map[string]*protocol{}
	for _, p := range protocols {
		// Normalized names for lookupProtocol; lowercase names as decoders
		// write them for Evaluate, which must not allocate to normalize.
		for _, a := range append([]string{p.name}, p.aliases...) {
			m[normName(a)] = p
			m[strings.ToLower(a)] = p
		}
	}
	return m
}()

// lookupProtocol finds a protocol by any of its names, ignoring case, spaces
// and punctuation.
func lookupProtocol(name string) *protocol { return protocolByName[normName(name)] }

// CanonicalProtocol returns the canonical app_protocol for a protocol name
// as devices and documents write it ("Modbus/TCP" → "modbus", "ssl" →
// "https"), and whether the name is known.
func CanonicalProtocol(name string) (string, bool) {
	if p := lookupProtocol(name); p != nil {
		return p.name, true
	}
	return "", false
}

// FunctionCode returns the numeric code of a named function of a protocol
// (CanonicalProtocol name), e.g. ("modbus", "write-single-register") → 6.
func FunctionCode(proto, function string) (int, bool) {
	p := lookupProtocol(proto)
	if p == nil || p.functions == nil {
		return 0, false
	}
	c, ok := p.functions.byName[normName(function)]
	return c, ok && c >= 0
}

// Function returns the code of a function of a protocol, -1 for one known
// by name only, and whether the protocol's catalogue knows the name at
// all: a function a decoder named that the catalogue does not know cannot
// be verified.
func Function(proto, name string) (code int, known bool) {
	p := lookupProtocol(proto)
	if p == nil || p.functions == nil {
		return 0, false
	}
	return p.functions.lookup(name)
}

// normName lowercases and keeps only letters and digits.
func normName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

// sameName compares two names as normName would, without allocating.
func sameName(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && !isAlnum(a[i]) {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i++
		j++
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func rangeInts(lo, hi int) []int {
	out := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}
