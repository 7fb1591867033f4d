//! [`TokenRepo`] on SQL: API tokens (hashes only), lookup by hash, revocation.

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, TokenId, UserId};
use plaza_core::ports::{StoreResult, TokenRepo};
use plaza_core::token::{ApiToken, TokenHash};
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, user_id, org_id, name, hash, created_at, expires_at, revoked_at";

fn token_from_row(row: &AnyRow) -> StoreResult<ApiToken> {
    let c = Cols::of(row, "token");
    Ok(ApiToken {
        id: TokenId(c.get("id")?),
        user_id: UserId(c.get("user_id")?),
        org_id: OrgId(c.get("org_id")?),
        name: c.get("name")?,
        hash: TokenHash(c.get("hash")?),
        created_at: c.instant("created_at")?,
        expires_at: c.opt_instant("expires_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
    })
}

/// Inserts `token` within `tx`: `NotFound` for no such user, `Conflict` when the user is in
/// another org than the token says or the hash is already stored.
pub(crate) async fn insert_token(tx: &mut Tx, token: &ApiToken) -> StoreResult<()> {
    let owner = sqlx::query("SELECT org_id FROM users WHERE id = $1")
        .bind(token.user_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "user",
            key: token.user_id.to_string(),
        })?;
    let owner_org: String = Cols::of(&owner, "user").get("org_id")?;
    if owner_org != token.org_id.as_str() {
        return Err(StoreError::Conflict {
            entity: "token",
            detail: format!(
                "user `{}` belongs to another org than the token names",
                token.user_id
            ),
        });
    }
    if exists(
        tx,
        "SELECT 1 FROM api_tokens WHERE hash = $1",
        &[&token.hash.0],
    )
    .await?
    {
        return Err(StoreError::Conflict {
            entity: "token",
            detail: "a token with this secret already exists; generate a new secret".into(),
        });
    }
    if exists(
        tx,
        "SELECT 1 FROM api_tokens WHERE id = $1",
        &[token.id.as_str()],
    )
    .await?
    {
        return Err(StoreError::Conflict {
            entity: "token",
            detail: format!("a token with id `{}` already exists", token.id),
        });
    }
    sqlx::query(
        "INSERT INTO api_tokens \
         (id, user_id, org_id, name, hash, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token.id.as_str())
    .bind(token.user_id.as_str())
    .bind(token.org_id.as_str())
    .bind(&token.name)
    .bind(&token.hash.0)
    .bind(millis(token.created_at))
    .bind(token.expires_at.map(millis))
    .bind(token.revoked_at.map(millis))
    .execute(&mut **tx)
    .await
    .map_err(write_err("token"))?;
    Ok(())
}

#[async_trait::async_trait]
impl TokenRepo for SqlStore {
    async fn create_token(&self, token: &ApiToken, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            insert_token(&mut tx, token).await
        }
        .await;
        finish(tx, result).await
    }

    async fn find_token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<ApiToken>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = $1"))
            .bind(&hash.0)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    async fn get_token(&self, id: &TokenId) -> StoreResult<ApiToken> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .ok_or_else(|| StoreError::NotFound {
                entity: "token",
                key: id.to_string(),
            })?;
        token_from_row(&row)
    }

    async fn list_tokens(&self, user: &UserId) -> StoreResult<Vec<ApiToken>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let row = sqlx::query("SELECT revoked_at FROM api_tokens WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "token",
                    key: id.to_string(),
                })?;
            if let Some(when) = Cols::of(&row, "token").opt_instant("revoked_at")? {
                return Err(StoreError::Conflict {
                    entity: "token",
                    detail: format!("token `{id}` was already revoked at {}", when.to_rfc3339()),
                });
            }
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                .bind(millis(at))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
