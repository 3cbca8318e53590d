package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/spf13/pflag"

	"github.com/otsiem/otsiem/escape"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/rules"
	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{name: "findings", summary: "list the latest findings (table, json or csv); findings ack|close ID… to handle them",
		usage: "[flags]",
		about: []string{
			"Lists findings last seen in a window, newest first, each in its latest revision with its",
			"state: open (not yet handled), acknowledged or closed (by an analyst: findings ack/close);",
			"a new revision with new evidence reopens it; absorbed ones were folded into a scan.",
			"status is the correlator's: open while the finding may still change. IDs may be",
			"shortened to a unique prefix of 6 or more characters. --conduit and --zone take the",
			"model's names (the configuration's model)."},
		flags: runFindings,
		sub: []command{
			{name: "ack", summary: "acknowledge findings: seen and being handled", usage: "[--note TEXT] [--by NAME] [--reopen] [--config FILE] ID…",
				about: []string{
					"Acknowledges findings: seen and being handled. A new revision with new evidence reopens them.",
					"A closed finding stays closed unless --reopen is given.",
					"Each ID is a finding id or a unique prefix of 6 characters or more (the table shows 12)."},
				flags: func(fs *pflag.FlagSet) runFunc { return runAck("ack", fs) }},
			{name: "close", summary: "close findings: handled", usage: "[--note TEXT] [--by NAME] [--config FILE] ID…",
				about: []string{
					"Closes findings: handled. A new revision with new evidence reopens them.",
					"Each ID is a finding id or a unique prefix of 6 characters or more (the table shows 12)."},
				flags: func(fs *pflag.FlagSet) runFunc { return runAck("close", fs) }},
		}})
}

// defaultStates are the states findings lists unless told: every finding
// but those absorbed into a scan.
var defaultStates = []string{event.StateOpen, event.StateAcknowledged, event.StateClosed}

// findingsTable are the columns of the table format, in order; json and
// csv give every column of the findings query.
var findingsTable = []string{"finding_id", "last_seen", "severity", "state", "type", "reason", "count", "summary"}

func runFindings(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file (default: the embedded store under data/clickhouse)")
	format := fs.String("format", "table", "output format: table, json (one object per line) or csv")
	since := fs.String("since", "24h", "findings last seen after this: a span before --until (24h, 30d, 2w), an RFC 3339 time or a date")
	until := fs.String("until", "", "and before this: a span ago, an RFC 3339 time or a date (default: now)")
	severity := fs.String("severity", "", "only these severities, comma-separated: "+strings.Join(severityNames(), ", "))
	typ := fs.String("type", "", "only these types, comma-separated: "+strings.Join(event.FindingTypes, ", "))
	state := fs.String("state", strings.Join(defaultStates, ","), "only these states, comma-separated: "+strings.Join(event.States, ", ")+
		" (absorbed: folded into a scan)")
	conduit := fs.String("conduit", "", "only these conduits, comma-separated")
	zone := fs.String("zone", "", "only findings from or to these zones, comma-separated")
	limit := fs.Uint("limit", 100, "at most this many findings")
	return func(args []string, stdout, stderr io.Writer) int {
		// A span in --since counts back from --until: --until 2026-11-28
		// alone is the day before it.
		now := time.Now().UTC()
		to, err2 := now.Add(time.Second), error(nil)
		ref := now
		if *until != "" {
			to, err2 = parseWhen(*until, now)
			ref = to
		}
		from, err1 := parseWhen(*since, ref)
		if err1 == nil && err2 == nil && !from.Before(to) {
			err1 = fmt.Errorf("--since %s (%s UTC) is not before --until %s (%s UTC)", *since, from.Format(time.DateTime), *until, to.Format(time.DateTime))
		}
		f := storage.FindingsFilter{From: from, To: to, Severities: list(*severity), Types: list(*typ), States: list(*state),
			Conduits: list(*conduit), Zones: list(*zone), Limit: uint32(min(*limit, 1<<31))}
		errs := []error{err1, err2,
			oneOf("severity", f.Severities, severityNames()),
			oneOf("type", f.Types, event.FindingTypes),
			oneOf("state", f.States, event.States),
			oneOf("format", []string{*format}, []string{"table", "json", "csv"})}
		if *limit == 0 {
			errs = append(errs, errors.New("--limit must be at least 1"))
		}
		if len(args) != 0 {
			errs = append(errs, fmt.Errorf("unexpected arguments %q (ack and close come first: otsiem findings ack ID…)", args))
		}
		cfg, ok := loadConfig(*cfgPath, stderr)
		if !ok {
			return 1
		}
		errs = append(errs, modelNames(cfg.Model, f.Conduits, f.Zones))
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(stderr, "otsiem findings: %v\n", strings.ReplaceAll(err.Error(), "\n", "\notsiem findings: "))
			return 2
		}
		return withConfigAs(cfg, *cfgPath, stderr, false, func(ctx context.Context, db *storage.DB) error {
			t, err := storage.RunQuery(ctx, db.Conn, storage.QueryFindings, f.Args()...)
			if err != nil {
				return err
			}
			if *format == "table" {
				t = t.Select(findingsTable...)
				for _, r := range t.Rows {
					r[0], r[1] = shortID(r[0].(string)), r[1].(time.Time).UTC().Format(time.DateTime)
				}
			}
			if err := printTable(stdout, t, *format); err != nil {
				return err
			}
			if len(t.Rows) == int(f.Limit) {
				fmt.Fprintf(stderr, "otsiem findings: showing the newest %d; more may match (--limit)\n", f.Limit)
			}
			if len(t.Rows) > 0 {
				return nil
			}
			why, err := noFindings(ctx, db, f, *since, *until != "", ref)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "otsiem findings: %s\n", why)
			return nil
		})
	}
}

