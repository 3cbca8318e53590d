package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/escape"
	"github.com/otsiem/otsiem/storage"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "query", summary: "run SQL against the configured or embedded store (table, json or csv)",
		usage: "[--config FILE] [--format table|json|csv] [--write] SQL",
		about: []string{
			"Runs one SQL statement against the configured or embedded store (also after otsiem run stopped,",
			"and through its HTTP interface while it runs). The statement runs with a reader's rights: one read",
			"statement (SELECT, WITH, SHOW, DESCRIBE, EXISTS, EXPLAIN), no table function reaching files or the",
			"network. --write allows statements that change the store; while otsiem run holds the embedded",
			"store, that is INSERT into a table and nothing more."},
		flags: runQuery})
}

func runQuery(fs *pflag.FlagSet) runFunc {
	cfgPath := fs.String("config", "", "configuration file (default: the embedded store under data/clickhouse)")
	format := fs.String("format", "table", "output format: table, json (one object per line) or csv")
	write := fs.Bool("write", false, "allow statements that change the store (INSERT, ALTER, DROP …)")
	return func(sql []string, stdout, stderr io.Writer) int {
		switch {
		case !validFormat(*format):
			fmt.Fprintf(stderr, "otsiem query: unknown format %q; valid: table, json, csv\n", *format)
			return 2
		case len(sql) == 0:
			return badUsage(stderr, "query", "no SQL given")
		case len(sql) > 1:
			fmt.Fprintf(stderr, "otsiem query: the SQL is one argument: quote it (got %d arguments: %s …)\n", len(sql), strings.Join(sql[:2], " "))
			return 2
		}
		return withStoreAs(*cfgPath, stderr, *write, func(ctx context.Context, db *storage.DB) error {
			conn := db.Conn
			if !*write {
				var err error
				if conn, err = db.Reader(); err != nil {
					return err
				}
				defer conn.Close()
			}
			t, err := storage.RunSQL(ctx, conn, sql[0])
			if err != nil {
				if !*write && (strings.Contains(err.Error(), "READONLY") || strings.Contains(err.Error(), "ACCESS_DENIED")) {
					err = fmt.Errorf("%w\n(otsiem query reads; --write runs statements that change the store)", err)
				}
				return err
			}
			if err := printTable(stdout, t, *format); err != nil {
				return err
			}
			if len(t.Rows) == 0 && len(t.Columns) > 0 {
				fmt.Fprintln(stderr, "otsiem query: 0 rows")
			}
			return nil
		})
	}
}

func validFormat(f string) bool { return f == "table" || f == "json" || f == "csv" }

// withStore loads the configuration (the defaults without a path), opens
// the store and runs f on it. An embedded store must exist: a reading
// command never creates one (it brings an existing one's schema up to
// date); a server's schema is left to `otsiem store` and `otsiem migrate`.
// While `otsiem run` holds the embedded store, f reads it through run's
// HTTP interface as the reader.
func withStore(path string, stderr io.Writer, f func(context.Context, *storage.DB) error) int {
	return withStoreAs(path, stderr, false, f)
}

// withStoreAs is withStore for a command that inserts rows when write is
// set: while `otsiem run` holds the embedded data, it goes through run's
// ClickHouse HTTP interface as the writer instead of the reader.
func withStoreAs(path string, stderr io.Writer, write bool, f func(context.Context, *storage.DB) error) int {
	cfg, ok := loadConfig(path, stderr)
	if !ok {
		return 1
	}
	return withConfigAs(cfg, path, stderr, write, f)
}

// loadConfig reads the configuration file, or gives the defaults when path
// is empty; a bad file is reported on stderr (with file:line:col).
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	if path == "" {
		return config.Default(), true
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, false
	}
	return cfg, true
}

// withConfigAs opens the configuration's store (cfgPath names where it came
// from in errors; write as in withStoreAs) and runs f on it.
func withConfigAs(cfg *config.Config, cfgPath string, stderr io.Writer, write bool, f func(context.Context, *storage.DB) error) int {
	ctx, cancel := signalContext()
	defer cancel()
	db, err := openExisting(ctx, cfg, cfgPath, write)
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

// openExisting opens the store for a command that reads it (or, with
// write, inserts rows) but never creates it: an embedded store must exist
// (see embeddedStoreExists); its schema is brought up to date, a server's is
// left to `otsiem store` and `otsiem migrate`. While otsiem run holds the
// embedded data, the command goes through run's ClickHouse HTTP interface
// as the reader, or as the writer when it writes.
func openExisting(ctx context.Context, cfg *config.Config, cfgPath string, write bool) (*storage.DB, error) {
	sc := cfg.Storage
	if len(sc.ClickHouse.Addresses) == 0 {
		if err := embeddedStoreExists(sc.Embedded.Path, cfgPath); err != nil {
			return nil, err
		}
	}
	sc.Embedded.ReadThrough, sc.Embedded.WriteThrough = !write, write
	return openWith(ctx, cfg, sc, len(sc.ClickHouse.Addresses) == 0)
}

// embeddedStoreExists reports, as an error saying where it looked and how
// to look elsewhere, that the embedded store in dir (from the
// configuration at cfgPath) is missing.
func embeddedStoreExists(dir, cfgPath string) error {
	if _, err := os.Stat(filepath.Join(dir, storeMarker)); err == nil {
		return nil
	}
	abs, _ := filepath.Abs(dir)
	from := "the default data_dir \"data\", relative to the current directory"
	if cfgPath != "" {
		from = cfgPath
	}
	return fmt.Errorf("no otsiem store at %s (from %s): run otsiem where it stores its data, "+
		"or point to the store with --config FILE (data_dir, storage.embedded.path, or storage.clickhouse.addresses for a server)", abs, from)
}

// storeMarker is what an embedded store's directory holds once the engine
// has opened it.
const storeMarker = "metadata"

// printTable writes a result as an aligned table, JSON lines or CSV, the
// header kept when there are no rows. Text from the store is escaped for
// the terminal (and CSV cells against formulas): see package escape.
func printTable(w io.Writer, t *storage.Table, format string) error {
	switch format {
	case "json":
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, r := range t.Rows {
			obj := make(map[string]any, len(r))
			for i, v := range r {
				obj[t.Columns[i]] = jsonValue(v)
			}
			buf.Reset()
			if err := enc.Encode(obj); err != nil {
				return err
			}
			if _, err := w.Write(escape.JSON(buf.Bytes())); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		rec := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			rec[i] = escape.CSV(c)
		}
		_ = cw.Write(rec)
		for _, r := range t.Rows {
			for i, v := range r {
				rec[i] = escape.CSV(text(v))
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			head[i] = escape.Terminal(strings.ToUpper(c))
		}
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = escape.Terminal(text(v))
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
	if d, ok := deref(v); ok {
		return jsonValue(d)
	}
	return v
}
