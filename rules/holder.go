package rules

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Holder holds the model every stage of a process judges by. Load is one
// atomic read, cheap enough for every event; Store swaps the model for all
// readers at once and then tells each OnChange function, so that after a
// reload no two stages judge by different models. The zero Holder holds
// nothing; use NewHolder.
type Holder struct {
	p       atomic.Pointer[Model]
	mu      sync.Mutex
	changed []*func(*Model)
}

// NewHolder returns a Holder holding m.
func NewHolder(m *Model) *Holder {
	h := &Holder{}
	h.p.Store(m)
	return h
}

// Load returns the current model.
func (h *Holder) Load() *Model { return h.p.Load() }

// Store makes m the current model, then calls the OnChange functions in
// the order they were added, in the caller's goroutine.
func (h *Holder) Store(m *Model) {
	h.p.Store(m)
	h.mu.Lock()
	fs := slices.Clone(h.changed)
	h.mu.Unlock()
	for _, f := range fs {
		(*f)(m)
	}
}

// OnChange adds f to what Store calls with each new model (for a stage
// that keeps something derived from the model: the store's model tables)
// until the returned remove is called.
func (h *Holder) OnChange(f func(*Model)) (remove func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := &f
	h.changed = append(h.changed, e)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.changed = slices.DeleteFunc(h.changed, func(x *func(*Model)) bool { return x == e })
	}
}

// WatchConfig configures a Watcher.
type WatchConfig struct {
	// Path is the model's directory or file, as given to Load.
	Path string
	// Every is how often the files are checked for changes; default 5s,
	// negative never (only Reload then).
	Every time.Duration
	// Reload, when set, reloads at once on every receive (wire SIGHUP
	// here with signal.Notify).
	Reload <-chan os.Signal
	Logger *slog.Logger
}

// Watcher reloads a model into a Holder: see NewWatcher.
type Watcher struct {
	h    *Holder
	cfg  WatchConfig
	last string
}

// NewWatcher returns a Watcher of the model at cfg.Path for h. The files as
// they are now are the baseline: a change from here on is a reload.
func NewWatcher(h *Holder, cfg WatchConfig) *Watcher {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Every == 0 {
		cfg.Every = 5 * time.Second
	}
	return &Watcher{h: h, cfg: cfg, last: stamp(cfg.Path)}
}

// Run reloads the model into the holder until ctx ends, and returns nil:
// when a Reload arrives, and when the files changed and then stayed the
// same for one check (an editor or a deployment may write them in steps).
// A model that fails to load leaves the held one in place; its errors are
// logged and the watch goes on.
func (w *Watcher) Run(ctx context.Context) error {
	var tick <-chan time.Time
	if w.cfg.Every > 0 {
		t := time.NewTicker(w.cfg.Every)
		defer t.Stop()
		tick = t.C
	}
	pending := w.last
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.cfg.Reload:
		case <-tick:
			st := stamp(w.cfg.Path)
			if st == w.last || st != pending {
				pending = st
				continue
			}
			w.last = st
		}
		m, err := Load(w.cfg.Path)
		if err != nil {
			w.cfg.Logger.Error("model reload failed; keeping the running model", "model", w.cfg.Path, "err", err)
			continue
		}
		w.h.Store(m)
		w.cfg.Logger.Info("model reloaded", "model", w.cfg.Path, "version", m.ShortHash(), "zones", len(m.Zones()), "conduits", len(m.Conduits()))
	}
}

// stamp summarises the names, sizes and modification times of a model's
// files (a directory's own files, not its subdirectories).
func stamp(path string) string {
	var b strings.Builder
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && p != path {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}
