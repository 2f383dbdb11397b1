-- Runtime data: what moderators and members create. `atlasbot import` never touches these
-- tables. They refer to the atlas by slug (never by id), so a re-import cannot break them.

-- Where the bot lives: a Discord guild, a Matrix room, the local console.
CREATE TABLE spaces (
    id              TEXT PRIMARY KEY,              -- "console", "discord:<guild>", "matrix:<room>"
    timezone        TEXT NOT NULL DEFAULT 'UTC',   -- IANA name
    reminder_target TEXT,                          -- channel or room for reminders (NULL: the space itself)
    offsets         TEXT NOT NULL DEFAULT '1440,60', -- minutes before each occurrence
    moderator_role  TEXT,                          -- Discord role that counts as moderator
    moderator_power INTEGER NOT NULL DEFAULT 50,   -- Matrix power level that counts as moderator
    updated_at      TEXT NOT NULL
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,            -- iCalendar UID
    space         TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT,
    starts_local  TEXT NOT NULL,                   -- wall clock in `tz`: 2026-12-03T14:00:00
    tz            TEXT NOT NULL,
    duration_min  INTEGER,
    place         TEXT,
    organiser     TEXT,                            -- atlas actor slug
    topics        TEXT,                            -- comma-separated topic slugs
    rrule         TEXT,                            -- RRULE value, NULL for a one-off event
    cancelled     INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX events_space ON events (space, cancelled);

-- Single occurrences cancelled out of a series.
CREATE TABLE event_exdates (
    event_id       INTEGER NOT NULL REFERENCES events (id),
    occurrence_utc TEXT NOT NULL,
    PRIMARY KEY (event_id, occurrence_utc)
);

-- Personal reminders: /remind me.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    space      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    offset_min INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, user_id, offset_min)
);

-- Every reminder owed, one row per (occurrence, offset, target). The key is claimed (state
-- pending → claimed) before sending and is the platform's idempotency handle, so a crash
-- between claim, send and record neither loses nor duplicates a reminder.
CREATE TABLE reminders (
    key            TEXT PRIMARY KEY,
    event_id       INTEGER NOT NULL REFERENCES events (id),
    space          TEXT NOT NULL,
    occurrence_utc TEXT NOT NULL,
    offset_min     INTEGER NOT NULL,
    target         TEXT NOT NULL,                  -- "space" or "user:<id>"
    due_utc        TEXT NOT NULL,                  -- when to send (retries move it on)
    state          TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'sent', 'failed', 'missed', 'cancelled')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    claimed_at     TEXT,
    done_at        TEXT,
    late           INTEGER NOT NULL DEFAULT 0,
    error          TEXT
);
CREATE INDEX reminders_due ON reminders (state, due_utc);
CREATE INDEX reminders_event ON reminders (event_id, state);
