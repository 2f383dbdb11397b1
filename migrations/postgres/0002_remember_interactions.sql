-- Discord interaction ids answered by any replica of the HTTP endpoint, so that a signed
-- request captured and sent to another replica is not acted on twice. Kept only for the
-- signature's freshness window (the endpoint deletes older rows).
CREATE TABLE seen_interactions (
    id      TEXT PRIMARY KEY,
    seen_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX seen_interactions_at ON seen_interactions (seen_at);
