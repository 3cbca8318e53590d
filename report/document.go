package report

import (
	"fmt"
	"strings"
)

// document is the report laid out once for every format: the header, the
// seed's three sections, the evidence sections and the requirements.
// Each writer (text, markdown, html, pdf) walks it; none decides content.
type document struct {
	Title    string
	Header   []field
	Notice   string // said plainly at the top: the empty period
	Sections []section
}

type section struct {
	Title  string // "Zone architecture"; text writes "ZONE ARCHITECTURE:"
	Blocks []block
}

// block is one of: an item (heading with fields), loose fields, a table,
// a chart, or a paragraph.
type block struct {
	Heading string
	Status  string // a requirement's status, for colour
	Fields  []field
	Table   *table
	Chart   chart
	Text    string
}

// field is "Key: value", optionally with a list below it.
type field struct {
	Key, Value string
	List       []string
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
	Numeric []bool // right-aligned columns
	Empty   string // said instead of an empty table
}

// chart names one of the charts (charts.go).
type chart string

const (
	chartNone      chart = ""
	chartConduits  chart = "conduits"
	chartBreaking  chart = "breaking"
	chartDiodes    chart = "diodes"
	chartLogSource chart = "log_sources"
)

// emptyNotice is how every format says that a period had no events.
const emptyNotice = "NO EVENTS WERE STORED FOR THIS PERIOD. Nothing below is evidence: the zones and conduits are the declared design, and every observed figure is zero."

func layout(r *Report) *document {
	d := &document{Title: r.Title, Header: []field{
		{Key: "Facility", Value: r.Facility},
		{Key: "Implementation Date", Value: r.ImplementationDate},
		{Key: "Standard", Value: r.Standard},
		{Key: "Period", Value: fmt.Sprintf("%s to %s UTC (%s)", stamp(r.Period.From), stamp(r.Period.To), periodLength(r.Period))},
		{Key: "Model version", Value: r.Model.Short + " (sha256 " + r.Model.Hash + ")"},
		{Key: "Generated", Value: stamp(r.GeneratedAt) + " UTC by otsiem " + r.Version},
	}}
	if r.Empty {
		d.Notice = emptyNotice
	}
	d.Sections = append(d.Sections, zoneSection(r), conduitSection(r), validationSection(r))
	d.Sections = append(d.Sections, evidenceSections(r)...)
	d.Sections = append(d.Sections, requirementSection(r))
	return d
}

func zoneSection(r *Report) section {
	s := section{Title: "Zone architecture"}
	for _, z := range r.Zones {
		slt := "not set"
		if z.SLT != nil {
			slt = fmt.Sprint(*z.SLT)
		}
		conduits := orNone(z.Conduits)
		if z.AirGapped {
			conduits = "none (air-gapped)"
		}
		s.Blocks = append(s.Blocks, block{Heading: fmt.Sprintf("Zone %s: %s (SL-T: %s)", z.ID, z.Name, slt), Fields: []field{
			{Key: "Assets", Value: fmt.Sprint(z.Assets)},
			{Key: "Conduits", Value: conduits},
			{Key: "Controls", Value: strings.Join(z.Controls, "; ")},
		}})
	}
	return s
}

func conduitSection(r *Report) section {
	s := section{Title: "Conduit configuration"}
	for _, c := range r.Conduits {
		var protos []string
		for _, p := range c.Protocols {
			protos = append(protos, strings.TrimSpace(p.Protocol+" "+p.Ports)+" "+p.Direction)
		}
		dpi := "No (no function-level events observed)"
		if c.DPI {
			dpi = fmt.Sprintf("Yes (%s function-level events from %s)", num(c.DPIEvents), strings.Join(c.DPIDevices, ", "))
		}
		s.Blocks = append(s.Blocks, block{Heading: fmt.Sprintf("Conduit %s: %s", c.ID, strings.Join(c.Zones, " <-> ")), Fields: []field{
			{Key: "Protocols", Value: strings.Join(protos, "; ")},
			{Key: "Firewall Rules", Value: fmt.Sprintf("%d allow / %d deny", c.AllowRules, c.DenyRules)},
			{Key: "DPI Enabled", Value: dpi},
		}})
	}
	return s
}

