//! [`PolicyRepo`] on SQL: an org's numbered policy versions (files and settings as the exact
//! JSON text), its enforcement mode, time-limited exceptions, and the append-only decision log
//! (which is its own record, so recording a decision writes no audit record).

use super::{exists, require_org};
use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{DecisionId, ExceptionId, OrgId, UserId};
use plaza_core::policy::{Decision, OrgPolicyVersion, PolicyException, PolicyFile, PolicyMode};
use plaza_core::ports::{PolicyRepo, StoreResult};
use plaza_core::StoreError;
use sqlx::any::AnyRow;

/// The most decisions one [`PolicyRepo::list_decisions`] call returns.
pub const MAX_DECISION_PAGE: i64 = 1000;

const VERSION_COLUMNS: &str = "org_id, version, files, settings, digest, created_by, created_at";

const EXCEPTION_COLUMNS: &str = "id, org_id, app_id, rule_id, reason, expires_at, granted_by, \
                                 created_at, revoked_at, expired_at";

const DECISION_COLUMNS: &str = "id, org_id, app_id, version, input_digest, input, \
                                bundle_version, org_policy_version, mode, outcome, findings, \
                                duration_us, created_at";

fn version_from_row(row: &AnyRow) -> StoreResult<OrgPolicyVersion> {
    let c = Cols::of(row, "policy version");
    let files: Vec<PolicyFile> = serde_json::from_value(c.json("files")?)
        .map_err(|e| c.corrupt(format!("column `files`: {e}")))?;
    Ok(OrgPolicyVersion {
        org_id: OrgId(c.get("org_id")?),
        version: c.get("version")?,
        files,
        settings: c.json("settings")?,
        digest: c.get("digest")?,
        created_by: UserId(c.get("created_by")?),
        created_at: c.instant("created_at")?,
    })
}

fn exception_from_row(row: &AnyRow) -> StoreResult<PolicyException> {
    let c = Cols::of(row, "policy exception");
    Ok(PolicyException {
        id: ExceptionId(c.get("id")?),
        org_id: OrgId(c.get("org_id")?),
        app_id: c.get("app_id")?,
        rule_id: c.get("rule_id")?,
        reason: c.get("reason")?,
        expires_at: c.instant("expires_at")?,
        granted_by: UserId(c.get("granted_by")?),
        created_at: c.instant("created_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
        expired_at: c.opt_instant("expired_at")?,
    })
}

fn decision_from_row(row: &AnyRow) -> StoreResult<Decision> {
    let c = Cols::of(row, "policy decision");
    let mode: String = c.get("mode")?;
    let outcome: String = c.get("outcome")?;
    Ok(Decision {
        id: DecisionId(c.get("id")?),
        org_id: OrgId(c.get("org_id")?),
        app_id: c.get("app_id")?,
        version: c.get("version")?,
        input_digest: c.get("input_digest")?,
        input: c.json("input")?,
        bundle_version: c.get("bundle_version")?,
        org_policy_version: c.get("org_policy_version")?,
        mode: mode
            .parse()
            .map_err(|e| c.corrupt(format!("column `mode`: {e}")))?,
        outcome: outcome
            .parse()
            .map_err(|e| c.corrupt(format!("column `outcome`: {e}")))?,
        findings: c.json("findings")?,
        duration_us: c.get("duration_us")?,
        created_at: c.instant("created_at")?,
    })
}

/// Turns a JSON serialisation failure of `what` into a backend error.
fn json_err(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Backend(format!("{what}: {e}"))
}

/// `NotFound` unless `user` exists in `org` (a user of another org is not found there).
async fn require_user_in_org(tx: &mut Tx, org: &OrgId, user: &UserId) -> StoreResult<()> {
    let sql = "SELECT 1 FROM users WHERE id = $1 AND org_id = $2";
    if exists(tx, sql, &[user.as_str(), org.as_str()]).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            entity: "user",
            key: user.to_string(),
        })
    }
}

