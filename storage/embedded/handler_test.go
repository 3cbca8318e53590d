package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

func TestMain(m *testing.M) { chdbtest.Main(m) }

// open returns a clickhouse-go connection to a fresh database on the
// embedded engine.
func open(t testing.TB) (clickhouse.Conn, string) { return chdbtest.ClickHouse(t) }

type row struct {
	ID     uint64
	Time   time.Time
	Addr   netip.Addr
	Zone   string
	Msg    string
	Port   *uint16
	Attrs  map[string]string
	Counts []uint32
}

func TestNativeAPIBatchRoundTrip(t *testing.T) {
	conn, _ := open(t)
	ctx := t.Context()
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, `CREATE TABLE t (
		id UInt64, time DateTime64(6, 'UTC'), addr IPv6, zone LowCardinality(String),
		msg String, port Nullable(UInt16), attrs Map(String, String), counts Array(UInt32)
	) ENGINE = MergeTree ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	want := make([]row, n)
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO t")
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		r := row{
			ID:     uint64(i),
			Time:   base.Add(time.Duration(i) * time.Millisecond),
			Addr:   netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			Zone:   fmt.Sprintf("Z%d", i%3),
			Msg:    fmt.Sprintf("line %d\n\nsecond paragraph\x00\r\n\n", i),
			Attrs:  map[string]string{"k": fmt.Sprint(i), "blank": "\n\n"},
			Counts: []uint32{uint32(i), 7},
		}
		if i%2 == 0 {
			p := uint16(i)
			r.Port = &p
		}
		want[i] = r
		if err := batch.Append(r.ID, r.Time, r.Addr, r.Zone, r.Msg, r.Port, r.Attrs, r.Counts); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT id, time, addr, zone, msg, port, attrs, counts FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var g row
		var addr netip.Addr
		if err := rows.Scan(&g.ID, &g.Time, &addr, &g.Zone, &g.Msg, &g.Port, &g.Attrs, &g.Counts); err != nil {
			t.Fatal(err)
		}
		g.Addr = addr.Unmap()
		w := want[i]
		if g.ID != w.ID || !g.Time.Equal(w.Time) || g.Addr != w.Addr || g.Zone != w.Zone || g.Msg != w.Msg ||
			(g.Port == nil) != (w.Port == nil) || (g.Port != nil && *g.Port != *w.Port) ||
			fmt.Sprint(g.Attrs) != fmt.Sprint(w.Attrs) || fmt.Sprint(g.Counts) != fmt.Sprint(w.Counts) {
			t.Fatalf("row %d: got %+v, want %+v", i, g, w)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("read %d rows, want %d", i, n)
	}
}

func TestDatabaseSQLRoundTrip(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	sqlDB := clickhouse.OpenDB(embedded.ClickHouseOptions(embedded.NewHandler(e), db))
	defer sqlDB.Close()
	ctx := t.Context()
	if _, err := sqlDB.ExecContext(ctx, "CREATE TABLE kv (k String, v Int64) ENGINE = MergeTree ORDER BY k"); err != nil {
		t.Fatal(err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO kv")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("key\n\n%04d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var count, sum int64
	if err := sqlDB.QueryRowContext(ctx, "SELECT count(), sum(v) FROM kv WHERE k LIKE {p:String}",
		clickhouse.Named("p", "key\n\n%")).Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != 3000 || sum != 2999*3000/2 {
		t.Errorf("count %d sum %d", count, sum)
	}
	var k string
	if err := sqlDB.QueryRowContext(ctx, "SELECT k FROM kv WHERE v = ?", 42).Scan(&k); err != nil {
		t.Fatal(err)
	}
	if k != "key\n\n0042" {
		t.Errorf("k = %q", k)
	}
	// An exec with inline VALUES data holding "\n\n".
	if _, err := sqlDB.ExecContext(ctx, "INSERT INTO kv VALUES ('a\n\nb', -1)"); err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.QueryRowContext(ctx, "SELECT k FROM kv WHERE v = -1").Scan(&k); err != nil || k != "a\n\nb" {
		t.Errorf("k = %q, err %v", k, err)
	}
}

func TestErrorsSurface(t *testing.T) {
	conn, _ := open(t)
	ctx := t.Context()
	_, err := conn.Query(ctx, "SELECT * FROM missing_table")
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 60 {
		t.Fatalf("query error = %v, want exception code 60", err)
	}
	var he *clickhouse.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Errorf("http error = %v, want status 404", err)
	}
	if err := conn.Exec(ctx, "CREATE TABLE t ("); err == nil {
		t.Error("syntax error not reported")
	} else if !errors.As(err, &ex) || ex.Code != 62 {
		t.Errorf("syntax error = %v, want code 62", err)
	}
	// A server-side failure during an insert: a constraint rejects the data.
	if err := conn.Exec(ctx, "CREATE TABLE c (x UInt8, CONSTRAINT positive CHECK x > 0) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO c")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []uint8{1, 0} {
		if err := b.Append(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err == nil || !errors.As(err, &ex) || ex.Code != 469 {
		t.Errorf("insert violating a constraint: err = %v, want code 469", err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM c").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after failed insert = %d, err %v", n, err)
	}
}

func TestSettingsArePerQuery(t *testing.T) {
	conn, _ := open(t)
	ctx := t.Context()
	get := func(ctx context.Context) string {
		t.Helper()
		var v string
		if err := conn.QueryRow(ctx, "SELECT toString(getSetting('max_block_size'))").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	def := get(ctx)
	if got := get(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_block_size": 777}))); got != "777" {
		t.Errorf("with setting: %s", got)
	}
	if got := get(ctx); got != def {
		t.Errorf("setting leaked into the next query: %s, want %s", got, def)
	}
}

func TestLoopbackListener(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- embedded.Serve(ctx, ln, embedded.NewHandler(e)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + ln.Addr().String() + "/"
	post := func(query, body string) (int, string, http.Header) {
		t.Helper()
		u := base + "?database=" + db
		if query != "" {
			u += "&query=" + urlEscape(query)
		}
		res, err := http.Post(u, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	res, err := http.Get(base + "ping")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ping: %d", res.StatusCode)
	}
	if code, body, _ := post("", "CREATE TABLE l (s String) ENGINE = MergeTree ORDER BY s"); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	// Data in the body after the statement, and data after a URL statement.
	if code, body, _ := post("", "INSERT INTO l FORMAT TSV\na\\n\\nb\n\nc\n"); code != 200 {
		t.Fatalf("insert in body: %d %s", code, body)
	}
	if code, body, _ := post("INSERT INTO l FORMAT CSV", "\"d\n\ne\"\n"); code != 200 {
		t.Fatalf("insert with URL query: %d %s", code, body)
	}
	code, body, _ := post("", "SELECT groupArray(s) FROM (SELECT s FROM l ORDER BY s) FORMAT JSONCompact")
	if code != 200 || !strings.Contains(body, `["","a\n\nb","c","d\n\ne"]`) {
		t.Errorf("select: %d %s", code, body)
	}
	code, body, _ = post("SELECT {n:UInt8} + 1&param_n=41", "")
	if code != 200 || body != "42\n" {
		t.Errorf("param: %d %q", code, body)
	}
	code, body, hd := post("", "SELECT nope")
	if code != 404 || hd.Get("X-ClickHouse-Exception-Code") != "47" || !strings.HasPrefix(body, "Code: 47.") {
		t.Errorf("error: %d %q %v", code, body, hd)
	}
}

// urlEscape escapes a query for a URL but keeps '&' and '=' so tests can
// append parameters.
func urlEscape(s string) string {
	return strings.NewReplacer(" ", "%20", "{", "%7B", "}", "%7D", "+", "%2B", "\n", "%0A").Replace(s)
}
