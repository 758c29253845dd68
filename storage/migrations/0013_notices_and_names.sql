-- Personal notices (points or hours changed) are reminder rows due at once; each row says which
-- /settings topic it belongs to, so a talent who turned that topic off is not sent it.
ALTER TABLE reminders ADD COLUMN topic TEXT NOT NULL DEFAULT 'reminders';

-- The Telegram first name of staff (admins, coordinators, partners) who have no name in a
-- profile, so that "checked in by", "used by" and the like show a name instead of an id.
CREATE TABLE telegram_names (
    telegram_id  INTEGER PRIMARY KEY,
    first_name   TEXT NOT NULL,
    seen_at      TEXT NOT NULL
);
