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
	"SGT": 8 * 3600, "HKT": 8 * 3600,
}

// parse3164 reads the RFC 3164 family from s (after any PRI):
//
//	[TIMESTAMP[:]] [HOSTNAME[ :]] [TAG[[PID]]:] BODY
//
// where TIMESTAMP is "Mmm dd hh:mm:ss", optionally with a year after the
// day, a fraction, a timezone name and a leading '*' or '.' (Cisco's
// unsynchronized clock marks), or an RFC 3339 timestamp. Without a
// timestamp a hostname is taken only in Cisco's "host : " form, so that
// header-less bodies (FortiGate key=value, PAN-OS CSV) stay whole.
func (p *Parser) parse3164(h *Header, s string, received time.Time) {
	rest, t, ok := p.timestamp(s, received)
	if ok {
		if h.Format == FormatNone {
			h.Format = FormatRFC3164
		}
		h.Time = t
		s = rest
	}
	s = strings.TrimLeft(s, " ")
	// HOSTNAME
	if tok, after, found := token(s); found && isHostname(tok) {
		switch {
		case strings.HasPrefix(after, " : "):
			h.Hostname, s = tok, after[3:]
		case strings.HasPrefix(after, ": ") && ok && isCiscoBody(after[2:]):
			// "Apr 15 2013 09:36:50 isa3000-c1: %ASA-..."
			h.Hostname, s = tok, after[2:]
		case ok && strings.HasPrefix(after, " "):
			h.Hostname, s = tok, after[1:]
		}
		if h.Hostname != "" && h.Format == FormatNone {
			h.Format = FormatRFC3164
		}
	}
	s = strings.TrimLeft(s, " ")
	// TAG[PID]:
	if ok || h.Hostname != "" {
		if tag, pid, body, found := parseTag(s); found {
			h.AppName, h.ProcID, s = tag, pid, body
		}
	}
	h.Body = s
}

// isCiscoBody reports whether s starts like a Cisco message: "%ASA-".
func isCiscoBody(s string) bool {
	return len(s) > 1 && s[0] == '%' && s[1] >= 'A' && s[1] <= 'Z'
}

// token returns s up to the first space or end, the remainder starting
// at that space, and whether a token ending in a space or ": " was found.
func token(s string) (tok, rest string, ok bool) {
	i := strings.IndexByte(s, ' ')
	if i <= 0 {
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
	} else {
		return "", "", s, false
	}
	return tag, pid, strings.TrimPrefix(rest, " "), true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

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
	month := 0
	for i, m := range months {
		if s[:3] == m {
			month = i + 1
			break
		}
	}
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
	// An optional zone name: " EDT" followed by ':' or ' ' or the end.
	if len(rest) > 1 && rest[0] == ' ' {
		j := 1
		for j < len(rest) && j <= 6 && rest[j] >= 'A' && rest[j] <= 'Z' {
			j++
		}
		if j > 1 && (j == len(rest) || rest[j] == ':' || rest[j] == ' ') {
			if z, ok := p.zones[rest[1:j]]; ok {
				loc, rest = z, rest[j:]
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
