-- Align the schema with the stage contracts (package ingest/event): the
-- event fields the first schema lacked, and findings keyed by revision.
--
-- The events table's string columns are plain String (LZ4-compressed, which
-- suits repetitive values well) rather than LowCardinality, except the sort
-- keys conduit and verdict: clickhouse-go builds LowCardinality
-- dictionaries row by row through interfaces, which cost 2.7 µs per event
-- for 22 columns, more than the engine's whole insert. Dashboards group on
-- the rollups, whose columns stay LowCardinality.

ALTER TABLE events
    ADD COLUMN IF NOT EXISTS src_user String AFTER dst_interface,
    ADD COLUMN IF NOT EXISTS dst_user String AFTER src_user,
    ADD COLUMN IF NOT EXISTS signature String AFTER packets,
    ADD COLUMN IF NOT EXISTS signature_id String AFTER signature,
    ADD COLUMN IF NOT EXISTS diode_side String AFTER diode_id,
    ADD COLUMN IF NOT EXISTS diode_seq Nullable(UInt64) AFTER diode_status,
    ADD COLUMN IF NOT EXISTS diode_lag_ms Nullable(UInt64) AFTER diode_seq,
    ADD COLUMN IF NOT EXISTS diode_bps Nullable(UInt64) AFTER diode_lag_ms,
    MODIFY COLUMN function_code Nullable(Int32),
    MODIFY COLUMN attrs Map(String, String) CODEC(ZSTD(3)),
    MODIFY COLUMN site String,
    MODIFY COLUMN kind String,
    MODIFY COLUMN vendor String,
    MODIFY COLUMN product String,
    MODIFY COLUMN device String,
    MODIFY COLUMN message_id String,
    MODIFY COLUMN action String,
    MODIFY COLUMN transport String,
    MODIFY COLUMN app_protocol String,
    MODIFY COLUMN function String,
    MODIFY COLUMN rule String,
    MODIFY COLUMN src_interface String,
    MODIFY COLUMN dst_interface String,
    MODIFY COLUMN diode_id String,
    MODIFY COLUMN diode_status String,
    MODIFY COLUMN src_zone String,
    MODIFY COLUMN dst_zone String,
    MODIFY COLUMN reason String;

-- Every published revision of a finding is a row; the highest revision of
-- a finding_id is its current state (ReplacingMergeTree(revision), read
-- with FINAL, or through the view findings below). A redelivered revision
-- replaces itself.
CREATE TABLE IF NOT EXISTS finding_revisions
(
    finding_id    String,
    revision      UInt64,
    time          DateTime64(6, 'UTC'),
    first_seen    DateTime64(6, 'UTC'),
    last_seen     DateTime64(6, 'UTC'),
    count         UInt64,
    type          LowCardinality(String),
    reason        LowCardinality(String),
    severity      LowCardinality(String),
    status        LowCardinality(String),
    site          LowCardinality(String),
    src_ip        IPv6,
    src_zone      LowCardinality(String),
    src_asset     LowCardinality(String),
    dst_ip        IPv6,
    dst_zone      LowCardinality(String),
    dst_asset     LowCardinality(String),
    dst_port      Nullable(UInt16),
    transport     LowCardinality(String),
    app_protocol  LowCardinality(String),
    function_code Nullable(Int32),
    conduit       LowCardinality(String),
    device        LowCardinality(String),
    mode          LowCardinality(String),
    rule          LowCardinality(String),
    diode_id      LowCardinality(String),
    summary       String,
    event_ids     Array(String),
    attrs         Map(LowCardinality(String), String)
)
ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(first_seen)
ORDER BY finding_id
SETTINGS non_replicated_deduplication_window = 10000;

-- Move the first schema's findings over (their count stands in for the
-- revision). The CREATE makes the statements re-runnable after an
-- interruption: once findings is the view below, it is a no-op and the
-- copy re-inserts rows that replace themselves.
CREATE TABLE IF NOT EXISTS findings
(
    finding_id String, time DateTime64(6, 'UTC'), first_seen DateTime64(6, 'UTC'), last_seen DateTime64(6, 'UTC'),
    count UInt64, type String, reason String, severity String, site String, src_ip IPv6, src_zone String,
    dst_ip IPv6, dst_zone String, dst_port UInt16, transport String, app_protocol String,
    function_code Nullable(UInt16), conduit String, device String, mode String, rule String, summary String,
    event_ids Array(String)
)
ENGINE = ReplacingMergeTree(last_seen)
ORDER BY finding_id;

INSERT INTO finding_revisions (finding_id, revision, time, first_seen, last_seen, count, type, reason, severity,
    site, src_ip, src_zone, dst_ip, dst_zone, dst_port, transport, app_protocol, function_code, conduit, device,
    mode, rule, summary, event_ids)
SELECT finding_id, count, time, first_seen, last_seen, count, type, reason, severity, site, src_ip, src_zone,
    dst_ip, dst_zone, nullIf(dst_port, 0), transport, app_protocol, function_code, conduit, device, mode, rule,
    summary, event_ids
FROM findings;

DROP TABLE IF EXISTS findings;

-- The current state of every finding.
CREATE VIEW IF NOT EXISTS findings AS SELECT * FROM finding_revisions FINAL;
