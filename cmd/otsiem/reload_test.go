package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A model reload in a running pipeline reaches ingest's checks as well as
// the correlator: the sender allow-list admits a device added to the
// model, and the spoofing check accepts an address added to a device —
// over real sockets into the embedded JetStream, reloaded by the watcher
// serve runs.
func TestReloadReachesIngest(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"zones.yaml", "networks.yaml", "assets.csv", "devices.yaml", "diodes.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/refinery", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	devices, err := os.ReadFile(filepath.Join(dir, "devices.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, "ingest:\n  allow_only_model_devices: true\n  listeners:\n"+
		"    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\ncorrelate:\n  reload_every: 20ms\n")
	cfg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg = regexp.MustCompile(`(?m)^model: .*$`).ReplaceAll(cfg, []byte("model: "+dir))
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServiceAt(t, "run", path)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := s.startStages(ctx, s.startCorrelate, s.startIngest)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan int, 1)
	go func() { served <- s.serve(ctx, p) }()
	defer func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("serve exit %d", code)
		}
	}()
	addr := p.tcpAddr()
	metric := func(name string) float64 {
		fams, _ := s.reg.Gather()
		return sumMetric(fams, name)
	}
	// send writes one isa3000-c1 line from 127.0.0.1 and waits until ingest
	// has published it or refused the connection.
	send := func() {
		t.Helper()
		events, refused := metric("otsiem_ingest_events_total"), metric("otsiem_ingest_connections_rejected_total")
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "<164>Nov 23 2026 10:00:00 isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ent:10.100.5.5/40000 dst zone-bpcs:10.20.1.10/502 by access-group \"X\" [0x0, 0x0]\n")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if metric("otsiem_ingest_events_total") > events || metric("otsiem_ingest_connections_rejected_total") > refused {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the line was neither published nor refused")
			}
		}
	}
	reload := func(body string) {
		t.Helper()
		before := s.models.Load()
		if err := os.WriteFile(filepath.Join(dir, "devices.yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); s.models.Load() == before; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the changed model was not reloaded")
			}
		}
	}

	// 127.0.0.1 is no device of the model: refused.
	send()
	if metric("otsiem_ingest_connections_rejected_total") != 1 || metric("otsiem_ingest_events_total") != 0 {
		t.Fatalf("a sender outside the model: %v rejected, %v events", metric("otsiem_ingest_connections_rejected_total"), metric("otsiem_ingest_events_total"))
	}
	// A device at 127.0.0.1 added: admitted; but isa3000-c1 is declared at
	// 10.30.1.1, so its line from 127.0.0.1 is marked as spoofed.
	reload(string(devices) + "\n  - {hostname: lab-ids, role: sensor, addresses: [127.0.0.1], zones: [Z5-ENT]}\n")
	send()
	if metric("otsiem_ingest_events_total") != 1 || metric("otsiem_ingest_sender_mismatches_total") != 1 {
		t.Fatalf("after adding a device at 127.0.0.1: %v events, %v sender mismatches", metric("otsiem_ingest_events_total"), metric("otsiem_ingest_sender_mismatches_total"))
	}
	// 127.0.0.1 added to isa3000-c1's addresses: no longer a mismatch.
	reload(strings.Replace(string(devices), "addresses: [10.30.1.1]", "addresses: [10.30.1.1, 127.0.0.1]", 1))
	send()
	if metric("otsiem_ingest_events_total") != 2 || metric("otsiem_ingest_sender_mismatches_total") != 1 {
		t.Fatalf("after declaring 127.0.0.1 for isa3000-c1: %v events, %v sender mismatches", metric("otsiem_ingest_events_total"), metric("otsiem_ingest_sender_mismatches_total"))
	}
}
