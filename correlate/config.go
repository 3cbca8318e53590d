package correlate

import (
	"errors"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/setting"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
)

// Config tunes the stateful Engine; its keys are in the configuration
// file's `correlate:` section. Zero values take the defaults listed
// (DefaultConfig).
type Config struct {
	// Site is put on findings when the event has none.
	Site string `yaml:"-"`

	// FoldWindow: repeats of an identical finding (same type, reason,
	// source and destination address, destination port and conduit; the
	// source port does not count) arriving within this time of the last
	// one are folded into it. Default 1h.
	FoldWindow time.Duration `yaml:"fold_window"`
	// UpdateEvery: a folded finding that keeps growing is published again
	// at most once per this much event time, and once more when it closes.
	// Default 1m.
	UpdateEvery time.Duration `yaml:"update_every"`
	// MaxEventIDs bounds the event ids kept on a finding (default 10, the
	// first ones).
	MaxEventIDs int `yaml:"-"`
	// MaxFolds bounds the open folded findings; past it the least recently
	// updated is closed early. Default 100,000.
	MaxFolds int `yaml:"-"`

	// A scan is one source whose policy-breaking or blocked traffic (see
	// Engine) reaches ScanPorts distinct destination ports or ScanHosts
	// distinct hosts in other zones within ScanWindow (defaults 20, 20,
	// 60s), or SlowScanPorts ports or SlowScanHosts hosts within
	// SlowScanWindow (defaults 40, 40, 15m: one port every 10 s for ten
	// minutes is a scan too). MaxScanSources bounds the sources tracked
	// (default 50,000; the least recently active is forgotten).
	ScanPorts      int           `yaml:"scan_ports"`
	ScanHosts      int           `yaml:"scan_hosts"`
	ScanWindow     time.Duration `yaml:"scan_window"`
	SlowScanPorts  int           `yaml:"slow_scan_ports"`
	SlowScanHosts  int           `yaml:"slow_scan_hosts"`
	SlowScanWindow time.Duration `yaml:"slow_scan_window"`
	MaxScanSources int           `yaml:"-"`

	// DiodeMissed heartbeats in a row make a diode side down (default 3):
	// DiodeMissed × the diode's heartbeat is its timeout. DiodeMaxLag is
	// the replication lag above which a diode is degraded (default 5s).
	DiodeMissed int           `yaml:"diode_missed"`
	DiodeMaxLag time.Duration `yaml:"diode_max_lag"`

	// ClockSkew is how far a device's event time may run ahead before
	// otsiem stops trusting its clock (default 10s): such an event is
	// judged, but does not move the engine's time, and the device gets a
	// clock_skew finding. With ReceiveClock, ahead means ahead of the
	// event's receive time; without it (offline replays, whose receive
	// times are one made-up value), ahead of the engine's time without
	// another device confirming the jump.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// ReceiveClock says events' ReceivedAt is the collector's real clock
	// at receipt (the service sets it).
	ReceiveClock bool `yaml:"-"`
	// DeliveryLag (with ReceiveClock; default 2s, the service's TickSlack)
	// is how much later, by receive time, an event may reach the engine
	// than one received after it: the collectors batch per subject, so
	// stream order is not receive order (in a fast replay one batch of
	// diode heartbeats spans minutes of event time). A diode side whose
	// timeout an event's time passes is silent only once every event
	// received up to that event has arrived: one received DeliveryLag
	// later, or a Tick that late.
	DeliveryLag time.Duration `yaml:"-"`

	// Learn is the baseline period, from the first event: communication
	// pairs (source asset, destination asset, port) crossing a conduit
	// during it are the baseline; a pair first seen after it is a new_pair
	// finding. Default 24h; negative disables new_pair. MaxPairs bounds
	// the pairs remembered (default 1,000,000; past it no more are learnt
	// and none is reported new).
	Learn    time.Duration `yaml:"learn"`
	MaxPairs int           `yaml:"-"`

	// Severities overrides the default severity (see DefaultSeverity) by
	// "type/reason", "type" or "*/reason", tried in that order.
	Severities map[string]event.Severity `yaml:"severities"`
	// Suppress lists findings never to publish (counted in Stats).
	Suppress []Suppression `yaml:"suppress"`
}

