package review

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

func (r Recurrence) orDefault() Recurrence {
	if r.MinCount <= 0 {
		r.MinCount = DefaultRecurrence.MinCount
	}
	if r.MinDays <= 0 {
		r.MinDays = DefaultRecurrence.MinDays
	}
	return r
}

// Flow is one observed flow, initiator to responder, over a period: the
// baseline rows of one address pair and service, merged.
type Flow struct {
	Src       netip.Addr `json:"src_ip"`
	SrcAsset  string     `json:"src_asset,omitempty"`
	SrcZone   string     `json:"src_zone,omitempty"`
	Dst       netip.Addr `json:"dst_ip"`
	DstAsset  string     `json:"dst_asset,omitempty"`
	DstZone   string     `json:"dst_zone,omitempty"`
	Transport string     `json:"transport"`
	Port      uint16     `json:"port"`
	App       string     `json:"app_protocol,omitempty"`
	// Functions are the functions observed, as "FC 3 read_holding_registers"
	// or a service name; empty when no DPI named any.
	Functions []string  `json:"functions,omitempty"`
	Reason    string    `json:"reason,omitempty"` // the model's, under the current model
	Events    uint64    `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Days      int       `json:"days"`
	Devices   []string  `json:"devices,omitempty"`

	days   []time.Time
	rows   []row
	codes  []int    // function codes observed (numbered protocols)
	names  []string // function names observed
	writes bool     // a function observed is not one of the protocol's reads
}

// row is one baseline row judged under the current model.
type row struct {
	storage.BaselineFlow
	i    int // index in the baseline
	flow rules.Flow
	dec  rules.Decision
	app  string
}

// From and To name a flow's endpoints by asset, or by address.
func (f *Flow) From() string { return cmp.Or(f.SrcAsset, f.Src.String()) }

// To names the responder by asset, or by address.
func (f *Flow) To() string { return cmp.Or(f.DstAsset, f.Dst.String()) }

// Service is how a flow's protocol and port read: "modbus tcp/502".
func (f *Flow) Service() string {
	if f.App == "" {
		return fmt.Sprintf("%s/%d", f.Transport, f.Port)
	}
	return fmt.Sprintf("%s %s/%d", f.App, f.Transport, f.Port)
}

func (f *Flow) add(r row) {
	if len(f.rows) == 0 {
		f.FirstSeen, f.LastSeen = r.FirstSeen, r.LastSeen
	}
	f.rows = append(f.rows, r)
	f.Events += r.Events
	if r.FirstSeen.Before(f.FirstSeen) {
		f.FirstSeen = r.FirstSeen
	}
	if r.LastSeen.After(f.LastSeen) {
		f.LastSeen = r.LastSeen
	}
	for _, d := range r.Days {
		if !slices.ContainsFunc(f.days, d.Equal) {
			f.days = append(f.days, d)
		}
	}
	f.Days = len(f.days)
	for _, d := range r.Devices {
		if !slices.Contains(f.Devices, d) {
			f.Devices = append(f.Devices, d)
		}
	}
	slices.Sort(f.Devices)
	if f.App == "" {
		f.App = r.app
	}
	code := normCode(r.app, int(r.FunctionCode))
	switch {
	case code >= 0 && !slices.Contains(f.codes, code):
		f.codes = append(f.codes, code)
		slices.Sort(f.codes)
	case code < 0 && r.Function != "" && !slices.Contains(f.names, r.Function):
		f.names = append(f.names, r.Function)
		slices.Sort(f.names)
	}
	if r.FunctionCode >= 0 || r.Function != "" {
		if ro, known := rules.ReadOnlyFunction(r.app, code, r.Function); known && !ro {
			f.writes = true
		}
		l := functionLabel(r.app, int(r.FunctionCode), r.Function)
		if !slices.Contains(f.Functions, l) {
			f.Functions = append(f.Functions, l)
			slices.Sort(f.Functions)
		}
	}
}

// recurring reports whether the flow is regular enough to become a rule.
func (f *Flow) recurring(r Recurrence) bool {
	return f.Events >= uint64(r.MinCount) && f.Days >= r.MinDays
}

// Rule is one proposed protocols_allowed entry, in the seed's format.
type Rule struct {
	Conduit string `json:"conduit"`
	// NewConduit is true when the conduit is proposed too.
	NewConduit bool   `json:"new_conduit,omitempty"`
	From       string `json:"from_zone"`
	To         string `json:"to_zone"`
	Protocol   string `json:"protocol"` // as the zone document writes it
	App        string `json:"app_protocol,omitempty"`
	Transport  string `json:"transport"`
	Port       uint16 `json:"port"`
	// Direction is the seed's direction text with the observed function
	// codes, e.g. "Z3 -> Z2 (read only, FC 3 only)".
	Direction string `json:"direction"`
	// Unlisted says the protocol is not in otsiem's catalogue, so the rule
	// names its transport.
	Unlisted bool `json:"unlisted,omitempty"`
	// Note says what the rule could not restrict, e.g. functions not
	// observed.
	Note      string    `json:"note,omitempty"`
	Reasons   []string  `json:"reasons"` // why the model refused these flows
	Flows     []*Flow   `json:"flows"`
	Events    uint64    `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Days      int       `json:"days"`

	from, to *rules.Zone
	days     []time.Time
}