func validationSection(r *Report) section {
	v := r.Validation
	cz := fmt.Sprintf("%d pass / %d fail (distinct cross-zone flows; %s events passed, %s failed)",
		v.CrossZone.Passed, v.CrossZone.Failed, num(v.CrossZone.PassedEvents), num(v.CrossZone.FailedEvents))
	if v.CrossZone.Passed+v.CrossZone.Failed == 0 {
		cz = "0 pass / 0 fail (no cross-zone traffic in period)"
	}
	pr := field{Key: "Prohibited path tests"}
	switch {
	case v.Prohibited.Attempts == 0:
		pr.Value = "none attempted in period"
	case v.Prohibited.AllBlocked:
		pr.Value = fmt.Sprintf("all blocked (%s attempts)", num(v.Prohibited.Attempts))
	default:
		pr.Value = fmt.Sprintf("%d exceptions (%s of %s attempts got through)", len(v.Prohibited.Exceptions),
			num(v.Prohibited.Attempts-v.Prohibited.Blocked), num(v.Prohibited.Attempts))
		for _, p := range v.Prohibited.Exceptions {
			pr.List = append(pr.List, pathLine(p))
		}
	}
	fn := field{Key: "Protocol enforcement"}
	switch v.Functions.Status {
	case FunctionsVerified:
		fn.Value = fmt.Sprintf("function code filtering verified (%s write attempts on read-only conduits blocked, none got through)", num(v.Functions.Blocked))
	case FunctionsFailed:
		fn.Value = fmt.Sprintf("function code filtering FAILED (%s function-restricted attempts got through, %s blocked)", num(v.Functions.Passed), num(v.Functions.Blocked))
		for _, p := range v.Functions.Exceptions {
			fn.List = append(fn.List, pathLine(p))
		}
	default:
		fn.Value = "function code filtering not exercised (no function-restricted attempts in period)"
	}
	return section{Title: "Validation results", Blocks: []block{{Fields: []field{{Key: "Cross-zone tests", Value: cz}, pr, fn}}}}
}

