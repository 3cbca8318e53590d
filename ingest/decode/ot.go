package decode

import (
	"strings"

	"github.com/otsiem/otsiem/ingest/event"
)

// Function is one function of an industrial protocol as otsiem names it:
// Name is snake_case and the same as in the model's function catalogue
// (rules/protocols.go), Code the value on the wire when the function has
// one of its own. Functions known by name only (OPC UA services by their
// request, UMAS sub-functions, S7 user-data functions, S7comm-plus
// functions, BACnet unconfirmed services, CIP services whose meaning
// depends on the object class) have no Code, or the Code of the service
// they ride on, and are told apart by Name.
type Function struct {
	Name string
	Code event.Opt[int32]
}

// catalog names the functions of one protocol.
type catalog struct {
	byCode map[int32]string
	byName map[string]Function // folded name or alias → function
	list   []Function
}

// newCatalog builds a catalogue from a code table, functions known by name
// only (each with the code of the service carrying it, or -1), and
// aliases (any spelling, folded when looked up) of the names.
func newCatalog(codes map[int32]string, named map[string]int32, aliases map[string]string) *catalog {
	c := &catalog{byCode: codes, byName: map[string]Function{}}
	add := func(f Function) {
		c.list = append(c.list, f)
		c.byName[folded(f.Name)] = f
	}
	for code, name := range codes {
		add(Function{Name: name, Code: event.Some(code)})
	}
	for name, code := range named {
		f := Function{Name: name}
		if code >= 0 {
			f.Code = event.Some(code)
		}
		add(f)
	}
	for alias, name := range aliases {
		f, ok := c.byName[folded(name)]
		if !ok {
			panic("decode: alias " + alias + " of unknown function " + name)
		}
		c.byName[folded(alias)] = f
	}
	return c
}

func (c *catalog) lookupName(name string) (Function, bool) {
	var buf [64]byte
	f, ok := c.byName[string(fold(buf[:0], name))]
	return f, ok
}

var catalogs = map[string]*catalog{
	"modbus": modbusCatalog,
	"dnp3":   dnp3Catalog,
	"cip":    cipCatalog,
	"enip":   enipCatalog,
	"s7":     s7Catalog,
	"iec104": iec104Catalog,
	"bacnet": bacnetCatalog,
	"opcua":  opcuaCatalog,
}

// Catalogue returns the functions otsiem names for an app protocol
// (AppProtocol's name), nil for protocols without a catalogue. Tests use
// it to check that the model's catalogue knows every name decoders give.
func Catalogue(proto string) []Function {
	if c := catalogs[proto]; c != nil {
		return c.list
	}
	return nil
}

// FunctionName returns the name of function code code of an app protocol,
// or "" when unknown.
func FunctionName(proto string, code int32) string {
	if c := catalogs[proto]; c != nil {
		return c.byCode[code]
	}
	return ""
}

// FunctionCode returns the code of a function of an app protocol named in
// any of the spellings devices use, matching case-insensitively and
// ignoring everything but letters and digits: "read-holding-registers",
// "READ_HOLDING_REGISTERS", "Read Holding Registers", Cisco's
// "preset-single-register" and Zeek's "SAVE_CONFIG" all work. ok is false
// for unknown names and for functions known by name only.
func FunctionCode(proto, name string) (int32, bool) {
	c := catalogs[proto]
	if c == nil || name == "" {
		return 0, false
	}
	f, ok := c.lookupName(name)
	return f.Code.V, ok && f.Code.OK
}

// AttrException holds the exception of a Modbus exception response (its
// name when the device gives a code or name, else "unspecified"); the
// event's function is the request's.
const AttrException = "exception"

// SetFunction sets ev's app_protocol and, from what the device logged, its
// function: code is the code on the wire (unknown when not logged), name
// the device's name for it ("" when not logged). The function's name is
// otsiem's when the catalogue knows the name or the code; a name the
// catalogue does not know is kept as the device wrote it, so the judgement
// sees a function it cannot verify rather than none. A Modbus exception
// response (code with bit 0x80, or a name ending in "exception") is named
// as the request's function, with AttrException set.
func SetFunction(ev *event.Event, proto string, code event.Opt[int32], name string) {
	if proto != "" {
		ev.AppProtocol = proto
	}
	name = strings.TrimSpace(name)
	if proto == "modbus" {
		exception := false
		if code.OK && code.V >= 0x80 && code.V < 0x100 {
			code.V &^= 0x80
			exception = true
		}
		if base, ok := cutFoldedSuffix(name, "exception"); ok && base != "" {
			name, exception = base, true
		}
		if exception {
			if _, ok := ev.Attr(AttrException); !ok {
				ev.SetAttr(AttrException, "unspecified")
			}
		}
	}
	c := catalogs[ev.AppProtocol]
	if c == nil {
		if code.OK {
			ev.FunctionCode = code
		}
		ev.Function = name
		return
	}
	if name != "" {
		if f, ok := c.lookupName(name); ok {
			ev.Function = f.Name
			if code.OK {
				ev.FunctionCode = code
			} else {
				ev.FunctionCode = f.Code
			}
			return
		}
	}
	if code.OK {
		ev.FunctionCode = code
		if n := c.byCode[code.V]; n != "" {
			ev.Function = n
			return
		}
	}
	ev.Function = name
}

