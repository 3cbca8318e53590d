package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// WriteTable writes the report as people read it: one row per target
// with lines/s, CPU per line and peak RSS, then each otsiem target's
// ratios to rsyslog measured in the same run.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d lines (%s), %s in octet-counted frames, over one TCP connection to each; %d CPUs\n",
		rep.Lines, devices(rep.ByDevice), mib(uint64(rep.Bytes)), rep.CPUs)
	if rep.Rsyslog != "" {
		fmt.Fprintf(w, "%s\n", rep.Rsyslog)
	}
	fmt.Fprintln(w)
	const row = "%-14s %10s %12s %9s %9s %5s %5s  %s\n"
	fmt.Fprintf(w, row, "target", "lines/s", "CPU µs/line", "peak RSS", "Go holds", "lost", "load", "pipeline")
	for _, r := range rep.Results {
		if r.Skipped != "" {
			fmt.Fprintf(w, row, r.Target, "-", "-", "-", "-", "-", "-", "skipped: "+r.Skipped)
			continue
		}
		goSys := "-"
		if r.GoSysBytes > 0 {
			goSys = mib(r.GoSysBytes)
		}
		lost := strconv.Itoa(r.Lost)
		if r.TimedOut {
			lost += "?"
		}
		fmt.Fprintf(w, row, r.Target, thousands(r.LinesPerSecond), fmt.Sprintf("%.1f", r.CPUMicrosPerLine),
			mib(r.PeakRSSBytes), goSys, lost, fmt.Sprintf("%.1f", r.LoadAverage), r.Pipeline)
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(w)
		for _, r := range rep.Ratios {
			fmt.Fprintf(w, "%s vs rsyslog: rate 1 : %.1f (%.2f×), CPU per line %.1f×, peak RSS %.1f×\n",
				r.Target, 1/r.Rate, r.Rate, r.CPU, r.RSS)
		}
	}
	for _, r := range rep.Results {
		if r.TimedOut {
			fmt.Fprintf(w, "%s: timed out with %d lines not yet accounted for (lost?: they may still have been on their way)\n", r.Target, r.Lost)
		}
	}
	_, err := fmt.Fprintln(w, "(Go holds: the Go runtime's memory at the end, the rest of the RSS being the embedded engine and C libraries;\n"+
		" load: the one-minute load average as each target started; other work on the machine competes for its cores)")
	return err
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(rep)
}

// devices says what share of the lines the ASA sent, and who sent the rest.
func devices(by map[string]int) string {
	total := 0
	var others []string
	for d, n := range by {
		total += n
		if d != asaDevice {
			others = append(others, d)
		}
	}
	if total == 0 {
		return "none"
	}
	slices.Sort(others)
	return fmt.Sprintf("%.0f%% from the Cisco ASA %s, the rest from %s", 100*float64(by[asaDevice])/float64(total), asaDevice, strings.Join(others, ", "))
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// thousands formats a rate as a whole number with English thousands
// separators (CLDR "en"): 12,345.
func thousands(v float64) string { return english.Sprintf("%.0f", v) }

var english = message.NewPrinter(language.English)
