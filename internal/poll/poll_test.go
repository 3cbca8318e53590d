package poll

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a test that notes its failure instead of stopping.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestUntilReturnsTheAcceptedValue(t *testing.T) {
	var n atomic.Int64
	go func() {
		for range 5 {
			time.Sleep(5 * time.Millisecond)
			n.Add(1)
		}
	}()
	got := Until(t, 10*time.Second, "n", func() (int64, error) { return n.Load(), nil }, func(v int64) bool { return v >= 5 })
	if got != 5 {
		t.Errorf("got %d", got)
	}
	Equal(t, 10*time.Second, "n", func() (int64, error) { return n.Load(), nil }, 5)
	True(t, time.Second, "n is 5", func() bool { return n.Load() == 5 })
}

func TestTimeoutNamesTheLastValue(t *testing.T) {
	r := &recorder{TB: t}
	calls := 0
	start := time.Now()
	Equal(r, 100*time.Millisecond, "SELECT count() FROM events", func() (uint64, error) { calls++; return 7, nil }, 9)
	if !strings.Contains(r.failed, "SELECT count() FROM events = 9") || !strings.Contains(r.failed, "last observed 7") {
		t.Errorf("failure %q", r.failed)
	}
	if took := time.Since(start); took < 100*time.Millisecond || calls < 2 {
		t.Errorf("gave up after %v and %d observations", took, calls)
	}

	r = &recorder{TB: t}
	Until(r, 50*time.Millisecond, "server up", func() (string, error) { return "", errors.New("connection refused") },
		func(string) bool { return true })
	if !strings.Contains(r.failed, "server up: still failing") || !strings.Contains(r.failed, "connection refused") {
		t.Errorf("failure %q", r.failed)
	}
}