// Conduit is a proposed new conduit between two zones that have none.
type Conduit struct {
	ID    string   `json:"conduit_id"`
	Name  string   `json:"name"`
	Zones []string `json:"connects"`
	SL    int      `json:"security_level"` // -1 when the zones give no SL-T
	Rules []*Rule  `json:"rules"`

	zones [2]*rules.Zone
}

// Refused is a group of flows that must never become a rule, with why.
type Refused struct {
	Kind      Refusal   `json:"kind"`
	Reason    string    `json:"reason"` // one sentence per distinct cause
	SrcZone   string    `json:"src_zone,omitempty"`
	DstZone   string    `json:"dst_zone,omitempty"`
	Service   string    `json:"service"`
	Flows     []*Flow   `json:"flows"`
	Events    uint64    `json:"events"`
	Details   []string  `json:"details,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Proposal is what a traffic baseline says the model lacks.
type Proposal struct {
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	Recurrence Recurrence `json:"recurrence"`
	// BaselineFlows and BaselineEvents count what the period holds.
	BaselineFlows  int    `json:"baseline_flows"`
	BaselineEvents uint64 `json:"baseline_events"`
	// AllowedEvents the model already allows (within a zone or on a rule).
	AllowedEvents uint64     `json:"allowed_events"`
	Rules         []*Rule    `json:"rules"`        // on existing and new conduits, in document order
	Conduits      []*Conduit `json:"new_conduits"` // proposed conduits
	Refused       []*Refused `json:"not_proposed"`
	// Rare flows the model does not allow but that were seen too seldom
	// to propose (below the recurrence thresholds).
	Rare []*Flow `json:"rare"`

	outcomes []outcome // per baseline row
}

// outcome is what became of one baseline row.
type outcome struct {
	allowed bool
	rule    *Rule
	refused *Refused
	rare    *Flow
}

// Empty reports whether the period holds no traffic at all.
func (p *Proposal) Empty() bool { return p.BaselineFlows == 0 }

// ProposeOptions configure Propose.
type ProposeOptions struct {
	From, To   time.Time
	Recurrence Recurrence
}

// Propose reads the traffic baseline of [From, To) from the store
// (storage.QueryBaselineFlows), judges it under the plant's current model
// and proposes the conduit rules the model lacks.
func Propose(ctx context.Context, conn driver.Conn, p *Plant, o ProposeOptions) (*Proposal, error) {
	var rows []storage.BaselineFlow
	if err := storage.Select(ctx, conn, storage.QueryBaselineFlows, &rows, storage.DeviceWindow("", o.From, o.To)...); err != nil {
		return nil, err
	}
	return p.Propose(rows, o), nil
}

// Propose turns baseline rows into a proposal: each row is judged under
// the current model; rows it allows are the baseline it already has; the
// rest are merged into flows (address pair and service), refused with a
// reason when they must never become rules (see Refusal), and the
// recurring others grouped into one rule per zone pair, direction,
// transport, port and protocol.
func (p *Plant) Propose(baseline []storage.BaselineFlow, o ProposeOptions) *Proposal {
	rec := o.Recurrence.orDefault()
	out := &Proposal{From: o.From, To: o.To, Recurrence: rec, BaselineFlows: len(baseline), outcomes: make([]outcome, len(baseline)),
		Rules: []*Rule{}, Conduits: []*Conduit{}, Refused: []*Refused{}, Rare: []*Flow{}}
	type flowKey struct {
		src, dst  netip.Addr
		transport string
		port      uint16
		app       string
		refusal   Refusal
	}
	flows := map[flowKey]*Flow{}
	var order []flowKey
	details := map[*Flow][]string{}
	for i, b := range baseline {
		out.BaselineEvents += b.Events
		f := rules.Flow{Src: b.SrcIP.Unmap(), Dst: b.DstIP.Unmap(), Transport: b.Transport, Port: b.DstPort, App: b.AppProtocol,
			FunctionCode: int(b.FunctionCode), Function: b.Function}
		d := p.Model.Evaluate(f)
		// otsiem's own monitoring traffic (a device's syslog to the
		// collector, time sync) is the model's, never a rule to propose.
		if d.Allowed || d.Reason == rules.Monitoring {
			out.AllowedEvents += b.Events
			out.outcomes[i].allowed = true
			continue
		}
		d = p.asNoConduit(d)
		kind, detail := p.refuse(f, d)
		r := row{BaselineFlow: b, i: i, flow: f, dec: d, app: appOf(f)}
		k := flowKey{f.Src, f.Dst, f.Transport, f.Port, r.app, kind}
		fl := flows[k]
		if fl == nil {
			fl = &Flow{Src: f.Src, Dst: f.Dst, Transport: f.Transport, Port: f.Port, SrcAsset: assetName(d.SrcAsset),
				DstAsset: assetName(d.DstAsset), SrcZone: zoneID(d.SrcZone), DstZone: zoneID(d.DstZone), Reason: string(d.Reason)}
			flows[k] = fl
			order = append(order, k)
		}
		fl.add(r)
		if detail != "" && !slices.Contains(details[fl], detail) {
			details[fl] = append(details[fl], detail)
		}
	}
	refused := map[string]*Refused{}
	proposed := map[string]*Rule{}
	for _, k := range order {
		fl := flows[k]
		sz, dz := fl.rows[0].dec.SrcZone, fl.rows[0].dec.DstZone
		if k.refusal == "" && needsFunctions(sz, dz, fl.App) && len(fl.codes)+len(fl.names) == 0 {
			k.refusal = RefuseControlWrite
			details[fl] = []string{fmt.Sprintf("no function of this %s flow was observed, and a rule from lower-trust %s into control zone %s must restrict functions: observe it with DPI first",
				displayName(fl.App), sz.ID, dz.ID)}
		}
		if k.refusal != "" {
			key := string(k.refusal) + "|" + fl.SrcZone + "|" + fl.DstZone + "|" + fl.Service()
			g := refused[key]
			if g == nil {
				g = &Refused{Kind: k.refusal, SrcZone: fl.SrcZone, DstZone: fl.DstZone, Service: fl.Service(), FirstSeen: fl.FirstSeen}
				refused[key] = g
				out.Refused = append(out.Refused, g)
			}
			g.Flows = append(g.Flows, fl)
			g.Events += fl.Events
			for _, r := range fl.rows {
				out.outcomes[r.i].refused = g
			}
			g.FirstSeen, g.LastSeen = minTime(g.FirstSeen, fl.FirstSeen), maxTime(g.LastSeen, fl.LastSeen)
			for _, d := range details[fl] {
				if !slices.Contains(g.Details, d) {
					g.Details = append(g.Details, d)
				}
			}
			continue
		}
		if !fl.recurring(rec) {
			out.Rare = append(out.Rare, fl)
			for _, r := range fl.rows {
				out.outcomes[r.i].rare = fl
			}
			continue
		}
		key := fl.SrcZone + "|" + fl.DstZone + "|" + fl.Transport + "|" + strconv.Itoa(int(fl.Port)) + "|" + fl.App
		r := proposed[key]
		if r == nil {
			r = &Rule{From: sz.ID, To: dz.ID, App: fl.App, Transport: fl.Transport, Port: fl.Port, from: sz, to: dz, FirstSeen: fl.FirstSeen}
			proposed[key] = r
			out.Rules = append(out.Rules, r)
		}
		r.Flows = append(r.Flows, fl)
		for _, x := range fl.rows {
			out.outcomes[x.i].rule = r
		}
		r.Events += fl.Events
		r.FirstSeen, r.LastSeen = minTime(r.FirstSeen, fl.FirstSeen), maxTime(r.LastSeen, fl.LastSeen)
		for _, d := range fl.days {
			if !slices.ContainsFunc(r.days, d.Equal) {
				r.days = append(r.days, d)
			}
		}
		r.Days = len(r.days)
		if !slices.Contains(r.Reasons, fl.Reason) {
			r.Reasons = append(r.Reasons, fl.Reason)
		}
	}
	for _, g := range out.Refused {
		g.Reason = strings.Join(g.Details, "; ")
		slices.SortFunc(g.Flows, byEvents)
	}
	slices.SortFunc(out.Refused, func(a, b *Refused) int {
		return cmp.Or(cmp.Compare(refusalRank(a.Kind), refusalRank(b.Kind)), cmp.Compare(b.Events, a.Events), cmp.Compare(a.Service, b.Service))
	})
	slices.SortFunc(out.Rare, byEvents)
	p.place(out)
	return out
}

// asNoConduit reads an air gap between zones that are not isolated by
// design as what it is: two zones with no conduit yet (a flat network
// being zoned).
func (p *Plant) asNoConduit(d rules.Decision) rules.Decision {
	if d.Reason == rules.AirGap && d.SrcZone != nil && d.DstZone != nil && p.isolated[d.SrcZone] == "" && p.isolated[d.DstZone] == "" {
		d.Reason = rules.NoConduit
	}
	return d
}

func refusalRank(r Refusal) int {
	return slices.Index([]Refusal{RefuseIsolated, RefuseDiode, RefuseDiodeBypass, RefuseControlWrite, RefusePurdueSkip, RefuseUnzoned}, r)
}

func byEvents(a, b *Flow) int {
	return cmp.Or(cmp.Compare(b.Events, a.Events), a.Src.Compare(b.Src), a.Dst.Compare(b.Dst), cmp.Compare(a.Port, b.Port))
}

// place puts each proposed rule on a conduit: the one the model already
// has between its zones (the first, as the model judges), or a new one per
// zone pair. It then words each rule as the zone document would.
func (p *Plant) place(out *Proposal) {
	newByPair := map[[2]*rules.Zone]*Conduit{}
	taken := map[string]bool{}
	for _, c := range p.Model.Conduits() {
		taken[c.ID] = true
	}
	// New conduits are numbered in the zones' document order.
	var pairs [][2]*rules.Zone
	for _, r := range out.Rules {
		if len(p.Model.ConduitsBetween(r.from, r.to)) == 0 {
			pair := [2]*rules.Zone{r.from, r.to}
			if r.from.Index > r.to.Index {
				pair = [2]*rules.Zone{r.to, r.from}
			}
			if !slices.Contains(pairs, pair) {
				pairs = append(pairs, pair)
			}
		}
	}
	slices.SortFunc(pairs, func(a, b [2]*rules.Zone) int {
		return cmp.Or(cmp.Compare(a[0].Index, b[0].Index), cmp.Compare(a[1].Index, b[1].Index))
	})
	for _, pair := range pairs {
		c := p.newConduit(pair, taken)
		newByPair[pair] = c
		out.Conduits = append(out.Conduits, c)
	}
	for _, r := range out.Rules {
		if cs := p.Model.ConduitsBetween(r.from, r.to); len(cs) > 0 {
			r.Conduit = cs[0].ID
			for _, fl := range r.Flows {
				if c := fl.rows[0].dec.Conduit; c != nil {
					r.Conduit = c.ID
				}
			}
		} else {
			pair := [2]*rules.Zone{r.from, r.to}
			if r.from.Index > r.to.Index {
				pair = [2]*rules.Zone{r.to, r.from}
			}
			c := newByPair[pair]
			c.Rules = append(c.Rules, r)
			r.Conduit, r.NewConduit = c.ID, true
		}
		p.word(r)
		slices.SortFunc(r.Flows, byEvents)
	}
	conduitRank := func(id string) int {
		for i, c := range p.Model.Conduits() {
			if c.ID == id {
				return i
			}
		}
		return len(p.Model.Conduits()) + slices.IndexFunc(out.Conduits, func(c *Conduit) bool { return c.ID == id })
	}
	slices.SortStableFunc(out.Rules, func(a, b *Rule) int {
		return cmp.Or(cmp.Compare(conduitRank(a.Conduit), conduitRank(b.Conduit)), cmp.Compare(a.from.Index, b.from.Index),
			cmp.Compare(a.to.Index, b.to.Index), cmp.Compare(a.Port, b.Port), cmp.Compare(a.App, b.App))
	})
	for _, c := range out.Conduits {
		slices.SortStableFunc(c.Rules, func(a, b *Rule) int { return slices.Index(out.Rules, a) - slices.Index(out.Rules, b) })
	}
}

// newConduit names a conduit for two zones as the seed does
// ("C4-OPS-ENT": the next free number and the zones' short names, the
// lower Purdue level first), with the lower SL-T of the two.
func (p *Plant) newConduit(pair [2]*rules.Zone, taken map[string]bool) *Conduit {
	a, b := pair[0], pair[1]
	if b.Purdue.Lo >= 0 && (a.Purdue.Lo < 0 || b.Purdue.Lo < a.Purdue.Lo) {
		a, b = b, a
	}
	n := 1
	for id := range taken {
		if rest, ok := strings.CutPrefix(id, "C"); ok {
			num, _, _ := strings.Cut(rest, "-")
			if v, err := strconv.Atoi(num); err == nil && v >= n {
				n = v + 1
			}
		}
	}
	id := fmt.Sprintf("C%d-%s-%s", n, zoneSuffix(a), zoneSuffix(b))
	for taken[id] {
		n++
		id = fmt.Sprintf("C%d-%s-%s", n, zoneSuffix(a), zoneSuffix(b))
	}
	taken[id] = true
	sl := -1
	if a.SLT >= 0 && b.SLT >= 0 {
		sl = min(a.SLT, b.SLT)
	}
	return &Conduit{ID: id, Name: fmt.Sprintf("%s to %s (proposed)", cmp.Or(a.Name, a.ID), cmp.Or(b.Name, b.ID)),
		Zones: []string{a.ID, b.ID}, SL: sl, zones: [2]*rules.Zone{a, b}}
}

// zoneSuffix is the part of a zone id after its first dash ("OPS" for
// "Z3-OPS"), or the id.
func zoneSuffix(z *rules.Zone) string {
	if _, s, ok := strings.Cut(z.ID, "-"); ok && s != "" {
		return s
	}
	return z.ID
}

// word writes a rule as the zone document would: the protocol's name, its
// port, and a direction from the initiating zone with the functions
// observed ("Z3 -> Z2 (read only, FC 3/4 only)").
func (p *Plant) word(r *Rule) {
	info, known := rules.LookupProtocol(r.App)
	switch {
	case known:
		r.Protocol = displayName(info.Name)
	case r.App != "":
		r.Protocol, r.Unlisted = r.App, true
	default:
		r.Protocol, r.Unlisted = fmt.Sprintf("%s/%d", strings.ToUpper(r.Transport), r.Port), true
	}
	var codes []int
	var names []string
	unknown, writes := false, false
	for _, fl := range r.Flows {
		codes = append(codes, fl.codes...)
		names = append(names, fl.names...)
		unknown = unknown || len(fl.codes)+len(fl.names) == 0
		writes = writes || fl.writes
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	slices.Sort(names)
	names = slices.Compact(names)
	var quals []string
	switch {
	case !info.Functions:
	case len(codes)+len(names) == 0:
		r.Note = "no function was observed: the rule does not restrict functions"
	case info.NamedFunctions:
		if !writes {
			quals = append(quals, "read only")
		} else {
			r.Note = "functions observed: " + strings.Join(names, ", ") + " (not all read-only: no function restriction)"
		}
	default:
		// "read only, FC …" needs every code to read on its own; a code
		// whose meaning depends on the object it addresses (CIP services)
		// is left to "read only", which judges it with its name.
		byCode := true
		fc := make([]string, len(codes))
		for i, c := range codes {
			fc[i] = strconv.Itoa(c)
			if ro, known := rules.ReadOnlyFunction(info.Name, c, ""); !known || !ro {
				byCode = false
			}
		}
		if !writes {
			quals = append(quals, "read only")
		}
		if writes || byCode {
			quals = append(quals, "FC "+strings.Join(fc, "/")+" only")
		}
		if unknown {
			r.Note = "some events named no function: under this rule they are judged on port alone"
		}
	}
	r.Direction = p.short(r.from) + " -> " + p.short(r.to)
	if len(quals) > 0 {
		r.Direction += " (" + strings.Join(quals, ", ") + ")"
	}
}

// short names a zone the way the seed's directions do: the part before
// its first dash when that names no other zone ("Z3" for "Z3-OPS"), else
// its id.
func (p *Plant) short(z *rules.Zone) string {
	head, _, ok := strings.Cut(z.ID, "-")
	if !ok || head == "" {
		return z.ID
	}
	for _, o := range p.Model.Zones() {
		if o != z && (strings.EqualFold(o.ID, head) || strings.HasPrefix(strings.ToUpper(o.ID), strings.ToUpper(head)+"-")) {
			return z.ID
		}
	}
	return head
}

func assetName(a *rules.Asset) string {
	if a == nil {
		return ""
	}
	return a.Name
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return ""
	}
	return z.ID
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
