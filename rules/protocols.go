package rules

import (
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
var modbusFunctions = catalog(false,
	[]string{"read-coils", "read-discrete-inputs", "read-holding-registers", "read-input-registers",
		"read-exception-status", "get-comm-event-counter", "get-comm-event-log", "report-server-id",
		"read-file-record", "read-fifo-queue"}, nil,
	"read-coils", 1, "read-discrete-inputs", 2, "read-holding-registers", 3, "read-input-registers", 4,
	"write-single-coil", 5, "force-single-coil", 5, "write-single-register", 6, "preset-single-register", 6,
	"read-exception-status", 7, "diagnostics", 8, "get-comm-event-counter", 11, "get-comm-event-log", 12,
	"write-multiple-coils", 15, "force-multiple-coils", 15, "write-multiple-registers", 16,
	"preset-multiple-registers", 16, "report-server-id", 17, "report-slave-id", 17, "read-file-record", 20,
	"write-file-record", 21, "mask-write-register", 22, "read-write-multiple-registers", 23,
	"read-fifo-queue", 24, "encapsulated-interface-transport", 43, "read-device-identification", 43)

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
// Connection Manager (and Read-Modify-Write on Logix tag objects; flow logs
// rarely say which object was addressed, so it counts as Forward_Close).
var cipFunctions = catalog(false,
	[]string{"get-attributes-all", "get-attribute-list", "get-attribute-single", "find-next-object-instance",
		"read-tag", "read-tag-fragmented", "forward-open", "large-forward-open", "forward-close",
		"get-instance-attribute-list", "nop", "get-member"}, nil,
	"get-attributes-all", 0x01, "set-attributes-all", 0x02, "get-attribute-list", 0x03,
	"set-attribute-list", 0x04, "reset", 0x05, "start", 0x06, "stop", 0x07, "create", 0x08,
	"delete", 0x09, "multiple-service-packet", 0x0a, "apply-attributes", 0x0d,
	"get-attribute-single", 0x0e, "set-attribute-single", 0x10, "find-next-object-instance", 0x11,
	"restore", 0x15, "save", 0x16, "nop", 0x17, "get-member", 0x18, "set-member", 0x19,
	"read-tag", 0x4c, "write-tag", 0x4d, "forward-close", 0x4e, "read-tag-fragmented", 0x52,
	"write-tag-fragmented", 0x53, "forward-open", 0x54, "get-instance-attribute-list", 0x55,
	"large-forward-open", 0x5b)

// S7comm job functions. Read-only: read variable and communication set-up.
var s7Functions = catalog(false, []string{"read-var", "setup-communication"}, nil,
	"cpu-services", 0x00, "read-var", 0x04, "write-var", 0x05, "request-download", 0x1a,
	"download-block", 0x1b, "download-ended", 0x1c, "start-upload", 0x1d, "upload", 0x1e,
	"end-upload", 0x1f, "pi-service", 0x28, "plc-stop", 0x29, "setup-communication", 0xf0)

// IEC 60870-5-104 ASDU type identifiers. Read-only: every monitoring type in
// the process-information direction (1-40), end of initialisation (70),
// interrogations, read and test commands.
var iec104Functions = catalog(false,
	[]string{"end-of-initialization", "interrogation", "counter-interrogation", "read", "test", "test-with-time"},
	rangeInts(1, 40),
	"single-command", 45, "double-command", 46, "regulating-step", 47, "setpoint-normalized", 48,
	"setpoint-scaled", 49, "setpoint-float", 50, "bitstring-command", 51, "end-of-initialization", 70,
	"interrogation", 100, "counter-interrogation", 101, "read", 102, "clock-sync", 103, "test", 104,
	"reset-process", 105, "test-with-time", 107)

// BACnet confirmed services (ASHRAE 135). Read-only: reads and change-of-value
// subscriptions.
var bacnetFunctions = catalog(false,
	[]string{"subscribe-cov", "atomic-read-file", "read-property", "read-property-multiple", "read-range",
		"subscribe-cov-property"}, nil,
	"acknowledge-alarm", 0, "subscribe-cov", 5, "atomic-read-file", 6, "atomic-write-file", 7,
	"add-list-element", 8, "remove-list-element", 9, "create-object", 10, "delete-object", 11,
	"read-property", 12, "read-property-multiple", 14, "write-property", 15,
	"write-property-multiple", 16, "device-communication-control", 17, "confirmed-private-transfer", 18,
	"reinitialize-device", 20, "read-range", 26, "subscribe-cov-property", 28)

// OPC UA services (IEC 62541-4), by name. Read-only: everything but writes,
// method calls, history updates and address-space changes.
var opcuaFunctions = catalog(true,
	[]string{"read", "browse", "browse-next", "translate-browse-paths-to-node-ids", "register-nodes",
		"unregister-nodes", "create-subscription", "modify-subscription", "delete-subscriptions",
		"set-publishing-mode", "publish", "republish", "transfer-subscriptions", "create-monitored-items",
		"modify-monitored-items", "delete-monitored-items", "set-monitoring-mode", "set-triggering",
		"history-read", "query-first", "query-next", "find-servers", "get-endpoints", "create-session",
		"activate-session", "close-session", "cancel", "open-secure-channel", "close-secure-channel"}, nil,
	"read", -1, "write", -1, "call", -1, "browse", -1, "browse-next", -1,
	"translate-browse-paths-to-node-ids", -1, "register-nodes", -1, "unregister-nodes", -1,
	"create-subscription", -1, "modify-subscription", -1, "delete-subscriptions", -1,
	"set-publishing-mode", -1, "publish", -1, "republish", -1, "transfer-subscriptions", -1,
	"create-monitored-items", -1, "modify-monitored-items", -1, "delete-monitored-items", -1,
	"set-monitoring-mode", -1, "set-triggering", -1, "history-read", -1, "history-update", -1,
	"add-nodes", -1, "add-references", -1, "delete-nodes", -1, "delete-references", -1,
	"query-first", -1, "query-next", -1, "find-servers", -1, "get-endpoints", -1,
	"register-server", -1, "create-session", -1, "activate-session", -1, "close-session", -1,
	"cancel", -1, "open-secure-channel", -1, "close-secure-channel", -1)

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
	cat := p.functions
	ro := newFunctionSet(cat, cat.readOnly, cat.readCode)
	if cat.named {
		return name != "" && ro.Allows(-1, name), true
	}
	if code < 0 {
		if code = cat.code(name); code < 0 {
			return false, true
		}
	}
	return ro.Allows(code, ""), true
}
