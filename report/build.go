package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

// Options shape a report.
type Options struct {
	// From and To bound the period [From, To); both required.
	From, To time.Time
	// Now is the generation time (default: time.Now).
	Now time.Time
	// Version is the otsiem version printed on the report.
	Version string
	// ClockSkew is the largest median receive-minus-device time a device
	// clock may show before SR 2.11 lists it (default 5 s).
	ClockSkew time.Duration
	// Silence is the longest a declared device may go without logs before
	// SR 6.2 lists it (default 24 h).
	Silence time.Duration
	// DiodeAvailability is the least availability over the period a diode
	// may show before SR 6.2 lists it (default 0.99).
	DiodeAvailability float64
}

// seriesSteps are the buckets a conduit chart may draw, shortest first;
// seriesStep picks the first that cuts the period into at most
// maxBuckets (UTC-aligned): up to about an hour and a half per minute,
// 8 hours per 5 minutes, a day per 15 minutes, 4 days per hour, anything
// longer per day.
var seriesSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 24 * time.Hour}

const maxBuckets = 96

// seriesStep is the chart bucket for a period [from, to): one of
// seriesSteps.
func seriesStep(from, to time.Time) time.Duration {
	for _, s := range seriesSteps {
		if to.Sub(from.Truncate(s)) <= maxBuckets*s {
			return s
		}
	}
	return seriesSteps[len(seriesSteps)-1]
}

// diodeBucket is the availability bucket: a minute is up when an ok
// heartbeat arrived in it.
const diodeBucket = 60

// remoteAccess are the application protocols and ports of interactive
// remote access, for SR 1.13.
var (
	remoteApps  = []string{"rdp", "ssh", "vnc", "telnet"}
	remotePorts = []uint16{3389, 22, 5900, 5800, 23}
)

