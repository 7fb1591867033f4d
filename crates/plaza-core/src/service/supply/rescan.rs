//! The continuous re-scan: durable jobs (enqueued by a vulnerability-database import or a key
//! revocation, in the same transaction) that re-evaluate only the published versions affected,
//! found through the purl → version index or the keys each version verified with. Each version
//! gets a new score-history entry; when its findings changed, its publisher and every team with
//! an instance of it are notified; when a critical vulnerability with a fix is newly found or
//! the signature stopped verifying, it is blocked for new installs (unless the org turned that
//! off).
//!
//! A job is claimed with a lease ([`SUPPLY_JOB_LEASE`]): a job left running by a process that
//! died is claimed again once the lease ran out, so the re-scan survives restarts. A failing
//! job is retried up to [`MAX_JOB_ATTEMPTS`] times.

use super::super::Services;
use super::{match_components, SUPPLY_ACTOR};
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::install::InstanceStatus;
use crate::ports::{InstanceFilter, ScanWrite};
use crate::supply_gate::{
    JobKind, JobState, KeyRevokedJob, Notification, Recipient, ScanCause, ScanRecord,
    SignatureStatus, SupplyJob, SupplyReport, VersionBlock, VersionRef, VulndbJob,
};
use chrono::Duration;
use plaza_supply::osv::VulnIndex;
use plaza_supply::sign::trust::key_valid_for_signature;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How long a claimed job is its worker's: after this, another worker may claim it again.
pub const SUPPLY_JOB_LEASE: Duration = Duration::minutes(10);
/// Claims after which a failing job is given up (state `failed`).
pub const MAX_JOB_ATTEMPTS: i64 = 5;

/// What one re-scanned version came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RescanResult {
    /// The version.
    pub version: VersionRef,
    /// Its score before and after.
    pub score_before: i64,
    /// After.
    pub score_after: i64,
    /// Whether its findings changed (then its publisher and installers were notified).
    pub changed: bool,
    /// Whether it was blocked for new installs by this re-scan.
    pub blocked: bool,
    /// How many notifications were written.
    pub notified: usize,
}

/// What running one job did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOutcome {
    /// The job.
    pub job_id: String,
    /// Its kind.
    pub kind: JobKind,
    /// Its state now (`done`, or `queued`/`failed` after an error).
    pub state: JobState,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Each affected version, in order.
    pub rescanned: Vec<RescanResult>,
}

impl Services {
    /// Claims and runs the next re-scan job, if there is one (the server's background loop calls
    /// this until it returns `None`). Errors of the job itself are recorded on the job (retried
    /// later, up to [`MAX_JOB_ATTEMPTS`]) and reported in the outcome, not returned.
    pub async fn run_next_supply_job(&self) -> Result<Option<JobOutcome>, CoreError> {
        let now = self.now();
        let Some(job) = self
            .store
            .claim_supply_job(now, now - SUPPLY_JOB_LEASE, MAX_JOB_ATTEMPTS)
            .await?
        else {
            return Ok(None);
        };
        let result = self.run_job(&job).await;
        let (state, error, rescanned) = match result {
            Ok(r) => (JobState::Done, None, r),
            Err(e) => {
                let state = if job.attempts >= MAX_JOB_ATTEMPTS {
                    JobState::Failed
                } else {
                    JobState::Queued
                };
                tracing::warn!(job = %job.id, error = %e, "supply re-scan job failed");
                (state, Some(e.to_string()), Vec::new())
            }
        };
        let finished = self
            .store
            .finish_supply_job(&job.id, job.attempts, state, error.as_deref(), self.now())
            .await?;
        if !finished {
            tracing::warn!(job = %job.id, "the job's lease ran out before it finished; another worker owns it now");
        }
        Ok(Some(JobOutcome {
            job_id: job.id,
            kind: job.kind,
            state,
            error,
            rescanned,
        }))
    }

