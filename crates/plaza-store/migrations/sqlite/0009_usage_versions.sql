-- Usage by app version: every usage event records the app version its instance ran when the
-- event was accepted, and the rollups are kept per version too, so a query filtered or grouped
-- by version reads rollups. Events and rollups stored before this migration get the version ''
-- ("unknown, recorded before versions were kept").

ALTER TABLE usage_events ADD COLUMN app_version TEXT NOT NULL DEFAULT '';

-- SQLite cannot change a primary key in place: the rollups are rebuilt with the version in
-- their key, every existing row copied with the version ''.
CREATE TABLE usage_rollups_v9 (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    app_id          TEXT NOT NULL,
    metric          TEXT NOT NULL,
    instance_id     TEXT NOT NULL,
    app_version     TEXT NOT NULL DEFAULT '',
    bucket          BIGINT NOT NULL,
    sum_value       TEXT NOT NULL,
    event_count     BIGINT NOT NULL,
    max_value       TEXT,
    latest_at       BIGINT,
    latest_event_id TEXT,
    latest_value    TEXT,
    corrected       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, app_id, metric, instance_id, app_version, bucket)
);
INSERT INTO usage_rollups_v9 (org_id, app_id, metric, instance_id, app_version, bucket,
    sum_value, event_count, max_value, latest_at, latest_event_id, latest_value, corrected)
SELECT org_id, app_id, metric, instance_id, '', bucket, sum_value, event_count, max_value,
    latest_at, latest_event_id, latest_value, corrected
FROM usage_rollups;
DROP TABLE usage_rollups;
ALTER TABLE usage_rollups_v9 RENAME TO usage_rollups;
CREATE INDEX usage_rollups_by_metric_bucket ON usage_rollups (org_id, metric, bucket);
