package storage

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/ingest/event"
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
//
// It is event.PolicyBreakingVerdicts in SQL: the Go list is the source.
var PolicyBreaking = "verdict IN (" + sqlStrings(event.PolicyBreakingVerdicts) + ")"

// Denied is the one definition of "the reporting device denied it", as a
// SQL predicate on a table with an action column: the normalized actions
// deny, drop and reset (a firewall stopped the traffic, or, in monitor
// mode, says it would have).
const Denied = "action IN ('deny', 'drop', 'reset')"

// Passed is the predicate, on a table with a verdict column, of judged
// traffic that was not stopped: every verdict but blocked and false_block
// (an enforcing firewall denied it). It is the traffic baseline rule
// proposals are drawn from.
const Passed = "verdict NOT IN ('blocked', 'false_block')"

// deviceFlows is the SELECT shared by the per-device flow queries over
// device_flows_hourly: one row per reporting device, source, destination,
// conduit, transport, port, protocol, function, reason, action and rule in
// the window, with events, first and last seen, and the days (UTC) it was
// seen on. {device:String} selects one device (any case); ” selects all.
func deviceFlows(where string) string {
	return `
SELECT device, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function_code, function,
       reason, action, rule, sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       arraySort(groupUniqArray(toDate(hour))) AS days
FROM device_flows_hourly
WHERE (` + where + `) AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
  AND ({device:String} = '' OR device = lower({device:String}))
GROUP BY device, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function_code, function,
         reason, action, rule
ORDER BY device, last_seen DESC, events DESC, src_ip, dst_ip, dst_port`
}

