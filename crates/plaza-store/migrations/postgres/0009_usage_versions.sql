-- Usage by app version: every usage event records the app version its instance ran when the
-- event was accepted, and the rollups are kept per version too, so a query filtered or grouped
-- by version reads rollups. Events and rollups stored before this migration get the version ''
-- ("unknown, recorded before versions were kept"). A constant default is only catalog
-- metadata: adding the columns rewrites no row.

ALTER TABLE usage_events ADD COLUMN app_version TEXT COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE usage_rollups ADD COLUMN app_version TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE usage_rollups DROP CONSTRAINT usage_rollups_pkey;
ALTER TABLE usage_rollups
    ADD PRIMARY KEY (org_id, app_id, metric, instance_id, app_version, bucket);
