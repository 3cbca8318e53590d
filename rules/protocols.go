package rules

import (
	"bytes"
	"slices"
	"strings"
)

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
// services) fit in a byte; OPC UA services are known by name only.
type functionCatalog struct {
	byName   map[string]int    // normalized name → code (-1 when named only)
	keys     map[string]string // normalized name → itself, to return it without allocating
	readOnly []string          // function names that only read
	readCode []int             // function codes that only read, besides readOnly
	named    bool              // functions are compared by name, not code
	// exception is the bit a response sets on the request's code to say it
	// failed (Modbus: 0x80, "FC 3" answered by 0x83): an exception response
	// is judged as the function it answers. 0 when the protocol has none.
	exception int
	// byObject marks codes whose meaning depends on the object addressed
	// (CIP's object-specific services 0x4B-0x63: 0x4E is Forward_Close on
	// the Connection Manager and Read_Modify_Write on a Logix tag): the
	// name decides, and a code without a name the catalogue knows is an
	// unknown function.
	byObject func(code int) bool
	// carriers are functions that carry other requests (CIP
	// Multiple_Service_Packet, Unconnected_Send): what they do is the
	// carried request's, so, alone, they are an unknown function.
	carriers []string
	// envelope is the app_protocol of records of the protocol's
	// encapsulation layer (EtherNet/IP's "enip": RegisterSession,
	// SendRRData): their function fields are encapsulation commands, not
	// functions of the catalogue, so such records are judged like
	// connection records; the CIP records the same sensors log of what
	// they carry ("cip") are judged by function.
	envelope string
	// suffixes are endings of names some sensors add to a service name
	// ("WriteRequest", "ReadResponse" in OPC UA), ignored when matching.
	suffixes []string
	// decoded says that some decoder of otsiem yields this protocol's
	// functions (codes or names this catalogue maps). Under a rule that
	// restricts such a protocol's functions, validate warns when it is
	// false: every transaction would then be function_unverified. The
	// correlate package's TestFunctionCataloguesMatchDecoders keeps it true
	// to the decoders' golden files.
	decoded bool

	reads FunctionSet // readOnly and readCode as a set, set by init
}

func catalog(named bool, readOnly []string, readCodes []int, fns ...any) *functionCatalog {
	c := &functionCatalog{byName: map[string]int{}, keys: map[string]string{}, readOnly: readOnly, readCode: readCodes, named: named}
	for i := 0; i+1 < len(fns); i += 2 {
		k := normName(fns[i].(string))
		c.byName[k], c.keys[k] = fns[i+1].(int), k
	}
	return c
}

