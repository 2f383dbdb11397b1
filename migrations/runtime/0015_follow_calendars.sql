-- /event sync add: a space follows an external iCalendar feed. The bot polls it every
-- `interval_min` minutes (one process per poll: a lease, as reminders are claimed), sends the
-- validators of its last good answer (an unchanged feed costs a 304) and mirrors its events
-- into `events`, marked with the sync that owns them (`events.sync_id`): a poll adds, changes
-- and cancels only those, never a moderator's own events.
CREATE TABLE calendar_syncs (
    id            INTEGER PRIMARY KEY,
    space         TEXT NOT NULL,
    url           TEXT NOT NULL,
    topics        TEXT,                         -- topic: given at add (slugs), else inferred
    interval_min  INTEGER NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    next_poll     TEXT NOT NULL,
    claimed_by    TEXT,
    lease_until   TEXT,
    last_ok       TEXT,                         -- last poll that answered (200 or 304)
    last_error    TEXT,
    failing_since TEXT,                         -- first failure of the current run of them
    told_failing  TEXT,                         -- the run of failures moderators were told of
    told_at       TEXT,                         -- when they were last told one started
    paused        INTEGER NOT NULL DEFAULT 0,   -- after 7 days of failures
    events        INTEGER NOT NULL DEFAULT 0,   -- live events it mirrors
    skipped       INTEGER NOT NULL DEFAULT 0,   -- events of the feed it could not take
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (space, url)
);
CREATE INDEX calendar_syncs_due ON calendar_syncs (paused, next_poll);
-- What the feed last said of a mirrored event (a digest of its fields): a poll rewrites, and
-- replans, only the events whose digest changed.
ALTER TABLE events ADD COLUMN sync_hash TEXT;
ALTER TABLE events ADD COLUMN sync_id INTEGER REFERENCES calendar_syncs (id);
