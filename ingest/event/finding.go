package event

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/otsiem/otsiem/ingest/jsonlex"
)

// Severity ranks a finding: critical, high, medium, low or info.
type Severity string

// The finding severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: critical 4 … info 0, and -1 for anything else.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// Finding status: open while it can still grow or change, closed once final
// (a folding window passed, a diode recovered).
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Finding is what the correlator reports: a non-allowed verdict, folded
// with its repeats, or a stateful observation (diode health, scans, new
// communication pairs). A finding is published again whenever it changes;
// FindingID stays and Revision grows, so the latest revision of each
// FindingID is its current state. Field comments give the JSON key; unknown
// fields are absent from the JSON form.
type Finding struct {
	FindingID string    // finding_id: stable across updates and replays (32 hex digits)
	Revision  uint64    // revision: 1 for the first publication, +1 per update
	Time      time.Time // time: event time of this revision
	FirstSeen time.Time // first_seen: the first evidence
	LastSeen  time.Time // last_seen: the latest evidence
	Count     uint64    // count: events folded into the finding
	// Type is the verdict (violation, policy_drift, would_block, blocked,
	// false_block, unknown_zone) or the stateful type (scan, diode_down,
	// diode_degraded, new_pair, would_false_block).
	Type         string     // type
	Reason       string     // reason
	Severity     Severity   // severity
	Status       string     // status: open or closed
	Site         string     // site
	SrcIP        netip.Addr // src_ip
	SrcZone      string     // src_zone
	SrcAsset     string     // src_asset
	DstIP        netip.Addr // dst_ip
	DstZone      string     // dst_zone
	DstAsset     string     // dst_asset
	DstPort      Opt[uint16]
	Transport    string // transport
	AppProtocol  string // app_protocol
	FunctionCode Opt[int32]
	Conduit      string // conduit
	Device       string // device: the reporting device
	Mode         string // mode: the device's mode (monitor, enforce), "" for sensors
	Rule         string // rule: the conduit rule (e.g. C1-BPCS-OPS#2), else the device's rule
	DiodeID      string // diode_id
	Summary      string // summary: one sentence a SOC analyst can act on
	EventIDs     []ID   // event_ids: the first events (bounded)
	Attrs        []Attr // attrs: details by type (distinct_ports, seq_gaps, …)
}

