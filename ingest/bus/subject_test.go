package bus

import (
	"strings"
	"testing"
)

func TestSubjectsRoundTrip(t *testing.T) {
	for _, c := range []struct {
		subject string
		want    Subject
	}{
		{EventsSubject("refinery", "flow"), Subject{StreamEvents, "refinery", "flow"}},
		{EventsSubject("plant.north", "raw"), Subject{StreamEvents, "plant_north", "raw"}},
		{EventsSubject("", "flow"), Subject{StreamEvents, "_", "flow"}},
		{EnrichedSubject("refinery", "would_block"), Subject{StreamEnriched, "refinery", "would_block"}},
		{EnrichedSubject("refinery", ""), Subject{StreamEnriched, "refinery", "none"}},
		{FindingsSubject("high"), Subject{StreamFindings, "", "high"}},
		{DeadLetterSubject("refinery", "oversize"), Subject{StreamDeadLetter, "refinery", "oversize"}},
		{DeadLetterSubject("a b*c>", "x.y"), Subject{StreamDeadLetter, "a_b_c_", "x_y"}},
	} {
		got, err := ParseSubject(c.subject)
		if err != nil || got != c.want {
			t.Errorf("ParseSubject(%q) = %+v, %v; want %+v", c.subject, got, err, c.want)
		}
		if f := Filter(got.Stream); !strings.HasPrefix(c.subject, strings.TrimSuffix(f, ">")) {
			t.Errorf("%q is not under its stream's filter %q", c.subject, f)
		}
	}
	if got := EnrichedSubject("refinery", "blocked"); got != "otsiem.enriched.refinery.blocked" {
		t.Errorf("enriched subject %q", got)
	}
}

func TestParseSubjectRefusesOtherShapes(t *testing.T) {
	for _, s := range []string{"", "otsiem", "otsiem.events", "otsiem.events.site", "otsiem.events.site.",
		"otsiem.events..flow", "otsiem.events.a.b.c", "otsiem.findings.", "otsiem.findings.a.b",
		"other.events.a.b", "otsiem.eventsx.a.b", "otsiem.deadletter.site"} {
		if got, err := ParseSubject(s); err == nil {
			t.Errorf("ParseSubject(%q) = %+v, want an error", s, got)
		}
	}
	if Filter("NOT_OURS") != "" {
		t.Error("a filter for a foreign stream")
	}
}

// Whatever the tokens, a built subject parses back to the tokens as
// Token made them, and parsing never panics.
func FuzzParseSubject(f *testing.F) {
	f.Add("refinery", "flow", "otsiem.events.refinery.flow")
	f.Add("a.b", "", "otsiem.findings.high")
	f.Add("", " ", "otsiem.deadletter..x")
	f.Fuzz(func(t *testing.T, site, tail, raw string) {
		_, _ = ParseSubject(raw)
		for _, build := range []func(string, string) string{EventsSubject, EnrichedSubject, DeadLetterSubject} {
			s := build(site, tail)
			got, err := ParseSubject(s)
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			if got.Site != Token(site) {
				t.Fatalf("%q: site %q, want %q", s, got.Site, Token(site))
			}
		}
		got, err := ParseSubject(FindingsSubject(tail))
		if err != nil || got.Tail != Token(tail) || got.Site != "" {
			t.Fatalf("findings %q: %+v %v", tail, got, err)
		}
	})
}
