package storage

import (
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// FindingState is the one definition of a finding's analyst state, as a
// SQL expression over the findings view f LEFT JOINed with
// finding_acks_latest a (as the findings queries below do): absorbed when
// the correlator folded it into another finding (attrs absorbed_by: a
// scan's first probes), handled through that one; else the latest analyst
// action (acknowledged or closed) while the finding has no evidence newer
// than the revision it was taken on; otherwise open — never acted on, or
// reopened by a new revision with new evidence. The correlator closing a
// finding (its window passed, a diode recovered) is not new evidence: that
// is the status column, "may it still change".
const FindingState = "multiIf(f.attrs['absorbed_by'] != '', 'absorbed', " +
	"a.last_action != '' AND f.last_seen <= a.acted_last_seen, a.last_action, 'open')"

// findingsFrom joins each finding with its latest acknowledgement.
const findingsFrom = "findings AS f LEFT JOIN finding_acks_latest AS a ON a.finding_id = f.finding_id"

// findingsWithState is a subquery of every finding (the findings view's
// columns) with its analyst state in a column state ([FindingState]), for
// queries that read findings by their unqualified columns.
const findingsWithState = "(SELECT f.*, " + FindingState + " AS state FROM " + findingsFrom + ")"

// findingsFilters are the filters every findings query takes, each ignored
// when empty.
const findingsFilters = `(empty({severities:Array(String)}) OR f.severity IN {severities:Array(String)})
  AND (empty({types:Array(String)}) OR f.type IN {types:Array(String)})
  AND (empty({states:Array(String)}) OR ` + FindingState + ` IN {states:Array(String)})
  AND ({status:String} = '' OR f.status = {status:String})
  AND (empty({conduits:Array(String)}) OR f.conduit IN {conduits:Array(String)})
  AND (empty({zones:Array(String)}) OR f.src_zone IN {zones:Array(String)} OR f.dst_zone IN {zones:Array(String)})`

// The findings queries.
var (
	// QueryFindings lists findings last seen in the window, each in its
	// latest revision with its analyst state (see [FindingState]) and the
	// latest acknowledgement (acted_by, acted_at, note), newest first.
	// Filters, each ignored when empty: {severities:Array(String)},
	// {types:Array(String)}, {states:Array(String)} (open, acknowledged,
	// closed, absorbed), {status:String} (the correlator's open or closed),
	// {conduits:Array(String)}, {zones:Array(String)} (source or
	// destination); at most
	// {limit:UInt32} rows.
	QueryFindings = Query{"findings", `
SELECT f.finding_id AS finding_id, f.last_seen AS last_seen, f.severity AS severity, ` + FindingState + ` AS state,
       f.type AS type, f.reason AS reason, f.status AS status, f.count AS count, f.conduit AS conduit,
       f.src_zone AS src_zone, f.src_ip AS src_ip, f.src_asset AS src_asset, f.dst_zone AS dst_zone, f.dst_ip AS dst_ip,
       f.dst_asset AS dst_asset, f.dst_port AS dst_port, f.app_protocol AS app_protocol, f.function_code AS function_code,
       f.device AS device, f.mode AS mode, f.diode_id AS diode_id, f.first_seen AS first_seen, f.revision AS revision,
       f.summary AS summary, f.attrs AS attrs, a.acted_by AS acted_by, if(a.last_action = '', NULL, a.acted_at) AS acted_at, a.acted_note AS note
FROM ` + findingsFrom + `
WHERE f.last_seen >= {from:DateTime64(6, 'UTC')} AND f.last_seen < {to:DateTime64(6, 'UTC')}
  AND ` + findingsFilters + `
ORDER BY last_seen DESC, finding_id
LIMIT {limit:UInt32}`}

	// QueryFindingsOutside counts the findings that pass the same filters
	// as [QueryFindings] but were last seen before the window (older, with
	// the newest of them) or at or after its end (newer), and every
	// finding stored: what a reader is told when the window holds none.
	QueryFindingsOutside = Query{"findings_outside", `
SELECT countIf(f.last_seen < {from:DateTime64(6, 'UTC')} AND ` + findingsFilters + `) AS older,
       maxIf(f.last_seen, f.last_seen < {from:DateTime64(6, 'UTC')} AND ` + findingsFilters + `) AS newest_older,
       countIf(f.last_seen >= {to:DateTime64(6, 'UTC')} AND ` + findingsFilters + `) AS newer,
       count() AS stored
FROM ` + findingsFrom}

	// QueryFindingStates counts every stored finding by analyst state
	// (open, acknowledged, closed) and severity, and how many of them are
	// still changing (the correlator's status open): the console's line.
	QueryFindingStates = Query{"finding_states", `
SELECT ` + FindingState + ` AS state, f.severity AS severity, count() AS findings, countIf(f.status = 'open') AS ongoing
FROM ` + findingsFrom + `
GROUP BY state, severity
ORDER BY indexOf(['open', 'acknowledged', 'closed', 'absorbed'], state), indexOf(['critical', 'high', 'medium', 'low', 'info'], severity)`}

	// QueryFindingsByID resolves finding ids or unique prefixes of them
	// ({ids:Array(String)}): each matching finding's id, latest revision,
	// last seen, state, severity, type and summary, by id.
	QueryFindingsByID = Query{"findings_by_id", `
SELECT f.finding_id AS finding_id, f.revision AS revision, f.last_seen AS last_seen, ` + FindingState + ` AS state,
       f.severity AS severity, f.type AS type, f.summary AS summary
FROM ` + findingsFrom + `
WHERE arrayExists(p -> startsWith(f.finding_id, p), {ids:Array(String)})
ORDER BY finding_id`}

	// QueryDiodeHeartbeats is each diode side's latest health report in
	// the window: its time, status and reporting device.
	QueryDiodeHeartbeats = Query{"diode_heartbeats", `
SELECT diode_id, diode_side, max(time) AS last_heartbeat, argMax(diode_status, time) AS last_status,
       argMax(device, time) AS device, count() AS reports
FROM events
WHERE kind = 'diode' AND diode_id != '' AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
GROUP BY diode_id, diode_side
ORDER BY diode_id, diode_side`}

	// QueryStoredSince is what was stored from {from} on (receive time for
	// events, storage time for findings): the distinct events and
	// findings, and the finding revisions.
	QueryStoredSince = Query{"stored_since", `
SELECT toUInt64(ifNull((SELECT uniqExact(event_id) FROM events WHERE received_at >= {from:DateTime64(6, 'UTC')}), 0)) AS events,
       uniqExact(finding_id) AS findings, count() AS revisions
FROM finding_revisions
WHERE stored_at >= {from:DateTime64(6, 'UTC')}`}
)

// FindingsFilter selects findings for the findings queries.
type FindingsFilter struct {
	From, To   time.Time
	Severities []string
	Types      []string
	States     []string // analyst states: open, acknowledged, closed
	Status     string   // the correlator's status: open or closed
	Conduits   []string
	Zones      []string // source or destination zone
	Limit      uint32   // default 100
}

// Args returns the filter as the query's parameters.
func (f FindingsFilter) Args() []any {
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	return []any{clickhouse.Named("from", f.From.UTC()), clickhouse.Named("to", f.To.UTC()),
		clickhouse.Named("severities", nonNil(f.Severities)), clickhouse.Named("types", nonNil(f.Types)),
		clickhouse.Named("states", nonNil(f.States)), clickhouse.Named("status", f.Status),
		clickhouse.Named("conduits", nonNil(f.Conduits)), clickhouse.Named("zones", nonNil(f.Zones)), clickhouse.Named("limit", limit)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sqlStrings quotes strings as a SQL list: 'a', 'b'. The strings are
// otsiem's own vocabulary, never input.
func sqlStrings(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
	}
	return strings.Join(q, ", ")
}
