-- Which repository each blob upload session was opened in, so that its chunks and its commit
-- are accepted only through that repository's URL (a session id is not a capability on its own),
-- and when it started (for purging abandoned sessions). Instants are BIGINT unix milliseconds.
CREATE TABLE registry_uploads (
    id          TEXT COLLATE "C" PRIMARY KEY,
    repository  TEXT COLLATE "C" NOT NULL,
    started_at  BIGINT NOT NULL
);
