//! [`ScanRepo`] on SQL: supply-chain scans (score history, the purl → version index, the keys a
//! version verified with, notifications and blocks, written in one transaction with the scan's
//! audit record), the durable re-scan jobs (claimed by a compare-and-set on state and attempt,
//! so concurrent workers never share a claim, and reclaimable once a lease runs out), and the
//! orgs' supply settings.

use crate::chain;
use crate::db::{backend_err, millis, write_err, Cols};
use crate::repo::require_org;
use crate::store::{finish, SqlStore, Tx};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::{OrgId, TeamId, UserId};
use plaza_core::ports::{ScanRepo, ScanWrite, StoreResult};

use plaza_core::supply_gate::{
    ComponentRecord, JobKind, JobState, Notification, Recipient, ScanCause, ScanRecord, SupplyJob,
    SupplySettings, VersionBlock, VersionRef,
};
use plaza_core::StoreError;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;

const SCAN_COLUMNS: &str = "org_id, app_id, version, seq, scanned_at, cause, score, report";
const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, created_at, updated_at, error";
const NOTIFICATION_COLUMNS: &str =
    "id, org_id, recipient_kind, recipient_id, kind, subject, body, created_at";

fn scan_from_row(row: &AnyRow) -> StoreResult<ScanRecord> {
    let c = Cols::of(row, "supply scan");
    let cause: String = c.get("cause")?;
    Ok(ScanRecord {
        org_id: OrgId(c.get("org_id")?),
        app_id: c.get("app_id")?,
        version: c.get("version")?,
        seq: c.get("seq")?,
        scanned_at: c.instant("scanned_at")?,
        cause: ScanCause::parse(&cause)
            .ok_or_else(|| c.corrupt(format!("unknown scan cause `{cause}`")))?,
        score: c.get("score")?,
        report: c.json("report")?,
    })
}

fn job_from_row(row: &AnyRow) -> StoreResult<SupplyJob> {
    let c = Cols::of(row, "supply job");
    let kind: String = c.get("kind")?;
    let state: String = c.get("state")?;
    Ok(SupplyJob {
        id: c.get("id")?,
        kind: JobKind::parse(&kind).ok_or_else(|| c.corrupt(format!("unknown kind `{kind}`")))?,
        payload: c.json("payload")?,
        state: JobState::parse(&state)
            .ok_or_else(|| c.corrupt(format!("unknown state `{state}`")))?,
        attempts: c.get("attempts")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        error: c.get("error")?,
    })
}

fn notification_from_row(row: &AnyRow) -> StoreResult<Notification> {
    let c = Cols::of(row, "notification");
    let kind: String = c.get("recipient_kind")?;
    let id: String = c.get("recipient_id")?;
    let recipient = match kind.as_str() {
        "user" => Recipient::User(UserId(id)),
        "team" => Recipient::Team(TeamId(id)),
        other => return Err(c.corrupt(format!("unknown recipient kind `{other}`"))),
    };
    Ok(Notification {
        id: c.get("id")?,
        org_id: OrgId(c.get("org_id")?),
        recipient,
        kind: c.get("kind")?,
        subject: c.get("subject")?,
        body: c.json("body")?,
        created_at: c.instant("created_at")?,
    })
}

fn version_from_row(row: &AnyRow) -> StoreResult<VersionRef> {
    let c = Cols::of(row, "supply component");
    Ok(VersionRef {
        org_id: OrgId(c.get("org_id")?),
        app_id: c.get("app_id")?,
        version: c.get("version")?,
    })
}

fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) async fn insert_job(tx: &mut Tx, job: &SupplyJob) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO supply_jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(job.id.clone())
    .bind(job.kind.as_str())
    .bind(json_text(&job.payload))
    .bind(job.state.as_str())
    .bind(job.attempts)
    .bind(millis(job.created_at))
    .bind(millis(job.updated_at))
    .bind(job.error.clone())
    .execute(&mut **tx)
    .await
    .map_err(write_err("supply job"))?;
    Ok(())
}

