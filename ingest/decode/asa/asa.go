// Package asa decodes Cisco ASA, Firepower Threat Defense and ISA-3000
// syslog messages ("%ASA-4-106023: ..."), which share one message
// catalog. Each message id it knows becomes a flow, alert or system event
// with endpoints, interfaces, ACL names and users; other ids become system
// events with the message id and text, never raw ones.
package asa

import (
	"errors"
	"strconv"
	"strings"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

func init() { decode.Register(Decoder{}) }

// Decoder is the ASA/FTD decoder, registered as "asa".
type Decoder struct{}

// Name returns "asa".
func (Decoder) Name() string { return "asa" }

// Detect claims bodies starting with %ASA-, %FTD-, %PIX- or %FWSM-.
func (Decoder) Detect(h *syslog.Header) bool {
	_, _, _, _, ok := splitTag(h.Body)
	return ok
}

// splitTag splits a message tag and its text: "%ASA-4-106023: text", with
// a message class ("%ASA-session-6-106100:", "%FTD-auth-4-…", as ASA 9.x
// and FTD print with "logging message class"), and without the colon
// after the id ("%ASA-6-302013 Built …").
func splitTag(b string) (product string, level byte, id, text string, ok bool) {
	if len(b) < 8 || b[0] != '%' {
		return
	}
	dash := strings.IndexByte(b, '-')
	if dash < 0 || dash > 5 {
		return
	}
	switch b[1:dash] {
	case "ASA", "FTD", "PIX", "FWSM":
	default:
		return
	}
	rest := b[dash+1:]
	// An optional message class: lowercase letters and a dash.
	if c := classLen(rest); c > 0 {
		rest = rest[c+1:]
	}
	if len(rest) < 3 || rest[0] < '0' || rest[0] > '7' || rest[1] != '-' {
		return
	}
	i := 2
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i < 5 || i > 8 || i < len(rest) && rest[i] != ':' && rest[i] != ' ' {
		return
	}
	id, text = rest[2:i], rest[i:]
	text = strings.TrimLeft(strings.TrimPrefix(text, ":"), " ")
	return b[1:dash], rest[0], id, text, true
}

// classLen returns the length of a message class ("session", "auth",
// "vpn") at the start of s when a dash follows it, else 0.
func classLen(s string) int {
	i := 0
	for i < len(s) && i < 16 && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '-' {
		return 0
	}
	return i
}

var (
	errNotASA  = errors.New("not an ASA message")
	errPattern = errors.New("message text does not match its id's format")
)

// Decode decodes one ASA/FTD message.
func (Decoder) Decode(h *syslog.Header, ev *event.Event) error {
	product, level, id, text, ok := splitTag(h.Body)
	if !ok {
		return errNotASA
	}
	ev.Vendor = "cisco"
	ev.Product = products[product]
	ev.MessageID = id
	// The message's own level, also when a relay's PRI says otherwise.
	ev.Severity = event.Some(level - '0')
	ev.Kind = event.KindFlow
	n, _ := strconv.Atoi(id)
	h2 := handlers[n]
	if h2 == nil {
		switch {
		case n >= 400000 && n <= 400050:
			h2 = ips
		default:
			ev.Kind = event.KindSystem
			ev.SetAttr("text", text)
			return nil
		}
	}
	if !h2(text, ev) {
		return errPattern
	}
	if ev.Transport == "icmp" && (ev.SrcIP.Is6() && !ev.SrcIP.Is4In6() || ev.DstIP.Is6() && !ev.DstIP.Is4In6()) {
		ev.Transport = "icmp6" // ICMP between IPv6 addresses is ICMPv6
	}
	return nil
}

var products = map[string]string{"ASA": "asa", "FTD": "ftd", "PIX": "pix", "FWSM": "fwsm"}

// handler decodes the text of one message id; false means it did not
// match the documented format.
type handler func(text string, ev *event.Event) bool

var handlers map[int]handler

func init() {
	handlers = map[int]handler{
		106001: denyFromTo, 106002: deniedByList, 106006: denyFromTo, 106007: denyFromTo,
		106010: denySrcDst, 106011: denySrcDst, 106012: dropFromTo, 106013: dropFromTo,
		106014: denySrcDst, 106015: denyFromTo, 106016: dropFromTo, 106017: dropFromTo,
		106018: deniedByList, 106020: dropFromTo, 106021: dropFromTo, 106022: dropFromTo,
		106023: denySrcDst, 106026: noContext, 106027: denySrcDst, 106100: aclHit,
		302013: built, 302014: teardown, 302015: built, 302016: teardown,
		302020: icmpConn, 302021: icmpConn,
		313001: icmpDenied, 313004: icmpDenied, 313005: icmpNoConn, 313008: icmpDenied,
		419001: dropFromTo, 419002: dropFromTo,
		710002: toTheBox, 710003: toTheBox, 710005: toTheBox,
		733100: threatRate, 733101: threatHost, 733102: threatHost, 733103: threatHost,
		430001: ftd, 430002: ftd, 430003: ftd, 430004: ftd, 430005: ftd,
	}
}

// transport reads a protocol word; "IP" and "ip" mean no single transport.
func transport(w string) string {
	switch w {
	case "IP", "ip", "":
		return ""
	}
	switch t := decode.Transport(w); t {
	case "tcp", "udp", "icmp", "icmp6", "sctp", "gre", "esp":
		return t
	}
	if decode.Uint(w).OK {
		return w // another IP protocol number, as ASA prints it
	}
	return decode.Transport(strings.ToLower(w))
}

// firstTransport finds the first tcp/udp/icmp/icmp6/sctp word of s
// before the addresses.
func firstTransport(s string) string {
	for s != "" {
		w := word(s)
		switch w {
		case "tcp", "TCP", "udp", "UDP", "icmp", "ICMP", "icmp6", "ICMP6", "sctp", "SCTP", "gre", "GRE", "esp", "ESP":
			return decode.Transport(w)
		}
		if strings.ContainsAny(w, ":/") { // reached the addresses
			return ""
		}
		if len(w) == len(s) {
			return ""
		}
		s = s[len(w)+1:]
	}
	return ""
}

func onInterface(text string, ev *event.Event) {
	if iface, ok := field(text, "on interface "); ok {
		ev.SrcInterface = strings.TrimRight(iface, ".,")
	}
}

// denyFromTo: 106001, 106006, 106007, 106015:
// "Deny inbound UDP from A/p to B/p on interface IF",
// "Inbound TCP connection denied from A/p to B/p flags F on interface IF",
// "Deny TCP (no connection) from A/p to B/p flags F on interface IF".
func denyFromTo(text string, ev *event.Event) bool {
	ev.Action = event.ActionDeny
	ev.Transport = firstTransport(text)
	if !fromTo(text, ev) {
		return false
	}
	onInterface(text, ev)
	if strings.Contains(text, "(no connection)") {
		// 106015: a TCP packet that is not a SYN, of a connection the ASA
		// does not know (a reply, or a late packet after a failover or an
		// idle timeout): part of a flow, not a new one. The packet's
		// sender and ingress interface are printed first; the ports say
		// who opened the flow.
		ev.SetAttr(event.AttrMidFlow, "true")
		decode.OrientByPorts(ev)
	}
	if f, ok := after(text, " flags "); ok {
		if i := strings.Index(f, " on interface"); i >= 0 {
			f = f[:i]
		}
		ev.SetAttr("tcp_flags", strings.TrimSpace(f))
	}
	if r, ok := after(text, " due to "); ok {
		ev.SetAttr("reason", strings.TrimRight(r, "."))
	}
	return true
}

// dropFromTo: protocol sanity drops "... from A to B [on interface IF]":
// 106012, 106013, 106016, 106017, 106020, 106021, 106022, 419001, 419002.
func dropFromTo(text string, ev *event.Event) bool {
	ev.Action = event.ActionDrop
	ev.Transport = firstTransport(text)
	if !fromTo(text, ev) {
		return false
	}
	onInterface(text, ev)
	switch {
	case strings.HasPrefix(text, "Deny IP spoof"):
		ev.SetAttr("reason", "ip spoof")
	case strings.Contains(text, "Land Attack"):
		ev.SetAttr("reason", "land attack")
	case strings.Contains(text, "teardrop"):
		ev.SetAttr("reason", "teardrop fragment")
	case strings.Contains(text, "reverse path check"):
		ev.SetAttr("reason", "reverse path check")
	case strings.Contains(text, "connection spoof"):
		ev.SetAttr("reason", "connection spoof")
	case strings.HasPrefix(text, "Received duplicate TCP SYN"):
		ev.SetAttr("reason", "duplicate syn")
	case strings.HasPrefix(text, "Dropping echo request"):
		ev.SetAttr("reason", "echo request to pat address")
	}
	if r, ok := after(text, "reason: "); ok {
		ev.SetAttr("reason", r)
	}
	if o, ok := after(text, "IP options"); ok {
		ev.SetAttr("ip_options", strings.Trim(o, ` :."`))
	}
	return true
}

// deniedByList: 106002 "udp connection denied by outbound list ACL src A
// dest B", 106018 "ICMP packet type T denied by outbound list ACL src A
// dest B".
func deniedByList(text string, ev *event.Event) bool {
	ev.Action = event.ActionDeny
	ev.Transport = transport(word(text))
	if strings.HasPrefix(text, "ICMP packet type ") {
		ev.Transport = "icmp"
		ev.SetAttr("icmp_type", word(text[len("ICMP packet type "):]))
	}
	acl, ok := field(text, "outbound list ")
	if !ok {
		return false
	}
	ev.Rule = acl
	src, ok1 := field(text, " src ")
	dst, ok2 := field(text, " dest ")
	a, ok3 := parseEndpoint(src)
	b, ok4 := parseEndpoint(dst)
	if !(ok1 && ok2 && ok3 && ok4) {
		return false
	}
	setSrc(ev, a)
	setDst(ev, b)
	return true
}

// denySrcDst: 106010, 106011, 106014, 106023, 106027:
// "Deny [inbound] [(No xlate)] PROTO src IF:A[/p][(user)] dst IF:B[/p][(user)]
// [(type T, code C)] [by access-group "ACL" [h1, h2]]".
func denySrcDst(text string, ev *event.Event) bool {
	ev.Action = event.ActionDeny
	head, _, _ := strings.Cut(text, " src ")
	proto := head[strings.LastIndexByte(head, ' ')+1:]
	if proto != "Deny" && proto != "xlate)" && proto != "inbound" {
		ev.Transport = transport(proto)
	}
	if strings.Contains(head, "(No xlate)") {
		ev.SetAttr("reason", "no xlate")
	}
	if !srcDst(text, ev) {
		return false
	}
	if strings.Contains(text, "(type ") {
		icmpTypeCode(text, ev)
	}
	if _, ok := after(text, "access-group "); ok {
		ev.Rule = quoted(text, "access-group ")
	}
	hashes(text, ev)
	return true
}

// hashes keeps the ACE hash pair "[0x8ed66b60, 0xf8852875]".
func hashes(text string, ev *event.Event) {
	if i := strings.LastIndex(text, "[0x"); i >= 0 {
		if h1, h2, ok := strings.Cut(strings.Trim(text[i:], "[]"), ", "); ok {
			ev.SetAttr("ace_hash", h1)
			ev.SetAttr("ace_hash2", strings.TrimRight(h2, "]"))
		}
	}
}

// noContext: 106026 "Failed to determine the security context for the
// packet:vlan:src dst sport dport proto".
func noContext(text string, ev *event.Event) bool {
	ev.Action = event.ActionDrop
	_, rest, ok := strings.Cut(text, "packet:")
	if !ok {
		return false
	}
	fs := strings.Fields(rest)
	if len(fs) < 5 {
		return false
	}
	vlan, src, ok := strings.Cut(fs[0], ":")
	if !ok {
		return false
	}
	ev.SetAttr("vlan", vlan)
	ev.SrcIP, ev.DstIP = decode.Addr(src), decode.Addr(fs[1])
	ev.SrcPort, ev.DstPort = decode.Port(fs[2]), decode.Port(fs[3])
	ev.Transport = transport(fs[4])
	ev.SetAttr("reason", "no security context")
	return ev.SrcIP.IsValid() && ev.DstIP.IsValid()
}

// aclHit: 106100 "access-list ACL {permitted|denied|est-allowed} PROTO
// IF/A(p) -> IF/B(p) hit-cnt N ({first hit|N-second interval}) [h1, h2]".
func aclHit(text string, ev *event.Event) bool {
	var fs [4]string
	rest := text
	for i := range fs {
		fs[i] = word(rest)
		if len(fs[i]) >= len(rest) {
			return false
		}
		rest = rest[len(fs[i])+1:]
	}
	if fs[0] != "access-list" {
		return false
	}
	ev.Rule = fs[1]
	switch fs[2] {
	case "permitted", "est-allowed":
		ev.Action = event.ActionAllow
	case "denied":
		ev.Action = event.ActionDeny
	default:
		ev.Action = event.ActionUnknown
	}
	if fs[2] == "est-allowed" {
		ev.SetAttr("acl_result", "est-allowed")
	}
	ev.Transport = transport(fs[3])
	// "IF/A(p) -> IF/B(p)" or "IF/A(p)->IF/B(p)"
	srcText, dstText, ok := strings.Cut(rest, "->")
	if !ok {
		return false
	}
	a, ok1 := parseEndpoint(strings.TrimSpace(srcText))
	b, ok2 := parseEndpoint(word(strings.TrimSpace(dstText)))
	if !ok1 || !ok2 {
		return false
	}
	setSrc(ev, a)
	setDst(ev, b)
	if n, ok := field(text, "hit-cnt "); ok {
		ev.SetAttr("hit_count", n)
	}
	if i := strings.Index(text, "hit-cnt "); i >= 0 {
		if open := strings.IndexByte(text[i:], '('); open >= 0 {
			if end := strings.IndexByte(text[i+open:], ')'); end >= 0 {
				ev.SetAttr("hit_interval", text[i+open+1:i+open+end])
			}
		}
	}
	hashes(text, ev)
	return true
}

// built: 302013, 302015 "Built {inbound|outbound} TCP connection ID for
// IF:A/p (mA/mp)[(user)] to IF:B/p (mB/mp)[(user)]". Inbound means the
// connection was initiated from the "for" side, outbound from the "to"
// side; src is always the initiator.
func built(text string, ev *event.Event) bool {
	ev.Action = event.ActionAllow
	fs := strings.Fields(text)
	if len(fs) < 5 || fs[0] != "Built" {
		return false
	}
	dir := fs[1]
	ev.Transport = transport(fs[2])
	ev.SetAttr("direction", dir)
	ev.SetAttr(event.AttrConnectionID, fs[4])
	forText, ok := after(text, " for ")
	if !ok {
		return false
	}
	forText, toText, ok := strings.Cut(forText, " to ")
	if !ok {
		return false
	}
	// A last " (user)" after the mapped pair is the AAA user of the
	// connection, not part of the endpoint.
	if i := strings.LastIndex(toText, ") ("); i >= 0 && strings.HasSuffix(toText, ")") {
		ev.SetAttr("aaa_user", toText[i+3:len(toText)-1])
		toText = toText[:i+1]
	}
	a, ok1 := connEndpoint(forText)
	b, ok2 := connEndpoint(toText)
	if !ok1 || !ok2 {
		return false
	}
	if dir == "outbound" {
		a, b = b, a
	}
	setSrc(ev, a)
	setDst(ev, b)
	return true
}

// connEndpoint reads "IF:A/p (mA/mp)[(user[, sgt])][ (user)]" of 302013-302016:
// the real endpoint, the mapped pair in parentheses (what the other side
// of a NAT sees; Cisco's "mapped address") and the user.
func connEndpoint(s string) (endpoint, bool) {
	s = strings.TrimSpace(s)
	main := word(s)
	// An annotation with a space, "(LOCAL\user, 23:Operators)", ends at its
	// parenthesis, not at the space.
	if strings.Count(main, "(") > strings.Count(main, ")") {
		if j := strings.IndexByte(s[len(main):], ')'); j >= 0 {
			main = s[:len(main)+j+1]
		}
	}
	rest := s[len(main):]
	e, ok := parseEndpoint(main)
	// "(mapped/port)" then "(user)", right after each other or as words.
	for _, part := range strings.Split(rest, "(") {
		part = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(part), ")"))
		if part == "" {
			continue
		}
		if a, p, isAddr := addrPort(part); isAddr && !e.mapped.IsValid() {
			e.mapped, e.mappedPort = a, p
		} else if strings.Contains(part, `\`) || strings.Contains(part, ",") || (!decode.Addr(strings.SplitN(part, "/", 2)[0]).IsValid() && !strings.Contains(part, " ") && !isNamePort(part)) {
			e.annotate(part) // "(user)", "(LOCAL\user, 23:Operators)", "(FQDN)"
		}
		if strings.Contains(part, " ") { // "duration ..." etc. ends the endpoint
			break
		}
	}
	return e, ok
}

// teardown: 302014, 302016 "Teardown TCP connection ID for IF:A/p[(user)]
// to IF:B/p[(user)] duration H:MM:SS bytes N [reason] [(user)]". The ASA
// prints both sides in its build's order (the "for" side is the lower
// security interface's), without the build's inbound/outbound, so the
// teardown alone does not say which side initiated. The correlator orients
// it like its build (same connection id) when it saw the build; here the
// documented heuristic of decode.OrientByPorts applies: the side on a
// service port is the responder (attr initiator=ports), and when the ports
// do not tell, the "for" side is the source (initiator=unknown).
func teardown(text string, ev *event.Event) bool {
	ev.Action = event.ActionClose
	fs := strings.Fields(text)
	if len(fs) < 5 || fs[0] != "Teardown" {
		return false
	}
	ev.Transport = transport(fs[1])
	ev.SetAttr(event.AttrConnectionID, fs[3])
	forText, ok := after(text, " for ")
	if !ok {
		return false
	}
	forText, toText, ok := strings.Cut(forText, " to ")
	if !ok {
		return false
	}
	toText, tail, _ := strings.Cut(toText, " duration ")
	a, ok1 := connEndpoint(forText)
	b, ok2 := connEndpoint(toText)
	if !ok1 || !ok2 {
		return false
	}
	setSrc(ev, a)
	setDst(ev, b)
	decode.OrientByPorts(ev)
	if tail != "" {
		ev.SetAttr("duration", word(tail))
	}
	if n, ok := field(text, " bytes "); ok {
		ev.Bytes = decode.Uint(n)
		// What follows the byte count is the teardown reason, up to a
		// trailing "(user)".
		if _, r, ok := strings.Cut(tail, " bytes "+n); ok {
			r = strings.TrimSpace(r)
			if i := strings.LastIndex(r, " ("); i >= 0 && strings.HasSuffix(r, ")") {
				if ev.SrcUser == "" {
					ev.SrcUser = r[i+2 : len(r)-1]
				}
				r = r[:i]
			} else if strings.HasPrefix(r, "(") && strings.HasSuffix(r, ")") && strings.Contains(r, `\`) {
				if ev.SrcUser == "" {
					ev.SrcUser = r[1 : len(r)-1]
				}
				r = ""
			}
			if r != "" {
				// "TCP Reset-I/O" says how a permitted connection ended;
				// the action stays close.
				ev.SetAttr("reason", r)
			}
		}
	}
	return true
}

// icmpConn: 302020/302021 "{Built|Teardown} {inbound|outbound} ICMP
// connection for faddr F/seq gaddr G/type laddr L/code [(user)] type T
// code C". faddr is the foreign address, laddr the local one and gaddr
// laddr as translated (its mapped address); inbound means faddr
// initiated. 302021 has no inbound/outbound word: faddr is the source
// (initiator=unknown) until the correlator orients it like its build.
// ICMP connections have no id; the three addresses, the same in the build
// and the teardown, stand for one (connection_id "icmp F G L").
func icmpConn(text string, ev *event.Event) bool {
	ev.Transport = "icmp"
	if strings.Contains(text, "ICMPv6") || strings.Contains(text, "ICMP6") {
		ev.Transport = "icmp6"
	}
	ev.Action = event.ActionAllow
	teardown := strings.HasPrefix(text, "Teardown")
	if teardown {
		ev.Action = event.ActionClose
	}
	fa, ok1 := after(text, "faddr ")
	la, ok2 := after(text, "laddr ")
	a, ok3 := parseEndpoint(word(fa))
	b, ok4 := parseEndpoint(word(la))
	a.user, b.user = icmpUser(fa), icmpUser(la)
	if !(ok1 && ok2 && ok3 && ok4) {
		return false
	}
	a.port, b.port = event.Opt[uint16]{}, event.Opt[uint16]{} // ICMP id/type, not ports
	ga, hasGA := field(text, "gaddr ")
	if hasGA {
		ev.SetAttr("global_addr", ga)
		if g, ok := parseEndpoint(ga); ok {
			b.mapped = g.addr
		}
	}
	ev.SetAttr(event.AttrConnectionID, "icmp "+word(fa)+" "+ga+" "+word(la))
	if strings.Contains(text, "outbound") {
		a, b = b, a
	}
	setSrc(ev, a)
	setDst(ev, b)
	if teardown {
		ev.SetAttr(event.AttrInitiator, event.InitiatorUnknown)
	}
	icmpTypeCode(text[strings.Index(text, "laddr "):], ev)
	return true
}

// icmpUser returns the "(user)" word following the first word of s.
func icmpUser(s string) string {
	_, rest, _ := strings.Cut(s, " ")
	if w := word(rest); len(w) > 2 && w[0] == '(' && w[len(w)-1] == ')' {
		return w[1 : len(w)-1]
	}
	return ""
}

// icmpDenied: 313001, 313004, 313008 "Denied ICMP[v6] type=T, code=C from
// A on interface IF", "Denied ICMP type=T, from laddr A on interface IF to
// B: no matching session".
func icmpDenied(text string, ev *event.Event) bool {
	ev.Action = event.ActionDeny
	ev.Transport = "icmp"
	if strings.Contains(text, "ICMPv6") {
		ev.Transport = "icmp6"
	}
	if t, ok := field(text, "type="); ok {
		ev.SetAttr("icmp_type", strings.TrimRight(t, ","))
	}
	if c, ok := field(text, "code="); ok {
		ev.SetAttr("icmp_code", strings.TrimRight(c, ","))
	}
	src, ok := field(text, "from laddr ")
	if !ok {
		src, ok = field(text, "from ")
	}
	a, ok2 := parseEndpoint(src)
	if !ok || !ok2 {
		return false
	}
	setSrc(ev, a)
	onInterface(text, ev)
	if dst, ok := field(text, " to "); ok {
		if b, ok := parseEndpoint(strings.TrimRight(dst, ":")); ok {
			setDst(ev, b)
		}
	}
	if !ev.DstIP.IsValid() {
		// ICMP to the ASA's own interface: the device's report, no flow
		// between two hosts.
		ev.Kind = event.KindSystem
	}
	if r, ok := after(text, ": "); ok && ev.DstIP.IsValid() {
		ev.SetAttr("reason", r)
	}
	return true
}

// icmpNoConn: 313005 "No matching connection for ICMP error message:
// icmp src IF:A dst IF:B (type T, code C) on IF interface. Original IP
// payload: PROTO src A/p dst B/p."
func icmpNoConn(text string, ev *event.Event) bool {
	ev.Action = event.ActionDrop
	ev.Transport = "icmp"
	if !srcDst(text, ev) {
		return false
	}
	icmpTypeCode(text, ev)
	if p, ok := after(text, "Original IP payload: "); ok {
		ev.SetAttr("original_payload", strings.TrimRight(p, "."))
	}
	ev.SetAttr("reason", "no matching connection")
	return true
}

// toTheBox: 710002/710003/710005 "{TCP|UDP} access permitted from A/p to
// IF:B/service", "... access denied by ACL from ...", "... request
// discarded from ...".
func toTheBox(text string, ev *event.Event) bool {
	ev.Transport = transport(word(text))
	switch {
	case strings.Contains(text, "access permitted"):
		ev.Action = event.ActionAllow
	case strings.Contains(text, "denied"):
		ev.Action = event.ActionDeny
	default:
		ev.Action = event.ActionDrop
	}
	rest, ok := after(text, " from ")
	if !ok {
		return false
	}
	a, ok1 := parseEndpoint(word(rest))
	dst, ok2 := field(rest, " to ")
	if !ok1 || !ok2 {
		return false
	}
	iface, svc, ok3 := strings.Cut(dst, ":")
	if !ok3 {
		return false
	}
	i := strings.LastIndexByte(svc, '/')
	if i < 0 {
		return false
	}
	ev.DstIP = decode.Addr(svc[:i])
	ev.DstInterface = iface
	if p := decode.Port(svc[i+1:]); p.OK {
		ev.DstPort = p
	} else {
		ev.SetAttr("service", svc[i+1:])
		ev.AppProtocol = decode.AppProtocol(svc[i+1:])
	}
	setSrc(ev, a)
	ev.SrcInterface = iface
	return ev.DstIP.IsValid()
}

// ips: 400000-400050 "IPS:SIG NAME from A to B on interface IF".
func ips(text string, ev *event.Event) bool {
	ev.Kind = event.KindAlert
	ev.Action = event.ActionAlert
	rest, ok := strings.CutPrefix(text, "IPS:")
	if !ok {
		return false
	}
	sig := word(rest)
	ev.SignatureID = sig
	name, _, _ := strings.Cut(rest[len(sig):], " from ")
	ev.Signature = strings.TrimSpace(name)
	if !fromTo(text, ev) {
		return false
	}
	onInterface(text, ev)
	return true
}

// threatRate: 733100 "[ NAME] drop rate-N exceeded. Current burst rate is
// R per second, max configured rate is M; Current average rate is ...;
// Cumulative total count is T".
func threatRate(text string, ev *event.Event) bool {
	ev.Kind = event.KindSystem // a rate, no hosts
	ev.Action = event.ActionAlert
	if open := strings.IndexByte(text, '['); open >= 0 {
		if end := strings.IndexByte(text[open:], ']'); end > 0 {
			ev.Signature = strings.TrimSpace(text[open+1 : open+end])
		}
	}
	if r, ok := field(text, "drop "); ok {
		ev.SetAttr("rate_id", r)
	}
	threatCounts(text, ev)
	return ev.Signature != ""
}

func threatCounts(text string, ev *event.Event) {
	if v, ok := field(text, "Current burst rate is "); ok {
		ev.SetAttr("burst_rate", v)
	}
	if v, ok := field(text, "Current average rate is "); ok {
		ev.SetAttr("average_rate", v)
	}
	if v, ok := field(text, "Cumulative total count is "); ok {
		ev.SetAttr("total_count", strings.TrimRight(v, "."))
	}
}

// threatHost: 733101 "{Host|Subnet} A is {targeted|attacking}. ...",
// 733102 "Threat-detection adds host A to shun list", 733103 "...
// removes host A from shun list".
func threatHost(text string, ev *event.Event) bool {
	ev.Kind = event.KindSystem // one host: the device's report, not a flow to judge
	ev.Action = event.ActionAlert
	ev.Signature = "threat-detection"
	var addr string
	switch {
	case strings.HasPrefix(text, "Threat-detection adds host "):
		addr = word(text[len("Threat-detection adds host "):])
		ev.Action = event.ActionDeny
		ev.Signature = "threat-detection shun"
	case strings.HasPrefix(text, "Threat-detection removes host "):
		addr = word(text[len("Threat-detection removes host "):])
		ev.Kind = event.KindSystem
		ev.Action = event.ActionUnknown
		ev.Signature = "threat-detection unshun"
	default:
		fs := strings.Fields(text)
		if len(fs) < 4 {
			return false
		}
		ev.SetAttr("object", fs[0])
		addr = fs[1]
		ev.Signature = "threat-detection " + map[string]string{"targeted.": "target", "attacking.": "attacker"}[fs[3]]
		threatCounts(text, ev)
	}
	a := decode.Addr(addr)
	if !a.IsValid() {
		return false
	}
	if strings.Contains(text, "is targeted") {
		ev.DstIP = a
	} else {
		ev.SrcIP = a
	}
	return true
}
