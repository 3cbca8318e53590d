// Package review answers the two questions an OT engineer asks before a
// zone firewall leaves monitor mode: may this firewall enforce now (Run:
// observation period, days without logs, what enforcing would break and
// what it would stop, a READY / NOT READY verdict), and which conduit rules
// does the observed traffic say the model forgot (Propose: protocols_allowed
// entries in the zone document's own format, new conduits, and the flows
// that must never become rules). Both read the store through storage's
// named queries and judge under the current rules.Model.
package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

func (t Thresholds) orDefault() Thresholds {
	if t.MinObservedDays <= 0 {
		t.MinObservedDays = DefaultThresholds.MinObservedDays
	}
	if t.RecentDays <= 0 {
		t.RecentDays = DefaultThresholds.RecentDays
	}
	return t
}

// Options configure Run.
type Options struct {
	Now time.Time
	// Since reviews the whole UTC days since Now-Since (PeriodStart); 0
	// reviews from the device's since date, or the last MinObservedDays
	// days when the model gives none. It limits the period listed, never
	// the recent-days checks, which always look at the last
	// Thresholds.RecentDays full days.
	Since      time.Duration
	Thresholds Thresholds
	Recurrence Recurrence // what makes a would-block flow a missing-rule candidate
}

// Day is one UTC day of the observation period.
type Day struct {
	Day     time.Time `json:"day"`
	Events  uint64    `json:"events"`            // lines from the device
	Partial bool      `json:"partial,omitempty"` // today, still going
}

