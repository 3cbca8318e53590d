package syslog

import (
	"strings"
	"time"
)

// knownZones are the timezone names network devices commonly print, with
// their UTC offsets in seconds. Ambiguous names (IST, CST as China time)
// are read as listed; Config.Zones overrides them.
var knownZones = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 3600, "WEST": 3600,
	"CET": 3600, "CEST": 7200, "MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800,
	"AST": -4 * 3600, "ADT": -3 * 3600, "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600, "AKST": -9 * 3600, "AKDT": -8 * 3600,
	"HST": -10 * 3600, "JST": 9 * 3600, "KST": 9 * 3600, "IST": 5*3600 + 1800, "AEST": 10 * 3600, "AEDT": 11 * 3600,
	"SGT": 8 * 3600, "HKT": 8 * 3600, "UT": 0, "UCT": 0, "CAT": 2 * 3600, "EAT": 3 * 3600, "SAST": 2 * 3600,
	"WAT": 3600, "IDT": 3 * 3600, "PKT": 5 * 3600, "ICT": 7 * 3600, "WIB": 7 * 3600, "PHT": 8 * 3600,
	"AWST": 8 * 3600, "ACST": 9*3600 + 1800, "ACDT": 10*3600 + 1800, "NZST": 12 * 3600, "NZDT": 13 * 3600,
	"BRT": -3 * 3600, "ART": -3 * 3600, "NST": -3*3600 - 1800, "NDT": -2*3600 - 1800, "HDT": -9 * 3600,
}

// parse3164 reads the RFC 3164 family from s (after any PRI):
//
//	[SEQ:] [TIMESTAMP[ ZONE][:]] [HOSTNAME[ :]] [FACILITY.SEVERITY[:]] [TAG[[PID]]:] BODY
//
// where TIMESTAMP is "Mmm dd hh:mm:ss", optionally with a year after the
// day, a fraction, a timezone name and a leading '*' or '.' (Cisco's
// unsynchronized clock marks), or an RFC 3339 timestamp. SEQ is the
// sequence number Cisco's EMBLEM and IOS formats put first ("<166>:Mar
// 03 …" has an empty one). FACILITY.SEVERITY ("LOCAL4.WARNING:") is what
// relays such as Kiwi write in place of, or besides, the PRI. Without a
// timestamp a hostname is taken only in Cisco's "host : " form, so that
// header-less bodies (FortiGate key=value, PAN-OS CSV) stay whole. A
// hostname that is not a DNS name ("fw#1") is taken only before a Cisco
// message. PAN-OS's "-" for a nil TAG is dropped.
func (p *Parser) parse3164(h *Header, s string, received time.Time) {
	s = skipSequence(s)
	rest, t, ok := p.timestamp(s, received)
	if ok {
		if h.Format == FormatNone {
			h.Format = FormatRFC3164
		}
		h.Time = t
		s = rest
	}
	s = trimSpace(s)
	s = p.facilitySeverity(h, s)
	// HOSTNAME
	if tok, after, found := token(s); found {
		switch {
		case !isHostname(tok):
			if ciscoAfter(after) && isToken(tok) {
				h.Hostname, s = tok, strings.TrimPrefix(trimSpace(after), ": ")
			}
		case strings.HasPrefix(after, " : "):
			h.Hostname, s = tok, after[3:]
		case strings.HasPrefix(after, ": ") && ok && isCiscoBody(after[2:]):
			// "Apr 15 2013 09:36:50 isa3000-c1: %ASA-..."
			h.Hostname, s = tok, after[2:]
		case ok && (strings.HasPrefix(after, " ") || strings.HasPrefix(after, "\t")):
			h.Hostname, s = tok, after[1:]
		}
		if h.Hostname != "" && h.Format == FormatNone {
			h.Format = FormatRFC3164
		}
	}
	s = p.facilitySeverity(h, trimSpace(s))
	// TAG[PID]:
	if ok || h.Hostname != "" {
		if tag, pid, body, found := parseTag(s); found {
			h.AppName, h.ProcID, s = tag, pid, body
		} else if body, found := strings.CutPrefix(s, "- "); found {
			s = body // RFC 5424's NILVALUE as a TAG (PAN-OS)
		}
	}
	h.Body = s
}

