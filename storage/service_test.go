package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/internal/poll"
	"github.com/otsiem/otsiem/storage"
	"github.com/otsiem/otsiem/storage/chdb/chdbtest"
	"github.com/otsiem/otsiem/storage/embedded"
)

// publishEvents publishes events as NDJSON batches of per records, the way
// the correlator does, and returns the number of messages.
func publishEvents(t *testing.T, b *bus.Bus, evs []*event.Event, per int) int {
	return publishEventsTB(t, b, evs, per)
}

func publishEventsTB(t testing.TB, b *bus.Bus, evs []*event.Event, per int) int {
	t.Helper()
	n := 0
	for i := 0; i < len(evs); i += per {
		var data []byte
		for _, ev := range evs[i:min(i+per, len(evs))] {
			data = append(ev.AppendJSON(data), '\n')
		}
		msg := &nats.Msg{Subject: bus.SubjectEnriched + ".refinery.flow", Data: data, Header: nats.Header{}}
		msg.Header.Set(bus.HeaderCount, fmt.Sprint(min(per, len(evs)-i)))
		if _, err := b.JS.PublishMsg(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func publish(t *testing.T, b *bus.Bus, msg *nats.Msg) {
	t.Helper()
	if _, err := b.JS.PublishMsg(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
}

// startService runs the store service until the test ends.
func startService(t *testing.T, cfg storage.ServiceConfig) *storage.Service {
	t.Helper()
	s, err := storage.NewService(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func TestServiceStoresEventsFindingsDeadLetters(t *testing.T) {
	conn, _ := migrated(t)
	b := bustest.Open(t)
	reg := prometheus.NewRegistry()
	startService(t, storage.ServiceConfig{Conn: conn, Bus: b, BatchRows: 700, FlushInterval: 50 * time.Millisecond, Registerer: reg})

	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	evs := sampleEvents(3000, t0)
	publishEvents(t, b, evs, 256)
	// A record that is not an event: dead-lettered, its neighbours stored.
	publish(t, b, &nats.Msg{Subject: bus.SubjectEnriched + ".refinery.flow", Data: []byte("{\"time\":\"yesterday\"}\nnot json\n")})
	// A finding folding: revisions 1..4, each its own message.
	for rev := uint64(1); rev <= 4; rev++ {
		f := &event.Finding{FindingID: "0123456789abcdef0123456789abcdef", Revision: rev, Time: t0, FirstSeen: t0,
			LastSeen: t0.Add(time.Duration(rev) * time.Minute), Count: rev * 10, Type: "would_block", Reason: "not_permitted",
			Severity: event.SeverityMedium, Status: "open", Conduit: "C3-DMZ-ENT", SrcZone: "Z5-ENT", DstZone: "Z4-DMZ",
			Summary: "would block", EventIDs: []event.ID{evs[0].ID}}
		publish(t, b, &nats.Msg{Subject: bus.SubjectFindings + ".refinery.medium", Data: f.AppendJSON(nil)})
	}
	// A dead letter from ingest, with its headers.
	dl := &nats.Msg{Subject: bus.SubjectDeadLetter + ".refinery.oversize", Data: []byte("<13>" + strings.Repeat("x", 100)), Header: nats.Header{}}
	dl.Header.Set(bus.HeaderReason, ingest.ReasonOversize)
	dl.Header.Set(bus.HeaderListener, "syslog-tcp")
	dl.Header.Set(bus.HeaderSender, "10.30.1.1:51514")
	dl.Header.Set(bus.HeaderReceived, t0.Format(time.RFC3339Nano))
	dl.Header.Set(jetstream.MsgIDHeader, "dl-1")
	publish(t, b, dl)

	chdbtest.WaitUint(t, conn, "SELECT count() FROM events", 3000)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM deadletter", 3)
	chdbtest.WaitUint(t, conn, "SELECT max(revision) FROM finding_revisions", 4)
	waitCounts(t, conn, [4]uint64{3000, 3000, 3000, 3000})
	var n, count uint64
	if err := conn.QueryRow(t.Context(), "SELECT count(), max(count) FROM findings").Scan(&n, &count); err != nil || n != 1 || count != 40 {
		t.Errorf("findings: %d rows, count %d (err %v), want 1 row with count 40", n, count, err)
	}
	var site, source, sender, reason string
	if err := conn.QueryRow(t.Context(), "SELECT site, source, IPv6NumToString(sender), reason FROM deadletter WHERE id = 'dl-1'").Scan(&site, &source, &sender, &reason); err != nil {
		t.Fatal(err)
	}
	if site != "refinery" || source != "syslog-tcp" || sender != "::ffff:10.30.1.1" || reason != "oversize" {
		t.Errorf("dead letter: %s %s %s %s", site, source, sender, reason)
	}
	if got := testutil.ToFloat64(mustVec(t, reg, "otsiem_store_dead_letters_total", "undecodable")); got != 2 {
		t.Errorf("undecodable dead letters counted %v, want 2", got)
	}
}

// mustVec finds one labelled series of a registry's counter.
func mustVec(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
}

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
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		fail()
		return
	}
	f.next.ServeHTTP(w, r)
}

func flakyConn(t *testing.T, db string) (driver.Conn, *flaky) {
	t.Helper()
	fl := &flaky{next: embedded.NewHandler(chdbtest.Engine(t))}
	conn, err := clickhouse.Open(embedded.ClickHouseOptions(fl, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, fl
}

func TestServiceSurvivesOutageAndLostResponses(t *testing.T) {
	plain, db := migrated(t)
	conn, fl := flakyConn(t, db)
	b := bustest.Open(t)
	reg := prometheus.NewRegistry()
	fl.down.Store(true) // ClickHouse unreachable from the start
	fl.lose.Store(3)    // then three inserts commit but their success is never heard
	var logs syncBuffer
	svc := startService(t, storage.ServiceConfig{Conn: conn, Bus: b, BatchRows: 500, FlushInterval: 20 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Registerer: reg,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const n = 5000
	publishEvents(t, b, sampleEvents(n, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), 100)
	poll.True(t, 30*time.Second, "5 retries while ClickHouse is down", func() bool {
		return testutil.ToFloat64(mustVec(t, reg, "otsiem_store_insert_retries_total", "events")) >= 5
	})
	// Reported for /healthz, logged once (not once per retry).
	if err := svc.Err(); err == nil || !strings.Contains(err.Error(), "clickhouse fails inserts") {
		t.Errorf("Err during the outage: %v", err)
	}
	if got := strings.Count(logs.String(), "clickhouse write failed"); got != 1 {
		t.Errorf("the outage logged %d times, want once in its first minute:\n%s", got, logs.String())
	}
	fl.down.Store(false)
	chdbtest.WaitUint(t, plain, "SELECT uniqExact(event_id) FROM events", n)
	chdbtest.WaitUint(t, plain, "SELECT sum(events) FROM flows_hourly", n) // rollups complete too
	if err := svc.Err(); err != nil {
		t.Errorf("Err after the outage: %v", err)
	}
	if !strings.Contains(logs.String(), "clickhouse takes writes again") {
		t.Errorf("the end of the outage not logged:\n%s", logs.String())
	}
	if got := counts(t, plain); got != [4]uint64{n, n, n, n} {
		t.Errorf("counts (raw, distinct, flows, compliance) = %v, want all %d", got, n)
	}
}

// TestRedeliveryAfterCrashHasNoDuplicates simulates a writer that crashed
// between insert and ack: it inserted rows of the messages it fetched, in
// groups that do not follow the messages, acknowledged a few, and stopped.
// JetStream redelivers the rest to a new writer, which must store exactly
// the missing rows: every named query, rollups included, then answers as
// on a database fed each event once.
func TestRedeliveryAfterCrashHasNoDuplicates(t *testing.T) {
	conn, _ := migrated(t)
	ref, _ := migrated(t)
	seed(t, ref) // the reference: every row once

	b := bustest.Open(t)
	reg := prometheus.NewRegistry()
	cfg := storage.ServiceConfig{Conn: conn, Bus: b, BatchRows: 300, FlushInterval: 20 * time.Millisecond,
		AckWait: 500 * time.Millisecond, Registerer: reg}
	declare := cfg
	declare.Registerer = nil
	if _, err := storage.NewService(t.Context(), declare); err != nil { // declares the consumers
		t.Fatal(err)
	}
	all := sampleEvents(400, q0)
	msgs := publishEvents(t, b, all, 37)

	// The crashed writer.
	cons, err := b.JS.Consumer(t.Context(), bus.StreamEnriched, "otsiem-store-events")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := cons.Fetch(msgs, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var fetched []jetstream.Msg
	var decoded []*event.Event
	for m := range mb.Messages() {
		fetched = append(fetched, m)
		_ = bus.SplitRecords(m.Data(), func(rec []byte) error {
			ev := new(event.Event)
			if err := event.Decode(rec, ev); err != nil {
				t.Fatal(err)
			}
			decoded = append(decoded, ev)
			return nil
		})
	}
	if len(decoded) != 400 {
		t.Fatalf("crashed writer fetched %d events", len(decoded))
	}
	for _, part := range [][2]int{{0, 150}, {150, 260}, {300, 333}} { // not aligned to messages, with a gap
		if err := storage.Insert(t.Context(), conn, eventBatch(t, decoded[part[0]:part[1]])); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range fetched[:2] { // rows 0-73, inside the first insert
		if err := m.Ack(); err != nil {
			t.Fatal(err)
		}
	}

	// The crashed writer had also stored some findings and dead letters.
	seedRest(t, b)
	crashed := map[string]int{"otsiem-store-findings": 3, "otsiem-store-deadletter": 1}
	for name, stored := range crashed {
		stream := bus.StreamFindings
		if name == "otsiem-store-deadletter" {
			stream = bus.StreamDeadLetter
		}
		c, err := b.JS.Consumer(t.Context(), stream, name)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := c.Fetch(stored, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range mb.Messages() {
			if stream == bus.StreamFindings {
				fb := storage.NewFindings()
				var f event.Finding
				if err := event.DecodeFinding(m.Data(), &f); err != nil {
					t.Fatal(err)
				}
				if err := fb.Add(&f); err != nil {
					t.Fatal(err)
				}
				if err := storage.Insert(t.Context(), conn, fb.Batch); err != nil {
					t.Fatal(err)
				}
				continue
			}
			db := storage.NewDeadLetters()
			db.Add(&storage.DeadLetter{ID: m.Headers().Get(jetstream.MsgIDHeader), ReceivedAt: q0, Site: "refinery",
				Source: "syslog-tcp", Reason: "oversize", Raw: m.Data()})
			if err := storage.Insert(t.Context(), conn, db.Batch); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The new writer: redeliveries after AckWait.
	startService(t, cfg)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM events", 410)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM deadletter", 2)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM finding_revisions", 5)
	if got := testutil.ToFloat64(mustVec(t, reg, "otsiem_store_duplicate_rows_total", "events")); got != 186+33 {
		// redelivered: messages 2-10 (rows 74-399); stored: 74-259, 300-332
		t.Errorf("duplicate rows dropped = %v, want %d", got, 186+33)
	}
	// The redelivered findings and dead letters were found stored.
	for table, want := range map[string]float64{"finding_revisions": 3, "deadletter": 1} {
		poll.Equal(t, 30*time.Second, "duplicate "+table+" rows dropped", func() (float64, error) {
			return testutil.ToFloat64(mustVec(t, reg, "otsiem_store_duplicate_rows_total", table)), nil
		}, want)
	}
	chdbtest.WaitUint(t, conn, "SELECT count() FROM finding_revisions", 5)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM deadletter", 2)
	want, got := render(t, ref), render(t, conn)
	for _, q := range storage.Queries {
		if got[q.Name] != want[q.Name] {
			t.Errorf("%s after redelivery:\n%s\nwant:\n%s", q.Name, got[q.Name], want[q.Name])
		}
	}
	// Diode events have no verdict (not in flows) and one zone, "".
	waitCounts(t, conn, [4]uint64{410, 410, 400, 405})
}

// seedRest publishes seed's diode events, findings and dead letters.
func seedRest(t *testing.T, b *bus.Bus) {
	t.Helper()
	publishEvents(t, b, seedDiode(), 4)
	for _, f := range seedFindings() {
		publish(t, b, &nats.Msg{Subject: bus.SubjectFindings + ".refinery.high", Data: f.AppendJSON(nil)})
	}
	for _, id := range []string{"d1", "d2"} {
		m := &nats.Msg{Subject: bus.SubjectDeadLetter + ".refinery.oversize", Data: []byte("x"), Header: nats.Header{}}
		m.Header.Set(bus.HeaderListener, "syslog-tcp")
		m.Header.Set(bus.HeaderReceived, q0.Format(time.RFC3339Nano))
		m.Header.Set(jetstream.MsgIDHeader, id)
		publish(t, b, m)
	}
}

// TestRefusedRowsAreDeadLettered makes ClickHouse refuse some rows for
// their content (a CHECK constraint stands in for any data error): the
// batch is split until the refused rows are alone, they go to the
// deadletter table with the reason, and the rest is stored.
func TestRefusedRowsAreDeadLettered(t *testing.T) {
	conn, _ := migrated(t)
	if err := conn.Exec(t.Context(), "ALTER TABLE events ADD CONSTRAINT no_poison CHECK position(message, 'POISON') = 0"); err != nil {
		t.Fatal(err)
	}
	b := bustest.Open(t)
	reg := prometheus.NewRegistry()
	startService(t, storage.ServiceConfig{Conn: conn, Bus: b, BatchRows: 1000, FlushInterval: 50 * time.Millisecond, Registerer: reg})
	evs := sampleEvents(1000, q0)
	for _, i := range []int{3, 500, 999} {
		evs[i].Message = "POISON " + evs[i].Message
	}
	publishEvents(t, b, evs, 250)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM deadletter WHERE reason = 'rejected'", 3)
	chdbtest.WaitUint(t, conn, "SELECT count() FROM events", 997)
	var raw, errText string
	if err := conn.QueryRow(t.Context(), "SELECT raw, error FROM deadletter WHERE reason = 'rejected' ORDER BY id LIMIT 1").Scan(&raw, &errText); err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	if err := event.Decode([]byte(raw), &ev); err != nil || !strings.Contains(ev.Message, "POISON") || !strings.Contains(errText, "469") {
		t.Errorf("dead letter raw %q (decode err %v), error %q", raw, err, errText)
	}
	if got := testutil.ToFloat64(mustVec(t, reg, "otsiem_store_dead_letters_total", "rejected")); got != 3 {
		t.Errorf("rejected rows counted %v, want 3", got)
	}
	// The counter moves once the insert returns, a moment after its rows
	// are visible.
	poll.Equal(t, 30*time.Second, "rows written", func() (float64, error) {
		return testutil.ToFloat64(mustVec(t, reg, "otsiem_store_rows_written_total", "events")), nil
	}, 997)
}

// syncBuffer is a log sink safe for the writer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
