-- Findings (issue 4). A folded finding is re-published as it grows (count,
-- last_seen): each version is a row, and the latest by last_seen replaces the
-- others (ties: the last inserted). Queries read it with FINAL.
CREATE TABLE IF NOT EXISTS findings
(
    finding_id    String,
    time          DateTime64(6, 'UTC'),
    first_seen    DateTime64(6, 'UTC'),
    last_seen     DateTime64(6, 'UTC'),
    count         UInt64,
    type          LowCardinality(String),
    reason        LowCardinality(String),
    severity      LowCardinality(String),
    site          LowCardinality(String),
    src_ip        IPv6,
    src_zone      LowCardinality(String),
    dst_ip        IPv6,
    dst_zone      LowCardinality(String),
    dst_port      UInt16,
    transport     LowCardinality(String),
    app_protocol  LowCardinality(String),
    function_code Nullable(UInt16),
    conduit       LowCardinality(String),
    device        LowCardinality(String),
    mode          LowCardinality(String),
    rule          LowCardinality(String),
    summary       String,
    event_ids     Array(String)
)
ENGINE = ReplacingMergeTree(last_seen)
PARTITION BY toYYYYMM(first_seen)
ORDER BY finding_id
SETTINGS non_replicated_deduplication_window = 10000;
