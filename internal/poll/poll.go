// Package poll waits, in tests, for what happens asynchronously — rows a
// writer commits, messages a stage publishes, a server coming up — by
// polling with a deadline rather than sleeping a guessed time (the
// nats-server convention). A timeout fails the test with the last value
// observed, so a failure says how far things got.
package poll

import (
	"fmt"
	"testing"
	"time"
)

// Interval is the pause between two observations.
const Interval = 20 * time.Millisecond

// Until calls observe every Interval until ok accepts the value it
// returns, and returns that value. An error from observe counts as not
// yet. After within it fails the test with what and the last value or
// error observed.
func Until[T any](tb testing.TB, within time.Duration, what string, observe func() (T, error), ok func(T) bool) T {
	tb.Helper()
	var last T
	var err error
	for deadline := time.Now().Add(within); ; time.Sleep(Interval) {
		last, err = observe()
		if err == nil && ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("%s: still failing after %v: %v", what, within, err)
	} else {
		tb.Fatalf("%s: not reached after %v; last observed %s", what, within, show(last))
	}
	return last
}

// Equal waits until observe returns want; see Until.
func Equal[T comparable](tb testing.TB, within time.Duration, what string, observe func() (T, error), want T) {
	tb.Helper()
	Until(tb, within, fmt.Sprintf("%s = %s", what, show(want)), observe, func(v T) bool { return v == want })
}

// True waits until cond holds; see Until.
func True(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	Until(tb, within, what, func() (bool, error) { return cond(), nil }, func(ok bool) bool { return ok })
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
