// Package ingesttest holds helpers for tests that send syslog to otsiem's
// collectors over real sockets.
package ingesttest

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// SendUntilStalled writes the lines to conn, one per line (LF-terminated),
// in the background, and returns once the writer has made no progress for
// quiet: how many lines it had written by then, and where the writer
// reports its end (nil once every line is written and conn closed). It
// fails the test if the writer never stalls within a minute.
func SendUntilStalled(tb testing.TB, conn net.Conn, lines []string, quiet time.Duration) (int64, <-chan error) {
	tb.Helper()
	var written atomic.Int64
	sent := make(chan error, 1)
	go func() {
		for _, l := range lines {
			if _, err := conn.Write([]byte(l + "\n")); err != nil {
				sent <- err
				return
			}
			written.Add(1)
		}
		sent <- conn.Close()
	}()
	last := int64(-1)
	for deadline := time.Now().Add(time.Minute); ; {
		time.Sleep(quiet)
		w := written.Load()
		if w == last {
			return w, sent
		}
		last = w
		if time.Now().After(deadline) {
			tb.Fatalf("the sender never stalled: %d lines written", w)
		}
	}
}
