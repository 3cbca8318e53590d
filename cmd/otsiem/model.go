package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/otsiem/otsiem/rules"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "model", summary: "print a model's zones, conduit matrix, devices and diodes", usage: "PATH",
		about: []string{"Prints a model's zones, conduit matrix, rules, devices and diodes."}, flags: runModel})
}

func runModel(fs *pflag.FlagSet) runFunc {
	return func(paths []string, stdout, stderr io.Writer) int {
		if len(paths) != 1 {
			return badUsage(stderr, "model", "want one model PATH (a directory or a file), got %d arguments", len(paths))
		}
		m, ok := loadModel(paths[0], stderr)
		if !ok {
			return 1
		}
		printModel(stdout, m)
		return 0
	}
}

func printModel(out io.Writer, m *rules.Model) {
	fmt.Fprintf(out, "%s (site %s)\n", orDash(m.Facility), m.Site)
	if m.Standard != "" || m.AssessmentDate != "" {
		fmt.Fprintf(out, "%s, assessed %s\n", orDash(m.Standard), orDash(m.AssessmentDate))
	}
	fmt.Fprintf(out, "model version %s\n", m.ShortHash())

	fmt.Fprintln(out, "\nZONES")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tNAME\tPURDUE\tSL-T\tNETWORKS\tASSETS\tCONDUITS")
	assets := map[*rules.Zone]int{}
	for _, a := range m.Assets() {
		assets[a.Zone]++
	}
	for _, z := range m.Zones() {
		conduits := "none (air-gapped)"
		if !z.AirGapped() {
			ids := make([]string, len(z.Conduits))
			for i, c := range z.Conduits {
				ids[i] = c.ID
			}
			conduits = strings.Join(ids, ", ")
		}
		nets := make([]string, len(z.Networks))
		for i, n := range z.Networks {
			nets[i] = n.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", z.ID, z.Name, purdue(z.Purdue), sl(z.SLT),
			orDash(strings.Join(nets, " ")), assets[z], conduits)
	}
	tw.Flush()

	fmt.Fprintln(out, "\nCONDUIT MATRIX (row initiates, column responds; · same zone, × air gap, - no path)")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "FROM \\ TO")
	for _, z := range m.Zones() {
		fmt.Fprintf(tw, "\t%s", z.ID)
	}
	fmt.Fprintln(tw)
	for _, from := range m.Zones() {
		fmt.Fprint(tw, from.ID)
		for _, to := range m.Zones() {
			fmt.Fprintf(tw, "\t%s", matrixCell(m, from, to))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()

	fmt.Fprintln(out, "\nCONDUIT RULES")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSL\tPROTOCOL\tSERVICE\tDIRECTION\tFUNCTIONS\tDIODE")
	for _, c := range m.Conduits() {
		for _, r := range c.Rules {
			dir := "either way"
			if r.From != nil {
				dir = r.From.ID + " -> " + r.To.ID
			}
			fns := r.Functions.String()
			if r.Functions.All() {
				fns = "any"
			}
			diode := ""
			if r.Diode {
				diode = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID(), sl(c.SL), r.App, ruleService(r), dir, fns, diode)
		}
	}
	tw.Flush()

	if len(m.Devices()) > 0 {
		fmt.Fprintln(out, "\nREPORTING DEVICES")
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOSTNAME\tROLE\tPRODUCT\tADDRESSES\tWATCHES\tMODE")
		for _, d := range m.Devices() {
			var where []string
			for _, c := range d.Conduits {
				where = append(where, c.ID)
			}
			for _, z := range d.Zones {
				where = append(where, z.ID)
			}
			var addrs []string
			for _, a := range d.Addresses {
				addrs = append(addrs, a.String())
			}
			mode := string(d.Mode)
			if !d.Since.IsZero() {
				mode += " since " + d.Since.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Hostname, d.Role, orDash(strings.TrimSpace(d.Vendor+" "+d.Product)),
				orDash(strings.Join(addrs, " ")), orDash(strings.Join(where, ", ")), orDash(mode))
		}
		tw.Flush()
	}
	if len(m.Diodes()) > 0 {
		fmt.Fprintln(out, "\nDATA DIODES")
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DIODE\tTX\tRX\tRULE\tHEARTBEAT")
		for _, d := range m.Diodes() {
			rule := "-"
			if d.Rule != nil {
				rule = d.Rule.ID() + " " + d.Rule.App
			}
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s (%s)\t%s\t%s\n", d.ID, d.TX, zoneID(d.TXZone), d.RX, zoneID(d.RXZone), rule, d.Heartbeat)
		}
		tw.Flush()
	}
	if len(m.Infrastructure()) > 0 {
		fmt.Fprintln(out, "\nCOLLECTION PATH AND INFRASTRUCTURE")
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tADDRESSES\tPORTS")
		for _, sv := range m.Infrastructure() {
			role := "service (" + sv.App + ")"
			if sv.Collector {
				role = "collector"
			}
			var addrs, ports []string
			for _, a := range sv.Addresses {
				addrs = append(addrs, a.String()+" ("+zoneID(m.ZoneOf(a))+")")
			}
			for _, p := range sv.Ports {
				ports = append(ports, p.String())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sv.Name, role, strings.Join(addrs, " "), strings.Join(ports, " "))
		}
		tw.Flush()
	}
}

// matrixCell lists what may flow from one zone to another.
func matrixCell(m *rules.Model, from, to *rules.Zone) string {
	switch {
	case from == to:
		return "·"
	case from.AirGapped() || to.AirGapped():
		return "×"
	}
	var parts []string
	for _, c := range m.ConduitsBetween(from, to) {
		for _, r := range c.Rules {
			if r.From == nil || r.From == from && r.To == to {
				parts = append(parts, r.App+"/"+portList(r))
			}
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func ruleService(r *rules.Rule) string {
	if len(r.Ports) == 0 {
		return r.Transport
	}
	return r.Transport + "/" + portList(r)
}

func portList(r *rules.Rule) string {
	ps := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		ps[i] = p.String()
	}
	return strings.Join(ps, ",")
}

func purdue(l rules.Level) string {
	if l.Lo < 0 {
		return "-"
	}
	return l.String()
}

func sl(n int) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprintf("SL %d", n)
}

func zoneID(z *rules.Zone) string {
	if z == nil {
		return "no zone"
	}
	return z.ID
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
