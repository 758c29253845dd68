-- Rewards bought with points, and the vouchers that prove a purchase at the partner's desk.

CREATE TABLE rewards (
    id               INTEGER PRIMARY KEY,
    name_zh          TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 100),
    name_en          TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    description_zh   TEXT NOT NULL DEFAULT '',
    description_en   TEXT NOT NULL DEFAULT '',
    station_id       INTEGER NOT NULL REFERENCES stations (id),  -- the partner's station
    cost             INTEGER NOT NULL CHECK (cost > 0),
    stock            INTEGER NOT NULL CHECK (stock >= 0),
    per_talent_limit INTEGER NOT NULL DEFAULT 0 CHECK (per_talent_limit >= 0),  -- 0: no limit
    valid_days       INTEGER NOT NULL CHECK (valid_days > 0),
    active           INTEGER NOT NULL DEFAULT 1,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_by       INTEGER,
    updated_at       TEXT
);
CREATE INDEX rewards_active ON rewards (active, cost);

CREATE TABLE vouchers (
    id            INTEGER PRIMARY KEY,
    reward_id     INTEGER NOT NULL REFERENCES rewards (id),
    talent_id     INTEGER NOT NULL REFERENCES talents (id),
    code          TEXT NOT NULL UNIQUE,
    cost          INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'valid'
                  CHECK (status IN ('valid', 'used', 'expired', 'cancelled')),
    created_at    TEXT NOT NULL,
    valid_until   TEXT NOT NULL,
    used_at       TEXT,
    used_by       INTEGER,
    closed_at     TEXT,                 -- when it expired or was cancelled
    closed_by     INTEGER
);
CREATE INDEX vouchers_talent ON vouchers (talent_id, reward_id, status);
CREATE INDEX vouchers_valid ON vouchers (valid_until) WHERE status = 'valid';
CREATE INDEX vouchers_used ON vouchers (reward_id, used_at) WHERE status = 'used';
