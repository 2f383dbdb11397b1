-- A listed tool's name and description, kept as a passage of its actor's text so that words
-- find it (own words, /search, FTS5 alike); never shown as a paragraph of a card, and not
-- counted again by the topic rankings (a tool counts as a tool there).
ALTER TABLE passages ADD COLUMN tool INTEGER NOT NULL DEFAULT 0;
