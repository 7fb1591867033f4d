-- Supply-chain scans and the continuous re-scan: each version's score history, its components
-- (the purl -> version index a vulnerability-database import looks versions up by), the keys
-- its signature verified with (for key revocations), durable re-scan jobs, notifications,
-- blocks for new installs, and each org's supply settings. Instants are BIGINT unix
-- milliseconds.

-- Score history: one row per scan (submission gate or re-scan), seq 1, 2, ... per version.
CREATE TABLE supply_scans (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    app_id      TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    scanned_at  BIGINT NOT NULL,
    cause       TEXT NOT NULL CHECK (cause IN ('submission', 'vulndb', 'key-revoked')),
    score       BIGINT NOT NULL,
    report      TEXT NOT NULL,
    PRIMARY KEY (org_id, app_id, version, seq)
);

-- The components of each version's SBOM that carry a purl, by (ecosystem, normalised name).
CREATE TABLE supply_components (
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    app_id             TEXT COLLATE "C" NOT NULL,
    version            TEXT COLLATE "C" NOT NULL,
    ecosystem          TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    component_version  TEXT COLLATE "C" NOT NULL,
    purl               TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, app_id, version, purl)
);
CREATE INDEX supply_components_by_package ON supply_components (ecosystem, name);

-- The publisher keys each version's newest scan verified its signature with.
CREATE TABLE supply_version_keys (
    org_id   TEXT NOT NULL REFERENCES orgs (id),
    app_id   TEXT COLLATE "C" NOT NULL,
    version  TEXT COLLATE "C" NOT NULL,
    key_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, app_id, version, key_id)
);
CREATE INDEX supply_version_keys_by_key ON supply_version_keys (org_id, key_id);

-- Durable re-scan jobs. A running job whose updated_at is older than the lease is claimable
-- again (its worker died).
CREATE TABLE supply_jobs (
    id          TEXT COLLATE "C" PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('vulndb', 'key-revoked')),
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    error       TEXT
);
CREATE INDEX supply_jobs_by_state ON supply_jobs (state, created_at);

-- Notifications to a user (a publisher) or a team (an installer).
CREATE TABLE notifications (
    id              TEXT COLLATE "C" PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    recipient_kind  TEXT NOT NULL CHECK (recipient_kind IN ('user', 'team')),
    recipient_id    TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notifications_by_recipient
    ON notifications (org_id, recipient_kind, recipient_id, created_at);

-- Versions blocked for new installs, and why.
CREATE TABLE version_blocks (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    app_id      TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    reason      TEXT NOT NULL,
    blocked_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, version)
);

-- Each org's supply settings: trusted builders (JSON [{id, level}]) and whether re-scans block.
CREATE TABLE supply_settings (
    org_id            TEXT PRIMARY KEY REFERENCES orgs (id),
    trusted_builders  TEXT NOT NULL,
    block_on_rescan   BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
