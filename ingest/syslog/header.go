// Package syslog splits a received line into its syslog header and body.
//
// It takes what real devices send, not only what the RFCs allow: RFC 5424
// (parsed with github.com/leodido/go-syslog/v4), RFC 3164 with its
// variants (Cisco ASA/FTD timestamps with a year, fractions and a timezone
// name, "host : " device ids, no timestamp or no hostname at all, RFC 3339
// timestamps, EMBLEM's "<PRI>seq:" and IOS sequence numbers), what relays
// add (a "FACILITY.SEVERITY:" word, a second header with the device's own
// timestamp and hostname behind the relay's), FortiGate's header-less
// key=value after a PRI or none, a UTF-8 BOM, and lines with no syslog
// header at all. The common RFC 3164
// forms go through a hand-written fast path that does not allocate; Parse
// never fails: what is not a header is body.
package syslog

import (
	"strings"
	"sync"
	"time"

	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// Format is the header form a line had.
type Format uint8

// The header forms.
const (
	FormatNone    Format = iota // no syslog header: the whole line is the body
	FormatRFC3164               // <PRI> and/or a BSD or Cisco style header
	FormatRFC5424               // <PRI>VERSION TIMESTAMP HOSTNAME APP PROCID MSGID SD MSG
)

func (f Format) String() string {
	switch f {
	case FormatRFC3164:
		return "rfc3164"
	case FormatRFC5424:
		return "rfc5424"
	}
	return "none"
}

// Header is the parsed syslog header of one line. Its strings share the
// memory of the parsed line, except RFC 5424 fields.
type Header struct {
	Format      Format
	HasPriority bool  // whether the line had a <PRI>
	Priority    uint8 // facility*8 + severity, when HasPriority
	// Time is the timestamp of the header in UTC, zero when there was none.
	Time     time.Time
	Hostname string // the sending device's name, "" when absent
	AppName  string // RFC 3164 TAG or RFC 5424 APP-NAME
	ProcID   string // the [pid] of a TAG or RFC 5424 PROCID
	MsgID    string // RFC 5424 MSGID
	// StructuredData holds RFC 5424 SD-ELEMENTs by SD-ID.
	StructuredData map[string]map[string]string
	// Body is the message after the header, without a leading BOM and
	// without trailing CR, LF or NUL bytes.
	Body string
	// Location is the listener's timezone (Config.Location, never nil),
	// for decoders reading timestamps in the body that carry no offset.
	Location *time.Location
}

// Severity returns the syslog severity (0-7) and whether there was a PRI.
func (h *Header) Severity() (uint8, bool) { return h.Priority & 7, h.HasPriority }

// Facility returns the syslog facility (0-23) and whether there was a PRI.
func (h *Header) Facility() (uint8, bool) { return h.Priority >> 3, h.HasPriority }

// Config is how one listener reads headers.
type Config struct {
	// Location is the timezone of timestamps that carry no offset and no
	// known zone name. Nil means UTC.
	Location *time.Location
	// Zones adds or overrides timezone names (as Cisco devices print them,
	// e.g. "EDT") with their location. Names not found here or in the
	// built-in table of common North American and European abbreviations
	// are read in Location.
	Zones map[string]*time.Location
}

// Parser parses headers with one Config. It is safe for concurrent use.
type Parser struct {
	loc   *time.Location
	zones map[string]*time.Location
}

// NewParser returns a Parser for cfg.
func NewParser(cfg Config) *Parser {
	p := &Parser{loc: cfg.Location, zones: make(map[string]*time.Location, len(knownZones)+len(cfg.Zones))}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for name, off := range knownZones {
		p.zones[name] = time.FixedZone(name, off)
	}
	for name, loc := range cfg.Zones {
		p.zones[name] = loc
	}
	return p
}

const bom = "\xef\xbb\xbf"

// Parse splits line into header and body. received is when the line
// arrived: it supplies the year that RFC 3164 timestamps lack (a December
// timestamp received in January belongs to the year before).
func (p *Parser) Parse(line string, received time.Time) Header {
	h := Header{Location: p.loc}
	s := strings.TrimPrefix(line, bom)
	s = trimEnd(s)
	if pri, n, ok := parsePRI(s); ok {
		h.HasPriority, h.Priority = true, pri
		s = s[n:]
		h.Format = FormatRFC3164
		if isVersion(s) && p.parse5424(&h, line) {
			rejoinTag(&h)
			p.inner(&h, received)
			return h
		}
	}
	p.parse3164(&h, s, received)
	if h.Body == "" {
		h.Body = s
	}
	h.Body = strings.TrimPrefix(h.Body, bom)
	p.inner(&h, received)
	return h
}

func trimEnd(s string) string {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case '\n', '\r', 0:
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

// parsePRI reads "<N>" with N in 0..191 and returns it and its length.
func parsePRI(s string) (uint8, int, bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, 0, false
	}
	v := 0
	for i := 1; i < len(s) && i <= 4; i++ {
		c := s[i]
		if c == '>' {
			if i == 1 || v > 191 || (s[1] == '0' && i > 2) {
				return 0, 0, false
			}
			return uint8(v), i + 1, true
		}
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		v = v*10 + int(c-'0')
	}
	return 0, 0, false
}

// isVersion reports whether s starts with an RFC 5424 VERSION and a space.
func isVersion(s string) bool {
	i := 0
	for i < len(s) && i < 3 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && s[0] != '0' && i < len(s) && s[i] == ' '
}

// rfc5424Parsers holds RFC 5424 machines, which keep state while parsing.
var rfc5424Parsers = sync.Pool{New: func() any { return rfc5424.NewParser(rfc5424.WithBestEffort()) }}

// parse5424 parses line with the RFC 5424 parser and reports whether it
// got at least a timestamp or hostname.
func (p *Parser) parse5424(h *Header, line string) bool {
	mach := rfc5424Parsers.Get().(syslog.Machine)
	m, _ := mach.Parse([]byte(line))
	rfc5424Parsers.Put(mach)
	sm, ok := m.(*rfc5424.SyslogMessage)
	if !ok || sm == nil || (sm.Timestamp == nil && sm.Hostname == nil) {
		return false
	}
	h.Format = FormatRFC5424
	if sm.Timestamp != nil {
		h.Time = sm.Timestamp.UTC()
	}
	h.Hostname = deref(sm.Hostname)
	h.AppName = deref(sm.Appname)
	h.ProcID = deref(sm.ProcID)
	h.MsgID = deref(sm.MsgID)
	if sm.StructuredData != nil {
		h.StructuredData = *sm.StructuredData
	}
	h.Body = strings.TrimLeft(strings.TrimPrefix(trimEnd(deref(sm.Message)), bom), " ")
	return true
}

// rejoinTag undoes what a relay does to a line it read as RFC 3164 and
// re-sent as RFC 5424 (rsyslog's RSYSLOG_SyslogProtocol23Format): it takes
// the message's first word for the APP-NAME ("<164>1 … host %ASA-4-106023
// - - - Deny tcp …", "… host Mar - - - 03 2026 10:15:28 EST: %ASA-…", "…
// host date=2026-03-03 - - - time=…"). With no PROCID, MSGID or structured
// data and an APP-NAME that is a Cisco tag, a month (a device's own
// timestamp follows) or a key=value pair, the word goes back to the body;
// before ": %ASA-…" it was the device's id.
func rejoinTag(h *Header) {
	a := h.AppName
	if a == "" || h.ProcID != "" || h.MsgID != "" || len(h.StructuredData) > 0 {
		return
	}
	switch {
	case isCiscoBody(a) || strings.IndexByte(a, '=') > 0 || monthOf(a) != 0 && startsLikeTimestamp(a+" "+h.Body):
		h.Body, h.AppName = a+" "+h.Body, ""
	case strings.HasPrefix(h.Body, ": ") && isCiscoBody(h.Body[2:]):
		// "… relay fw#1 - - - : %ASA-…": the word was the device's id.
		h.Hostname, h.AppName, h.Body = a, "", h.Body[2:]
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
