package event

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"time"
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

// findingJSON is the decoding shape of a Finding. Findings are few next to
// events, so encoding/json is fast enough here.
type findingJSON struct {
	FindingID    string          `json:"finding_id"`
	Revision     uint64          `json:"revision"`
	Time         time.Time       `json:"time"`
	FirstSeen    time.Time       `json:"first_seen"`
	LastSeen     time.Time       `json:"last_seen"`
	Count        uint64          `json:"count"`
	Type         string          `json:"type"`
	Reason       string          `json:"reason"`
	Severity     Severity        `json:"severity"`
	Status       string          `json:"status"`
	Site         string          `json:"site"`
	SrcIP        *netip.Addr     `json:"src_ip"`
	SrcZone      string          `json:"src_zone"`
	SrcAsset     string          `json:"src_asset"`
	DstIP        *netip.Addr     `json:"dst_ip"`
	DstZone      string          `json:"dst_zone"`
	DstAsset     string          `json:"dst_asset"`
	DstPort      *uint16         `json:"dst_port"`
	Transport    string          `json:"transport"`
	AppProtocol  string          `json:"app_protocol"`
	FunctionCode *int32          `json:"function_code"`
	Conduit      string          `json:"conduit"`
	Device       string          `json:"device"`
	Mode         string          `json:"mode"`
	Rule         string          `json:"rule"`
	DiodeID      string          `json:"diode_id"`
	Summary      string          `json:"summary"`
	EventIDs     []string        `json:"event_ids"`
	Attrs        json.RawMessage `json:"attrs"`
}

// DecodeFinding parses one JSON object written by AppendJSON into f.
func DecodeFinding(b []byte, f *Finding) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("finding: %w", err)
	}
	*f = Finding{FindingID: j.FindingID, Revision: j.Revision, Time: j.Time, FirstSeen: j.FirstSeen,
		LastSeen: j.LastSeen, Count: j.Count, Type: j.Type, Reason: j.Reason, Severity: j.Severity,
		Status: j.Status, Site: j.Site, SrcZone: j.SrcZone, SrcAsset: j.SrcAsset, DstZone: j.DstZone,
		DstAsset: j.DstAsset, Transport: j.Transport, AppProtocol: j.AppProtocol, Conduit: j.Conduit,
		Device: j.Device, Mode: j.Mode, Rule: j.Rule, DiodeID: j.DiodeID, Summary: j.Summary}
	if j.SrcIP != nil {
		f.SrcIP = *j.SrcIP
	}
	if j.DstIP != nil {
		f.DstIP = *j.DstIP
	}
	if j.DstPort != nil {
		f.DstPort = Some(*j.DstPort)
	}
	if j.FunctionCode != nil {
		f.FunctionCode = Some(*j.FunctionCode)
	}
	for _, s := range j.EventIDs {
		id, err := ParseID(s)
		if err != nil {
			return fmt.Errorf("finding: event_ids: %w", err)
		}
		f.EventIDs = append(f.EventIDs, id)
	}
	if len(j.Attrs) > 0 && string(j.Attrs) != "null" {
		// Attrs keep their order, so walk the object rather than use a map.
		d := scanner{s: string(j.Attrs)}
		err := d.members(func(k string) error {
			v, err := d.str()
			f.Attrs = append(f.Attrs, Attr{k, v})
			return err
		})
		if err != nil {
			return fmt.Errorf("finding: attrs: %w", err)
		}
	}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler with DecodeFinding.
func (f *Finding) UnmarshalJSON(b []byte) error { return DecodeFinding(b, f) }
