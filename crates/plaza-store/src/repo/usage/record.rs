//! The ingest write path, all in the caller's transaction:
//!
//! 1. Repeats inside the batch (same app and event id) are set aside; the first occurrence
//!    goes on.
//! 2. New usage events are inserted in multi-row statements; the primary key (org, app, event
//!    id) is the permanent dedup. On SQLite (one writer at a time) the stored ids are read
//!    first and only new rows inserted; on PostgreSQL `ON CONFLICT DO NOTHING RETURNING` says
//!    which rows went in. A row counted before is a duplicate or a conflict by its stored
//!    content hash.
//! 3. Corrections (`void`, `adjust`) are checked against the event they correct, inserted, and
//!    audited one by one.
//! 4. Repeats are resolved one by one against what is now stored.
//! 5. Rollups and sequence ranges take the batch's changes.

use super::columns::{
    bind_event, event_from_row, insert_sql, json_text, placeholders, EVENT_COLUMNS, ROWS_PER_INSERT,
};
use super::rollup::RollupDeltas;
use super::sequences::SequenceUpdates;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{Backend, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use plaza_core::usage::StoredOutcome;
use plaza_core::StoreError;
use plaza_metering::number::add_exact;
use plaza_metering::{Code, Decimal, EventKind, Problem, ValidatedEvent};
use std::collections::{HashMap, HashSet};

/// The state of one ingest transaction.
struct Batch<'a> {
    backend: Backend,
    org: &'a OrgId,
    received_at: i64,
    now: DateTime<Utc>,
    actor: &'a str,
    rollups: RollupDeltas,
    sequences: SequenceUpdates,
}

/// Records `events` (see the module documentation) and returns one outcome per event.
pub(super) async fn record(
    backend: Backend,
    tx: &mut Tx,
    org: &OrgId,
    events: &[ValidatedEvent],
    received_at: DateTime<Utc>,
    actor: &str,
) -> StoreResult<Vec<StoredOutcome>> {
    let mut batch = Batch {
        backend,
        org,
        received_at: millis(received_at),
        now: received_at,
        actor,
        rollups: RollupDeltas::default(),
        sequences: SequenceUpdates::default(),
    };
    let mut outcomes: Vec<Option<StoredOutcome>> = vec![None; events.len()];
    let mut first_seen: HashSet<(&str, &str)> = HashSet::with_capacity(events.len());
    let (mut fresh_usage, mut corrections, mut repeats) = (Vec::new(), Vec::new(), Vec::new());
    for (i, e) in events.iter().enumerate() {
        if !first_seen.insert((e.app_id.as_str(), e.event_id.as_str())) {
            repeats.push(i);
        } else if e.kind == EventKind::Usage {
            fresh_usage.push(i);
        } else {
            corrections.push(i);
        }
    }

    for chunk in fresh_usage.chunks(ROWS_PER_INSERT) {
        let rows: Vec<&ValidatedEvent> = chunk.iter().map(|&i| &events[i]).collect();
        let (inserted, stored) = batch.insert_new(tx, &rows).await?;
        for (&i, e) in chunk.iter().zip(&rows) {
            let key = (e.app_id.clone(), e.event_id.clone());
            outcomes[i] = Some(if inserted.contains(&key) {
                batch.counted(e)?;
                StoredOutcome::Accepted
            } else {
                batch
                    .against_stored(tx, e, stored.get(&key).cloned())
                    .await?
            });
        }
    }
    for i in corrections.into_iter().chain(repeats) {
        outcomes[i] = Some(batch.one(tx, &events[i]).await?);
    }

    if !batch.rollups.is_empty() {
        batch.rollups.apply(tx, org.as_str()).await?;
    }
    batch
        .sequences
        .apply(tx, org.as_str(), millis(received_at))
        .await?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(StoredOutcome::Duplicate))
        .collect())
}

/// The stored content hashes of `events` (by app and event id).
///
/// SQLite takes one `IN (…)` list per app. PostgreSQL is asked one id at a time: only rows the
/// insert skipped come here, and while a table's statistics are stale (autovacuum off, or
/// not caught up) its planner reads `event_id IN (…)` as a scan of every event of the app,
/// while an equality on the whole primary key is always an index lookup.
async fn stored_hashes<'e>(
    backend: Backend,
    tx: &mut Tx,
    org: &OrgId,
    events: impl Iterator<Item = &'e ValidatedEvent>,
) -> StoreResult<HashMap<(String, String), String>> {
    let mut by_app: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in events {
        by_app.entry(&e.app_id).or_default().push(&e.event_id);
    }
    let mut found = HashMap::new();
    for (app, ids) in by_app {
        if backend == Backend::Postgres {
            for id in ids {
                let row = sqlx::query(
                    "SELECT content_hash FROM usage_events \
                     WHERE org_id = $1 AND app_id = $2 AND event_id = $3",
                )
                .bind(org.as_str())
                .bind(app)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(backend_err)?;
                if let Some(row) = row {
                    let hash = Cols::of(&row, "usage event").get("content_hash")?;
                    found.insert((app.to_owned(), id.to_owned()), hash);
                }
            }
            continue;
        }
        for ids in ids.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "SELECT event_id, content_hash FROM usage_events \
                 WHERE org_id = {} AND app_id = {} AND event_id IN ({})",
                placeholders(backend, 1, 1),
                placeholders(backend, 2, 1),
                placeholders(backend, 3, ids.len())
            );
            let mut q = sqlx::query(&sql).bind(org.as_str()).bind(app);
            for id in ids {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut **tx).await.map_err(backend_err)? {
                let c = Cols::of(&row, "usage event");
                found.insert((app.to_owned(), c.get("event_id")?), c.get("content_hash")?);
            }
        }
    }
    Ok(found)
}

