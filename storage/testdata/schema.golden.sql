-- compliance_daily
CREATE TABLE compliance_daily (`day` Date, `site` LowCardinality(String), `zone` LowCardinality(String), `conduit` LowCardinality(String), `verdict` LowCardinality(String), `reason` LowCardinality(String), `events` UInt64, `diode_heartbeats` UInt64, `diode_up` UInt64) ENGINE = SummingMergeTree((events, diode_heartbeats, diode_up)) PARTITION BY toYYYYMM(day) ORDER BY (day, site, zone, conduit, verdict, reason) SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;

-- compliance_daily_mv
CREATE MATERIALIZED VIEW compliance_daily_mv TO compliance_daily (`day` Date, `site` LowCardinality(String), `zone` String, `conduit` LowCardinality(String), `verdict` LowCardinality(String), `reason` LowCardinality(String), `events` UInt64, `diode_heartbeats` UInt64, `diode_up` UInt64) AS SELECT toDate(time) AS day, site, zone, conduit, verdict, reason, count() AS events, countIf(kind = 'diode') AS diode_heartbeats, countIf((kind = 'diode') AND (diode_status IN ('ok', 'up'))) AS diode_up FROM events ARRAY JOIN arrayDistinct([src_zone, dst_zone]) AS zone GROUP BY day, site, zone, conduit, verdict, reason;

-- deadletter
CREATE TABLE deadletter (`id` String, `received_at` DateTime64(6, 'UTC'), `site` LowCardinality(String), `source` LowCardinality(String), `sender` IPv6, `reason` LowCardinality(String), `error` String, `raw` String CODEC(ZSTD(3))) ENGINE = ReplacingMergeTree PARTITION BY toDate(received_at) ORDER BY (received_at, id) SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;

-- events
CREATE TABLE events (`event_id` String, `time` DateTime64(6, 'UTC'), `received_at` DateTime64(6, 'UTC'), `site` String, `kind` String, `vendor` String, `product` String, `device` String, `device_ip` IPv6, `message_id` String, `severity` Nullable(UInt8), `action` String, `src_ip` IPv6, `src_port` UInt16, `dst_ip` IPv6, `dst_port` UInt16, `transport` String, `app_protocol` String, `function_code` Nullable(Int32), `function` String, `rule` String, `src_interface` String, `dst_interface` String, `src_user` String, `dst_user` String, `bytes` UInt64, `packets` UInt64, `signature` String, `signature_id` String, `diode_id` String, `diode_side` String, `diode_status` String, `diode_seq` Nullable(UInt64), `diode_lag_ms` Nullable(UInt64), `diode_bps` Nullable(UInt64), `message` String CODEC(ZSTD(3)), `attrs` Map(String, String) CODEC(ZSTD(3)), `parse_error` String, `src_zone` String, `dst_zone` String, `conduit` LowCardinality(String), `verdict` LowCardinality(String), `reason` String) ENGINE = ReplacingMergeTree PARTITION BY toDate(time) ORDER BY (toStartOfHour(time), conduit, verdict, time, event_id) SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;

-- finding_revisions
CREATE TABLE finding_revisions (`finding_id` String, `revision` UInt64, `time` DateTime64(6, 'UTC'), `first_seen` DateTime64(6, 'UTC'), `last_seen` DateTime64(6, 'UTC'), `count` UInt64, `type` LowCardinality(String), `reason` LowCardinality(String), `severity` LowCardinality(String), `status` LowCardinality(String), `site` LowCardinality(String), `src_ip` IPv6, `src_zone` LowCardinality(String), `src_asset` LowCardinality(String), `dst_ip` IPv6, `dst_zone` LowCardinality(String), `dst_asset` LowCardinality(String), `dst_port` Nullable(UInt16), `transport` LowCardinality(String), `app_protocol` LowCardinality(String), `function_code` Nullable(Int32), `conduit` LowCardinality(String), `device` LowCardinality(String), `mode` LowCardinality(String), `rule` LowCardinality(String), `diode_id` LowCardinality(String), `summary` String, `event_ids` Array(String), `attrs` Map(LowCardinality(String), String)) ENGINE = ReplacingMergeTree(revision) PARTITION BY toYYYYMM(first_seen) ORDER BY finding_id SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;

-- findings
CREATE VIEW findings (`finding_id` String, `revision` UInt64, `time` DateTime64(6, 'UTC'), `first_seen` DateTime64(6, 'UTC'), `last_seen` DateTime64(6, 'UTC'), `count` UInt64, `type` LowCardinality(String), `reason` LowCardinality(String), `severity` LowCardinality(String), `status` LowCardinality(String), `site` LowCardinality(String), `src_ip` IPv6, `src_zone` LowCardinality(String), `src_asset` LowCardinality(String), `dst_ip` IPv6, `dst_zone` LowCardinality(String), `dst_asset` LowCardinality(String), `dst_port` Nullable(UInt16), `transport` LowCardinality(String), `app_protocol` LowCardinality(String), `function_code` Nullable(Int32), `conduit` LowCardinality(String), `device` LowCardinality(String), `mode` LowCardinality(String), `rule` LowCardinality(String), `diode_id` LowCardinality(String), `summary` String, `event_ids` Array(String), `attrs` Map(LowCardinality(String), String)) AS SELECT * FROM finding_revisions FINAL;

