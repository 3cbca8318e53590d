package rules

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A changed model is loaded and stored in the holder (the files as they
// were at NewWatcher are the baseline); a broken one is
// not, and the watcher goes on.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"zones.yaml", "networks.yaml", "assets.csv", "devices.yaml", "diodes.yaml"} {
		b, err := os.ReadFile(filepath.Join("../examples/refinery", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(first)
	applied := make(chan *Model, 10)
	h.OnChange(func(m *Model) {
		if h.Load() != m {
			t.Error("OnChange called before the holder serves the new model")
		}
		applied <- m
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(h, WatchConfig{Path: dir, Every: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go w.Run(ctx)

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
	if h.Load().Hash() != first.Hash() {
		t.Error("the restored files give another model version than the first load")
	}
}

// A Reload reloads at once, even with no file change and no polling.
func TestWatchReload(t *testing.T) {
	first, err := Load("../examples/refinery")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(first)
	reload := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = NewWatcher(h, WatchConfig{Path: "../examples/refinery", Every: -1, Reload: reload, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx)
	}()
	reload <- syscall.SIGHUP
	deadline := time.Now().Add(10 * time.Second)
	for h.Load() == first && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h.Load() == first {
		t.Fatal("Reload did not reload")
	}
	cancel()
	<-done
}