// Group is flows of one source asset to one destination asset with one
// service and function, merged over the period.
type Group struct {
	From      string    `json:"from"` // asset name, or address
	SrcZone   string    `json:"src_zone,omitempty"`
	To        string    `json:"to"`
	DstZone   string    `json:"dst_zone,omitempty"`
	Conduit   string    `json:"conduit,omitempty"`
	Transport string    `json:"transport"`
	Port      uint16    `json:"port"`
	App       string    `json:"app_protocol,omitempty"`
	Function  string    `json:"function,omitempty"`
	Reason    string    `json:"reason,omitempty"`  // the model's
	Actions   []string  `json:"actions,omitempty"` // what the device logged: allow, deny, …
	Rules     []string  `json:"rules,omitempty"`   // the device's rules that matched
	Events    uint64    `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Days      int       `json:"days"`
	// Why says why a would-block flow is expected to stop (a refusal such
	// as an air gap), or which rule `otsiem propose` would add for a
	// missing-rule candidate.
	Why string `json:"why,omitempty"`

	days []time.Time
}

// Service reads "modbus tcp/502".
func (g *Group) Service() string {
	if g.App == "" {
		return fmt.Sprintf("%s/%d", g.Transport, g.Port)
	}
	return fmt.Sprintf("%s %s/%d", g.App, g.Transport, g.Port)
}

// Check is one readiness condition.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// DeviceReview is the review of one monitor-mode firewall.
type DeviceReview struct {
	Device   string    `json:"device"`
	Vendor   string    `json:"vendor,omitempty"`
	Product  string    `json:"product,omitempty"`
	Mode     string    `json:"mode"`
	Since    time.Time `json:"since,omitzero"` // when the mode took effect, per the model
	Conduits []string  `json:"conduits"`
	// From and To bound the period reviewed; Basis says where From comes
	// from.
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Basis string    `json:"basis"`
	Days  []Day     `json:"days"`
	// FullDays counts the whole days of the period, DaysWithLogs those the
	// device was heard from; Silent lists the others.
	FullDays     int         `json:"full_days"`
	DaysWithLogs int         `json:"days_with_logs"`
	Silent       []time.Time `json:"silent_days"`
	// NoData is true when the device sent nothing in the whole period.
	NoData bool `json:"no_data"`
	// Break is what enforcing would break: would_false_block flows.
	Break []*Group `json:"would_break"`
	// Violations are would-block flows expected to stop; MissingRules
	// would-block flows that look like a legitimate path the model lacks.
	Violations   []*Group `json:"would_stop_violations"`
	MissingRules []*Group `json:"would_stop_missing_rules"`
	// NowAllowed are would-block flows, judged under an older version of
	// the model, that the current one allows.
	NowAllowed []*Group `json:"now_allowed,omitempty"`
	// AlreadyEnforcing: the firewall is in enforce mode already, so there
	// is no readiness to judge (Ready false, no Checks); Blocked is what
	// it denied that the model allows (false_block): the legitimate
	// traffic its enforcing rules cut.
	AlreadyEnforcing bool     `json:"already_enforcing,omitempty"`
	Blocked          []*Group `json:"false_block,omitempty"`
	Ready            bool     `json:"ready"`
	Checks           []Check  `json:"checks"`
	Warnings         []string `json:"warnings,omitempty"`
}

// Result is a review of one or more devices.
type Result struct {
	Generated  time.Time       `json:"generated"`
	Model      string          `json:"model"`
	ModelHash  string          `json:"model_hash,omitempty"`
	Thresholds Thresholds      `json:"thresholds"`
	Recurrence Recurrence      `json:"recurrence"`
	Devices    []*DeviceReview `json:"devices"`
}

// Ready reports whether every device reviewed is ready, or enforces
// already: otsiem review's exit status 0.
func (r *Result) Ready() bool {
	for _, d := range r.Devices {
		if !d.Ready && !d.AlreadyEnforcing {
			return false
		}
	}
	return len(r.Devices) > 0
}

// ErrNoMonitorDevice is returned when the model has no monitor-mode
// firewall to review.
var ErrNoMonitorDevice = errors.New("the model has no firewall in monitor mode")

// Devices returns the firewalls to review: the one named (any firewall,
// by hostname), or every firewall in monitor mode.
func (p *Plant) Devices(name string) ([]*rules.Device, error) {
	if name != "" {
		d := p.Model.Device(name)
		if d == nil {
			return nil, fmt.Errorf("device %q is not in the model (monitor-mode firewalls: %s)", name, p.monitorNames())
		}
		if d.Role != rules.RoleFirewall {
			return nil, fmt.Errorf("device %q is a %s: only firewalls enforce", name, d.Role)
		}
		return []*rules.Device{d}, nil
	}
	var out []*rules.Device
	for _, d := range p.Model.Devices() {
		if d.Role == rules.RoleFirewall && d.Mode == rules.ModeMonitor {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoMonitorDevice
	}
	return out, nil
}

func (p *Plant) monitorNames() string {
	var names []string
	for _, d := range p.Model.Devices() {
		if d.Role == rules.RoleFirewall && d.Mode == rules.ModeMonitor {
			names = append(names, d.Hostname)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// PeriodStart is the start of a period reaching back since from now, in
// whole UTC days: 3d at 2026-11-29 13:30 UTC starts 2026-11-26 00:00 UTC.
// It is what --since means to both otsiem review and otsiem propose.
func PeriodStart(now time.Time, since time.Duration) time.Time {
	return now.UTC().Add(-since).Truncate(24 * time.Hour)
}

// recentFrom is the first day of the recent window: the last RecentDays
// full UTC days before the day of to.
func (t Thresholds) recentFrom(to time.Time) time.Time {
	return to.UTC().Truncate(24*time.Hour).AddDate(0, 0, -t.RecentDays)
}

// Run reviews each device: its log coverage (storage.QueryDeviceDays),
// what enforcing would break (storage.QueryWouldFalseBlock) and stop
// (storage.QueryDeviceWouldBlock), judged against the thresholds. Log
// coverage and would_false_block are read over the period and the recent
// window (Thresholds.RecentDays) together, so a short period never hides
// a silent day or a would-false-block flow of the recent window. A
// firewall in enforce mode already gets no readiness verdict: its review
// says so and lists what it blocked that the model allows (false_block).
func Run(ctx context.Context, conn driver.Conn, p *Plant, devices []*rules.Device, o Options) (*Result, error) {
	o.Thresholds = o.Thresholds.orDefault()
	o.Recurrence = o.Recurrence.orDefault()
	res := &Result{Generated: o.Now.UTC(), Model: p.Path, ModelHash: p.Model.ShortHash(), Thresholds: o.Thresholds, Recurrence: o.Recurrence}
	for _, d := range devices {
		r := p.period(d, o)
		var days []storage.DeviceDay
		var wfb, wb []storage.DeviceFlow
		checked := storage.DeviceWindow(d.Hostname, minTime(r.From, o.Thresholds.recentFrom(r.To)), r.To)
		enforcing := d.Mode == rules.ModeEnforce
		for _, q := range []struct {
			q    storage.Query
			dest any
			args []any
		}{
			{storage.QueryDeviceDays, &days, checked},
			{storage.QueryWouldFalseBlock, &wfb, checked}, // an enforcing firewall's false_block
			{storage.QueryDeviceWouldBlock, &wb, storage.DeviceWindow(d.Hostname, r.From, r.To)},
		} {
			if enforcing && q.q == storage.QueryDeviceWouldBlock {
				continue // would_block is a monitor-mode verdict
			}
			if err := storage.Select(ctx, conn, q.q, q.dest, q.args...); err != nil {
				return nil, err
			}
		}
		if enforcing {
			p.judgeEnforcing(r, days, wfb, o)
		} else {
			p.judge(r, days, wfb, wb, o)
		}
		res.Devices = append(res.Devices, r)
	}
	return res, nil
}

// period sets the device and the period under review.
func (p *Plant) period(d *rules.Device, o Options) *DeviceReview {
	r := &DeviceReview{Device: d.Hostname, Vendor: d.Vendor, Product: d.Product, Mode: string(d.Mode), Since: d.Since, To: o.Now.UTC()}
	for _, c := range d.Conduits {
		r.Conduits = append(r.Conduits, c.ID)
	}
	today := r.To.Truncate(24 * time.Hour)
	switch {
	case o.Since > 0:
		r.From = PeriodStart(r.To, o.Since)
		r.Basis = "--since " + days(o.Since)
		if !d.Since.IsZero() && r.From.Before(d.Since) {
			r.From = d.Since.UTC()
			r.Basis += fmt.Sprintf(", cut to %s: the device is in %s mode only since then", d.Since.Format(time.DateOnly), d.Mode)
		}
	case !d.Since.IsZero():
		r.From = d.Since.UTC()
		r.Basis = fmt.Sprintf("in %s mode since %s (model)", d.Mode, d.Since.Format(time.DateOnly))
	default:
		r.From = today.Add(-time.Duration(o.Thresholds.MinObservedDays) * 24 * time.Hour)
		r.Basis = fmt.Sprintf("the model gives no since date: the last %d days", o.Thresholds.MinObservedDays)
	}
	if r.From.After(r.To) {
		r.From = r.To
	}
	return r
}

// days writes a duration in days when it is whole days ("14d").
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// judge fills a review from the device's rows and decides readiness:
// days and wfb cover the period and the recent window, wb the period.
func (p *Plant) judge(r *DeviceReview, days []storage.DeviceDay, wfb, wb []storage.DeviceFlow, o Options) {
	t := o.Thresholds
	today := r.To.Truncate(24 * time.Hour)
	recentFrom := t.recentFrom(r.To)
	recentSilent := r.coverage(days, recentFrom)
	recent := t.recentLabel(r.To)

	r.Break = p.group(wfb, false)
	r.Violations, r.MissingRules, r.NowAllowed = p.splitWouldBlock(wb, o.Recurrence)

	span := ""
	if r.FullDays > 0 {
		span = fmt.Sprintf(" (%s .. %s)", r.From.Format(time.DateOnly), today.Add(-24*time.Hour).Format(time.DateOnly))
	}
	observed := Check{Name: "observed long enough", OK: r.DaysWithLogs >= t.MinObservedDays,
		Detail: fmt.Sprintf("%d of %d full days%s with logs; %d needed", r.DaysWithLogs, r.FullDays, span, t.MinObservedDays)}
	if r.NoData {
		observed.Detail = fmt.Sprintf("no logs from %s at all since %s: nothing has been observed", r.Device, r.From.Format(time.DateOnly))
	}
	r.Checks = append(r.Checks, observed)
	if t.MaxSilentDays >= 0 {
		c := Check{Name: "logs every day", OK: len(recentSilent) <= t.MaxSilentDays}
		switch {
		case len(recentSilent) == 0:
			c.Detail = "no day without logs in " + recent
		default:
			c.Detail = fmt.Sprintf("no logs on %s in %s; %d allowed: the review has not seen %s", countDates(recentSilent), recent, t.MaxSilentDays,
				plural(len(recentSilent), "that day", "those days"))
		}
		r.Checks = append(r.Checks, c)
	}
	var recentBreak, olderBreak []*Group
	for _, g := range r.Break {
		if !g.LastSeen.Before(recentFrom) {
			recentBreak = append(recentBreak, g)
		} else {
			olderBreak = append(olderBreak, g)
		}
	}
	if t.MaxWouldFalseBlock >= 0 {
		c := Check{Name: "nothing legitimate would break", OK: len(recentBreak) <= t.MaxWouldFalseBlock}
		switch {
		case r.NoData && len(recentBreak) == 0:
			c.OK, c.Detail = false, "unknown: nothing was observed"
		case len(recentBreak) == 0:
			c.Detail = "no would_false_block in " + recent + " and today"
		default:
			c.Detail = fmt.Sprintf("%d would_false_block %s in %s and today (%d allowed): %s", len(recentBreak), plural(len(recentBreak), "flow", "flows"),
				recent, t.MaxWouldFalseBlock, describe(recentBreak))
		}
		r.Checks = append(r.Checks, c)
	}
	if t.MissingRulesBlock {
		r.Checks = append(r.Checks, Check{Name: "no missing conduit rules", OK: len(r.MissingRules) == 0,
			Detail: fmt.Sprintf("%d would-block %s look like missing conduit rules", len(r.MissingRules), plural(len(r.MissingRules), "flow", "flows"))})
	} else if len(r.MissingRules) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d would-block %s like a missing conduit rule (%s): enforcing will stop %s unless the model and the firewall get the rule (see otsiem propose)",
			len(r.MissingRules), plural(len(r.MissingRules), "flow looks", "flows look"), describe(r.MissingRules), plural(len(r.MissingRules), "it", "them")))
	}
	if len(r.NowAllowed) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d would-block %s, judged under an earlier version of the model, %s allowed by this one (%s): a rule set that matches it lets %s through",
			len(r.NowAllowed), plural(len(r.NowAllowed), "flow", "flows"), plural(len(r.NowAllowed), "is", "are"), describe(r.NowAllowed),
			plural(len(r.NowAllowed), "it", "them")))
	}
	if len(olderBreak) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d would_false_block %s earlier in the period, none since %s: make sure the rule set was fixed (%s)",
			len(olderBreak), plural(len(olderBreak), "flow", "flows"), olderBreak[0].LastSeen.Format(time.DateOnly), describe(olderBreak)))
	}
	var permitted []*Group
	for _, g := range append(slices.Clone(r.Violations), r.MissingRules...) {
		if slices.Contains(g.Actions, "allow") || slices.Contains(g.Actions, "close") {
			permitted = append(permitted, g)
		}
	}
	if len(permitted) > 0 {
		names := ""
		if rs := ruleNames(permitted); len(rs) > 0 {
			names = " (" + strings.Join(rs, ", ") + ")"
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s's own rules%s permit %d of the %d flows the model forbids: enforcing this rule set as it is will not stop them (they would be policy_drift)",
			r.Device, names, len(permitted), len(r.Violations)+len(r.MissingRules)))
	}
	r.Ready = true
	for _, c := range r.Checks {
		r.Ready = r.Ready && c.OK
	}
}

// coverage fills the review's days from device_days rows (the period and
// the recent window) and returns the full days of the recent window from
// recentFrom without logs.
func (r *DeviceReview) coverage(days []storage.DeviceDay, recentFrom time.Time) []time.Time {
	today := r.To.Truncate(24 * time.Hour)
	var total uint64
	recentSilent := []time.Time{}
	r.Days, r.Silent = []Day{}, []time.Time{}
	for _, d := range days {
		day := Day{Day: d.Day.UTC(), Events: d.Events, Partial: !d.Day.Before(today)}
		if !day.Partial && d.Events == 0 && !day.Day.Before(recentFrom) {
			recentSilent = append(recentSilent, day.Day)
		}
		if day.Day.Before(r.From.Truncate(24 * time.Hour)) {
			continue // before the period: the recent window's only
		}
		total += d.Events
		r.Days = append(r.Days, day)
		if day.Partial {
			continue
		}
		r.FullDays++
		if d.Events > 0 {
			r.DaysWithLogs++
		} else {
			r.Silent = append(r.Silent, day.Day)
		}
	}
	r.NoData = total == 0
	return recentSilent
}

// recentLabel names the recent window before to's day: "the last 7 days
// (2026-11-13 .. 2026-11-19)".
func (t Thresholds) recentLabel(to time.Time) string {
	from := t.recentFrom(to)
	return fmt.Sprintf("the last %d days (%s .. %s)", t.RecentDays, from.Format(time.DateOnly), to.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Format(time.DateOnly))
}

// splitWouldBlock groups would-block rows and sorts them into policy
// violations, expected to stop, and flows that look like missing conduit
// rules: what otsiem propose would turn into a rule from them (regular,
// repeated, between zones that may be joined).
func (p *Plant) splitWouldBlock(rows []storage.DeviceFlow, rec Recurrence) (violations, missing, allowed []*Group) {
	base := make([]storage.BaselineFlow, len(rows))
	for i, r := range rows {
		base[i] = storage.BaselineFlow{SrcIP: r.SrcIP, DstIP: r.DstIP, Transport: r.Transport, DstPort: r.DstPort, AppProtocol: r.AppProtocol,
			FunctionCode: r.FunctionCode, Function: r.Function, Events: r.Events, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
			Days: r.Days, Devices: []string{r.Device}}
	}
	prop := p.Propose(base, ProposeOptions{Recurrence: rec})
	var cand, viol, now []storage.DeviceFlow
	var candWhy, violWhy []string
	for i, r := range rows {
		switch oc := prop.outcomes[i]; {
		case oc.allowed:
			now = append(now, r)
		case oc.rule != nil:
			cand = append(cand, r)
			candWhy = append(candWhy, fmt.Sprintf("otsiem propose: %s port %d %q on %s", oc.rule.Protocol, oc.rule.Port, oc.rule.Direction, oc.rule.Conduit))
		case oc.refused != nil:
			viol = append(viol, r)
			violWhy = append(violWhy, oc.refused.Reason)
		case oc.rare != nil:
			viol = append(viol, r)
			violWhy = append(violWhy, fmt.Sprintf("seen %d times on %d days: not regular", oc.rare.Events, oc.rare.Days))
		default:
			viol = append(viol, r)
			violWhy = append(violWhy, "")
		}
	}
	return p.groupWhy(viol, violWhy, true), p.groupWhy(cand, candWhy, true), p.group(now, true)
}

func (p *Plant) group(rows []storage.DeviceFlow, withReason bool) []*Group {
	return p.groupWhy(rows, make([]string, len(rows)), withReason)
}

// groupWhy merges rows by source and destination asset (or address),
// service and function, and the model's reason when withReason.
func (p *Plant) groupWhy(rows []storage.DeviceFlow, why []string, withReason bool) []*Group {
	type key struct {
		from, to, transport, app, function, reason string
		port                                       uint16
	}
	byKey := map[key]*Group{}
	out := []*Group{}
	for i, r := range rows {
		fn := ""
		if r.FunctionCode >= 0 || r.Function != "" {
			fn = functionLabel(r.AppProtocol, int(r.FunctionCode), r.Function)
		}
		k := key{from: p.endpoint(r.SrcIP), to: p.endpoint(r.DstIP), transport: r.Transport, app: r.AppProtocol, function: fn, port: r.DstPort}
		if withReason {
			k.reason = r.Reason
		}
		g := byKey[k]
		if g == nil {
			g = &Group{From: k.from, SrcZone: r.SrcZone, To: k.to, DstZone: r.DstZone, Conduit: r.Conduit, Transport: r.Transport, Port: r.DstPort,
				App: r.AppProtocol, Function: fn, Reason: k.reason, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
			byKey[k] = g
			out = append(out, g)
		}
		g.Events += r.Events
		g.FirstSeen, g.LastSeen = minTime(g.FirstSeen, r.FirstSeen), maxTime(g.LastSeen, r.LastSeen)
		for _, d := range r.Days {
			if !slices.ContainsFunc(g.days, d.Equal) {
				g.days = append(g.days, d)
			}
		}
		g.Days = len(g.days)
		addUnique(&g.Actions, r.Action)
		addUnique(&g.Rules, r.Rule)
		if why[i] != "" && g.Why == "" {
			g.Why = why[i]
		}
	}
	slices.SortFunc(out, func(a, b *Group) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(b.Events, a.Events), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

func addUnique(list *[]string, s string) {
	if s != "" && !slices.Contains(*list, s) {
		*list = append(*list, s)
		slices.Sort(*list)
	}
}

func ruleNames(gs []*Group) []string {
	var out []string
	for _, g := range gs {
		for _, r := range g.Rules {
			addUnique(&out, r)
		}
	}
	return out
}

// describe names up to three groups: "HMI-01 -> PLC-01 modbus tcp/502".
func describe(gs []*Group) string {
	var parts []string
	for i, g := range gs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(gs)-3))
			break
		}
		s := g.From + " -> " + g.To + " " + g.Service()
		if g.Function != "" {
			s += " " + g.Function
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// dates writes sorted UTC days, consecutive ones as a range:
// "2026-10-01..2026-11-25, 2026-11-27".
func dates(ts []time.Time) string {
	var parts []string
	for i := 0; i < len(ts); {
		j := i
		for j+1 < len(ts) && ts[j+1].Equal(ts[j].AddDate(0, 0, 1)) {
			j++
		}
		s := ts[i].Format(time.DateOnly)
		if j > i {
			s += ".." + ts[j].Format(time.DateOnly)
		}
		parts = append(parts, s)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// countDates writes days with their count: "56 days (2026-10-01..2026-11-25)".
func countDates(ts []time.Time) string {
	return fmt.Sprintf("%d %s (%s)", len(ts), plural(len(ts), "day", "days"), dates(ts))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