// cutFoldedSuffix reports whether s ends with suffix (lowercase letters),
// ignoring case and a separator before it, and returns s without both.
func cutFoldedSuffix(s, suffix string) (string, bool) {
	if len(s) <= len(suffix) || !strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return strings.TrimRight(s[:len(s)-len(suffix)], "_-. "), true
}

// modbusExceptions names the exception codes of the Modbus Application
// Protocol Specification V1.1b3, section 7.
var modbusExceptions = map[int32]string{
	1: "illegal_function", 2: "illegal_data_address", 3: "illegal_data_value",
	4: "server_device_failure", 5: "acknowledge", 6: "server_device_busy",
	8: "memory_parity_error", 10: "gateway_path_unavailable", 11: "gateway_target_device_failed_to_respond",
}

// ModbusException returns the name of a Modbus exception code given as a
// number ("2", "0x02"), or the device's name for it lowercased.
func ModbusException(s string) string {
	if c := Code(s); c.OK {
		if n, ok := modbusExceptions[c.V]; ok {
			return n
		}
	}
	return lower(s)
}

// CIP classes whose services 0x4B-0x63 (object-specific, CIP Vol. 1 table
// ) otsiem names: the Connection Manager, the File object, the PCCC
// object and Logix tags (the Symbol and Template objects).
const (
	CIPClassConnectionManager = 0x06
	CIPClassFile              = 0x37
	CIPClassSymbol            = 0x6b
	CIPClassTemplate          = 0x6c
	CIPClassPCCC              = 0x67
)

// cipClassNames are class names as sensors print them.
var cipClassNames = map[string]int32{
	"connectionmanager": CIPClassConnectionManager, "file": CIPClassFile,
	"symbol": CIPClassSymbol, "symbolobject": CIPClassSymbol, "tag": CIPClassSymbol,
	"template": CIPClassTemplate, "templateobject": CIPClassTemplate,
	"pccc": CIPClassPCCC, "pcccclass": CIPClassPCCC, "pcccobject": CIPClassPCCC,
}

// CIPClass returns the class id of a class given as a number ("0x6b",
// "107") or a name ("Symbol", "Connection Manager"), or -1.
func CIPClass(s string) int32 {
	if c := Code(s); c.OK {
		return c.V
	}
	var buf [32]byte
	if c, ok := cipClassNames[string(fold(buf[:0], s))]; ok {
		return c
	}
	return -1
}

// CIPService names a CIP service by the object class it addresses (-1
// when unknown). The common services (below 0x4B) mean the same on every
// object; the object-specific ones (0x4B-0x63, CIP Vol. 1 table) do
// not: 0x4E is Forward_Close on the Connection Manager but
// Read-Modify-Write on a Logix tag (a write), 0x52 Unconnected_Send or Read
// Tag Fragmented, and on the File object 0x4B-0x51 are its upload and
// download services. Without the class an object-specific code names
// nothing ("").
func CIPService(code, class int32) string {
	if code < 0x4b || code > 0x63 {
		return cipCatalog.byCode[code]
	}
	return cipByObject[class][code]
}

// cipByObject names the object-specific services of the classes otsiem
// knows: the Connection Manager (CIP Vol. 1, 3-5.5), the File object (5-42)
// and the PCCC object, and Logix tags (Rockwell's Logix 5000 Data Access).
var cipByObject = map[int32]map[int32]string{
	CIPClassConnectionManager: {0x4e: "forward_close", 0x52: "unconnected_send", 0x54: "forward_open",
		0x56: "get_connection_data", 0x57: "search_connection_data", 0x5a: "get_connection_owner",
		0x5b: "large_forward_open"},
	CIPClassSymbol: {0x4c: "read_tag", 0x4d: "write_tag", 0x4e: "read_modify_write_tag",
		0x52: "read_tag_fragmented", 0x53: "write_tag_fragmented", 0x55: "get_instance_attribute_list"},
	CIPClassTemplate: {0x4c: "read_tag", 0x4e: "read_modify_write_tag", 0x52: "read_tag_fragmented"},
	CIPClassFile: {0x4b: "initiate_upload", 0x4c: "initiate_download", 0x4d: "initiate_partial_read",
		0x4e: "initiate_partial_write", 0x4f: "upload_transfer", 0x50: "download_transfer", 0x51: "clear_file"},
	CIPClassPCCC: {0x4b: "execute_pccc"},
}

