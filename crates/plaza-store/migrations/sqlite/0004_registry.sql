-- Registry metadata for SQLite: the manifests each repository holds (their bytes are blobs in
-- the blob store), the blobs and child manifests each one references, tags, and which blobs a
-- repository may serve. Instants are BIGINT unix milliseconds, annotations JSON kept as TEXT.
-- Names, digests and tags compare with SQLite's default BINARY collation, i.e. in byte order.

-- A manifest pushed to a repository, with the facts the referrers API and GC need.
CREATE TABLE registry_manifests (
    repository     TEXT NOT NULL,
    digest         TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    artifact_type  TEXT,
    subject        TEXT,
    size           BIGINT NOT NULL CHECK (size >= 0),
    annotations    TEXT NOT NULL,
    -- Not a foreign key: who pushed is a fact of the push, kept as given.
    pushed_by      TEXT,
    pushed_at      BIGINT NOT NULL,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX registry_manifests_by_subject ON registry_manifests (repository, subject);

-- The blobs and child manifests a manifest references: they must outlive it (GC).
CREATE TABLE registry_manifest_blobs (
    repository  TEXT NOT NULL,
    manifest    TEXT NOT NULL,
    blob        TEXT NOT NULL,
    PRIMARY KEY (repository, manifest, blob),
    FOREIGN KEY (repository, manifest) REFERENCES registry_manifests (repository, digest)
        ON DELETE CASCADE
);

-- A repository's tags; deleting the manifest deletes the tags pointing at it.
CREATE TABLE registry_tags (
    repository  TEXT NOT NULL,
    tag         TEXT NOT NULL,
    digest      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (repository, tag),
    FOREIGN KEY (repository, digest) REFERENCES registry_manifests (repository, digest)
        ON DELETE CASCADE
);
CREATE INDEX registry_tags_by_digest ON registry_tags (repository, digest);

-- The blobs a repository may serve (uploaded to it or mounted from another repository).
CREATE TABLE registry_blob_links (
    repository  TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (repository, digest)
);
