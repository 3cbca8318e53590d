package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otsiem/otsiem/config"
	"github.com/otsiem/otsiem/rules"
)

// A changed model is loaded and applied; a broken one is not, and the
// watcher goes on.
func TestWatchModel(t *testing.T) {
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
	cfg := config.Default()
	cfg.Model = dir
	cfg.Correlate.ReloadEvery = 10 * time.Millisecond
	s := &service{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	applied := make(chan *rules.Model, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.watchModel(ctx, func(m *rules.Model) { applied <- m })

	write := func(name, body string) {
		t.Helper()
		// A distinct size: a change even within the file system's time granularity.
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	nets, _ := os.ReadFile(filepath.Join(dir, "networks.yaml"))
	write("networks.yaml", string(nets)+"\n# widened\n  - {zone: Z5-ENT, cidrs: [10.101.0.0/16]}\n")
	select {
	case m := <-applied:
		if z := m.Zone("Z5-ENT"); len(z.Networks) != 2 {
			t.Errorf("reloaded model has %v", z.Networks)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("changed model not reloaded")
	}
	write("networks.yaml", "networks:\n  - {zone: Z9-NOWHERE, cidrs: [10.9.0.0/16]}\n")
	select {
	case <-applied:
		t.Fatal("a broken model was applied")
	case <-time.After(200 * time.Millisecond):
	}
	write("networks.yaml", string(nets))
	select {
	case m := <-applied:
		if len(m.Zone("Z5-ENT").Networks) != 1 {
			t.Error("restored model not applied")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watcher stopped after a broken model")
	}
}
