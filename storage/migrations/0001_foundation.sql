-- Stations, talents, roles and invitations: the foundation every later table points at.
-- Times are UTC ISO-8601 text; calendar dates (stay) are YYYY-MM-DD text.

CREATE TABLE stations (
    id          INTEGER PRIMARY KEY,
    name_zh     TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 100),
    name_en     TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    kind        TEXT NOT NULL DEFAULT 'community' CHECK (kind IN ('community', 'professional')),
    timezone    TEXT,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_by  INTEGER,
    updated_at  TEXT
);

CREATE TABLE talents (
    id            INTEGER PRIMARY KEY,
    telegram_id   INTEGER NOT NULL UNIQUE,
    language      TEXT CHECK (language IN ('zh', 'en')),
    name          TEXT,
    phone         TEXT,
    title         TEXT,
    region        TEXT,
    station_id    INTEGER REFERENCES stations (id),
    stay_from     TEXT,
    stay_to       TEXT,
    consent_at    TEXT,
    registered_at TEXT,
    reachable     INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (stay_from IS NULL OR stay_to IS NULL OR stay_from <= stay_to)
);
-- Audiences select registered talents by station and by who is in the city on a date.
CREATE INDEX talents_station ON talents (station_id, stay_to) WHERE registered_at IS NOT NULL;
CREATE INDEX talents_stay ON talents (stay_to, stay_from) WHERE registered_at IS NOT NULL;

-- One row per field of expertise, so "all agronomists" is an index lookup, not a LIKE scan.
CREATE TABLE talent_expertise (
    talent_id INTEGER NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
    field     TEXT NOT NULL,
    PRIMARY KEY (talent_id, field)
) WITHOUT ROWID;
CREATE INDEX talent_expertise_field ON talent_expertise (field, talent_id);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    talent_id   INTEGER NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'partner')),
    granted_by  INTEGER,
    granted_at  TEXT NOT NULL,
    UNIQUE (talent_id, station_id, role)
);
CREATE INDEX roles_station ON roles (station_id, role);

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    token       TEXT NOT NULL UNIQUE,
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'partner')),
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER REFERENCES talents (id),
    used_at     TEXT
);
