-- Matrix reactions as buttons: a 👍 on an event card or reminder subscribes its sender to
-- personal reminders for that event; redacting the reaction unsubscribes. A redaction names
-- only the reaction's event id (and an encrypted reaction's content is gone once redacted),
-- so what each reaction meant is kept here.
CREATE TABLE matrix_reactions (
    user_id     TEXT NOT NULL,
    reaction_id TEXT NOT NULL,
    person      TEXT NOT NULL,
    event_id    BIGINT NOT NULL,
    PRIMARY KEY (user_id, reaction_id)
);

-- Messages the bot could not decrypt are explained once per sender and Megolm session (not
-- per message, and not again after a restart).
CREATE TABLE matrix_undecryptable_notices (
    user_id    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    session_id TEXT NOT NULL,
    PRIMARY KEY (user_id, sender, session_id)
);
