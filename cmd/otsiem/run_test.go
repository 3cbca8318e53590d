package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	dto "github.com/prometheus/client_model/go"

	"github.com/otsiem/otsiem/console"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
	"github.com/otsiem/otsiem/ingest/ingesttest"
	"github.com/otsiem/otsiem/simulate"
	"github.com/otsiem/otsiem/storage/embedded/embeddedtest"
)

// startRun starts every stage in process on a temporary data directory,
// with one TCP listener on a free port, and returns them and the
// configuration file (extra is appended to it).
func startRun(t *testing.T, extra string) (*service, *pipeline, string) {
	t.Helper()
	path := writeConfig(t, "ingest:\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n"+
		"correlate:\n  learn: 1m\n"+extra)
	s, _ := newTestServiceAt(t, "run", path)
	p, err := s.startPipeline(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, p, path
}

// newTestService builds a service from a configuration body (see
// writeConfig); its log is returned, and shown when the test fails.
func newTestService(t *testing.T, name, body string) (*service, *syncBuffer) {
	t.Helper()
	return newTestServiceAt(t, name, writeConfig(t, body))
}

// newTestServiceAt builds a service from the configuration file at path.
func newTestServiceAt(t *testing.T, name, path string) (*service, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, code := newServiceFrom(name, path, logs)
	if s == nil {
		t.Fatalf("exit %d: %s", code, logs.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return s, logs
}

// The simulator's scenarios, sent over TCP through every stage, come out
// as findings of every type they inject.
func TestRunEndToEnd(t *testing.T) {
	s, p, _ := startRun(t, "")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	g, err := simulate.New(simulate.Config{Start: start, Rate: 200, Seed: 5, Scenarios: []string{"all"}, ScenarioEvery: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// 150 s of plant time: every scenario at least once, and the diode
	// outage long enough to be noticed.
	st := sendAndStop(t, s, p, g, 150*time.Second)

	// The streams hold only what is not stored yet (bus.Trim): what was
	// published is counted by the correlator's metrics.
	fams, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	published := sumMetric(fams, "otsiem_correlate_findings_total")
	// Everything sent is stored, once: events plus dead letters.
	db, err := openStore(context.Background(), s.cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored, dead uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT count() FROM events FINAL").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if err := db.Conn.QueryRow(context.Background(), "SELECT count() FROM deadletter").Scan(&dead); err != nil {
		t.Fatal(err)
	}
	if int(stored+dead) != st.Lines || dead != 0 {
		t.Errorf("%d lines sent; %d events and %d dead letters stored", st.Lines, stored, dead)
	}
	// The model the run judged by, in the model tables.
	var versions, zones uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT count(), toUInt64(any(zones)) FROM model_versions WHERE model_hash IN (SELECT model_hash FROM model_zones)").Scan(&versions, &zones); err != nil || versions != 1 || zones != 5 {
		t.Errorf("model_versions: %d rows with content (%d zones), err %v; want 1 (5 zones)", versions, zones, err)
	}
	rows, err := db.Conn.Query(context.Background(), "SELECT DISTINCT type, reason FROM findings")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for rows.Next() {
		var typ, reason string
		if err := rows.Scan(&typ, &reason); err != nil {
			t.Fatal(err)
		}
		types[typ+"/"+reason] = true
	}
	rows.Close()
	var findings uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT count() FROM findings").Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if published == 0 || float64(findings) != published {
		t.Errorf("%.0f findings published, %d stored", published, findings)
	}
	// Nothing stored is left in the streams.
	b, err := s.openBus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, stream := range []string{bus.StreamEnriched, bus.StreamFindings} {
		if left := bustest.Records(t, b, stream, nil); left != 0 {
			t.Errorf("%s still holds %d stored records", stream, left)
		}
	}

	for _, want := range []string{
		"violation/function_not_permitted", "violation/wrong_direction", "policy_drift/wrong_direction",
		"blocked/not_permitted", "false_block/", "blocked/diode_reverse", "would_block/not_permitted", "would_block/no_conduit",
		"scan/hosts", "violation/air_gap", "violation/no_conduit", "unknown_zone/unknown_zone", "new_pair/",
		"diode_down/missed_heartbeats", "policy_drift/diode_bypass", "alert/prevented", "policy_drift/monitoring",
	} {
		if !types[want] {
			t.Errorf("no %s finding; have %v", want, types)
		}
	}
}

// sendAndStop sends d of g's plant time as fast as it can to the run's TCP
// listener, waits until every line is stored and stops the run.
func sendAndStop(t *testing.T, s *service, p *pipeline, g *simulate.Generator, d time.Duration) simulate.Stats {
	t.Helper()
	w, err := simulate.Dial(context.Background(), simulate.Target{Network: "tcp", Address: p.tcpAddr()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := simulate.Run(context.Background(), g, w, d, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A loaded machine may take longer than close's one-minute drain.
	if err := waitStored(p, uint64(st.Lines)); err != nil {
		t.Error(err)
	}
	if err := p.close(s); err != nil {
		t.Fatal(err)
	}
	return st
}

// startRunServing is startRun serving the ClickHouse HTTP interface on
// a free loopback port (embedded is appended to storage.embedded), and
// stopped when the test ends.
func startRunServing(t *testing.T, embedded string) (*service, *pipeline, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, p, path := startRun(t, "storage:\n  embedded:\n    listen: "+addr+"\n"+embedded)
	t.Cleanup(func() {
		if err := p.close(s); err != nil {
			t.Error(err)
		}
	})
	return s, p, path
}

// While `otsiem run` holds the embedded data, the reading commands go
// through its ClickHouse HTTP interface as the reader, and cannot write.
func TestReadingCommandsGoThroughRun(t *testing.T) {
	s, p, path := startRunServing(t, "")
	st, err := os.Stat(s.cfg.Storage.Embedded.UsersFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("users file: %v, mode %v; want 0600", err, st.Mode())
	}
	if code, out, errs := run(t, "query", "--config", path, "--format", "csv", "SELECT count() AS zones, currentUser() = 'default' FROM model_zones"); code != 0 || out != "zones,\"equals(currentUser(), 'default')\"\n5,1\n" {
		t.Errorf("query through run: exit %d, %q %s", code, out, errs)
	}
	if code, out, errs := run(t, "findings", "--config", path); code != 0 {
		t.Errorf("findings through run: exit %d, %q %s", code, out, errs)
	}
	// The monitor-to-enforce check works while the collector runs: pa-c3
	// has sent nothing to this fresh run, and both commands say so (exit 1)
	// instead of failing on the data held (exit 2).
	if code, out, errs := run(t, "review", "--config", path, "--since", "3d"); code != 1 || !strings.Contains(out, "No logs from pa-c3 in this period") || errs != "" {
		t.Errorf("review through run: exit %d, %q %s", code, out, errs)
	}
	if code, out, errs := run(t, "propose", "--config", path, "--format", "json"); code != 1 || !strings.Contains(errs, "no traffic stored between") {
		t.Errorf("propose through run: exit %d, %q %s", code, out, errs)
	}
	for _, sql := range []string{"TRUNCATE TABLE events", "SELECT file('/etc/hostname')", "INSERT INTO model_zones (zone) VALUES ('x')"} {
		if code, out, errs := run(t, "query", "--config", path, sql); code != 1 || !strings.Contains(errs, "code: ") {
			t.Errorf("%s through run: exit %d, %q %s", sql, code, out, errs)
		}
	}

	// An analyst acknowledges a finding while run holds the data: the
	// ack goes through run's interface as the writer.
	if err := p.store.db.Conn.Exec(context.Background(), `INSERT INTO finding_revisions
		(finding_id, revision, last_seen, first_seen, count, type, severity, status, summary)
		VALUES ('d1d1d1d1d1d1d1d1', 1, now64(), now64(), 3, 'diode_down', 'critical', 'open', 'rx side silent')`); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "findings", "ack", "--config", path, "d1d1d1", "--by", "ana", "--note", "called the site"); code != 0 ||
		!strings.HasPrefix(out, "acknowledged d1d1d1d1d1d1 (was open, revision 1) by ana") {
		t.Errorf("ack through run: exit %d, %q %s", code, out, errs)
	}
	if code, out, errs := run(t, "query", "--config", path, "--format", "csv",
		"SELECT finding_id, action, by, note FROM finding_acks"); code != 0 || out != "finding_id,action,by,note\nd1d1d1d1d1d1d1d1,acknowledged,ana,called the site\n" {
		t.Errorf("finding_acks through run: exit %d, %q %s", code, out, errs)
	}
	// query --write goes through as the writer too: rows in, no DDL.
	if code, _, errs := run(t, "query", "--write", "--config", path, `INSERT INTO finding_revisions FORMAT JSONEachRow {"finding_id": "ac1ac1ac1ac1ac1a", "revision": 1, "last_seen": "2026-11-29 10:00:00", "first_seen": "2026-11-29 10:00:00", "count": 1, "type": "scan", "severity": "high", "status": "open", "summary": "probe"}`); code != 0 {
		t.Errorf("query --write INSERT through run: exit %d: %s", code, errs)
	}
	if code, _, errs := run(t, "query", "--write", "--config", path, "TRUNCATE TABLE events"); code != 1 || !strings.Contains(errs, "code: ") {
		t.Errorf("query --write TRUNCATE through run: exit %d: %s", code, errs)
	}
}

// With storage.embedded.tls, run serves its ClickHouse interface over
// HTTPS, and the reading commands pin the configured certificate.
func TestReadingCommandsThroughRunOverTLS(t *testing.T) {
	c := embeddedtest.SelfSigned(t, t.TempDir(), "otsiem")
	s, _, path := startRunServing(t, fmt.Sprintf("    tls: {cert_file: %s, key_file: %s}\n", c.CertFile, c.KeyFile))
	addr := s.cfg.Storage.Embedded.ListenAddr()
	if code, out, errs := run(t, "query", "--config", path, "--format", "csv", "SELECT count() AS zones FROM model_zones"); code != 0 || out != "zones\n5\n" {
		t.Errorf("query through run over TLS: exit %d, %q %s", code, out, errs)
	}
	if res, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader("SELECT 1")); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered")
		}
	}
}

// The issue's probes through every stage: an ASA without "logging
// timestamp" is judged and stored at its receive time, marked as such; a
// line holding invalid UTF-8 is stored with its exact bytes recoverable.
//
// It runs with a memory budget too: the embedded engine gets its quarter.
func TestRunTimestampLessAndRawBytes(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	s, p, _ := startRun(t, "memory_limit: 8GiB\n")
	var engineLimit string
	if err := p.store.db.Conn.QueryRow(context.Background(), "SELECT value FROM system.server_settings WHERE name = 'max_server_memory_usage'").Scan(&engineLimit); err != nil || engineLimit != "2147483648" {
		t.Errorf("the engine's max_server_memory_usage with memory_limit 8GiB: %q %v, want 2147483648", engineLimit, err)
	}
	if got := debug.SetMemoryLimit(-1); got != 4<<30 && os.Getenv("GOMEMLIMIT") == "" {
		t.Errorf("GOMEMLIMIT with memory_limit 8GiB: %d, want 4GiB", got)
	}
	noTime := `<164>%ASA-4-106023: Deny tcp src zone-ops:10.30.1.50/51234 dst zone-bpcs:10.20.1.10/502 by access-group "OPS-to-BPCS" [0x8ed66b60, 0xf8852875]`
	badBytes := "<166>Nov 23 2026 10:00:00 isa3000-c1 : %ASA-6-302013: Built inbound TCP connection 1 for zone-ops:10.30.1.50/51235 (10.30.1.50/51235) to zone-bpcs:10.20.1.10/502 (10.20.1.10/502) user \xff\xfe\x1b[2J"
	conn, err := net.Dial("tcp", p.tcpAddr())
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()
	if _, err := conn.Write([]byte(noTime + "\n" + badBytes + "\n")); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := waitStored(p, 2); err != nil {
		t.Fatal(err)
	}
	if err := p.close(s); err != nil {
		t.Fatal(err)
	}
	db, err := openStore(context.Background(), s.cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var (
		at                      time.Time
		source, verdict, reason string
	)
	if err := db.Conn.QueryRow(context.Background(), "SELECT time, time_source, verdict, reason FROM events FINAL WHERE message_id = '106023'").
		Scan(&at, &source, &verdict, &reason); err != nil {
		t.Fatal(err)
	}
	if source != "received" || at.Before(before.Add(-time.Second)) || verdict == "" {
		t.Errorf("timestamp-less line stored at %v (%s) with verdict %q/%q; want the receive time, judged", at, source, verdict, reason)
	}
	var raw, shown string
	if err := db.Conn.QueryRow(context.Background(), "SELECT raw, message FROM events FINAL WHERE message_id = '302013'").Scan(&raw, &shown); err != nil {
		t.Fatal(err)
	}
	if raw != badBytes || !strings.HasSuffix(shown, "user \ufffd\ufffd\x1b[2J") {
		t.Errorf("raw %q message %q; want the bytes received, and U+FFFD only for display", raw, shown)
	}
}

// waitStored polls the running store's events until n are there.
func waitStored(p *pipeline, n uint64) error {
	var got uint64
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := p.store.db.Conn.QueryRow(context.Background(), "SELECT count() FROM events FINAL").Scan(&got); err == nil && got >= n {
			return nil
		}
	}
	return fmt.Errorf("%d events stored after 5 minutes, want %d", got, n)
}

// syncBuffer is a bytes.Buffer safe for the stages' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The full-store probe, bounded by nats.max_bytes instead of a
// small disk: with the writer away, the streams fill; JetStream refuses;
// /healthz turns unhealthy, the refusals are counted, and the TCP sender
// is slowed down, not dropped. With the writer back everything resumes by
// itself, and every line is stored exactly once.
func TestRunStoreFullThenResumes(t *testing.T) {
	// Small streams, and short cycles (the findings stage's snapshots, the
	// writer's flushes) so that they drain quickly.
	s, logs := newTestService(t, "run", "nats:\n  max_bytes: 1MiB\n"+
		"ingest:\n  max_pending_records: 2000\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n"+
		"correlate:\n  lease_ttl: 1s\nstorage:\n  embedded: {listen: \"127.0.0.1:0\"}\n  batch:\n    flush_interval: 200ms\n")
	ctx := context.Background()
	p, err := s.startPipeline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// ClickHouse away: the writer stops.
	if err := p.store.close(); err != nil {
		t.Fatal(err)
	}
	g, err := simulate.New(simulate.Config{Start: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Rate: 1000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000 // about 8 MB: more than the streams (1 MiB each) and the sockets hold
	lines := make([]string, n)
	for i := range lines {
		lines[i] = g.Next().Text
	}
	conn, err := net.Dial("tcp", p.tcpAddr())
	if err != nil {
		t.Fatal(err)
	}
	written, sent := ingesttest.SendUntilStalled(t, conn, lines, 300*time.Millisecond)
	// A pause on a loaded machine is not yet the refusal: wait for it.
	for deadline := time.Now().Add(3 * time.Minute); p.ingest.svc.Err() == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ingest never refused; the sender paused after %d lines", written)
		}
	}
	// Refused, the sender is slowed down, not let through.
	select {
	case err := <-sent:
		t.Fatalf("the sender finished (%v) while nothing could store its lines", err)
	case <-time.After(2 * time.Second):
	}
	t0 := time.Now()
	if err := p.healthy(); err == nil || !strings.Contains(err.Error(), "refuses writes") {
		t.Errorf("healthy while the streams refuse writes: %v", err)
	}
	fams, _ := s.reg.Gather()
	if v := sumMetric(fams, "otsiem_ingest_publish_refused_total"); v == 0 {
		t.Error("no refusal counted")
	}
	if got := strings.Count(logs.String(), "JetStream refuses writes"); got == 0 || got > 2 {
		t.Errorf("refusal logged %d times, want once per stage at most", got)
	}
	// ClickHouse back: a writer again (registering its metrics anew).
	s.reg = prometheus.NewRegistry()
	if err = s.startStore(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	t.Logf("all sent %s after the writer came back", time.Since(t0).Round(time.Millisecond))
	if err := waitStored(p, n); err != nil {
		t.Error(err)
	}
	t.Logf("all stored %s after the writer came back", time.Since(t0).Round(time.Millisecond))
	deadline := time.Now().Add(time.Minute)
	for p.healthy() != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.healthy(); err != nil {
		t.Errorf("still unhealthy after the writer came back: %v", err)
	}
	var rows, distinct uint64
	if err := p.store.db.Conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM events").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Errorf("%d lines sent: %d rows, %d distinct events", n, rows, distinct)
	}
	if err := p.close(s); err != nil {
		t.Fatal(err)
	}
}

// A run that did not stop cleanly is reported at the next start; a clean
// stop leaves nothing behind.
func TestUncleanStopReported(t *testing.T) {
	s, logs := newTestService(t, "ingest", "")
	s.markRunning() // never cleaned: the process died
	if strings.Contains(logs.String(), "did not stop cleanly") {
		t.Fatal("a first start reported an unclean stop")
	}
	clean := s.markRunning()
	if !strings.Contains(logs.String(), "did not stop cleanly") || !strings.Contains(logs.String(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("restart after a crash: %s", logs.String())
	}
	clean()
	before := logs.String()
	s.markRunning()
	if logs.String() != before {
		t.Errorf("restart after a clean stop: %s", strings.TrimPrefix(logs.String(), before))
	}
}

func sumMetric(fams []*dto.MetricFamily, name string) float64 { return console.SumMetric(fams, name) }
