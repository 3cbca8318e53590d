package bus

import (
	"fmt"
	"strings"
)

// Subjects, one builder each and one parser for all. Every token comes
// from data (a site name, an event kind, a verdict, a severity, a
// dead-letter reason) and goes through Token, so a dot in a site name
// never adds a token:
//
//	otsiem.events.<site>.<kind>          ingest → OTSIEM_EVENTS
//	otsiem.enriched.<site>.<verdict>     correlate (verdicts) → OTSIEM_ENRICHED
//	otsiem.findings.<severity>           correlate (findings) → OTSIEM_FINDINGS
//	otsiem.deadletter.<site>.<reason>    ingest → OTSIEM_DEADLETTER

// EventsSubject is the subject of a site's events of one kind (event.Kind).
func EventsSubject(site, kind string) string {
	return SubjectEvents + "." + Token(site) + "." + Token(kind)
}

// EnrichedSubject is the subject of a site's judged events with one
// verdict; an event naming fewer than two endpoints (no verdict) goes
// under "none".
func EnrichedSubject(site, verdict string) string {
	if verdict == "" {
		verdict = "none"
	}
	return SubjectEnriched + "." + Token(site) + "." + Token(verdict)
}

// FindingsSubject is the subject of the finding revisions of one severity.
func FindingsSubject(severity string) string {
	return SubjectFindings + "." + Token(severity)
}

// DeadLetterSubject is the subject of a site's dead letters of one reason.
func DeadLetterSubject(site, reason string) string {
	return SubjectDeadLetter + "." + Token(site) + "." + Token(reason)
}

// Filter is the subject filter of every message of a stream
// ("otsiem.events.>" for StreamEvents), or "" for a stream that is not
// otsiem's.
func Filter(stream string) string {
	if p := streamPrefix(stream); p != "" {
		return p + ".>"
	}
	return ""
}

func streamPrefix(stream string) string {
	switch stream {
	case StreamEvents:
		return SubjectEvents
	case StreamEnriched:
		return SubjectEnriched
	case StreamFindings:
		return SubjectFindings
	case StreamDeadLetter:
		return SubjectDeadLetter
	}
	return ""
}

// Subject is a parsed subject. Site is empty on a findings subject; Tail
// is the kind, verdict, severity or reason (see the builders above).
type Subject struct {
	Stream string // the stream it belongs to (StreamEvents, …)
	Site   string
	Tail   string
}

// ParseSubject reads a subject the builders above make; the tokens come
// back as Token left them. A subject of another shape is an error.
func ParseSubject(s string) (Subject, error) {
	for _, stream := range []string{StreamEvents, StreamEnriched, StreamFindings, StreamDeadLetter} {
		rest, ok := strings.CutPrefix(s, streamPrefix(stream)+".")
		if !ok {
			continue
		}
		if stream == StreamFindings {
			if rest == "" || strings.Contains(rest, ".") {
				break
			}
			return Subject{Stream: stream, Tail: rest}, nil
		}
		site, tail, ok := strings.Cut(rest, ".")
		if !ok || site == "" || tail == "" || strings.Contains(tail, ".") {
			break
		}
		return Subject{Stream: stream, Site: site, Tail: tail}, nil
	}
	return Subject{}, fmt.Errorf("bus: subject %q is none of otsiem's", s)
}
