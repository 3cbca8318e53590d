package report

import (
	"testing"
	"time"
)

// TestPeriodLength: a period that does not start at a UTC midnight says
// both its length and the calendar days its per-day counts cover (the
// default "last 7 days up to now" touches 8).
func TestPeriodLength(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ from, to, want string }{
		{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "7 days"},
		{"2026-11-22T13:24:00Z", "2026-11-29T13:24:00Z", "7 days over 8 UTC calendar days"},
		{"2026-11-28T22:00:00Z", "2026-11-29T02:00:00Z", "4h 0m over 2 UTC calendar days"},
		{"2026-11-29T00:00:00Z", "2026-11-29T06:00:00Z", "6h 0m over 1 UTC calendar day"},
	} {
		p := Period{From: at(c.from), To: at(c.to)}
		p.Days = len(p.days())
		if got := periodLength(p); got != c.want {
			t.Errorf("%s .. %s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
}
