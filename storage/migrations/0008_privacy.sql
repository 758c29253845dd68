-- Privacy: a talent may delete their account; roles can be taken away and invitations withdrawn.
--
-- A deleted talent keeps their row (and its id), so that attendance, hours and the ledger keep
-- pointing at it and every station's totals stay as they were; what goes is every personal
-- column, the link to their Telegram account included. So telegram_id must allow NULL, which
-- SQLite can only do by rebuilding the table: create the new one, copy, drop the old, rename
-- the new (its documented twelve-step procedure). The migration runner applies every migration
-- with foreign keys off, as that procedure needs (with them on, dropping the old table would
-- first delete its rows and cascade into expertise, roles and opt-outs), and checks every
-- foreign key before it commits. The tables that point at talents refer to it by name, so
-- they point at the new table once it carries the name; no trigger is defined on talents.

CREATE TABLE talents_new (
    id            INTEGER PRIMARY KEY,
    telegram_id   INTEGER UNIQUE,                     -- NULL once the account is deleted
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
    deleted_at    TEXT,
    CHECK (stay_from IS NULL OR stay_to IS NULL OR stay_from <= stay_to),
    -- A live row belongs to exactly one Telegram account; a deleted row to none.
    CHECK ((deleted_at IS NULL) = (telegram_id IS NOT NULL)),
    -- A deleted row never counts as registered, so no audience or count can include it.
    CHECK (deleted_at IS NULL OR (registered_at IS NULL AND name IS NULL AND phone IS NULL))
);
INSERT INTO talents_new (id, telegram_id, language, name, phone, title, region, station_id,
                         stay_from, stay_to, consent_at, registered_at, reachable, created_at,
                         updated_at)
SELECT id, telegram_id, language, name, phone, title, region, station_id, stay_from, stay_to,
       consent_at, registered_at, reachable, created_at, updated_at
FROM talents;

-- With legacy renaming, the rename below leaves the schema's other references alone (they
-- already say "talents"); the default mode would also re-check every trigger and view while
-- no table of that name exists.
PRAGMA legacy_alter_table = ON;
DROP TABLE talents;
ALTER TABLE talents_new RENAME TO talents;
PRAGMA legacy_alter_table = OFF;

-- The indexes of 0001, as they were.
CREATE INDEX talents_station ON talents (station_id, stay_to) WHERE registered_at IS NOT NULL;
CREATE INDEX talents_stay ON talents (stay_to, stay_from) WHERE registered_at IS NOT NULL;

-- A role taken away (by an admin, or because its holder deleted their account) is moved here
-- from roles, with who took it and when; roles holds only what is in force.
CREATE TABLE role_revocations (
    id          INTEGER PRIMARY KEY,
    talent_id   INTEGER NOT NULL REFERENCES talents (id),
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    role        TEXT NOT NULL CHECK (role IN ('coordinator', 'partner')),
    granted_by  INTEGER,
    granted_at  TEXT NOT NULL,
    revoked_by  INTEGER,          -- Telegram id of the admin; NULL when the account was deleted
    revoked_at  TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('revoked', 'account_deleted'))
);
CREATE INDEX role_revocations_station ON role_revocations (station_id, revoked_at);
CREATE INDEX role_revocations_talent ON role_revocations (talent_id);

-- An invitation not used yet can be withdrawn; its link then says so.
ALTER TABLE invitations ADD COLUMN withdrawn_by INTEGER;
ALTER TABLE invitations ADD COLUMN withdrawn_at TEXT;
CREATE INDEX invitations_open ON invitations (station_id, expires_at)
    WHERE used_at IS NULL AND withdrawn_at IS NULL;