// inner reads a second header that a relay left at the start of the body:
// the device's own timestamp (with its zone name) and hostname behind the
// relay's. The device's time, and its hostname when it has one, win.
func (p *Parser) inner(h *Header, received time.Time) {
	if h.Body == "" || h.Body[0] == '%' || h.Body[0] == '{' {
		return // a Cisco message, a JSON object: no header before it
	}
	if tok, after, ok := token(h.Body); ok && tok != "" && ciscoAfter(after) && isToken(tok) {
		// The device's own id before its Cisco message ("fw#1 : %ASA-…").
		h.Hostname, h.Body = tok, strings.TrimPrefix(trimSpace(after), ": ")
		return
	}
	if !startsLikeTimestamp(h.Body) {
		return
	}
	var in Header
	in.Format = FormatRFC3164
	p.parse3164(&in, h.Body, received)
	if in.Time.IsZero() {
		return
	}
	h.Time, h.Body = in.Time, in.Body
	if in.Hostname != "" {
		h.Hostname = in.Hostname
	}
	if in.AppName != "" && h.AppName == "" {
		h.AppName, h.ProcID = in.AppName, in.ProcID
	}
	if !h.HasPriority && in.HasPriority {
		h.HasPriority, h.Priority = true, in.Priority
	}
}

// startsLikeTimestamp reports whether s starts with a month name and a
// space, or "YYYY-", cheaply.
func startsLikeTimestamp(s string) bool {
	if len(s) > 0 && (s[0] == '*' || s[0] == '.') {
		s = s[1:]
	}
	if len(s) < 15 {
		return false
	}
	if s[4] == '-' && s[0] >= '0' && s[0] <= '9' {
		return true
	}
	return s[3] == ' ' && monthOf(s[:3]) != 0
}

// skipSequence drops a leading EMBLEM/IOS sequence number "123: " or the
// empty ":" of "<166>:Mar 03 …".
func skipSequence(s string) string {
	i := 0
	for i < len(s) && i < 10 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == ':' && (i > 0 || len(s) > 1 && s[1] != ' ') {
		rest := trimSpace(s[i+1:])
		if startsLikeTimestamp(rest) {
			return rest
		}
	}
	return s
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// facilitySeverity reads a "FACILITY.SEVERITY" word (names as syslog(3)
// and Kiwi print them, any case, optionally followed by ':') at the start
// of s; when the line had no PRI it supplies one.
func (p *Parser) facilitySeverity(h *Header, s string) string {
	if len(s) < 5 || s[0]|0x20 < 'a' || s[0]|0x20 > 'z' {
		return s // not a name ("%ASA-…", a date, an address)
	}
	dot := strings.IndexByte(s[:min(len(s), 9)], '.')
	if dot < 2 {
		return s
	}
	end := dot + 1
	for end < len(s) && end-dot <= 14 && (s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z') {
		end++
	}
	fac, ok1 := facilityOf(s[:dot])
	sev, ok2 := severityOf(s[dot+1 : end])
	if !ok1 || !ok2 {
		return s
	}
	rest := s[end:]
	if strings.HasPrefix(rest, ":") {
		rest = rest[1:]
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return s
	}
	if !h.HasPriority {
		h.HasPriority, h.Priority = true, fac*8+sev
		if h.Format == FormatNone {
			h.Format = FormatRFC3164
		}
	}
	return trimSpace(rest)
}

var facilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "clock", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7"}

func facilityOf(s string) (uint8, bool) {
	for i, f := range facilities {
		if strings.EqualFold(s, f) {
			return uint8(i), true
		}
	}
	if strings.EqualFold(s, "audit") { // syslog-ng's name for 13
		return 13, true
	}
	return 0, false
}

var severities = [...][3]string{{"emerg", "emergency", "panic"}, {"alert", "", ""}, {"crit", "critical", ""},
	{"err", "error", ""}, {"warning", "warn", ""}, {"notice", "", ""}, {"info", "informational", "information"},
	{"debug", "", ""}}

func severityOf(s string) (uint8, bool) {
	if s == "" {
		return 0, false
	}
	for i, names := range severities {
		for _, n := range names {
			if n != "" && strings.EqualFold(s, n) {
				return uint8(i), true
			}
		}
	}
	return 0, false
}

// ciscoAfter reports whether what follows a token is " : %X", ": %X" or
// " %X": a Cisco message after a hostname.
func ciscoAfter(after string) bool {
	after = strings.TrimPrefix(after, " ")
	after = strings.TrimPrefix(after, ": ")
	after = strings.TrimPrefix(after, " ")
	return isCiscoBody(after)
}

// isToken reports whether s is up to 255 printable ASCII bytes.
func isToken(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isCiscoBody reports whether s starts like a Cisco message: "%ASA-".
func isCiscoBody(s string) bool {
	return len(s) > 1 && s[0] == '%' && s[1] >= 'A' && s[1] <= 'Z'
}

// token returns s up to the first space or end, the remainder starting
// at that space, and whether a token ending in a space or ": " was found.
func token(s string) (tok, rest string, ok bool) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		i = len(s)
	}
	if j := strings.IndexByte(s[:i], '\t'); j >= 0 {
		i = j
	}
	if i == 0 || i == len(s) {
		return "", s, false
	}
	tok, rest = s[:i], s[i:]
	if strings.HasSuffix(tok, ":") {
		// "host: %ASA" -> token "host", rest ": %ASA"
		return tok[:len(tok)-1], s[i-1:], len(tok) > 1
	}
	return tok, rest, true
}

