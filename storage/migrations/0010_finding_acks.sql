-- Analysts' acknowledgements (`otsiem findings ack` and `close`): one row per
-- action, never updated, so the table is the audit trail of who handled
-- what, when and why. A finding's state is its latest action, until new
-- evidence (a revision last seen after the one the analyst acted on)
-- reopens it; storage.FindingState is that rule in SQL.
CREATE TABLE IF NOT EXISTS finding_acks
(
    finding_id String,
    action     LowCardinality(String),  -- acknowledged or closed
    at         DateTime64(6, 'UTC'),    -- when the analyst acted
    by         String,                  -- who (--by, default the login name)
    note       String,
    revision   UInt64,                  -- the finding's revision the analyst acted on
    last_seen  DateTime64(6, 'UTC')     -- and that revision's last evidence
)
ENGINE = MergeTree
ORDER BY (finding_id, at);

-- The latest action on each finding.
CREATE VIEW IF NOT EXISTS finding_acks_latest AS
SELECT finding_id, argMax(action, at) AS last_action, max(at) AS acted_at, argMax(by, at) AS acted_by,
       argMax(note, at) AS acted_note, argMax(revision, at) AS acted_revision, argMax(last_seen, at) AS acted_last_seen
FROM finding_acks
GROUP BY finding_id;

-- When each finding revision was stored: what a run stored, and when the
-- store caught up.
ALTER TABLE finding_revisions ADD COLUMN IF NOT EXISTS stored_at DateTime64(6, 'UTC') DEFAULT now64(6);
