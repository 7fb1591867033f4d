//! [`RegistryRepo`] on SQL: the manifests each repository holds (annotations as the exact JSON
//! text), the blobs and child manifests they reference, tags, and the blobs a repository may
//! serve. Pushing and deleting manifests and deleting tags are audited; linking and unlinking
//! blobs is bookkeeping of uploads and takes no audit record.
//!
//! Repository names, digests and tags compare in byte order on both backends (SQLite's default
//! `BINARY` collation, `COLLATE "C"` columns on PostgreSQL), so `ORDER BY` needs no collation.

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::UserId;
use plaza_core::ports::{RegistryRepo, StoreResult};
use plaza_core::registry::StoredManifest;
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str = "repository, digest, media_type, artifact_type, subject, size, \
                       annotations, pushed_by, pushed_at";

fn manifest_from_row(row: &AnyRow) -> StoreResult<StoredManifest> {
    let c = Cols::of(row, "manifest");
    Ok(StoredManifest {
        repository: c.get("repository")?,
        digest: c.get("digest")?,
        media_type: c.get("media_type")?,
        artifact_type: c.get("artifact_type")?,
        subject: c.get("subject")?,
        size: c.get("size")?,
        annotations: c.json("annotations")?,
        pushed_by: c.get::<Option<String>>("pushed_by")?.map(UserId),
        pushed_at: c.instant("pushed_at")?,
    })
}

/// The text `column` of each row, rows of `entity`.
fn texts(rows: &[AnyRow], entity: &'static str, column: &str) -> StoreResult<Vec<String>> {
    rows.iter()
        .map(|row| Cols::of(row, entity).get(column))
        .collect()
}

/// Lets `repository` serve `digest`, within `tx`; linking twice is a no-op.
async fn link(tx: &mut Tx, repository: &str, digest: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO registry_blob_links (repository, digest) VALUES ($1, $2) \
         ON CONFLICT (repository, digest) DO NOTHING",
    )
    .bind(repository)
    .bind(digest)
    .execute(&mut **tx)
    .await
    .map_err(write_err("blob link"))?;
    Ok(())
}