// isHostname reports whether s can be a hostname or address: letters,
// digits, '.', '-', '_' and ':' (IPv6), at most 255 bytes, not a tag.
func isHostname(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return false
		}
	}
	return s[len(s)-1] != ':'
}

// parseTag reads "tag: ", "tag[pid]: " or "tag[pid] " at the start of s.
func parseTag(s string) (tag, pid, body string, ok bool) {
	n := 0
	for n < len(s) && n <= 48 {
		c := s[n]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/' {
			n++
			continue
		}
		break
	}
	if n == 0 || n > 48 || n >= len(s) {
		return "", "", s, false
	}
	tag, rest := s[:n], s[n:]
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", s, false
		}
		pid, rest = rest[1:end], rest[end+1:]
		if strings.HasPrefix(rest, ":") {
			rest = rest[1:]
		} else if !strings.HasPrefix(rest, " ") {
			return "", "", s, false
		}
	} else if rest[0] == ':' && (len(rest) == 1 || rest[1] == ' ') {
		rest = rest[1:]
	} else if rest[0] != ' ' || !strings.HasPrefix(rest, " {") && !isCiscoBody(rest[1:]) {
		// A tag without its colon is taken only before what cannot be a
		// tag's message otherwise: JSON (a relay writing "zeek {…}") or a
		// Cisco message.
		return "", "", s, false
	}
	return tag, pid, strings.TrimPrefix(rest, " "), true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// monthOf returns 1-12 for a month's abbreviation, 0 for anything else.
func monthOf(s string) int {
	for i, m := range months {
		if s == m {
			return i + 1
		}
	}
	return 0
}