// withOptions sets a catalogue's options beyond names and read-only sets.
func withOptions(c *functionCatalog, set func(*functionCatalog)) *functionCatalog {
	set(c)
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
// and stop are not; nor is a bare function 90.
var modbusFunctions = withOptions(catalog(false,
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
	"umas-read-io-object", -1, "umas-write-io-object", -1, "umas-get-status-module", -1),
	func(c *functionCatalog) {
		c.exception, c.decoded = 0x80, true
		c.suffixes = []string{"exception"}
	})

// DNP3 function codes (IEEE 1815-2012, table 4-1). Read-only: confirm, read,
// delay measurement and the two responses.
var dnp3Functions = withOptions(catalog(false,
	[]string{"confirm", "read", "delay-measure", "response", "unsolicited-response"}, nil,
	"confirm", 0, "read", 1, "write", 2, "select", 3, "operate", 4, "direct-operate", 5,
	"direct-operate-nr", 6, "immediate-freeze", 7, "immediate-freeze-nr", 8, "freeze-clear", 9,
	"freeze-clear-nr", 10, "freeze-at-time", 11, "freeze-at-time-nr", 12, "cold-restart", 13,
	"warm-restart", 14, "initialize-data", 15, "initialize-application", 16, "start-application", 17,
	"stop-application", 18, "save-configuration", 19, "enable-unsolicited", 20, "disable-unsolicited", 21,
	"assign-class", 22, "delay-measure", 23, "record-current-time", 24, "open-file", 25, "close-file", 26,
	"delete-file", 27, "get-file-info", 28, "authenticate-file", 29, "abort-file", 30,
	"activate-config", 31, "authenticate-req", 32, "authenticate-err", 33, "response", 129,
	"unsolicited-response", 130, "authenticate-resp", 131),
	func(c *functionCatalog) { c.decoded = true })

// CIP service codes (EtherNet/IP, ODVA CIP Vol. 1 appendix A, and the
// Logix symbol services of Rockwell's Logix 5000 Data Access manual).
// Read-only: the Get services, Logix tag reads, and connection set-up and
// tear-down. Codes 0x4B-0x63 are object-specific (0x4E is Forward_Close on
// the Connection Manager and Read_Modify_Write on a tag): for them the
// service name decides. Multiple_Service_Packet and Unconnected_Send carry
// other requests, so alone they say nothing of the function. The File
// object's services (0x4B-0x51) transfer files to and from the device; of
// them only the partial read is read-only.
var cipFunctions = withOptions(catalog(false,
	[]string{"get-attributes-all", "get-attribute-list", "get-attribute-single", "find-next-object-instance",
		"read-tag", "read-data", "read-tag-fragmented", "read-data-fragmented", "forward-open",
		"large-forward-open", "forward-close", "get-instance-attribute-list", "nop", "get-member",
		"error-response", "get-connection-point-member-list", "get-connection-data", "search-connection-data",
		"get-connection-owner", "initiate-partial-read"}, nil,
	"get-attributes-all", 0x01, "set-attributes-all", 0x02, "get-attribute-list", 0x03,
	"set-attribute-list", 0x04, "reset", 0x05, "start", 0x06, "stop", 0x07, "create", 0x08,
	"delete", 0x09, "multiple-service-packet", 0x0a, "apply-attributes", 0x0d,
	"get-attribute-single", 0x0e, "set-attribute-single", 0x10, "find-next-object-instance", 0x11,
	"restore", 0x15, "save", 0x16, "nop", 0x17, "get-member", 0x18, "set-member", 0x19,
	"insert-member", 0x1a, "remove-member", 0x1b, "error-response", 0x14, "group-sync", 0x1c,
	"get-connection-point-member-list", 0x1d,
	// object-specific services, by name
	"read-tag", -1, "read-data", -1, "write-tag", -1, "write-data", -1, "forward-close", -1,
	"read-modify-write", -1, "read-write-modify-data", -1, "read-tag-fragmented", -1,
	"read-data-fragmented", -1, "write-tag-fragmented", -1, "write-data-fragmented", -1,
	"forward-open", -1, "large-forward-open", -1, "get-instance-attribute-list", -1,
	"unconnected-send", -1, "read-modify-write-tag", -1, "execute-pccc", -1, "get-connection-data", -1,
	"search-connection-data", -1, "get-connection-owner", -1, "initiate-upload", -1,
	"initiate-download", -1, "initiate-partial-read", -1, "initiate-partial-write", -1,
	"upload-transfer", -1, "download-transfer", -1, "clear-file", -1),
	func(c *functionCatalog) {
		c.byObject = func(code int) bool { return code >= 0x4b && code <= 0x63 }
		c.carriers = []string{"multiple-service-packet", "unconnected-send"}
		c.envelope = "enip"
		c.decoded = true
	})

// S7comm job functions (the ROSCTR Job function codes as Wireshark's and
// ICSNPP's s7comm dissectors name them), with the user-data (ROSCTR 7) and
// S7comm-plus functions by name. Read-only: reading variables,
// communication set-up, user-data functions that only report (status,
// stacks, block lists, the SZL, diagnostics, alarms queried, the clock
// read, cyclic reads), and S7comm-plus explore, gets and notifications.
// Uploads (reading the program out) are not, nor S7comm-plus CreateObject
// and DeleteObject: every S7comm-plus session opens with them, so a
// read-only rule on S7comm-plus must list them.
var s7Functions = withOptions(catalog(false,
	[]string{"read-var", "setup-communication", "block-status", "variable-status", "output-istack",
		"output-bstack", "output-lstack", "time-measurement", "read-job-list", "read-job", "cyclic-transfer",
		"unsubscribe", "change-driven-transfer", "rdrec", "list-blocks", "list-blocks-of-type", "get-block-info",
		"read-szl", "message-service", "diagnostic-message", "alarm-query", "read-clock", "read-clock-following",
		"explore", "get-variable", "get-link", "get-multi-variables", "get-var-sub-streamed", "notification"}, nil,
	"cpu-services", 0x00, "read-var", 0x04, "read-variable", 0x04, "write-var", 0x05, "write-variable", 0x05,
	"request-download", 0x1a, "download-block", 0x1b, "download-ended", 0x1c, "start-upload", 0x1d,
	"upload", 0x1e, "end-upload", 0x1f, "pi-service", 0x28, "plc-control", 0x28, "plc-stop", 0x29,
	"setup-communication", 0xf0,
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
	"end-sequence", -1, "invoke", -1, "get-var-sub-streamed", -1, "notification", -1),
	func(c *functionCatalog) { c.decoded = true })

// IEC 60870-5-104 ASDU type identifiers, by name and IEC 60870-5-101's
// mnemonics, and the frame and ASDU groups PAN-OS App-IDs name. Read-only:
// every monitoring type in the process-information direction (1-40), end
// of initialisation (70), interrogations, read and test commands, the link
// frames and the monitoring groups.
var iec104Functions = withOptions(catalog(false,
	[]string{"end-of-initialization", "interrogation", "counter-interrogation", "read", "test", "test-with-time",
		"apci-supervisory", "apci-unnumbered", "asdu-process-info-monitor", "asdu-system-info-monitor"},
	rangeInts(1, 40),
	"single-command", 45, "double-command", 46, "regulating-step", 47, "setpoint-normalized", 48,
	"setpoint-scaled", 49, "setpoint-float", 50, "bitstring-command", 51, "end-of-initialization", 70,
	"interrogation", 100, "counter-interrogation", 101, "read", 102, "clock-sync", 103, "test", 104,
	"reset-process", 105, "test-with-time", 107,
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
	"asdu-parameter-control", -1, "asdu-file-transfer", -1),
	func(c *functionCatalog) { c.decoded = true })

// BACnet confirmed services (ASHRAE 135), and the unconfirmed services by
// name (a code space of their own). Read-only: reads, change-of-value
// subscriptions, and the notifications and discovery (Who-Is, I-Am,
// Who-Has, I-Have) devices send on their own; not time synchronization,
// which sets the clock.
var bacnetFunctions = withOptions(catalog(false,
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
	"unconfirmed-cov-notification-multiple", -1, "who-am-i", -1, "you-are", -1),
	func(c *functionCatalog) { c.decoded = true })

// OPC UA services (IEC 62541-4), by name. Read-only: everything but writes,
// method calls, history updates and address-space changes.
var opcuaFunctions = withOptions(catalog(true,
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
	"acknowledge", -1, "error", -1, "reverse-hello", -1),
	func(c *functionCatalog) {
		c.suffixes = []string{"request", "response"}
		c.decoded = true
	})

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

// function is what a flow says of the function it performs, in the terms
// of one protocol's catalogue.
type function struct {
	state functionState
	code  int    // the function code; -1 for functions known by name only
	name  string // the catalogue's normalized name, for functions known by name only
}

// functionState says whether a record names a function and whether otsiem
// can identify it.
type functionState uint8

const (
	// functionNone: the record names no function (a connection or flow
	// record, an alert): there is nothing to judge.
	functionNone functionState = iota
	functionKnown
	// functionUnidentified: the record performs a function otsiem cannot
	// identify: a name its catalogue cannot map, a code that means
	// different things on different objects without a name that tells, a
	// request that only carries others, or a transaction that names
	// nothing.
	functionUnidentified
)

// identify finds a flow's function in the catalogue. See Flow for how a
// record says what function it performs. A name the catalogue knows
// decides over the code it rides on (a UMAS sub-function of Modbus
// function 90, a CIP service named for the object it addressed); else the
// code decides, except the codes whose meaning depends on the object
// (byObject) and the carriers, which alone are unknown.
func (c *functionCatalog) identify(f *Flow) function {
	if c == nil || c.envelope != "" && f.App == c.envelope {
		return function{state: functionNone, code: -1}
	}
	if f.Function != "" {
		if key, code, ok := c.lookup(f.Function); ok {
			switch {
			case c.isCarrier(key):
				return function{state: functionUnidentified, code: -1}
			case code >= 0 && !c.named:
				return function{state: functionKnown, code: code}
			default:
				return function{state: functionKnown, code: -1, name: key}
			}
		}
	}
	if code := f.FunctionCode; code >= 0 && f.Function == "" || code >= 0 && !c.named {
		if c.exception != 0 && code < 256 && code&c.exception != 0 {
			code &^= c.exception // an exception response: the function it answers
		}
		if !c.named && (c.byObject == nil || !c.byObject(code)) && !c.carrierCode(code) {
			return function{state: functionKnown, code: code}
		}
		return function{state: functionUnidentified, code: -1}
	}
	if f.Transaction || f.Function != "" {
		return function{state: functionUnidentified, code: -1}
	}
	return function{state: functionNone, code: -1}
}

// lookup finds a function by name, ignoring case, punctuation and the
// catalogue's suffixes, without allocating; key is the catalogue's
// normalized name.
func (c *functionCatalog) lookup(name string) (key string, code int, ok bool) {
	var buf [64]byte
	b := buf[:0]
	for i := 0; i < len(name); i++ {
		if ch := name[i]; isAlnum(ch) {
			if len(b) == len(buf) {
				return "", -1, false // longer than any function's name
			}
			b = append(b, lower(ch))
		}
	}
	if key, ok = c.keys[string(b)]; ok {
		return key, c.byName[key], true
	}
	for _, suf := range c.suffixes {
		if base, cut := bytes.CutSuffix(b, []byte(suf)); cut && len(base) > 0 {
			if key, ok = c.keys[string(base)]; ok {
				return key, c.byName[key], true
			}
		}
	}
	return "", -1, false
}

func (c *functionCatalog) isCarrier(key string) bool {
	for _, k := range c.carriers {
		if k == key {
			return true
		}
	}
	return false
}

func (c *functionCatalog) carrierCode(code int) bool {
	for _, k := range c.carriers {
		if v, ok := c.byName[k]; ok && v == code {
			return true
		}
	}
	return false
}

func init() {
	for _, p := range protocols {
		if c := p.functions; c != nil {
			c.reads = newFunctionSet(c, c.readOnly, c.readCode)
			for i, k := range c.carriers {
				c.carriers[i] = normName(k)
			}
		}
	}
}

// writes reports whether an identified function changes state: it is
// known and not one of the catalogue's reads.
func (c *functionCatalog) writes(id function) bool {
	return id.state == functionKnown && !c.reads.has(id)
}

// FunctionCatalogue reports whether otsiem has a function catalogue for an
// application protocol (by any of its names), and whether its decoders
// are declared to yield that protocol's functions (validate warns about
// rules restricting the functions of a protocol they do not).
func FunctionCatalogue(app string) (decoded, ok bool) {
	if p := lookupProtocol(app); p != nil && p.functions != nil {
		return p.functions.decoded, true
	}
	return false, false
}

// KnowsFunction reports whether the catalogue of an application protocol
// knows a function by that name (in any spelling it matches), whether or not
// the name alone identifies a function (carriers such as Unconnected_Send
// do not).
func KnowsFunction(app, name string) bool {
	p := lookupProtocol(app)
	if p == nil || p.functions == nil {
		return false
	}
	_, _, ok := p.functions.lookup(name)
	return ok
}

// IdentifiesFunction reports whether the catalogue of a flow's application
// protocol identifies the function the flow names (see Flow): false when
// the protocol has no catalogue, or the flow names no function or one
// otsiem cannot identify.
func IdentifiesFunction(f Flow) bool {
	p := lookupProtocol(f.App)
	return p != nil && p.functions.identify(&f).state == functionKnown
}

// Protocol is what the catalogue says of an application protocol, for tools
// that write rules: its canonical name, default transport and ports, and
// whether rules can restrict its functions (by code, or by name for OPC UA).
type Protocol struct {
	Name           string // canonical: the events' app_protocol
	Transport      string
	Ports          []uint16
	Functions      bool // "read only" and function lists apply
	NamedFunctions bool // functions are named (OPC UA services), not numbered
}

func (p *protocol) info() Protocol {
	return Protocol{Name: p.name, Transport: p.transport, Ports: p.ports, Functions: p.functions != nil,
		NamedFunctions: p.functions != nil && p.functions.named}
}

// LookupProtocol finds a protocol of the catalogue by any of its names,
// ignoring case and punctuation ("Modbus/TCP", "modbus", "ssl").
func LookupProtocol(name string) (Protocol, bool) {
	if p := lookupProtocol(name); p != nil {
		return p.info(), true
	}
	return Protocol{}, false
}

// ProtocolByPort returns the catalogue protocol whose default transport and
// port these are (tcp/502 is Modbus), for flows no DPI engine named.
func ProtocolByPort(transport string, port uint16) (Protocol, bool) {
	for _, p := range protocols {
		if p.transport == transport && slices.Contains(p.ports, port) {
			return p.info(), true
		}
	}
	return Protocol{}, false
}

// ReadOnlyFunction reports whether a protocol's function, given by code (-1
// when unknown) or by name ("" when unknown), only reads, by the
// catalogue's read-only sets (the table in README.md: Modbus FC 1-4, 7, 11,
// 12, 17, 20, 24; DNP3 read and responses; …). known is false when the
// protocol has no functions otsiem knows or the event names no function; a
// function the catalogue does not list is known and not read-only, so
// nothing unidentified passes for a read.
func ReadOnlyFunction(proto string, code int, name string) (readOnly, known bool) {
	p := lookupProtocol(proto)
	if p == nil || p.functions == nil || code < 0 && name == "" {
		return false, false
	}
	id := p.functions.identify(&Flow{App: p.name, FunctionCode: code, Function: name, Transaction: true})
	switch id.state {
	case functionKnown:
		return !p.functions.writes(id), true
	case functionUnidentified:
		return false, true
	}
	return false, false
}
