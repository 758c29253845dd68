-- Activities and volunteer calls, and who signed up for them.

CREATE TABLE activities (
    id            INTEGER PRIMARY KEY,
    station_id    INTEGER REFERENCES stations (id),   -- NULL: a city-wide call
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description   TEXT NOT NULL DEFAULT '',
    place         TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    capacity      INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),  -- 0: unlimited
    points        INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    expertise     TEXT,
    status        TEXT NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'published', 'cancelled', 'finished')),
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_by    INTEGER,
    updated_at    TEXT NOT NULL,
    published_at  TEXT,
    cancelled_at  TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX activities_upcoming ON activities (status, starts_at);
CREATE INDEX activities_station ON activities (station_id, starts_at);

CREATE TABLE signups (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id),
    talent_id    INTEGER NOT NULL REFERENCES talents (id),
    status       TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'cancelled')),
    position     INTEGER NOT NULL DEFAULT 0,   -- order on the waitlist
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (activity_id, talent_id)
);
CREATE INDEX signups_activity ON signups (activity_id, status, position);
CREATE INDEX signups_talent ON signups (talent_id, status);

-- Broadcasts may carry buttons (an announcement's "View activity") and go to one language.
ALTER TABLE broadcasts ADD COLUMN buttons TEXT;
