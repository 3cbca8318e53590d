package storage

import "strings"

// The dashboards' named queries (issue 13). Their filters are list
// parameters in one form, written by [In]: the dashboards rewrite each into
// the Grafana ClickHouse data source's $__conditionalAll over a dashboard
// variable. Each takes the half-open window [{from}, {to}).

// In is the filter of a named query by a list parameter: rows whose column
// cols[0] (or any of cols) is in the Array(String) parameter param, or
// every row when the list is empty. It is the one form the dashboards
// generator turns into $__conditionalAll.
func In(param string, cols ...string) string {
	p := "{" + param + ":Array(String)}"
	var b strings.Builder
	b.WriteString("(empty(" + p + ")")
	for _, c := range cols {
		b.WriteString(" OR " + c + " IN " + p)
	}
	b.WriteString(")")
	return b.String()
}

// flowFilters are the dashboards' filters on a table of judged traffic:
// {sites}, {zones} (source or destination) and {conduits}.
var flowFilters = In("sites", "site") + " AND " + In("zones", "src_zone", "dst_zone") + " AND " + In("conduits", "conduit")

// openFindings is the dashboards' definition of an open finding, as a
// predicate on findingsWithState: open by [FindingState] (no analyst has
// acknowledged or closed it since its last evidence; the correlator
// closing it is no analyst's action, as in the console and `otsiem
// findings`) and last seen in the window; filtered by {sites}, {zones}
// (source or destination), {conduits} and {severities}.
var openFindings = "state = 'open' AND last_seen >= {from:DateTime64(6, 'UTC')} AND last_seen < {to:DateTime64(6, 'UTC')} AND " +
	flowFilters + " AND " + In("severities", "severity")

// AddrText is SQL rendering an address column (IPv6) for people: IPv4
// without its IPv6 mapping, an empty string for none ('::').
func AddrText(col string) string {
	return "if(" + col + " = toIPv6('::'), '', replaceOne(toString(" + col + "), '::ffff:', ''))"
}

// CurrentAssets is a subquery of the current model's inventory by
// address: columns ip (IPv6) and asset (its name), one row per address.
const CurrentAssets = "(SELECT ip, any(asset) AS asset FROM model_assets ARRAY JOIN addresses AS ip " +
	"WHERE model_hash = " + CurrentModel + " GROUP BY ip)"

// currentDiodeSides is a subquery of the current model's diodes, one row
// per side (tx, rx): diode, side, heartbeat_s.
const currentDiodeSides = "(SELECT diode, side, heartbeat_s FROM model_diodes ARRAY JOIN ['tx', 'rx'] AS side " +
	"WHERE model_hash = " + CurrentModel + " AND heartbeat_s > 0)"

// diodeSeries is a per-bucket series of every side of every diode of the
// current model (series "<diode> <side>"), a value computed from the
// side's heartbeats in the bucket: h.heartbeats, h.ok (those reporting ok
// or up), h.lag_ms (the highest lag reported) and h.seq_gaps (sequence
// numbers missed since the side's previous heartbeat). A bucket without
// heartbeats has them all 0, so silence shows. Buckets are {bucket:UInt32}
// seconds, at least the longest declared heartbeat interval (so a healthy
// side has a heartbeat in each) and at most 2,000 per window.
func diodeSeries(value string) string {
	return `
WITH greatest({bucket:UInt32}, (SELECT max(heartbeat_s) FROM model_diodes WHERE model_hash = ` + CurrentModel + `),
              intDiv(toUInt32(greatest(dateDiff('second', {from:DateTime64(6, 'UTC')}, {to:DateTime64(6, 'UTC')}), 0)), 2000), 1) AS b
SELECT toDateTime(g.t, 'UTC') AS t, concat(d.diode, ' ', d.side) AS series, ` + value + ` AS value
FROM ` + currentDiodeSides + ` AS d
CROSS JOIN (SELECT arrayJoin(range(toUInt32(toStartOfInterval({from:DateTime64(6, 'UTC')}, toIntervalSecond(b))),
                                   toUInt32({to:DateTime64(6, 'UTC')}), b)) AS t) AS g
LEFT JOIN (
    SELECT toUInt32(toStartOfInterval(time, toIntervalSecond(b))) AS t, diode_id, diode_side, count() AS heartbeats,
           countIf(diode_status IN ('ok', 'up')) AS ok, max(ifNull(diode_lag_ms, 0)) AS lag_ms, sum(seq_gap) AS seq_gaps
    FROM (
        SELECT time, diode_id, diode_side, diode_status, diode_lag_ms,
               greatest(toInt64(ifNull(diode_seq, 0)) - toInt64(ifNull(lagInFrame(diode_seq, 1, diode_seq) OVER w, 0)) - 1, 0) AS seq_gap
        FROM events
        WHERE kind = 'diode' AND time >= {from:DateTime64(6, 'UTC')} - toIntervalSecond(b) AND time < {to:DateTime64(6, 'UTC')}
          AND ` + In("sites", "site") + `
        WINDOW w AS (PARTITION BY diode_id, diode_side ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))
    WHERE time >= {from:DateTime64(6, 'UTC')}
    GROUP BY t, diode_id, diode_side
) AS h ON h.t = g.t AND h.diode_id = d.diode AND h.diode_side = d.side
WHERE ` + In("diodes", "d.diode") + `
ORDER BY series, t`
}

