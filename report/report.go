// Package report builds the IEC 62443 zone implementation report for a
// period from the declared model (rules.Model) and the stored evidence
// (storage's named queries), and writes it as text (the seed's "Output
// Format" line for line, then the evidence it lacks), Markdown,
// self-contained HTML with SVG charts, PDF and JSON.
//
// Every figure comes from one named query in storage (queries_report.go)
// or from the model; the README's "Compliance reports" section says which
// observation supports which IEC 62443-3-3 requirement and what a
// log-based tool cannot prove.
package report

import (
	"net"
	"time"
)

// Report is one period's report. Its JSON form is the "json" format.
type Report struct {
	Title              string       `json:"title"`
	Facility           string       `json:"facility"`
	ImplementationDate string       `json:"implementation_date"` // the zone document's assessment_date
	Standard           string       `json:"standard"`
	Model              ModelVersion `json:"model"`
	Period             Period       `json:"period"`
	GeneratedAt        time.Time    `json:"generated_at"`
	Version            string       `json:"otsiem_version"`
	// Events counts every event stored in the period, of any kind; 0 makes
	// the period empty, which every format says plainly.
	Events       uint64        `json:"events"`
	Empty        bool          `json:"empty"`
	Zones        []Zone        `json:"zones"`
	Conduits     []Conduit     `json:"conduits"`
	Validation   Validation    `json:"validation"`
	Evidence     Evidence      `json:"evidence"`
	Requirements []Requirement `json:"iec62443_3_3"`
}

// ModelVersion names the model the period was judged by (rules.Model.Hash).
type ModelVersion struct {
	Hash  string `json:"hash"`
	Short string `json:"short"`
}

// Period is the half-open interval [From, To) the report covers, in UTC;
// Days is the number of calendar days (UTC) it touches.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Days int       `json:"days"`
}

// Zone is one zone of the architecture as declared, with the controls
// the model declares on it.
type Zone struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	SLT       *int     `json:"sl_t"` // security level target 0-4; null when the document gives none
	Purdue    string   `json:"purdue_level"`
	Assets    int      `json:"assets"` // inventoried assets in the zone
	Conduits  []string `json:"conduits"`
	AirGapped bool     `json:"air_gapped"`
	Controls  []string `json:"controls"`
}

// Conduit is one conduit as declared, with what the period showed on it.
type Conduit struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Zones     []string   `json:"zones"`
	Protocols []Protocol `json:"protocols"`
	// AllowRules and DenyRules are the distinct firewall rules or
	// policies the model's firewalls logged permitting and denying on the
	// conduit (query conduit_enforcement).
	AllowRules uint64 `json:"firewall_rules_allow"`
	DenyRules  uint64 `json:"firewall_rules_deny"`
	// DPI is whether function-level events (a protocol function name or
	// code) were observed on the conduit, and from which devices.
	DPI        bool     `json:"dpi_enabled"`
	DPIEvents  uint64   `json:"dpi_events"`
	DPIDevices []string `json:"dpi_devices"`
	// Period totals (query conduit_traffic).
	Events         uint64 `json:"events"`
	Allowed        uint64 `json:"allowed"`
	PolicyBreaking uint64 `json:"policy_breaking"`
	Blocked        uint64 `json:"blocked"`
	FalseBlock     uint64 `json:"false_block"`
}

// Protocol is one allowed protocol of a conduit as the document states it.
type Protocol struct {
	Protocol  string `json:"protocol"`
	Ports     string `json:"ports"`
	Direction string `json:"direction"`
}

// Validation is the seed's VALIDATION RESULTS, computed from the period's
// logs.
type Validation struct {
	// CrossZone: each distinct cross-zone flow is a test; it passes when
	// all its events were allowed or blocked (query cross_zone_tests).
	CrossZone CrossZoneTests `json:"cross_zone_tests"`
	// Prohibited: traffic the design forbids, all of it blocked or not
	// (query path_outcomes).
	Prohibited Prohibited `json:"prohibited_paths"`
	// Functions: write attempts over function-restricted (read-only)
	// conduit rules (reason function_not_permitted).
	Functions FunctionFiltering `json:"protocol_enforcement"`
}

// CrossZoneTests counts passed and failed cross-zone flows and their events.
type CrossZoneTests struct {
	Passed       uint64 `json:"passed" ch:"passed"`
	Failed       uint64 `json:"failed" ch:"failed_flows"`
	PassedEvents uint64 `json:"passed_events" ch:"passed_events"`
	FailedEvents uint64 `json:"failed_events" ch:"failed_events"`
}

// Prohibited is the outcome of traffic the design forbids.
type Prohibited struct {
	Attempts   uint64 `json:"attempts"` // events the design forbids: blocked plus policy-breaking
	Blocked    uint64 `json:"blocked"`
	AllBlocked bool   `json:"all_blocked"`
	// Exceptions are the policy-breaking paths, most events first.
	Exceptions []Path `json:"exceptions"`
}

// Function filtering outcomes.
const (
	FunctionsVerified     = "verified"      // attempts were blocked, none got through
	FunctionsFailed       = "failed"        // an attempt got through
	FunctionsNotExercised = "not_exercised" // no attempt in the period
)