// The named queries.
var (
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

	// QueryDeviceDays is one reporting device's log coverage: one row per
	// UTC day overlapping the window, with the lines received from
	// {device:String} (any case) that day and the first and last of them;
	// a day without a line has events 0 (and zero times). A gap is a day
	// the device was not heard from, so a review has not seen that day.
	QueryDeviceDays = Query{"device_days", `
SELECT day, sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM device_daily
WHERE device = lower({device:String}) AND day >= toDate({from:DateTime64(6, 'UTC')})
  AND day <= toDate({to:DateTime64(6, 'UTC')} - toIntervalMicrosecond(1))
GROUP BY day
ORDER BY day WITH FILL FROM toDate({from:DateTime64(6, 'UTC')})
  TO toDate({to:DateTime64(6, 'UTC')} - toIntervalMicrosecond(1)) + 1`}

	// QueryWouldFalseBlock is what enforcing a device's rules would break:
	// flows the declared model allows that the device denied (see
	// [Denied]) — a monitor-mode firewall's would_false_block (verdict
	// allowed: it forwarded them anyway) or an enforcing one's
	// false_block. Rows as [deviceFlows] describes.
	QueryWouldFalseBlock = Query{"would_false_block", deviceFlows("verdict IN ('allowed', 'false_block') AND " + Denied)}

	// QueryDeviceWouldBlock is what enforcing a monitor-mode device would
	// stop: the flows it let through (or denied without stopping) that the
	// declared model forbids, verdict would_block, with the model's
	// reason and what the device logged (action, rule). Rows as
	// [deviceFlows] describes.
	QueryDeviceWouldBlock = Query{"device_would_block", deviceFlows("verdict = 'would_block'")}

	// QueryBaselineFlows is the observed traffic baseline: every judged
	// flow that was not stopped (see [Passed]), from any device, within a
	// zone or across zones, one row per source, destination, transport,
	// port, protocol and function code (-1 unknown) and name, with events,
	// first and last seen, the days (UTC) it was seen on and the devices
	// that reported it. Rule proposals judge it again under the current
	// model, so traffic stored under an older zoning counts too.
	QueryBaselineFlows = Query{"baseline_flows", `
SELECT src_ip, dst_ip, transport, dst_port, app_protocol, function_code, function,
       sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       arraySort(groupUniqArray(toDate(hour))) AS days, arraySort(groupUniqArray(device)) AS devices
FROM device_flows_hourly
WHERE ` + Passed + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY src_ip, dst_ip, transport, dst_port, app_protocol, function_code, function
ORDER BY src_ip, dst_ip, dst_port, transport, app_protocol, function_code, function`}

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
	QueryFindingsOutside, QueryFindingStates, QueryFindingsByID, QueryDiodeHeartbeats, QueryStoredSince,
	QueryConduitTraffic, QueryConduitTrafficFine, QueryCrossZoneTests, QueryPathOutcomes, QueryUndeclaredPaths, QueryConduitEnforcement,
	QueryCrossZoneByDevice, QueryDiodeAvailability, QueryDeviceCoverage, QueryOpenFindingsByAge,
	QueryDeviceDays, QueryWouldFalseBlock, QueryDeviceWouldBlock, QueryBaselineFlows}

// Table is a query result: column names and types, and rows of Go
// values as clickhouse-go scans them.
type Table struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// Select returns a table of the named columns, in that order; a name the
// table lacks is an empty column.
func (t *Table) Select(names ...string) *Table {
	idx := make([]int, len(names))
	out := &Table{Columns: names, Types: make([]string, len(names))}
	for i, n := range names {
		idx[i] = slices.Index(t.Columns, n)
		if idx[i] >= 0 {
			out.Types[i] = t.Types[idx[i]]
		}
	}
	for _, r := range t.Rows {
		row := make([]any, len(names))
		for i, j := range idx {
			if j >= 0 {
				row[i] = r[j]
			}
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// RunQuery runs a query and returns its whole result.
func RunQuery(ctx context.Context, conn driver.Conn, q Query, args ...any) (*Table, error) {
	t, err := RunSQL(ctx, conn, q.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: query %s: %w", q.Name, err)
	}
	return t, nil
}

// RunSQL runs any SQL statement and returns its whole result. A result
// without rows still has its columns: when the engine sends none for an
// empty result (the embedded engine does not), they are asked for with
// DESCRIBE.
func RunSQL(ctx context.Context, conn driver.Conn, sql string, args ...any) (*Table, error) {
	t, err := runSQL(ctx, conn, sql, args...)
	if err != nil || len(t.Columns) > 0 || len(t.Rows) > 0 {
		return t, err
	}
	desc, err := runSQL(ctx, conn, "DESCRIBE TABLE ("+strings.TrimRight(strings.TrimSpace(sql), ";")+")", args...)
	if err != nil {
		return t, nil // not a query with a result to describe (SHOW, SYSTEM, …)
	}
	for _, r := range desc.Rows {
		t.Columns = append(t.Columns, r[0].(string))
		t.Types = append(t.Types, r[1].(string))
	}
	return t, nil
}

func runSQL(ctx context.Context, conn driver.Conn, sql string, args ...any) (*Table, error) {
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

// Select runs a named query and scans its rows into dest, a pointer to a
// slice of structs whose fields name their columns in `ch:"name"` tags
// (see [DeviceDay], [DeviceFlow], [BaselineFlow]).
func Select(ctx context.Context, conn driver.Conn, q Query, dest any, args ...any) error {
	if err := conn.Select(ctx, dest, q.SQL, args...); err != nil {
		return fmt.Errorf("storage: query %s: %w", q.Name, err)
	}
	return nil
}

// DeviceDay is a row of [QueryDeviceDays].
type DeviceDay struct {
	Day       time.Time `ch:"day"`
	Events    uint64    `ch:"events"` // lines from the device that day; 0 for a gap
	FirstSeen time.Time `ch:"first_seen"`
	LastSeen  time.Time `ch:"last_seen"`
}

// DeviceFlow is a row of [QueryWouldFalseBlock] and
// [QueryDeviceWouldBlock].
type DeviceFlow struct {
	Device       string      `ch:"device"`
	SrcZone      string      `ch:"src_zone"`
	SrcIP        netip.Addr  `ch:"src_ip"` // IPv4-mapped for IPv4: Unmap it
	DstZone      string      `ch:"dst_zone"`
	DstIP        netip.Addr  `ch:"dst_ip"`
	Conduit      string      `ch:"conduit"`
	Transport    string      `ch:"transport"`
	DstPort      uint16      `ch:"dst_port"`
	AppProtocol  string      `ch:"app_protocol"`
	FunctionCode int32       `ch:"function_code"` // -1 when unknown
	Function     string      `ch:"function"`
	Reason       string      `ch:"reason"`
	Action       string      `ch:"action"`
	Rule         string      `ch:"rule"`
	Events       uint64      `ch:"events"`
	FirstSeen    time.Time   `ch:"first_seen"`
	LastSeen     time.Time   `ch:"last_seen"`
	Days         []time.Time `ch:"days"` // the UTC days it was seen on, sorted
}

// BaselineFlow is a row of [QueryBaselineFlows].
type BaselineFlow struct {
	SrcIP        netip.Addr  `ch:"src_ip"` // IPv4-mapped for IPv4: Unmap it
	DstIP        netip.Addr  `ch:"dst_ip"`
	Transport    string      `ch:"transport"`
	DstPort      uint16      `ch:"dst_port"`
	AppProtocol  string      `ch:"app_protocol"`
	FunctionCode int32       `ch:"function_code"` // -1 when unknown
	Function     string      `ch:"function"`
	Events       uint64      `ch:"events"`
	FirstSeen    time.Time   `ch:"first_seen"`
	LastSeen     time.Time   `ch:"last_seen"`
	Days         []time.Time `ch:"days"`    // the UTC days it was seen on, sorted
	Devices      []string    `ch:"devices"` // the devices that reported it, sorted
}

// DeviceWindow returns the parameters of the per-device queries: one
// device (any case; "" for every device where a query allows it) and the
// window [from, to).
func DeviceWindow(device string, from, to time.Time) []any {
	return []any{clickhouse.Named("device", device), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())}
}
