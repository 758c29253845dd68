-- Running a whole season: a broadcast keeps its totals once its delivery rows are deleted, and
-- the bot notes the last update it handled where `talentbot status` can read it.

-- Filled by the nightly clean-up right before it deletes a finished broadcast's deliveries.
ALTER TABLE broadcasts ADD COLUMN sent_count INTEGER;
ALTER TABLE broadcasts ADD COLUMN unreachable_count INTEGER;
ALTER TABLE broadcasts ADD COLUMN failed_count INTEGER;
ALTER TABLE broadcasts ADD COLUMN cancelled_count INTEGER;
ALTER TABLE broadcasts ADD COLUMN purged_at TEXT;
-- The clean-up looks for finished broadcasts whose deliveries are still there.
CREATE INDEX broadcasts_purgeable ON broadcasts (finished_at)
    WHERE status != 'running' AND purged_at IS NULL;

-- A few named values the running bot writes now and then (never once per update).
CREATE TABLE runtime (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