// noFindings says why no finding matched: none stored, none matching the
// filters at all, or some outside the window (and which --since or
// --until would show them).
// ref is the time a span in --since counts back from.
func noFindings(ctx context.Context, db *storage.DB, f storage.FindingsFilter, since string, untilSet bool, ref time.Time) (string, error) {
	t, err := storage.RunQuery(ctx, db.Conn, storage.QueryFindingsOutside, f.Args()...)
	if err != nil {
		return "", err
	}
	r := t.Rows[0]
	older, newestOlder, newer, stored := r[0].(uint64), r[1].(time.Time), r[2].(uint64), r[3].(uint64)
	if stored == 0 {
		return "no findings stored yet", nil
	}
	what := describeFilter(f)
	window := "since " + f.From.Format(time.DateTime) + " UTC"
	if _, err := parseAgo(since); err == nil {
		window = "in the last " + since
	}
	if untilSet {
		window = "between " + f.From.Format(time.DateTime) + " and " + f.To.Format(time.DateTime) + " UTC"
	}
	msg := fmt.Sprintf("no %sfindings last seen %s", what, window)
	var hints []string
	if older > 0 {
		hints = append(hints, fmt.Sprintf("%d older (the newest last seen %s UTC) — use --since %s", older,
			newestOlder.UTC().Format(time.DateTime), spanText(ref.Sub(newestOlder))))
	}
	if newer > 0 {
		hints = append(hints, fmt.Sprintf("%d newer — use a later --until", newer))
	}
	if len(hints) == 0 {
		return fmt.Sprintf("%s; none at any time (%d findings stored)", msg, stored), nil
	}
	return msg + "; " + strings.Join(hints, "; "), nil
}