func evidenceSections(r *Report) []section {
	e := r.Evidence
	var out []section

	// Per conduit and day: allowed / policy-breaking.
	conduits := []string{}
	for _, c := range r.Conduits {
		conduits = append(conduits, c.ID)
	}
	conduits = append(conduits, "")
	daily := &table{Caption: "Events per conduit and day: allowed / policy-breaking", Head: []string{"Day"}, Numeric: []bool{false}}
	for _, c := range conduits {
		daily.Head = append(daily.Head, conduitName(c))
		daily.Numeric = append(daily.Numeric, true)
	}
	for _, d := range r.Period.days() {
		row := []string{day(d)}
		for _, c := range conduits {
			cell := "-"
			for _, x := range e.ConduitDaily {
				if x.Conduit == c && x.Day.Equal(d) {
					cell = num(x.Allowed) + " / " + num(x.PolicyBreaking)
				}
			}
			row = append(row, cell)
		}
		daily.Rows = append(daily.Rows, row)
	}
	out = append(out, section{Title: "Conduit traffic over time", Blocks: []block{
		{Chart: chartConduits}, {Chart: chartBreaking}, {Table: daily}}})

	contacts := func(caption, empty string, cs []Contact) *table {
		t := &table{Caption: caption, Empty: empty,
			Head:    []string{"First seen", "Last seen", "Source", "Destination", "Service", "Verdict", "Events"},
			Numeric: []bool{false, false, false, false, false, false, true}}
		for _, c := range cs {
			t.Rows = append(t.Rows, []string{stamp(c.FirstSeen), stamp(c.LastSeen), endpoint(c.SrcZone, c.SrcIP, c.Sources),
				endpoint(c.DstZone, c.DstIP, c.Destinations), service(c.Transport, c.Port, c.AppProtocol), c.Verdict, num(c.Events)})
		}
		return t
	}
	out = append(out, section{Title: "Undeclared paths and air-gap contacts", Blocks: []block{
		{Table: contacts("Undeclared paths (cross-zone traffic on no conduit)", "none in period", e.UndeclaredPaths)},
		{Table: contacts("Air-gap contacts (any traffic touching an air-gapped zone)", "none in period", e.AirGapContacts)},
	}})

	en := e.Enforcement
	devs := &table{Caption: "Cross-zone events per reporting device", Empty: "no cross-zone events in period",
		Head: []string{"Device", "Role", "Mode", "Events", "Policy-breaking", "Would block"}, Numeric: []bool{false, false, false, true, true, true}}
	for _, x := range en.ByDevice {
		devs.Rows = append(devs.Rows, []string{deviceName(x.Device), x.Role, x.Mode, num(x.Events), num(x.PolicyBreaking), num(x.WouldBlock)})
	}
	var monitor []string
	for _, md := range en.MonitorMode {
		s := fmt.Sprintf("%s on %s", md.Hostname, orNone(md.Conduits))
		if !md.Since.IsZero() {
			s += " since " + day(md.Since)
		}
		monitor = append(monitor, fmt.Sprintf("%s: %s cross-zone events, %s would be blocked in enforce mode", s, num(md.Events), num(md.WouldBlock)))
	}
	monitorValue := plural(len(monitor), "firewall")
	if len(monitor) == 0 {
		monitorValue = "none"
	}
	out = append(out, section{Title: "Enforcement coverage", Blocks: []block{
		{Fields: []field{
			{Key: "Seen by an enforcing firewall", Value: fmt.Sprintf("%s of %s cross-zone events (%s)", num(en.Enforced), num(en.CrossZoneEvents), pct(en.Enforced, en.CrossZoneEvents))},
			{Key: "Still in monitor mode", Value: monitorValue, List: monitor},
		}},
		{Table: devs},
	}})

	dt := &table{Caption: "Diode availability per day (a minute is up when an ok heartbeat arrived in it; silence counts as down)",
		Empty: "no diodes declared or heard", Head: []string{"Diode", "Period"}, Numeric: []bool{false, true}}
	for _, d := range r.Period.days() {
		dt.Head = append(dt.Head, d.Format("01-02"))
		dt.Numeric = append(dt.Numeric, true)
	}
	for _, d := range e.Diodes {
		row := []string{d.ID, ratio(d.Availability)}
		for _, x := range d.Days {
			cell := ratio(x.Availability)
			if x.Heartbeats == 0 {
				cell = "silent"
			}
			row = append(row, cell)
		}
		dt.Rows = append(dt.Rows, row)
	}
	out = append(out, section{Title: "Diode availability", Blocks: []block{{Chart: chartDiodes}, {Table: dt}}})

	ls := &table{Caption: "Declared log sources, then undeclared ones heard",
		Head:    []string{"Device", "Role", "Events", "Days with logs", "Longest silence", "Silent from", "Clock skew (median)"},
		Numeric: []bool{false, false, true, true, true, false, true}}
	for _, x := range e.LogSources {
		skew := "-"
		if x.Events > 0 {
			skew = millis(x.SkewP50)
			if x.ClockOutside {
				skew += " (outside)"
			}
		}
		silence, from := duration(x.LongestSilence), stamp(x.SilenceFrom)
		if x.LongestSilence < 60 { // no gap of a minute: nothing to date
			silence, from = "under 1m", "-"
		}
		if x.Silent {
			silence += " (too long)"
		}
		ls.Rows = append(ls.Rows, []string{deviceName(x.Device), x.Role, num(x.Events),
			fmt.Sprintf("%d of %d", x.DaysWithLogs, r.Period.Days), silence, from, skew})
	}
	out = append(out, section{Title: "Log-source coverage and clock skew", Blocks: []block{
		{Chart: chartLogSource}, {Table: ls},
		{Text: fmt.Sprintf("Clock skew is the receive time minus the device's own event time: the device clock's error plus the transport delay. Tolerances: silence %s, clock skew ±%s.",
			duration(int64(e.Tolerances.SilenceSeconds)), millis(int64(e.Tolerances.ClockSkewSeconds * 1000))[1:])},
	}})

	ft := &table{Caption: "Unresolved findings first seen before the period's end (their analyst state as it stands now), by severity and age",
		Empty: "no open findings", Head: []string{"Severity", "State", "Age", "Findings", "Events", "Oldest first seen"},
		Numeric: []bool{false, false, false, true, true, false}}
	for _, f := range e.OpenFindings {
		ft.Rows = append(ft.Rows, []string{f.Severity, f.State, f.Age, num(f.Findings), num(f.Events), stamp(f.Oldest)})
	}
	out = append(out, section{Title: "Open findings", Blocks: []block{{Table: ft}}})
	return out
}

func requirementSection(r *Report) section {
	s := section{Title: "IEC 62443-3-3 evidence"}
	sum := &table{Head: []string{"Requirement", "", "Status"}, Numeric: []bool{false, false, false}}
	for _, q := range r.Requirements {
		sum.Rows = append(sum.Rows, []string{q.ID, q.Title, q.Status})
	}
	s.Blocks = append(s.Blocks, block{Table: sum})
	for _, q := range r.Requirements {
		ex := field{Key: "Exceptions", Value: "none", List: q.Exceptions}
		if len(q.Exceptions) > 0 {
			ex.Value = fmt.Sprint(len(q.Exceptions))
		}
		s.Blocks = append(s.Blocks, block{Heading: q.ID + " " + q.Title + ": " + q.Status, Status: q.Status,
			Fields: []field{{Key: "Observed", Value: q.Observed}, ex}})
	}
	return s
}

func conduitName(c string) string {
	if c == "" {
		return "(no conduit)"
	}
	return c
}
