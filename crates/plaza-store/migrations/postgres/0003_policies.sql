-- Policy governance for PostgreSQL: org policy versions, enforcement modes, exceptions and the
-- append-only decision log. Ids are TEXT, instants BIGINT unix milliseconds, JSON is TEXT.

-- Versioned policy sets of an org: the newest version is the active one. Files and settings
-- are JSON kept as TEXT, byte for byte.
CREATE TABLE org_policy_versions (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    version     BIGINT NOT NULL CHECK (version >= 1),
    files       TEXT NOT NULL,
    settings    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);

-- An org's enforcement mode; no row means `enforce`.
CREATE TABLE org_policy_modes (
    org_id  TEXT PRIMARY KEY REFERENCES orgs (id),
    mode    TEXT NOT NULL CHECK (mode IN ('enforce', 'warn-only'))
);

-- Time-limited waivers of one rule for one app.
CREATE TABLE policy_exceptions (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    app_id      TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    granted_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    expired_at  BIGINT
);
CREATE INDEX policy_exceptions_by_org ON policy_exceptions (org_id, created_at);

-- The decision log: every evaluation, append-only (see the triggers below). The app is not a
-- foreign key: a denied app version is judged but never registered.
CREATE TABLE policy_decisions (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    app_id              TEXT NOT NULL,
    version             TEXT NOT NULL,
    input_digest        TEXT NOT NULL,
    input               TEXT NOT NULL,
    bundle_version      TEXT NOT NULL,
    org_policy_version  BIGINT,
    mode                TEXT NOT NULL CHECK (mode IN ('enforce', 'warn-only')),
    outcome             TEXT NOT NULL CHECK (outcome IN ('pass', 'review', 'deny')),
    findings            TEXT NOT NULL,
    duration_us         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    FOREIGN KEY (org_id, org_policy_version) REFERENCES org_policy_versions (org_id, version)
);
CREATE INDEX policy_decisions_by_app ON policy_decisions (org_id, app_id, version, created_at);

-- The decision log is append-only: the database itself refuses to change or remove a decision.
CREATE FUNCTION plaza_policy_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy_decisions is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER policy_decisions_no_change BEFORE UPDATE OR DELETE ON policy_decisions
    FOR EACH ROW EXECUTE FUNCTION plaza_policy_decisions_append_only();

CREATE TRIGGER policy_decisions_no_truncate BEFORE TRUNCATE ON policy_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION plaza_policy_decisions_append_only();
