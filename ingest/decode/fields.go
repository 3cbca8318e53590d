package decode

import (
	"iter"
	"net/netip"
	"strconv"
	"strings"

	"github.com/otsiem/otsiem/ingest/event"
)

// KV yields the key=value pairs of s, separated by spaces, tabs or commas
// (FortiOS's CSV format writes "date=2026-03-03,time=10:15:22,…"). A value
// may be double-quoted; it is yielded without the quotes and with its
// escapes as they are. An unquoted value ends at a space, or at a comma
// that a key and '=' follow. A token without '=' is skipped.
func KV(s string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		i := 0
		for i < len(s) {
			for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
				i++
			}
			start := i
			for i < len(s) && s[i] != '=' && s[i] != ' ' {
				i++
			}
			if i >= len(s) || s[i] != '=' {
				continue
			}
			key := s[start:i]
			i++
			var val string
			if i < len(s) && s[i] == '"' {
				i++
				vs := i
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' {
						i++
					}
					i++
				}
				val = s[vs:min(i, len(s))]
				i++
			} else {
				vs := i
				for i < len(s) && s[i] != ' ' && s[i] != '\t' && !(s[i] == ',' && keyFollows(s[i+1:])) {
					i++
				}
				val = s[vs:i]
				if strings.HasSuffix(val, ",") && i < len(s) {
					val = val[:len(val)-1]
				}
			}
			if key != "" && !yield(key, val) {
				return
			}
		}
	}
}

// keyFollows reports whether s starts with a key and '=': up to 40
// letters, digits, '_' or '-'.
func keyFollows(s string) bool {
	for i := 0; i < len(s) && i <= 40; i++ {
		c := s[i]
		switch {
		case c == '=':
			return i > 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return false
}

// Addr parses an IPv4 or IPv6 address, with or without a %zone; it
// returns the zero Addr for anything else. Text that cannot be an address
// is rejected before netip (whose errors allocate) sees it.
func Addr(s string) netip.Addr {
	if !maybeAddr(s) {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// maybeAddr reports whether s has only the bytes of an address before
// any %zone.
func maybeAddr(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':':
		case c == '%':
			return i > 0
		default:
			return false
		}
	}
	return true
}

// number parses up to 20 decimal digits without allocating.
func number(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// Port parses a port number 0-65535.
func Port(s string) event.Opt[uint16] {
	v, ok := number(s)
	if !ok || v > 65535 {
		return event.Opt[uint16]{}
	}
	return event.Some(uint16(v))
}

// Uint parses a decimal count.
func Uint(s string) event.Opt[uint64] {
	v, ok := number(s)
	if !ok {
		return event.Opt[uint64]{}
	}
	return event.Some(v)
}

// Sum adds two optional counters (bytes sent and received, say); it is
// unknown only when both are.
func Sum(a, b event.Opt[uint64]) event.Opt[uint64] {
	if !a.OK && !b.OK {
		return event.Opt[uint64]{}
	}
	return event.Some(a.V + b.V)
}

// Code parses a function code in decimal or 0x hex.
func Code(s string) event.Opt[int32] {
	if v, ok := number(s); ok && v <= 1<<31-1 {
		return event.Some(int32(v))
	}
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return event.Opt[int32]{}
	}
	v, err := strconv.ParseInt(s[2:], 16, 32)
	if err != nil {
		return event.Opt[int32]{}
	}
	return event.Some(int32(v))
}

// Transport normalizes a transport protocol name or IANA number to tcp,
// udp, icmp, icmp6, sctp, gre, esp; anything else is returned lowercased.
func Transport(s string) string {
	switch s {
	case "tcp", "TCP", "6":
		return "tcp"
	case "udp", "UDP", "17":
		return "udp"
	case "icmp", "ICMP", "1":
		return "icmp"
	case "icmp6", "ICMP6", "icmpv6", "ICMPv6", "ipv6-icmp", "IPv6-ICMP", "58":
		return "icmp6"
	case "sctp", "SCTP", "132":
		return "sctp"
	case "gre", "GRE", "47":
		return "gre"
	case "esp", "ESP", "50":
		return "esp"
	}
	return lower(s)
}

// AppProtocol normalizes an application protocol name as vendors spell it
// (Modbus/TCP, modbus-tcp, DNP3, EtherNet/IP, S7Comm, IEC-104, OPC-UA,
// ms-rdp, ssl, ...) to otsiem's names: modbus, dnp3, enip, cip, s7,
// iec104, opcua, bacnet, http, https, tls, rdp, ssh, dns, ... Unknown
// names are returned lowercased.
func AppProtocol(s string) string {
	var buf [32]byte
	if name, ok := appAlias(fold(buf[:0], s)); ok {
		return name
	}
	return lower(s)
}

// appAlias returns otsiem's name of a folded protocol name.
func appAlias(key []byte) (string, bool) {
	for _, a := range appAliases {
		if string(key) == a.alias {
			return a.name, true
		}
	}
	return "", false
}

var appAliases = [...]struct{ alias, name string }{
	{"modbus", "modbus"}, {"modbustcp", "modbus"}, {"mbtcp", "modbus"}, {"modbusbase", "modbus"},
	{"dnp3", "dnp3"}, {"dnp", "dnp3"}, {"dnp3base", "dnp3"},
	{"enip", "enip"}, {"ethernetip", "enip"}, {"ethernetipbase", "enip"},
	{"cip", "cip"}, {"cipethernetip", "cip"}, {"cipbase", "cip"},
	{"s7", "s7"}, {"s7comm", "s7"}, {"s7commplus", "s7"}, {"siemenss7", "s7"}, {"s7protocol", "s7"},
	{"iec104", "iec104"}, {"iec608705104", "iec104"}, {"iec608705104base", "iec104"}, {"iec1045", "iec104"},
	{"opcua", "opcua"}, {"opcuabase", "opcua"}, {"opcuatcp", "opcua"},
	{"bacnet", "bacnet"}, {"bacnetbase", "bacnet"}, {"bacnetip", "bacnet"},
	{"http", "http"}, {"webbrowsing", "http"}, {"https", "https"}, {"ssl", "tls"}, {"tls", "tls"},
	{"rdp", "rdp"}, {"msrdp", "rdp"}, {"ssh", "ssh"}, {"dns", "dns"}, {"ntp", "ntp"}, {"snmp", "snmp"},
	{"smb", "smb"}, {"msds", "smb"}, {"mssmb", "smb"}, {"msdssmb", "smb"}, {"ftp", "ftp"}, {"telnet", "telnet"},
}

// fold appends s to dst lowercased and without anything but letters and
// digits, stopping at dst's capacity, so "Modbus/TCP" becomes "modbustcp".
func fold(dst []byte, s string) []byte {
	for i := 0; i < len(s) && len(dst) < cap(dst); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			dst = append(dst, c)
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		}
	}
	return dst
}

// lower returns s lowercased, allocating only when s has uppercase.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
