package main

import (
	"testing"
	"time"
)

func TestReportPeriod(t *testing.T) {
	now := time.Date(2026, 5, 14, 13, 30, 0, 0, time.UTC) // a Thursday
	for _, c := range []struct {
		from, to, period string
		want             string // from/to, or "error"
	}{
		{"", "", "7d", "2026-05-07T13:30:00Z/2026-05-14T13:30:00Z"},
		{"", "", "daily", "2026-05-13T00:00:00Z/2026-05-14T00:00:00Z"},
		{"", "", "weekly", "2026-05-04T00:00:00Z/2026-05-11T00:00:00Z"},
		{"", "", "quarterly", "2026-01-01T00:00:00Z/2026-04-01T00:00:00Z"},
		{"", "now", "1d", "2026-05-13T13:30:00Z/2026-05-14T13:30:00Z"},
		{"2026-03-01", "", "30d", "2026-03-01T00:00:00Z/2026-03-31T00:00:00Z"},
		{"2026-03-01", "2026-03-02T12:00:00+02:00", "7d", "2026-03-01T00:00:00Z/2026-03-02T10:00:00Z"},
		{"2026-03-02", "2026-03-01", "7d", "error"},
		{"yesterday", "", "7d", "error"},
		{"", "", "fortnight", "error"},
	} {
		from, to, err := reportPeriod(c.from, c.to, c.period, now)
		got := from.Format(time.RFC3339) + "/" + to.Format(time.RFC3339)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("--from %q --to %q --period %q: %s (%v), want %s", c.from, c.to, c.period, got, err, c.want)
		}
	}
}
