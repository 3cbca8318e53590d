// Package chdbtest gives tests one shared embedded engine per test process,
// skipping them when libchdb.so is missing unless CHDB_REQUIRED=1, and
// clickhouse-go connections to fresh databases on it.
package chdbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/internal/poll"
	"github.com/otsiem/otsiem/storage/chdb"
	"github.com/otsiem/otsiem/storage/embedded"
)

// EnvRequired names the variable that turns a missing library from a skip
// into a failure (set by .ci/run).
const EnvRequired = "CHDB_REQUIRED"

var (
	once   sync.Once
	engine *chdb.Engine
	dir    string
	err    error
	dbSeq  atomic.Int64
)

// Engine returns the test process's engine, opened on first use on a
// temporary data directory. Without the library it skips tb, or fails it
// when CHDB_REQUIRED=1.
func Engine(tb testing.TB) *chdb.Engine {
	tb.Helper()
	once.Do(func() {
		dir, err = os.MkdirTemp("", "otsiem-chdb-")
		if err != nil {
			return
		}
		engine, err = chdb.Open(chdb.Options{Path: dir})
	})
	if err != nil {
		if errors.Is(err, chdb.ErrLibraryNotFound) && os.Getenv(EnvRequired) != "1" {
			tb.Skipf("embedded ClickHouse unavailable (%v); set %s=1 to fail instead", err, EnvRequired)
		}
		tb.Fatalf("embedded ClickHouse: %v", err)
	}
	return engine
}

// Database creates a fresh database for tb on the engine and returns its
// name; it is dropped when tb ends.
func Database(tb testing.TB) string {
	tb.Helper()
	e := Engine(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := e.Query(tb.Context(), "CREATE DATABASE "+name, "", nil); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		// Not SYNC: a DROP … SYNC waits until nothing uses the tables,
		// and once hung the storage tests for ten minutes on a loaded
		// machine (TestRefusedRowsAreDeadLettered, 2026-11-29). The
		// engine removes dropped tables later; Main removes the data.
		if _, err := e.Query(context.Background(), "DROP DATABASE IF EXISTS "+name, "", nil); err != nil {
			tb.Errorf("drop database: %v", err)
		}
	})
	return name
}

// Main runs the tests, then closes the engine and removes its data.
// Use it from TestMain: func TestMain(m *testing.M) { chdbtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if engine != nil {
		_ = engine.Close()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// ClickHouse returns a clickhouse-go connection, over the embedded HTTP
// interface, to a fresh database (see [Database]) and the database's name.
func ClickHouse(tb testing.TB) (driver.Conn, string) {
	tb.Helper()
	e := Engine(tb)
	db := Database(tb)
	conn, err := clickhouse.Open(embedded.ClickHouseOptions(embedded.NewHandler(e), db))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn, db
}

// WaitUint polls the one-number query q (e.g. "SELECT count() FROM
// events") until it returns want, and fails the test with the last number
// after a minute: a table and the materialized views it feeds commit one
// after the other, so a reader may see an insert's rows before its
// rollups.
func WaitUint(tb testing.TB, conn driver.Conn, q string, want uint64) {
	tb.Helper()
	poll.Equal(tb, time.Minute, q, func() (uint64, error) {
		var n uint64
		err := conn.QueryRow(context.Background(), q).Scan(&n)
		return n, err
	}, want)
}