fn refused(code: Code, pointer: &str, message: String, hint: &str) -> StoredOutcome {
    StoredOutcome::Refused(vec![Problem {
        code,
        pointer: pointer.into(),
        message,
        hint: hint.into(),
        line: None,
        column: None,
    }])
}

impl Batch<'_> {
    /// Inserts the rows whose (app, event id) is not stored yet. Returns the keys inserted,
    /// and the stored content hash of every other row.
    ///
    /// On SQLite this transaction is the only writer, so the stored ids are read first and
    /// only the new rows inserted (cheaper than `RETURNING` every row). PostgreSQL writers run
    /// concurrently, so there the insert itself decides (`ON CONFLICT DO NOTHING RETURNING`)
    /// and the rows it skipped are looked up after.
    async fn insert_new(
        &mut self,
        tx: &mut Tx,
        rows: &[&ValidatedEvent],
    ) -> StoreResult<(HashSet<(String, String)>, HashMap<(String, String), String>)> {
        let key = |e: &ValidatedEvent| (e.app_id.clone(), e.event_id.clone());
        if self.backend == Backend::Sqlite {
            let stored = stored_hashes(self.backend, tx, self.org, rows.iter().copied()).await?;
            let new: Vec<&ValidatedEvent> = rows
                .iter()
                .copied()
                .filter(|e| !stored.contains_key(&key(e)))
                .collect();
            if !new.is_empty() {
                let sql = insert_sql(new.len(), self.backend, false);
                let mut q = sqlx::query(&sql);
                for e in &new {
                    q = bind_event(q, self.org.as_str(), e, self.received_at)?;
                }
                let done = q
                    .execute(&mut **tx)
                    .await
                    .map_err(write_err("usage event"))?;
                if done.rows_affected() != new.len() as u64 {
                    return Err(StoreError::Backend(format!(
                        "{} of {} new usage events were inserted while this transaction was the only writer",
                        done.rows_affected(),
                        new.len()
                    )));
                }
            }
            return Ok((new.into_iter().map(key).collect(), stored));
        }
        let sql = insert_sql(rows.len(), self.backend, true);
        let mut q = sqlx::query(&sql);
        for e in rows {
            q = bind_event(q, self.org.as_str(), e, self.received_at)?;
        }
        let mut inserted = HashSet::with_capacity(rows.len());
        for row in q
            .fetch_all(&mut **tx)
            .await
            .map_err(write_err("usage event"))?
        {
            let c = Cols::of(&row, "usage event");
            inserted.insert((c.get("app_id")?, c.get("event_id")?));
        }
        let skipped = rows.iter().copied().filter(|e| !inserted.contains(&key(e)));
        let stored = stored_hashes(self.backend, tx, self.org, skipped).await?;
        Ok((inserted, stored))
    }

    /// Notes a newly counted usage event for the rollups and sequence ranges.
    fn counted(&mut self, e: &ValidatedEvent) -> StoreResult<()> {
        self.rollups.add_usage(e)?;
        if let Some(n) = e.sequence {
            self.sequences.add(&e.app_id, &e.instance_id, n);
        }
        Ok(())
    }

    /// The outcome for an event whose id is already stored with `stored` as content hash
    /// (`None`: not stored after all, which only a concurrent writer's rollback can cause).
    async fn against_stored(
        &mut self,
        tx: &mut Tx,
        e: &ValidatedEvent,
        stored: Option<String>,
    ) -> StoreResult<StoredOutcome> {
        let Some(stored) = stored else {
            return Err(StoreError::Backend(format!(
                "usage event `{}` of `{}` was neither inserted nor found",
                e.event_id, e.app_id
            )));
        };
        if stored == e.content_hash {
            return Ok(StoredOutcome::Duplicate);
        }
        sqlx::query(
            "INSERT INTO usage_conflicts (id, org_id, app_id, event_id, stored_hash, \
             offered_hash, offered, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(self.org.as_str())
        .bind(&e.app_id)
        .bind(&e.event_id)
        .bind(&stored)
        .bind(&e.content_hash)
        .bind(json_text(e)?)
        .bind(self.received_at)
        .execute(&mut **tx)
        .await
        .map_err(write_err("usage conflict"))?;
        Ok(StoredOutcome::Conflict)
    }

    /// Records one event of any kind against what is stored now.
    async fn one(&mut self, tx: &mut Tx, e: &ValidatedEvent) -> StoreResult<StoredOutcome> {
        let stored = stored_hashes(self.backend, tx, self.org, std::iter::once(e)).await?;
        if let Some(hash) = stored.get(&(e.app_id.clone(), e.event_id.clone())) {
            return self.against_stored(tx, e, Some(hash.clone())).await;
        }
        if e.kind == EventKind::Usage {
            let (inserted, stored) = self.insert_new(tx, &[e]).await?;
            if inserted.is_empty() {
                let hash = stored.get(&(e.app_id.clone(), e.event_id.clone())).cloned();
                return self.against_stored(tx, e, hash).await;
            }
            self.counted(e)?;
            return Ok(StoredOutcome::Accepted);
        }
        self.correction(tx, e).await
    }

    /// Checks, stores and audits a `void` or `adjust`, and rolls its effect into the bucket of
    /// the event it corrects.
    async fn correction(&mut self, tx: &mut Tx, c: &ValidatedEvent) -> StoreResult<StoredOutcome> {
        let target_id = c.correction_ref.clone().unwrap_or_default();
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM usage_events \
             WHERE org_id = $1 AND app_id = $2 AND event_id = $3"
        ))
        .bind(self.org.as_str())
        .bind(&c.app_id)
        .bind(&target_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?;
        let target = match row.as_ref().map(event_from_row).transpose()? {
            Some(t) if t.kind == EventKind::Usage => t,
            Some(_) => {
                return Ok(refused(
                    Code::UnknownRef,
                    "/ref",
                    format!("`{target_id}` is itself a correction; a correction applies to a usage event"),
                    "set ref to the eventId of the usage event being corrected",
                ))
            }
            None => {
                return Ok(refused(
                    Code::UnknownRef,
                    "/ref",
                    format!("no usage event `{target_id}` of `{}` has been counted", c.app_id),
                    "check the ref; if the event is still on its way, replay this dead letter once it is counted",
                ))
            }
        };
        if target.metric != c.metric || target.instance_id != c.instance_id {
            return Ok(refused(
                Code::RefMismatch,
                if target.metric != c.metric { "/metric" } else { "/instanceId" },
                format!(
                    "`{target_id}` is metric `{}` of instance `{}`, the correction says metric `{}` of instance `{}`",
                    target.metric, target.instance_id, c.metric, c.instance_id
                ),
                "send the correction with the metric and instanceId of the event it corrects",
            ));
        }
        let (inserted, stored) = self.insert_new(tx, &[c]).await?;
        if inserted.is_empty() {
            let hash = stored.get(&(c.app_id.clone(), c.event_id.clone())).cloned();
            return self.against_stored(tx, c, hash).await;
        }

        // Its effect: nothing if the target was voided already; else a void takes the
        // target's value (with earlier adjustments) and the event out, an adjust adds.
        let earlier = sqlx::query(
            "SELECT kind, value FROM usage_events WHERE org_id = $1 AND app_id = $2 \
             AND correction_of = $3 AND event_id <> $4",
        )
        .bind(self.org.as_str())
        .bind(&c.app_id)
        .bind(&target_id)
        .bind(&c.event_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(backend_err)?;
        let mut voided = false;
        let mut adjusted = Decimal::ZERO;
        for row in &earlier {
            let cols = Cols::of(row, "usage event");
            if cols.get::<String>("kind")? == "void" {
                voided = true;
            } else {
                adjusted = add_exact(adjusted, super::columns::decimal(&cols, "value")?)
                    .unwrap_or(adjusted);
            }
        }
        if !voided {
            match c.kind {
                EventKind::Void => {
                    let effective = add_exact(target.value, adjusted).unwrap_or(target.value);
                    self.rollups.add_correction(&target, -effective, -1)?;
                }
                _ => self.rollups.add_correction(&target, c.value, 0)?,
            }
        }
        if let Some(n) = c.sequence {
            self.sequences.add(&c.app_id, &c.instance_id, n);
        }
        let entry = AuditEntry::new(
            self.now,
            Some(self.org.clone()),
            self.actor,
            format!("usage.{}", c.kind.as_str()),
            format!("usage-event:{}/{}", c.app_id, target_id),
            serde_json::json!({
                "eventId": c.event_id,
                "ref": target_id,
                "metric": c.metric,
                "instanceId": c.instance_id,
                "value": c.value.to_string(),
                "unit": c.unit,
                "correctsOccurredAt": target.timestamp.to_rfc3339(),
                "alreadyVoided": voided,
            }),
        );
        chain::append(tx, &entry).await?;
        Ok(StoredOutcome::Accepted)
    }
}
