package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/otsiem/otsiem/rules"
)

// ProposeFormats are the output formats of a proposal.
var ProposeFormats = []string{"yaml", "diff", "markdown", "json"}

// Write writes a proposal: yaml (the proposed entries in the zone
// document's format, with what is not proposed as comments), diff (a
// unified diff against the model's files, checked to load and to allow
// every proposed flow), markdown (for a change request), json.
func (p *Plant) Write(w io.Writer, prop *Proposal, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(prop)
	case "yaml":
		p.yaml(w, prop)
		return nil
	case "markdown":
		p.markdown(w, prop)
		return nil
	case "diff":
		edited, err := p.Edit(prop)
		if err != nil {
			return err
		}
		if _, err := p.Verify(prop, edited); err != nil {
			return err
		}
		_, err = io.WriteString(w, p.Diff(edited))
		return err
	}
	return fmt.Errorf("format %q: want %s", format, strings.Join(ProposeFormats, ", "))
}

// summary is the proposal's header, one sentence a line.
func (p *Plant) summary(prop *Proposal) []string {
	lines := []string{fmt.Sprintf("model %s%s", p.Path, hashNote(p.Model.ShortHash()))}
	period := fmt.Sprintf("baseline %s .. %s", prop.From.UTC().Format(time.DateOnly), prop.To.UTC().Format("2006-01-02 15:04 MST"))
	if prop.Empty() {
		return append(lines, period+": no traffic stored in this period, nothing to propose")
	}
	share := 100 * float64(prop.AllowedEvents) / float64(max(prop.BaselineEvents, 1))
	lines = append(lines, fmt.Sprintf("%s: %s flows, %s events, %.1f%% of them already allowed by the model", period,
		thousands(uint64(prop.BaselineFlows)), thousands(prop.BaselineEvents), share),
		fmt.Sprintf("a rule needs a flow seen at least %d times on at least %d days", prop.Recurrence.MinCount, prop.Recurrence.MinDays))
	switch n := len(prop.Rules); {
	case n == 0:
		lines = append(lines, "nothing to propose: the model allows every recurring flow that may become a rule")
	default:
		lines = append(lines, fmt.Sprintf("%d %s proposed, %d on new conduits", n, plural(n, "rule", "rules"), countNew(prop)))
	}
	return lines
}

func countNew(prop *Proposal) int {
	n := 0
	for _, r := range prop.Rules {
		if r.NewConduit {
			n++
		}
	}
	return n
}

func (p *Plant) yaml(w io.Writer, prop *Proposal) {
	fmt.Fprintln(w, "# otsiem propose: the conduit rules the traffic baseline says the model lacks")
	for _, l := range p.summary(prop) {
		fmt.Fprintf(w, "# %s\n", l)
	}
	if len(prop.Rules) > 0 {
		fmt.Fprintln(w, "# to apply: otsiem propose --format diff > proposal.diff; patch -d MODEL_DIR -p1 < proposal.diff")
	}
	f := newDocFile(rules.Source{})
	f.quote = true
	if len(prop.Rules) == 0 {
		fmt.Fprintln(w, "conduits: []")
	} else {
		fmt.Fprintln(w, "conduits:")
		last := ""
		for _, r := range prop.Rules { // existing conduits first, in document order
			if r.NewConduit {
				continue
			}
			if r.Conduit != last {
				fmt.Fprintf(w, "  - conduit_id: %s  # existing: add to its protocols_allowed\n    protocols_allowed:\n", f.str(r.Conduit))
				last = r.Conduit
			}
			fmt.Fprint(w, f.ruleLines(r, 6))
		}
		for _, c := range prop.Conduits {
			fmt.Fprint(w, f.conduitLines(c, 2, 6))
		}
	}
	if len(prop.Refused) > 0 {
		fmt.Fprintln(w, "\n# NOT PROPOSED: flows that must never become rules (or, unknown_zone, cannot yet)")
		for _, g := range prop.Refused {
			fmt.Fprintf(w, "#   %s %s -> %s %s: %d %s, %s events, %s .. %s: %s\n", g.Kind, orNone(g.SrcZone), orNone(g.DstZone), clean(g.Service),
				len(g.Flows), plural(len(g.Flows), "flow", "flows"), thousands(g.Events), g.FirstSeen.UTC().Format(time.DateOnly),
				g.LastSeen.UTC().Format(time.DateOnly), clean(g.Reason))
		}
	}
	if len(prop.Rare) > 0 {
		fmt.Fprintf(w, "\n# SEEN TOO SELDOM to propose (fewer than %d events or %d days): %d %s\n", prop.Recurrence.MinCount, prop.Recurrence.MinDays,
			len(prop.Rare), plural(len(prop.Rare), "flow", "flows"))
		for i, fl := range prop.Rare {
			if i == 10 {
				fmt.Fprintf(w, "#   … and %d more (--format markdown or json lists all)\n", len(prop.Rare)-10)
				break
			}
			fmt.Fprintf(w, "#   %s (%s) -> %s (%s) %s: %s events on %d %s, model: %s\n", clean(fl.From()), fl.SrcZone, clean(fl.To()), fl.DstZone,
				clean(fl.Service()), thousands(fl.Events), fl.Days, plural(fl.Days, "day", "days"), fl.Reason)
		}
	}
}

