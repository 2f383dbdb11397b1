-- Discord's own Scheduled Events (the server's Events tab) that mirror an event's next
-- occurrences: one row per (event, occurrence) the bot created there, so that a restart never
-- creates it twice. A row is written (without `discord_id`) before the request that creates
-- it — a claim other processes see — and gets its id when Discord answers. `shown` is a
-- fingerprint of what the Discord copy says (name, times, place, description): it is updated
-- only when that changes.
CREATE TABLE discord_scheduled_events (
    event_id       INTEGER NOT NULL,
    occurrence_utc TEXT NOT NULL,
    guild          TEXT NOT NULL,
    discord_id     TEXT,
    shown          INTEGER NOT NULL,
    claimed_at     TEXT NOT NULL,
    PRIMARY KEY (event_id, occurrence_utc)
);
CREATE INDEX discord_scheduled_events_guild ON discord_scheduled_events (guild);

-- Things a space is told once ("I need the Manage Events permission"), by what they are.
CREATE TABLE notices_sent (
    space   TEXT NOT NULL,
    what    TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (space, what)
);

-- On Discord, the people who marked an event's Scheduled Event "Interested" are reminded with
-- the space: 'mention' (named in the reminder) or 'dm' (a direct message each).
ALTER TABLE spaces ADD COLUMN interested TEXT NOT NULL DEFAULT 'mention';
