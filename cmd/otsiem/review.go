package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/review"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "review", summary: "may a monitor-mode firewall enforce now? READY / NOT READY (exit 0 / 1)", usage: "[--config FILE] [--model DIR] [--device NAME] [--since 14d] [--format text|markdown|json]",
		about: []string{
			"For each firewall in monitor mode (or the one named): the observation period and the",
			"days without logs from it, what enforcing would break (would_false_block: flows the",
			"model allows that its rules deny) and what it would stop (would_block: policy",
			"violations, and flows that look like missing conduit rules), and a verdict from the",
			"thresholds in the configuration's review section.",
			"Exit status: 0 READY (or the firewall enforces already: the review then shows what it blocked that the model allows), 1 NOT READY, 2 error."},
		flags: runReview})
	register(command{name: "propose", summary: "conduit rules the traffic baseline says the model lacks (yaml, diff, markdown)", usage: "[--config FILE] [--model DIR] [--since 28d] [--min-count N] [--min-days N] [--format yaml|diff|markdown|json]",
		about: []string{
			"From the traffic stored in the period (the baseline), judged under the current model:",
			"a protocols_allowed entry in the zone document's format for each recurring flow the",
			"model does not allow, with the function codes observed, or a new conduit where two",
			"zones have none. Flows that must never become rules (anything touching an air-gapped",
			"zone, writes from a lower-trust zone into a control zone, traffic skipping a Purdue",
			"level, against a data diode) are listed apart with the reason.",
			"--format diff is a unified diff against the model's files that keeps their comments",
			"and order; it is checked to load and to allow every proposed flow. Apply it in the",
			"model directory with patch -p1 (or git apply).",
			"Exit status: 0 done (proposals, or none needed), 1 no traffic stored in the period, 2 error."},
		flags: runPropose})
}

func runReview(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file: the store, the model and the review thresholds (default: the embedded engine under data/)")
	model := fs.String("model", "", "the zone/conduit model (default: the configuration's)")
	device := fs.String("device", "", "review this firewall (hostname) only")
	since := fs.String("since", "", "review the whole UTC days since this long ago (14d, 2w, 336h), and today, instead of since the device's since date; the recent-days checks always look at their whole window")
	format := fs.String("format", "text", "output: "+strings.Join(review.Formats, ", "))
	return func(args []string, stdout, stderr io.Writer) int {
		sinceD, err := parseSince(*since)
		if err == nil && !slices.Contains(review.Formats, *format) {
			err = fmt.Errorf("unknown format %q; valid: %s", *format, strings.Join(review.Formats, ", "))
		}
		if err != nil || len(args) != 0 {
			return usageError("review", err, args, stderr)
		}
		return withPlant("review", *cfgPath, *model, stderr, func(ctx context.Context, cfg *config.Config, p *review.Plant, db *storage.DB) int {
			devices, err := p.Devices(*device)
			if err != nil {
				fmt.Fprintf(stderr, "otsiem review: %s: %v\n", p.Path, err)
				return 2
			}
			res, err := review.Run(ctx, db.Conn, p, devices, review.Options{Now: time.Now(), Since: sinceD,
				Thresholds: cfg.Review.Thresholds, Recurrence: cfg.Review.Recurrence})
			if err != nil {
				fmt.Fprintf(stderr, "otsiem review: %v\n", err)
				return 2
			}
			if err := write(stdout, func(w io.Writer) error { return res.Write(w, *format) }); err != nil {
				fmt.Fprintf(stderr, "otsiem review: %v\n", err)
				return 2
			}
			if !res.Ready() {
				return 1
			}
			return 0
		})
	}
}

