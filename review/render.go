package review

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otsiem/otsiem/escape"
)

// Formats are the output formats of a review.
var Formats = []string{"text", "markdown", "json"}

// Write writes a review in a format: text (for a terminal), markdown (for
// a change request), json (for tools).
func (res *Result) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "markdown":
		return res.markdown(w)
	case "text":
		return res.text(w)
	}
	return fmt.Errorf("format %q: want %s", format, strings.Join(Formats, ", "))
}

func (res *Result) text(w io.Writer) error {
	for i, d := range res.Devices {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if d.AlreadyEnforcing {
			d.enforcingText(w)
		} else {
			d.text(w)
		}
	}
	fmt.Fprintln(w)
	if len(res.Devices) > 1 {
		var ready []string
		for _, d := range res.Devices {
			ready = append(ready, fmt.Sprintf("%s %s", clean(d.Device), d.verdict()))
		}
		fmt.Fprintf(w, "Overall: %s (%s)\n", verdict(res.Ready()), strings.Join(ready, ", "))
	}
	fmt.Fprintf(w, "Judged under model %s%s at %s.\n", clean(res.Model), hashNote(res.ModelHash), res.Generated.Format("2006-01-02 15:04 MST"))
	return nil
}

func verdict(ready bool) string {
	if ready {
		return "READY"
	}
	return "NOT READY"
}

// verdict is the device's line in an overall verdict.
func (d *DeviceReview) verdict() string {
	if d.AlreadyEnforcing {
		return "ALREADY ENFORCING"
	}
	return verdict(d.Ready)
}

func (d *DeviceReview) title() string {
	what := strings.TrimSpace(d.Vendor + " " + d.Product)
	if what != "" {
		what = ", " + what
	}
	return fmt.Sprintf("%s%s, %s mode on %s", clean(d.Device), clean(what), d.Mode, strings.Join(d.Conduits, ", "))
}

func (d *DeviceReview) text(w io.Writer) {
	fmt.Fprintf(w, "otsiem review: %s\n\n", d.title())
	if d.periodText(w) {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "WOULD BREAK when enforcing: allowed by the model, denied by %s's rules (would_false_block)\n", clean(d.Device))
		groupTable(w, d.Break, "  none", false)
		fmt.Fprintln(w)
		fmt.Fprintf(w, "WOULD STOP when enforcing: forbidden by the model (would_block)\n")
		fmt.Fprintf(w, "  Look like missing conduit rules (regular, repeated, between zones that may be joined): %s\n", count(d.MissingRules))
		groupTable(w, d.MissingRules, "", true)
		fmt.Fprintf(w, "  Policy violations, expected to stop: %s\n", count(d.Violations))
		groupTable(w, d.Violations, "", true)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "READINESS: %s\n", verdict(d.Ready))
	for _, c := range d.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, c.Name, clean(c.Detail))
	}
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "  note %s\n", clean(s))
	}
}

