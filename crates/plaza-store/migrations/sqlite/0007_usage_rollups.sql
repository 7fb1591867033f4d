-- Metering, continued: rollups maintained as events commit, the sequence numbers each instance
-- has reported (for gaps), period-complete markers, corrections found by the event they
-- correct, and dead-letter replay. Values stay exact decimals in TEXT; instants are BIGINT unix
-- milliseconds.

-- Raw reads go by org, metric and time (the app is a filter). Without the app in it, this index
-- never looks like a better way than the primary key to find events by id, which the planner
-- would otherwise take it for while a table's statistics are stale.
DROP INDEX usage_events_by_metric_time;
CREATE INDEX usage_events_by_metric_time ON usage_events (org_id, metric, occurred_at);

-- Corrections (void, adjust) are found through the event they correct. Partial: usage events,
-- nearly every row, stay out of it, so it costs ingest nothing.
CREATE INDEX usage_events_by_correction ON usage_events (org_id, app_id, correction_of)
    WHERE correction_of IS NOT NULL;

-- One row per (app, metric, instance, 15-minute UTC bucket). Every window Plaza answers (hour,
-- day, month in any time zone whose offset is a whole number of quarter hours) is a union of
-- buckets. sum_value and event_count follow corrections exactly; max and latest are exact only
-- while corrected = 0 (a void or adjust touched the bucket), else they are recomputed from the
-- raw events of that bucket.
CREATE TABLE usage_rollups (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    app_id          TEXT NOT NULL,
    metric          TEXT NOT NULL,
    instance_id     TEXT NOT NULL,
    bucket          BIGINT NOT NULL,
    sum_value       TEXT NOT NULL,
    event_count     BIGINT NOT NULL,
    max_value       TEXT,
    latest_at       BIGINT,
    latest_event_id TEXT,
    latest_value    TEXT,
    corrected       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, app_id, metric, instance_id, bucket)
);
CREATE INDEX usage_rollups_by_metric_bucket ON usage_rollups (org_id, metric, bucket);

-- The sequence numbers each instance has reported, as sorted disjoint inclusive ranges
-- (JSON [[first, last], ...]): gaps are what lies between them.
CREATE TABLE usage_sequences (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    app_id       TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    ranges       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, instance_id)
);

-- "This instance has reported everything for [period_start, period_end): sequences
-- first_sequence..=last_sequence." Complete once none of them is missing.
CREATE TABLE usage_periods (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    app_id          TEXT NOT NULL,
    instance_id     TEXT NOT NULL,
    period_start    BIGINT NOT NULL,
    period_end      BIGINT NOT NULL,
    first_sequence  BIGINT NOT NULL,
    last_sequence   BIGINT NOT NULL,
    marked_by       TEXT NOT NULL,
    marked_at       BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, instance_id, period_start)
);

-- A replayed dead letter keeps its row (the record of what was rejected), marked with when it
-- was replayed and what the replay gave (accepted or duplicate).
ALTER TABLE usage_dead_letters ADD COLUMN replayed_at BIGINT;
ALTER TABLE usage_dead_letters ADD COLUMN replay_status TEXT;

-- Per-org metering settings; an org without a row uses the server's defaults.
CREATE TABLE usage_settings (
    org_id             TEXT PRIMARY KEY REFERENCES orgs (id),
    late_arrival_days  BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