func runPropose(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file: the store, the model and the recurrence thresholds (default: the embedded engine under data/)")
	model := fs.String("model", "", "the zone/conduit model (default: the configuration's)")
	since := fs.String("since", "28d", "the baseline: the traffic of the whole UTC days since this long ago (28d, 4w, 672h), and today")
	minCount := fs.Int("min-count", 0, "a flow needs this many events to become a rule (default: review.min_count, 10)")
	minDays := fs.Int("min-days", 0, "...on this many days (default: review.min_days, 3)")
	format := fs.String("format", "yaml", "output: "+strings.Join(review.ProposeFormats, ", "))
	return func(args []string, stdout, stderr io.Writer) int {
		sinceD, err := parseSince(*since)
		if err == nil && sinceD <= 0 {
			err = fmt.Errorf("--since %q: want a period such as 28d", *since)
		}
		switch {
		case err != nil:
		case !slices.Contains(review.ProposeFormats, *format):
			err = fmt.Errorf("unknown format %q; valid: %s", *format, strings.Join(review.ProposeFormats, ", "))
		case *minCount < 0 || *minDays < 0:
			err = errors.New("--min-count and --min-days cannot be negative")
		}
		if err != nil || len(args) != 0 {
			return usageError("propose", err, args, stderr)
		}
		return withPlant("propose", *cfgPath, *model, stderr, func(ctx context.Context, cfg *config.Config, p *review.Plant, db *storage.DB) int {
			rec := cfg.Review.Recurrence
			if *minCount > 0 {
				rec.MinCount = *minCount
			}
			if *minDays > 0 {
				rec.MinDays = *minDays
			}
			now := time.Now().UTC()
			prop, err := review.Propose(ctx, db.Conn, p, review.ProposeOptions{From: review.PeriodStart(now, sinceD), To: now, Recurrence: rec})
			if err != nil {
				fmt.Fprintf(stderr, "otsiem propose: %v\n", err)
				return 2
			}
			if prop.Empty() {
				fmt.Fprintf(stderr, "otsiem propose: no traffic stored between %s and %s: nothing to propose\n",
					prop.From.Format(time.RFC3339), prop.To.Format(time.RFC3339))
				if *format == "diff" || *format == "json" {
					return 1
				}
			}
			if err := write(stdout, func(w io.Writer) error { return p.Write(w, prop, *format) }); err != nil {
				fmt.Fprintf(stderr, "otsiem propose: %v\n", err)
				return 2
			}
			switch {
			case prop.Empty():
				return 1
			case *format == "diff" && len(prop.Rules) == 0:
				fmt.Fprintln(stderr, "otsiem propose: nothing to propose: the diff is empty")
			}
			return 0
		})
	}
}

// usageError reports what is wrong with the arguments in one line: exit
// status 2.
func usageError(name string, err error, args []string, stderr io.Writer) int {
	if err == nil && len(args) > 0 {
		err = fmt.Errorf("unexpected argument %q", args[0])
	}
	return badUsage(stderr, name, "%v", err)
}

// withPlant loads the configuration and the model, opens the store as
// every reading command does (openExisting: never creating one, reading
// through otsiem run while it holds the data) and runs f; anything failing
// before f is exit status 2.
func withPlant(name, cfgPath, model string, stderr io.Writer, f func(context.Context, *config.Config, *review.Plant, *storage.DB) int) int {
	cfg, p, ok := loadPlant(cfgPath, model, stderr)
	if !ok {
		return 2
	}
	ctx, cancel := signalContext()
	defer cancel()
	db, err := openExisting(ctx, cfg, cfgPath, false)
	if err != nil {
		fmt.Fprintf(stderr, "otsiem %s: %v\n", name, err)
		return 2
	}
	defer db.Close()
	return f(ctx, cfg, p, db)
}

// write writes through a buffer to stdout.
func write(stdout io.Writer, f func(io.Writer) error) error {
	w := bufio.NewWriter(stdout)
	if err := f(w); err != nil {
		return err
	}
	return w.Flush()
}

// loadPlant reads the configuration (the defaults without a path) and the
// model it names, or the one given.
func loadPlant(cfgPath, model string, stderr io.Writer) (*config.Config, *review.Plant, bool) {
	cfg, ok := loadConfig(cfgPath, stderr)
	if !ok {
		return nil, nil, false
	}
	if model == "" {
		model = cfg.Model
	}
	p, err := review.LoadPlant(model)
	if err != nil {
		for _, d := range rules.Diagnostics(err) {
			if d.Severity == rules.SeverityError {
				fmt.Fprintln(stderr, d)
			}
		}
		fmt.Fprintf(stderr, "otsiem: %s: %v\n", model, err)
		return nil, nil, false
	}
	return cfg, p, true
}

// parseSince reads a period: whole days ("14d"), weeks ("2w") or a Go
// duration ("336h"); "" is 0.
func parseSince(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q: want a number of days (14d) or weeks (2w)", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want days (14d), weeks (2w) or a duration (336h)", s)
	}
	return d, nil
}
