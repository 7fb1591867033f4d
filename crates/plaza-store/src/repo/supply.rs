//! [`SupplyRepo`] on SQL: publishers' public keys (rotation and revocation in one transaction
//! with their audit record) and the imported OSV advisories with their package index.

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::repo::require_org;
use crate::repo::scans::insert_job;
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, UserId};
use plaza_core::ports::{StoreResult, SupplyRepo};
use plaza_core::supply::{KeyAlgorithm, PublisherKey, StoredAdvisory};
use plaza_core::supply_gate::SupplyJob;
use plaza_core::StoreError;
use sqlx::any::AnyRow;
use std::collections::HashMap;

const KEY_COLUMNS: &str = "org_id, key_id, publisher, algorithm, public_pem, not_before, \
                           not_after, revoked_at, revocation_reason, created_by, created_at";

fn key_from_row(row: &AnyRow) -> StoreResult<PublisherKey> {
    let c = Cols::of(row, "publisher key");
    let algorithm: String = c.get("algorithm")?;
    Ok(PublisherKey {
        org_id: OrgId(c.get("org_id")?),
        key_id: c.get("key_id")?,
        publisher: c.get("publisher")?,
        algorithm: KeyAlgorithm::parse(&algorithm).ok_or_else(|| StoreError::Corrupt {
            entity: "publisher key",
            detail: format!("unknown algorithm `{algorithm}`"),
        })?,
        public_pem: c.get("public_pem")?,
        not_before: c.instant("not_before")?,
        not_after: c.opt_instant("not_after")?,
        revoked_at: c.opt_instant("revoked_at")?,
        revocation_reason: c.get("revocation_reason")?,
        created_by: UserId(c.get("created_by")?),
        created_at: c.instant("created_at")?,
    })
}

