-- Messaging: broadcasts with one delivery row per recipient, stored reminders, and opt-outs.

CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY,
    topic               TEXT NOT NULL,
    audience            TEXT NOT NULL,          -- JSON of the filters, for the record
    text                TEXT,
    entities            TEXT,                   -- JSON list of Telegram message entities
    photo_file_id       TEXT,
    status              TEXT NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'finished', 'cancelled')),
    total               INTEGER NOT NULL DEFAULT 0,
    created_by          INTEGER NOT NULL,       -- Telegram id of the coordinator or admin
    author_locale       TEXT NOT NULL DEFAULT 'zh',  -- the progress message speaks it
    created_at          TEXT NOT NULL,
    finished_at         TEXT,
    cancelled_by        INTEGER,
    progress_chat_id    INTEGER,
    progress_message_id INTEGER,
    CHECK (text IS NOT NULL OR photo_file_id IS NOT NULL)
);
CREATE INDEX broadcasts_running ON broadcasts (status) WHERE status = 'running';

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    broadcast_id    INTEGER NOT NULL REFERENCES broadcasts (id),
    talent_id       INTEGER NOT NULL REFERENCES talents (id),
    chat_id         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'unreachable', 'failed',
                                      'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    message_id      INTEGER,
    updated_at      TEXT,
    UNIQUE (broadcast_id, talent_id)
);
-- The sender's queue: what is still to go, oldest first.
CREATE INDEX deliveries_queue ON deliveries (broadcast_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_sending ON deliveries (status) WHERE status = 'sending';

CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    talent_id   INTEGER NOT NULL REFERENCES talents (id),
    subject     TEXT NOT NULL,                 -- what it is about, e.g. 'activity'
    subject_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL,                 -- e.g. '24h', '1h'
    due_at      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,                 -- after this the reminder is useless and dropped
    text_key    TEXT NOT NULL,                 -- catalog key, rendered in the talent's language
    params      TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'unreachable', 'dropped',
                                  'cancelled', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT,
    UNIQUE (subject, subject_id, talent_id, kind)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'pending';

-- A talent hears about everything unless they turned a topic off in /settings.
CREATE TABLE notification_optouts (
    talent_id   INTEGER NOT NULL REFERENCES talents (id) ON DELETE CASCADE,
    topic       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (talent_id, topic)
) WITHOUT ROWID;
CREATE INDEX notification_optouts_topic ON notification_optouts (topic, talent_id);
