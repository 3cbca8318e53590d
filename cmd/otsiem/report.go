package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otsiem/otsiem/report"
	"github.com/otsiem/otsiem/storage"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "report", summary: "the IEC 62443 zone implementation report for a period (text, markdown, html, pdf, json)", usage: "[--config FILE] [--model DIR] [--from T] [--to T | --period 7d|30d|quarterly] [--format text|markdown|html|pdf|json] [--out FILE]",
		about: []string{
			"The IEC 62443 zone implementation report for a period, from the store and the model: per",
			"zone and conduit what was declared and what was observed, the SR checks, the log sources",
			"and the data diodes' availability."},
		flags: runReport})
}

func runReport(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file (default: the embedded engine under data/clickhouse and the refinery model)")
	modelPath := fs.String("model", "", "model directory (default: the configuration's)")
	fromS := fs.String("from", "", "period start: RFC 3339 time or YYYY-MM-DD (UTC)")
	toS := fs.String("to", "", "period end (exclusive): RFC 3339 time, YYYY-MM-DD or now")
	period := fs.String("period", "7d", "the period when --from or --to is missing: Nd (7d, 30d: alone, the N days up to now), or daily, weekly, monthly, quarterly (alone, the last closed one)")
	format := fs.String("format", "text", "text, markdown, html, pdf or json")
	out := fs.String("out", "", "write to this file instead of standard output")
	return func(args []string, stdout, stderr io.Writer) int {
		now := time.Now().UTC()
		from, to, err := reportPeriod(*fromS, *toS, *period, now)
		if _, ok := report.Formats[*format]; !ok && err == nil {
			err = fmt.Errorf("format %q: want text, markdown, html, pdf or json", *format)
		}
		if err == nil && len(args) != 0 {
			err = fmt.Errorf("unexpected argument %q", args[0])
		}
		if err != nil {
			return badUsage(stderr, "report", "%v", err)
		}
		if *format == "pdf" && *out == "" && isTerminal(stdout) {
			fmt.Fprintln(stderr, "otsiem report: a PDF goes to a file: add --out FILE (or redirect standard output)")
			return 2
		}
		cfg, ok := loadConfig(*cfgPath, stderr)
		if !ok {
			return 1
		}
		if *modelPath != "" {
			cfg.Model = *modelPath
		}
		m, ok := loadModel(cfg.Model, stderr)
		if !ok {
			return 1
		}
		return withConfigAs(cfg, *cfgPath, stderr, false, func(ctx context.Context, db *storage.DB) error {
			r, err := report.Build(ctx, db.Conn, m, report.Options{From: from, To: to, Now: now, Version: version()})
			if err != nil {
				return err
			}
			if *out != "" {
				return report.WriteFile(*out, r, *format)
			}
			return report.Write(stdout, r, *format)
		})
	}
}

// reportPeriod reads the period flags: --from and --to, or one of them and
// --period; --period alone is the N days up to now, or the last closed
// calendar period (daily, weekly, monthly, quarterly).
func reportPeriod(fromS, toS, period string, now time.Time) (from, to time.Time, err error) {
	parse := func(s string) (time.Time, error) {
		if s == "now" {
			return now, nil
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return t, fmt.Errorf("%q: want an RFC 3339 time, YYYY-MM-DD or now", s)
		}
		return t.UTC(), nil
	}
	// The length of the period, from its last closed instance.
	lf, lt, err := report.LastPeriod(period, now, 1)
	if err != nil {
		return from, to, err
	}
	switch {
	case fromS != "" && toS != "":
		if from, err = parse(fromS); err == nil {
			to, err = parse(toS)
		}
	case fromS != "":
		if from, err = parse(fromS); err == nil {
			to = from.Add(lt.Sub(lf))
		}
	case toS != "":
		if to, err = parse(toS); err == nil {
			from = to.Add(-lt.Sub(lf))
		}
	case strings.HasSuffix(period, "d"): // N days up to now
		from, to = now.Add(-lt.Sub(lf)), now
	default: // the last closed calendar period
		from, to = lf, lt
	}
	if err == nil && !from.Before(to) {
		err = fmt.Errorf("the period is empty: --from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
