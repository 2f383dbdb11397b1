-- The Matrix adapter's memory, so that a restart neither replays commands nor answers history.

-- One row per bot account: the device it logs in as (so that transaction ids, which Synapse
-- scopes to the device, keep deduplicating across restarts) and where its sync stopped.
-- Access tokens are never stored: they come from the environment or a fresh login.
CREATE TABLE matrix_accounts (
    user_id    TEXT PRIMARY KEY,
    device_id  TEXT,
    next_batch TEXT,                 -- sync position after the last fully handled batch
    updated_at TEXT NOT NULL
);

-- Rooms the bot has joined, and what it has told them once.
CREATE TABLE matrix_rooms (
    user_id           TEXT NOT NULL,
    room_id           TEXT NOT NULL,
    joined_at         TEXT NOT NULL,
    encrypted_notice  INTEGER NOT NULL DEFAULT 0,  -- the "I cannot read encrypted messages" notice went out
    PRIMARY KEY (user_id, room_id)
);

-- Direct rooms the bot opened for personal reminders, one per person.
CREATE TABLE matrix_direct_rooms (
    user_id   TEXT NOT NULL,                       -- the bot
    person    TEXT NOT NULL,
    room_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, person)
);
