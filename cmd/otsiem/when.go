package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseAgo reads a span of time as people type it: Go's durations (90m,
// 36h, 1h30m) and days and weeks (30d, 2w, 1w3d12h), where a day is 24
// hours. It is the --since/--until of the reading commands.
func parseAgo(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var days float64
	rest := s
	var goPart strings.Builder
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q: a number must come before each unit", s)
		}
		num := rest[:i]
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		unit := rest[i:j]
		switch unit {
		case "d", "w":
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			if unit == "w" {
				n *= 7
			}
			days += n
		case "":
			return 0, fmt.Errorf("%q: %s needs a unit (w, d, h, m, s)", s, num)
		default:
			goPart.WriteString(num + unit)
		}
		rest = rest[j:]
	}
	var d time.Duration
	if goPart.Len() > 0 {
		var err error
		if d, err = time.ParseDuration(goPart.String()); err != nil {
			return 0, fmt.Errorf("%q: units are w, d, h, m, s, ms", s)
		}
	}
	const maxDays = float64(1<<63-1) / float64(24*time.Hour)
	if days > maxDays-d.Hours()/24 {
		return 0, fmt.Errorf("%q: too long", s)
	}
	return d + time.Duration(days*float64(24*time.Hour)), nil
}

// parseWhen reads a time before now as a span ago (see parseAgo), an RFC
// 3339 time, or a date (UTC midnight).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := parseAgo(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a span ago (24h, 30d, 2w), an RFC 3339 time or a date (2026-11-01)", s)
}

// spanText writes a span the way parseAgo reads it, in whole days when it
// is at least two days: 30d, 36h, 90m.
func spanText(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return strconv.FormatInt(int64((d+24*time.Hour-1)/(24*time.Hour)), 10) + "d"
	case d >= time.Hour:
		return strconv.FormatInt(int64((d+time.Hour-1)/time.Hour), 10) + "h"
	default:
		return strconv.FormatInt(int64((d+time.Minute-1)/time.Minute), 10) + "m"
	}
}