// AppendJSON appends the finding as one JSON object (no newline) to dst.
func (f *Finding) AppendJSON(dst []byte) []byte {
	o := &jsonObject{dst: append(dst, '{')}
	o.str("finding_id", f.FindingID)
	if f.Revision > 0 {
		o.key("revision")
		o.dst = strconv.AppendUint(o.dst, f.Revision, 10)
	}
	o.time("time", f.Time)
	o.time("first_seen", f.FirstSeen)
	o.time("last_seen", f.LastSeen)
	o.key("count")
	o.dst = strconv.AppendUint(o.dst, f.Count, 10)
	o.str("type", f.Type)
	o.str("reason", f.Reason)
	o.str("severity", string(f.Severity))
	o.str("status", f.Status)
	o.str("site", f.Site)
	o.addr("src_ip", f.SrcIP)
	o.str("src_zone", f.SrcZone)
	o.str("src_asset", f.SrcAsset)
	o.addr("dst_ip", f.DstIP)
	o.str("dst_zone", f.DstZone)
	o.str("dst_asset", f.DstAsset)
	o.uint("dst_port", uint64(f.DstPort.V), f.DstPort.OK)
	o.str("transport", f.Transport)
	o.str("app_protocol", f.AppProtocol)
	o.int("function_code", int64(f.FunctionCode.V), f.FunctionCode.OK)
	o.str("conduit", f.Conduit)
	o.str("device", f.Device)
	o.str("mode", f.Mode)
	o.str("rule", f.Rule)
	o.str("diode_id", f.DiodeID)
	o.str("summary", f.Summary)
	o.key("event_ids")
	o.dst = append(o.dst, '[')
	for i, id := range f.EventIDs {
		if i > 0 {
			o.dst = append(o.dst, ',')
		}
		o.dst = append(o.dst, '"')
		o.dst = appendHex(o.dst, id[:])
		o.dst = append(o.dst, '"')
	}
	o.dst = append(o.dst, ']')
	o.attrs("attrs", f.Attrs)
	return append(o.dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (f Finding) MarshalJSON() ([]byte, error) { return f.AppendJSON(make([]byte, 0, 512)), nil }

// Attr returns the value of the first attribute named key.
func (f *Finding) Attr(key string) (string, bool) { return getAttr(f.Attrs, key) }

// SetAttr appends an attribute, or replaces the value of an existing one.
func (f *Finding) SetAttr(key, value string) { setAttr(&f.Attrs, key, value) }

// DecodeFinding parses one JSON object written by AppendJSON (or any
// producer using the same keys) into f, which it resets first. Unknown keys
// are skipped and null means unknown. Strings without escapes share the
// memory of one copy of b.
func DecodeFinding(b []byte, f *Finding) error {
	*f = Finding{}
	d := decoder{Lexer: jsonlex.New(string(b))}
	if err := d.finding(f); err != nil {
		return fmt.Errorf("finding: %w", err)
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("finding: %w", err)
	}
	return nil
}

func (d *decoder) finding(f *Finding) error {
	return d.Members(func(k string) error {
		if d.Null() {
			return nil
		}
		var err error
		switch k {
		case "finding_id":
			f.FindingID, err = d.Str()
		case "revision":
			f.Revision, err = d.Uint(1<<64 - 1)
		case "time":
			f.Time, err = d.time()
		case "first_seen":
			f.FirstSeen, err = d.time()
		case "last_seen":
			f.LastSeen, err = d.time()
		case "count":
			f.Count, err = d.Uint(1<<64 - 1)
		case "type":
			f.Type, err = d.Str()
		case "reason":
			f.Reason, err = d.Str()
		case "severity":
			var s string
			s, err = d.Str()
			f.Severity = Severity(s)
		case "status":
			f.Status, err = d.Str()
		case "site":
			f.Site, err = d.Str()
		case "src_ip":
			f.SrcIP, err = d.addr()
		case "src_zone":
			f.SrcZone, err = d.Str()
		case "src_asset":
			f.SrcAsset, err = d.Str()
		case "dst_ip":
			f.DstIP, err = d.addr()
		case "dst_zone":
			f.DstZone, err = d.Str()
		case "dst_asset":
			f.DstAsset, err = d.Str()
		case "dst_port":
			f.DstPort, err = unumber[uint16](d, 65535)
		case "transport":
			f.Transport, err = d.Str()
		case "app_protocol":
			f.AppProtocol, err = d.Str()
		case "function_code":
			var v int64
			if v, err = d.Int(32); err == nil {
				f.FunctionCode = Some(int32(v))
			}
		case "conduit":
			f.Conduit, err = d.Str()
		case "device":
			f.Device, err = d.Str()
		case "mode":
			f.Mode, err = d.Str()
		case "rule":
			f.Rule, err = d.Str()
		case "diode_id":
			f.DiodeID, err = d.Str()
		case "summary":
			f.Summary, err = d.Str()
		case "event_ids":
			err = d.Elements(func() error {
				s, err := d.Str()
				if err == nil {
					var id ID
					id, err = ParseID(s)
					f.EventIDs = append(f.EventIDs, id)
				}
				return err
			})
		case "attrs":
			f.Attrs, err = d.attrs(f.Attrs)
		default:
			err = d.Skip()
		}
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		return nil
	})
}

// UnmarshalJSON implements json.Unmarshaler with DecodeFinding.
func (f *Finding) UnmarshalJSON(b []byte) error { return DecodeFinding(b, f) }
