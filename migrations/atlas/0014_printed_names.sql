-- Names of an actor the sources print in another form right after its name, in brackets
-- ("Geopolitics in the Datasphere[Géopolitique de la Datasphère]"): drawn at import, with
-- where they are written, so that the actor answers to them and its card cites them. An atlas
-- table: an import rewrites it. (Names the sources do not print are curated aliases.)
CREATE TABLE printed_names (
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    name     TEXT NOT NULL,
    file     TEXT NOT NULL,
    line     INTEGER NOT NULL,
    PRIMARY KEY (actor_id, name)
);
