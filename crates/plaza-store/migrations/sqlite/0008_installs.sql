-- Installs: instances of app versions installed by teams, with their grants (JSON kept as
-- TEXT), Plaza's token-signing keys, downstream credentials from token exchange (hashes
-- only), and which granted scopes and egress hosts each instance used. Instants are BIGINT
-- unix milliseconds.

CREATE TABLE instances (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    team_id         TEXT NOT NULL REFERENCES teams (id),
    app_id          TEXT NOT NULL,
    version         TEXT NOT NULL,
    spiffe_id       TEXT NOT NULL UNIQUE,
    tags            TEXT NOT NULL,
    billing_mode    TEXT NOT NULL CHECK (billing_mode IN ('normal', 'sandbox')),
    auto_upgrade    BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending_consent', 'active', 'uninstalled')),
    grant_doc       TEXT NOT NULL,
    previous_doc    TEXT,
    pending_doc     TEXT,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    revision        BIGINT NOT NULL
);
CREATE INDEX instances_by_org_app ON instances (org_id, app_id);

-- Token-signing keys. The private half is PKCS#8 DER in base64: protect the database (and
-- its backups) like a key store.
CREATE TABLE signing_keys (
    kid              TEXT PRIMARY KEY,
    algorithm        TEXT NOT NULL,
    private_pkcs8    TEXT NOT NULL,
    public_x         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    signs_until      BIGINT NOT NULL,
    published_until  BIGINT NOT NULL
);

CREATE TABLE downstream_credentials (
    hash         TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    instance_id  TEXT NOT NULL REFERENCES instances (id),
    scope        TEXT NOT NULL,
    provider     TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX downstream_credentials_by_instance ON downstream_credentials (instance_id);

CREATE TABLE grant_uses (
    instance_id   TEXT NOT NULL REFERENCES instances (id),
    kind          TEXT NOT NULL CHECK (kind IN ('scope', 'egress')),
    name          TEXT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, kind, name)
);
