-- Rollups per reporting device: what one firewall or sensor sent, day by
-- day and flow by flow. The monitor-mode review (`otsiem review`: days
-- without logs, what enforcing a device would break or stop), rule
-- proposals from a baseline (`otsiem propose`) and log-source coverage read
-- them. `device` is the reporting hostname as the syslog header gives it,
-- lowercased (hostnames are case-insensitive); '' when the line named none.
--
-- Each table is filled from the events already stored when it is created
-- (only while it is still empty, so an interrupted migration that re-runs
-- does not count twice), then by its materialized view.

-- Lines per day and device, of every kind (a device that only reports its
-- own health was still heard from).
CREATE TABLE IF NOT EXISTS device_daily
(
    day        Date,
    site       LowCardinality(String),
    device     LowCardinality(String),
    events     SimpleAggregateFunction(sum, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen  SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (device, day, site)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO device_daily
SELECT toDate(time) AS day, site, lower(device) AS device, count() AS events, min(time) AS first_seen, max(time) AS last_seen
FROM events FINAL
WHERE (SELECT count() FROM device_daily) = 0
GROUP BY day, site, device;

CREATE MATERIALIZED VIEW IF NOT EXISTS device_daily_mv TO device_daily AS
SELECT toDate(time) AS day, site, lower(device) AS device, count() AS events, min(time) AS first_seen, max(time) AS last_seen
FROM events
GROUP BY day, site, device;

-- Judged flows per hour and reporting device, with what the device did
-- (action), the rule it names and the function code (-1 when unknown):
-- flows_hourly by device. Read with sum(events), min(first_seen),
-- max(last_seen) ... GROUP BY.
CREATE TABLE IF NOT EXISTS device_flows_hourly
(
    hour          DateTime('UTC'),
    site          LowCardinality(String),
    device        LowCardinality(String),
    action        LowCardinality(String),
    rule          LowCardinality(String),
    src_zone      LowCardinality(String),
    src_ip        IPv6,
    dst_zone      LowCardinality(String),
    dst_ip        IPv6,
    conduit       LowCardinality(String),
    transport     LowCardinality(String),
    dst_port      UInt16,
    app_protocol  LowCardinality(String),
    function_code Int32,
    function      LowCardinality(String),
    verdict       LowCardinality(String),
    reason        LowCardinality(String),
    events        SimpleAggregateFunction(sum, UInt64),
    bytes         SimpleAggregateFunction(sum, UInt64),
    first_seen    SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen     SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (device, hour, verdict, reason, conduit, src_zone, dst_zone, src_ip, dst_ip, dst_port, transport, app_protocol,
          function_code, function, action, rule, site)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO device_flows_hourly
SELECT toStartOfHour(time) AS hour, site, lower(device) AS device, action, rule, src_zone, src_ip, dst_zone, dst_ip, conduit,
       transport, dst_port, app_protocol, ifNull(function_code, -1) AS function_code, function, verdict, reason,
       count() AS events, sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen
FROM events FINAL
WHERE verdict != '' AND (SELECT count() FROM device_flows_hourly) = 0
GROUP BY hour, site, device, action, rule, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol,
         function_code, function, verdict, reason;

CREATE MATERIALIZED VIEW IF NOT EXISTS device_flows_hourly_mv TO device_flows_hourly AS
SELECT toStartOfHour(time) AS hour, site, lower(device) AS device, action, rule, src_zone, src_ip, dst_zone, dst_ip, conduit,
       transport, dst_port, app_protocol, ifNull(function_code, -1) AS function_code, function, verdict, reason,
       count() AS events, sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen
FROM events
WHERE verdict != ''
GROUP BY hour, site, device, action, rule, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol,
         function_code, function, verdict, reason;
