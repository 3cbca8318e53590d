package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{name: "findings", summary: "list the latest findings from storage (table, json or csv)", run: runFindings})
}

func runFindings(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("findings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded engine under data/clickhouse)")
	format := fs.String("format", "table", "output format: table, json (one object per line) or csv")
	since := fs.String("since", "24h", "findings last seen after this: a duration ago (24h) or an RFC 3339 time")
	until := fs.String("until", "", "and before this (default: now)")
	severity := fs.String("severity", "", "only these severities, comma-separated (critical,high,medium,low,info)")
	typ := fs.String("type", "", "only these types, comma-separated (violation, would_block, diode_down, scan, new_pair, …)")
	conduit := fs.String("conduit", "", "only this conduit")
	zone := fs.String("zone", "", "only findings from or to this zone")
	limit := fs.Uint("limit", 100, "at most this many findings")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: otsiem findings [--config FILE] [--since D|T] [--until T] [--severity S,…] [--type T,…] [--conduit C] [--zone Z] [--limit N] [--format table|json|csv]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	now := time.Now().UTC()
	from, err1 := parseWhen(*since, now)
	to, err2 := now.Add(time.Second), error(nil)
	if *until != "" {
		to, err2 = parseWhen(*until, now)
	}
	if err := errors.Join(err1, err2); err != nil || fs.NArg() != 0 || !validFormat(*format) || *limit == 0 {
		if err != nil {
			fmt.Fprintf(stderr, "otsiem findings: %v\n", err)
		}
		fs.Usage()
		return 2
	}
	f := storage.FindingsFilter{From: from, To: to, Severities: list(*severity), Types: list(*typ), Conduit: *conduit,
		Zone: *zone, Limit: uint32(min(*limit, 1<<31))}
	return withStore(*cfgPath, stderr, func(ctx context.Context, db *storage.DB) error {
		t, err := storage.RunQuery(ctx, db.Conn, storage.QueryFindings, f.Args()...)
		if err != nil {
			return err
		}
		return printTable(stdout, t, *format)
	})
}

// parseWhen reads a duration before now or an RFC 3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q: want a duration (24h) or an RFC 3339 time", s)
	}
	return t, nil
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

// derefAny dereferences a non-nil pointer of any type.
func derefAny(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return rv.Elem().Interface()
	}
	return v
}
