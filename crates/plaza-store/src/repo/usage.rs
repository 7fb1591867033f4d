//! [`UsageRepo`] on SQL: accepted events keyed by (org, app, event id) so the primary key is the
//! permanent dedup, conflicts when an event id comes back with other content, and dead letters.
//! Values are exact decimals kept as TEXT and summed in Rust with `rust_decimal`, never as
//! floating point. Plain usage events take no audit record: the events table is itself the
//! record of what was counted (corrections, when they land, are audited).

use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::ids::OrgId;
use plaza_core::ports::{StoreResult, UsageRepo};
use plaza_core::usage::{DeadLetter, StoredOutcome};
use plaza_core::StoreError;
use plaza_metering::{Decimal, EventKind, ValidatedEvent};

fn kind_text(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Usage => "usage",
        EventKind::Void => "void",
        EventKind::Adjust => "adjust",
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding JSON: {e}")))
}

/// Inserts one event unless its (org, app, event id) is taken; says what happened.
async fn record_one(
    tx: &mut Tx,
    org: &OrgId,
    e: &ValidatedEvent,
    received_at: i64,
) -> StoreResult<StoredOutcome> {
    let sequence = e
        .sequence
        .map(i64::try_from)
        .transpose()
        .map_err(|_| StoreError::Backend("a sequence number beyond 2^63".into()))?;
    let inserted = sqlx::query(
        "INSERT INTO usage_events (org_id, app_id, event_id, instance_id, metric, value, unit, \
         original_value, original_unit, occurred_at, sequence, kind, correction_of, tags, \
         dimensions, content_hash, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (org_id, app_id, event_id) DO NOTHING",
    )
    .bind(org.as_str())
    .bind(&e.app_id)
    .bind(&e.event_id)
    .bind(&e.instance_id)
    .bind(&e.metric)
    .bind(e.value.to_string())
    .bind(&e.unit)
    .bind(e.original_value.to_string())
    .bind(&e.original_unit)
    .bind(millis(e.timestamp))
    .bind(sequence)
    .bind(kind_text(e.kind))
    .bind(e.correction_ref.as_deref())
    .bind(json_text(&e.tags)?)
    .bind(json_text(&e.dimensions)?)
    .bind(&e.content_hash)
    .bind(received_at)
    .execute(&mut **tx)
    .await
    .map_err(write_err("usage event"))?;
    if inserted.rows_affected() == 1 {
        return Ok(StoredOutcome::Accepted);
    }
    let row = sqlx::query(
        "SELECT content_hash FROM usage_events WHERE org_id = $1 AND app_id = $2 AND event_id = $3",
    )
    .bind(org.as_str())
    .bind(&e.app_id)
    .bind(&e.event_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend_err)?;
    let stored: String = Cols::of(&row, "usage event").get("content_hash")?;
    if stored == e.content_hash {
        return Ok(StoredOutcome::Duplicate);
    }
    sqlx::query(
        "INSERT INTO usage_conflicts (id, org_id, app_id, event_id, stored_hash, offered_hash, \
         offered, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(org.as_str())
    .bind(&e.app_id)
    .bind(&e.event_id)
    .bind(&stored)
    .bind(&e.content_hash)
    .bind(json_text(e)?)
    .bind(received_at)
    .execute(&mut **tx)
    .await
    .map_err(write_err("usage conflict"))?;
    Ok(StoredOutcome::Conflict)
}

#[async_trait::async_trait]
impl UsageRepo for SqlStore {
    async fn record_usage(
        &self,
        org: &OrgId,
        events: &[ValidatedEvent],
        received_at: DateTime<Utc>,
    ) -> StoreResult<Vec<StoredOutcome>> {
        let mut tx = self.write_tx().await?;
        let result = async {
            let mut outcomes = Vec::with_capacity(events.len());
            for e in events {
                outcomes.push(record_one(&mut tx, org, e, millis(received_at)).await?);
            }
            Ok(outcomes)
        }
        .await;
        finish(tx, result).await
    }

    async fn add_dead_letters(&self, letters: &[DeadLetter]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            for l in letters {
                let event = l.event.as_ref().map(json_text).transpose()?;
                sqlx::query(
                    "INSERT INTO usage_dead_letters (id, org_id, received_at, event_index, line, \
                     event, problems) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&l.id)
                .bind(l.org_id.as_str())
                .bind(millis(l.received_at))
                .bind(i64::try_from(l.index).unwrap_or(i64::MAX))
                .bind(i64::try_from(l.line).unwrap_or(i64::MAX))
                .bind(event)
                .bind(json_text(&l.problems)?)
                .execute(&mut *tx)
                .await
                .map_err(write_err("dead letter"))?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_dead_letters(&self, org: &OrgId, limit: u32) -> StoreResult<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, org_id, received_at, event_index, line, event, problems \
             FROM usage_dead_letters WHERE org_id = $1 ORDER BY received_at, id LIMIT $2",
        )
        .bind(org.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?;
        rows.iter()
            .map(|row| {
                let c = Cols::of(row, "dead letter");
                let event: Option<String> = c.get("event")?;
                Ok(DeadLetter {
                    id: c.get("id")?,
                    org_id: OrgId(c.get("org_id")?),
                    received_at: c.instant("received_at")?,
                    index: u64::try_from(c.get::<i64>("event_index")?).unwrap_or(0),
                    line: u64::try_from(c.get::<i64>("line")?).unwrap_or(0),
                    event: event
                        .map(|t| serde_json::from_str(&t))
                        .transpose()
                        .map_err(|e| c.corrupt(format!("event is not JSON: {e}")))?,
                    problems: c.json("problems")?,
                })
            })
            .collect()
    }

    async fn usage_total(
        &self,
        org: &OrgId,
        app_id: &str,
        metric: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<(String, u64)> {
        let rows = sqlx::query(
            "SELECT value FROM usage_events WHERE org_id = $1 AND app_id = $2 AND metric = $3 \
             AND kind = 'usage' AND occurred_at >= $4 AND occurred_at < $5",
        )
        .bind(org.as_str())
        .bind(app_id)
        .bind(metric)
        .bind(millis(from))
        .bind(millis(until))
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?;
        let mut total = Decimal::ZERO;
        for row in &rows {
            let c = Cols::of(row, "usage event");
            let text: String = c.get("value")?;
            let value: Decimal = text
                .parse()
                .map_err(|e| c.corrupt(format!("value `{text}` is not a decimal: {e}")))?;
            total = total
                .checked_add(value)
                .ok_or_else(|| StoreError::Backend("usage total overflows".into()))?;
        }
        Ok((total.normalize().to_string(), rows.len() as u64))
    }
}