// FunctionFiltering is whether function-code filtering held in the period.
type FunctionFiltering struct {
	Status     string `json:"status"`
	Blocked    uint64 `json:"blocked"`
	Passed     uint64 `json:"passed"`
	Exceptions []Path `json:"exceptions"`
}

// Path is one cross-zone path's outcome (a row of query path_outcomes).
type Path struct {
	SrcZone        string    `json:"src_zone" ch:"src_zone"`
	DstZone        string    `json:"dst_zone" ch:"dst_zone"`
	Conduit        string    `json:"conduit" ch:"conduit"`
	Verdict        string    `json:"verdict" ch:"verdict"`
	Reason         string    `json:"reason" ch:"reason"`
	Transport      string    `json:"transport" ch:"transport"`
	Port           uint16    `json:"dst_port" ch:"dst_port"`
	AppProtocol    string    `json:"app_protocol" ch:"app_protocol"`
	Function       string    `json:"function" ch:"function"`
	PolicyBreaking bool      `json:"policy_breaking" ch:"policy_breaking"`
	Events         uint64    `json:"events" ch:"events"`
	Sources        uint64    `json:"sources" ch:"sources"`
	Destinations   uint64    `json:"destinations" ch:"destinations"`
	FirstSeen      time.Time `json:"first_seen" ch:"first_seen"`
	LastSeen       time.Time `json:"last_seen" ch:"last_seen"`
}

// Evidence is what the seed's format lacks: the period day by day.
type Evidence struct {
	ConduitDaily []ConduitDay `json:"conduit_daily"`
	// ConduitSeries is the same per SeriesStep seconds, for periods the
	// charts draw in buckets shorter than a day (up to 3 days: per hour,
	// down to per minute for an hour or less).
	ConduitSeries   []ConduitDay `json:"conduit_series,omitempty"`
	SeriesStep      int64        `json:"conduit_series_step_seconds,omitempty"`
	UndeclaredPaths []Contact    `json:"undeclared_paths"`
	AirGapContacts  []Contact    `json:"air_gap_contacts"`
	Enforcement     Enforcement  `json:"enforcement_coverage"`
	Diodes          []Diode      `json:"diode_availability"`
	LogSources      []LogSource  `json:"log_sources"`
	OpenFindings    []FindingAge `json:"open_findings"`
	Tolerances      Tolerances   `json:"tolerances"`
	DeviceDaily     []DeviceDay  `json:"device_daily"`
}

// Tolerances are the thresholds the report judged by.
type Tolerances struct {
	ClockSkewSeconds  float64 `json:"clock_skew_seconds"`
	SilenceSeconds    float64 `json:"silence_seconds"`
	DiodeAvailability float64 `json:"diode_availability"`
}

// ConduitDay is one conduit's events in one bucket — a day, an hour or
// less — starting at Day (query conduit_traffic, or conduit_traffic_fine
// under an hour); Conduit "" is cross-zone traffic on no conduit.
type ConduitDay struct {
	Day            time.Time `json:"time" ch:"t"`
	Conduit        string    `json:"conduit" ch:"conduit"`
	Total          uint64    `json:"events" ch:"total"`
	Allowed        uint64    `json:"allowed" ch:"allowed"`
	PolicyBreaking uint64    `json:"policy_breaking" ch:"policy_breaking"`
	Blocked        uint64    `json:"blocked" ch:"blocked"`
	FalseBlock     uint64    `json:"false_block" ch:"false_block"`
}

// Contact is traffic on an undeclared path or touching an air-gapped zone,
// per zone pair, service and verdict (query undeclared_paths).
type Contact struct {
	Reason  string `json:"reason" ch:"reason"`
	SrcZone string `json:"src_zone" ch:"src_zone"`
	SrcIP   string `json:"src_ip"`
	DstZone string `json:"dst_zone" ch:"dst_zone"`
	DstIP   string `json:"dst_ip"`
	SrcAddr net.IP `json:"-" ch:"lowest_src_ip"`
	DstAddr net.IP `json:"-" ch:"lowest_dst_ip"`
	// Sources and Destinations count the distinct addresses; SrcIP and
	// DstIP are the lowest of each.
	Sources      uint64 `json:"sources" ch:"sources"`
	Destinations uint64 `json:"destinations" ch:"destinations"`
	Transport    string `json:"transport" ch:"transport"`
	Port         uint16 `json:"dst_port" ch:"dst_port"`
	AppProtocol  string `json:"app_protocol" ch:"app_protocol"`
	Verdict      string `json:"verdict" ch:"verdict"`
	// PolicyBreaking: the traffic got through (storage.PolicyBreaking).
	PolicyBreaking bool      `json:"policy_breaking" ch:"policy_breaking"`
	Events         uint64    `json:"events" ch:"events"`
	FirstSeen      time.Time `json:"first_seen" ch:"first_seen"`
	LastSeen       time.Time `json:"last_seen" ch:"last_seen"`
}

