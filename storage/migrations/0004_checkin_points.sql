-- Check-in by QR, service hours and the points ledger.

ALTER TABLE activities ADD COLUMN checkin_token TEXT;
CREATE UNIQUE INDEX activities_checkin_token ON activities (checkin_token)
    WHERE checkin_token IS NOT NULL;

CREATE TABLE attendance (
    id             INTEGER PRIMARY KEY,
    activity_id    INTEGER NOT NULL REFERENCES activities (id),
    talent_id      INTEGER NOT NULL REFERENCES talents (id),
    checked_in_at  TEXT NOT NULL,
    method         TEXT NOT NULL CHECK (method IN ('scan', 'manual')),
    by_whom        INTEGER,                  -- Telegram id of who checked them in (manual)
    walk_in        INTEGER NOT NULL DEFAULT 0,
    hours          REAL NOT NULL CHECK (hours >= 0),
    UNIQUE (activity_id, talent_id)
);
CREATE INDEX attendance_talent ON attendance (talent_id, checked_in_at);

-- Append-only: the latest correction of an attendance gives its hours; the original stays.
CREATE TABLE hour_corrections (
    id             INTEGER PRIMARY KEY,
    attendance_id  INTEGER NOT NULL REFERENCES attendance (id),
    hours          REAL NOT NULL CHECK (hours >= 0),
    reason         TEXT NOT NULL,
    by_whom        INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX hour_corrections_attendance ON hour_corrections (attendance_id, id);

-- Append-only: a balance is the sum of a talent's rows.
CREATE TABLE ledger (
    id               INTEGER PRIMARY KEY,
    talent_id        INTEGER NOT NULL REFERENCES talents (id),
    delta            INTEGER NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'refund', 'adjust')),
    reason           TEXT,
    ref              TEXT,
    by_whom          INTEGER,
    created_at       TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_talent ON ledger (talent_id, id, delta);

-- A check-in's points are credited by the same statement that records the attendance: one
-- statement is one transaction, which is what keeps a rush at the door fast and exact.
CREATE TRIGGER attendance_credit AFTER INSERT ON attendance
WHEN (SELECT points FROM activities WHERE id = NEW.activity_id) > 0
BEGIN
    INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at, idempotency_key)
    VALUES (
        NEW.talent_id,
        (SELECT points FROM activities WHERE id = NEW.activity_id),
        'earn', NULL, 'activity:' || NEW.activity_id, NEW.by_whom, NEW.checked_in_at,
        'checkin:' || NEW.activity_id || ':' || NEW.talent_id
    )
    ON CONFLICT (idempotency_key) DO NOTHING;
END;
