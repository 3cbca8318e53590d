package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

var testUsers = embedded.Users{
	Reader: embedded.Credentials{User: "r", Password: "reader-secret"},
	Writer: embedded.Credentials{User: "w", Password: "writer-secret"},
}

// guarded serves a fresh database with a table t of 3 rows behind Guard on
// a loopback port, and returns its base URL and the database.
func guarded(t testing.TB) (string, string) {
	t.Helper()
	return guardedTLS(t, embedded.TLS{})
}

// guardedTLS is guarded served with c (https:// when c is enabled).
func guardedTLS(t testing.TB, c embedded.TLS) (string, string) {
	t.Helper()
	conn, db := open(t)
	if err := conn.Exec(t.Context(), "CREATE TABLE t (s String) ENGINE = MergeTree ORDER BY s"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(t.Context(), "INSERT INTO t VALUES ('a'), ('b'), ('c')"); err != nil {
		t.Fatal(err)
	}
	ln, err := embedded.Listen("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- embedded.Serve(ctx, ln, embedded.Guard(embedded.NewHandler(chdbtest.Engine(t)), testUsers))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	scheme := "http://"
	if c.Enabled() {
		scheme = "https://"
	}
	return scheme + ln.Addr().String() + "/", db
}

type probe struct {
	user, password string
	query          string // in the URL
	body           string
	origin         string
	settings       string // extra URL parameters
}

func (p probe) do(t *testing.T, base, db string) (int, string) {
	t.Helper()
	u := base + "?database=" + db + p.settings
	if p.query != "" {
		u += "&query=" + url.QueryEscape(p.query)
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	if p.user != "" {
		req.SetBasicAuth(p.user, p.password)
	}
	if p.origin != "" {
		req.Header.Set("Origin", p.origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The probes of the "open listener" fault replayed against the guarded
// interface, as a reader and as a writer: each is refused, and neither the
// host's files nor the table are touched.
func TestGuardRefusesProbes(t *testing.T) {
	base, db := guarded(t)
	dir := t.TempDir()
	written := filepath.Join(dir, "written.csv")
	outfile := filepath.Join(dir, "outfile.txt")
	rows := func() string {
		t.Helper()
		code, body := probe{user: "r", password: "reader-secret", body: "SELECT count() FROM t"}.do(t, base, db)
		if code != 200 {
			t.Fatalf("count: %d %s", code, body)
		}
		return strings.TrimSpace(body)
	}
	for _, who := range []embedded.Credentials{testUsers.Reader, testUsers.Writer} {
		for _, stmt := range []string{
			"INSERT INTO FUNCTION file('" + written + "', 'CSV') SELECT 1",
			"SELECT * FROM file('/etc/hostname', 'LineAsString')",
			"SELECT file('/etc/hostname')",
			"select FILE('/etc/hostname') -- upper case and a comment",
			"SELECT `file`('/etc/hostname')",
			"SELECT 1 INTO OUTFILE '" + outfile + "'",
			"SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString', 's String')",
			"SELECT * FROM remote('127.0.0.1:9000', system.one)",
			"SELECT * FROM executable('id', 'LineAsString', 's String')",
			"TRUNCATE TABLE t",
			"SELECT 1; TRUNCATE TABLE t",
			"DROP TABLE t",
			"ALTER TABLE t DELETE WHERE 1",
			"CREATE TABLE x (s String) ENGINE = Memory",
			"SET readonly = 0",
			"SELECT 1 SETTINGS readonly = 0",
			"SYSTEM SHUTDOWN",
			"INSERT INTO t SELECT * FROM file('/etc/hostname', 'LineAsString')",
			"INSERT INTO t VALUES (file('/etc/hostname'))",
			"INSERT INTO t SETTINGS format_schema = '/etc/hostname:X' FORMAT CSV\nx\n",
			"INSERT INTO t FROM INFILE '/etc/hostname' FORMAT LineAsString",
		} {
			code, body := probe{user: who.User, password: who.Password, body: stmt}.do(t, base, db)
			if code == 200 {
				t.Errorf("%s ran %q: %s", who.User, stmt, body)
			}
			t.Logf("%s %q: %d %s", who.User, stmt, code, strings.TrimSpace(body))
		}
		// A setting that would read a file, given in the URL.
		if code, body := (probe{user: who.User, password: who.Password, body: "SELECT 1",
			settings: "&format_schema=" + url.QueryEscape("/etc/hostname:X")}).do(t, base, db); code != http.StatusForbidden {
			t.Errorf("%s gave format_schema: %d %s", who.User, code, body)
		}
		// A cross-origin POST from a web page, with valid credentials.
		if code, body := (probe{user: who.User, password: who.Password, body: "SELECT 1", origin: "http://evil.example"}).do(t, base, db); code != http.StatusForbidden || !strings.Contains(body, "Origin") {
			t.Errorf("cross-origin POST as %s: %d %s", who.User, code, body)
		}
	}
	for _, f := range []string{written, outfile} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s written through the interface", f)
		}
	}
	if got := rows(); got != "3" {
		t.Errorf("t has %s rows after the probes, want 3", got)
	}
	// No credentials, a wrong password, a browser without credentials.
	for _, p := range []probe{{body: "SELECT 1"}, {user: "r", password: "guess", body: "SELECT 1"},
		{user: "w", password: "reader-secret", body: "SELECT 1"}, {origin: "http://evil.example", body: "SELECT 1"}} {
		if code, body := p.do(t, base, db); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("%+v: %d %s", p, code, body)
		}
	}
	if code, _ := (probe{body: "SELECT 1"}).do(t, base, db); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
	res, err := http.Get(base + "ping")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("ping: %d", res.StatusCode)
	}
}

// What each role is for still works: reading for the reader, inserting
// for the writer, both through clickhouse-go over HTTP with gzip.
func TestGuardServesRoles(t *testing.T) {
	base, db := guarded(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	connect := func(c embedded.Credentials) clickhouse.Conn {
		t.Helper()
		conn, err := clickhouse.Open(&clickhouse.Options{
			Protocol:    clickhouse.HTTP,
			Addr:        []string{addr},
			Auth:        clickhouse.Auth{Database: db, Username: c.User, Password: c.Password},
			Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
			Settings:    clickhouse.Settings{"enable_http_compression": 1, "max_execution_time": 60},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	reader, writer := connect(testUsers.Reader), connect(testUsers.Writer)
	ctx := t.Context()
	b, err := writer.PrepareBatch(ctx, "INSERT INTO t")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := b.Append(fmt.Sprintf("w%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("writer insert: %v", err)
	}
	var n uint64
	var first string
	if err := reader.QueryRow(ctx, "SELECT count(), min(s) FROM t WHERE s LIKE {p:String}", clickhouse.Named("p", "w%")).Scan(&n, &first); err != nil || n != 1000 || first != "w0000" {
		t.Errorf("reader: %d rows from %q, err %v", n, first, err)
	}
	// A statement with tabs, newlines, backslashes and quotes reaches the
	// engine's formatQuery intact.
	var lit string
	if err := reader.QueryRow(ctx, "SELECT concat('a\tb', '\\n', 'c\\\\d', 'it''s')\n-- a comment\n").Scan(&lit); err != nil || lit != "a\tb\nc\\dit's" {
		t.Errorf("reader literal: %q, err %v", lit, err)
	}
	if err := reader.Exec(ctx, "INSERT INTO t VALUES ('r')"); err == nil {
		t.Error("reader inserted")
	}
	b, err = reader.PrepareBatch(ctx, "INSERT INTO t")
	if err == nil {
		_ = b.Append("r")
		err = b.Send()
	}
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 164 {
		t.Errorf("reader batch insert: %v, want exception 164 (READONLY)", err)
	}
	// The responses really are gzip: ask by hand.
	req, _ := http.NewRequest(http.MethodPost, base+"?enable_http_compression=1&database="+db, strings.NewReader("SELECT count() FROM t"))
	req.SetBasicAuth("r", "reader-secret")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("compressed answer: %d %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
}
