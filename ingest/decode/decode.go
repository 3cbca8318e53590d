// Package decode turns syslog lines into normalized events: a Decoder per
// vendor format, a Registry of decoders by name with detection by content,
// and the Parser that runs header parsing, detection and decoding for one
// line. Anything no decoder understands becomes one raw event; nothing is
// dropped. Vendor decoders live in subpackages and register themselves in
// Default; import ingest/decode/all to get every one.
package decode

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/ingest/syslog"
)

// Decoder decodes one vendor's log format.
type Decoder interface {
	// Name is the decoder's registry name, e.g. "asa".
	Name() string
	// Detect reports whether the line is in this decoder's format. It is
	// called for every line until one decoder claims it, so it must be
	// cheap and should look at the body's first bytes.
	Detect(h *syslog.Header) bool
	// Decode fills ev from the line. ev already holds the fields every
	// line has (message, received_at, device, device_ip, time and
	// severity from the header), which Decode may refine. Strings it sets
	// should be substrings of h.Body or constants. On error the Parser
	// turns the event into a raw one.
	Decode(h *syslog.Header, ev *event.Event) error
}

// Registry holds decoders by name. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]Decoder
	order  []Decoder // by name, for a deterministic detection order
}

// Default is the registry vendor packages register into from init.
var Default = &Registry{}

// Register adds d to Default.
func Register(d Decoder) { Default.Register(d) }

// Register adds d; it panics if the name is taken, a programming error.
func (r *Registry) Register(d Decoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byName = map[string]Decoder{}
	}
	if _, dup := r.byName[d.Name()]; dup {
		panic("decode: decoder " + d.Name() + " registered twice")
	}
	r.byName[d.Name()] = d
	r.order = append(r.order, d)
	slices.SortFunc(r.order, func(a, b Decoder) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
}

// Lookup returns the decoder named name.
func (r *Registry) Lookup(name string) (Decoder, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.byName[name]
	return d, ok
}

// Names returns the registered names in order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, len(r.order))
	for i, d := range r.order {
		names[i] = d.Name()
	}
	return names
}

// Detect returns the first decoder, by name, that claims the line, or nil.
func (r *Registry) Detect(h *syslog.Header) Decoder {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, d := range r.order {
		if d.Detect(h) {
			return d
		}
	}
	return nil
}

// ErrUnrecognized is the parse error of lines no decoder claims.
var ErrUnrecognized = errors.New("no decoder recognized the line")

// Parser turns lines into events: syslog header, then the forced decoder
// or the first registered one that detects the line, else a raw event.
// It is safe for concurrent use.
type Parser struct {
	Header   *syslog.Parser // nil means syslog.NewParser(syslog.Config{})
	Registry *Registry      // nil means Default
	Decoder  Decoder        // when set, every line goes to it: no detection
	Site     string         // copied into every event
	// MaxPast and MaxAhead bound a plausible event time around the receive
	// time; zero means DefaultMaxPast and DefaultMaxAhead. See Plausible.
	MaxPast, MaxAhead time.Duration
}

// The default bounds of a plausible event time: a device may send what it
// buffered during a long outage, but not from more than a year ago, and its
// clock may run ahead by a timezone error, but not by more than a day.
const (
	DefaultMaxPast  = 366 * 24 * time.Hour
	DefaultMaxAhead = 24 * time.Hour
)

var defaultHeader = syslog.NewParser(syslog.Config{})

// Parse fills ev (reset first) from one line received from sender at
// received. It always yields an event: lines that fail to decode, and
// decoders that panic, give a raw event with ParseError set. ev.ID is
// event.NewID(sender, device, received, line). An event whose line carries
// no time gets the receive time, with TimeSource "received".
func (p *Parser) Parse(line []byte, sender netip.Addr, received time.Time, ev *event.Event) {
	ev.Reset()
	msg := string(line)
	hp := p.Header
	if hp == nil {
		hp = defaultHeader
	}
	h := hp.Parse(msg, received)
	common(ev, &h, msg, sender, received, p.Site)
	repeats, inner, wrapped := unwrapRepeat(h.Body)
	if wrapped {
		h.Body = inner
	}
	defer func() {
		if repeats != "" {
			ev.SetAttr(AttrRepeatCount, repeats)
		}
		// The event time is final here: what the header or the body gave,
		// else the receive time, marked as such.
		ev.DefaultTime()
	}()
	if !wrapped && repeats != "" {
		// "last message repeated N times": a relay's note, not traffic.
		ev.Kind, ev.MessageID = event.KindSystem, "repeated"
		ev.ID = event.NewID(sender, ev.Device, received, line)
		return
	}
	d := p.Decoder
	if d == nil {
		reg := p.Registry
		if reg == nil {
			reg = Default
		}
		d = reg.Detect(&h)
	}
	var err error
	if d == nil {
		err = ErrUnrecognized
	} else if err = safeDecode(d, &h, ev); err == nil {
		if err = Complete(ev); err != nil {
			err = fmt.Errorf("%s: %w", d.Name(), err)
		}
	}
	if err != nil {
		attrs := ev.Attrs[:0]
		*ev = event.Event{Attrs: attrs}
		common(ev, &h, msg, sender, received, p.Site)
		ev.Kind = event.KindRaw
		ev.ParseError = err.Error()
	}
	p.plausibleTime(ev, received)
	ev.ID = event.NewID(sender, ev.Device, received, line)
}

