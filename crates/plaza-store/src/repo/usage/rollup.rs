//! Rollups kept up to date inside the ingest transaction. A batch first folds its changes into
//! [`RollupDeltas`] (one entry per app, metric, instance, app version and 15-minute bucket; a
//! correction changes the entry of the event it corrects), then applies
//! them in key order: each row is created or locked by an upsert that returns its current
//! values, and rewritten with the delta added. Key order keeps concurrent PostgreSQL writers
//! from deadlocking; SQLite writers are serialised anyway.

use super::columns::{decimal, opt_decimal};
use crate::db::{backend_err, write_err, Cols};
use crate::store::Tx;
use plaza_core::ports::StoreResult;
use plaza_core::usage::{rollup_bucket, UNKNOWN_VERSION};
use plaza_core::StoreError;
use plaza_metering::number::{add_exact, canonical};
use plaza_metering::{Decimal, ValidatedEvent};
use std::collections::BTreeMap;

/// (app, metric, instance, app version, bucket start in unix milliseconds).
type Key = (String, String, String, String, i64);

/// What one bucket's row must change by.
#[derive(Debug, Default)]
struct Delta {
    sum: Decimal,
    count: i64,
    max: Option<Decimal>,
    /// (timestamp ms, event id, value)
    latest: Option<(i64, String, Decimal)>,
    corrected: bool,
}

/// The changes a batch makes to the rollups.
#[derive(Debug, Default)]
pub(super) struct RollupDeltas {
    deltas: BTreeMap<Key, Delta>,
}

fn overflow(metric: &str) -> StoreError {
    StoreError::Backend(format!(
        "the rollup of metric `{metric}` left the decimal range"
    ))
}

/// The rollup row an event falls in: its app, metric, instance, recorded app version and
/// bucket.
fn key_of(e: &ValidatedEvent) -> Key {
    (
        e.app_id.clone(),
        e.metric.clone(),
        e.instance_id.clone(),
        e.app_version
            .clone()
            .unwrap_or_else(|| UNKNOWN_VERSION.to_owned()),
        rollup_bucket(e.timestamp).timestamp_millis(),
    )
}

impl RollupDeltas {
    /// Whether there is nothing to apply.
    pub(super) fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// A usage event was counted.
    pub(super) fn add_usage(&mut self, e: &ValidatedEvent) -> StoreResult<()> {
        let ms = e.timestamp.timestamp_millis();
        let d = self.deltas.entry(key_of(e)).or_default();
        let value = canonical(e.value);
        d.sum = add_exact(d.sum, value).ok_or_else(|| overflow(&e.metric))?;
        d.count += 1;
        d.max = Some(d.max.map_or(value, |m| m.max(value)));
        let newer = match &d.latest {
            None => true,
            Some((t, id, _)) => (ms, e.event_id.as_str()) > (*t, id.as_str()),
        };
        if newer {
            d.latest = Some((ms, e.event_id.clone(), value));
        }
        Ok(())
    }

    /// A correction changed the event `target` by `sum_change`
    /// and `count_change`.
    pub(super) fn add_correction(
        &mut self,
        target: &ValidatedEvent,
        sum_change: Decimal,
        count_change: i64,
    ) -> StoreResult<()> {
        let d = self.deltas.entry(key_of(target)).or_default();
        d.sum = add_exact(d.sum, sum_change).ok_or_else(|| overflow(&target.metric))?;
        d.count += count_change;
        d.corrected = true;
        Ok(())
    }

    /// Writes every delta into `usage_rollups`.
    pub(super) async fn apply(self, tx: &mut Tx, org: &str) -> StoreResult<()> {
        for ((app, metric, instance, version, bucket), d) in self.deltas {
            let row = sqlx::query(
                "INSERT INTO usage_rollups (org_id, app_id, metric, instance_id, app_version, \
                 bucket, sum_value, event_count, corrected) \
                 VALUES ($1, $2, $3, $4, $5, $6, '0', 0, 0) \
                 ON CONFLICT (org_id, app_id, metric, instance_id, app_version, bucket) \
                 DO UPDATE SET event_count = usage_rollups.event_count \
                 RETURNING sum_value, event_count, max_value, latest_at, latest_event_id, \
                 latest_value, corrected",
            )
            .bind(org)
            .bind(&app)
            .bind(&metric)
            .bind(&instance)
            .bind(&version)
            .bind(bucket)
            .fetch_one(&mut **tx)
            .await
            .map_err(backend_err)?;
            let c = Cols::of(&row, "usage rollup");
            let sum =
                add_exact(decimal(&c, "sum_value")?, d.sum).ok_or_else(|| overflow(&metric))?;
            let count = c.get::<i64>("event_count")? + d.count;
            let max = match (opt_decimal(&c, "max_value")?, d.max) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let stored_latest = match c.get::<Option<i64>>("latest_at")? {
                Some(at) => Some((
                    at,
                    c.get::<Option<String>>("latest_event_id")?
                        .unwrap_or_default(),
                    opt_decimal(&c, "latest_value")?.unwrap_or_default(),
                )),
                None => None,
            };
            let latest = match (stored_latest, d.latest) {
                (Some(a), Some(b)) => Some(if (b.0, &b.1) > (a.0, &a.1) { b } else { a }),
                (a, b) => a.or(b),
            };
            let corrected = c.get::<i64>("corrected")? != 0 || d.corrected;
            sqlx::query(
                "UPDATE usage_rollups SET sum_value = $1, event_count = $2, max_value = $3, \
                 latest_at = $4, latest_event_id = $5, latest_value = $6, corrected = $7 \
                 WHERE org_id = $8 AND app_id = $9 AND metric = $10 AND instance_id = $11 \
                 AND app_version = $12 AND bucket = $13",
            )
            .bind(canonical(sum).to_string())
            .bind(count)
            .bind(max.map(|m| m.to_string()))
            .bind(latest.as_ref().map(|l| l.0))
            .bind(latest.as_ref().map(|l| l.1.clone()))
            .bind(latest.as_ref().map(|l| l.2.to_string()))
            .bind(i64::from(corrected))
            .bind(org)
            .bind(&app)
            .bind(&metric)
            .bind(&instance)
            .bind(&version)
            .bind(bucket)
            .execute(&mut **tx)
            .await
            .map_err(write_err("usage rollup"))?;
        }
        Ok(())
    }
}