    async fn run_job(&self, job: &SupplyJob) -> Result<Vec<RescanResult>, CoreError> {
        match job.kind {
            JobKind::Vulndb => {
                let payload: VulndbJob =
                    serde_json::from_value(job.payload.clone()).map_err(|e| corrupt_job(job, e))?;
                // The database changed (maybe through another server): rebuild the index.
                self.forget_vuln_index();
                let index = self.vuln_index().await?;
                let versions = self.store.versions_with_packages(&payload.packages).await?;
                let mut out = Vec::with_capacity(versions.len());
                for v in versions {
                    if let Some(r) = self.rescan_version(&v, Rescan::Vulndb(&index)).await? {
                        out.push(r);
                    }
                }
                Ok(out)
            }
            JobKind::KeyRevoked => {
                let payload: KeyRevokedJob =
                    serde_json::from_value(job.payload.clone()).map_err(|e| corrupt_job(job, e))?;
                let versions = self
                    .store
                    .versions_verified_by_key(&payload.org_id, &payload.key_id)
                    .await?;
                let mut out = Vec::with_capacity(versions.len());
                for v in versions {
                    if let Some(r) = self
                        .rescan_version(&v, Rescan::Key(&payload.key_id))
                        .await?
                    {
                        out.push(r);
                    }
                }
                Ok(out)
            }
        }
    }

