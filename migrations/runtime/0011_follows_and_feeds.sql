-- Topics and actors people follow, what an event is about, and calendar feeds.
--
-- An event's topics come from the moderator (topics:) or, when left out, from its title and
-- description matched against the atlas; `actors` likewise holds the atlas actors it names
-- (besides its organiser), and `inferred` says the bot, not a moderator, chose them.
ALTER TABLE events ADD COLUMN actors TEXT;              -- comma-separated atlas actor slugs
ALTER TABLE events ADD COLUMN inferred INTEGER NOT NULL DEFAULT 0;

-- /follow topic:<slug> or actor:<slug>: a personal reminder before every event of the space
-- on it, including events added later, and a note when one is added.
CREATE TABLE follows (
    id         INTEGER PRIMARY KEY,
    space      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('topic', 'actor')),
    slug       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (space, user_id, kind, slug)
);
CREATE INDEX follows_subject ON follows (space, kind, slug);

-- A follower who said "stop reminding me" for one event of a subject they follow.
CREATE TABLE follow_muted (
    event_id INTEGER NOT NULL REFERENCES events (id),
    user_id  TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- Each space's calendar feed: the unguessable part of its URL. Rotating it replaces the row,
-- so the old link stops working at once.
CREATE TABLE feeds (
    space      TEXT PRIMARY KEY,
    secret     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