var (
	// QueryOpenFindingCounts is one row: findings open (no analyst handled
	// them, [FindingState]) and last seen in the window, by severity, filtered by
	// {sites}, {zones} (source or destination), {conduits} and
	// {severities}.
	QueryOpenFindingCounts = Query{"open_finding_counts", `
SELECT countIf(severity = 'critical') AS critical, countIf(severity = 'high') AS high,
       countIf(severity = 'medium') AS medium, countIf(severity IN ('low', 'info')) AS low
FROM ` + findingsWithState + `
WHERE ` + openFindings}

	// QueryOpenFindings lists findings open (no analyst handled them) and
	// last seen in the window, most severe and most recent first, at most
	// {limit:UInt32}: severity, type, summary, conduit, source and
	// destination (asset name, else address) with their zones, count,
	// first and last seen, finding_id. Filters as QueryOpenFindingCounts.
	QueryOpenFindings = Query{"open_findings", `
SELECT severity, type, summary, conduit, if(src_asset != '', src_asset, ` + AddrText("src_ip") + `) AS source,
       src_zone, if(dst_asset != '', dst_asset, ` + AddrText("dst_ip") + `) AS destination, dst_zone,
       count, first_seen, last_seen, finding_id
FROM ` + findingsWithState + `
WHERE ` + openFindings + `
ORDER BY indexOf(['critical', 'high', 'medium', 'low', 'info'], severity), last_seen DESC, finding_id
LIMIT {limit:UInt32}`}

	// QueryFindingEvents lists the stored events behind the finding
	// {finding:String} (its event_ids), oldest first.
	QueryFindingEvents = Query{"finding_events", `
SELECT time, device, verdict, reason, ` + AddrText("src_ip") + ` AS src, src_port,
       ` + AddrText("dst_ip") + ` AS dst, dst_port, transport, app_protocol, function, rule, message
FROM events
WHERE event_id IN (SELECT arrayJoin(event_ids) FROM findings WHERE finding_id = {finding:String})
ORDER BY time
LIMIT 1000`}

	// QueryPolicyBreakingEvents is one row: the events in the window that
	// break the declared policy ([PolicyBreaking]), filtered by {sites},
	// {zones} and {conduits}.
	QueryPolicyBreakingEvents = Query{"policy_breaking_events", `
SELECT count() AS events
FROM events
WHERE ` + PolicyBreaking + ` AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')} AND ` + flowFilters}

	// QueryPolicyBreakingSeries is the policy-breaking events per bucket of
	// {bucket:UInt32} seconds and verdict, filtered as
	// QueryPolicyBreakingEvents.
	QueryPolicyBreakingSeries = Query{"policy_breaking_series", `
SELECT toDateTime(toStartOfInterval(time, toIntervalSecond({bucket:UInt32})), 'UTC') AS t, verdict, count() AS events
FROM events
WHERE ` + PolicyBreaking + ` AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')} AND ` + flowFilters + `
GROUP BY t, verdict
ORDER BY t, verdict`}

	// QueryUnmanagedAddresses is one row: the distinct addresses in no
	// declared zone seen in judged traffic in the window (verdict
	// unknown_zone), filtered by {sites}.
	QueryUnmanagedAddresses = Query{"unmanaged_addresses", `
SELECT uniqExact(a) AS addresses
FROM events
ARRAY JOIN [if(src_zone = '', src_ip, toIPv6('::')), if(dst_zone = '', dst_ip, toIPv6('::'))] AS a
WHERE verdict = 'unknown_zone' AND a != toIPv6('::') AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
  AND ` + In("sites", "site")}

	// QueryTopViolationSources ranks the sources of policy-breaking events
	// in the window: address, asset name (current model), zone, events,
	// the distinct destinations and conduits, at most {limit:UInt32};
	// filtered as QueryPolicyBreakingEvents.
	QueryTopViolationSources = Query{"top_violation_sources", `
SELECT if(a.asset != '', a.asset, ` + AddrText("e.src_ip") + `) AS source, e.src_zone AS zone,
       count() AS events, uniqExact(e.dst_ip) AS destinations,
       arrayStringConcat(arraySort(groupUniqArray(if(e.conduit = '', 'no conduit', e.conduit))), ', ') AS conduits
FROM events AS e
LEFT JOIN ` + CurrentAssets + ` AS a ON a.ip = e.src_ip
WHERE ` + PolicyBreaking + ` AND e.time >= {from:DateTime64(6, 'UTC')} AND e.time < {to:DateTime64(6, 'UTC')}
  AND ` + flowFilters + `
GROUP BY source, zone
ORDER BY events DESC, source
LIMIT {limit:UInt32}`}

	// QueryZoneMatrix is the zone x zone conduit matrix of the current
	// model: one row per pair of declared zones (source initiates), with
	// the conduits that join them, and the flows of the window from the
	// hourly rollup: allowed, policy-breaking ([PolicyBreaking]), blocked
	// and all events. cell sums it up for a matrix: "·" the same zone,
	// "✗" traffic with no conduit, "!" policy-breaking traffic on a
	// conduit, "✓" conduit traffic that kept to the design, "–" no
	// conduit and no traffic. Filtered by {sites} (traffic), {zones}
	// (source or destination) and {conduits}.
	QueryZoneMatrix = Query{"zone_matrix", `
WITH ` + CurrentModel + ` AS current_model,
  pairs AS (
    SELECT z1 AS src_zone, z2 AS dst_zone, arrayStringConcat(arraySort(groupArray(conduit)), ', ') AS conduit
    FROM model_conduits ARRAY JOIN zones AS z1 ARRAY JOIN zones AS z2
    WHERE model_hash = current_model AND z1 != z2
    GROUP BY src_zone, dst_zone),
  traffic AS (
    SELECT src_zone, dst_zone, sumIf(events, verdict = 'allowed') AS allowed, sumIf(events, ` + PolicyBreaking + `) AS policy_breaking,
           sumIf(events, verdict = 'blocked') AS blocked, sum(events) AS total
    FROM flows_hourly
    WHERE hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')} AND ` + In("sites", "site") + `
    GROUP BY src_zone, dst_zone)
SELECT s.zone AS src_zone, d.zone AS dst_zone, p.conduit AS conduit, t.allowed AS allowed, t.policy_breaking AS policy_breaking,
       t.blocked AS blocked, t.total AS total,
       multiIf(s.zone = d.zone, '·', p.conduit = '' AND t.total > 0, concat('✗ no conduit: ', toString(t.total), ' events'),
               p.conduit = '', '–', t.policy_breaking > 0, concat('! ', p.conduit, ': ', toString(t.policy_breaking), ' breaking, ', toString(t.allowed), ' allowed'),
               concat('✓ ', p.conduit, ': ', toString(t.allowed), ' allowed')) AS cell
FROM model_zones AS s
CROSS JOIN model_zones AS d
LEFT JOIN pairs AS p ON p.src_zone = s.zone AND p.dst_zone = d.zone
LEFT JOIN traffic AS t ON t.src_zone = s.zone AND t.dst_zone = d.zone
WHERE s.model_hash = current_model AND d.model_hash = current_model
  AND ` + In("zones", "s.zone", "d.zone") + ` AND ` + In("conduits", "p.conduit") + `
ORDER BY s.position, d.position`}

	// QueryDiodeSides is the state of every side of every diode of the
	// current model at the end of the window ({to}): its heartbeat
	// interval, last heartbeat and last ok (or up) one, last status, lag
	// and bandwidth, and state: down when no ok heartbeat came in the last
	// three intervals (silence counts as down), degraded when the last
	// status is neither ok nor up, else ok. Filtered by {sites} and
	// {diodes}.
	QueryDiodeSides = Query{"diode_sides", `
SELECT d.diode AS diode_id, d.side AS side, d.heartbeat_s AS heartbeat_s,
       if(h.heartbeats = 0, NULL, h.last_seen) AS last_heartbeat, if(h.oks = 0, NULL, h.last_ok) AS last_ok,
       h.last_status AS last_status, h.lag_ms AS lag_ms, h.bps AS bps,
       multiIf(h.oks = 0 OR h.last_ok < {to:DateTime64(6, 'UTC')} - toIntervalSecond(3 * d.heartbeat_s), 'down',
               h.last_status NOT IN ('ok', 'up'), 'degraded', 'ok') AS state
FROM ` + currentDiodeSides + ` AS d
LEFT JOIN (
    SELECT diode_id, diode_side, count() AS heartbeats, max(time) AS last_seen,
           countIf(diode_status IN ('ok', 'up')) AS oks, maxIf(time, diode_status IN ('ok', 'up')) AS last_ok,
           argMax(diode_status, time) AS last_status, argMax(diode_lag_ms, time) AS lag_ms, argMax(diode_bps, time) AS bps
    FROM events
    WHERE kind = 'diode' AND time < {to:DateTime64(6, 'UTC')} AND time >= {to:DateTime64(6, 'UTC')} - toIntervalDay(7)
      AND ` + In("sites", "site") + `
    GROUP BY diode_id, diode_side
) AS h ON h.diode_id = d.diode AND h.diode_side = d.side
WHERE ` + In("diodes", "d.diode") + `
ORDER BY diode_id, side`}

	// QueryDiodesDown is one row: the diodes with a side down or degraded
	// (see QueryDiodeSides) at the end of the window.
	QueryDiodesDown = Query{"diodes_down", `
SELECT uniqExactIf(diode_id, state != 'ok') AS diodes_down FROM (` + QueryDiodeSides.SQL + `)`}

	// QueryDiodeStates is each declared diode side's state per bucket of
	// at least {bucket:UInt32} seconds (and at least the longest declared
	// heartbeat): 1 ok (an ok or up heartbeat in the bucket), 2 degraded
	// (heartbeats, none ok), 0 down (silence: no heartbeat at all).
	QueryDiodeStates = Query{"diode_states", diodeSeries("multiIf(h.heartbeats = 0, 0, h.ok > 0, 1, 2)")}

	// QueryDiodeHeartbeatSeries is each declared diode side's heartbeats per
	// bucket, as QueryDiodeStates buckets them.
	QueryDiodeHeartbeatSeries = Query{"diode_heartbeat_series", diodeSeries("h.heartbeats")}

	// QueryDiodeLag is each declared diode side's highest reported lag
	// (ms) per bucket, as QueryDiodeStates buckets them.
	QueryDiodeLag = Query{"diode_lag", diodeSeries("h.lag_ms")}

	// QueryDiodeSeqGaps is each declared diode side's missed sequence
	// numbers per bucket (jumps in diode_seq between consecutive
	// heartbeats of a side, less one; a reset counts 0), as
	// QueryDiodeStates buckets them.
	QueryDiodeSeqGaps = Query{"diode_seq_gaps", diodeSeries("h.seq_gaps")}

	// QueryDiodeAvailabilityTotal is each diode's availability over the
	// whole window, silence counted as down: [QueryDiodeAvailability]'s
	// up buckets over its buckets, summed over the days.
	QueryDiodeAvailabilityTotal = Query{"diode_availability_total", `
SELECT diode_id, sum(buckets) AS buckets, sum(up_buckets) AS up_buckets,
       if(buckets = 0, 0, round(up_buckets / buckets, 4)) AS availability
FROM (` + QueryDiodeAvailability.SQL + `)
GROUP BY diode_id
ORDER BY diode_id`}

	// QueryDeviceWouldBlockDaily is the would-block events a device
	// ({device:String}, any case) reported per day of the window.
	QueryDeviceWouldBlockDaily = Query{"device_would_block_daily", `
SELECT toDateTime(toStartOfDay(hour), 'UTC') AS day, sum(events) AS would_block
FROM device_flows_hourly
WHERE verdict = 'would_block' AND device = lower({device:String})
  AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY day
ORDER BY day WITH FILL FROM toDateTime(toStartOfDay({from:DateTime64(6, 'UTC')}), 'UTC') TO toDateTime({to:DateTime64(6, 'UTC')}, 'UTC') STEP toIntervalDay(1)`}

	// QueryDeviceObservation is one row on the review of a device
	// ({device:String}): its mode and since when (current model), the
	// first and last day it was heard in the window, the days with logs
	// and the days without ([QueryDeviceDays]).
	QueryDeviceObservation = Query{"device_observation", `
SELECT (SELECT any(mode) FROM model_devices WHERE model_hash = ` + CurrentModel + ` AND lower(device) = lower({device:String})) AS mode,
       (SELECT any(mode_since) FROM model_devices WHERE model_hash = ` + CurrentModel + ` AND lower(device) = lower({device:String})) AS mode_since,
       minIf(day, events > 0) AS first_day, maxIf(day, events > 0) AS last_day,
       countIf(events > 0) AS days_with_logs, countIf(events = 0) AS days_without_logs
FROM (` + QueryDeviceDays.SQL + `)`}

	// QueryZoneComplianceDaily is, per day and zone of the current model
	// (label "<zone> (SL-T n)"), the policy-breaking events touching the
	// zone, from the daily rollup; filtered by {sites}, {zones} and
	// {conduits}.
	QueryZoneComplianceDaily = Query{"zone_compliance_daily", `
SELECT toDateTime(c.day, 'UTC') AS day, concat(c.zone, ' (SL-T ', ifNull(toString(z.sl_t), '-'), ')') AS zone,
       sumIf(c.events, ` + strings.ReplaceAll(PolicyBreaking, "verdict", "c.verdict") + `) AS policy_breaking
FROM compliance_daily AS c
INNER JOIN (SELECT zone, sl_t FROM model_zones WHERE model_hash = ` + CurrentModel + `) AS z ON z.zone = c.zone
WHERE c.day >= toDate({from:DateTime64(6, 'UTC')}) AND c.day < toDate({to:DateTime64(6, 'UTC')}) + 1
  AND ` + In("sites", "c.site") + ` AND ` + In("zones", "c.zone") + ` AND ` + In("conduits", "c.conduit") + `
GROUP BY day, zone
ORDER BY day, zone`}

	// QueryZoneCompliance is, per zone of the current model, its SL-T and
	// Purdue level, and over the window from the daily rollup: the events
	// touching it, allowed, policy-breaking ([PolicyBreaking]), blocked
	// and false blocks. Filtered as QueryZoneComplianceDaily.
	QueryZoneCompliance = Query{"zone_compliance", `
SELECT z.zone AS zone, z.name AS name, z.purdue AS purdue, z.sl_t AS sl_t, sum(c.events) AS events,
       sumIf(c.events, c.verdict = 'allowed') AS allowed,
       sumIf(c.events, ` + strings.ReplaceAll(PolicyBreaking, "verdict", "c.verdict") + `) AS policy_breaking,
       sumIf(c.events, c.verdict = 'blocked') AS blocked, sumIf(c.events, c.verdict = 'false_block') AS false_block
FROM (SELECT zone, name, purdue, sl_t, position FROM model_zones WHERE model_hash = ` + CurrentModel + `) AS z
LEFT JOIN (
    SELECT zone, verdict, events FROM compliance_daily
    WHERE day >= toDate({from:DateTime64(6, 'UTC')}) AND day < toDate({to:DateTime64(6, 'UTC')}) + 1
      AND ` + In("sites", "site") + ` AND ` + In("conduits", "conduit") + `
) AS c ON c.zone = z.zone
WHERE ` + In("zones", "z.zone") + `
GROUP BY zone, name, purdue, sl_t, z.position
ORDER BY z.position`}

	// QueryDeclaredConduitShare is, per day, the cross-zone events (both
	// ends in declared zones) and the share of them that crossed on a
	// declared conduit, from the hourly rollup; filtered by {sites},
	// {zones} and {conduits}.
	QueryDeclaredConduitShare = Query{"declared_conduit_share", `
SELECT toDateTime(toStartOfDay(hour), 'UTC') AS day, sum(events) AS cross_zone,
       round(sumIf(events, conduit != '') / cross_zone, 4) AS on_declared_conduit
FROM flows_hourly
WHERE ` + crossZone + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
  AND ` + flowFilters + `
GROUP BY day
ORDER BY day`}
)

// DashboardQueries lists the dashboards' own named queries.
var DashboardQueries = []Query{QueryOpenFindingCounts, QueryOpenFindings, QueryFindingEvents, QueryPolicyBreakingEvents,
	QueryPolicyBreakingSeries, QueryUnmanagedAddresses, QueryTopViolationSources, QueryZoneMatrix, QueryDiodeSides,
	QueryDiodesDown, QueryDiodeStates, QueryDiodeHeartbeatSeries, QueryDiodeLag, QueryDiodeSeqGaps, QueryDiodeAvailabilityTotal,
	QueryDeviceWouldBlockDaily, QueryDeviceObservation, QueryZoneComplianceDaily, QueryZoneCompliance, QueryDeclaredConduitShare}
