//! Period-complete markers: an instance's word that it has sent every sequence number of a
//! period. Marking again for the same period start replaces the marker; both are audited.

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use plaza_core::usage::PeriodMarker;
use plaza_core::StoreError;

fn seq(n: u64) -> StoreResult<i64> {
    i64::try_from(n).map_err(|_| StoreError::Backend("a sequence number beyond 2^63".into()))
}

pub(super) async fn put(
    store: &SqlStore,
    org: &OrgId,
    m: &PeriodMarker,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let result = async {
        chain::append(&mut tx, audit).await?;
        sqlx::query(
            "DELETE FROM usage_periods WHERE org_id = $1 AND app_id = $2 AND instance_id = $3 \
             AND period_start = $4",
        )
        .bind(org.as_str())
        .bind(&m.app_id)
        .bind(&m.instance_id)
        .bind(millis(m.period_start))
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        sqlx::query(
            "INSERT INTO usage_periods (org_id, app_id, instance_id, period_start, period_end, \
             first_sequence, last_sequence, marked_by, marked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org.as_str())
        .bind(&m.app_id)
        .bind(&m.instance_id)
        .bind(millis(m.period_start))
        .bind(millis(m.period_end))
        .bind(seq(m.first_sequence)?)
        .bind(seq(m.last_sequence)?)
        .bind(&m.marked_by)
        .bind(millis(m.marked_at))
        .execute(&mut *tx)
        .await
        .map_err(write_err("usage period marker"))?;
        Ok(())
    }
    .await;
    finish(tx, result).await
}

pub(super) async fn list(
    store: &SqlStore,
    org: &OrgId,
    app_id: Option<&str>,
    instance_id: Option<&str>,
) -> StoreResult<Vec<PeriodMarker>> {
    let rows = sqlx::query(
        "SELECT app_id, instance_id, period_start, period_end, first_sequence, last_sequence, \
         marked_by, marked_at FROM usage_periods WHERE org_id = $1 \
         AND ($2 = '' OR app_id = $2) AND ($3 = '' OR instance_id = $3) \
         ORDER BY app_id, instance_id, period_start",
    )
    .bind(org.as_str())
    .bind(app_id.unwrap_or(""))
    .bind(instance_id.unwrap_or(""))
    .fetch_all(store.pool())
    .await
    .map_err(backend_err)?;
    rows.iter()
        .map(|row| {
            let c = Cols::of(row, "usage period marker");
            let n = |col: &str| -> StoreResult<u64> {
                u64::try_from(c.get::<i64>(col)?)
                    .map_err(|_| c.corrupt(format!("negative `{col}`")))
            };
            Ok(PeriodMarker {
                app_id: c.get("app_id")?,
                instance_id: c.get("instance_id")?,
                period_start: c.instant("period_start")?,
                period_end: c.instant("period_end")?,
                first_sequence: n("first_sequence")?,
                last_sequence: n("last_sequence")?,
                marked_by: c.get("marked_by")?,
                marked_at: c.instant("marked_at")?,
            })
        })
        .collect()
}
