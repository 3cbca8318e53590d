package decode

import "strings"

// OTApp splits an application or signature name that starts with an
// industrial protocol, as FortiGuard and App-ID name them
// ("Modbus.Write.Single.Register", "modbus-read-holding-registers",
// "DNP3_Direct.Operate", "IEC.60870.5.104"), into the protocol
// (AppProtocol's name) and the function code and name when the rest names
// a known function; when it names one otsiem cannot map, function is that
// rest as the vendor wrote it ("Func05.Write.Single.Coil.Validation") and
// hasCode is false. ok is false when the name starts with no industrial
// protocol.
func OTApp(name string) (proto string, code int32, function string, hasCode, ok bool) {
	seps := func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == ' ' || r == '/' }
	// Try ever longer prefixes: "IEC.60870.5.104" needs four parts.
	end := 0
	for parts := 0; parts < 4 && end < len(name); parts++ {
		next := strings.IndexFunc(name[end:], seps)
		if next < 0 {
			end = len(name)
		} else {
			end += next
		}
		if p := AppProtocol(name[:end]); isOT(p) {
			proto = p
			rest := strings.TrimLeft(name[end:], "._-/ ")
			if rest != "" {
				if c, found := FunctionCode(p, rest); found {
					return p, c, FunctionName(p, c), true, true
				}
			}
			function = rest
			// keep looking for a longer protocol prefix
		}
		end++
	}
	if proto == "" {
		return "", 0, "", false, false
	}
	return proto, 0, function, false, true
}

func isOT(p string) bool {
	switch p {
	case "modbus", "dnp3", "enip", "cip", "s7", "iec104", "opcua", "bacnet":
		return true
	}
	return false
}
