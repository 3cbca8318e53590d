-- Input that could not be decoded or was too large, raw bytes kept.
CREATE TABLE IF NOT EXISTS deadletter
(
    id          String,
    received_at DateTime64(6, 'UTC'),
    site        LowCardinality(String),
    source      LowCardinality(String),
    sender      IPv6,
    reason      LowCardinality(String),
    error       String,
    raw         String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(received_at)
ORDER BY (received_at, id)
SETTINGS non_replicated_deduplication_window = 10000;