// describeFilter names a filter's selections for a message: "critical
// diode_down " or "".
func describeFilter(f storage.FindingsFilter) string {
	var parts []string
	states := f.States
	if slices.Equal(states, defaultStates) {
		states = nil
	}
	for _, l := range [][]string{states, f.Severities, f.Types, f.Conduits, f.Zones} {
		if len(l) > 0 {
			parts = append(parts, strings.Join(l, "/"))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return escape.Terminal(strings.Join(parts, " ")) + " "
}

// runAck is `otsiem findings ack|close`: every id must name exactly one
// finding, or nothing is stored.
func runAck(action string, fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file (default: the embedded store under data/clickhouse)")
	note := fs.String("note", "", "why: what was found, who was told, the ticket")
	by := fs.String("by", defaultUser(), "who handles it")
	reopen := new(bool)
	if action == "ack" {
		reopen = fs.Bool("reopen", false, "also acknowledge closed findings, reopening them")
	}
	return func(ids []string, stdout, stderr io.Writer) int {
		var errs []error
		if len(ids) == 0 {
			errs = append(errs, errors.New("no finding id given"))
		}
		if strings.TrimSpace(*by) == "" {
			errs = append(errs, errors.New("--by: who handles it? (no login name found)"))
		}
		for _, id := range ids {
			if len(id) < 6 || strings.Trim(id, "0123456789abcdef") != "" {
				errs = append(errs, fmt.Errorf("%q is not a finding id or a prefix of 6 or more hex digits", id))
			}
		}
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(stderr, "otsiem findings %s: %v\n", action, strings.ReplaceAll(err.Error(), "\n", "\notsiem findings "+action+": "))
			return 2
		}
		state := map[string]string{"ack": event.StateAcknowledged, "close": event.StateClosed}[action]
		return withStoreAs(*cfgPath, stderr, true, func(ctx context.Context, db *storage.DB) error {
			t, err := storage.RunQuery(ctx, db.Conn, storage.QueryFindingsByID, clickhouse.Named("ids", ids))
			if err != nil {
				return err
			}
			t = t.Select("finding_id", "revision", "last_seen", "state", "severity", "type", "summary")
			var acks []storage.Ack
			var problems []error
			now := time.Now().UTC()
			for _, id := range ids {
				var match [][]any
				for _, r := range t.Rows {
					if strings.HasPrefix(r[0].(string), id) {
						match = append(match, r)
					}
				}
				switch {
				case len(match) == 0:
					problems = append(problems, fmt.Errorf("no finding %s", id))
				case len(match) > 1:
					var names []string
					for _, m := range match {
						names = append(names, m[0].(string))
					}
					problems = append(problems, fmt.Errorf("%s names %d findings (%s): give more of the id", id, len(match), strings.Join(names, ", ")))
				case match[0][3] == event.StateClosed && action == "ack" && !*reopen:
					problems = append(problems, fmt.Errorf("%s is closed (handled): acknowledging it would reopen it; give --reopen to do that", shortID(match[0][0].(string))))
				default:
					m := match[0]
					acks = append(acks, storage.Ack{FindingID: m[0].(string), Action: state, At: now, By: *by, Note: *note,
						Revision: m[1].(uint64), LastSeen: m[2].(time.Time)})
				}
			}
			if err := errors.Join(problems...); err != nil {
				return fmt.Errorf("nothing %s: %w", state, err)
			}
			if err := storage.Acknowledge(ctx, db.Conn, acks); err != nil {
				return err
			}
			for _, a := range acks {
				r := t.Rows[slices.IndexFunc(t.Rows, func(r []any) bool { return r[0] == a.FindingID })]
				fmt.Fprintf(stdout, "%s %s (was %s, revision %d) by %s: %s %s: %s\n", state, shortID(a.FindingID), r[3], a.Revision,
					escape.Terminal(a.By), r[4], r[5], escape.Terminal(r[6].(string)))
			}
			return nil
		})
	}
}

// modelNames checks conduit and zone names against the model at path:
// "unknown conduit C9; known: …". A model that does not load is not
// checked against (the store can still be read).
func modelNames(path string, conduits, zones []string) error {
	if len(conduits) == 0 && len(zones) == 0 {
		return nil
	}
	m, err := rules.Load(path)
	if err != nil {
		return nil
	}
	var known []string
	for _, c := range m.Conduits() {
		known = append(known, c.ID)
	}
	errs := []error{oneOf("conduit", conduits, known)}
	known = nil
	for _, z := range m.Zones() {
		known = append(known, z.ID)
	}
	return errors.Join(append(errs, oneOf("zone", zones, known))...)
}

// oneOf checks that every value is one of valid.
func oneOf(what string, values, valid []string) error {
	for _, v := range values {
		if !slices.Contains(valid, v) {
			return fmt.Errorf("unknown %s %q; valid: %s", what, escape.Terminal(v), strings.Join(valid, ", "))
		}
	}
	return nil
}

func severityNames() []string {
	out := make([]string, len(event.Severities))
	for i, s := range event.Severities {
		out[i] = string(s)
	}
	return out
}

// shortID is the id as the table shows it: 12 hex digits, enough to name a
// finding among millions.
func shortID(id string) string { return id[:min(len(id), 12)] }

// defaultUser is the login name acknowledgements are made by.
func defaultUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// deref dereferences a pointer of any type (nil for a nil one); ok is
// false for a value that is no pointer.
func deref(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return v, false
	}
	if rv.IsNil() {
		return nil, true
	}
	return rv.Elem().Interface(), true
}
