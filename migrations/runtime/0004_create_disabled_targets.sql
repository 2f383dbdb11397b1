-- Reminder targets found gone (channel deleted, bot removed, DMs closed): no reminder is
-- attempted for them until a moderator sets a new channel (or the user asks again).
CREATE TABLE disabled_targets (
    space       TEXT NOT NULL,
    target      TEXT NOT NULL,          -- "space" or "user:<id>"
    reason      TEXT NOT NULL,
    disabled_at TEXT NOT NULL,
    PRIMARY KEY (space, target)
);
