package asa

import (
	"net/netip"
	"strings"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
)

// endpoint is one side of a connection as ASA messages print it.
type endpoint struct {
	iface string
	addr  netip.Addr
	port  event.Opt[uint16]
	user  string
	// host is the name printed in place of the address (the "names"
	// command, object names): the address is then unknown.
	host string
	// context is the security context prefixed to the interface
	// ("ctx:outside:addr"); fqdn, sgt and sgName the identity-firewall and
	// TrustSec annotations "(FQDN, 23:Engineering)".
	context, fqdn, sgt, sgName string
	// mapped and mappedPort are the endpoint as translated (NAT), when the
	// message prints a mapped pair.
	mapped     netip.Addr
	mappedPort event.Opt[uint16]
}

// parseEndpoint reads one endpoint in any form ASA messages print:
//
//	[ctx:]iface:addr[/port]   106023 src/dst, 302013 for/to, 313005
//	iface/addr(port)          106100
//	addr[/port]               from/to, faddr/laddr
//
// where addr is IPv4, IPv6 or a name the ASA shows for the address, and a
// trailing "(port)" or annotation "(user)", "(LOCAL\user, 23:SGT-name)",
// "(FQDN)" may follow. The interface is found by where the address starts,
// so IPv6's colons are never taken for the interface's.
func parseEndpoint(s string) (endpoint, bool) {
	var e endpoint
	s = strings.TrimRight(s, ",.;")
	// Trailing groups: "(port)", "(user)", "(user, sgt)", from the end.
	for strings.HasSuffix(s, ")") {
		open := strings.LastIndexByte(s, '(')
		if open < 0 {
			break
		}
		inner := s[open+1 : len(s)-1]
		switch p := decode.Port(inner); {
		case p.OK && !e.port.OK:
			e.port = p
		case p.OK:
		default:
			e.annotate(inner)
		}
		s = strings.TrimRight(s[:open], " ")
	}
	if a, p, ok := addrPort(s); ok {
		e.addr = a
		if p.OK {
			e.port = p
		}
		return e, true
	}
	// The interface ends where an address starts: after a ':' for
	// "iface:addr[/port]", after a '/' for "iface/addr".
	for i := 1; i < len(s)-1; i++ {
		var a netip.Addr
		var p event.Opt[uint16]
		switch s[i] {
		case ':':
			var ok bool
			if a, p, ok = addrPort(s[i+1:]); !ok {
				continue
			}
		case '/':
			if a = decode.Addr(s[i+1:]); !a.IsValid() {
				continue
			}
		default:
			continue
		}
		e.setIface(s[:i])
		e.addr = a
		if p.OK {
			e.port = p
		}
		return e, true
	}
	// A name in place of the address: "iface/name", "[ctx:]iface:name[/port]",
	// "name/port".
	rest := s
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		e.setIface(s[:i])
		rest = s[i+1:]
	} else if i := strings.IndexByte(s, '/'); i > 0 && !isPort(s[i+1:]) {
		e.setIface(s[:i])
		rest = s[i+1:]
	}
	if i := strings.LastIndexByte(rest, '/'); i > 0 {
		if p := decode.Port(rest[i+1:]); p.OK {
			e.port, rest = p, rest[:i]
		}
	}
	if !isName(rest) {
		return endpoint{}, false
	}
	e.host = rest
	return e, true
}

func isPort(s string) bool { return decode.Port(s).OK }

// isNamePort reports whether s is "name/port", a mapped pair shown by name.
func isNamePort(s string) bool {
	name, port, ok := strings.Cut(s, "/")
	return ok && isName(name) && isPort(port)
}

// isName reports whether s can be a host or object name: letters, digits,
// '.', '-' and '_', starting with a letter or digit and holding a letter.
func isName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9':
		case (c == '.' || c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return letter
}

// setIface sets the interface, splitting off a context prefix.
func (e *endpoint) setIface(s string) {
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		e.context, s = s[:i], s[i+1:]
	}
	e.iface = s
}