func orNone(zone string) string {
	if zone == "" {
		return "(no zone)"
	}
	return zone
}

func (p *Plant) markdown(w io.Writer, prop *Proposal) {
	fmt.Fprintf(w, "## Conduit rules proposed from the traffic baseline\n\n")
	for _, l := range p.summary(prop) {
		fmt.Fprintf(w, "- %s\n", md(l))
	}
	if len(prop.Rules) > 0 {
		fmt.Fprintf(w, "\n### Proposed rules\n\n| Conduit | Protocol | Port | Direction | Flows | Events | Days | First seen | Last seen | Observed |\n|---|---|--:|---|--:|--:|--:|---|---|---|\n")
		for _, r := range prop.Rules {
			c := r.Conduit
			if r.NewConduit {
				c += " (new)"
			}
			fmt.Fprintf(w, "| %s | %s | %d | `%s` | %d | %s | %d | %s | %s | %s |\n", md(c), md(r.Protocol), r.Port, strings.ReplaceAll(r.Direction, "`", "'"),
				len(r.Flows), thousands(r.Events), r.Days, r.FirstSeen.UTC().Format(time.DateOnly), r.LastSeen.UTC().Format(time.DateOnly), md(r.pairs(5, " → ")))
		}
		for _, r := range prop.Rules {
			if r.Note != "" {
				fmt.Fprintf(w, "\n> %s %s port %d: %s", md(r.Conduit), md(r.Protocol), r.Port, md(r.Note))
			}
		}
		fmt.Fprintln(w)
	}
	for _, c := range prop.Conduits {
		sl := "no SL-T given"
		if c.SL >= 0 {
			sl = fmt.Sprintf("SL %d", c.SL)
		}
		fmt.Fprintf(w, "\n**New conduit %s** (%s): %s, %s, %d %s.\n", md(c.ID), md(c.Name), md(strings.Join(c.Zones, " ↔ ")), sl, len(c.Rules), plural(len(c.Rules), "rule", "rules"))
	}
	fmt.Fprintf(w, "\n### Not proposed: must never become rules (or, unknown\\_zone, cannot yet)\n\n")
	if len(prop.Refused) == 0 {
		fmt.Fprint(w, "None.\n")
	} else {
		fmt.Fprintf(w, "| Kind | From zone | To zone | Service | Flows | Events | First seen | Last seen | Why |\n|---|---|---|---|--:|--:|---|---|---|\n")
		for _, g := range prop.Refused {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", md(string(g.Kind)), md(orNone(g.SrcZone)), md(orNone(g.DstZone)), md(g.Service),
				len(g.Flows), thousands(g.Events), g.FirstSeen.UTC().Format(time.DateOnly), g.LastSeen.UTC().Format(time.DateOnly), md(g.Reason))
		}
	}
	fmt.Fprintf(w, "\n### Seen too seldom to propose\n\n")
	if len(prop.Rare) == 0 {
		fmt.Fprint(w, "None.\n")
		return
	}
	fmt.Fprintf(w, "Fewer than %d events or on fewer than %d days:\n\n| From | To | Service | Events | Days | Model |\n|---|---|---|--:|--:|---|\n", prop.Recurrence.MinCount, prop.Recurrence.MinDays)
	for _, fl := range prop.Rare {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s |\n", md(zoned(fl.From(), fl.SrcZone)), md(zoned(fl.To(), fl.DstZone)), md(fl.Service()),
			thousands(fl.Events), fl.Days, md(fl.Reason))
	}
}