// Suppression matches findings to drop. Empty fields match anything.
type Suppression struct {
	Type   string `yaml:"type"`
	Reason string `yaml:"reason"`
	// Src and Dst: an address or a CIDR prefix.
	Src     setting.Prefix `yaml:"src"`
	Dst     setting.Prefix `yaml:"dst"`
	Port    uint16         `yaml:"port"`
	Conduit string         `yaml:"conduit"`
}

func (s *Suppression) matches(f *event.Finding) bool {
	return (s.Type == "" || s.Type == f.Type) && (s.Reason == "" || s.Reason == f.Reason) &&
		(!s.Src.IsValid() || f.SrcIP.IsValid() && s.Src.Contains(f.SrcIP)) &&
		(!s.Dst.IsValid() || f.DstIP.IsValid() && s.Dst.Contains(f.DstIP)) &&
		(s.Port == 0 || f.DstPort.OK && f.DstPort.V == s.Port) && (s.Conduit == "" || s.Conduit == f.Conduit)
}

// DefaultConfig holds the defaults of every setting.
func DefaultConfig() Config {
	return Config{FoldWindow: time.Hour, UpdateEvery: time.Minute, MaxEventIDs: 10, MaxFolds: 100_000,
		ScanPorts: 20, ScanHosts: 20, ScanWindow: time.Minute, SlowScanPorts: 40, SlowScanHosts: 40,
		SlowScanWindow: 15 * time.Minute, MaxScanSources: 50_000, DiodeMissed: 3, DiodeMaxLag: 5 * time.Second,
		ClockSkew: 10 * time.Second, DeliveryLag: 2 * time.Second, Learn: 24 * time.Hour, MaxPairs: 1_000_000}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setting.Positive(&c.FoldWindow, d.FoldWindow)
	setting.Positive(&c.UpdateEvery, d.UpdateEvery)
	setting.Positive(&c.ScanWindow, d.ScanWindow)
	setting.Positive(&c.DiodeMaxLag, d.DiodeMaxLag)
	setting.Positive(&c.SlowScanWindow, d.SlowScanWindow)
	setting.Positive(&c.ClockSkew, d.ClockSkew)
	setting.Positive(&c.DeliveryLag, d.DeliveryLag)
	setting.Positive(&c.MaxEventIDs, d.MaxEventIDs)
	setting.Positive(&c.MaxFolds, d.MaxFolds)
	setting.Positive(&c.ScanPorts, d.ScanPorts)
	setting.Positive(&c.ScanHosts, d.ScanHosts)
	setting.Positive(&c.SlowScanPorts, d.SlowScanPorts)
	setting.Positive(&c.SlowScanHosts, d.SlowScanHosts)
	setting.Positive(&c.MaxScanSources, d.MaxScanSources)
	setting.Positive(&c.DiodeMissed, d.DiodeMissed)
	setting.Positive(&c.MaxPairs, d.MaxPairs)
	if c.Learn == 0 {
		c.Learn = d.Learn
	}
	return c
}

// Validate checks the configuration; errors are setting.FieldErrors
// naming the key ("severities[new_pair]").
func (c Config) Validate() error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(c.Severities)) {
		if s := c.Severities[k]; s.Rank() < 0 {
			errs = append(errs, setting.Errorf("severities["+k+"]", "%q: want critical, high, medium, low or info", s))
		}
	}
	return errors.Join(errs...)
}

