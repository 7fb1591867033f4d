-- Supply chain: publishers' registered public keys (validity windows, rotation, revocation) and
-- the imported OSV vulnerability database, indexed by package. Instants are BIGINT unix
-- milliseconds.

-- A publisher (the manifest's provenance.signedBy, e.g. did:example:maintainer) registers public
-- keys with the org. key_id is the hex SHA-256 of the key's SubjectPublicKeyInfo DER.
CREATE TABLE publisher_keys (
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    key_id             TEXT NOT NULL,
    publisher          TEXT NOT NULL,
    algorithm          TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'ecdsa-p256')),
    public_pem         TEXT NOT NULL,
    not_before         BIGINT NOT NULL,
    not_after          BIGINT,
    revoked_at         BIGINT,
    revocation_reason  TEXT,
    created_by         TEXT NOT NULL REFERENCES users (id),
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (org_id, key_id)
);
CREATE INDEX publisher_keys_by_publisher ON publisher_keys (org_id, publisher);

-- OSV advisories as imported (body is the record's JSON as read), with the digest of the file
-- so a re-import skips what did not change.
CREATE TABLE osv_advisories (
    id           TEXT PRIMARY KEY,
    digest       TEXT NOT NULL,
    modified     TEXT NOT NULL,
    withdrawn    BIGINT NOT NULL,
    body         TEXT NOT NULL,
    imported_at  BIGINT NOT NULL
);

-- Which (ecosystem, package) each advisory affects: the lookup index.
CREATE TABLE osv_packages (
    advisory_id  TEXT NOT NULL REFERENCES osv_advisories (id) ON DELETE CASCADE,
    ecosystem    TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (advisory_id, ecosystem, name)
);
CREATE INDEX osv_packages_by_package ON osv_packages (ecosystem, name);