// periodText prints the observation period: its days, how many with
// logs, the silent ones, and the strip; false when the device sent
// nothing in it, so there is nothing more to show.
func (d *DeviceReview) periodText(w io.Writer) bool {
	fmt.Fprintf(w, "OBSERVATION PERIOD\n")
	fmt.Fprintf(w, "  %s .. %s (%s)\n", d.From.Format(time.DateOnly), d.To.Format("2006-01-02 15:04 MST"), d.Basis)
	if d.NoData {
		fmt.Fprintf(w, "  No logs from %s in this period: nothing to review. Check that it sends syslog to otsiem\n  (otsiem query \"SELECT device, count() FROM events GROUP BY device\").\n", clean(d.Device))
		return false
	}
	fmt.Fprintf(w, "  %d full %s, %d with logs", d.FullDays, plural(d.FullDays, "day", "days"), d.DaysWithLogs)
	if len(d.Silent) > 0 {
		fmt.Fprintf(w, "; no logs on %s", countDates(d.Silent))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %s\n", d.strip())
	return true
}

// strip draws the period one character a day: '#' with logs, '.' without,
// '+' today so far.
func (d *DeviceReview) strip() string {
	var b strings.Builder
	for _, day := range d.Days {
		switch {
		case day.Partial:
			b.WriteByte('+')
		case day.Events > 0:
			b.WriteByte('#')
		default:
			b.WriteByte('.')
		}
	}
	return "days: " + b.String() + "  (# logs, . none, + today)"
}

func count(gs []*Group) string {
	if len(gs) == 0 {
		return "none"
	}
	var ev uint64
	for _, g := range gs {
		ev += g.Events
	}
	return fmt.Sprintf("%d %s, %s events", len(gs), plural(len(gs), "flow", "flows"), thousands(ev))
}

// fold merges, for people to read, groups that differ only by their
// destination and service, when there are more than three: a scan or a
// sweep reads as one line ("30 hosts in Z2-BPCS", "tcp/102, tcp/502").
// JSON keeps every group.
func fold(gs []*Group) []*Group {
	type key struct{ from, src, dst, reason, why, actions, rules string }
	byKey := map[key][]*Group{}
	var order []key
	for _, g := range gs {
		k := key{g.From, g.SrcZone, g.DstZone, g.Reason, g.Why, strings.Join(g.Actions, ","), strings.Join(g.Rules, ",")}
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], g)
	}
	var out []*Group
	for _, k := range order {
		members := byKey[k]
		if len(members) <= 3 {
			out = append(out, members...)
			continue
		}
		f := *members[0]
		var tos, services []string
		f.Events, f.Days, f.App, f.Function = 0, 0, "", ""
		slices.SortStableFunc(members, func(a, b *Group) int { return cmp.Compare(a.Port, b.Port) })
		for _, g := range members {
			addUnique(&tos, g.To)
			if s := g.Service(); !slices.Contains(services, s) {
				services = append(services, s)
			}
			f.Events += g.Events
			f.Days = max(f.Days, g.Days)
			f.FirstSeen, f.LastSeen = minTime(f.FirstSeen, g.FirstSeen), maxTime(f.LastSeen, g.LastSeen)
		}
		f.To, f.DstZone = fmt.Sprintf("%d hosts in %s", len(tos), k.dst), ""
		if len(tos) == 1 {
			f.To, f.DstZone = tos[0], k.dst
		}
		f.Transport, f.Port = strings.Join(services, ", "), 0
		if len(services) > 4 {
			f.Transport = fmt.Sprintf("%d services", len(services))
		}
		out = append(out, &f)
	}
	return out
}

// service is a group's service as tables show it (a folded group holds a
// list of them in Transport).
func (g *Group) service() string {
	if g.Port == 0 && g.App == "" {
		return g.Transport
	}
	return g.Service()
}

