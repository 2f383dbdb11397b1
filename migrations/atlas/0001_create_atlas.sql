-- The atlas: everything `atlasbot import` builds from data/. An import deletes and rewrites
-- these tables in one transaction; runtime tables (events moderators create, settings,
-- subscriptions, reminder log) come in later migrations and are never touched by an import.
-- Every row that comes from a source keeps its file and line, so answers can cite them.

CREATE TABLE atlas_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sources (
    slug   TEXT PRIMARY KEY,
    file   TEXT NOT NULL,
    format TEXT NOT NULL,
    title  TEXT NOT NULL
);

CREATE TABLE actors (
    id                INTEGER PRIMARY KEY,
    slug              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('profiled', 'mentioned')),
    name              TEXT NOT NULL,      -- display name
    full_name         TEXT,               -- NULL where the sources do not give one (DCAF)
    acronym           TEXT,
    founded           INTEGER,
    founded_evidence  TEXT,               -- "Established: 1906", or the sentence giving the year
    address           TEXT,
    website           TEXT,
    stakeholder_group TEXT,
    summary           TEXT,               -- first sentence of the description
    description       TEXT,               -- description paragraphs as written
    activities        TEXT,               -- the "Digital activities" text
    tools_note        TEXT,               -- a tools section with prose but no named tools
    parent_id         INTEGER REFERENCES actors (id),
    provenance        TEXT NOT NULL       -- "000:1-139; 001:30-72"
);

-- Every way to name an actor: full name, acronym, curated aliases. key is the normalised form.
CREATE TABLE actor_names (
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    name     TEXT NOT NULL,
    key      TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('name', 'acronym', 'alias')),
    PRIMARY KEY (key, actor_id)
);

CREATE TABLE baskets (
    slug     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE topics (
    id       INTEGER PRIMARY KEY,
    slug     TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    basket   TEXT NOT NULL REFERENCES baskets (slug),
    position INTEGER NOT NULL
);

-- Names and synonyms of topics, normalised: one term resolves to one topic.
CREATE TABLE topic_terms (
    key      TEXT PRIMARY KEY,
    term     TEXT NOT NULL,
    topic_id INTEGER NOT NULL REFERENCES topics (id)
);

-- Sections of a profile: issue headings and their sub-sections, activities, tools, channels.
CREATE TABLE sections (
    id        INTEGER PRIMARY KEY,
    actor_id  INTEGER NOT NULL REFERENCES actors (id),
    parent_id INTEGER REFERENCES sections (id),
    kind      TEXT NOT NULL CHECK (kind IN ('issue', 'subsection', 'description', 'activities', 'tools', 'channels', 'other')),
    heading   TEXT,
    tagline   TEXT,
    position  INTEGER NOT NULL,
    file      TEXT NOT NULL,
    line      INTEGER NOT NULL
);

CREATE TABLE section_topics (
    section_id INTEGER NOT NULL REFERENCES sections (id),
    topic_id   INTEGER NOT NULL REFERENCES topics (id),
    PRIMARY KEY (section_id, topic_id)
);

-- Documents, resolutions, processes, programmes, bodies (002), news stories (003), the report (004).
CREATE TABLE documents (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('document', 'resolution', 'report', 'process', 'programme', 'body', 'tool', 'event', 'news')),
    symbol     TEXT,                    -- UN document symbol as written (A/70/174)
    symbol_key TEXT UNIQUE,             -- lower-case symbol for lookups
    title      TEXT NOT NULL,
    subtitle   TEXT,
    summary    TEXT,
    owner_id   INTEGER REFERENCES actors (id),
    about_id   INTEGER REFERENCES actors (id),   -- a 'body' entry describes this actor
    file       TEXT NOT NULL,
    line       INTEGER NOT NULL
);

-- The text itself: one row per paragraph, as written (junk removed), with a normalised search
-- copy. Passages belong to an actor's section, to a document, or both (a UNICC news story).
CREATE TABLE passages (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER REFERENCES actors (id),
    section_id  INTEGER REFERENCES sections (id),
    document_id INTEGER REFERENCES documents (id),
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    search_text TEXT NOT NULL,
    truncated   INTEGER NOT NULL DEFAULT 0,  -- cut off mid-sentence in the source
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL
);
CREATE INDEX passages_actor ON passages (actor_id);
CREATE INDEX passages_section ON passages (section_id);
CREATE INDEX passages_document ON passages (document_id);

