-- Plaza foundation schema for SQLite: orgs, teams, users, tokens, app versions and the
-- hash-chained audit log. Ids are TEXT, instants BIGINT unix milliseconds, JSON is TEXT kept
-- byte-for-byte (the audit hash covers the exact text), role sets are comma-separated TEXT.

CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    handle            TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    email             TEXT,
    external_subject  TEXT,
    roles             TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    UNIQUE (org_id, handle),
    UNIQUE (org_id, external_subject)
);

CREATE TABLE team_members (
    team_id  TEXT NOT NULL REFERENCES teams (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members (user_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);

-- Which org owns an app id: the first org to register a version of it.
CREATE TABLE apps (
    app_id      TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    created_at  BIGINT NOT NULL
);

CREATE TABLE app_versions (
    app_id       TEXT NOT NULL REFERENCES apps (app_id),
    version      TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    description  TEXT,
    manifest     TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    -- 1, 2, ... per app id, in registration order.
    position     BIGINT NOT NULL,
    PRIMARY KEY (app_id, version)
);
CREATE INDEX app_versions_by_org ON app_versions (org_id, app_id, position);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    org_id     TEXT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_by_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_by_target ON audit_log (target, seq);

-- The chain's head: one row. Appenders update it first, which serialises them.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
