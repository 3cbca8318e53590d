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

// TestNoSilenceNoDate: a log source that never paused for a minute has
// no longest silence to date.
func TestNoSilenceNoDate(t *testing.T) {
	from := time.Date(2026, 11, 29, 13, 55, 0, 0, time.UTC)
	r := &Report{Period: Period{From: from, To: from.Add(3 * time.Minute), Days: 1}}
	r.Evidence.LogSources = []LogSource{
		{Device: "isa3000-c1", Declared: true, Role: "firewall", Events: 900, LongestSilence: 20, SilenceFrom: from.Add(time.Minute)},
		{Device: "ids-z2", Declared: true, Role: "sensor", Events: 10, LongestSilence: 150, SilenceFrom: from.Add(10 * time.Second)},
	}
	var rows [][]string
	for _, s := range layout(r).Sections {
		for _, b := range s.Blocks {
			if b.Table != nil && len(b.Table.Head) > 5 && b.Table.Head[4] == "Longest silence" {
				rows = b.Table.Rows
			}
		}
	}
	if len(rows) != 2 || rows[0][4] != "under 1m" || rows[0][5] != "-" || rows[1][4] != "2m" || rows[1][5] != "2026-11-29 13:55" {
		t.Errorf("log-source rows: %q", rows)
	}
}

func TestNumThousands(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", 18446744073709551615: "18,446,744,073,709,551,615"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}
