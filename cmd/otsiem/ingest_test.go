package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
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
	// Never the shared default port 8123: another test or a running
	// otsiem would collide with it.
	switch {
	case !strings.Contains(body, "storage:"):
		cfg += "storage: {embedded: {listen: \"127.0.0.1:0\"}}\n"
	case !strings.Contains(body, "listen:"):
		t.Fatal("a test's storage section must set embedded.listen (e.g. 127.0.0.1:0)")
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
	s, code := newServiceFrom("ingest", path, &stderr)
	if s == nil {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if s.site != "petrochemical-refinery-unit-3" {
		t.Errorf("site %q", s.site)
	}
	var logs syncBuffer
	s.log = slog.New(slog.NewTextHandler(&logs, nil))
	p, err := s.startStages(context.Background(), s.startIngest)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", p.ingest.svc.Addrs()["tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		fmt.Fprintf(conn, "<164>Nov 23 2026 10:00:00 isa3000-c1 : %%ASA-4-106023: Deny tcp src zone-ent:10.100.5.5/%d dst zone-bpcs:10.20.1.10/502 by access-group \"X\" [0x0, 0x0]\n", 40000+i)
	}
	conn.Close()
	// Stopping right away: the drain still takes every line already sent.
	if err := p.close(s); err != nil {
		t.Fatal(err)
	}
	// Alone on a private embedded server, it says so.
	if !strings.Contains(logs.String(), "level=WARN msg=\"no nats.url set: running a private embedded NATS server with no listener") {
		t.Errorf("no warning about the private NATS server:\n%s", logs.String())
	}
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
	if s, code := newServiceFrom("ingest", path, &stderr); s != nil || code != 1 ||
		!bytes.Contains(stderr.Bytes(), []byte(`otsiem.yaml:5:3: unknown key "listners"`)) {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