async fn write_scan(tx: &mut Tx, write: ScanWrite<'_>) -> StoreResult<i64> {
    let scan = write.scan;
    let (org, app, version) = (scan.org_id.as_str(), &scan.app_id, &scan.version);
    require_org(tx, &scan.org_id).await?;
    let row = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM supply_scans \
         WHERE org_id = $1 AND app_id = $2 AND version = $3",
    )
    .bind(org.to_owned())
    .bind(app.clone())
    .bind(version.clone())
    .fetch_one(&mut **tx)
    .await
    .map_err(backend_err)?;
    let seq: i64 = Cols::of(&row, "supply scan").get("next")?;
    sqlx::query(&format!(
        "INSERT INTO supply_scans ({SCAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(org.to_owned())
    .bind(app.clone())
    .bind(version.clone())
    .bind(seq)
    .bind(millis(scan.scanned_at))
    .bind(scan.cause.as_str())
    .bind(scan.score)
    .bind(json_text(&scan.report))
    .execute(&mut **tx)
    .await
    .map_err(write_err("supply scan"))?;
    if let Some(components) = write.components {
        sqlx::query(
            "DELETE FROM supply_components WHERE org_id = $1 AND app_id = $2 AND version = $3",
        )
        .bind(org.to_owned())
        .bind(app.clone())
        .bind(version.clone())
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
        let mut seen = BTreeSet::new();
        for c in components {
            if !seen.insert(&c.purl) {
                continue;
            }
            sqlx::query(
                "INSERT INTO supply_components (org_id, app_id, version, ecosystem, name, \
                 component_version, purl) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org.to_owned())
            .bind(app.clone())
            .bind(version.clone())
            .bind(c.ecosystem.clone())
            .bind(c.name.clone())
            .bind(c.version.clone())
            .bind(c.purl.clone())
            .execute(&mut **tx)
            .await
            .map_err(write_err("supply component"))?;
        }
    }
    if let Some(keys) = write.key_ids {
        sqlx::query(
            "DELETE FROM supply_version_keys WHERE org_id = $1 AND app_id = $2 AND version = $3",
        )
        .bind(org.to_owned())
        .bind(app.clone())
        .bind(version.clone())
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
        for key in keys.iter().collect::<BTreeSet<_>>() {
            sqlx::query(
                "INSERT INTO supply_version_keys (org_id, app_id, version, key_id) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(org.to_owned())
            .bind(app.clone())
            .bind(version.clone())
            .bind(key.clone())
            .execute(&mut **tx)
            .await
            .map_err(write_err("supply version key"))?;
        }
    }
    for n in write.notifications {
        let (kind, id) = n.recipient.parts();
        sqlx::query(&format!(
            "INSERT INTO notifications ({NOTIFICATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(n.id.clone())
        .bind(n.org_id.as_str().to_owned())
        .bind(kind)
        .bind(id.to_owned())
        .bind(n.kind.clone())
        .bind(n.subject.clone())
        .bind(json_text(&n.body))
        .bind(millis(n.created_at))
        .execute(&mut **tx)
        .await
        .map_err(write_err("notification"))?;
    }
    if let Some(b) = write.block {
        sqlx::query(
            "DELETE FROM version_blocks WHERE org_id = $1 AND app_id = $2 AND version = $3",
        )
        .bind(b.org_id.as_str().to_owned())
        .bind(b.app_id.clone())
        .bind(b.version.clone())
        .execute(&mut **tx)
        .await
        .map_err(backend_err)?;
        sqlx::query(
            "INSERT INTO version_blocks (org_id, app_id, version, reason, blocked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(b.org_id.as_str().to_owned())
        .bind(b.app_id.clone())
        .bind(b.version.clone())
        .bind(b.reason.clone())
        .bind(millis(b.blocked_at))
        .execute(&mut **tx)
        .await
        .map_err(write_err("version block"))?;
    }
    Ok(seq)
}

#[async_trait::async_trait]
impl ScanRepo for SqlStore {
    async fn record_scan(&self, write: ScanWrite<'_>, audit: &AuditEntry) -> StoreResult<i64> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            write_scan(&mut tx, write).await
        }
        .await;
        finish(tx, result).await
    }

    async fn list_scans(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Vec<ScanRecord>> {
        sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM supply_scans WHERE org_id = $1 AND app_id = $2 AND \
             version = $3 ORDER BY seq"
        ))
        .bind(org.as_str().to_owned())
        .bind(app_id.to_owned())
        .bind(version.to_owned())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(scan_from_row)
        .collect()
    }

    async fn latest_scan(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Option<ScanRecord>> {
        sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM supply_scans WHERE org_id = $1 AND app_id = $2 AND \
             version = $3 ORDER BY seq DESC LIMIT 1"
        ))
        .bind(org.as_str().to_owned())
        .bind(app_id.to_owned())
        .bind(version.to_owned())
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .as_ref()
        .map(scan_from_row)
        .transpose()
    }

    async fn version_components(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Vec<ComponentRecord>> {
        sqlx::query(
            "SELECT ecosystem, name, component_version, purl FROM supply_components \
             WHERE org_id = $1 AND app_id = $2 AND version = $3 \
             ORDER BY ecosystem, name, component_version, purl",
        )
        .bind(org.as_str().to_owned())
        .bind(app_id.to_owned())
        .bind(version.to_owned())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(|row| {
            let c = Cols::of(row, "supply component");
            Ok(ComponentRecord {
                ecosystem: c.get("ecosystem")?,
                name: c.get("name")?,
                version: c.get("component_version")?,
                purl: c.get("purl")?,
            })
        })
        .collect()
    }

    async fn versions_with_packages(
        &self,
        packages: &[(String, String)],
    ) -> StoreResult<Vec<VersionRef>> {
        let mut out = BTreeSet::new();
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        // An import can name tens of thousands of packages; the versions use far fewer. Look up
        // only the packages some version uses.
        let wanted: BTreeSet<(&str, &str)> = packages
            .iter()
            .map(|(e, n)| (e.as_str(), n.as_str()))
            .collect();
        let mut used = Vec::new();
        for row in sqlx::query("SELECT DISTINCT ecosystem, name FROM supply_components")
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
        {
            let c = Cols::of(&row, "supply component");
            let (ecosystem, name): (String, String) = (c.get("ecosystem")?, c.get("name")?);
            if wanted.contains(&(ecosystem.as_str(), name.as_str())) {
                used.push((ecosystem, name));
            }
        }
        for (ecosystem, name) in &used {
            for row in sqlx::query(
                "SELECT DISTINCT org_id, app_id, version FROM supply_components \
                 WHERE ecosystem = $1 AND name = $2",
            )
            .bind(ecosystem.clone())
            .bind(name.clone())
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            {
                out.insert(version_from_row(&row)?);
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn versions_verified_by_key(
        &self,
        org: &OrgId,
        key_id: &str,
    ) -> StoreResult<Vec<VersionRef>> {
        sqlx::query(
            "SELECT org_id, app_id, version FROM supply_version_keys \
             WHERE org_id = $1 AND key_id = $2 ORDER BY app_id, version",
        )
        .bind(org.as_str().to_owned())
        .bind(key_id.to_owned())
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(version_from_row)
        .collect()
    }

    async fn version_block(
        &self,
        org: &OrgId,
        app_id: &str,
        version: &str,
    ) -> StoreResult<Option<VersionBlock>> {
        sqlx::query(
            "SELECT org_id, app_id, version, reason, blocked_at FROM version_blocks \
             WHERE org_id = $1 AND app_id = $2 AND version = $3",
        )
        .bind(org.as_str().to_owned())
        .bind(app_id.to_owned())
        .bind(version.to_owned())
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?
        .map(|row| {
            let c = Cols::of(&row, "version block");
            Ok(VersionBlock {
                org_id: OrgId(c.get("org_id")?),
                app_id: c.get("app_id")?,
                version: c.get("version")?,
                reason: c.get("reason")?,
                blocked_at: c.instant("blocked_at")?,
            })
        })
        .transpose()
    }

    async fn list_notifications(
        &self,
        org: &OrgId,
        recipient: &Recipient,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let (kind, id) = recipient.parts();
        sqlx::query(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE org_id = $1 AND \
             recipient_kind = $2 AND recipient_id = $3 ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .bind(org.as_str().to_owned())
        .bind(kind)
        .bind(id.to_owned())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(backend_err)?
        .iter()
        .map(notification_from_row)
        .collect()
    }

    async fn supply_settings(&self, org: &OrgId) -> StoreResult<SupplySettings> {
        let row = sqlx::query(
            "SELECT trusted_builders, block_on_rescan FROM supply_settings WHERE org_id = $1",
        )
        .bind(org.as_str().to_owned())
        .fetch_optional(self.pool())
        .await
        .map_err(backend_err)?;
        let Some(row) = row else {
            return Ok(SupplySettings::default());
        };
        let c = Cols::of(&row, "supply settings");
        let builders = c.json("trusted_builders")?;
        let block: i64 = c.get("block_on_rescan")?;
        Ok(SupplySettings {
            trusted_builders: serde_json::from_value(builders)
                .map_err(|e| c.corrupt(format!("trusted_builders: {e}")))?,
            block_on_rescan: block != 0,
        })
    }

    async fn set_supply_settings(
        &self,
        org: &OrgId,
        settings: &SupplySettings,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = async {
            chain::append(&mut tx, audit).await?;
            require_org(&mut tx, org).await?;
            sqlx::query("DELETE FROM supply_settings WHERE org_id = $1")
                .bind(org.as_str().to_owned())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            let builders = serde_json::to_string(&settings.trusted_builders)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            sqlx::query(
                "INSERT INTO supply_settings (org_id, trusted_builders, block_on_rescan, \
                 updated_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(org.as_str().to_owned())
            .bind(builders)
            .bind(i64::from(settings.block_on_rescan))
            .bind(millis(audit.at))
            .execute(&mut *tx)
            .await
            .map_err(write_err("supply settings"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn enqueue_supply_job(&self, job: &SupplyJob) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let result = insert_job(&mut tx, job).await;
        finish(tx, result).await
    }

    async fn claim_supply_job(
        &self,
        now: DateTime<Utc>,
        lease_expired_before: DateTime<Utc>,
        max_attempts: i64,
    ) -> StoreResult<Option<SupplyJob>> {
        // Compare-and-set: a claim succeeds only if the job is still in the state and at the
        // attempt count it was read in; a concurrent claimer that won bumped the attempts.
        for _ in 0..16 {
            let candidate = sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM supply_jobs WHERE attempts < $1 AND \
                 (state = 'queued' OR (state = 'running' AND updated_at <= $2)) \
                 ORDER BY created_at, id LIMIT 1"
            ))
            .bind(max_attempts)
            .bind(millis(lease_expired_before))
            .fetch_optional(self.pool())
            .await
            .map_err(backend_err)?;
            let Some(row) = candidate else {
                return Ok(None);
            };
            let mut job = job_from_row(&row)?;
            let claimed = sqlx::query(
                "UPDATE supply_jobs SET state = 'running', attempts = attempts + 1, \
                 updated_at = $1 WHERE id = $2 AND state = $3 AND attempts = $4",
            )
            .bind(millis(now))
            .bind(job.id.clone())
            .bind(job.state.as_str())
            .bind(job.attempts)
            .execute(self.pool())
            .await
            .map_err(backend_err)?
            .rows_affected();
            if claimed == 1 {
                job.state = JobState::Running;
                job.attempts += 1;
                job.updated_at = now;
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    async fn finish_supply_job(
        &self,
        id: &str,
        attempt: i64,
        state: JobState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE supply_jobs SET state = $1, error = $2, updated_at = $3 \
             WHERE id = $4 AND state = 'running' AND attempts = $5",
        )
        .bind(state.as_str())
        .bind(error.map(str::to_owned))
        .bind(millis(now))
        .bind(id.to_owned())
        .bind(attempt)
        .execute(self.pool())
        .await
        .map_err(backend_err)?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn list_supply_jobs(
        &self,
        state: Option<JobState>,
        limit: u32,
    ) -> StoreResult<Vec<SupplyJob>> {
        let rows = match state {
            Some(s) => {
                sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM supply_jobs WHERE state = $1 \
                 ORDER BY created_at, id LIMIT $2"
                ))
                .bind(s.as_str())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM supply_jobs ORDER BY created_at, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(backend_err)?;
        rows.iter().map(job_from_row).collect()
    }
}
