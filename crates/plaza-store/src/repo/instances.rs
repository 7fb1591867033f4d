//! [`InstanceRepo`] on SQL: instances with their grants as JSON documents, optimistic updates by
//! revision, revocation of downstream credentials at uninstall, and the grant-use record.

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, TeamId, UserId};
use plaza_core::install::{BillingMode, GrantKind, GrantUse, Instance, InstanceId, InstanceStatus};
use plaza_core::ports::{InstanceFilter, InstanceRepo, StoreResult};
use plaza_core::StoreError;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, org_id, team_id, app_id, version, spiffe_id, tags, billing_mode, \
     auto_upgrade, status, grant_doc, previous_doc, pending_doc, created_by, created_at, \
     updated_at, revision";

fn instance_from_row(row: &AnyRow) -> StoreResult<Instance> {
    let c = Cols::of(row, "instance");
    let doc = |col: &str| -> StoreResult<Option<String>> { c.get(col) };
    fn parse<T: DeserializeOwned>(c: &Cols<'_>, col: &str, text: &str) -> StoreResult<T> {
        serde_json::from_str(text).map_err(|e| c.corrupt(format!("{col}: {e}")))
    }
    let billing: String = c.get("billing_mode")?;
    let status: String = c.get("status")?;
    let auto: i64 = c.get("auto_upgrade")?;
    Ok(Instance {
        id: InstanceId(c.get("id")?),
        org_id: OrgId(c.get("org_id")?),
        team_id: TeamId(c.get("team_id")?),
        app_id: c.get("app_id")?,
        version: c.get("version")?,
        spiffe_id: c.get("spiffe_id")?,
        tags: parse(&c, "tags", &c.get::<String>("tags")?)?,
        billing_mode: BillingMode::parse(&billing)
            .ok_or_else(|| c.corrupt(format!("billing mode `{billing}`")))?,
        auto_upgrade: auto != 0,
        status: InstanceStatus::parse(&status)
            .ok_or_else(|| c.corrupt(format!("status `{status}`")))?,
        grant: parse(&c, "grant_doc", &c.get::<String>("grant_doc")?)?,
        previous: doc("previous_doc")?
            .map(|t| parse(&c, "previous_doc", &t))
            .transpose()?,
        pending_upgrade: doc("pending_doc")?
            .map(|t| parse(&c, "pending_doc", &t))
            .transpose()?,
        created_by: UserId(c.get("created_by")?),
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        revision: c.get("revision")?,
    })
}

/// A value as the JSON text a document column holds.
fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