// Build reads the period's evidence from storage and the model and
// assembles the report. It fails when a query fails; an empty period is a
// report with Empty set, not an error.
func Build(ctx context.Context, conn driver.Conn, m *rules.Model, opts Options) (*Report, error) {
	if opts.From.IsZero() || opts.To.IsZero() || !opts.From.Before(opts.To) {
		return nil, fmt.Errorf("report: the period needs from < to (got %s .. %s)", opts.From, opts.To)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.ClockSkew <= 0 {
		opts.ClockSkew = 5 * time.Second
	}
	if opts.Silence <= 0 {
		opts.Silence = 24 * time.Hour
	}
	if opts.DiodeAvailability <= 0 {
		opts.DiodeAvailability = 0.99
	}
	from, to := opts.From.UTC(), opts.To.UTC()
	r := &Report{
		Title:              "IEC 62443 Zone Implementation Report",
		Facility:           m.Facility,
		ImplementationDate: m.AssessmentDate,
		Standard:           standard(m.Standard),
		Model:              ModelVersion{Hash: m.Hash(), Short: m.ShortHash()},
		Period:             Period{From: from, To: to},
		GeneratedAt:        opts.Now.UTC().Truncate(time.Second),
		Version:            opts.Version,
	}
	r.Period.Days = len(r.Period.days())
	r.Evidence.Tolerances = Tolerances{ClockSkewSeconds: opts.ClockSkew.Seconds(), SilenceSeconds: opts.Silence.Seconds(),
		DiodeAvailability: opts.DiodeAvailability}

	var firewalls, diodes []string
	for _, d := range m.Devices() {
		if d.Role == rules.RoleFirewall {
			firewalls = append(firewalls, d.Hostname)
		}
	}
	for _, d := range m.Diodes() {
		diodes = append(diodes, d.ID)
	}
	args := []any{clickhouse.Named("from", from), clickhouse.Named("to", to),
		clickhouse.Named("firewalls", nonNil(firewalls)), clickhouse.Named("diodes", nonNil(diodes)),
		clickhouse.Named("bucket", uint32(diodeBucket)), clickhouse.Named("step", uint32(86400))}

	var (
		daily     []ConduitDay
		tests     []CrossZoneTests
		paths     []Path
		contacts  []Contact
		enforce   []conduitEnforcement
		byDevice  []DeviceEvents
		diodeDays []DiodeDay
		sources   []LogSource
		findings  []FindingAge
	)
	var errs []error
	selectInto(ctx, conn, storage.QueryConduitTraffic, args, &daily, &errs)
	selectInto(ctx, conn, storage.QueryCrossZoneTests, args, &tests, &errs)
	selectInto(ctx, conn, storage.QueryPathOutcomes, args, &paths, &errs)
	selectInto(ctx, conn, storage.QueryUndeclaredPaths, args, &contacts, &errs)
	selectInto(ctx, conn, storage.QueryConduitEnforcement, args, &enforce, &errs)
	selectInto(ctx, conn, storage.QueryCrossZoneByDevice, args, &byDevice, &errs)
	selectInto(ctx, conn, storage.QueryDiodeAvailability, args, &diodeDays, &errs)
	selectInto(ctx, conn, storage.QueryDeviceCoverage, args, &sources, &errs)
	selectInto(ctx, conn, storage.QueryOpenFindingsByAge, args, &findings, &errs)
	if step := seriesStep(from, to); step < 24*time.Hour {
		// The charts' buckets: the hourly rollup down to an hour, the
		// events themselves below.
		fine := slices.Clone(args)
		fine[len(fine)-1] = clickhouse.Named("step", uint32(step.Seconds())) // the last argument is the step
		q := storage.QueryConduitTraffic
		if step < time.Hour {
			q = storage.QueryConduitTrafficFine
		}
		r.Evidence.SeriesStep = int64(step.Seconds())
		selectInto(ctx, conn, q, fine, &r.Evidence.ConduitSeries, &errs)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	for _, s := range sources {
		r.Events += s.Events
	}
	r.Empty = r.Events == 0
	r.Zones = zones(m)
	r.Conduits = conduits(m, daily, enforce)
	if len(tests) == 1 {
		r.Validation.CrossZone = tests[0]
	}
	r.Validation.Prohibited, r.Validation.Functions = validation(paths)
	for i := range contacts {
		c := &contacts[i]
		c.SrcIP, c.DstIP = ipString(c.SrcAddr), ipString(c.DstAddr)
		if c.Reason == "air_gap" {
			r.Evidence.AirGapContacts = append(r.Evidence.AirGapContacts, *c)
		} else {
			r.Evidence.UndeclaredPaths = append(r.Evidence.UndeclaredPaths, *c)
		}
	}
	r.Evidence.ConduitDaily = daily
	r.Evidence.Enforcement = enforcement(m, byDevice)
	r.Evidence.Diodes = diodeAvailability(m, diodeDays)
	r.Evidence.LogSources = logSources(m, sources, from, to, opts)
	// Days with logs, per source: the review's device_days, one query each.
	for i := range r.Evidence.LogSources {
		ls := &r.Evidence.LogSources[i]
		var days []storage.DeviceDay
		if err := storage.Select(ctx, conn, storage.QueryDeviceDays, &days, storage.DeviceWindow(ls.Device, from, to)...); err != nil {
			return nil, err
		}
		for _, d := range days {
			if d.Events > 0 {
				ls.DaysWithLogs++
				r.Evidence.DeviceDaily = append(r.Evidence.DeviceDaily, DeviceDay{Day: d.Day, Device: ls.Device, Events: d.Events})
			}
		}
	}
	r.Evidence.OpenFindings = findings
	r.Requirements = requirements(m, r, paths, byDevice, opts)
	return r, nil
}

// selectInto runs a named query into dst, collecting its error.
func selectInto[T any](ctx context.Context, conn driver.Conn, q storage.Query, args []any, dst *[]T, errs *[]error) {
	*errs = append(*errs, storage.Select(ctx, conn, q, dst, args...))
}

// conduitEnforcement is a row of query conduit_enforcement.
type conduitEnforcement struct {
	Conduit         string   `ch:"conduit"`
	AllowRules      uint64   `ch:"allow_rules"`
	DenyRules       uint64   `ch:"deny_rules"`
	FunctionEvents  uint64   `ch:"function_events"`
	FunctionDevices []string `ch:"function_devices"`
}

// standard names both parts the report covers: the zone document's
// IEC 62443-3-2 design and the IEC 62443-3-3 system requirements.
func standard(doc string) string {
	const both = "IEC 62443-3-2/3-3"
	if doc == "" || doc == both {
		return both
	}
	return both + " (zone document: " + doc + ")"
}

// days lists the UTC calendar days the period touches.
func (p Period) days() []time.Time {
	var out []time.Time
	for d := p.From.UTC().Truncate(24 * time.Hour); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

func zones(m *rules.Model) []Zone {
	assets := map[*rules.Zone]int{}
	for _, a := range m.Assets() {
		assets[a.Zone]++
	}
	var out []Zone
	for _, z := range m.Zones() {
		zr := Zone{ID: z.ID, Name: z.Name, Purdue: z.Purdue.String(), Assets: assets[z], AirGapped: z.AirGapped(),
			Conduits: []string{}, Controls: controls(m, z)}
		if z.SLT >= 0 {
			slt := z.SLT
			zr.SLT = &slt
		}
		for _, c := range z.Conduits {
			zr.Conduits = append(zr.Conduits, c.ID)
		}
		out = append(out, zr)
	}
	return out
}

// controls lists what the model declares guarding a zone: the air gap,
// the firewalls on its conduits, the data diodes at its boundary and the
// sensors watching it.
func controls(m *rules.Model, z *rules.Zone) []string {
	out := []string{}
	if z.AirGapped() {
		out = append(out, "air gap (no network conduits)")
	}
	for _, d := range m.Devices() {
		var on []string
		for _, c := range d.Conduits {
			if slices.Contains(z.Conduits, c) {
				on = append(on, c.ID)
			}
		}
		switch {
		case d.Role == rules.RoleFirewall && len(on) > 0:
			out = append(out, fmt.Sprintf("%s firewall %s on %s (%s mode)", product(d), d.Hostname, strings.Join(on, ", "), d.Mode))
		case d.Role == rules.RoleSensor && slices.Contains(d.Zones, z):
			out = append(out, fmt.Sprintf("%s sensor %s (passive monitoring)", product(d), d.Hostname))
		}
	}
	for _, d := range m.Diodes() {
		if d.TXZone == z || d.RXZone == z {
			s := "data diode " + d.ID
			if d.Vendor != "" {
				s += " (" + d.Vendor + ")"
			}
			out = append(out, fmt.Sprintf("%s %s -> %s on %s", s, zoneID(d.TXZone), zoneID(d.RXZone), d.Conduit.ID))
		}
	}
	if len(out) == 0 {
		out = append(out, "none declared")
	}
	return out
}

func product(d *rules.Device) string {
	s := strings.TrimSpace(d.Vendor + " " + d.Product)
	if s == "" {
		return "unnamed"
	}
	return s
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return "?"
	}
	return z.ID
}

func conduits(m *rules.Model, daily []ConduitDay, enforce []conduitEnforcement) []Conduit {
	var out []Conduit
	for _, c := range m.Conduits() {
		cr := Conduit{ID: c.ID, Name: c.Name, DPIDevices: []string{}}
		for _, z := range c.Zones {
			cr.Zones = append(cr.Zones, z.ID)
		}
		for _, rl := range c.Rules {
			cr.Protocols = append(cr.Protocols, Protocol{Protocol: rl.Name, Ports: ports(rl), Direction: direction(rl)})
		}
		for _, e := range enforce {
			if e.Conduit == c.ID {
				cr.AllowRules, cr.DenyRules, cr.DPIEvents = e.AllowRules, e.DenyRules, e.FunctionEvents
				cr.DPI = e.FunctionEvents > 0
				cr.DPIDevices = nonNil(e.FunctionDevices)
			}
		}
		for _, d := range daily {
			if d.Conduit == c.ID {
				cr.Events += d.Total
				cr.Allowed += d.Allowed
				cr.PolicyBreaking += d.PolicyBreaking
				cr.Blocked += d.Blocked
				cr.FalseBlock += d.FalseBlock
			}
		}
		out = append(out, cr)
	}
	return out
}

func ports(rl *rules.Rule) string {
	var ps []string
	for _, p := range rl.Ports {
		ps = append(ps, p.String())
	}
	s := strings.Join(ps, ",")
	if rl.Transport != "" && rl.Transport != "any" && s != "" {
		s = rl.Transport + "/" + s
	}
	return s
}

// direction is the rule's direction as the document wrote it, or as the
// structured form gives it.
func direction(rl *rules.Rule) string {
	if rl.Direction != "" {
		return rl.Direction
	}
	if rl.From == nil {
		return "either direction"
	}
	s := rl.From.ID + " -> " + rl.To.ID
	if rl.Diode {
		s += " (via data diode)"
	}
	return s
}

// validation derives the prohibited-path and function-filtering results
// from the path outcomes.
func validation(paths []Path) (Prohibited, FunctionFiltering) {
	var p Prohibited
	var f FunctionFiltering
	for _, x := range paths {
		switch {
		case x.Verdict == event.VerdictBlocked:
			p.Attempts += x.Events
			p.Blocked += x.Events
		case x.PolicyBreaking:
			p.Attempts += x.Events
			p.Exceptions = append(p.Exceptions, x)
		}
		if x.Reason == string(rules.FunctionNotPermitted) {
			switch {
			case x.Verdict == event.VerdictBlocked:
				f.Blocked += x.Events
			case x.PolicyBreaking:
				f.Passed += x.Events
				f.Exceptions = append(f.Exceptions, x)
			}
		}
	}
	p.AllBlocked = len(p.Exceptions) == 0
	byEvents := func(a, b Path) int { return cmp.Or(cmp.Compare(b.Events, a.Events), a.FirstSeen.Compare(b.FirstSeen)) }
	slices.SortStableFunc(p.Exceptions, byEvents)
	slices.SortStableFunc(f.Exceptions, byEvents)
	p.Exceptions, f.Exceptions = nonNil(p.Exceptions), nonNil(f.Exceptions)
	switch {
	case f.Passed > 0:
		f.Status = FunctionsFailed
	case f.Blocked > 0:
		f.Status = FunctionsVerified
	default:
		f.Status = FunctionsNotExercised
	}
	return p, f
}

func enforcement(m *rules.Model, rows []DeviceEvents) Enforcement {
	e := Enforcement{ByDevice: nonNil(rows), MonitorMode: []MonitorDevice{}}
	for i := range e.ByDevice {
		x := &e.ByDevice[i]
		e.CrossZoneEvents += x.Events
		d := m.Device(x.Device)
		if d == nil {
			x.Role = "undeclared"
			continue
		}
		x.Role, x.Mode = string(d.Role), string(d.Mode)
		if d.Role == rules.RoleFirewall && d.Mode == rules.ModeEnforce {
			e.Enforced += x.Events
		}
	}
	if e.CrossZoneEvents > 0 {
		e.Share = float64(e.Enforced) / float64(e.CrossZoneEvents)
	}
	for _, d := range m.Devices() {
		if d.Mode != rules.ModeMonitor {
			continue
		}
		md := MonitorDevice{Hostname: d.Hostname, Since: d.Since}
		for _, c := range d.Conduits {
			md.Conduits = append(md.Conduits, c.ID)
		}
		for _, x := range rows {
			if m.Device(x.Device) == d {
				md.Events += x.Events
				md.WouldBlock += x.WouldBlock
			}
		}
		e.MonitorMode = append(e.MonitorMode, md)
	}
	return e
}

func diodeAvailability(m *rules.Model, rows []DiodeDay) []Diode {
	var out []Diode
	idx := map[string]int{}
	for _, row := range rows {
		i, ok := idx[row.DiodeID]
		if !ok {
			i = len(out)
			idx[row.DiodeID] = i
			out = append(out, Diode{ID: row.DiodeID, Declared: m.Diode(row.DiodeID) != nil})
		}
		d := &out[i]
		d.Days = append(d.Days, row)
		if row.Heartbeats == 0 {
			d.SilentDays++
		}
	}
	for i := range out {
		var up, all uint64
		for _, x := range out[i].Days {
			up, all = up+x.UpBuckets, all+x.Buckets
		}
		if all > 0 {
			out[i].Availability = min(1, float64(up)/float64(all))
		}
	}
	return out
}

// logSources lists every declared device (silent ones with the whole
// period as their silence), then the undeclared ones heard.
func logSources(m *rules.Model, rows []LogSource, from, to time.Time, opts Options) []LogSource {
	var out []LogSource
	seen := map[string]bool{}
	for _, d := range m.Devices() {
		ls := LogSource{Device: d.Hostname, LongestSilence: int64(to.Sub(from).Seconds()), SilenceFrom: from}
		for _, r := range rows {
			if m.Device(r.Device) == d {
				ls = r
				seen[r.Device] = true
			}
		}
		ls.Device, ls.Declared, ls.Role = d.Hostname, true, string(d.Role)
		out = append(out, ls)
	}
	for _, r := range rows {
		if !seen[r.Device] {
			r.Role = "undeclared"
			out = append(out, r)
		}
	}
	for i := range out {
		ls := &out[i]
		ls.Silent = ls.Declared && time.Duration(ls.LongestSilence)*time.Second >= opts.Silence
		ls.ClockOutside = ls.Events > 0 && time.Duration(abs(ls.SkewP50))*time.Millisecond > opts.ClockSkew
	}
	return out
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func ipString(ip []byte) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ""
	}
	return a.Unmap().String()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