-- flows_hourly
CREATE TABLE flows_hourly (`hour` DateTime('UTC'), `site` LowCardinality(String), `src_zone` LowCardinality(String), `src_ip` IPv6, `dst_zone` LowCardinality(String), `dst_ip` IPv6, `conduit` LowCardinality(String), `transport` LowCardinality(String), `dst_port` UInt16, `app_protocol` LowCardinality(String), `function` LowCardinality(String), `verdict` LowCardinality(String), `reason` LowCardinality(String), `events` SimpleAggregateFunction(sum, UInt64), `bytes` SimpleAggregateFunction(sum, UInt64), `first_seen` SimpleAggregateFunction(min, DateTime64(6, 'UTC')), `last_seen` SimpleAggregateFunction(max, DateTime64(6, 'UTC'))) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(hour) ORDER BY (hour, conduit, verdict, reason, src_zone, dst_zone, src_ip, dst_ip, dst_port, transport, app_protocol, function, site) SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;

-- flows_hourly_mv
CREATE MATERIALIZED VIEW flows_hourly_mv TO flows_hourly (`hour` DateTime('UTC'), `site` LowCardinality(String), `src_zone` LowCardinality(String), `src_ip` IPv6, `dst_zone` LowCardinality(String), `dst_ip` IPv6, `conduit` LowCardinality(String), `transport` LowCardinality(String), `dst_port` UInt16, `app_protocol` LowCardinality(String), `function` LowCardinality(String), `verdict` LowCardinality(String), `reason` LowCardinality(String), `events` UInt64, `bytes` UInt64, `first_seen` DateTime64(6, 'UTC'), `last_seen` DateTime64(6, 'UTC')) AS SELECT toStartOfHour(time) AS hour, site, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function, verdict, reason, count() AS events, sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen FROM events WHERE verdict != '' GROUP BY hour, site, src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function, verdict, reason;

-- model_assets
CREATE TABLE model_assets (`model_hash` String, `asset` String, `zone` String, `addresses` Array(IPv6), `role` String, `vendor` String, `product` String) ENGINE = ReplacingMergeTree ORDER BY (model_hash, asset) SETTINGS index_granularity = 8192;

-- model_conduits
CREATE TABLE model_conduits (`model_hash` String, `conduit` String, `name` String, `position` UInt16, `zones` Array(String), `sl` Nullable(UInt8), `controls` Array(String), `inspected` Bool) ENGINE = ReplacingMergeTree ORDER BY (model_hash, conduit) SETTINGS index_granularity = 8192;

-- model_devices
CREATE TABLE model_devices (`model_hash` String, `device` String, `role` String, `vendor` String, `product` String, `decoder` String, `mode` String, `mode_since` Nullable(DateTime('UTC')), `addresses` Array(IPv6), `conduits` Array(String), `zones` Array(String)) ENGINE = ReplacingMergeTree ORDER BY (model_hash, device) SETTINGS index_granularity = 8192;

-- model_diodes
CREATE TABLE model_diodes (`model_hash` String, `diode` String, `name` String, `vendor` String, `tx` IPv6, `rx` IPv6, `tx_zone` String, `rx_zone` String, `heartbeat_s` UInt32, `conduit` String, `rule` String) ENGINE = ReplacingMergeTree ORDER BY (model_hash, diode) SETTINGS index_granularity = 8192;

-- model_rules
CREATE TABLE model_rules (`model_hash` String, `rule` String, `conduit` String, `position` UInt16, `protocol` String, `app_protocol` String, `transport` String, `ports` Array(String), `from_zone` String, `to_zone` String, `functions` String, `diode` Bool, `direction` String, `security_mode` String) ENGINE = ReplacingMergeTree ORDER BY (model_hash, rule) SETTINGS index_granularity = 8192;

-- model_versions
CREATE TABLE model_versions (`model_hash` String, `loaded_at` DateTime64(6, 'UTC'), `site` LowCardinality(String), `source` String, `facility` String, `standard` String, `assessment_date` String, `zones` UInt32, `conduits` UInt32, `rules` UInt32, `assets` UInt32, `devices` UInt32, `diodes` UInt32) ENGINE = ReplacingMergeTree ORDER BY (site, loaded_at, model_hash) SETTINGS index_granularity = 8192;

-- model_zones
CREATE TABLE model_zones (`model_hash` String, `zone` String, `name` String, `position` UInt16, `purdue` String, `purdue_lo` Nullable(Float32), `purdue_hi` Nullable(Float32), `sl_t` Nullable(UInt8), `criticality` String, `safety` Bool, `air_gapped` Bool, `networks` Array(String), `conduits` Array(String), `requirements` Array(String)) ENGINE = ReplacingMergeTree ORDER BY (model_hash, zone) SETTINGS index_granularity = 8192;

-- schema_migrations
CREATE TABLE schema_migrations (`version` UInt32, `name` String, `checksum` String, `applied_at` DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY version SETTINGS index_granularity = 8192;

