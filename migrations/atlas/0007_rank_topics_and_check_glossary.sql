-- Answer quality (issue #10). Both tables are atlas tables: an import rewrites them.

-- Who works on a topic, ranked at import (src/import/ranking.rs): the actors whose own text is
-- about the topic, most central first, with the sentence that best shows the link.
CREATE TABLE topic_actors (
    topic_id  INTEGER NOT NULL REFERENCES topics (id),
    actor_id  INTEGER NOT NULL REFERENCES actors (id),
    rank      INTEGER NOT NULL,          -- 1 = first
    score     INTEGER NOT NULL,          -- relevance × 10, for the curious
    headings  TEXT,                      -- profile sections on the topic, one per line
    evidence  TEXT,                      -- the sentence, as written
    file      TEXT,
    line      INTEGER,
    PRIMARY KEY (topic_id, rank)
);

-- What the sources do with a glossary term, checked at import rather than asserted by hand:
-- 'expanded' (the expansion is written in the sources, at file:line), 'used' (the term is
-- written but never expanded; the expansion is curated; file:line is a use), 'absent' (the
-- sources never write the term; the expansion is curated; file:line, if any, is where the
-- expansion itself is written).
ALTER TABLE glossary ADD COLUMN status TEXT NOT NULL DEFAULT 'expanded'
    CHECK (status IN ('expanded', 'used', 'absent'));
ALTER TABLE glossary ADD COLUMN file TEXT;
ALTER TABLE glossary ADD COLUMN line INTEGER;

-- Curated descriptions are marked, not passed off as the sources' words (check-data requires
-- every description not marked curated to be written in the sources).
ALTER TABLE standards ADD COLUMN curated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN summary_curated INTEGER NOT NULL DEFAULT 0;
