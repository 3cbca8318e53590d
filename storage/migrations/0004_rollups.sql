-- Flows per hour: the basis of the monitor-mode review and of baselines.
-- Read with sum(events), min(first_seen), max(last_seen) ... GROUP BY.
CREATE TABLE IF NOT EXISTS flows_hourly
(
    hour         DateTime('UTC'),
    site         LowCardinality(String),
    src_zone     LowCardinality(String),
    src_ip       IPv6,
    dst_zone     LowCardinality(String),
    dst_ip       IPv6,
    conduit      LowCardinality(String),
    transport    LowCardinality(String),
    dst_port     UInt16,
    app_protocol LowCardinality(String),
    function     LowCardinality(String),
    verdict      LowCardinality(String),
    reason       LowCardinality(String),
    events       SimpleAggregateFunction(sum, UInt64),
    bytes        SimpleAggregateFunction(sum, UInt64),
    first_seen   SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen    SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, conduit, verdict, reason, src_zone, dst_zone, src_ip, dst_ip, dst_port, transport, app_protocol, function, site)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_hourly_mv TO flows_hourly AS
SELECT
    toStartOfHour(time) AS hour, site, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port,
    app_protocol, function, verdict, reason,
    count() AS events, sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen
FROM events
WHERE verdict != ''
GROUP BY hour, site, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function, verdict, reason;

-- Per day, zone and conduit: events by verdict and reason, and diode
-- heartbeats (up / all): the basis of compliance reports. An event counts
-- once for each zone it touches.
CREATE TABLE IF NOT EXISTS compliance_daily
(
    day              Date,
    site             LowCardinality(String),
    zone             LowCardinality(String),
    conduit          LowCardinality(String),
    verdict          LowCardinality(String),
    reason           LowCardinality(String),
    events           UInt64,
    diode_heartbeats UInt64,
    diode_up         UInt64
)
ENGINE = SummingMergeTree((events, diode_heartbeats, diode_up))
PARTITION BY toYYYYMM(day)
ORDER BY (day, site, zone, conduit, verdict, reason)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS compliance_daily_mv TO compliance_daily AS
SELECT
    toDate(time) AS day, site, zone, conduit, verdict, reason,
    count() AS events,
    countIf(kind = 'diode') AS diode_heartbeats,
    countIf(kind = 'diode' AND diode_status IN ('ok', 'up')) AS diode_up
FROM events
ARRAY JOIN arrayDistinct([src_zone, dst_zone]) AS zone
GROUP BY day, site, zone, conduit, verdict, reason;
