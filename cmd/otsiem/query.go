package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/storage"
)

func init() {
	register(command{name: "query", summary: "run SQL against the configured or embedded store (table, json or csv)", run: runQuery})
}

func runQuery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded engine under data/clickhouse)")
	format := fs.String("format", "table", "output format: table, json (one object per line) or csv")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: otsiem query [--config FILE] [--format table|json|csv] SQL")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || !validFormat(*format) {
		fs.Usage()
		return 2
	}
	return withStore(*cfgPath, stderr, func(ctx context.Context, db *storage.DB) error {
		t, err := storage.RunSQL(ctx, db.Conn, fs.Arg(0))
		if err != nil {
			return err
		}
		return printTable(stdout, t, *format)
	})
}

func validFormat(f string) bool { return f == "table" || f == "json" || f == "csv" }

// withStore loads the configuration (the defaults without a path), opens
// the store and runs f on it.
func withStore(path string, stderr io.Writer, f func(context.Context, *storage.DB) error) int {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	db, err := openReader(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "otsiem: %v\n", err)
		return 1
	}
	defer db.Close()
	if err := f(ctx, db); err != nil {
		fmt.Fprintf(stderr, "otsiem: %v\n", err)
		return 1
	}
	return 0
}

// printTable writes a result as an aligned table, JSON lines or CSV.
func printTable(w io.Writer, t *storage.Table, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range t.Rows {
			obj := make(map[string]any, len(r))
			for i, v := range r {
				obj[t.Columns[i]] = jsonValue(v)
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(t.Columns)
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = text(v)
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Columns, "\t")))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(text(v))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	}
}

// text renders a value for tables and CSV: times in RFC 3339 UTC, IPv4
// without its IPv6 mapping, NULL as empty.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case net.IP:
		if x.IsUnspecified() {
			return ""
		}
		return x.String()
	case string:
		return x
	}
	if j, err := json.Marshal(jsonValue(v)); err == nil {
		s := string(j)
		if s == "null" {
			return ""
		}
		if len(s) > 1 && s[0] == '"' {
			return strings.Trim(s, `"`)
		}
		return s
	}
	return fmt.Sprint(v)
}

// jsonValue makes scanned values encode naturally: pointers dereferenced,
// times in UTC, addresses as text.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case net.IP:
		if x.IsUnspecified() {
			return nil
		}
		return x.String()
	case *string:
		if x == nil {
			return nil
		}
		return *x
	}
	if d := derefAny(v); d != v {
		return jsonValue(d)
	}
	return v
}
