package chdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
)

func TestMain(m *testing.M) { chdbtest.Main(m) }

func TestLocateMissingNamesInstallCommand(t *testing.T) {
	t.Setenv(chdb.EnvLibPath, "")
	_, err := chdb.Locate(filepath.Join(t.TempDir(), "nope.so"))
	if !errors.Is(err, chdb.ErrLibraryNotFound) {
		t.Fatalf("err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "make chdb") {
		t.Errorf("error does not name the install command: %v", err)
	}
	t.Setenv(chdb.EnvLibPath, "/nonexistent/libchdb.so")
	if _, err := chdb.Locate(""); !errors.Is(err, chdb.ErrLibraryNotFound) || !strings.Contains(err.Error(), chdb.EnvLibPath) {
		t.Errorf("env path: err = %v", err)
	}
}

func TestGoSignalsStillWorkAfterLoad(t *testing.T) {
	e := chdbtest.Engine(t)
	// Booting more connections must not disturb Go's handlers either.
	if _, err := e.Query(t.Context(), "SELECT 1", "TSV", nil); err != nil {
		t.Fatal(err)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT)
	defer signal.Stop(ch)
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT not delivered to os/signal after loading chDB")
	}
}

func TestQueryFormatsAndErrors(t *testing.T) {
	e := chdbtest.Engine(t)
	r, err := e.Query(t.Context(), "SELECT 1 AS x, 'a' AS y", "TSVWithNames", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Data); got != "x\ty\n1\ta\n" {
		t.Errorf("data = %q", got)
	}
	_, err = e.Query(t.Context(), "SELECT * FROM no_such_table", "TSV", nil)
	var ce *chdb.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %#v, want *chdb.Error", err)
	}
	if ce.Code != 60 || ce.Name != "UNKNOWN_TABLE" || !strings.HasPrefix(ce.Message, "Code: 60.") {
		t.Errorf("error = %+v", ce)
	}
}

func TestQueryParams(t *testing.T) {
	e := chdbtest.Engine(t)
	// Values use the escaped form of the HTTP interface's param_ values.
	r, err := e.Query(t.Context(), "SELECT {s:String}, {n:UInt32} + 1", "TSV",
		map[string]string{"s": `a\n\nb`, "n": "41"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Data); got != "a\\n\\nb\t42\n" {
		t.Errorf("data = %q", got)
	}
}

func TestInsertStreamKeepsDoubleNewlines(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	ctx := t.Context()
	if _, err := e.Query(ctx, "CREATE TABLE "+db+".t (id UInt32, s String) ENGINE = MergeTree ORDER BY id", "", nil); err != nil {
		t.Fatal(err)
	}
	// RowBinary with strings full of "\n\n" and NUL bytes, bigger than one
	// stream chunk.
	var buf bytes.Buffer
	const n = 50000
	for i := range n {
		s := fmt.Sprintf("row %d\n\nwith\x00binary\n\n", i)
		buf.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
		buf.WriteByte(byte(len(s))) // varint, all lengths < 128
		buf.WriteString(s)
	}
	c, err := e.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Insert("INSERT INTO "+db+".t", "RowBinary", nil, &buf)
	e.Release(c, err != nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsWritten != n {
		t.Errorf("rows written = %d, want %d", res.RowsWritten, n)
	}
	r, err := e.Query(ctx, "SELECT count(), countIf(s LIKE '%\n\nwith\\0binary\n\n'), max(id) FROM "+db+".t", "TSV", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.Data), fmt.Sprintf("%d\t%d\t%d\n", n, n, n-1); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInsertStreamBadDataIsAnError(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	ctx := t.Context()
	if _, err := e.Query(ctx, "CREATE TABLE "+db+".t (id UInt32) ENGINE = MergeTree ORDER BY id", "", nil); err != nil {
		t.Fatal(err)
	}
	c, err := e.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Insert("INSERT INTO "+db+".t", "TSV", nil, strings.NewReader("1\nnot a number\n"))
	e.Release(c, err != nil)
	var ce *chdb.Error
	if !errors.As(err, &ce) || ce.Code == 0 {
		t.Fatalf("err = %v, want an engine error with a code", err)
	}
	_, err = e.Query(ctx, "INSERT INTO "+db+".nope", "", nil)
	if err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
}

func TestConfigureTracksDatabaseAndSettings(t *testing.T) {
	e := chdbtest.Engine(t)
	db := chdbtest.Database(t)
	ctx := t.Context()
	c, err := e.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Release(c, false)
	get := func() string {
		t.Helper()
		r, err := c.Query("SELECT currentDatabase(), getSetting('max_block_size'), getSetting('log_comment')", "TSV", nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	def := get()
	if err := c.Configure(db, map[string]string{"max_block_size": "1234", "log_comment": "it's"}); err != nil {
		t.Fatal(err)
	}
	if got, want := get(), db+"\t1234\tit\\'s\n"; got != want { // TSV escapes the quote
		t.Errorf("configured: %q, want %q", got, want)
	}
	if err := c.Configure("", nil); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != def {
		t.Errorf("reset: %q, want %q", got, def)
	}
	if err := c.Configure("", map[string]string{"no_such_setting_x": "1"}); err == nil {
		t.Error("unknown setting accepted")
	}
	if err := c.Configure("", map[string]string{"x; DROP": "1"}); err == nil {
		t.Error("bad setting name accepted")
	}
}

func TestConcurrentQueries(t *testing.T) {
	e := chdbtest.Engine(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			r, err := e.Query(t.Context(), fmt.Sprintf("SELECT sum(number) FROM numbers(%d)", 1000+i), "TSV", nil)
			if err != nil {
				errs <- err
				return
			}
			n := 1000 + i
			if want := fmt.Sprintf("%d\n", n*(n-1)/2); string(r.Data) != want {
				errs <- fmt.Errorf("query %d: %q, want %q", i, r.Data, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSecondEngineRefused(t *testing.T) {
	chdbtest.Engine(t)
	if _, err := chdb.Open(chdb.Options{Path: t.TempDir()}); err == nil {
		t.Fatal("second engine opened in one process")
	}
}

func TestInUse(t *testing.T) {
	dir := t.TempDir()
	if used, err := chdb.InUse(dir); used || err != nil {
		t.Fatalf("fresh directory: in use %v, err %v", used, err)
	}
	e := chdbtest.Engine(t)
	if used, err := chdb.InUse(e.Path()); !used || err != nil {
		t.Errorf("the open engine's directory: in use %v, err %v", used, err)
	}
}
