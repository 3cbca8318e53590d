package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/otsiem/otsiem/simulate"
	"github.com/otsiem/otsiem/storage"
)

// natsCluster is a JetStream cluster of real nats-server nodes in this
// process, each with its own store and fixed ports, so that a node can be
// stopped and started again as it was.
type natsCluster struct {
	opts []*server.Options
	srvs []*server.Server
}

func startCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	ports := freePorts(t, 2*n)
	c := &natsCluster{}
	var routes []string
	for i := range n {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(ports[2*i+1]))
	}
	for i := range n {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: ports[2*i],
			JetStream: true, StoreDir: t.TempDir(), JetStreamMaxStore: 4 << 30, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "otsiem-test", Host: "127.0.0.1", Port: ports[2*i+1]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
	}
	c.srvs = make([]*server.Server, n)
	for i := range n {
		c.start(t, i)
	}
	// Ready once the cluster has elected its JetStream meta leader.
	nc, err := nats.Connect(c.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster without JetStream: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, s := range c.srvs {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
	})
	return c
}

func (c *natsCluster) start(t *testing.T, i int) {
	t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatalf("node %d not ready", i+1)
	}
	c.srvs[i] = s
}

func (c *natsCluster) stop(i int) {
	c.srvs[i].Shutdown()
	c.srvs[i].WaitForShutdown()
	c.srvs[i] = nil
}

func (c *natsCluster) url() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, "nats://127.0.0.1:"+strconv.Itoa(o.Port))
	}
	return strings.Join(urls, ",")
}

// freePorts returns n ports free for now on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// TestScaleOut runs the distributed deployment for real: a three-node
// JetStream cluster with every stream on three replicas, two ingest, two
// correlate and two store services. One NATS node is stopped mid-stream
// and brought back. Every line sent over TCP is stored exactly once, and
// every finding revision once.
//
// OTSIEM_SCALEOUT_LINES sets how many lines are sent (default 3,000, a
// few seconds of a refinery; the README gives a run with 20,000).
func TestScaleOut(t *testing.T) {
	lines := 3000
	if v := os.Getenv("OTSIEM_SCALEOUT_LINES"); v != "" {
		lines, _ = strconv.Atoi(v)
	}
	cluster := startCluster(t, 3)
	ctx := context.Background()
	newSvc := func(name string) *service {
		s, _ := newTestService(t, name, "nats:\n  url: "+cluster.url()+"\n  replicas: 3\n  max_bytes: 1GiB\n"+
			"ingest:\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n"+
			"correlate:\n  learn: 1m\n  lease_ttl: 3s\n")
		return s
	}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}()
	open := func(s *service) *pipeline {
		b, err := s.openBus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() error { b.Close(); return nil })
		return &pipeline{bus: b}
	}

	// Two writers into one ClickHouse (one embedded engine per process:
	// the second shares the first one's connection).
	s1 := newSvc("store-1")
	p1 := open(s1)
	if err := s1.startStore(ctx, p1); err != nil {
		t.Fatal(err)
	}
	store1 := p1.store
	closers = append(closers, store1.close)
	s2 := newSvc("store-2")
	sc := s2.cfg.Storage.Writer
	sc.Conn, sc.Bus, sc.Registerer = store1.db.Conn, open(s2).bus, s2.reg
	store2, err := storage.NewService(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopStore2 := context.WithCancel(ctx)
	store2Done := make(chan error, 1)
	go func() { store2Done <- store2.Run(sctx) }()
	closers = append(closers, func() error { stopStore2(); return <-store2Done })
	for i := range 2 {
		s := newSvc("correlate-" + strconv.Itoa(i+1))
		p := open(s)
		if err := s.startCorrelate(ctx, p); err != nil {
			t.Fatal(err)
		}
		closers = append(closers, p.correlate.close)
	}
	var ingests []*ingestStage
	for i := range 2 {
		s := newSvc("ingest-" + strconv.Itoa(i+1))
		p := open(s)
		if err := s.startIngest(ctx, p); err != nil {
			t.Fatal(err)
		}
		ingests = append(ingests, p.ingest) // closed below, once sent
	}

	// The refinery's traffic with the scenarios whose findings are checked
	// below (named: "all" would inject only the first few in alphabetical
	// order in 15 s of event time), each line to one of the two collectors;
	// one NATS node goes away for the middle third.
	g, err := simulate.New(simulate.Config{Start: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Rate: 200, Seed: 7,
		Scenarios: []string{"blocked", "would-block", "enterprise-scan"}, ScenarioEvery: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for _, st := range ingests {
		var addr string
		for _, a := range st.svc.Addrs() {
			addr = a.String()
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	start := time.Now()
	for i := range lines {
		if i == lines/3 {
			cluster.stop(1)
			t.Logf("node n2 stopped after %d lines", i)
		}
		if i == 2*lines/3 {
			cluster.start(t, 1)
			t.Logf("node n2 back after %d lines", i)
		}
		if _, err := conns[i%2].Write([]byte(g.Next().Text + "\n")); err != nil {
			t.Fatal(err)
		}
		if i%500 == 0 {
			time.Sleep(50 * time.Millisecond) // about the simulator's pace, not a flood
		}
	}
	for _, c := range conns {
		c.Close()
	}
	sentAt := time.Now()
	t.Logf("%d lines sent in %s", lines, sentAt.Sub(start).Round(time.Millisecond))

	conn := store1.db.Conn
	var stored, distinct, dead uint64
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_ = conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM events").Scan(&stored, &distinct)
		_ = conn.QueryRow(ctx, "SELECT count() FROM deadletter").Scan(&dead)
		if int(distinct+dead) >= lines || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("stored %s after the last line", time.Since(sentAt).Round(time.Millisecond))
	// Let anything late (a redelivery, a retried finding) land before the
	// final count.
	for _, st := range ingests {
		if err := st.close(); err != nil {
			t.Error(err)
		}
	}
	time.Sleep(3 * time.Second)
	_ = conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM events").Scan(&stored, &distinct)
	if int(stored) != lines || int(distinct) != lines || dead != 0 {
		t.Errorf("%d lines sent: %d event rows, %d distinct, %d dead letters; want each line stored once", lines, stored, distinct, dead)
	}
	var revisions, uniqueRevisions, findings uint64
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(finding_id, revision), uniqExact(finding_id) FROM finding_revisions").
		Scan(&revisions, &uniqueRevisions, &findings); err != nil {
		t.Fatal(err)
	}
	if revisions != uniqueRevisions || findings == 0 {
		t.Errorf("%d finding revisions stored, %d distinct (%d findings): want each once", revisions, uniqueRevisions, findings)
	}
	types := map[string]bool{}
	rows, err := conn.Query(ctx, "SELECT DISTINCT type FROM findings")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ string
		_ = rows.Scan(&typ)
		types[typ] = true
	}
	rows.Close()
	for _, want := range []string{"blocked", "would_block", "scan"} {
		if !types[want] {
			t.Errorf("no %s finding; have %v", want, types)
		}
	}
	t.Logf("%d lines stored once each; %d findings in %d revisions", lines, findings, revisions)
}
