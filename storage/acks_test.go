package storage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// states returns each seeded finding's state as the findings query gives
// it: "id state acted_by note".
func states(t *testing.T, conn driver.Conn) string {
	t.Helper()
	tb, err := storage.RunQuery(t.Context(), conn, storage.QueryFindings,
		storage.FindingsFilter{From: q0.Add(-time.Hour), To: q0.Add(24 * time.Hour)}.Args()...)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range tb.Columns {
		col[c] = i
	}
	var out []string
	for _, r := range tb.Rows {
		out = append(out, strings.Join([]string{r[col["finding_id"]].(string), r[col["state"]].(string),
			r[col["acted_by"]].(string), r[col["note"]].(string)}, " "))
	}
	return strings.Join(out, "; ")
}

// The lifecycle: open → acknowledged (or closed) by an analyst; a new
// revision with new evidence reopens it; the correlator closing it does
// not; every action stays in the audit trail.
func TestAcknowledgeLifecycle(t *testing.T) {
	conn, _ := migrated(t)
	seed(t, conn)
	ctx := t.Context()
	if got := states(t, conn); got != "a open  ; b open  " {
		t.Fatalf("before: %s", got)
	}
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	err := storage.Acknowledge(ctx, conn, []storage.Ack{
		{FindingID: "a", Action: event.StateAcknowledged, At: at, By: "ana", Note: "MES team asked", Revision: 3, LastSeen: q0.Add(3 * time.Minute)},
		{FindingID: "b", Action: event.StateClosed, At: at, By: "ana", Revision: 2, LastSeen: q0.Add(2 * time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := states(t, conn); got != "a acknowledged ana MES team asked; b closed ana " {
		t.Fatalf("after ack: %s", got)
	}
	// The correlator closes a (its window passed): no new evidence.
	fb := storage.NewFindings()
	closed := seedFindings()[2]
	closed.Revision, closed.Status = 4, event.StatusClosed
	if err := fb.Add(closed); err != nil {
		t.Fatal(err)
	}
	if err := storage.Insert(ctx, conn, fb.Batch); err != nil {
		t.Fatal(err)
	}
	if got := states(t, conn); !strings.HasPrefix(got, "a acknowledged ") {
		t.Fatalf("closed by the correlator: %s", got)
	}
	// New evidence: revision 5 seen later reopens it.
	fb = storage.NewFindings()
	again := seedFindings()[2]
	again.Revision, again.Count, again.LastSeen = 5, 12, q0.Add(20*time.Minute)
	if err := fb.Add(again); err != nil {
		t.Fatal(err)
	}
	if err := storage.Insert(ctx, conn, fb.Batch); err != nil {
		t.Fatal(err)
	}
	if got := states(t, conn); got != "a open ana MES team asked; b closed ana " {
		t.Fatalf("after a new revision: %s", got)
	}
	// Filtered by state.
	tb, err := storage.RunQuery(ctx, conn, storage.QueryFindings, storage.FindingsFilter{From: q0.Add(-time.Hour),
		To: q0.Add(24 * time.Hour), States: []string{event.StateClosed}}.Args()...)
	if err != nil || len(tb.Rows) != 1 || tb.Rows[0][0] != "b" {
		t.Fatalf("closed findings: %v %v", tb, err)
	}
	// Acknowledged again: the audit trail keeps both actions.
	if err := storage.Acknowledge(ctx, conn, []storage.Ack{{FindingID: "a", Action: event.StateAcknowledged,
		At: at.Add(time.Hour), By: "bo", Revision: 5, LastSeen: q0.Add(20 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if got := states(t, conn); !strings.HasPrefix(got, "a acknowledged bo ") {
		t.Fatalf("re-acknowledged: %s", got)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM finding_acks WHERE finding_id = 'a'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("audit trail: %d rows, %v", n, err)
	}
	if err := storage.Acknowledge(ctx, conn, []storage.Ack{{FindingID: "a", Action: "resolved"}}); err == nil {
		t.Error("an unknown action was stored")
	}
}
