-- An imported event remembers the UID its calendar gave it (source_uid), apart from the UID the
-- bot publishes (uid, unique across spaces): a later import of the same calendar finds the
-- event by its source UID within its own space, whatever UID it was published under — so
-- another space that took the UID (or its derived forms) first cannot block this one's import.
ALTER TABLE events ADD COLUMN source_uid TEXT;
UPDATE events SET source_uid = CASE
    WHEN substr(uid, length(uid) - length(space)) = '/' || space
        THEN substr(uid, 1, length(uid) - length(space) - 1)
    ELSE uid END;
CREATE INDEX events_source_uid ON events (space, source_uid);