#[async_trait::async_trait]
impl SupplyRepo for SqlStore {
    async fn create_publisher_key(
        &self,
        key: &PublisherKey,
        retire_others_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, &key.org_id).await?;
            let taken = sqlx::query(
                "SELECT publisher FROM publisher_keys WHERE org_id = $1 AND key_id = $2",
            )
            .bind(key.org_id.as_str())
            .bind(&key.key_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend_err)?;
            if let Some(row) = taken {
                let owner: String = Cols::of(&row, "publisher key").get("publisher")?;
                return Err(StoreError::Conflict {
                    entity: "publisher key",
                    detail: format!(
                        "key {} is already registered (for publisher `{owner}`); a key belongs \
                         to one publisher: generate a new one with `plaza keygen`",
                        key.key_id
                    ),
                });
            }
            if let Some(end) = retire_others_at {
                sqlx::query(
                    "UPDATE publisher_keys SET not_after = $1 WHERE org_id = $2 AND \
                     publisher = $3 AND revoked_at IS NULL AND \
                     (not_after IS NULL OR not_after > $1)",
                )
                .bind(millis(end))
                .bind(key.org_id.as_str())
                .bind(&key.publisher)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            }
            sqlx::query(&format!(
                "INSERT INTO publisher_keys ({KEY_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
            .bind(key.org_id.as_str())
            .bind(&key.key_id)
            .bind(&key.publisher)
            .bind(key.algorithm.as_str())
            .bind(&key.public_pem)
            .bind(millis(key.not_before))
            .bind(key.not_after.map(millis))
            .bind(key.revoked_at.map(millis))
            .bind(key.revocation_reason.clone())
            .bind(key.created_by.as_str())
            .bind(millis(key.created_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("publisher key"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_publisher_keys(
        &self,
        org: &OrgId,
        publisher: Option<&str>,
    ) -> StoreResult<Vec<PublisherKey>> {
        let rows = match publisher {
            Some(p) => sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM publisher_keys WHERE org_id = $1 AND publisher = $2 \
                 ORDER BY created_at, key_id"
            ))
            .bind(org.as_str())
            .bind(p.to_owned())
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?,
            None => sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM publisher_keys WHERE org_id = $1 \
                 ORDER BY created_at, key_id"
            ))
            .bind(org.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?,
        };
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_publisher_key(
        &self,
        org: &OrgId,
        key_id: &str,
        at: DateTime<Utc>,
        reason: &str,
        audit: &AuditEntry,
        job: Option<&SupplyJob>,
    ) -> StoreResult<PublisherKey> {
        let mut tx = self.write_tx().await?;
        let result = async {
            let key = revoke_key_in(&mut tx, org, key_id, at, reason, audit).await?;
            if let Some(job) = job {
                insert_job(&mut tx, job).await?;
            }
            Ok(key)
        }
        .await;
        finish(tx, result).await
    }

    async fn advisory_digests(&self) -> StoreResult<Vec<(String, String)>> {
        sqlx::query("SELECT id, digest FROM osv_advisories ORDER BY id")
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(|row| {
                let c = Cols::of(row, "advisory");
                Ok((c.get("id")?, c.get("digest")?))
            })
            .collect()
    }

    async fn apply_advisory_import(
        &self,
        upserts: &[StoredAdvisory],
        removals: &[String],
        at: DateTime<Utc>,
        audit: &AuditEntry,
        job: Option<&SupplyJob>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            apply_import_in(&mut tx, upserts, removals, at, audit).await?;
            if let Some(job) = job {
                insert_job(&mut tx, job).await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_advisories(&self) -> StoreResult<Vec<StoredAdvisory>> {
        let mut packages: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for row in sqlx::query(
            "SELECT advisory_id, ecosystem, name FROM osv_packages \
             ORDER BY advisory_id, ecosystem, name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        {
            let c = Cols::of(&row, "advisory package");
            packages
                .entry(c.get("advisory_id")?)
                .or_default()
                .push((c.get("ecosystem")?, c.get("name")?));
        }
        sqlx::query("SELECT id, digest, modified, withdrawn, body FROM osv_advisories ORDER BY id")
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(|row| {
                let c = Cols::of(row, "advisory");
                let id: String = c.get("id")?;
                let withdrawn: i64 = c.get("withdrawn")?;
                Ok(StoredAdvisory {
                    packages: packages.remove(&id).unwrap_or_default(),
                    id,
                    digest: c.get("digest")?,
                    modified: c.get("modified")?,
                    withdrawn: withdrawn != 0,
                    body: c.get("body")?,
                })
            })
            .collect()
    }
}

/// Revokes a key inside `tx` (with its audit record): the body of
/// [`SupplyRepo::revoke_publisher_key`], shared with the revocation that enqueues a re-scan.
async fn revoke_key_in(
    tx: &mut Tx,
    org: &OrgId,
    key_id: &str,
    at: DateTime<Utc>,
    reason: &str,
    audit: &AuditEntry,
) -> StoreResult<PublisherKey> {
    chain::append(tx, audit).await?;
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM publisher_keys WHERE org_id = $1 AND key_id = $2"
    ))
    .bind(org.as_str())
    .bind(key_id.to_owned())
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend_err)?;
    let Some(row) = row else {
        return Err(StoreError::NotFound {
            entity: "publisher key",
            key: key_id.to_owned(),
        });
    };
    let mut key = key_from_row(&row)?;
    if let Some(when) = key.revoked_at {
        return Err(StoreError::Conflict {
            entity: "publisher key",
            detail: format!("key {key_id} was already revoked at {}", when.to_rfc3339()),
        });
    }
    sqlx::query(
        "UPDATE publisher_keys SET revoked_at = $1, revocation_reason = $2 \
             WHERE org_id = $3 AND key_id = $4",
    )
    .bind(millis(at))
    .bind(reason.to_owned())
    .bind(org.as_str())
    .bind(key_id.to_owned())
    .execute(&mut **tx)
    .await
    .map_err(backend_err)?;
    key.revoked_at = Some(at);
    key.revocation_reason = Some(reason.to_owned());
    Ok(key)
}

/// Applies an advisory import inside `tx` (with its audit record): the body of
/// [`SupplyRepo::apply_advisory_import`], shared with the import that enqueues a re-scan.
async fn apply_import_in(
    tx: &mut Tx,
    upserts: &[StoredAdvisory],
    removals: &[String],
    at: DateTime<Utc>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    chain::append(tx, audit).await?;
    for id in removals.iter().chain(upserts.iter().map(|a| &a.id)) {
        sqlx::query("DELETE FROM osv_packages WHERE advisory_id = $1")
            .bind(id.clone())
            .execute(&mut **tx)
            .await
            .map_err(backend_err)?;
        sqlx::query("DELETE FROM osv_advisories WHERE id = $1")
            .bind(id.clone())
            .execute(&mut **tx)
            .await
            .map_err(backend_err)?;
    }
    for a in upserts {
        sqlx::query(
            "INSERT INTO osv_advisories (id, digest, modified, withdrawn, body, \
                 imported_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a.id.clone())
        .bind(a.digest.clone())
        .bind(a.modified.clone())
        .bind(i64::from(a.withdrawn))
        .bind(a.body.clone())
        .bind(millis(at))
        .execute(&mut **tx)
        .await
        .map_err(write_err("advisory"))?;
        let mut seen = std::collections::BTreeSet::new();
        for (ecosystem, name) in &a.packages {
            if !seen.insert((ecosystem, name)) {
                continue;
            }
            sqlx::query(
                "INSERT INTO osv_packages (advisory_id, ecosystem, name) \
                     VALUES ($1, $2, $3)",
            )
            .bind(a.id.clone())
            .bind(ecosystem.clone())
            .bind(name.clone())
            .execute(&mut **tx)
            .await
            .map_err(write_err("advisory package"))?;
        }
    }
    Ok(())
}
