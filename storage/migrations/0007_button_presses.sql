-- Confirm buttons (redeem, publish, send, cancel, mark used) act once. Each shown button
-- carries a random key; the transaction that acts records the key first, so a second press
-- of the same button, even one arriving at the same moment, finds it taken and does nothing.
CREATE TABLE button_presses (
    key         TEXT PRIMARY KEY,
    action      TEXT NOT NULL,
    by_whom     INTEGER NOT NULL,      -- Telegram id of who pressed
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
