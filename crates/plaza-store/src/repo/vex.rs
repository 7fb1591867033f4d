//! [`VexRepo`] on SQL: VEX statements per app, the statement kept as JSON.

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::repo::require_org;
use crate::store::{finish, SqlStore};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, UserId};
use plaza_core::ports::{StoreResult, VexRepo};
use plaza_core::supply_gate::VexStatement;
use plaza_core::StoreError;

#[async_trait::async_trait]
impl VexRepo for SqlStore {
    async fn create_vex(&self, st: &VexStatement, audit: &AuditEntry) -> StoreResult<()> {
        let statement =
            serde_json::to_string(&st.suppression).map_err(|e| StoreError::Corrupt {
                entity: "vex statement",
                detail: e.to_string(),
            })?;
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, &st.org_id).await?;
            sqlx::query(
                "INSERT INTO vex_statements (id, org_id, app_id, statement, created_by, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(st.id.clone())
            .bind(st.org_id.as_str())
            .bind(st.app_id.clone())
            .bind(statement)
            .bind(st.created_by.as_str())
            .bind(millis(st.created_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("vex statement"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_vex(&self, org: &OrgId, app_id: &str) -> StoreResult<Vec<VexStatement>> {
        sqlx::query(
            "SELECT id, org_id, app_id, statement, created_by, created_at FROM vex_statements \
             WHERE org_id = $1 AND app_id = $2 ORDER BY created_at, id",
        )
        .bind(org.as_str())
        .bind(app_id.to_owned())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(|row| {
            let c = Cols::of(row, "vex statement");
            Ok(VexStatement {
                id: c.get("id")?,
                org_id: OrgId(c.get("org_id")?),
                app_id: c.get("app_id")?,
                suppression: serde_json::from_value(c.json("statement")?).map_err(|e| {
                    StoreError::Corrupt {
                        entity: "vex statement",
                        detail: e.to_string(),
                    }
                })?,
                created_by: UserId(c.get("created_by")?),
                created_at: c.instant("created_at")?,
            })
        })
        .collect()
    }

    async fn delete_vex(&self, org: &OrgId, id: &str, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let gone = sqlx::query("DELETE FROM vex_statements WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(id.to_owned())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            if gone.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    entity: "vex statement",
                    key: id.to_owned(),
                });
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