// SetOTApp sets ev's app_protocol, and its function when the rest of the
// name gives one, from an application or signature name that starts with
// an industrial protocol, as FortiGuard and App-ID name them
// ("Modbus_Func05.Write.Single.Coil.Validation", "Modbus.Unity_Download.Block",
// "modbus-read-write-register", "umas-download-block", "DNP3_Direct.Operate",
// "OPC.UA_Write.Request", "104asdu-process-info-control"). A rest that
// names no known function ("Modbus_Keep.Alive") is kept as the function's
// name: the application named a function otsiem cannot verify. A bare
// protocol or "-base" names none. It reports whether the name started with
// an industrial protocol.
func SetOTApp(ev *event.Event, name string) bool {
	return setOT(ev, name, false)
}

// SetOTSignature is SetOTApp for IDS/IPS signature names ("Modbus.TCP.
// Illegal.Function.Code"): those name an attack, not a function, so only a
// rest that names a known function sets one.
func SetOTSignature(ev *event.Event, name string) bool {
	return setOT(ev, name, true)
}

func setOT(ev *event.Event, name string, strict bool) bool {
	proto, prefix, rest, ok := otPrefix(name)
	if !ok {
		return false
	}
	ev.AppProtocol = proto
	if rest == "" || strings.EqualFold(rest, "base") {
		if prefix == "umas" { // UMAS at all: Modbus function 90
			SetFunction(ev, "", event.Some[int32](90), "")
		}
		return true
	}
	code, rest := funcNumber(rest)
	f, found := lookupRest(proto, prefix, rest)
	switch {
	case found:
		SetFunction(ev, f.proto, code, f.Name)
	case code.OK:
		SetFunction(ev, "", code, "")
	case !strict:
		SetFunction(ev, "", code, rest)
	}
	return true
}

// otPrefix finds the longest industrial protocol at the start of name (up
// to four parts: "IEC.60870.5.104") and returns it, the prefix its
// function names have ("umas" for "umas-download-block"), and the rest.
func otPrefix(name string) (proto, prefix, rest string, ok bool) {
	end := 0
	for parts := 0; parts < 4 && end < len(name); parts++ {
		next := strings.IndexFunc(name[end:], isNameSep)
		if next < 0 {
			end = len(name)
		} else {
			end += next
		}
		var buf [32]byte
		if p, pre, found := otProtocol(fold(buf[:0], name[:end])); found {
			proto, prefix, rest, ok = p, pre, strings.TrimLeft(name[end:], "._-/ "), true
		}
		end++
	}
	return proto, prefix, rest, ok
}

func isNameSep(r rune) bool { return r == '.' || r == '-' || r == '_' || r == ' ' || r == '/' }

// otProtocol maps a folded protocol word to its protocol and the prefix of
// its functions' names.
func otProtocol(key []byte) (proto, prefix string, ok bool) {
	switch string(key) {
	case "umas", "unity", "modbusunity":
		return "modbus", "umas", true
	case "104apci":
		return "iec104", "apci", true
	case "104asdu":
		return "iec104", "asdu", true
	}
	p, _ := appAlias(key)
	return p, "", isOT(p)
}

// funcNumber reads FortiGuard's "Func05" at the start of rest: the
// function code, and the rest after it.
func funcNumber(rest string) (event.Opt[int32], string) {
	if len(rest) < 5 || !strings.EqualFold(rest[:4], "func") {
		return event.Opt[int32]{}, rest
	}
	i := 4
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	c := Code(rest[4:i])
	if !c.OK {
		return c, rest
	}
	return c, strings.TrimLeft(rest[i:], "._-/ ")
}

// restFunction is a function found by lookupRest, with the protocol it
// belongs to when that differs from the name's (a CIP App-ID naming an
// EtherNet/IP command).
type restFunction struct {
	Function
	proto string
}

// lookupRest finds the function the rest of an application name names:
// the whole rest, else without its last parts ("Write.Single.Coil.
// Validation" is write_single_coil), with the protocol's prefix, and for
// CIP also among the EtherNet/IP commands.
func lookupRest(proto, prefix, rest string) (restFunction, bool) {
	c := catalogs[proto]
	if c == nil || rest == "" {
		return restFunction{}, false
	}
	for r := rest; r != ""; {
		cand := r
		if prefix != "" {
			cand = prefix + "_" + r
		}
		if f, ok := c.lookupName(cand); ok {
			return restFunction{Function: f}, true
		}
		if proto == "cip" {
			if f, ok := enipCatalog.lookupName(r); ok {
				return restFunction{Function: f, proto: "enip"}, true
			}
		}
		i := strings.LastIndexFunc(r, isNameSep)
		if i <= 0 {
			break
		}
		r = r[:i]
	}
	return restFunction{}, false
}

func isOT(p string) bool {
	switch p {
	case "modbus", "dnp3", "enip", "cip", "s7", "iec104", "opcua", "bacnet":
		return true
	}
	return false
}
