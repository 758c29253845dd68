-- Reports for the talent office: funding rates, the monthly reports sent, service certificates,
-- and the indexes that let a season's report for the whole city read its figures in one pass.

-- What a station is paid, per kind of station: an amount per engaged talent and per service
-- hour, in minor units (fen), so that sums stay exact. Zero until an admin sets them.
CREATE TABLE funding_rates (
    station_kind      TEXT PRIMARY KEY CHECK (station_kind IN ('community', 'professional')),
    per_talent_minor  INTEGER NOT NULL DEFAULT 0 CHECK (per_talent_minor >= 0),
    per_hour_minor    INTEGER NOT NULL DEFAULT 0 CHECK (per_hour_minor >= 0),
    currency          TEXT NOT NULL DEFAULT 'CNY' CHECK (length(currency) = 3),
    updated_by        INTEGER,
    updated_at        TEXT
);
INSERT INTO funding_rates (station_kind) VALUES ('community'), ('professional');

-- One row per monthly report and recipient: claimed before it is sent, settled after, so a
-- restart sends nobody the same month twice and a bot that was down sends it at start.
CREATE TABLE report_deliveries (
    id           INTEGER PRIMARY KEY,
    month        TEXT NOT NULL,                 -- 'YYYY-MM', the month reported on
    telegram_id  INTEGER NOT NULL,
    scope        TEXT NOT NULL,                 -- 'all', or 'station:<id>'
    status       TEXT NOT NULL DEFAULT 'sending'
                 CHECK (status IN ('sending', 'sent', 'unreachable', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    UNIQUE (month, telegram_id, scope)
);

-- A service certificate as issued: what it certified, so a scan of its code can say whether a
-- paper is genuine. It holds no personal data; the name comes from the talent's row.
CREATE TABLE certificates (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    talent_id    INTEGER NOT NULL REFERENCES talents (id),
    station_id   INTEGER REFERENCES stations (id),
    period_from  TEXT NOT NULL,                 -- calendar dates, YYYY-MM-DD, inclusive
    period_to    TEXT NOT NULL,
    activities   INTEGER NOT NULL,
    hours_centi  INTEGER NOT NULL,              -- hundredths of an hour, exact
    issued_at    TEXT NOT NULL
);
CREATE INDEX certificates_talent ON certificates (talent_id, id);

-- A period's attendance is one range of this index, which carries what the figures need.
CREATE INDEX attendance_time ON attendance (checked_in_at, activity_id, talent_id, walk_in, hours);
-- Balances at a date and a period's movements per talent, read from the index alone, in talent
-- order, so they can be grouped without sorting.
CREATE INDEX ledger_talent_time ON ledger (talent_id, created_at, kind, delta);
-- Who registered, when, and when they are in the city, per station, without reading the rows.
CREATE INDEX talents_registered ON talents (station_id, registered_at, stay_from, stay_to)
    WHERE registered_at IS NOT NULL;
