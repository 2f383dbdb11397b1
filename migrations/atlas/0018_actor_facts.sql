-- The facts a profile states on a line of its own ("Established: 1906", "Address: …",
-- "Website: …", its name and acronym), each with where it is written, so that a question
-- about one fact ("when was IEC founded?") is answered with that line cited. An atlas table:
-- an import rewrites it.
CREATE TABLE actor_facts (
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    fact     TEXT NOT NULL,
    value    TEXT NOT NULL,
    file     TEXT NOT NULL,
    line     INTEGER NOT NULL,
    PRIMARY KEY (actor_id, fact)
);
