package storage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

// flaky passes requests to the embedded handler, except that while down it
// fails them all, and that it loses the response of the next lose INSERTs
// after they were committed.
type flaky struct {
	next http.Handler
	down atomic.Bool
	lose atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func() {
		w.Header().Set("X-ClickHouse-Exception-Code", "210")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Code: 210. DB::Exception: connection refused (test). (NETWORK_ERROR)\n"))
	}
	if f.down.Load() && !strings.Contains(r.URL.RawQuery, "displayName") {
		fail()
		return
	}
	if strings.Contains(r.URL.Query().Get("query"), "INSERT") && f.lose.Add(-1) >= 0 {
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		fail()
		return
	}
	f.next.ServeHTTP(w, r)
}

func TestWriterSurvivesOutageAndLostAcks(t *testing.T) {
	e := chdbtest.Engine(t)
	plain, db := migrated(t)
	fl := &flaky{next: embedded.NewHandler(e)}
	conn, err := clickhouse.Open(embedded.ClickHouseOptions(fl, db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := storage.NewWriter[*storage.Event](conn, storage.WriterOptions{
		BatchSize: 500, FlushInterval: 20 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	const n = 5000
	evs := sampleEvents(n, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	var committed atomic.Int64
	fl.lose.Store(3) // three inserts commit but their success is never heard
	for i, ev := range evs {
		if i == 1500 { // ClickHouse unreachable for a while
			fl.down.Store(true)
			time.AfterFunc(300*time.Millisecond, func() { fl.down.Store(false) })
		}
		if err := w.Write(ctx, ev, func() { committed.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for committed.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d rows committed", committed.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	if w.Stats().Retries.Load() == 0 {
		t.Error("no retries recorded across the outage")
	}
	got := counts(t, plain)
	if got != [4]uint64{n, n, n, n} {
		t.Errorf("counts (raw, final, flows, compliance) = %v, want all %d", got, n)
	}
}
