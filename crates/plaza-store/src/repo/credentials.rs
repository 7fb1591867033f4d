//! [`CredentialRepo`] on SQL: Plaza's token-signing keys and the downstream credentials token
//! exchange issues (hashes only).

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::capability::SigningKey;
use plaza_core::ids::OrgId;
use plaza_core::install::{DownstreamCredential, InstanceId};
use plaza_core::ports::{CredentialRepo, StoreResult};
use plaza_core::token::TokenHash;
use plaza_core::StoreError;

#[async_trait::async_trait]
impl CredentialRepo for SqlStore {
    async fn create_signing_key(&self, key: &SigningKey, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            sqlx::query(
                "INSERT INTO signing_keys (kid, algorithm, private_pkcs8, public_x, created_at, \
                 signs_until, published_until) VALUES ($1, 'EdDSA', $2, $3, $4, $5, $6)",
            )
            .bind(&key.kid)
            .bind(&key.private_pkcs8)
            .bind(&key.public_x)
            .bind(millis(key.created_at))
            .bind(millis(key.signs_until))
            .bind(millis(key.published_until))
            .execute(&mut *tx)
            .await
            .map_err(write_err("signing key"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn published_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<Vec<SigningKey>> {
        sqlx::query(
            "SELECT kid, private_pkcs8, public_x, created_at, signs_until, published_until \
             FROM signing_keys WHERE published_until > $1 ORDER BY created_at DESC, kid",
        )
        .bind(millis(now))
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(|row| {
            let c = Cols::of(row, "signing key");
            Ok(SigningKey {
                kid: c.get("kid")?,
                private_pkcs8: c.get("private_pkcs8")?,
                public_x: c.get("public_x")?,
                created_at: c.instant("created_at")?,
                signs_until: c.instant("signs_until")?,
                published_until: c.instant("published_until")?,
            })
        })
        .collect()
    }

    async fn create_downstream_credential(
        &self,
        d: &DownstreamCredential,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let found = sqlx::query("SELECT 1 FROM instances WHERE id = $1 AND org_id = $2")
                .bind(d.instance_id.as_str())
                .bind(d.org_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_err)?;
            if found.is_none() {
                return Err(StoreError::NotFound {
                    entity: "instance",
                    key: d.instance_id.to_string(),
                });
            }
            sqlx::query(
                "INSERT INTO downstream_credentials (hash, org_id, instance_id, scope, provider, \
                 issued_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
            )
            .bind(&d.hash.0)
            .bind(d.org_id.as_str())
            .bind(d.instance_id.as_str())
            .bind(&d.scope)
            .bind(&d.provider)
            .bind(millis(d.issued_at))
            .bind(millis(d.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("downstream credential"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn find_downstream_credential(
        &self,
        hash: &TokenHash,
    ) -> StoreResult<Option<DownstreamCredential>> {
        let Some(row) = sqlx::query(
            "SELECT hash, org_id, instance_id, scope, provider, issued_at, expires_at, \
             revoked_at FROM downstream_credentials WHERE hash = $1",
        )
        .bind(&hash.0)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        else {
            return Ok(None);
        };
        let c = Cols::of(&row, "downstream credential");
        Ok(Some(DownstreamCredential {
            hash: TokenHash(c.get("hash")?),
            org_id: OrgId(c.get("org_id")?),
            instance_id: InstanceId(c.get("instance_id")?),
            scope: c.get("scope")?,
            provider: c.get("provider")?,
            issued_at: c.instant("issued_at")?,
            expires_at: c.instant("expires_at")?,
            revoked_at: c.opt_instant("revoked_at")?,
        }))
    }
}
