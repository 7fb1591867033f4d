//! The vulnerability-database import: an incremental, all-or-nothing import of OSV files that
//! enqueues, in the same transaction, the re-scan of the versions whose components the changed
//! advisories affect.

use super::super::Services;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::supply::{ImportCounts, StoredAdvisory};
use crate::supply_gate::{JobKind, JobState, SupplyJob, VulndbJob};
use plaza_supply::osv::{canonical_ecosystem, normalize_name, plan_import, Advisory, LoadedFile};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// The (canonical ecosystem, normalised name) of every affected package of `advisory`.
fn packages_of(advisory: &Advisory) -> Vec<(String, String)> {
    let set: BTreeSet<(String, String)> = advisory
        .affected
        .iter()
        .filter_map(|a| a.package.as_ref())
        .map(|p| {
            let eco = canonical_ecosystem(&p.ecosystem).into_owned();
            let name = normalize_name(&eco, &p.name).into_owned();
            (eco, name)
        })
        .collect();
    set.into_iter().collect()
}

impl Services {
    /// Imports OSV files (a whole database: advisories no longer in `files` are removed) as
    /// `actor`: unchanged files are skipped, any file error aborts with every error listed and
    /// nothing imported, and the import plus a re-scan job naming the added, changed and removed
    /// advisories (and the packages they affect, before and after) are stored in one
    /// transaction with the audit record.
    pub async fn import_vulndb(
        &self,
        actor: &str,
        files: Vec<LoadedFile>,
    ) -> Result<ImportCounts, CoreError> {
        let previous: HashMap<String, String> =
            self.store.advisory_digests().await?.into_iter().collect();
        let plan = plan_import(&previous, files).map_err(|e| CoreError::Invalid(e.to_string()))?;
        let mut packages: BTreeSet<(String, String)> = BTreeSet::new();
        let mut upserts = Vec::with_capacity(plan.added.len() + plan.changed.len());
        for (advisory, digest) in plan.added.iter().chain(&plan.changed) {
            let pkgs = packages_of(advisory);
            packages.extend(pkgs.iter().cloned());
            upserts.push(StoredAdvisory {
                id: advisory.id.clone(),
                digest: digest.clone(),
                modified: advisory.modified.clone(),
                withdrawn: advisory.is_withdrawn(),
                body: serde_json::to_string(advisory)
                    .map_err(|e| CoreError::Invalid(format!("advisory {}: {e}", advisory.id)))?,
                packages: pkgs,
            });
        }
        // What changed or removed advisories affected before: their old packages' versions
        // must be re-scanned too (a range may have shrunk, or the advisory be gone).
        let replaced: BTreeSet<&str> = plan
            .changed
            .iter()
            .map(|(a, _)| a.id.as_str())
            .chain(plan.removed.iter().map(String::as_str))
            .collect();
        if !replaced.is_empty() {
            for old in self.store.list_advisories().await? {
                if replaced.contains(old.id.as_str()) {
                    packages.extend(old.packages);
                }
            }
        }
        let counts = ImportCounts {
            added: plan.added.len() as u64,
            changed: plan.changed.len() as u64,
            unchanged: plan.unchanged.len() as u64,
            removed: plan.removed.len() as u64,
        };
        let now = self.now();
        let mut ids: Vec<String> = upserts.iter().map(|a| a.id.clone()).collect();
        ids.extend(plan.removed.iter().cloned());
        ids.sort();
        let job = (!ids.is_empty()).then(|| SupplyJob {
            id: format!("job_{}", uuid::Uuid::now_v7().simple()),
            kind: JobKind::Vulndb,
            payload: serde_json::to_value(VulndbJob {
                advisories: ids.clone(),
                packages: packages.into_iter().collect(),
            })
            .unwrap_or_default(),
            state: JobState::Queued,
            attempts: 0,
            created_at: now,
            updated_at: now,
            error: None,
        });
        let audit = AuditEntry::new(
            now,
            None,
            actor,
            "vulndb.import",
            "vulndb",
            json!({
                "added": counts.added,
                "changed": counts.changed,
                "unchanged": counts.unchanged,
                "removed": counts.removed,
                "rescanJob": job.as_ref().map(|j| j.id.clone()),
            }),
        );
        self.store
            .apply_advisory_import(&upserts, &plan.removed, now, &audit, job.as_ref())
            .await?;
        if job.is_some() {
            self.forget_vuln_index();
        }
        Ok(counts)
    }
}