// Enforcement is the share of cross-zone events reported by a device the
// model declares as a firewall in enforce mode (query
// cross_zone_by_device), and the firewalls still in monitor mode.
type Enforcement struct {
	CrossZoneEvents uint64          `json:"cross_zone_events"`
	Enforced        uint64          `json:"enforced_events"`
	Share           float64         `json:"share"` // Enforced / CrossZoneEvents; 0 when there were none
	ByDevice        []DeviceEvents  `json:"by_device"`
	MonitorMode     []MonitorDevice `json:"monitor_mode"`
}

// DeviceEvents is one device's cross-zone events.
type DeviceEvents struct {
	Device         string `json:"device" ch:"device"`
	Role           string `json:"role"` // firewall, sensor, diode; "undeclared" when not in the model
	Mode           string `json:"mode,omitempty"`
	Events         uint64 `json:"events" ch:"events"`
	PolicyBreaking uint64 `json:"policy_breaking" ch:"policy_breaking"`
	WouldBlock     uint64 `json:"would_block" ch:"would_block"`
}

// MonitorDevice is a firewall declared in monitor mode.
type MonitorDevice struct {
	Hostname   string    `json:"hostname"`
	Conduits   []string  `json:"conduits"`
	Since      time.Time `json:"since,omitzero"`
	Events     uint64    `json:"cross_zone_events"`
	WouldBlock uint64    `json:"would_block"`
}

// Diode is one diode's availability, silence counted as down (query
// diode_availability): per day and over the period.
type Diode struct {
	ID           string     `json:"id"`
	Declared     bool       `json:"declared"`
	Availability float64    `json:"availability"` // up buckets / buckets over the period
	SilentDays   int        `json:"silent_days"`  // days with no heartbeat at all
	Days         []DiodeDay `json:"days"`
}

// DiodeDay is one diode's day.
type DiodeDay struct {
	Day          time.Time `json:"day" ch:"day"`
	DiodeID      string    `json:"-" ch:"diode_id"`
	Buckets      uint64    `json:"buckets" ch:"buckets"`
	UpBuckets    uint64    `json:"up_buckets" ch:"up_buckets"`
	Availability float64   `json:"availability" ch:"availability"`
	Heartbeats   uint64    `json:"heartbeats" ch:"heartbeats"`
	Up           uint64    `json:"heartbeats_up" ch:"up"`
	LastStatus   string    `json:"last_status" ch:"last_status"`
}

// LogSource is one reporting device's coverage and clock (query
// device_coverage): every declared device, and every undeclared one heard.
type LogSource struct {
	Device   string `json:"device" ch:"device"`
	Declared bool   `json:"declared"`
	Role     string `json:"role"`
	Events   uint64 `json:"events" ch:"events"`
	// DaysWithLogs of Period.Days (query device_days).
	DaysWithLogs uint64    `json:"days_with_logs"`
	First        time.Time `json:"first,omitzero" ch:"first"`
	Last         time.Time `json:"last,omitzero" ch:"last"`
	// LongestSilence is the longest stretch of the period without an
	// event from the device, at minute resolution, and when it began.
	LongestSilence int64     `json:"longest_silence_seconds" ch:"longest_silence_s"`
	SilenceFrom    time.Time `json:"silence_from" ch:"silence_from"`
	// Receive time minus device time, milliseconds: the clock's skew plus
	// the transport delay.
	SkewP50      int64 `json:"clock_skew_ms_p50" ch:"skew_ms_p50"`
	SkewMin      int64 `json:"clock_skew_ms_min" ch:"skew_ms_min"`
	SkewMax      int64 `json:"clock_skew_ms_max" ch:"skew_ms_max"`
	Silent       bool  `json:"silent_too_long"` // LongestSilence reached the silence tolerance
	ClockOutside bool  `json:"clock_outside_tolerance"`
}

// DeviceDay is one device's events on a day it was heard (query
// device_days).
type DeviceDay struct {
	Day    time.Time `json:"day"`
	Device string    `json:"device"`
	Events uint64    `json:"events"`
}

// FindingAge counts the unresolved findings (open or acknowledged, as
// they stand now) first seen before the period's end, by severity, state
// and age (query open_findings_by_age).
type FindingAge struct {
	Severity string    `json:"severity" ch:"severity"`
	State    string    `json:"state" ch:"state"` // open or acknowledged (storage.FindingState)
	Age      string    `json:"age" ch:"age"`
	Findings uint64    `json:"findings" ch:"findings"`
	Events   uint64    `json:"events" ch:"events"`
	Oldest   time.Time `json:"oldest_first_seen" ch:"oldest"`
}

// Requirement statuses.
const (
	Supported  = "supported by evidence"
	Exceptions = "exceptions found"
	NoEvidence = "no evidence in period"
)

// Requirement is one IEC 62443-3-3 system requirement with what the logs
// showed for it.
type Requirement struct {
	ID         string   `json:"id"` // "SR 5.1", "SR 5.2 RE 1"
	Title      string   `json:"title"`
	Observed   string   `json:"observed"`
	Status     string   `json:"status"`
	Exceptions []string `json:"exceptions"`
}
