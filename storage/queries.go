package storage

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Query is a named query: every query the CLI, dashboards and reports run
// lives here. Parameters are ClickHouse query parameters ({name:Type}),
// bound server-side; pass them to [RunQuery] with clickhouse.Named. Unless
// a query says otherwise, {from} and {to} (DateTime64(6, 'UTC')) bound a
// half-open time window [from, to).
type Query struct {
	Name string
	SQL  string
}

// PolicyBreaking is the one definition of "policy-breaking" that every
// query, the console, the dashboards and the reports use, as a SQL
// predicate on a table with a verdict column: traffic that got through,
// or would get through once enforced, against the declared zone and
// conduit design. That is the verdicts violation (seen by a sensor or an
// off-path device), policy_drift (an enforcing firewall let it through)
// and would_block (a monitor-mode firewall let it through). Every reason
// counts under these verdicts, air_gap and diode_reverse included; a
// reason alone never makes an event policy-breaking. blocked (enforcement
// worked) and false_block (enforcement broke legitimate traffic) are
// enforcement outcomes, counted apart.
const PolicyBreaking = "verdict IN ('violation', 'policy_drift', 'would_block')"

// The named queries.
var (
	// QueryFindings lists findings last seen in the window, each in its
	// latest state, newest first. Filters, each ignored when empty:
	// {severities:Array(String)}, {types:Array(String)}, {conduit:String},
	// {zone:String} (source or destination); at most {limit:UInt32} rows.
	QueryFindings = Query{"findings", `
SELECT finding_id, last_seen, severity, type, reason, status, count, conduit, src_zone, src_ip, src_asset,
       dst_zone, dst_ip, dst_asset, dst_port, app_protocol, function_code, device, mode, first_seen, summary
FROM findings
WHERE last_seen >= {from:DateTime64(6, 'UTC')} AND last_seen < {to:DateTime64(6, 'UTC')}
  AND (empty({severities:Array(String)}) OR severity IN {severities:Array(String)})
  AND (empty({types:Array(String)}) OR type IN {types:Array(String)})
  AND ({conduit:String} = '' OR conduit = {conduit:String})
  AND ({zone:String} = '' OR src_zone = {zone:String} OR dst_zone = {zone:String})
ORDER BY last_seen DESC, finding_id
LIMIT {limit:UInt32}`}

	// QueryVerdicts counts events per time bucket of {bucket:UInt32}
	// seconds (a multiple of 3600: it reads the hourly rollup), conduit,
	// verdict and reason.
	QueryVerdicts = Query{"verdicts", `
SELECT toStartOfInterval(hour, toIntervalSecond({bucket:UInt32})) AS t, conduit, verdict, reason, sum(events) AS events
FROM flows_hourly
WHERE hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY t, conduit, verdict, reason
ORDER BY t, conduit, verdict, reason`}

	// QueryTopViolatedConduits ranks conduits by events that break the
	// declared policy (violation, policy drift, would-block), at most
	// {limit:UInt32}. Traffic crossing no conduit counts as conduit ''.
	QueryTopViolatedConduits = Query{"top_violated_conduits", `
SELECT conduit, sum(events) AS total, sumIf(events, verdict = 'violation') AS violations,
       sumIf(events, verdict = 'policy_drift') AS policy_drift, sumIf(events, verdict = 'would_block') AS would_block,
       max(last_seen) AS last_seen
FROM flows_hourly
WHERE ` + PolicyBreaking + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY conduit
ORDER BY total DESC, conduit
LIMIT {limit:UInt32}`}

	// QueryWouldBlock is the monitor-mode review: the flows a device in
	// monitor mode let through and would block in enforce mode, grouped by
	// source, destination, port, protocol and function, with counts and
	// first/last seen. {conduit:String} filters when not empty.
	QueryWouldBlock = Query{"would_block", `
SELECT conduit, src_zone, src_ip, dst_zone, dst_ip, transport, dst_port, app_protocol, function, reason,
       sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM flows_hourly
WHERE verdict = 'would_block' AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
  AND ({conduit:String} = '' OR conduit = {conduit:String})
GROUP BY conduit, src_zone, src_ip, dst_zone, dst_ip, transport, dst_port, app_protocol, function, reason
ORDER BY conduit, events DESC, src_ip, dst_ip, dst_port`}

	// QueryOpenWouldBlocks counts the distinct would-block flows per
	// conduit in the window: the console's summary of the review.
	QueryOpenWouldBlocks = Query{"open_would_blocks", `
SELECT conduit, uniqExact(src_ip, dst_ip, transport, dst_port, app_protocol, function) AS flows, sum(events) AS events,
       max(last_seen) AS last_seen
FROM flows_hourly
WHERE verdict = 'would_block' AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY conduit
ORDER BY events DESC, conduit`}

	// QueryEventsPerSecond is the event rate per bucket of
	// {bucket:UInt32} seconds, by event time.
	QueryEventsPerSecond = Query{"events_per_second", `
SELECT toStartOfInterval(time, toIntervalSecond({bucket:UInt32})) AS t, count() AS events,
       round(events / {bucket:UInt32}, 3) AS per_second
FROM events
WHERE time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
GROUP BY t
ORDER BY t`}

	// QueryComplianceDaily is the compliance report: per day, zone and
	// conduit, events by verdict, violations by reason and diode uptime.
	// An event counts for each zone it touches.
	QueryComplianceDaily = Query{"compliance_daily", `
SELECT day, zone, conduit, sum(events) AS total,
       sumIf(events, verdict = 'allowed') AS allowed,
       sumIf(events, verdict = 'violation') AS violations,
       sumMapIf(map(reason, events), verdict = 'violation') AS violations_by_reason,
       sumIf(events, verdict = 'would_block') AS would_block, sumIf(events, verdict = 'blocked') AS blocked,
       sumIf(events, verdict = 'false_block') AS false_block, sumIf(events, verdict = 'policy_drift') AS policy_drift,
       sum(diode_heartbeats) AS heartbeats, sum(diode_up) AS heartbeats_up
FROM compliance_daily
WHERE day >= toDate({from:DateTime64(6, 'UTC')}) AND day < toDate({to:DateTime64(6, 'UTC')}) + 1
  AND (verdict != '' OR diode_heartbeats > 0)
GROUP BY day, zone, conduit
ORDER BY day, zone, conduit`}

	// QueryNewPairs lists communication pairs (source, destination,
	// transport, port, protocol) first seen in the window, over all the
	// hourly history before it.
	QueryNewPairs = Query{"new_pairs", `
SELECT src_zone, src_ip, dst_zone, dst_ip, transport, dst_port, app_protocol, any(conduit) AS conduit,
       min(first_seen) AS first, sum(events) AS events
FROM flows_hourly
WHERE hour < {to:DateTime64(6, 'UTC')}
GROUP BY src_zone, src_ip, dst_zone, dst_ip, transport, dst_port, app_protocol
HAVING first >= {from:DateTime64(6, 'UTC')}
ORDER BY first, src_ip, dst_ip, dst_port`}

	// QueryDeadLettersByReason counts dead letters per reason and source.
	QueryDeadLettersByReason = Query{"dead_letters_by_reason", `
SELECT reason, source, count() AS letters, min(received_at) AS first, max(received_at) AS last
FROM deadletter
WHERE received_at >= {from:DateTime64(6, 'UTC')} AND received_at < {to:DateTime64(6, 'UTC')}
GROUP BY reason, source
ORDER BY letters DESC, reason, source`}
)

// Queries lists every named query.
var Queries = []Query{QueryFindings, QueryVerdicts, QueryTopViolatedConduits, QueryWouldBlock, QueryOpenWouldBlocks,
	QueryEventsPerSecond, QueryComplianceDaily, QueryNewPairs, QueryDeadLettersByReason,
	QueryConduitDaily, QueryCrossZoneTests, QueryPathOutcomes, QueryUndeclaredPaths, QueryConduitEnforcement,
	QueryCrossZoneByDevice, QueryDiodeAvailability, QueryDeviceCoverage, QueryOpenFindingsByAge}

// Table is a query result: column names and types, and rows of Go
// values as clickhouse-go scans them.
type Table struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// RunQuery runs a query and returns its whole result.
func RunQuery(ctx context.Context, conn driver.Conn, q Query, args ...any) (*Table, error) {
	t, err := RunSQL(ctx, conn, q.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: query %s: %w", q.Name, err)
	}
	return t, nil
}

// RunSQL runs any SQL statement and returns its whole result.
func RunSQL(ctx context.Context, conn driver.Conn, sql string, args ...any) (*Table, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &Table{Columns: rows.Columns()}
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		t.Types = append(t.Types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		ptrs := make([]any, len(cts))
		for i, ct := range cts {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(ptrs))
		for i, p := range ptrs {
			row[i] = reflect.ValueOf(p).Elem().Interface()
		}
		t.Rows = append(t.Rows, row)
	}
	return t, rows.Err()
}

// FindingsFilter selects findings for [QueryFindings].
type FindingsFilter struct {
	From, To   time.Time
	Severities []string
	Types      []string
	Conduit    string
	Zone       string
	Limit      uint32
}

// Args returns the filter as the query's parameters.
func (f FindingsFilter) Args() []any {
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	return []any{clickhouse.Named("from", f.From.UTC()), clickhouse.Named("to", f.To.UTC()),
		clickhouse.Named("severities", nonNil(f.Severities)), clickhouse.Named("types", nonNil(f.Types)),
		clickhouse.Named("conduit", f.Conduit), clickhouse.Named("zone", f.Zone), clickhouse.Named("limit", limit)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