// groupTable prints groups as an aligned table (at most 20 rows), or
// none when there are none.
func groupTable(w io.Writer, gs []*Group, none string, why bool) {
	if len(gs) == 0 {
		if none != "" {
			fmt.Fprintln(w, none)
		}
		return
	}
	gs = fold(gs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "    FROM\tTO\tSERVICE\tFUNCTION\tLOGGED\tEVENTS\tDAYS\tFIRST SEEN\tLAST SEEN"
	if why {
		head += "\tREASON\tWHY"
	}
	fmt.Fprintln(tw, head)
	for i, g := range gs {
		if i == 20 {
			fmt.Fprintf(tw, "    … and %d more (--format json lists all)\n", len(gs)-20)
			break
		}
		logged := strings.Join(g.Actions, ",")
		if len(g.Rules) > 0 {
			logged += " by " + strings.Join(g.Rules, ",")
		}
		line := fmt.Sprintf("    %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s", cell(zoned(g.From, g.SrcZone)), cell(zoned(g.To, g.DstZone)), cell(g.service()),
			cell(g.Function), cell(logged), thousands(g.Events), g.Days, g.FirstSeen.Format(time.DateOnly), g.LastSeen.Format(time.DateOnly))
		if why {
			line += "\t" + cell(g.Reason) + "\t" + cell(g.Why)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func zoned(name, zone string) string {
	if zone == "" {
		return name
	}
	return name + " (" + zone + ")"
}

// cell is a value for an aligned table: printable, no tabs, "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(clean(s), "\t", " ")
}

// clean makes text from logs (names, rules) safe for a terminal: control
// characters and escape sequences are shown escaped (escape.Terminal).
func clean(s string) string { return escape.Terminal(s) }

func (res *Result) markdown(w io.Writer) error {
	for _, d := range res.Devices {
		if d.AlreadyEnforcing {
			d.enforcingMarkdown(w)
		} else {
			d.markdown(w)
		}
	}
	if len(res.Devices) > 1 {
		fmt.Fprintf(w, "**Overall: %s**\n", verdict(res.Ready()))
	}
	fmt.Fprintf(w, "\nGenerated by otsiem review on %s from model %s%s; thresholds: %d days observed, in the last %d days at most %d silent days and %d would\\_false\\_block flows.\n",
		res.Generated.Format("2006-01-02 15:04 MST"), md(res.Model), hashNote(res.ModelHash), res.Thresholds.MinObservedDays,
		res.Thresholds.RecentDays, res.Thresholds.MaxSilentDays, res.Thresholds.MaxWouldFalseBlock)
	return nil
}

func hashNote(h string) string {
	if h == "" {
		return ""
	}
	return " (version " + h + ")"
}

func (d *DeviceReview) markdown(w io.Writer) {
	fmt.Fprintf(w, "## Monitor-mode review: %s — **%s**\n\n", md(d.title()), verdict(d.Ready))
	for _, c := range d.Checks {
		mark := "✅"
		if !c.OK {
			mark = "❌"
		}
		fmt.Fprintf(w, "- %s **%s**: %s\n", mark, md(c.Name), md(c.Detail))
	}
	if !d.periodMarkdown(w) {
		return
	}
	fmt.Fprintf(w, "### Would break when enforcing (would_false_block)\n\nAllowed by the model, denied by %s's rules.\n\n", md(d.Device))
	mdGroups(w, d.Break, false)
	fmt.Fprintf(w, "### Would stop when enforcing (would_block)\n\n#### Look like missing conduit rules\n\n")
	mdGroups(w, d.MissingRules, true)
	fmt.Fprintf(w, "#### Policy violations, expected to stop\n\n")
	mdGroups(w, d.Violations, true)
}

// periodMarkdown writes the notes and the observation period; false when
// the device sent nothing in it, so there is nothing more to show.
func (d *DeviceReview) periodMarkdown(w io.Writer) bool {
	for _, s := range d.Warnings {
		fmt.Fprintf(w, "- ⚠️ %s\n", md(s))
	}
	fmt.Fprintf(w, "\n### Observation period\n\n%s .. %s (%s).", d.From.Format(time.DateOnly), d.To.Format("2006-01-02 15:04 MST"), md(d.Basis))
	if d.NoData {
		fmt.Fprintf(w, " **No logs from %s in this period: nothing to review.**\n\n", md(d.Device))
		return false
	}
	fmt.Fprintf(w, " %d full days, %d with logs", d.FullDays, d.DaysWithLogs)
	if len(d.Silent) > 0 {
		fmt.Fprintf(w, "; **no logs on %s**", countDates(d.Silent))
	}
	fmt.Fprint(w, ".\n\n")
	return true
}

func mdGroups(w io.Writer, gs []*Group, why bool) {
	if len(gs) == 0 {
		fmt.Fprint(w, "None.\n\n")
		return
	}
	gs = fold(gs)
	head, sep := "| From | To | Service | Function | Logged | Events | Days | First seen | Last seen |", "|---|---|---|---|---|--:|--:|---|---|"
	if why {
		head, sep = head+" Reason | Why |", sep+"---|---|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, g := range gs {
		logged := strings.Join(g.Actions, ", ")
		if len(g.Rules) > 0 {
			logged += " by " + strings.Join(g.Rules, ", ")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %d | %s | %s |", md(zoned(g.From, g.SrcZone)), md(zoned(g.To, g.DstZone)), md(g.service()),
			md(g.Function), md(logged), thousands(g.Events), g.Days, g.FirstSeen.Format(time.DateOnly), g.LastSeen.Format(time.DateOnly))
		if why {
			fmt.Fprintf(w, " %s | %s |", md(g.Reason), md(g.Why))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// md escapes text for a Markdown table cell or paragraph.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", "\n", " ").Replace(clean(s))
}
