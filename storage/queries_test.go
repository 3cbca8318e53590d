package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/otsiem/otsiem/storage"
)

func TestVerdictsByConduit(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// 400 events one second apart: 100 of each verdict, in 10:00-10:07.
	if err := storage.Insert(ctx, conn, sampleEvents(400, t0)); err != nil {
		t.Fatal(err)
	}
	got, err := storage.VerdictsByConduit(ctx, conn, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := "[{C1-BPCS-OPS allowed 100} {C1-BPCS-OPS blocked 100} {C1-BPCS-OPS violation 100} {C1-BPCS-OPS would_block 100}]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if got, err := storage.VerdictsByConduit(ctx, conn, t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("later hour: %v, %v", got, err)
	}
}

func TestNamedQueriesRun(t *testing.T) {
	conn, _ := migrated(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := storage.Insert(ctx, conn, sampleEvents(400, t0)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		f := &storage.Finding{FindingID: "f-1", Time: t0, FirstSeen: t0, LastSeen: t0.Add(time.Duration(i) * time.Minute),
			Count: uint64(i), Type: "violation", Reason: "no_conduit", Severity: "high", Summary: "bypass"}
		if err := storage.Insert(ctx, conn, []*storage.Finding{f}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q    storage.Query
		rows int
	}{
		{storage.QueryVerdictsByConduit, 4},
		{storage.QueryWouldBlock, 1}, // source ports do not split a flow
		{storage.QueryFindings, 1},
	} {
		rows, err := conn.Query(ctx, tc.q.SQL, clickhouse.Named("from", t0), clickhouse.Named("to", t0.Add(time.Hour)))
		if err != nil {
			t.Fatalf("%s: %v", tc.q.Name, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", tc.q.Name, err)
		}
		if n != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.q.Name, n, tc.rows)
		}
	}
}
