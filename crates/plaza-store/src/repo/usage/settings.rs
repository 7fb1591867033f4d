//! Per-org metering settings (`usage_settings`): the late-arrival window. An org without a row
//! uses the server's default.

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::repo::require_org;
use crate::store::{finish, SqlStore};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;

pub(super) async fn late_arrival_days(store: &SqlStore, org: &OrgId) -> StoreResult<Option<u32>> {
    let row = sqlx::query("SELECT late_arrival_days FROM usage_settings WHERE org_id = $1")
        .bind(org.as_str())
        .fetch_optional(store.pool())
        .await
        .map_err(backend_err)?;
    row.map(|row| {
        let c = Cols::of(&row, "usage settings");
        let days: i64 = c.get("late_arrival_days")?;
        u32::try_from(days).map_err(|_| c.corrupt(format!("late_arrival_days {days}")))
    })
    .transpose()
}

pub(super) async fn set_late_arrival_days(
    store: &SqlStore,
    org: &OrgId,
    days: Option<u32>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let result = async {
        chain::append(&mut tx, audit).await?;
        require_org(&mut tx, org).await?;
        match days {
            None => {
                sqlx::query("DELETE FROM usage_settings WHERE org_id = $1")
                    .bind(org.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_err)?;
            }
            Some(days) => {
                sqlx::query(
                    "INSERT INTO usage_settings (org_id, late_arrival_days, updated_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET \
                     late_arrival_days = excluded.late_arrival_days, updated_at = excluded.updated_at",
                )
                .bind(org.as_str())
                .bind(i64::from(days))
                .bind(millis(audit.at))
                .execute(&mut *tx)
                .await
                .map_err(write_err("usage settings"))?;
            }
        }
        Ok(())
    }
    .await;
    finish(tx, result).await
}