/// Records the manifest row and the blobs it references (each once, however often listed).
async fn insert_manifest(tx: &mut Tx, m: &StoredManifest, blobs: &[String]) -> StoreResult<()> {
    let annotations = serde_json::to_string(&m.annotations)
        .map_err(|e| StoreError::Backend(format!("manifest annotations: {e}")))?;
    sqlx::query(&format!(
        "INSERT INTO registry_manifests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&m.repository)
    .bind(&m.digest)
    .bind(&m.media_type)
    .bind(m.artifact_type.clone())
    .bind(m.subject.clone())
    .bind(m.size)
    .bind(annotations)
    .bind(m.pushed_by.as_ref().map(|u| u.as_str().to_owned()))
    .bind(millis(m.pushed_at))
    .execute(&mut **tx)
    .await
    .map_err(write_err("manifest"))?;
    for blob in blobs {
        sqlx::query(
            "INSERT INTO registry_manifest_blobs (repository, manifest, blob) \
             VALUES ($1, $2, $3) ON CONFLICT (repository, manifest, blob) DO NOTHING",
        )
        .bind(&m.repository)
        .bind(&m.digest)
        .bind(blob)
        .execute(&mut **tx)
        .await
        .map_err(write_err("manifest blob reference"))?;
        link(tx, &m.repository, blob).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl RegistryRepo for SqlStore {
    async fn put_manifest(
        &self,
        manifest: &StoredManifest,
        blobs: &[String],
        tag: Option<&str>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let present = "SELECT 1 FROM registry_manifests WHERE repository = $1 AND digest = $2";
            // The same digest is the same bytes: a re-push only (re)points the tag.
            if !exists(&mut tx, present, &[&manifest.repository, &manifest.digest]).await? {
                insert_manifest(&mut tx, manifest, blobs).await?;
            }
            if let Some(tag) = tag {
                sqlx::query(
                    "INSERT INTO registry_tags (repository, tag, digest, updated_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (repository, tag) \
                     DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
                )
                .bind(&manifest.repository)
                .bind(tag)
                .bind(&manifest.digest)
                .bind(millis(manifest.pushed_at))
                .execute(&mut *tx)
                .await
                .map_err(write_err("tag"))?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> StoreResult<Option<StoredManifest>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM registry_manifests WHERE repository = $1 AND digest = $2"
        ))
        .bind(repository)
        .bind(digest)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .as_ref()
        .map(manifest_from_row)
        .transpose()
    }

    async fn resolve_tag(&self, repository: &str, tag: &str) -> StoreResult<Option<String>> {
        sqlx::query("SELECT digest FROM registry_tags WHERE repository = $1 AND tag = $2")
            .bind(repository)
            .bind(tag)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .map(|row| Cols::of(&row, "tag").get("digest"))
            .transpose()
    }

    async fn list_tags(&self, repository: &str) -> StoreResult<Vec<String>> {
        let mut tx = self.snapshot_tx().await?;
        let result = async {
            let any = "SELECT 1 FROM registry_manifests WHERE repository = $1";
            if !exists(&mut tx, any, &[repository]).await? {
                return Err(StoreError::NotFound {
                    entity: "repository",
                    key: repository.to_owned(),
                });
            }
            let rows =
                sqlx::query("SELECT tag FROM registry_tags WHERE repository = $1 ORDER BY tag")
                    .bind(repository)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend_err)?;
            texts(&rows, "tag", "tag")
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        // Its tags and blob references go with it (ON DELETE CASCADE).
        let sql = "DELETE FROM registry_manifests WHERE repository = $1 AND digest = $2";
        let missing = StoreError::NotFound {
            entity: "manifest",
            key: format!("{repository}@{digest}"),
        };
        delete_one(self, audit, sql, repository, digest, missing).await
    }

    async fn delete_tag(&self, repository: &str, tag: &str, audit: &AuditEntry) -> StoreResult<()> {
        let sql = "DELETE FROM registry_tags WHERE repository = $1 AND tag = $2";
        let missing = StoreError::NotFound {
            entity: "tag",
            key: format!("{repository}:{tag}"),
        };
        delete_one(self, audit, sql, repository, tag, missing).await
    }

    async fn referrers(&self, repository: &str, subject: &str) -> StoreResult<Vec<StoredManifest>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM registry_manifests WHERE repository = $1 AND subject = $2 \
             ORDER BY pushed_at, digest"
        ))
        .bind(repository)
        .bind(subject)
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(manifest_from_row)
        .collect()
    }

    async fn link_blob(&self, repository: &str, digest: &str) -> StoreResult<()> {
        // Bookkeeping of uploads: no audit record, so no chain append.
        let mut tx = self.write_tx().await?;
        let result = link(&mut tx, repository, digest).await;
        finish(tx, result).await
    }

    async fn blob_linked(&self, repository: &str, digest: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM registry_blob_links WHERE repository = $1 AND digest = $2")
                .bind(repository)
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(backend_err)?
                .is_some(),
        )
    }

    async fn namespace_blobs(&self, namespace: &str) -> StoreResult<Vec<String>> {
        // Namespaces are org slugs (letters, digits, hyphens), so LIKE needs no escaping.
        sqlx::query(
            "SELECT DISTINCT digest FROM registry_blob_links WHERE repository LIKE $1 ORDER BY digest",
        )
        .bind(format!("{namespace}/%"))
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(|row| Cols::of(row, "blob link").get("digest"))
        .collect()
    }

    async fn unlink_blob(&self, repository: &str, digest: &str) -> StoreResult<()> {
        // Bookkeeping of uploads: no audit record, so no chain append.
        let mut tx = self.write_tx().await?;
        let result = async {
            let deleted = sqlx::query(
                "DELETE FROM registry_blob_links WHERE repository = $1 AND digest = $2",
            )
            .bind(repository)
            .bind(digest)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?
            .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound {
                    entity: "blob",
                    key: format!("{repository}@{digest}"),
                });
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn referenced_digests(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT digest FROM registry_blob_links \
             UNION SELECT digest FROM registry_manifests \
             UNION SELECT blob AS digest FROM registry_manifest_blobs \
             ORDER BY digest",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?;
        texts(&rows, "digest", "digest")
    }

    async fn list_repositories(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT repository FROM registry_manifests \
             UNION SELECT repository FROM registry_blob_links \
             ORDER BY repository",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?;
        texts(&rows, "repository", "repository")
    }

    async fn open_upload(
        &self,
        id: &str,
        repository: &str,
        started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Bookkeeping of uploads: no audit record.
        sqlx::query(
            "INSERT INTO registry_uploads (id, repository, started_at) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(repository)
        .bind(millis(started_at))
        .execute(self.pool())
        .await
        .map_err(write_err("upload"))?;
        Ok(())
    }

    async fn upload_repository(&self, id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT repository FROM registry_uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?;
        row.map(|r| Cols::of(&r, "upload").get("repository"))
            .transpose()
    }

    async fn close_upload(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM registry_uploads WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }
}

/// Runs an audited `DELETE` of one row keyed by (`$1`, `$2`); `missing` when no row matched.
async fn delete_one(
    store: &SqlStore,
    audit: &AuditEntry,
    sql: &str,
    first: &str,
    second: &str,
    missing: StoreError,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    let result = async {
        chain::append(&mut tx, audit).await?;
        let deleted = sqlx::query(sql)
            .bind(first)
            .bind(second)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?
            .rows_affected();
        if deleted == 0 {
            return Err(missing);
        }
        Ok(())
    }
    .await;
    finish(tx, result).await
}
