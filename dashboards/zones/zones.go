// Package zones is the query language of otsiem's Grafana data source
// plugin, otsiem-zones-datasource (dashboards/plugin, its own Go module):
// the queries a panel sends it, and the live channels of its findings. The
// dashboards generator writes these queries into panels and the plugin
// reads them, so both share this one definition.
//
// A query is the JSON object Grafana stores in a panel target; besides
// Grafana's own keys (refId, datasource, hide, intervalMs, …) it holds:
//
//	{"queryType": "topology" | "matrix" | "conduit" | "findings",
//	 "sites": [...], "zones": [...], "conduits": [...],   // list filters, empty for all
//	 "conduit": "C1-BPCS-OPS",                            // conduit: the one shown
//	 "severities": [...], "types": [...],                 // findings
//	 "limit": 100}                                        // findings: at most this many (default 100, at most 10,000)
//
// A list entry may hold several values separated by commas (Grafana's csv
// form of a multi-value variable): ["$zone"] becomes ["Z2-BPCS,Z3-OPS"].
package zones

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/otsiem/otsiem/ingest/event"
)

// PluginID is the plugin's id in Grafana (plugin.json), matching
// ^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource)$.
const PluginID = "otsiem-zones-datasource"

// QueryType says what a query returns.
type QueryType string

// The query types.
const (
	// Topology is the plant as a node graph: a frame "nodes" (one per
	// zone) and a frame "edges" (declared conduits and undeclared paths).
	Topology QueryType = "topology"
	// Matrix is the zone × zone conduit matrix: a row per source zone, a
	// column per destination zone.
	Matrix QueryType = "matrix"
	// Conduit is one conduit's declared rules with the traffic each
	// carried, and the traffic that fits none.
	Conduit QueryType = "conduit"
	// Findings is the latest findings, with a live channel.
	Findings QueryType = "findings"
)

// QueryTypes lists the query types.
var QueryTypes = []QueryType{Topology, Matrix, Conduit, Findings}

// DefaultLimit and MaxLimit bound a findings query.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// Query is a panel's query to the plugin.
type Query struct {
	QueryType  QueryType `json:"queryType"`
	Sites      []string  `json:"sites,omitempty"`
	Zones      []string  `json:"zones,omitempty"`
	Conduits   []string  `json:"conduits,omitempty"`
	Conduit    string    `json:"conduit,omitempty"`
	Severities []string  `json:"severities,omitempty"`
	Types      []string  `json:"types,omitempty"`
	Limit      uint32    `json:"limit,omitempty"`
}

// Parse reads a query from a panel target's JSON (other keys are
// Grafana's and ignored), splits comma-separated list entries, and
// validates it: an unknown query type, severity or finding type, a
// conduit query without a conduit, or a limit over MaxLimit is an error
// naming the field.
func Parse(raw []byte) (Query, error) {
	q, err := read(raw)
	if err != nil {
		return q, err
	}
	return q, q.Validate()
}

// ParseTemplate reads a query as a dashboard stores it, before Grafana
// replaced its variables: as Parse, but an entry that is a variable
// reference ($name, ${name} or ${name:format}) passes any check.
func ParseTemplate(raw []byte) (Query, error) {
	q, err := read(raw)
	if err != nil {
		return q, err
	}
	return q, q.ValidateTemplate()
}

func read(raw []byte) (Query, error) {
	var q Query
	if err := json.Unmarshal(raw, &q); err != nil {
		return q, fmt.Errorf("query: %w", err)
	}
	for _, l := range append(q.filters(), &q.Sites) {
		*l = splitList(*l)
	}
	q.Conduit = strings.TrimSpace(q.Conduit)
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	return q, nil
}

var variable = regexp.MustCompile(`^\$(\w+|\{\w+(:\w+)?\})$`)

// ValidateTemplate is Validate for a query whose entries may be variable
// references.
func (q Query) ValidateTemplate() error {
	for _, l := range q.filters() {
		*l = slices.DeleteFunc(slices.Clone(*l), variable.MatchString)
	}
	return q.Validate()
}

// Validate checks a query's values.
func (q Query) Validate() error {
	var errs []error
	switch {
	case q.QueryType == "":
		errs = append(errs, fmt.Errorf("queryType is missing: want one of %s", joinTypes()))
	case !slices.Contains(QueryTypes, q.QueryType):
		errs = append(errs, fmt.Errorf("queryType %q: want one of %s", q.QueryType, joinTypes()))
	}
	if q.QueryType == Conduit && q.Conduit == "" {
		errs = append(errs, errors.New("conduit: a conduit query needs the conduit to show"))
	}
	for _, s := range q.Severities {
		if event.Severity(s).Rank() < 0 {
			errs = append(errs, fmt.Errorf("severities: %q is not a severity (critical, high, medium, low, info)", s))
		}
	}
	for _, t := range q.Types {
		if !slices.Contains(event.FindingTypes, t) {
			errs = append(errs, fmt.Errorf("types: %q is not a finding type (%s)", t, strings.Join(event.FindingTypes, ", ")))
		}
	}
	if q.Limit > MaxLimit {
		errs = append(errs, fmt.Errorf("limit %d: at most %d", q.Limit, MaxLimit))
	}
	return errors.Join(errs...)
}