// ServiceConfig configures a Service: the configuration file's
// `correlate:` section, the engine's keys and the service's side by side.
type ServiceConfig struct {
	Bus *bus.Bus `yaml:"-"` // connected, streams declared
	// Models holds the model to judge by; both stages read it for every
	// message, so a reload stored there applies from the next one. When
	// nil, the service holds Model itself (see SetModel).
	Models *rules.Holder `yaml:"-"`
	Model  *rules.Model  `yaml:"-"`
	// Engine tunes the stateful findings; its keys sit in the same
	// section.
	Engine Config `yaml:",inline"`

	// Consumer is the durable consumer on OTSIEM_EVENTS that every
	// correlator process shares for verdicts (default "otsiem-correlate").
	Consumer string `yaml:"consumer"`
	// Instance names this process in the findings lease (default: a
	// random id).
	Instance string `yaml:"-"`
	// LeaseTTL: the findings stage runs in one process at a time, the
	// holder of a lease it renews every LeaseTTL/3 (default 10s).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// SnapshotEvery: how often the findings stage saves its state and
	// stream position and renews its lease (default and at most LeaseTTL/3).
	SnapshotEvery time.Duration `yaml:"-"`
	// FetchBatch is how many event messages (each a batch of up to 256
	// events) a fetch takes (default 16).
	FetchBatch int `yaml:"fetch_batch"`
	// Tick: while the findings stage has processed every event, it moves
	// the engine's time to the wall clock (less TickSlack, the most an
	// event takes from a collector to this stage) this often, so that a
	// diode going silent while nothing else is logged is down within its
	// timeout plus one tick (default 1s; negative: never, as offline).
	Tick      time.Duration `yaml:"tick"`
	TickSlack time.Duration `yaml:"-"` // default 2s

	Registerer prometheus.Registerer `yaml:"-"`
	Logger     *slog.Logger          `yaml:"-"`
}

// DefaultServiceConfig holds the service's defaults, the engine's
// (DefaultConfig) among them.
func DefaultServiceConfig() ServiceConfig {
	return ServiceConfig{Engine: DefaultConfig(), Consumer: "otsiem-correlate", LeaseTTL: 10 * time.Second, FetchBatch: 16,
		Tick: time.Second, TickSlack: 2 * time.Second}
}

// Validate checks the engine's settings and the service's.
func (c ServiceConfig) Validate() error {
	errs := []error{c.Engine.Validate()}
	if c.FetchBatch < 0 {
		errs = append(errs, setting.Errorf("fetch_batch", "%d: want 0 (the default) or more", c.FetchBatch))
	}
	return errors.Join(errs...)
}

// Finding types beyond the verdicts (the shared vocabulary of package
// event).
const (
	TypeScan                = event.TypeScan
	TypeDiodeDown           = event.TypeDiodeDown
	TypeDiodeDegraded       = event.TypeDiodeDegraded
	TypeDiodeReportRejected = event.TypeDiodeReportRejected
	TypeNewPair             = event.TypeNewPair
	TypeWouldFalseBlock     = event.TypeWouldFalseBlock
	TypeClockSkew           = event.TypeClockSkew
	// TypeAlert is an IDS or IPS signature match: reason prevented when
	// the device stopped it, detected otherwise; severity the sensor's
	// (AlertSeverity).
	TypeAlert = event.TypeAlert
)

