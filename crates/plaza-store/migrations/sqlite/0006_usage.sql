-- Metering: usage events counted exactly once, conflicting reuses of an event id, and the
-- dead-letter store of rejected events. Values are exact decimals kept as TEXT (never floating
-- point); instants are BIGINT unix milliseconds; maps and problems are JSON kept as TEXT.

-- Every accepted event, deduplicated forever by (org, app, event id): the primary key is the
-- dedup, with no expiry window.
CREATE TABLE usage_events (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    app_id          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    instance_id     TEXT NOT NULL,
    metric          TEXT NOT NULL,
    value           TEXT NOT NULL,
    unit            TEXT NOT NULL,
    original_value  TEXT NOT NULL,
    original_unit   TEXT NOT NULL,
    occurred_at     BIGINT NOT NULL,
    sequence        BIGINT,
    kind            TEXT NOT NULL CHECK (kind IN ('usage', 'void', 'adjust')),
    correction_of   TEXT,
    tags            TEXT NOT NULL,
    dimensions      TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, event_id)
);
CREATE INDEX usage_events_by_metric_time ON usage_events (org_id, app_id, metric, occurred_at);

-- An event id sent again with other content: recorded and reported, never billed.
CREATE TABLE usage_conflicts (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    app_id        TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    stored_hash   TEXT NOT NULL,
    offered_hash  TEXT NOT NULL,
    offered       TEXT NOT NULL,
    received_at   BIGINT NOT NULL
);
CREATE INDEX usage_conflicts_by_org ON usage_conflicts (org_id, received_at);

-- Rejected events with every reason, for inspection and replay after a fix. The event is the
-- decoded event as JSON, or NULL when it could not be decoded at all.
CREATE TABLE usage_dead_letters (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    received_at  BIGINT NOT NULL,
    event_index  BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    event        TEXT,
    problems     TEXT NOT NULL
);
CREATE INDEX usage_dead_letters_by_org ON usage_dead_letters (org_id, received_at);
