//! [`UserRepo`] on SQL: users and their role sets (kept as comma-separated text).

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use plaza_core::audit::AuditEntry;
use plaza_core::identity::{RoleSet, User};
use plaza_core::ids::{OrgId, UserId};
use plaza_core::ports::{StoreResult, UserRepo};
use plaza_core::StoreError;
use sqlx::any::AnyRow;

/// The user columns, as selected from `users u`.
pub(crate) const COLUMNS: &str =
    "u.id, u.org_id, u.handle, u.display_name, u.email, u.external_subject, u.roles, u.created_at";

/// Decodes a row selected with [`COLUMNS`].
pub(crate) fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let c = Cols::of(row, "user");
    let roles: String = c.get("roles")?;
    Ok(User {
        id: UserId(c.get("id")?),
        org_id: OrgId(c.get("org_id")?),
        handle: c.get("handle")?,
        display_name: c.get("display_name")?,
        email: c.get("email")?,
        external_subject: c.get("external_subject")?,
        roles: RoleSet::from_csv(&roles).map_err(|e| c.corrupt(format!("column `roles`: {e}")))?,
        created_at: c.instant("created_at")?,
    })
}

/// Inserts `user` within `tx`: `NotFound` for no org, `Conflict` when the handle or external
/// subject is taken in the org.
pub(crate) async fn insert_user(tx: &mut Tx, user: &User) -> StoreResult<()> {
    let org = user.org_id.as_str();
    if !exists(tx, "SELECT 1 FROM orgs WHERE id = $1", &[org]).await? {
        return Err(StoreError::NotFound {
            entity: "org",
            key: org.to_owned(),
        });
    }
    let taken = "SELECT 1 FROM users WHERE org_id = $1 AND handle = $2";
    if exists(tx, taken, &[org, &user.handle]).await? {
        return Err(StoreError::Conflict {
            entity: "user",
            detail: format!("user `{}` already exists in this org", user.handle),
        });
    }
    if let Some(subject) = &user.external_subject {
        let taken = "SELECT 1 FROM users WHERE org_id = $1 AND external_subject = $2";
        if exists(tx, taken, &[org, subject]).await? {
            return Err(StoreError::Conflict {
                entity: "user",
                detail: format!(
                    "another user of this org already signs in as identity-provider subject \
                     `{subject}`"
                ),
            });
        }
    }
    if exists(tx, "SELECT 1 FROM users WHERE id = $1", &[user.id.as_str()]).await? {
        return Err(StoreError::Conflict {
            entity: "user",
            detail: format!("a user with id `{}` already exists", user.id),
        });
    }
    sqlx::query(
        "INSERT INTO users \
         (id, org_id, handle, display_name, email, external_subject, roles, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id.as_str())
    .bind(org)
    .bind(&user.handle)
    .bind(&user.display_name)
    .bind(user.email.clone())
    .bind(user.external_subject.clone())
    .bind(user.roles.to_csv())
    .bind(millis(user.created_at))
    .execute(&mut **tx)
    .await
    .map_err(write_err("user"))?;
    Ok(())
}

impl SqlStore {
    async fn find_user(&self, sql_where: &str, args: &[&str]) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users u WHERE {sql_where}");
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = query.bind(arg.to_string());
        }
        query
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }
}

#[async_trait::async_trait]
impl UserRepo for SqlStore {
    async fn create_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            insert_user(&mut tx, user).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_user(&self, id: &UserId) -> StoreResult<User> {
        self.find_user("u.id = $1", &[id.as_str()])
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                key: id.to_string(),
            })
    }

    async fn find_user_by_handle(&self, org: &OrgId, handle: &str) -> StoreResult<Option<User>> {
        self.find_user("u.org_id = $1 AND u.handle = $2", &[org.as_str(), handle])
            .await
    }

    async fn find_user_by_external_subject(
        &self,
        org: &OrgId,
        subject: &str,
    ) -> StoreResult<Option<User>> {
        self.find_user(
            "u.org_id = $1 AND u.external_subject = $2",
            &[org.as_str(), subject],
        )
        .await
    }

    async fn list_users(&self, org: &OrgId) -> StoreResult<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.handle"
        ))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn set_user_roles(
        &self,
        user: &UserId,
        roles: &RoleSet,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let updated = sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
                .bind(roles.to_csv())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?
                .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound {
                    entity: "user",
                    key: user.to_string(),
                });
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