// Plausible reports whether t can be the time a device logged an event
// received at received: not zero, not more than maxPast before it (a
// clock reset to 1970 or to its firmware's date, a millisecond count read
// as seconds) and not more than maxAhead after it (a clock years ahead).
func Plausible(t, received time.Time, maxPast, maxAhead time.Duration) bool {
	return !t.IsZero() && !t.Before(received.Add(-maxPast)) && !t.After(received.Add(maxAhead))
}

// plausibleTime replaces an implausible device time by the receive time,
// keeping what the device said in event.AttrDeviceTime. A zero time (no time in
// the line at all) is left for the pipeline to fill.
func (p *Parser) plausibleTime(ev *event.Event, received time.Time) {
	if ev.Time.IsZero() || received.IsZero() {
		return
	}
	past, ahead := p.MaxPast, p.MaxAhead
	if past == 0 {
		past = DefaultMaxPast
	}
	if ahead == 0 {
		ahead = DefaultMaxAhead
	}
	if Plausible(ev.Time, received, past, ahead) {
		return
	}
	var buf [40]byte
	ev.SetAttr(event.AttrDeviceTime, string(deviceTime(buf[:0], ev.Time)))
	ev.Time, ev.TimeSource = received.UTC(), event.TimeReceived
}

// deviceTime writes t in RFC 3339, or as seconds since the epoch when its
// year has no RFC 3339 form.
func deviceTime(dst []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return strconv.AppendInt(dst, t.Unix(), 10)
	}
	return t.UTC().AppendFormat(dst, time.RFC3339Nano)
}

// Errors of events that lack what their kind requires.
var (
	ErrNoSource      = errors.New("no source address")
	ErrNoDestination = errors.New("no destination address")
)

// Complete checks that an event has what its kind requires: a flow, dpi or
// alert event names both endpoints, by address or (event.AttrSrcHost,
// event.AttrDstHost) by host name. An event that lacks one is a decode error,
// never a silent success: it would be judged by nothing.
func Complete(ev *event.Event) error {
	switch ev.Kind {
	case event.KindFlow, event.KindDPI, event.KindAlert:
	default:
		return nil
	}
	if !ev.SrcIP.IsValid() && !hasAttr(ev, event.AttrSrcHost) {
		return fmt.Errorf("%s event: %w", ev.Kind, ErrNoSource)
	}
	if !ev.DstIP.IsValid() && !hasAttr(ev, event.AttrDstHost) {
		return fmt.Errorf("%s event: %w", ev.Kind, ErrNoDestination)
	}
	return nil
}

func hasAttr(ev *event.Event, key string) bool {
	_, ok := ev.Attr(key)
	return ok
}

// AttrRepeatCount holds N of a relay's "message repeated N times".
const AttrRepeatCount = "repeat_count"

// unwrapRepeat reads the repeat notes syslog relays write: rsyslog's
// "message repeated N times: [ MSG]" wraps the repeated message, which is
// decoded as usual with its count; "last message repeated N times" (BSD
// syslogd) carries none.
func unwrapRepeat(body string) (count, inner string, wrapped bool) {
	rest, ok := strings.CutPrefix(body, "message repeated ")
	if !ok {
		if rest, ok = strings.CutPrefix(body, "last message repeated "); !ok {
			return "", "", false
		}
		n, tail, _ := strings.Cut(rest, " ")
		if isDigits(n) && strings.HasPrefix(tail, "time") {
			return n, "", false
		}
		return "", "", false
	}
	n, tail, _ := strings.Cut(rest, " ")
	tail, ok = strings.CutPrefix(tail, "times: [")
	if !ok || !isDigits(n) {
		return "", "", false
	}
	tail = strings.TrimSuffix(strings.TrimRight(tail, " "), "]")
	return n, strings.TrimSpace(tail), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// common sets the fields every event has, from the header.
func common(ev *event.Event, h *syslog.Header, msg string, sender netip.Addr, received time.Time, site string) {
	ev.Message = msg
	ev.ReceivedAt = received
	ev.DeviceIP = sender
	ev.Site = site
	ev.Time = h.Time
	ev.Device = h.Hostname
	if sev, ok := h.Severity(); ok {
		ev.Severity = event.Some(sev)
	}
}

func safeDecode(d Decoder, h *syslog.Header, ev *event.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: decoder panic: %v", d.Name(), r)
		}
	}()
	if err := d.Decode(h, ev); err != nil {
		return fmt.Errorf("%s: %w", d.Name(), err)
	}
	return nil
}

// Raw is the decoder that decodes nothing: every line becomes a raw event
// with ParseError "raw decoder". It never detects a line; configure it on
// a listener whose lines should be kept as they are.
type Raw struct{}

// Name returns "raw".
func (Raw) Name() string { return "raw" }

// Detect returns false.
func (Raw) Detect(*syslog.Header) bool { return false }

// Decode returns an error, so the Parser makes the event raw.
func (Raw) Decode(*syslog.Header, *event.Event) error { return errRawDecoder }

var errRawDecoder = errors.New("kept raw by configuration")

func init() { Register(Raw{}) }
