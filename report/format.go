package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// num writes a count with English thousands separators: 12,345.
func num(n uint64) string { return english.Sprint(n) }

// english formats numbers with the thousands separators of CLDR's "en".
var english = message.NewPrinter(language.English)

// pct is part/whole as a percentage with one decimal, "-" when whole is 0.
func pct(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return ratio(float64(part) / float64(whole))
}

// ratio is a 0..1 ratio as a percentage with one decimal.
func ratio(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// duration writes seconds as days, hours and minutes: "2d 0h 5m".
func duration(s int64) string {
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// periodLength says how long a period is and, when its ends are not UTC
// midnights, how many UTC calendar days it touches — the days that "logs on N
// of M days" and the diodes' silent days count: "7 days", "7 days over 8 UTC
// calendar days", "1d 2h 0m over 2 UTC calendar days".
func periodLength(p Period) string {
	l := p.To.Sub(p.From)
	s := duration(int64(l.Seconds()))
	if l%(24*time.Hour) == 0 {
		s = plural(int(l/(24*time.Hour)), "day")
		if p.Days == int(l/(24*time.Hour)) {
			return s
		}
	}
	return fmt.Sprintf("%s over %s", s, plural(p.Days, "UTC calendar day"))
}

// stamp is a time to the minute in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// day is a date.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// millis writes a signed millisecond figure in the unit that reads best.
func millis(ms int64) string {
	if ms > -1000 && ms < 1000 {
		return fmt.Sprintf("%+d ms", ms)
	}
	return fmt.Sprintf("%+.1f s", float64(ms)/1000)
}

// orNone is s, or "none" when empty.
func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// plural is "1 path", "2 paths".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// events is "1 event", "1,204 events".
func events(n uint64) string {
	if n == 1 {
		return "1 event"
	}
	return num(n) + " events"
}
