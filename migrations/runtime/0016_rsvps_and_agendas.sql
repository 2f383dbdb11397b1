-- RSVP (/rsvp, buttons on Discord, reactions in Matrix): who is coming to an event. Going is
-- reminded like Interested (the person is subscribed too); beyond an event's capacity, Going
-- joins the waitlist ('waiting'), promoted in order of arrival (`seq`) when a place opens.
CREATE TABLE rsvps (
    event_id   INTEGER NOT NULL REFERENCES events (id),
    space      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    answer     TEXT NOT NULL CHECK (answer IN ('going', 'maybe', 'cant', 'waiting')),
    seq        INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX rsvps_answer ON rsvps (event_id, answer, seq);
-- At most this many Going (NULL: no limit); and whether the card shows counts only.
ALTER TABLE events ADD COLUMN capacity INTEGER;
ALTER TABLE events ADD COLUMN hide_names INTEGER NOT NULL DEFAULT 0;

-- /settings agenda weekly monday 09:00 (or daily 08:00): the coming period's events posted in
-- the space's channel, once per period (`agenda_posts` holds each period's claim and outcome,
-- as the reminder ledger does a reminder's).
ALTER TABLE spaces ADD COLUMN agenda TEXT;              -- "weekly mon 09:00", "daily 08:00"
CREATE TABLE agenda_posts (
    key         TEXT PRIMARY KEY,                       -- agenda:<space>:<period start>
    space       TEXT NOT NULL,
    due_utc     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'sent', 'empty', 'failed')),
    claimed_by  TEXT,
    lease_until TEXT,
    done_at     TEXT
);
CREATE INDEX agenda_posts_due ON agenda_posts (state, due_utc);
