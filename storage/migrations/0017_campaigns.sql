-- Produce campaigns (爱心助农): a station asks its talents to buy, or help sell, a farmer's
-- produce. Quantities are whole units (斤 or kg); the price is in minor units (fen), so sums
-- stay exact.
CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    station_id   INTEGER REFERENCES stations (id),  -- NULL: city-wide (opened by an admin)
    product      TEXT NOT NULL,
    unit         TEXT NOT NULL CHECK (unit IN ('jin', 'kg')),
    goal         INTEGER NOT NULL CHECK (goal > 0),
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    pickup       TEXT NOT NULL,                     -- where and when to collect
    contact      TEXT NOT NULL,                     -- the seller's name and phone
    closes_at    TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by   INTEGER NOT NULL,
    created_locale TEXT NOT NULL DEFAULT 'zh',     -- the opener's language, for the list
    created_at   TEXT NOT NULL,
    closed_at    TEXT,
    closed_by    INTEGER                            -- NULL: closed by the clock
);
CREATE INDEX campaigns_open ON campaigns (status, closes_at);

-- One pledge per talent and campaign and way (to buy it, or to sell it through their own
-- contacts); withdrawing deletes it, changing it updates it.
CREATE TABLE pledges (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    talent_id    INTEGER NOT NULL REFERENCES talents (id),
    way          TEXT NOT NULL CHECK (way IN ('buy', 'sell')),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (campaign_id, talent_id, way)
);
CREATE INDEX pledges_of_talent ON pledges (talent_id);

-- The one progress message each person keeps for a campaign; ``dirty`` marks it out of date,
-- and a job edits it at most every few seconds, so a burst of pledges makes one edit.
CREATE TABLE campaign_views (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    telegram_id  INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    locale       TEXT NOT NULL,                     -- the language it was shown in
    dirty        INTEGER NOT NULL DEFAULT 0,
    edited_at    TEXT NOT NULL,
    PRIMARY KEY (campaign_id, telegram_id)
);
CREATE INDEX campaign_views_dirty ON campaign_views (dirty) WHERE dirty = 1;