// annotate reads "(user)", "(LOCAL\user, 23:Engineering)", "(FQDN)",
// "(FQDN, 23)": the identity firewall's user or FQDN, then the TrustSec
// security group tag and name.
func (e *endpoint) annotate(s string) {
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if i > 0 || isSGT(part) {
			tag, name, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(part, "sgt:"), "SGT "), ":")
			e.sgt, e.sgName = tag, name
			continue
		}
		if !strings.Contains(part, `\`) && strings.Contains(part, ".") && isName(part) && !decode.Addr(part).IsValid() {
			e.fqdn = part
			continue
		}
		if decode.Addr(strings.SplitN(part, "/", 2)[0]).IsValid() {
			continue // an address pair, not an annotation
		}
		e.user = part
	}
}

// isSGT reports whether s is a security group tag: "23", "23:Name",
// "sgt:23".
func isSGT(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sgt:"), "SGT ")
	tag, _, _ := strings.Cut(s, ":")
	return decode.Uint(tag).OK
}

// addrPort reads "addr" or "addr/port".
func addrPort(s string) (netip.Addr, event.Opt[uint16], bool) {
	if i := strings.LastIndexByte(s, '/'); i > 0 {
		a := decode.Addr(s[:i])
		p := decode.Port(s[i+1:])
		return a, p, a.IsValid() && p.OK
	}
	a := decode.Addr(s)
	return a, event.Opt[uint16]{}, a.IsValid()
}

// after returns the text after the first occurrence of key, and whether
// key was found.
func after(s, key string) (string, bool) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", false
	}
	return s[i+len(key):], true
}

// word returns the first space-separated word of s.
func word(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// field returns the word after key, and whether key was found.
func field(s, key string) (string, bool) {
	rest, ok := after(s, key)
	if !ok {
		return "", false
	}
	return word(rest), true
}

// quoted returns the text between the first pair of double quotes after
// key, or the word after key when it is not quoted.
func quoted(s, key string) string {
	rest, ok := after(s, key)
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, `"`) {
		if end := strings.IndexByte(rest[1:], '"'); end >= 0 {
			return rest[1 : end+1]
		}
	}
	return strings.TrimRight(word(rest), ",")
}

// icmpTypeCode reads "(type N, code M)" or "type N code M" into attrs.
func icmpTypeCode(s string, ev *event.Event) {
	if t, ok := field(s, "type "); ok {
		ev.SetAttr("icmp_type", strings.Trim(t, ",()"))
	}
	if c, ok := field(s, "code "); ok {
		ev.SetAttr("icmp_code", strings.Trim(c, ",()"))
	}
}

// setSrc and setDst copy an endpoint into the event; its mapped pair
// only when it differs from the real one (a translation happened).
func setSrc(ev *event.Event, e endpoint) {
	ev.SrcIP, ev.SrcPort, ev.SrcUser = e.addr, e.port, e.user
	if e.iface != "" {
		ev.SrcInterface = e.iface
	}
	if e.translated() {
		ev.SrcMappedIP, ev.SrcMappedPort = e.mapped, e.mappedPort
	}
	e.attrs(ev, event.AttrSrcHost, "src_context", "src_fqdn", "src_sgt", "src_sg_name")
}

func setDst(ev *event.Event, e endpoint) {
	ev.DstIP, ev.DstPort, ev.DstUser = e.addr, e.port, e.user
	if e.iface != "" {
		ev.DstInterface = e.iface
	}
	if e.translated() {
		ev.DstMappedIP, ev.DstMappedPort = e.mapped, e.mappedPort
	}
	e.attrs(ev, event.AttrDstHost, "dst_context", "dst_fqdn", "dst_sgt", "dst_sg_name")
}

// attrs keeps the endpoint's name and annotations under the given keys.
func (e *endpoint) attrs(ev *event.Event, host, context, fqdn, sgt, sgName string) {
	for _, kv := range [...][2]string{{host, e.host}, {context, e.context}, {fqdn, e.fqdn}, {sgt, e.sgt}, {sgName, e.sgName}} {
		if kv[1] != "" {
			ev.SetAttr(kv[0], kv[1])
		}
	}
}

func (e *endpoint) translated() bool {
	return e.mapped.IsValid() && (e.mapped != e.addr || e.mappedPort.OK && e.mappedPort != e.port)
}

// fromTo reads "from A to B" where A and B are endpoints.
func fromTo(s string, ev *event.Event) bool {
	rest, ok := after(s, "from ")
	if !ok {
		return false
	}
	w := endpointText(rest)
	if len(w) > 2 && w[0] == '(' && w[len(w)-1] == ')' { // 106016 "from (A)"
		w = w[1 : len(w)-1]
	}
	a, ok1 := parseEndpoint(w)
	rest, ok = after(rest, " to ")
	if !ok || !ok1 {
		return false
	}
	w = endpointText(rest)
	if w == "PAT" { // 106013: "to PAT address X"
		rest, _ = after(rest, "address ")
		w = word(rest)
	}
	b, ok2 := parseEndpoint(w)
	if !ok2 {
		return false
	}
	setSrc(ev, a)
	setDst(ev, b)
	return true
}

// srcDst reads "src A dst B", endpoints possibly followed by "(user)" as a
// separate word.
func srcDst(s string, ev *event.Event) bool {
	rest, ok := after(s, "src ")
	if !ok {
		return false
	}
	a, ok1 := parseEndpoint(endpointText(rest))
	rest, ok = after(rest, " dst ")
	if !ok || !ok1 {
		return false
	}
	b, ok2 := parseEndpoint(endpointText(rest))
	if !ok2 {
		return false
	}
	setSrc(ev, a)
	setDst(ev, b)
	return true
}

// endpointText returns the endpoint at the start of s, including a
// "(user)" that directly follows it.
func endpointText(s string) string {
	w := word(s)
	if strings.Count(w, "(") > strings.Count(w, ")") { // "(LOCAL\John Doe)"
		if end := strings.IndexByte(s, ')'); end >= 0 {
			return s[:end+1]
		}
	}
	return w
}
