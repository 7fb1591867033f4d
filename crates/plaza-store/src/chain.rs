//! The audit chain inside a transaction: appending a record (which takes the chain's lock by
//! updating the one-row `audit_head` first), and decoding stored records.

use crate::db::{backend_err, millis, Cols};
use crate::store::Tx;
use plaza_core::audit::{chain_hash, truncate_to_millis, AuditEntry, AuditRecord, ChainHead};
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use sqlx::any::AnyRow;

/// The columns of `audit_log`, in the order [`record_from_row`] reads them.
pub(crate) const RECORD_COLUMNS: &str =
    "seq, at, org_id, actor, action, target, details, prev_hash, hash";

/// Appends `entry` to the chain within `tx` and returns the stored record.
///
/// The first statement bumps the head's sequence number: that write locks the head row (in
/// PostgreSQL) or happens under the database write lock (in SQLite), so concurrent appenders
/// are serialised and each sees the hash its predecessor committed.
pub(crate) async fn append(tx: &mut Tx, entry: &AuditEntry) -> StoreResult<AuditRecord> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await
        .map_err(backend_err)?;
    let head = Cols::of(&row, "audit head");
    let seq: i64 = head.get("seq")?;
    let prev_hash: String = head.get("hash")?;

    let entry = AuditEntry {
        at: truncate_to_millis(entry.at),
        ..entry.clone()
    };
    let hash = chain_hash(seq, &entry, &prev_hash);
    let details = serde_json::to_string(&entry.details)
        .map_err(|e| plaza_core::StoreError::Backend(format!("audit details: {e}")))?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, org_id, actor, action, target, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(millis(entry.at))
    .bind(entry.org_id.as_ref().map(|o| o.as_str().to_owned()))
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await
    .map_err(backend_err)?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
    Ok(AuditRecord {
        seq,
        entry,
        prev_hash,
        hash,
    })
}

/// Appends every entry, in order.
pub(crate) async fn append_all(tx: &mut Tx, entries: &[AuditEntry]) -> StoreResult<()> {
    for entry in entries {
        append(tx, entry).await?;
    }
    Ok(())
}

/// Reads the head within `tx`.
pub(crate) async fn head(tx: &mut Tx) -> StoreResult<ChainHead> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await
        .map_err(backend_err)?;
    let cols = Cols::of(&row, "audit head");
    Ok(ChainHead {
        seq: cols.get("seq")?,
        hash: cols.get("hash")?,
    })
}

/// Decodes a row selected with [`RECORD_COLUMNS`].
pub(crate) fn record_from_row(row: &AnyRow) -> StoreResult<AuditRecord> {
    let c = Cols::of(row, "audit record");
    Ok(AuditRecord {
        seq: c.get("seq")?,
        entry: AuditEntry {
            at: c.instant("at")?,
            org_id: c.get::<Option<String>>("org_id")?.map(OrgId),
            actor: c.get("actor")?,
            action: c.get("action")?,
            target: c.get("target")?,
            details: c.json("details")?,
        },
        prev_hash: c.get("prev_hash")?,
        hash: c.get("hash")?,
    })
}
