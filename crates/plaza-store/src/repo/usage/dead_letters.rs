//! The dead-letter store: rejected events with every reason, kept after a successful replay
//! with when it happened and what it gave.

use super::columns::json_text;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore};
use chrono::{DateTime, Utc};
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use plaza_core::usage::DeadLetter;
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str =
    "id, org_id, received_at, event_index, line, event, problems, replayed_at, replay_status";

fn from_row(row: &AnyRow) -> StoreResult<DeadLetter> {
    let c = Cols::of(row, "dead letter");
    let event: Option<String> = c.get("event")?;
    let replayed = match (
        c.opt_instant("replayed_at")?,
        c.get::<Option<String>>("replay_status")?,
    ) {
        (Some(at), Some(status)) => Some((at, status)),
        _ => None,
    };
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
        replayed,
    })
}

pub(super) async fn add(store: &SqlStore, letters: &[DeadLetter]) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
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

pub(super) async fn list(
    store: &SqlStore,
    org: &OrgId,
    limit: u32,
    include_replayed: bool,
) -> StoreResult<Vec<DeadLetter>> {
    let pending = if include_replayed {
        ""
    } else {
        " AND replayed_at IS NULL"
    };
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM usage_dead_letters WHERE org_id = $1{pending} \
         ORDER BY received_at, id LIMIT $2"
    ))
    .bind(org.as_str())
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(backend_err)?
    .iter()
    .map(from_row)
    .collect()
}

pub(super) async fn get(store: &SqlStore, org: &OrgId, id: &str) -> StoreResult<DeadLetter> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM usage_dead_letters WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(id)
    .fetch_optional(store.pool())
    .await
    .map_err(backend_err)?
    .ok_or_else(|| StoreError::NotFound {
        entity: "dead letter",
        key: id.to_owned(),
    })?;
    from_row(&row)
}

pub(super) async fn mark_replayed(
    store: &SqlStore,
    org: &OrgId,
    id: &str,
    at: DateTime<Utc>,
    status: &str,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE usage_dead_letters SET replayed_at = $1, replay_status = $2 \
         WHERE org_id = $3 AND id = $4",
    )
    .bind(millis(at))
    .bind(status)
    .bind(org.as_str())
    .bind(id)
    .execute(store.pool())
    .await
    .map_err(write_err("dead letter"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            entity: "dead letter",
            key: id.to_owned(),
        });
    }
    Ok(())
}
