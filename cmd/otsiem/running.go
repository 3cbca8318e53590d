package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// markRunning notes in the data directory that this stage runs
// (<stage>.<pid>.running), once it has started, and warns about each note
// an earlier run left behind whose process is gone: that run did not stop
// cleanly (killed, crashed, power lost), so what it had read over TCP and
// not yet handed to JetStream is lost (README, "What a crash can lose").
// Notes of other instances still running are left alone. The returned
// function removes the note after a clean stop.
func (s *service) markRunning() func() {
	dir := s.cfg.DataDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.log.Warn("cannot note the run in the data directory", "err", err)
		return func() {}
	}
	stale, _ := filepath.Glob(filepath.Join(dir, s.name+".*.running"))
	for _, path := range stale {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), s.name+"."), ".running"))
		if err == nil && pid != os.Getpid() && alive(pid) {
			continue // another instance on this data directory
		}
		prev, _ := os.ReadFile(path)
		s.log.Warn("the previous run did not stop cleanly: lines it had read over TCP and not yet stored in JetStream are lost; everything JetStream accepted is taken up now",
			"previous", strings.TrimSpace(string(prev)))
		_ = os.Remove(path)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s.%d.running", s.name, os.Getpid()))
	note := fmt.Sprintf("pid %d, started %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(path, []byte(note), 0o600); err != nil {
		s.log.Warn("cannot note the run in the data directory", "err", err)
		return func() {}
	}
	return func() { _ = os.Remove(path) }
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}