    /// Re-evaluates one version from its last report: fresh vulnerability matches of its
    /// indexed components, or its signature's key judged again.
    async fn rescan_version(
        &self,
        v: &VersionRef,
        what: Rescan<'_>,
    ) -> Result<Option<RescanResult>, CoreError> {
        let Some(last) = self
            .store
            .latest_scan(&v.org_id, &v.app_id, &v.version)
            .await?
        else {
            return Ok(None);
        };
        let before: SupplyReport = serde_json::from_value(last.report.clone()).map_err(|e| {
            CoreError::Store(StoreError::Corrupt {
                entity: "supply scan",
                detail: format!("{}@{} report: {e}", v.app_id, v.version),
            })
        })?;
        let now = self.now();
        let mut after = before.clone();
        let cause = match what {
            Rescan::Vulndb(index) => {
                let components = self
                    .store
                    .version_components(&v.org_id, &v.app_id, &v.version)
                    .await?;
                after.vulnerabilities = match_components(index, &components);
                ScanCause::Vulndb
            }
            Rescan::Key(key_id) => {
                let keys = self.store.list_publisher_keys(&v.org_id, None).await?;
                let verdict = match keys.iter().find(|k| k.key_id == key_id) {
                    None => Err(format!("key {key_id} is no longer registered")),
                    Some(k) => match k.trusted_key() {
                        Ok(t) => key_valid_for_signature(&t, before.signature.signed_at, now),
                        Err(e) => Err(e.to_string()),
                    },
                };
                if before.signature.key_id.as_deref() == Some(key_id) {
                    if let Err(why) = verdict {
                        after.signature.status = SignatureStatus::Invalid;
                        after.signature.reason = Some(why);
                    }
                }
                ScanCause::KeyRevoked
            }
        };
        let app = match self
            .store
            .get_app_version(&v.org_id, &v.app_id, &v.version)
            .await
        {
            Ok(a) => Some(a),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        after.apply_vex(&self.store.list_vex(&v.org_id, &v.app_id).await?, now);

        let new_vulns = after.new_vulnerabilities(&before);
        let gone: Vec<&str> = before
            .vulnerabilities
            .iter()
            .filter(|b| !after.vulnerabilities.iter().any(|a| a.key() == b.key()))
            .map(|b| b.id.as_str())
            .collect();
        let signature_lost = before.signature.status == SignatureStatus::Verified
            && after.signature.status != SignatureStatus::Verified;
        let changed = !new_vulns.is_empty() || !gone.is_empty() || signature_lost;
        let settings = self.store.supply_settings(&v.org_id).await?;
        let critical: Vec<&str> = new_vulns
            .iter()
            .filter(|x| x.is_critical_with_fix())
            .map(|x| x.id.as_str())
            .collect();
        let block_reason = if !settings.block_on_rescan {
            None
        } else if signature_lost {
            Some(format!(
                "the signature no longer verifies: {}",
                after
                    .signature
                    .reason
                    .as_deref()
                    .unwrap_or("key no longer valid")
            ))
        } else if !critical.is_empty() {
            Some(format!(
                "critical vulnerabilities with a fix available: {}",
                critical.join(", ")
            ))
        } else {
            None
        };
        let block = block_reason.map(|reason| VersionBlock {
            org_id: v.org_id.clone(),
            app_id: v.app_id.clone(),
            version: v.version.clone(),
            reason,
            blocked_at: now,
        });

        let mut notifications = Vec::new();
        if changed {
            let mut recipients: Vec<Recipient> = Vec::new();
            if let Some(a) = &app {
                recipients.push(Recipient::User(a.created_by.clone()));
            }
            let teams: BTreeSet<_> = self
                .store
                .list_instances(
                    &v.org_id,
                    &InstanceFilter {
                        app_id: Some(v.app_id.clone()),
                        team_id: None,
                        include_uninstalled: false,
                    },
                )
                .await?
                .into_iter()
                .filter(|i| i.version == v.version && i.status != InstanceStatus::Uninstalled)
                .map(|i| i.team_id)
                .collect();
            recipients.extend(teams.into_iter().map(Recipient::Team));
            let subject = format!(
                "{}@{}: security re-scan ({}) changed its findings; score {} → {}{}",
                v.app_id,
                v.version,
                cause.as_str(),
                last.score,
                after.score.total,
                if block.is_some() {
                    "; blocked for new installs"
                } else {
                    ""
                }
            );
            let body = json!({
                "appId": v.app_id,
                "version": v.version,
                "cause": cause,
                "scoreBefore": last.score,
                "scoreAfter": after.score.total,
                "newVulnerabilities": new_vulns,
                "resolvedVulnerabilities": gone,
                "signature": after.signature,
                "blocked": block.as_ref().map(|b| b.reason.clone()),
            });
            for r in recipients {
                notifications.push(Notification {
                    id: format!("ntf_{}", uuid::Uuid::now_v7().simple()),
                    org_id: v.org_id.clone(),
                    recipient: r,
                    kind: "supply.rescan".into(),
                    subject: subject.clone(),
                    body: body.clone(),
                    created_at: now,
                });
            }
        }

        let key_ids: Vec<String> = if after.signature.status == SignatureStatus::Verified {
            after.signature.key_id.iter().cloned().collect()
        } else {
            Vec::new()
        };
        let scan = ScanRecord {
            org_id: v.org_id.clone(),
            app_id: v.app_id.clone(),
            version: v.version.clone(),
            seq: 0,
            scanned_at: now,
            cause,
            score: i64::from(after.score.total),
            report: serde_json::to_value(&after)
                .map_err(|e| CoreError::Invalid(format!("report: {e}")))?,
        };
        let audit = AuditEntry::new(
            now,
            Some(v.org_id.clone()),
            SUPPLY_ACTOR,
            "supply.rescan",
            format!("app:{}@{}", v.app_id, v.version),
            json!({
                "cause": cause,
                "scoreBefore": last.score,
                "scoreAfter": after.score.total,
                "newVulnerabilities": new_vulns.iter().map(|x| &x.id).collect::<Vec<_>>(),
                "signature": after.signature.status,
                "blocked": block.as_ref().map(|b| b.reason.clone()),
                "notified": notifications.len(),
            }),
        );
        self.store
            .record_scan(
                ScanWrite {
                    scan: &scan,
                    components: None,
                    key_ids: Some(&key_ids),
                    notifications: &notifications,
                    block: block.as_ref(),
                },
                &audit,
            )
            .await?;
        Ok(Some(RescanResult {
            version: v.clone(),
            score_before: last.score,
            score_after: scan.score,
            changed,
            blocked: block.is_some(),
            notified: notifications.len(),
        }))
    }
}

/// What a re-scan re-evaluates.
enum Rescan<'a> {
    /// Vulnerabilities, against this index.
    Vulndb(&'a Arc<VulnIndex>),
    /// The signature's key, after its revocation.
    Key(&'a str),
}

fn corrupt_job(job: &SupplyJob, e: serde_json::Error) -> CoreError {
    CoreError::Store(StoreError::Corrupt {
        entity: "supply job",
        detail: format!("job {} payload: {e}", job.id),
    })
}
