-- Everyday words for the sources' own terms (issue #27), from data/relatives.toml: a question
-- that says `said` ("kids") is also read as saying `word` ("children"). An atlas table: an
-- import rewrites it. Every `word` is written in the sources (checked at import).
CREATE TABLE relatives (
    said TEXT NOT NULL,
    word TEXT NOT NULL,
    PRIMARY KEY (said, word)
);