#[async_trait::async_trait]
impl InstanceRepo for SqlStore {
    async fn create_instance(&self, i: &Instance, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let team_ok = "SELECT 1 FROM teams WHERE id = $1 AND org_id = $2";
            if !exists(&mut tx, team_ok, &[i.team_id.as_str(), i.org_id.as_str()]).await? {
                return Err(StoreError::NotFound {
                    entity: "team",
                    key: i.team_id.to_string(),
                });
            }
            let version_ok =
                "SELECT 1 FROM app_versions WHERE org_id = $1 AND app_id = $2 AND version = $3";
            if !exists(
                &mut tx,
                version_ok,
                &[i.org_id.as_str(), &i.app_id, &i.version],
            )
            .await?
            {
                return Err(StoreError::NotFound {
                    entity: "app version",
                    key: format!("{}@{}", i.app_id, i.version),
                });
            }
            let user = "SELECT 1 FROM users WHERE id = $1";
            if !exists(&mut tx, user, &[i.created_by.as_str()]).await? {
                return Err(StoreError::NotFound {
                    entity: "user",
                    key: i.created_by.to_string(),
                });
            }
            if exists(
                &mut tx,
                "SELECT 1 FROM instances WHERE id = $1",
                &[i.id.as_str()],
            )
            .await?
            {
                return Err(StoreError::Conflict {
                    entity: "instance",
                    detail: format!(
                        "an instance `{}` already exists; choose another id or let Plaza \
                         generate one",
                        i.id
                    ),
                });
            }
            sqlx::query(&format!(
                "INSERT INTO instances ({COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
            ))
            .bind(i.id.as_str())
            .bind(i.org_id.as_str())
            .bind(i.team_id.as_str())
            .bind(&i.app_id)
            .bind(&i.version)
            .bind(&i.spiffe_id)
            .bind(json_text(&i.tags)?)
            .bind(i.billing_mode.as_str())
            .bind(i64::from(i.auto_upgrade))
            .bind(i.status.as_str())
            .bind(json_text(&i.grant)?)
            .bind(i.previous.as_ref().map(json_text).transpose()?)
            .bind(i.pending_upgrade.as_ref().map(json_text).transpose()?)
            .bind(i.created_by.as_str())
            .bind(millis(i.created_at))
            .bind(millis(i.updated_at))
            .bind(i.revision)
            .execute(&mut *tx)
            .await
            .map_err(write_err("instance"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_instance(&self, id: &InstanceId) -> StoreResult<Instance> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .ok_or_else(|| StoreError::NotFound {
                entity: "instance",
                key: id.to_string(),
            })?;
        instance_from_row(&row)
    }

    async fn list_instances(
        &self,
        org: &OrgId,
        filter: &InstanceFilter,
    ) -> StoreResult<Vec<Instance>> {
        let mut sql = format!("SELECT {COLUMNS} FROM instances WHERE org_id = $1");
        let mut args = vec![org.as_str().to_owned()];
        if let Some(app) = &filter.app_id {
            args.push(app.clone());
            sql.push_str(&format!(" AND app_id = ${}", args.len()));
        }
        if let Some(team) = &filter.team_id {
            args.push(team.as_str().to_owned());
            sql.push_str(&format!(" AND team_id = ${}", args.len()));
        }
        if !filter.include_uninstalled {
            sql.push_str(" AND status <> 'uninstalled'");
        }
        sql.push_str(" ORDER BY created_at, id");
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = query.bind(arg);
        }
        query
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(instance_from_row)
            .collect()
    }

    async fn update_instance(&self, i: &Instance, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let updated = sqlx::query(
                "UPDATE instances SET version = $1, tags = $2, billing_mode = $3, \
                 auto_upgrade = $4, status = $5, grant_doc = $6, previous_doc = $7, \
                 pending_doc = $8, updated_at = $9, revision = $10 \
                 WHERE id = $11 AND revision = $12",
            )
            .bind(&i.version)
            .bind(json_text(&i.tags)?)
            .bind(i.billing_mode.as_str())
            .bind(i64::from(i.auto_upgrade))
            .bind(i.status.as_str())
            .bind(json_text(&i.grant)?)
            .bind(i.previous.as_ref().map(json_text).transpose()?)
            .bind(i.pending_upgrade.as_ref().map(json_text).transpose()?)
            .bind(millis(i.updated_at))
            .bind(i.revision)
            .bind(i.id.as_str())
            .bind(i.revision - 1)
            .execute(&mut *tx)
            .await
            .map_err(write_err("instance"))?
            .rows_affected();
            if updated != 1 {
                let found = exists(
                    &mut tx,
                    "SELECT 1 FROM instances WHERE id = $1",
                    &[i.id.as_str()],
                )
                .await?;
                return Err(if found {
                    StoreError::Conflict {
                        entity: "instance",
                        detail: format!(
                            "instance `{}` was changed by someone else meanwhile; read it again \
                             and retry",
                            i.id
                        ),
                    }
                } else {
                    StoreError::NotFound {
                        entity: "instance",
                        key: i.id.to_string(),
                    }
                });
            }
            if i.status == InstanceStatus::Uninstalled {
                sqlx::query(
                    "UPDATE downstream_credentials SET revoked_at = $1 \
                     WHERE instance_id = $2 AND revoked_at IS NULL",
                )
                .bind(millis(i.updated_at))
                .bind(i.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn record_grant_use(
        &self,
        instance: &InstanceId,
        kind: GrantKind,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO grant_uses (instance_id, kind, name, last_used_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (instance_id, kind, name) \
             DO UPDATE SET last_used_at = excluded.last_used_at \
             WHERE grant_uses.last_used_at < excluded.last_used_at",
        )
        .bind(instance.as_str())
        .bind(kind.as_str())
        .bind(name)
        .bind(millis(at))
        .execute(self.pool())
        .await
        .map_err(write_err("grant use"))?;
        Ok(())
    }

    async fn grant_uses(&self, instance: &InstanceId) -> StoreResult<Vec<GrantUse>> {
        let rows =
            sqlx::query("SELECT kind, name, last_used_at FROM grant_uses WHERE instance_id = $1")
                .bind(instance.as_str())
                .fetch_all(self.pool())
                .await
                .map_err(backend_err)?;
        let mut uses = rows
            .iter()
            .map(|row| {
                let c = Cols::of(row, "grant use");
                let kind: String = c.get("kind")?;
                Ok(GrantUse {
                    kind: GrantKind::parse(&kind)
                        .ok_or_else(|| c.corrupt(format!("kind `{kind}`")))?,
                    name: c.get("name")?,
                    last_used_at: c.instant("last_used_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // By kind, then name in byte order on both backends: `grant_uses.name` has the
        // database's default collation on PostgreSQL, so an `ORDER BY` there would follow the
        // server's locale (`Mail.Send` after `calendar.read`) where SQLite compares bytes.
        uses.sort_by(|a, b| (a.kind.as_str(), &a.name).cmp(&(b.kind.as_str(), &b.name)));
        Ok(uses)
    }
}
