package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/otsiem/otsiem/rules"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "validate", summary: "check a zone/conduit model (directory or file)", usage: "[--format text|json] [--strict] PATH",
		about: []string{
			"Checks a zone/conduit model (a directory or a file): errors and warnings with file:line:col.",
			"Exits 0 when valid, 1 when not (with --strict, also on warnings), 2 on a usage error."},
		flags: runValidate})
}

func runValidate(fs *pflag.FlagSet) runFunc {
	format := fs.String("format", "text", "output format: text or json")
	strict := fs.Bool("strict", false, "treat warnings as errors")
	return func(paths []string, stdout, stderr io.Writer) int {
		if *format != "text" && *format != "json" {
			fmt.Fprintf(stderr, "otsiem validate: unknown format %q; valid: text, json\n", *format)
			return 2
		}
		if len(paths) != 1 {
			return badUsage(stderr, "validate", "want one model PATH (a directory or a file), got %d arguments", len(paths))
		}
		path := paths[0]
		m, err := rules.Load(path)
		diags := rules.Diagnostics(err)
		if err != nil && diags == nil {
			fmt.Fprintf(stderr, "otsiem validate: %v\n", err)
			return 1
		}
		if m != nil {
			diags = m.Diagnostics()
		}
		count := map[rules.Severity]int{}
		for _, d := range diags {
			count[d.Severity]++
		}
		valid := m != nil && !(*strict && count[rules.SeverityWarning] > 0)

		if *format == "json" {
			out := struct {
				Path        string             `json:"path"`
				Valid       bool               `json:"valid"`
				Errors      int                `json:"errors"`
				Warnings    int                `json:"warnings"`
				Notes       int                `json:"notes"`
				Diagnostics []rules.Diagnostic `json:"diagnostics"`
				Model       *modelSummary      `json:"model,omitempty"`
			}{path, valid, count[rules.SeverityError], count[rules.SeverityWarning], count[rules.SeverityInfo], diags, summarize(m)}
			if out.Diagnostics == nil {
				out.Diagnostics = []rules.Diagnostic{}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				fmt.Fprintf(stderr, "otsiem validate: %v\n", err)
				return 1
			}
		} else {
			for _, d := range diags {
				fmt.Fprintln(stdout, d)
			}
			verdict := "invalid"
			if valid {
				verdict = "valid"
			}
			detail := ""
			if s := summarize(m); s != nil {
				detail = fmt.Sprintf(" (%s, %s, %s, %s, %s, %s)", plural(s.Zones, "zone"), plural(s.Conduits, "conduit"),
					plural(s.Rules, "rule"), plural(s.Assets, "asset"), plural(s.Devices, "device"), plural(s.Diodes, "diode"))
			}
			fmt.Fprintf(stdout, "%s: %s%s: %s, %s, %s\n", path, verdict, detail,
				plural(count[rules.SeverityError], "error"), plural(count[rules.SeverityWarning], "warning"),
				plural(count[rules.SeverityInfo], "note"))
		}
		if !valid {
			return 1
		}
		return 0
	}
}

// modelSummary counts what a model holds.
type modelSummary struct {
	Facility string `json:"facility"`
	Site     string `json:"site"`
	Zones    int    `json:"zones"`
	Conduits int    `json:"conduits"`
	Rules    int    `json:"rules"`
	Assets   int    `json:"assets"`
	Devices  int    `json:"devices"`
	Diodes   int    `json:"diodes"`
}

func summarize(m *rules.Model) *modelSummary {
	if m == nil {
		return nil
	}
	s := &modelSummary{Facility: m.Facility, Site: m.Site, Zones: len(m.Zones()), Conduits: len(m.Conduits()),
		Assets: len(m.Assets()), Devices: len(m.Devices()), Diodes: len(m.Diodes())}
	for _, c := range m.Conduits() {
		s.Rules += len(c.Rules)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// loadModel loads a model for commands that need a valid one, printing its
// errors.
func loadModel(path string, stderr io.Writer) (*rules.Model, bool) {
	m, err := rules.Load(path)
	if err != nil {
		var le *rules.LoadError
		if errors.As(err, &le) {
			for _, d := range le.Diagnostics {
				if d.Severity == rules.SeverityError {
					fmt.Fprintln(stderr, d)
				}
			}
			fmt.Fprintf(stderr, "%s: invalid model\n", path)
		} else {
			fmt.Fprintf(stderr, "otsiem: %v\n", err)
		}
		return nil, false
	}
	return m, true
}