// timestamp parses a timestamp at the start of s and returns the rest of s
// after it (and after a ':' that ends it).
func (p *Parser) timestamp(s string, received time.Time) (string, time.Time, bool) {
	if len(s) > 0 && (s[0] == '*' || s[0] == '.') {
		s = s[1:]
	}
	if len(s) >= 19 && s[4] == '-' && s[0] >= '0' && s[0] <= '9' {
		return p.rfc3339(s)
	}
	if len(s) < 15 {
		return s, time.Time{}, false
	}
	month := monthOf(s[:3])
	if month == 0 || s[3] != ' ' {
		return s, time.Time{}, false
	}
	i := 4
	if s[i] == ' ' { // "Apr  5"
		i++
	}
	day, i, ok := digits(s, i, 1, 2)
	if !ok || day < 1 || day > 31 || i >= len(s) || s[i] != ' ' {
		return s, time.Time{}, false
	}
	i++
	year := 0
	if y, j, ok := digits(s, i, 4, 4); ok && j < len(s) && s[j] == ' ' {
		year, i = y, j+1
	}
	hh, i, ok1 := digits(s, i, 2, 2)
	ok2 := i < len(s) && s[i] == ':'
	mm, i, ok3 := digits(s, i+1, 2, 2)
	ok4 := i < len(s) && s[i] == ':'
	ss, i, ok5 := digits(s, i+1, 2, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || hh > 23 || mm > 59 || ss > 60 {
		return s, time.Time{}, false
	}
	nsec := 0
	if i < len(s) && s[i] == '.' {
		nsec, i = fraction(s, i+1)
	}
	rest := s[i:]
	loc := p.loc
	// An optional zone name: " EDT" followed by ':' or ' ' or the end. A
	// name not known is still a zone name when a ':' ends it ("Mar 03
	// 10:15:22 NZDT: %ASA-…"), read in the configured location.
	if len(rest) > 1 && rest[0] == ' ' {
		j := 1
		for j < len(rest) && j <= 6 && rest[j] >= 'A' && rest[j] <= 'Z' {
			j++
		}
		if j > 1 && (j == len(rest) || rest[j] == ':' || rest[j] == ' ') {
			if z, ok := p.zones[rest[1:j]]; ok {
				loc, rest = z, rest[j:]
			} else if j > 2 && j < len(rest) && rest[j] == ':' {
				rest = rest[j:]
			}
		}
	}
	rest = strings.TrimPrefix(rest, ":")
	if year != 0 {
		return rest, time.Date(year, time.Month(month), day, hh, mm, ss, nsec, loc).UTC(), true
	}
	return rest, inferYear(month, day, hh, mm, ss, nsec, loc, received), true
}

// inferYear places a timestamp without a year in the year of received,
// or the year before or after when that is closer: a "Dec 31" line
// received on January 1st is from last year, a "Jan 1" line from a clock
// running ahead on December 31st is from next year.
func inferYear(month, day, hh, mm, ss, nsec int, loc *time.Location, received time.Time) time.Time {
	if received.IsZero() {
		received = time.Now()
	}
	y := received.In(loc).Year()
	t := time.Date(y, time.Month(month), day, hh, mm, ss, nsec, loc)
	switch d := t.Sub(received); {
	case d > 31*24*time.Hour:
		t = time.Date(y-1, time.Month(month), day, hh, mm, ss, nsec, loc)
	case d < -334*24*time.Hour:
		t = time.Date(y+1, time.Month(month), day, hh, mm, ss, nsec, loc)
	}
	return t.UTC()
}

// rfc3339 parses "2006-01-02T15:04:05[.frac][Z|±hh:mm]" up to the next
// space; without an offset the time is in the configured location.
func (p *Parser) rfc3339(s string) (string, time.Time, bool) {
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	ts := s[:end]
	rest := s[end:]
	if len(ts) > 0 && ts[len(ts)-1] == ':' { // "2026-...Z: body"
		ts = ts[:len(ts)-1]
	}
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		return rest, t.UTC(), true
	}
	for _, layout := range [...]string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if layout[10] == ' ' && len(s) >= 19 && s[10] == ' ' {
			ts, rest = s[:19], s[19:]
		}
		if t, err := time.ParseInLocation(layout, ts, p.loc); err == nil {
			return strings.TrimPrefix(rest, ":"), t.UTC(), true
		}
	}
	return s, time.Time{}, false
}

// digits reads between min and max decimal digits of s at i.
func digits(s string, i, min, max int) (v, next int, ok bool) {
	n := 0
	for i+n < len(s) && n < max && s[i+n] >= '0' && s[i+n] <= '9' {
		v = v*10 + int(s[i+n]-'0')
		n++
	}
	return v, i + n, n >= min
}

// fraction reads up to nine fractional digits (more are skipped) and
// returns nanoseconds.
func fraction(s string, i int) (int, int) {
	v, n := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if n < 9 {
			v = v*10 + int(s[i]-'0')
			n++
		}
		i++
	}
	for ; n < 9; n++ {
		v *= 10
	}
	return v, i
}
