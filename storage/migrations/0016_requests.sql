-- Requests from institutions: an activity a station asks experts for, who apply and are chosen.
-- A request is an ordinary activity (so check-in, hours, points, reminders and reports count it
-- unchanged) whose places are given by its coordinators instead of taken by signing up.

-- NULL: an ordinary activity; 'open': taking applications; 'closed': no more applications.
ALTER TABLE activities ADD COLUMN request TEXT CHECK (request IN ('open', 'closed'));

CREATE TABLE applications (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id),
    talent_id    INTEGER NOT NULL REFERENCES talents (id),
    note         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'accepted', 'declined', 'closed')),
    created_at   TEXT NOT NULL,
    decided_by   INTEGER,                  -- Telegram id of the coordinator who decided
    decided_at   TEXT,
    UNIQUE (activity_id, talent_id)
);
CREATE INDEX applications_activity ON applications (activity_id, status, id);
CREATE INDEX applications_talent ON applications (talent_id, status);
