-- finding_revisions keeps every published revision of every finding.
--
-- It was a ReplacingMergeTree(revision) ordered by finding_id, so merges
-- kept only the latest revision of each finding, while finding_acks names
-- the revision an analyst acted on and the README promises the history.
-- ClickHouse cannot change a sorting key to an existing column in place:
-- the table is rebuilt ordered by (finding_id, revision) — a redelivered
-- revision is still one row — its rows copied, and the findings view picks
-- each finding's latest revision itself.
--
-- Every statement can run again: a migration interrupted midway completes
-- on the next start (finding_revisions_v12 is the old table between the
-- rename and its drop; its rows are then in finding_revisions already).
DROP TABLE IF EXISTS finding_revisions_v12;

DROP VIEW IF EXISTS findings;

CREATE TABLE IF NOT EXISTS finding_revisions_v13 AS finding_revisions
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(first_seen)
ORDER BY (finding_id, revision)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO finding_revisions_v13 SELECT * FROM finding_revisions;

RENAME TABLE finding_revisions TO finding_revisions_v12, finding_revisions_v13 TO finding_revisions;

DROP TABLE IF EXISTS finding_revisions_v12;

-- The current state of every finding: its latest revision.
CREATE VIEW IF NOT EXISTS findings AS
SELECT * EXCEPT (stored_at) FROM finding_revisions
ORDER BY finding_id, revision DESC
LIMIT 1 BY finding_id;
