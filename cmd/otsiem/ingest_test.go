package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/bus/bustest"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "otsiem.yaml")
	// Relative paths in a configuration file are relative to its directory.
	model, err := filepath.Abs("../../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("model: %s\ndata_dir: %s\nhttp: {address: \"off\"}\n%s", model, filepath.Join(dir, "data"), body)
	if !strings.Contains(body, "storage:") { // never the shared default port
		cfg += "storage: {embedded: {listen: \"127.0.0.1:0\"}}\n"
	}
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// otsiem ingest collects over TCP into the embedded JetStream; after a
// graceful stop the events are on disk.
func TestIngestService(t *testing.T) {
	path := writeConfig(t, "ingest:\n  listeners:\n    - {name: tcp, protocol: tcp, address: \"127.0.0.1:0\"}\n")
	var stderr bytes.Buffer
	s, code := newService("ingest", []string{"--config", path}, &stderr)
	if s == nil {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if s.site != "petrochemical-refinery-unit-3" {
		t.Errorf("site %q", s.site)
	}
	ib, err := s.openBus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.startIngest(context.Background(), ib)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", st.collector.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		fmt.Fprintf(conn, "<164>Nov 23 2026 10:00:00 isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ent:10.100.5.5/%d dst zone-bpcs:10.20.1.10/502 by access-group \"X\" [0x0, 0x0]\n", 40000+i)
	}
	conn.Close()
	// Stopping right away: the drain still takes every line already sent.
	if err := st.close(); err != nil {
		t.Fatal(err)
	}
	ib.Close()
	b, err := bus.Open(context.Background(), s.cfg.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	records := bustest.Records(t, b, bus.StreamEvents, nil)
	if records != 300 {
		t.Errorf("%d events stored, want 300", records)
	}
}

func TestServiceConfigErrors(t *testing.T) {
	var stderr bytes.Buffer
	path := writeConfig(t, "ingest:\n  listners: []\n")
	if s, code := newService("ingest", []string{"--config", path}, &stderr); s != nil || code != 1 ||
		!bytes.Contains(stderr.Bytes(), []byte(`otsiem.yaml:5:3: unknown key "listners"`)) {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
