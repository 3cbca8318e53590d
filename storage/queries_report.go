package storage

// The report's named queries (issue 14): the figures of `otsiem report`
// and of the compliance dashboard. Each takes the half-open window
// [{from}, {to}); "cross-zone" means both endpoints in a declared zone and
// the zones differ.

// crossZone is the predicate on a table with src_zone and dst_zone: both
// endpoints in declared zones, and different ones.
const crossZone = "src_zone != '' AND dst_zone != '' AND src_zone != dst_zone"

var (
	// QueryConduitTraffic is the evidence over time per conduit: per
	// bucket of {step:UInt32} seconds (a multiple of 3600; 86400 is a UTC
	// day) and conduit, all events, allowed, policy-breaking
	// ([PolicyBreaking]), blocked and false_block. Cross-zone traffic on no
	// conduit is conduit ''.
	QueryConduitTraffic = Query{"conduit_traffic", `
SELECT toDateTime64(toStartOfInterval(hour, toIntervalSecond({step:UInt32})), 6, 'UTC') AS t, conduit, sum(events) AS total, sumIf(events, verdict = 'allowed') AS allowed,
       sumIf(events, ` + PolicyBreaking + `) AS policy_breaking, sumIf(events, verdict = 'blocked') AS blocked,
       sumIf(events, verdict = 'false_block') AS false_block
FROM flows_hourly
WHERE hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
  AND (conduit != '' OR (` + crossZone + `))
GROUP BY t, conduit
ORDER BY t, conduit`}

	// QueryConduitTrafficFine is [QueryConduitTraffic] read from the events
	// themselves, for windows too short for the hourly rollup: per bucket
	// of {step:UInt32} seconds (any step; 60 is a minute) within [from,
	// to) exactly, the same columns and the same definitions. The report
	// draws its charts of periods under a day with it.
	QueryConduitTrafficFine = Query{"conduit_traffic_fine", `
SELECT toDateTime64(toStartOfInterval(time, toIntervalSecond({step:UInt32})), 6, 'UTC') AS t, conduit, count() AS total, countIf(verdict = 'allowed') AS allowed,
       countIf(` + PolicyBreaking + `) AS policy_breaking, countIf(verdict = 'blocked') AS blocked,
       countIf(verdict = 'false_block') AS false_block
FROM events
WHERE time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')} AND verdict != ''
  AND (conduit != '' OR (` + crossZone + `))
GROUP BY t, conduit
ORDER BY t, conduit`}

	// QueryCrossZoneTests treats every distinct cross-zone flow (source,
	// destination, transport, port, protocol, function) as a test of the
	// design: it passes when all its events were allowed or blocked (the
	// network did what the design says), and fails when any was
	// policy-breaking or a false block. One row: passed and failed flows,
	// and their events.
	QueryCrossZoneTests = Query{"cross_zone_tests", `
SELECT countIf(NOT failed) AS passed, countIf(failed) AS failed_flows, sumIf(events, NOT failed) AS passed_events,
       sumIf(events, failed) AS failed_events
FROM (
  SELECT src_ip, dst_ip, transport, dst_port, app_protocol, function, sum(events) AS events,
         max(NOT (verdict IN ('allowed', 'blocked'))) AS failed
  FROM flows_hourly
  WHERE ` + crossZone + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
  GROUP BY src_ip, dst_ip, transport, dst_port, app_protocol, function)`}

	// QueryPathOutcomes is every cross-zone path's outcome: per source and
	// destination zone, conduit, verdict, reason, transport, port, protocol
	// and function, the events, the distinct sources and destinations,
	// first and last seen, and whether the verdict is policy-breaking
	// ([PolicyBreaking]). The validation results and the IEC 62443-3-3
	// evidence are read from it.
	QueryPathOutcomes = Query{"path_outcomes", `
SELECT src_zone, dst_zone, conduit, verdict, reason, transport, dst_port, app_protocol, function,
       toBool(` + PolicyBreaking + `) AS policy_breaking, sum(events) AS events, uniqExact(src_ip) AS sources,
       uniqExact(dst_ip) AS destinations, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM flows_hourly
WHERE ` + crossZone + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY src_zone, dst_zone, conduit, verdict, reason, transport, dst_port, app_protocol, function
ORDER BY src_zone, dst_zone, conduit, verdict, reason, dst_port, app_protocol, function`}

	// QueryUndeclaredPaths lists traffic on no declared conduit (reason
	// no_conduit) and every contact with an air-gapped zone (reason
	// air_gap), whatever its verdict, per zone pair, service and verdict:
	// the distinct sources and destinations (lowest_src_ip and lowest_dst_ip are the
	// lowest of each), events, first and last seen, and whether the verdict
	// is policy-breaking.
	QueryUndeclaredPaths = Query{"undeclared_paths", `
SELECT reason, src_zone, min(src_ip) AS lowest_src_ip, uniqExact(src_ip) AS sources, dst_zone, min(dst_ip) AS lowest_dst_ip,
       uniqExact(dst_ip) AS destinations, transport, dst_port, app_protocol, verdict,
       toBool(` + PolicyBreaking + `) AS policy_breaking, sum(events) AS events,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM flows_hourly
WHERE reason IN ('no_conduit', 'air_gap') AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY reason, src_zone, dst_zone, transport, dst_port, app_protocol, verdict
ORDER BY reason, first_seen, src_zone, dst_zone, dst_port`}

	// QueryConduitEnforcement is, per conduit, the distinct firewall rules
	// or policies ({firewalls:Array(String)}: the hostnames of the model's
	// firewalls) seen permitting (action allow) and denying (deny, drop,
	// reset), and the function-level events (a DPI function name or code,
	// from any device) with the devices that reported them.
	QueryConduitEnforcement = Query{"conduit_enforcement", `
SELECT conduit,
       uniqExactIf(rule, rule != '' AND action = 'allow' AND device IN {firewalls:Array(String)}) AS allow_rules,
       uniqExactIf(rule, rule != '' AND action IN ('deny', 'drop', 'reset') AND device IN {firewalls:Array(String)}) AS deny_rules,
       countIf(function != '' OR function_code IS NOT NULL) AS function_events,
       arraySort(groupUniqArrayIf(device, function != '' OR function_code IS NOT NULL)) AS function_devices
FROM events
WHERE conduit != '' AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
GROUP BY conduit
ORDER BY conduit`}

	// QueryCrossZoneByDevice counts cross-zone events per reporting device
	// (syslog hostname), with the policy-breaking ones: enforcement
	// coverage is the share reported by a device the model declares as an
	// enforcing firewall.
	QueryCrossZoneByDevice = Query{"cross_zone_by_device", `
SELECT device, count() AS events, countIf(` + PolicyBreaking + `) AS policy_breaking,
       countIf(verdict = 'would_block') AS would_block
FROM events
WHERE ` + crossZone + ` AND time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
GROUP BY device
ORDER BY events DESC, device`}

	// QueryDiodeAvailability is each diode's availability per day, silence
	// counted as down: the day (clipped to the window) is cut into buckets
	// of {bucket:UInt32} seconds, and a bucket is up when a heartbeat
	// reporting ok (or up) arrived in it. Every diode in
	// {diodes:Array(String)} (the model's) gets a row for every day, so a
	// silent day is 0 up; diodes heard but not declared are listed too.
	// availability = up_buckets / buckets.
	QueryDiodeAvailability = Query{"diode_availability", `
WITH {from:DateTime64(6, 'UTC')} AS f, {to:DateTime64(6, 'UTC')} AS t,
  heard AS (
    SELECT toDate(time) AS day, diode_id, count() AS heartbeats, countIf(diode_status IN ('ok', 'up')) AS up,
           uniqExactIf(toStartOfInterval(time, toIntervalSecond({bucket:UInt32})), diode_status IN ('ok', 'up')) AS up_buckets,
           argMax(diode_status, time) AS last_status
    FROM events
    WHERE kind = 'diode' AND diode_id != '' AND time >= f AND time < t
    GROUP BY day, diode_id),
  grid AS (
    SELECT toDate(f) + number AS day, diode_id
    FROM numbers(toUInt64(greatest(0, dateDiff('day', toDate(f), toDate(t - toIntervalMicrosecond(1))) + 1)))
    ARRAY JOIN arrayDistinct(arrayConcat({diodes:Array(String)}, (SELECT groupUniqArray(diode_id) FROM heard))) AS diode_id)
SELECT grid.day AS day, grid.diode_id AS diode_id,
       toUInt64(intDiv(greatest(0, dateDiff('second', greatest(toDateTime64(grid.day, 6, 'UTC'), f),
           least(toDateTime64(grid.day + 1, 6, 'UTC'), t))) + {bucket:UInt32} - 1, {bucket:UInt32})) AS buckets,
       heard.up_buckets AS up_buckets, if(buckets = 0, 0, round(least(up_buckets / buckets, 1), 4)) AS availability,
       heard.heartbeats AS heartbeats, heard.up AS up, heard.last_status AS last_status
FROM grid LEFT JOIN heard ON heard.day = grid.day AND heard.diode_id = grid.diode_id
ORDER BY diode_id, day
SETTINGS join_use_nulls = 0`}

	// QueryDeviceCoverage is log-source coverage and clock skew per
	// reporting device (syslog hostname; '' when a line named none): its
	// events, first and last event (the days with logs are
	// [QueryDeviceDays]'s), the longest
	// silence within the window at minute resolution (seconds, and when it
	// began), and the receive time minus the device's event time in
	// milliseconds (median, min, max): the device clock's skew plus the
	// transport delay.
	QueryDeviceCoverage = Query{"device_coverage", `
SELECT device, events, first, last, arrayMax(gaps) AS longest_silence_s,
       toDateTime(starts[indexOf(gaps, longest_silence_s)], 'UTC') AS silence_from, skew_ms_p50, skew_ms_min, skew_ms_max
FROM (
  SELECT device, count() AS events, min(time) AS first, max(time) AS last,
         arraySort(groupUniqArray(toInt64(toUnixTimestamp(toStartOfMinute(time))))) AS minutes,
         arrayConcat([toInt64(toUnixTimestamp({from:DateTime64(6, 'UTC')}))], arrayMap(m -> m + 60, minutes)) AS starts,
         arrayMap((s, e) -> greatest(e - s, 0), starts,
                  arrayConcat(minutes, [toInt64(toUnixTimestamp({to:DateTime64(6, 'UTC')}))])) AS gaps,
         toInt64(quantileExact(0.5)(dateDiff('millisecond', time, received_at))) AS skew_ms_p50,
         min(dateDiff('millisecond', time, received_at)) AS skew_ms_min,
         max(dateDiff('millisecond', time, received_at)) AS skew_ms_max
  FROM events
  WHERE time >= {from:DateTime64(6, 'UTC')} AND time < {to:DateTime64(6, 'UTC')}
  GROUP BY device)
ORDER BY device`}

	// QueryOpenFindingsByAge counts the unresolved findings first seen
	// before the end of the window ({to}): those whose analyst state
	// ([FindingState], as it stands now: acknowledgements carry no history
	// of their own here) is open or acknowledged, per severity, state and
	// age (from first seen to {to}): under a day, 1-7 days, 7-30 days, over
	// 30 days; with their events and the oldest first seen.
	QueryOpenFindingsByAge = Query{"open_findings_by_age", `
SELECT severity, state, multiIf(age_s < 86400, '<1d', age_s < 7 * 86400, '1-7d', age_s < 30 * 86400, '7-30d', '>30d') AS age,
       count() AS findings, sum(events) AS events, min(first) AS oldest
FROM (
  SELECT f.severity AS severity, ` + FindingState + ` AS state, f.count AS events, f.first_seen AS first,
         dateDiff('second', f.first_seen, {to:DateTime64(6, 'UTC')}) AS age_s
  FROM ` + findingsFrom + `
  WHERE f.first_seen < {to:DateTime64(6, 'UTC')})
WHERE state IN ('open', 'acknowledged')
GROUP BY severity, state, age
ORDER BY indexOf(['critical', 'high', 'medium', 'low', 'info'], severity), indexOf(['open', 'acknowledged'], state),
         indexOf(['<1d', '1-7d', '7-30d', '>30d'], age)`}
)