func joinTypes() string {
	s := make([]string, len(QueryTypes))
	for i, t := range QueryTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// splitList splits comma-separated entries and drops empty ones and
// repeats.
func splitList(l []string) []string {
	var out []string
	for _, e := range l {
		for _, v := range strings.Split(e, ",") {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// Matches reports whether a finding passes the findings filters of q:
// its severity, type, conduit, and source or destination zone each in q's
// list when the list is not empty (sites filter traffic, not findings,
// as in storage.QueryFindings). A finding the correlator folded
// into another (attrs absorbed_by) never passes: it is handled through
// that one. It is the live form of storage.QueryFindings's filters.
func (q Query) Matches(f *event.Finding) bool {
	if v, _ := f.Attr("absorbed_by"); v != "" {
		return false
	}
	in := func(l []string, v ...string) bool {
		if len(l) == 0 {
			return true
		}
		for _, x := range v {
			if slices.Contains(l, x) {
				return true
			}
		}
		return false
	}
	return in(q.Severities, string(f.Severity)) && in(q.Types, f.Type) && in(q.Conduits, f.Conduit) &&
		in(q.Zones, f.SrcZone, f.DstZone)
}

// The live channels of findings. A channel path is "findings" (every
// finding), "findings/<severity>" (one severity), or "findings" followed
// by filter segments "severity=<v>", "type=<v>", "zone=<v>" and
// "conduit=<v>", one per value, in that order: a findings query's filters
// (its sites and limit aside). Grafana's channel ids allow letters, digits,
// "_", "-", "." and "=" in a path, and 160 characters in all.
const (
	channelRoot = "findings"
	// maxChannelPath leaves room in Grafana's 160 characters for
	// "ds/<uid>/" with a uid of up to 40 characters.
	maxChannelPath = 116
)

var channelValue = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

var channelKeys = []string{"severity", "type", "zone", "conduit"}

// filters are q's findings filters in the order of channelKeys.
func (q *Query) filters() []*[]string {
	return []*[]string{&q.Severities, &q.Types, &q.Zones, &q.Conduits}
}

// Channel returns the path of the live channel carrying the findings q
// selects, or an error saying why none can: a filter value with a
// character a channel cannot hold, or too many values.
func (q Query) Channel() (string, error) {
	if len(q.Severities) == 1 && len(q.Types)+len(q.Zones)+len(q.Conduits) == 0 && channelValue.MatchString(q.Severities[0]) {
		return channelRoot + "/" + q.Severities[0], nil
	}
	var b strings.Builder
	b.WriteString(channelRoot)
	for i, l := range q.filters() {
		for _, v := range *l {
			if !channelValue.MatchString(v) {
				return "", fmt.Errorf("the %s %q has characters a live channel cannot carry", channelKeys[i], v)
			}
			b.WriteString("/" + channelKeys[i] + "=" + v)
		}
	}
	if b.Len() > maxChannelPath {
		return "", fmt.Errorf("the filters take %d characters, more than a live channel can carry (%d)", b.Len(), maxChannelPath)
	}
	return b.String(), nil
}

// ParseChannel reads the findings filters from a channel path written by
// [Query.Channel].
func ParseChannel(path string) (Query, error) {
	q := Query{QueryType: Findings}
	segs := strings.Split(path, "/")
	if segs[0] != channelRoot {
		return q, fmt.Errorf("channel %q: not a findings channel (findings[/…])", path)
	}
	if len(segs) == 2 && !strings.Contains(segs[1], "=") {
		segs[1] = "severity=" + segs[1]
	}
	last := 0
	for _, s := range segs[1:] {
		k, v, ok := strings.Cut(s, "=")
		i := slices.Index(channelKeys, k)
		if !ok || i < 0 || v == "" {
			return q, fmt.Errorf("channel %q: segment %q is not one of %s=<value>", path, s, strings.Join(channelKeys, "|"))
		}
		if i < last {
			return q, fmt.Errorf("channel %q: %s comes after %s", path, channelKeys[last], k)
		}
		last = i
		if l := q.filters()[i]; !slices.Contains(*l, v) {
			*l = append(*l, v)
		}
	}
	return q, q.Validate()
}
