package main

import (
	"testing"
	"time"
)

func TestParseAgo(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1w3d12h": (10*24 + 12) * time.Hour,
		"90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "1.5d": 36 * time.Hour, "0d": 0, "45s": 45 * time.Second,
	} {
		if got, err := parseAgo(in); err != nil || got != want {
			t.Errorf("parseAgo(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "30", "d", "30x", "3 d", "-1d", "1d-", "99999999999999d", "1e3d"} {
		if d, err := parseAgo(bad); err == nil {
			t.Errorf("parseAgo(%q) = %v, want an error", bad, d)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"30d":                       now.Add(-30 * 24 * time.Hour),
		"2026-11-01":                time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T08:00:00+02:00": time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWhen("yesterday", now); err == nil {
		t.Error("yesterday parsed")
	}
}

func TestSpanText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		29*24*time.Hour + time.Minute: "30d", 36 * time.Hour: "36h", 20 * time.Minute: "20m", 48 * time.Hour: "2d",
	} {
		if got := spanText(d); got != want {
			t.Errorf("spanText(%v) = %s, want %s", d, got, want)
		}
		if back, err := parseAgo(spanText(d)); err != nil || back < d {
			t.Errorf("parseAgo(spanText(%v)) = %v, %v: shorter", d, back, err)
		}
	}
}

func FuzzParseAgo(f *testing.F) {
	for _, s := range []string{"30d", "2w", "1w3d12h", "90m", "1.5d", "d", "9999999999w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAgo(s)
		if err == nil && d < 0 {
			t.Fatalf("parseAgo(%q) = %v < 0", s, d)
		}
	})
}