/// The exception's `revoked_at` or `expired_at` (`column`), within `tx`; `NotFound` for no such
/// exception.
async fn exception_instant(
    tx: &mut Tx,
    id: &ExceptionId,
    column: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let row = sqlx::query(&format!(
        "SELECT {column} FROM policy_exceptions WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend_err)?
    .ok_or_else(|| StoreError::NotFound {
        entity: "policy exception",
        key: id.to_string(),
    })?;
    Cols::of(&row, "policy exception").opt_instant(column)
}

#[async_trait::async_trait]
impl PolicyRepo for SqlStore {
    async fn create_policy_version(
        &self,
        policy: &OrgPolicyVersion,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, &policy.org_id).await?;
            require_user_in_org(&mut tx, &policy.org_id, &policy.created_by).await?;
            let row = sqlx::query(
                "SELECT COALESCE(MAX(version), 0) AS newest FROM org_policy_versions \
                 WHERE org_id = $1",
            )
            .bind(policy.org_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_err)?;
            let newest: i64 = Cols::of(&row, "policy version").get("newest")?;
            let expected = newest + 1;
            if policy.version != expected {
                let why = if (1..=newest).contains(&policy.version) {
                    "already exists"
                } else {
                    "is not the next version"
                };
                return Err(StoreError::Conflict {
                    entity: "policy version",
                    detail: format!(
                        "policy version {} {why}; expected {expected}",
                        policy.version
                    ),
                });
            }
            let files = serde_json::to_string(&policy.files).map_err(json_err("policy files"))?;
            let settings =
                serde_json::to_string(&policy.settings).map_err(json_err("policy settings"))?;
            sqlx::query(&format!(
                "INSERT INTO org_policy_versions ({VERSION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(policy.org_id.as_str())
            .bind(policy.version)
            .bind(files)
            .bind(settings)
            .bind(&policy.digest)
            .bind(policy.created_by.as_str())
            .bind(millis(policy.created_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("policy version"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_policy_version(&self, org: &OrgId, version: i64) -> StoreResult<OrgPolicyVersion> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM org_policy_versions WHERE org_id = $1 AND version = $2"
        ))
        .bind(org.as_str())
        .bind(version)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "policy version",
            key: version.to_string(),
        })?;
        version_from_row(&row)
    }

    async fn latest_policy_version(&self, org: &OrgId) -> StoreResult<Option<OrgPolicyVersion>> {
        sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM org_policy_versions WHERE org_id = $1 \
             ORDER BY version DESC LIMIT 1"
        ))
        .bind(org.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .as_ref()
        .map(version_from_row)
        .transpose()
    }

    async fn list_policy_versions(&self, org: &OrgId) -> StoreResult<Vec<OrgPolicyVersion>> {
        sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM org_policy_versions WHERE org_id = $1 \
             ORDER BY version DESC"
        ))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(version_from_row)
        .collect()
    }

    async fn set_policy_mode(
        &self,
        org: &OrgId,
        mode: PolicyMode,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, org).await?;
            sqlx::query(
                "INSERT INTO org_policy_modes (org_id, mode) VALUES ($1, $2) \
                 ON CONFLICT (org_id) DO UPDATE SET mode = excluded.mode",
            )
            .bind(org.as_str())
            .bind(mode.as_str())
            .execute(&mut *tx)
            .await
            .map_err(write_err("policy mode"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn policy_mode(&self, org: &OrgId) -> StoreResult<PolicyMode> {
        let row = sqlx::query("SELECT mode FROM org_policy_modes WHERE org_id = $1")
            .bind(org.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?;
        match row {
            None => Ok(PolicyMode::default()),
            Some(row) => {
                let c = Cols::of(&row, "policy mode");
                let mode: String = c.get("mode")?;
                mode.parse()
                    .map_err(|e| c.corrupt(format!("column `mode`: {e}")))
            }
        }
    }

    async fn create_exception(
        &self,
        exception: &PolicyException,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, &exception.org_id).await?;
            require_user_in_org(&mut tx, &exception.org_id, &exception.granted_by).await?;
            let taken = "SELECT 1 FROM policy_exceptions WHERE id = $1";
            if exists(&mut tx, taken, &[exception.id.as_str()]).await? {
                return Err(StoreError::Conflict {
                    entity: "policy exception",
                    detail: format!("an exception with id `{}` already exists", exception.id),
                });
            }
            sqlx::query(&format!(
                "INSERT INTO policy_exceptions ({EXCEPTION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(exception.id.as_str())
            .bind(exception.org_id.as_str())
            .bind(&exception.app_id)
            .bind(&exception.rule_id)
            .bind(&exception.reason)
            .bind(millis(exception.expires_at))
            .bind(exception.granted_by.as_str())
            .bind(millis(exception.created_at))
            .bind(exception.revoked_at.map(millis))
            .bind(exception.expired_at.map(millis))
            .execute(&mut *tx)
            .await
            .map_err(write_err("policy exception"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_exception(&self, org: &OrgId, id: &ExceptionId) -> StoreResult<PolicyException> {
        let row = sqlx::query(&format!(
            "SELECT {EXCEPTION_COLUMNS} FROM policy_exceptions WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .ok_or_else(|| StoreError::NotFound {
            entity: "policy exception",
            key: id.to_string(),
        })?;
        exception_from_row(&row)
    }

    async fn list_exceptions(&self, org: &OrgId) -> StoreResult<Vec<PolicyException>> {
        sqlx::query(&format!(
            "SELECT {EXCEPTION_COLUMNS} FROM policy_exceptions WHERE org_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(exception_from_row)
        .collect()
    }

    async fn revoke_exception(
        &self,
        id: &ExceptionId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        stamp_exception(self, id, Stamp::Revoked, at, audit).await
    }

    async fn mark_exception_expired(
        &self,
        id: &ExceptionId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        stamp_exception(self, id, Stamp::Expired, at, audit).await
    }

    async fn record_decision(&self, decision: &Decision) -> StoreResult<()> {
        // The decision log is its own append-only record: no audit entry, so no chain append.
        let mut tx = self.write_tx().await?;
        let result = async {
            require_org(&mut tx, &decision.org_id).await?;
            if let Some(version) = decision.org_policy_version {
                let sql = "SELECT 1 FROM org_policy_versions WHERE org_id = $1 AND version = $2";
                let found = sqlx::query(sql)
                    .bind(decision.org_id.as_str())
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend_err)?;
                if found.is_none() {
                    return Err(StoreError::NotFound {
                        entity: "policy version",
                        key: version.to_string(),
                    });
                }
            }
            let taken = "SELECT 1 FROM policy_decisions WHERE id = $1";
            if exists(&mut tx, taken, &[decision.id.as_str()]).await? {
                return Err(StoreError::Conflict {
                    entity: "policy decision",
                    detail: format!("a decision with id `{}` already exists", decision.id),
                });
            }
            let input =
                serde_json::to_string(&decision.input).map_err(json_err("decision input"))?;
            let findings =
                serde_json::to_string(&decision.findings).map_err(json_err("decision findings"))?;
            sqlx::query(&format!(
                "INSERT INTO policy_decisions ({DECISION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(decision.id.as_str())
            .bind(decision.org_id.as_str())
            .bind(&decision.app_id)
            .bind(&decision.version)
            .bind(&decision.input_digest)
            .bind(input)
            .bind(&decision.bundle_version)
            .bind(decision.org_policy_version)
            .bind(decision.mode.as_str())
            .bind(decision.outcome.as_str())
            .bind(findings)
            .bind(decision.duration_us)
            .bind(millis(decision.created_at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("policy decision"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn list_decisions(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        version: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Decision>> {
        let mut conds = vec!["org_id = $1".to_owned()];
        let mut texts = vec![org.as_str().to_owned()];
        for (column, value) in [("app_id", app_id), ("version", version)] {
            if let Some(value) = value {
                texts.push(value.to_owned());
                conds.push(format!("{column} = ${}", texts.len()));
            }
        }
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM policy_decisions WHERE {} \
             ORDER BY created_at DESC, id DESC LIMIT ${}",
            conds.join(" AND "),
            texts.len() + 1
        );
        let mut query = sqlx::query(&sql);
        for text in texts {
            query = query.bind(text);
        }
        query
            .bind(limit.clamp(1, MAX_DECISION_PAGE))
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(decision_from_row)
            .collect()
    }
}

/// The two one-time instants an exception can be stamped with.
#[derive(Clone, Copy)]
enum Stamp {
    Revoked,
    Expired,
}

impl Stamp {
    fn column(self) -> &'static str {
        match self {
            Stamp::Revoked => "revoked_at",
            Stamp::Expired => "expired_at",
        }
    }
}

/// Sets `revoked_at` or `expired_at` once, with its audit record; `Conflict` when already set.
async fn stamp_exception(
    store: &SqlStore,
    id: &ExceptionId,
    stamp: Stamp,
    at: DateTime<Utc>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let column = stamp.column();
    let mut tx = store.write_tx().await?;
    let result = async {
        chain::append(&mut tx, audit).await?;
        if let Some(when) = exception_instant(&mut tx, id, column).await? {
            let detail = match stamp {
                Stamp::Revoked => format!(
                    "exception `{id}` was already revoked at {}",
                    when.to_rfc3339()
                ),
                Stamp::Expired => format!(
                    "the expiry of exception `{id}` was already recorded at {}",
                    when.to_rfc3339()
                ),
            };
            return Err(StoreError::Conflict {
                entity: "policy exception",
                detail,
            });
        }
        sqlx::query(&format!(
            "UPDATE policy_exceptions SET {column} = $1 WHERE id = $2"
        ))
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