// DefaultSeverity is the severity of a finding type and reason before
// Config.Severities:
//
//	air_gap, diode_reverse (any type)          critical
//	diode_down                                 critical
//	monitoring (any type)                      low
//	function_unverified                        medium (low when blocked)
//	diode_bypass                               high (medium when blocked)
//	policy_drift, false_block, scan,
//	  diode_degraded                           high
//	function_not_permitted, no_conduit         high (medium when blocked)
//	violation, would_block, would_false_block  medium
//	blocked                                    low
//	unknown_zone, diode_report_rejected,
//	  clock_skew                               low
//	new_pair                                   info
//	alert                                      the sensor's (AlertSeverity)
//
// Anything touching an air-gapped zone or running against a diode is
// critical even when blocked: a firewall that sees such traffic at all means
// the physical separation the design relies on is not there. otsiem's own
// monitoring traffic that no conduit carries is a gap in the documented
// design, not an attack: at most low. On top, consequence raises a
// finding whose flow writes into a control zone.
func DefaultSeverity(typ, reason string) event.Severity {
	switch reason {
	case "air_gap", "diode_reverse":
		return event.SeverityCritical
	case "monitoring":
		return event.SeverityLow
	case "function_unverified":
		if typ == string(Blocked) {
			return event.SeverityLow
		}
		return event.SeverityMedium
	case "diode_bypass":
		if typ == string(Blocked) {
			return event.SeverityMedium
		}
		return event.SeverityHigh
	}
	switch typ {
	case TypeDiodeDown:
		return event.SeverityCritical
	case string(PolicyDrift), string(FalseBlock), TypeScan, TypeDiodeDegraded:
		return event.SeverityHigh
	case string(Blocked):
		if reason == "function_not_permitted" || reason == "no_conduit" {
			return event.SeverityMedium
		}
		return event.SeverityLow
	case string(UnknownZone), TypeDiodeReportRejected, TypeClockSkew:
		return event.SeverityLow
	case TypeNewPair:
		return event.SeverityInfo
	}
	if reason == "function_not_permitted" || reason == "no_conduit" {
		return event.SeverityHigh
	}
	return event.SeverityMedium
}

// consequence is the least severity a verdict finding deserves for what
// its flow does, whatever its type and reason: a write function (one its
// protocol's catalogue does not count among the reads) into a control
// zone (Purdue levels 0-2, or a controller asset such as a PLC), on any
// port, that the policy forbids or that comes from an unmanaged address
// is at least high; any other traffic from an unmanaged address into a
// control zone at least medium. Traffic a device denied keeps its
// severity: it was stopped at the boundary.
func consequence(j *Judgement, typ string) event.Severity {
	if j == nil || typ == string(Blocked) || j.Seen == Denied || j.Decision.Allowed || !controlTarget(&j.Decision) {
		return ""
	}
	d := &j.Decision
	switch {
	case d.Writes:
		return event.SeverityHigh
	case typ == string(UnknownZone):
		return event.SeverityMedium
	}
	return ""
}

// controlTarget reports whether a flow's destination is a control system.
func controlTarget(d *rules.Decision) bool {
	return d.DstZone != nil && d.DstZone.Control() || d.DstAsset != nil && d.DstAsset.Controller()
}

// AlertSeverity maps a sensor's severity, as decoders put it in the
// event's syslog severity (Suricata's 1-3 as 3-5, PAN-OS and FortiGate
// critical to informational as 2-6), to a finding severity: 0-2 critical,
// 3 high, 4 medium, 5 low, 6-7 info; medium when the sensor gave none.
func AlertSeverity(s event.Opt[uint8]) event.Severity {
	if !s.OK {
		return event.SeverityMedium
	}
	switch {
	case s.V <= 2:
		return event.SeverityCritical
	case s.V == 3:
		return event.SeverityHigh
	case s.V == 4:
		return event.SeverityMedium
	case s.V == 5:
		return event.SeverityLow
	}
	return event.SeverityInfo
}

// overridden reports whether Config.Severities sets a type and reason's
// severity.
func (c *Config) overridden(typ, reason string) bool {
	for _, k := range [...]string{typ + "/" + reason, typ, "*/" + reason} {
		if _, ok := c.Severities[k]; ok {
			return true
		}
	}
	return false
}

func (c *Config) severity(typ, reason string) event.Severity {
	if len(c.Severities) > 0 {
		for _, k := range [...]string{typ + "/" + reason, typ, "*/" + reason} {
			if s, ok := c.Severities[k]; ok {
				return s
			}
		}
	}
	return DefaultSeverity(typ, reason)
}
