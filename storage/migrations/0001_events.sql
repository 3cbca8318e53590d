-- Normalized events (issue 3) with the correlator's verdict (issue 4).
-- Addresses are IPv6; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), '::' when unknown.
-- Redelivered events replace each other by event_id (queries needing exact
-- counts of raw events use FINAL); retried batches are dropped on insert by
-- the per-batch deduplication token, which also keeps the rollups exact.
CREATE TABLE IF NOT EXISTS events
(
    event_id      String,
    time          DateTime64(6, 'UTC'),
    received_at   DateTime64(6, 'UTC'),
    site          LowCardinality(String),
    kind          LowCardinality(String),
    vendor        LowCardinality(String),
    product       LowCardinality(String),
    device        LowCardinality(String),
    device_ip     IPv6,
    message_id    LowCardinality(String),
    severity      Nullable(UInt8),
    action        LowCardinality(String),
    src_ip        IPv6,
    src_port      UInt16,
    dst_ip        IPv6,
    dst_port      UInt16,
    transport     LowCardinality(String),
    app_protocol  LowCardinality(String),
    function_code Nullable(UInt16),
    function      LowCardinality(String),
    rule          LowCardinality(String),
    src_interface LowCardinality(String),
    dst_interface LowCardinality(String),
    bytes         UInt64,
    packets       UInt64,
    diode_id      LowCardinality(String),
    diode_status  LowCardinality(String),
    message       String CODEC(ZSTD(3)),
    attrs         Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    parse_error   String,
    src_zone      LowCardinality(String),
    dst_zone      LowCardinality(String),
    conduit       LowCardinality(String),
    verdict       LowCardinality(String),
    reason        LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(time)
ORDER BY (toStartOfHour(time), conduit, verdict, time, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
