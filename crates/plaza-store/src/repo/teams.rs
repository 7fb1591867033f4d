//! [`TeamRepo`] on SQL: teams and their memberships.

use super::{exists, user_from_row};
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use plaza_core::audit::AuditEntry;
use plaza_core::identity::{Team, TeamSettings, User};
use plaza_core::ids::{OrgId, TeamId, UserId};
use plaza_core::ports::{StoreResult, TeamRepo};
use plaza_core::StoreError;
use sqlx::any::AnyRow;

const COLUMNS: &str = "t.id, t.org_id, t.slug, t.name, t.created_at";

/// Decodes a row selected with [`COLUMNS`].
fn team_from_row(row: &AnyRow) -> StoreResult<Team> {
    let c = Cols::of(row, "team");
    Ok(Team {
        id: TeamId(c.get("id")?),
        org_id: OrgId(c.get("org_id")?),
        slug: c.get("slug")?,
        name: c.get("name")?,
        created_at: c.instant("created_at")?,
    })
}

/// The team's org and slug, or `NotFound`.
async fn team_key(tx: &mut Tx, team: &TeamId) -> StoreResult<(String, String)> {
    let row = sqlx::query("SELECT org_id, slug FROM teams WHERE id = $1")
        .bind(team.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "team",
            key: team.to_string(),
        })?;
    let c = Cols::of(&row, "team");
    Ok((c.get("org_id")?, c.get("slug")?))
}

/// The user's org and handle, or `NotFound`.
async fn user_key(tx: &mut Tx, user: &UserId) -> StoreResult<(String, String)> {
    let row = sqlx::query("SELECT org_id, handle FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "user",
            key: user.to_string(),
        })?;
    let c = Cols::of(&row, "user");
    Ok((c.get("org_id")?, c.get("handle")?))
}

#[async_trait::async_trait]
impl TeamRepo for SqlStore {
    async fn create_team(&self, team: &Team, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            if !exists(
                &mut tx,
                "SELECT 1 FROM orgs WHERE id = $1",
                &[team.org_id.as_str()],
            )
            .await?
            {
                return Err(StoreError::NotFound {
                    entity: "org",
                    key: team.org_id.to_string(),
                });
            }
            let taken = "SELECT 1 FROM teams WHERE org_id = $1 AND slug = $2";
            if exists(&mut tx, taken, &[team.org_id.as_str(), &team.slug]).await? {
                return Err(StoreError::Conflict {
                    entity: "team",
                    detail: format!("team `{}` already exists in this org", team.slug),
                });
            }
            sqlx::query(
                "INSERT INTO teams (id, org_id, slug, name, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(team.id.as_str())
            .bind(team.org_id.as_str())
            .bind(&team.slug)
            .bind(&team.name)
            .bind(millis(team.created_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("team"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_team_by_slug(&self, org: &OrgId, slug: &str) -> StoreResult<Team> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM teams t WHERE t.org_id = $1 AND t.slug = $2"
        ))
        .bind(org.as_str())
        .bind(slug)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "team",
            key: slug.to_owned(),
        })?;
        team_from_row(&row)
    }

    async fn list_teams(&self, org: &OrgId) -> StoreResult<Vec<Team>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM teams t WHERE t.org_id = $1 ORDER BY t.slug"
        ))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(team_from_row)
        .collect()
    }

    async fn add_team_member(
        &self,
        team: &TeamId,
        user: &UserId,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let (team_org, slug) = team_key(&mut tx, team).await?;
            let (user_org, handle) = user_key(&mut tx, user).await?;
            if team_org != user_org {
                return Err(StoreError::Conflict {
                    entity: "team member",
                    detail: format!("user `{handle}` belongs to another org than team `{slug}`"),
                });
            }
            let member = "SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2";
            if exists(&mut tx, member, &[team.as_str(), user.as_str()]).await? {
                return Err(StoreError::Conflict {
                    entity: "team member",
                    detail: format!("user `{handle}` is already a member of team `{slug}`"),
                });
            }
            sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
                .bind(team.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
                .map_err(write_err("team member"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn remove_team_member(
        &self,
        team: &TeamId,
        user: &UserId,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            let removed =
                sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
                    .bind(team.as_str())
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_err)?
                    .rows_affected();
            if removed == 0 {
                return Err(StoreError::NotFound {
                    entity: "team member",
                    key: format!("{user} in {team}"),
                });
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_team_members(&self, team: &TeamId) -> StoreResult<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {} FROM users u JOIN team_members m ON m.user_id = u.id \
             WHERE m.team_id = $1 ORDER BY u.handle",
            super::users::COLUMNS
        ))
        .bind(team.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn teams_of_user(&self, user: &UserId) -> StoreResult<Vec<Team>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM teams t JOIN team_members m ON m.team_id = t.id \
             WHERE m.user_id = $1 ORDER BY t.slug"
        ))
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(team_from_row)
        .collect()
    }

    async fn team_settings(&self, team: &TeamId) -> StoreResult<TeamSettings> {
        let row = sqlx::query("SELECT auto_upgrade FROM team_settings WHERE team_id = $1")
            .bind(team.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(match row {
            Some(row) => {
                let auto: i64 = Cols::of(&row, "team settings").get("auto_upgrade")?;
                TeamSettings {
                    auto_upgrade: auto != 0,
                }
            }
            None => TeamSettings::default(),
        })
    }

    async fn set_team_settings(
        &self,
        team: &TeamId,
        settings: &TeamSettings,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            if !exists(
                &mut tx,
                "SELECT 1 FROM teams WHERE id = $1",
                &[team.as_str()],
            )
            .await?
            {
                return Err(StoreError::NotFound {
                    entity: "team",
                    key: team.to_string(),
                });
            }
            sqlx::query(
                "INSERT INTO team_settings (team_id, auto_upgrade, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (team_id) DO UPDATE SET auto_upgrade = $2, updated_at = $3",
            )
            .bind(team.as_str())
            .bind(i64::from(settings.auto_upgrade))
            .bind(millis(audit.at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("team settings"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
