//! [`OrgRepo`] on SQL: organisations, and creating an org with its first admin in one go.

use super::exists;
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use plaza_core::audit::AuditEntry;
use plaza_core::identity::{Org, User};
use plaza_core::ids::OrgId;
use plaza_core::ports::{OrgRepo, StoreResult};
use plaza_core::token::ApiToken;
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, slug, name, created_at";

fn org_from_row(row: &AnyRow) -> StoreResult<Org> {
    let c = Cols::of(row, "org");
    Ok(Org {
        id: OrgId(c.get("id")?),
        slug: c.get("slug")?,
        name: c.get("name")?,
        created_at: c.instant("created_at")?,
    })
}

/// Inserts `org` within `tx`; `Conflict` when its slug is taken.
async fn insert_org(tx: &mut Tx, org: &Org) -> StoreResult<()> {
    if exists(tx, "SELECT 1 FROM orgs WHERE slug = $1", &[&org.slug]).await? {
        return Err(StoreError::Conflict {
            entity: "org",
            detail: format!("org `{}` already exists", org.slug),
        });
    }
    sqlx::query("INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org.id.as_str())
        .bind(&org.slug)
        .bind(&org.name)
        .bind(millis(org.created_at))
        .execute(&mut **tx)
        .await
        .map_err(write_err("org"))?;
    Ok(())
}

#[async_trait::async_trait]
impl OrgRepo for SqlStore {
    async fn create_org(&self, org: &Org, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            insert_org(&mut tx, org).await
        }
        .await;
        finish(tx, result).await
    }

    async fn create_org_with_admin(
        &self,
        org: &Org,
        admin: &User,
        token: &ApiToken,
        audit: &[AuditEntry],
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append_all(&mut tx, audit).await?;
            insert_org(&mut tx, org).await?;
            super::users::insert_user(&mut tx, admin).await?;
            super::tokens::insert_token(&mut tx, token).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_org(&self, id: &OrgId) -> StoreResult<Org> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orgs WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .ok_or_else(|| StoreError::NotFound {
                entity: "org",
                key: id.to_string(),
            })?;
        org_from_row(&row)
    }

    async fn find_org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM orgs WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?
            .as_ref()
            .map(org_from_row)
            .transpose()
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM orgs ORDER BY slug"))
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(org_from_row)
            .collect()
    }
}