CREATE VIRTUAL TABLE passages_fts USING fts5 (
    search_text,
    content = 'passages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Named tools, programmes and initiatives of an actor (from "Digital tools" lists).
CREATE TABLE actor_items (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER NOT NULL REFERENCES actors (id),
    kind        TEXT NOT NULL CHECK (kind IN ('tool', 'programme')),
    name        TEXT NOT NULL,
    description TEXT,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL
);

CREATE TABLE channels (
    id       INTEGER PRIMARY KEY,
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    platform TEXT NOT NULL,
    handle   TEXT NOT NULL,
    file     TEXT NOT NULL,
    line     INTEGER NOT NULL,
    UNIQUE (actor_id, platform, handle)
);

-- Sentences that name an organisation, in someone else's text (or its own).
CREATE TABLE actor_mentions (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER NOT NULL REFERENCES actors (id),
    passage_id INTEGER NOT NULL REFERENCES passages (id),
    written_as TEXT NOT NULL,
    sentence   TEXT NOT NULL,
    file       TEXT NOT NULL,
    line       INTEGER NOT NULL,
    UNIQUE (actor_id, passage_id, sentence)
);
CREATE INDEX actor_mentions_actor ON actor_mentions (actor_id);

CREATE TABLE standards (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    identifier      TEXT NOT NULL UNIQUE,  -- as the registry writes it: "ISO/IEC TR 24028"
    key             TEXT NOT NULL UNIQUE,  -- number and part: "24028", "18370-1", "8802-a"
    base_number     TEXT NOT NULL,         -- "18370"
    body            TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('IS', 'TR', 'TS')),
    series          INTEGER NOT NULL DEFAULT 0,
    covers          TEXT NOT NULL,
    committee       TEXT,
    family          TEXT,
    domain          TEXT,
    conformity      TEXT,
    conformity_note TEXT
);
CREATE INDEX standards_base ON standards (base_number);

CREATE TABLE standard_relations (
    standard_id INTEGER NOT NULL REFERENCES standards (id),
    relation    TEXT NOT NULL CHECK (relation IN ('extends', 'extended-by', 'sibling')),
    other_id    INTEGER NOT NULL REFERENCES standards (id),
    PRIMARY KEY (standard_id, relation, other_id)
);

CREATE TABLE standard_mentions (
    id          INTEGER PRIMARY KEY,
    standard_id INTEGER NOT NULL REFERENCES standards (id),
    actor_id    INTEGER REFERENCES actors (id),
    passage_id  INTEGER NOT NULL REFERENCES passages (id),
    written_as  TEXT NOT NULL,
    sentence    TEXT NOT NULL,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL
);
CREATE INDEX standard_mentions_standard ON standard_mentions (standard_id);

-- Events the sources name (historical or undated). Moderators' events are a runtime table.
CREATE TABLE atlas_events (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    starts       TEXT,        -- ISO date at the precision given: 2021-10-31, 2023-11, 2018
    ends         TEXT,
    date_text    TEXT,
    place        TEXT,
    recurrence   TEXT,
    organiser_id INTEGER REFERENCES actors (id),
    description  TEXT NOT NULL,
    file         TEXT NOT NULL,
    line         INTEGER NOT NULL
);

CREATE TABLE glossary (
    id        INTEGER PRIMARY KEY,
    term      TEXT NOT NULL,
    key       TEXT NOT NULL,
    expansion TEXT NOT NULL,
    curated   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX glossary_key ON glossary (key);

-- Sentences that cite a document by its symbol (A/65/491 in the ICT4Peace report, …).
CREATE TABLE document_mentions (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    passage_id  INTEGER NOT NULL REFERENCES passages (id),
    sentence    TEXT NOT NULL,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL
);
CREATE INDEX document_mentions_document ON document_mentions (document_id);
