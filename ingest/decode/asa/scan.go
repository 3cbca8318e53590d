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
	// mapped and mappedPort are the endpoint as translated (NAT), when the
	// message prints a mapped pair.
	mapped     netip.Addr
	mappedPort event.Opt[uint16]
}

// parseEndpoint reads "iface:addr[/port][(user)]", "iface/addr(port)",
// "addr/port" or "addr", with IPv4 or IPv6 addresses; a parenthesized
// part holding a '\' (LOCAL\user) or no address is the user.
func parseEndpoint(s string) (endpoint, bool) {
	var e endpoint
	s = strings.TrimRight(s, ",.;")
	// Trailing "(user)" or "(port)".
	if strings.HasSuffix(s, ")") {
		if open := strings.LastIndexByte(s, '('); open >= 0 {
			inner := s[open+1 : len(s)-1]
			if p := decode.Port(inner); p.OK && !strings.Contains(s[:open], "(") {
				e.port = p
			} else if !decode.Addr(strings.SplitN(inner, "/", 2)[0]).IsValid() {
				e.user = inner
			}
			s = s[:open]
			// A second pair: "addr/port (mapped/port)(user)" handled by callers.
			if open2 := strings.LastIndexByte(s, '('); open2 >= 0 && strings.HasSuffix(s, ")") {
				if p := decode.Port(s[open2+1 : len(s)-1]); p.OK {
					e.port = p
				}
				s = s[:open2]
			}
		}
	}
	// A bare address first: IPv6 addresses contain ':' too.
	if a, p, ok := addrPort(s); ok {
		e.addr, e.port = a, p
		return e, true
	}
	// iface: prefix, the interface being the part before the first ':'.
	if i := strings.IndexByte(s, ':'); i > 0 {
		if a, p, ok := addrPort(s[i+1:]); ok {
			e.iface, e.addr = s[:i], a
			if p.OK {
				e.port = p
			}
			return e, true
		}
	}
	// iface/addr (106100 form, the port in parentheses).
	if i := strings.IndexByte(s, '/'); i > 0 && !decode.Addr(s[:i]).IsValid() {
		if a := decode.Addr(s[i+1:]); a.IsValid() {
			e.iface, e.addr = s[:i], a
			return e, true
		}
	}
	return e, false
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
}

func setDst(ev *event.Event, e endpoint) {
	ev.DstIP, ev.DstPort, ev.DstUser = e.addr, e.port, e.user
	if e.iface != "" {
		ev.DstInterface = e.iface
	}
	if e.translated() {
		ev.DstMappedIP, ev.DstMappedPort = e.mapped, e.mappedPort
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
	a, ok1 := parseEndpoint(strings.Trim(word(rest), "()"))
	rest, ok = after(rest, " to ")
	if !ok || !ok1 {
		return false
	}
	w := word(rest)
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
