package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// direction is a rule's free-text direction, read strictly: an initiator and
// responder zone, and the qualifiers in parentheses.
type direction struct {
	from, to string // zone references as written
	both     bool   // either zone may initiate
	readOnly bool
	allFns   bool  // "read/write": explicitly every function
	codes    []int // "FC 3/4 only"
	diode    bool  // "unidirectional via data diode"
	notes    []string
}

var (
	arrowRE    = regexp.MustCompile(`^(\S.*?)\s*(<->|<=>|↔|->|=>|→|<-|←)\s*(\S.*?)$`)
	readOnlyRE = regexp.MustCompile(`^read[\s-]*only$`)
	readWrite  = regexp.MustCompile(`^read\s*(?:/|and|&|-)?\s*write$`)
	fcRE       = regexp.MustCompile(`^(?:fcs?|function[\s-]*codes?|func[\s-]*codes?)\s*([0-9][0-9\s/,&+-]*(?:\s*and\s*[0-9][0-9\s/,&+-]*)*?)\s*(?:only)?$`)
	diodeRE    = regexp.MustCompile(`^(?:unidirectional|one[\s-]*way)?\s*(?:via|through|over)\s+(?:an?\s+|the\s+)?(?:hardware[\s-]+)?(?:data[\s-]*)?diode$`)
	oneWayRE   = regexp.MustCompile(`^(?:unidirectional|one[\s-]*way)$`)
	// restrictRE finds words that make an unread qualifier a restriction
	// otsiem would silently ignore; such text is an error, not a note.
	restrictRE = regexp.MustCompile(`\b(?:no|not|never|except|deny|denied|block|blocked|without|writes?|fcs?|functions?|codes?|ports?)\b`)
)

// parseDirection reads text such as "Z3 -> Z2 (read only, FC 3/4 only)".
// Qualifiers it cannot read are notes when they only describe purpose
// ("patch downloads only") and the protocol has no functions to restrict;
// anything else is an error, so no restriction is ever silently dropped.
// "read only" holds for any protocol; function codes only for a protocol
// with numbered functions (functionAware).
func parseDirection(s string, functionAware bool) (direction, error) {
	var d direction
	main, qual, hasQual := strings.Cut(s, "(")
	main = strings.TrimSpace(main)
	if hasQual {
		q, ok := strings.CutSuffix(strings.TrimSpace(qual), ")")
		if !ok || strings.ContainsAny(q, "()") {
			return d, fmt.Errorf("direction %q: qualifiers must be one parenthesised list at the end", s)
		}
		qual = q
	}
	switch strings.ToLower(main) {
	case "bidirectional", "both", "both ways", "either":
		d.both = true
	default:
		m := arrowRE.FindStringSubmatch(main)
		if m == nil {
			return d, fmt.Errorf("direction %q: want \"ZONE -> ZONE\" (or <-, <->, bidirectional) with optional qualifiers in parentheses", s)
		}
		d.from, d.to = m[1], m[3]
		switch m[2] {
		case "<-", "←":
			d.from, d.to = d.to, d.from
		case "<->", "<=>", "↔":
			d.both = true
		}
	}
	if !hasQual {
		return d, nil
	}
	for _, raw := range strings.FieldsFunc(qual, func(r rune) bool { return r == ',' || r == ';' }) {
		q := strings.Join(strings.Fields(strings.ToLower(raw)), " ")
		switch {
		case q == "":
		case readOnlyRE.MatchString(q):
			// For a protocol whose functions otsiem does not know, the
			// rule fails closed (see uncatalogued): still a restriction.
			d.readOnly = true
		case readWrite.MatchString(q):
			d.allFns = true
		case fcRE.MatchString(q):
			if !functionAware {
				return d, fmt.Errorf("direction %q: function codes given for a protocol without function codes", s)
			}
			codes, err := parseCodes(fcRE.FindStringSubmatch(q)[1])
			if err != nil {
				return d, fmt.Errorf("direction %q: %w", s, err)
			}
			d.codes = append(d.codes, codes...)
		case diodeRE.MatchString(q):
			d.diode = true
		case oneWayRE.MatchString(q):
			if d.both {
				return d, fmt.Errorf("direction %q: %q contradicts a two-way arrow", s, strings.TrimSpace(raw))
			}
		case functionAware || restrictRE.MatchString(q):
			return d, fmt.Errorf("direction %q: cannot interpret %q", s, strings.TrimSpace(raw))
		default:
			d.notes = append(d.notes, strings.TrimSpace(raw))
		}
	}
	if d.allFns && (d.readOnly || len(d.codes) > 0) {
		return d, fmt.Errorf("direction %q: read/write contradicts a function restriction", s)
	}
	if d.diode && d.both {
		return d, fmt.Errorf("direction %q: a data diode path cannot be two-way", s)
	}
	return d, nil
}

// parseCodes reads "3/4", "3, 4", "1-4", "3 and 4".
func parseCodes(s string) ([]int, error) {
	s = strings.ReplaceAll(s, "and", ",")
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ',' || r == '&' || r == '+' || r == ' ' }) {
		lo, hi, isRange := strings.Cut(f, "-")
		a, errA := strconv.Atoi(lo)
		b := a
		var errB error
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA != nil || errB != nil || a < 0 || b > 255 || a > b {
			return nil, fmt.Errorf("bad function code %q (want 0-255 or a range lo-hi)", f)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no function codes in %q", s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
