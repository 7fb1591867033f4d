//! [`AppRepo`] on SQL: app ids owned by one org, and their versions with JSON manifests (kept as
//! the exact JSON text).

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use plaza_core::apps::AppVersion;
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, UserId};
use plaza_core::ports::{AppRepo, StoreResult};
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str =
    "org_id, app_id, version, name, description, manifest, created_by, created_at";

fn app_from_row(row: &AnyRow) -> StoreResult<AppVersion> {
    let c = Cols::of(row, "app version");
    Ok(AppVersion {
        org_id: OrgId(c.get("org_id")?),
        app_id: c.get("app_id")?,
        version: c.get("version")?,
        name: c.get("name")?,
        description: c.get("description")?,
        manifest: c.json("manifest")?,
        created_by: UserId(c.get("created_by")?),
        created_at: c.instant("created_at")?,
    })
}

/// Makes `app.org_id` the owner of `app.app_id` if no org owns it yet; `Conflict` when another
/// org does.
async fn claim_app_id(tx: &mut Tx, app: &AppVersion) -> StoreResult<()> {
    let owner = sqlx::query("SELECT org_id FROM apps WHERE app_id = $1")
        .bind(&app.app_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?;
    match owner {
        Some(row) => {
            let owner: String = Cols::of(&row, "app").get("org_id")?;
            if owner != app.org_id.as_str() {
                return Err(StoreError::Conflict {
                    entity: "app",
                    detail: format!(
                        "app id `{}` belongs to another org; choose another id",
                        app.app_id
                    ),
                });
            }
        }
        None => {
            sqlx::query("INSERT INTO apps (app_id, org_id, created_at) VALUES ($1, $2, $3)")
                .bind(&app.app_id)
                .bind(app.org_id.as_str())
                .bind(millis(app.created_at))
                .execute(&mut **tx)
                .await
                .map_err(write_err("app"))?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl AppRepo for SqlStore {
    async fn create_app_version(&self, app: &AppVersion, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            if !exists(
                &mut tx,
                "SELECT 1 FROM orgs WHERE id = $1",
                &[app.org_id.as_str()],
            )
            .await?
            {
                return Err(StoreError::NotFound {
                    entity: "org",
                    key: app.org_id.to_string(),
                });
            }
            let user = "SELECT 1 FROM users WHERE id = $1";
            if !exists(&mut tx, user, &[app.created_by.as_str()]).await? {
                return Err(StoreError::NotFound {
                    entity: "user",
                    key: app.created_by.to_string(),
                });
            }
            claim_app_id(&mut tx, app).await?;
            let taken = "SELECT 1 FROM app_versions WHERE app_id = $1 AND version = $2";
            if exists(&mut tx, taken, &[&app.app_id, &app.version]).await? {
                return Err(StoreError::Conflict {
                    entity: "app version",
                    detail: format!(
                        "version {} of app `{}` is already registered; bump the version",
                        app.version, app.app_id
                    ),
                });
            }
            let manifest = serde_json::to_string(&app.manifest)
                .map_err(|e| StoreError::Backend(format!("manifest: {e}")))?;
            sqlx::query(
                "INSERT INTO app_versions (app_id, version, org_id, name, description, manifest, \
                 created_by, created_at, position) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, COALESCE(MAX(position), 0) + 1 \
                 FROM app_versions WHERE app_id = $9",
            )
            .bind(&app.app_id)
            .bind(&app.version)
            .bind(app.org_id.as_str())
            .bind(&app.name)
            .bind(app.description.clone())
            .bind(manifest)
            .bind(app.created_by.as_str())
            .bind(millis(app.created_at))
            .bind(&app.app_id)
            .execute(&mut *tx)
            .await
            .map_err(write_err("app version"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_app_version(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<AppVersion> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_versions \
             WHERE org_id = $1 AND app_id = $2 AND version = $3"
        ))
        .bind(org.as_str())
        .bind(app_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "app version",
            key: format!("{app_id}@{version}"),
        })?;
        app_from_row(&row)
    }

    async fn list_app_versions(&self, org: &OrgId) -> StoreResult<Vec<AppVersion>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_versions WHERE org_id = $1 ORDER BY app_id, position"
        ))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(app_from_row)
        .collect()
    }

    async fn latest_app_version(
        &self,
        org: &OrgId,
        app_id: &str,
    ) -> StoreResult<Option<AppVersion>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_versions WHERE org_id = $1 AND app_id = $2 \
             ORDER BY position DESC LIMIT 1"
        ))
        .bind(org.as_str())
        .bind(app_id)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .as_ref()
        .map(app_from_row)
        .transpose()
    }
}
