//! The submission gate's supply-chain checks ([`Services::supply_gate`]): signature against the
//! publisher's registered keys (and marketplace timestamps), SLSA provenance against the org's
//! trusted builders and the manifest's repository, the SBOM and its binding, OSV vulnerabilities
//! of its components, secrets in the manifest and the artifact, and the security score. The
//! result is stored as the version's first score-history entry, with its component index (the
//! purl → version index the re-scan uses) and the key it verified with.
//!
//! Also here: the org's supply settings (trusted builders, blocking on re-scan), the caches the
//! gate shares (the OSV index built from the store, the secret scanner), and the reads of score
//! history, notifications and blocks. The vulnerability-database import is in [`vulndb`], the
//! continuous re-scan in [`rescan`].

mod rescan;
mod vulndb;

pub use rescan::{JobOutcome, RescanResult, MAX_JOB_ATTEMPTS, SUPPLY_JOB_LEASE};

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::Org;
use crate::ports::ScanWrite;
use crate::supply_gate::{
    ComponentRecord, ManifestFacts, Notification, ProvenanceReport, Recipient, SbomReport,
    ScanCause, ScanRecord, SecretsReport, SignatureReport, SignatureStatus, SubmissionMaterials,
    SupplyReport, SupplySettings, VersionBlock, VulnerabilityReport,
};
use chrono::{DateTime, Utc};
use plaza_supply::osv::{
    canonical_ecosystem, normalize_name, parse_advisory, parse_purl, VulnIndex,
};
use plaza_supply::sbom::{binding, parse_sbom, Binding, SbomFormat};
use plaza_supply::scan::{level_name, match_sbom};
use plaza_supply::secrets::Scanner;
use plaza_supply::sign::dsse::Envelope;
use plaza_supply::sign::intoto::{Statement, KNOWN_PREDICATE_TYPES};
use plaza_supply::sign::keys::PublicKey;
use plaza_supply::sign::slsa::provenance::{
    verify_provenance, ProvenancePolicy, SourceExpectation, TrustedBuilder,
};
use plaza_supply::sign::trust::{verify_with_trusted_keys, TrustedKey};
use plaza_supply::sign::SignError;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, OnceLock};

/// The actor recorded for what the gate and the re-scan do on their own.
pub(crate) const SUPPLY_ACTOR: &str = "system:supply";
/// Most trusted builders an org may list.
pub const MAX_TRUSTED_BUILDERS: usize = 100;
/// How long the in-memory OSV index is used before it is rebuilt from the store.
pub const VULN_INDEX_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// Most notifications one read returns.
pub const MAX_NOTIFICATIONS: u32 = 1000;

/// What the supply gate keeps in memory between calls.
#[derive(Default)]
pub(crate) struct SupplyCaches {
    /// The OSV index built from the store's advisories and when it was built; `None` until
    /// built or after an import changed the database.
    index: Mutex<Option<(std::time::Instant, Arc<VulnIndex>)>>,
    /// The secret scanner (its rule set compiled once).
    scanner: OnceLock<Arc<Scanner>>,
}

impl Services {
    /// The OSV index of the store's advisories (built once; rebuilt after an import through
    /// these services, and at the latest [`VULN_INDEX_TTL`] later, for imports made by another
    /// server of a scale-out deployment).
    pub(crate) async fn vuln_index(&self) -> Result<Arc<VulnIndex>, CoreError> {
        let cached = self.supply.index.lock().ok().and_then(|i| i.clone());
        if let Some((built, index)) = cached {
            if built.elapsed() < VULN_INDEX_TTL {
                return Ok(index);
            }
        }
        let stored = self.store.list_advisories().await?;
        let mut advisories = Vec::with_capacity(stored.len());
        for a in &stored {
            match parse_advisory(a.body.as_bytes(), &a.id) {
                Ok(adv) => advisories.push(adv),
                Err(e) => {
                    tracing::warn!(advisory = %a.id, error = %e, "stored advisory does not parse; skipped")
                }
            }
        }
        let index = Arc::new(VulnIndex::from_advisories(advisories));
        if let Ok(mut slot) = self.supply.index.lock() {
            *slot = Some((std::time::Instant::now(), Arc::clone(&index)));
        }
        Ok(index)
    }

    /// Forgets the cached OSV index (the database changed).
    pub(crate) fn forget_vuln_index(&self) {
        if let Ok(mut slot) = self.supply.index.lock() {
            *slot = None;
        }
    }

    fn secret_scanner(&self) -> Result<Arc<Scanner>, CoreError> {
        if let Some(s) = self.supply.scanner.get() {
            return Ok(Arc::clone(s));
        }
        let scanner = Arc::new(
            Scanner::with_defaults()
                .map_err(|e| CoreError::Invalid(format!("secret scanner rules: {e}")))?,
        );
        Ok(Arc::clone(self.supply.scanner.get_or_init(|| scanner)))
    }

    /// The marketplace's Ed25519 keys (the capability-token signing keys, which also sign
    /// supply-chain timestamps), as signature verification takes them.
    pub(crate) async fn marketplace_public_keys(&self) -> Result<Vec<PublicKey>, CoreError> {
        // Every key the marketplace ever signed with: a timestamp made with a retired key
        // still proves its time.
        let keys = self
            .store
            .published_signing_keys(DateTime::<Utc>::MIN_UTC)
            .await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.attestation_public_key().ok())
            .collect())
    }

    /// Runs the supply-chain gate on a submission of `org` whose normalised manifest is
    /// `manifest`, stores the result as a `submission` scan of the manifest's app id and version
    /// (score history, component index, verified key), audited, and returns the report.
    pub async fn supply_gate(
        &self,
        org: &Org,
        manifest: &Value,
        materials: &SubmissionMaterials,
    ) -> Result<SupplyReport, CoreError> {
        let app_id = manifest_str(manifest, "/id")
            .ok_or_else(|| CoreError::Invalid("the manifest has no `id`".into()))?;
        let version = manifest_str(manifest, "/version")
            .ok_or_else(|| CoreError::Invalid("the manifest has no `version`".into()))?;
        let digest_hex = sha256_hex_of(&materials.artifact_digest)?;
        let now = self.now();
        let publisher = manifest_str(manifest, "/provenance/signedBy");
        let trusted = match &publisher {
            Some(p) => self
                .store
                .list_publisher_keys(&org.id, Some(p))
                .await?
                .iter()
                .filter_map(|k| match k.trusted_key() {
                    Ok(t) => Some(t),
                    Err(e) => {
                        tracing::warn!(key = %k.key_id, error = %e, "registered key does not parse");
                        None
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        let marketplace = self.marketplace_public_keys().await?;
        let timestamps: Vec<Envelope> = materials
            .timestamps
            .iter()
            .filter_map(|t| Envelope::from_json(t).ok())
            .collect();
        let signature = check_signature(
            &materials.signatures,
            &digest_hex,
            publisher.as_deref(),
            &trusted,
            &timestamps,
            &marketplace,
            now,
        );
        let settings = self.store.supply_settings(&org.id).await?;
        let provenance = check_provenance(
            &materials.provenance,
            &digest_hex,
            manifest,
            &trusted,
            &timestamps,
            &marketplace,
            &settings.trusted_builders,
            now,
        );
        let index = self.vuln_index().await?;
        let (sbom, components, vulnerabilities) = check_sbom(materials, &index);
        let secrets = self.scan_secrets(materials)?;
        let mut report = SupplyReport::assemble(
            materials.artifact_digest.clone(),
            signature,
            provenance,
            sbom,
            vulnerabilities,
            secrets,
            ManifestFacts::of(manifest),
        );
        report.apply_vex(&self.store.list_vex(&org.id, &app_id).await?, now);
        let key_ids: Vec<String> = report.signature.key_id.iter().cloned().collect();
        let scan = ScanRecord {
            org_id: org.id.clone(),
            app_id: app_id.clone(),
            version: version.clone(),
            seq: 0,
            scanned_at: now,
            cause: ScanCause::Submission,
            score: i64::from(report.score.total),
            report: serde_json::to_value(&report)
                .map_err(|e| CoreError::Invalid(format!("report: {e}")))?,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            SUPPLY_ACTOR,
            "supply.scan",
            format!("app:{app_id}@{version}"),
            json!({
                "cause": "submission",
                "artifact": materials.artifact_digest,
                "score": report.score.total,
                "signature": report.signature.status,
                "keyId": report.signature.key_id,
                "slsaLevel": report.provenance.slsa_level,
                "vulnerabilities": report.vulnerabilities.len(),
                "secrets": report.secrets.count,
            }),
        );
        self.store
            .record_scan(
                ScanWrite {
                    scan: &scan,
                    components: Some(&components),
                    key_ids: Some(&key_ids),
                    notifications: &[],
                    block: None,
                },
                &audit,
            )
            .await?;
        Ok(report)
    }

    fn scan_secrets(&self, materials: &SubmissionMaterials) -> Result<SecretsReport, CoreError> {
        let scanner = self.secret_scanner()?;
        let mut report = scanner.scan_bytes("micro-app.yaml", materials.manifest_text.as_bytes());
        if let Some(bytes) = &materials.artifact_bytes {
            let label = "artifact";
            let artifact = scanner
                .scan_wasm(label, bytes)
                .unwrap_or_else(|_| scanner.scan_bytes(label, bytes));
            report.merge(artifact);
        }
        if !materials.layers.is_empty() {
            let layers = materials.layers.iter().enumerate().map(|(i, bytes)| {
                plaza_supply::secrets::LayerInput {
                    label: format!("layer[{i}]"),
                    reader: bytes.as_slice(),
                }
            });
            match scanner.scan_layers(layers) {
                Ok(found) => report.merge(found),
                Err(e) => {
                    tracing::warn!(error = %e, "an image layer could not be scanned for secrets")
                }
            }
        }
        Ok(SecretsReport {
            count: u32::try_from(report.findings.len()).unwrap_or(u32::MAX),
            findings: report
                .findings
                .iter()
                .filter_map(|f| serde_json::to_value(f).ok())
                .collect(),
        })
    }

    /// The org's supply settings (defaults until set: no trusted builders, re-scans block).
    pub async fn supply_settings(&self, org: &Org) -> Result<SupplySettings, CoreError> {
        Ok(self.store.supply_settings(&org.id).await?)
    }

    /// Replaces the org's supply settings, audited. Builder ids must be non-empty and distinct,
    /// levels 1 to 3.
    pub async fn set_supply_settings(
        &self,
        actor: &Principal,
        org: &Org,
        settings: SupplySettings,
    ) -> Result<SupplySettings, CoreError> {
        if settings.trusted_builders.len() > MAX_TRUSTED_BUILDERS {
            return Err(CoreError::Invalid(format!(
                "`trustedBuilders` lists {} builders; at most {MAX_TRUSTED_BUILDERS}",
                settings.trusted_builders.len()
            )));
        }
        let mut problems = Vec::new();
        for (i, b) in settings.trusted_builders.iter().enumerate() {
            let id = b.id.trim();
            if id.is_empty() || id.len() > 1000 || id.chars().any(char::is_control) {
                problems.push(format!(
                    "/trustedBuilders/{i}/id: must be the builder.id a provenance names \
                     (1 to 1000 printable characters)"
                ));
            }
            if !(1..=3).contains(&b.level) {
                problems.push(format!(
                    "/trustedBuilders/{i}/level: {} is not a SLSA build level; use 1, 2 or 3",
                    b.level
                ));
            }
            if settings.trusted_builders[..i].iter().any(|o| o.id == b.id) {
                problems.push(format!(
                    "/trustedBuilders/{i}/id: `{}` is listed twice",
                    b.id
                ));
            }
        }
        if !problems.is_empty() {
            return Err(CoreError::Invalid(problems.join("; ")));
        }
        let before = self.store.supply_settings(&org.id).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "supply.settings.set",
            format!("org:{}", org.id),
            json!({"from": before, "to": settings}),
        );
        self.store
            .set_supply_settings(&org.id, &settings, &audit)
            .await?;
        Ok(settings)
    }

    /// A version's score history, oldest first.
    pub async fn supply_scan_history(
        &self,
        org: &Org,
        app_id: &str,
        version: &str,
    ) -> Result<Vec<ScanRecord>, CoreError> {
        Ok(self.store.list_scans(&org.id, app_id, version).await?)
    }

    /// A user's or a team's notifications, newest first.
    pub async fn notifications(
        &self,
        org: &Org,
        recipient: &Recipient,
        limit: u32,
    ) -> Result<Vec<Notification>, CoreError> {
        Ok(self
            .store
            .list_notifications(&org.id, recipient, limit.min(MAX_NOTIFICATIONS))
            .await?)
    }

    /// What `principal` should read: their own notifications and their teams', newest first,
    /// at most `limit`.
    pub async fn notifications_of(
        &self,
        principal: &Principal,
        limit: u32,
    ) -> Result<Vec<Notification>, CoreError> {
        let org = self.org(principal.org_id()).await?;
        let mut all = self
            .notifications(&org, &Recipient::User(principal.user.id.clone()), limit)
            .await?;
        for team in &principal.teams {
            all.extend(
                self.notifications(&org, &Recipient::Team(team.clone()), limit)
                    .await?,
            );
        }
        all.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        all.truncate(usize::try_from(limit.min(MAX_NOTIFICATIONS)).unwrap_or(usize::MAX));
        Ok(all)
    }

    /// Whether (and why) a version is blocked for new installs.
    pub async fn version_block(
        &self,
        org: &Org,
        app_id: &str,
        version: &str,
    ) -> Result<Option<VersionBlock>, CoreError> {
        Ok(self.store.version_block(&org.id, app_id, version).await?)
    }
}

fn manifest_str(manifest: &Value, pointer: &str) -> Option<String> {
    manifest
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The 64 lowercase hex digits of a `sha256:<hex>` digest.
fn sha256_hex_of(digest: &str) -> Result<String, CoreError> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CoreError::Invalid(format!(
            "artifact digest `{digest}` is not sha256:<64 hex digits>"
        )));
    }
    Ok(hex.to_ascii_lowercase())
}

/// Verifies one signature envelope over the artifact digest with the publisher's keys.
fn verify_one(
    envelope_json: &[u8],
    digest_hex: &str,
    keys: &[TrustedKey],
    timestamps: &[Envelope],
    marketplace: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<(String, Option<DateTime<Utc>>), SignError> {
    let envelope = Envelope::from_json(envelope_json)?;
    let trusted = verify_with_trusted_keys(&envelope, keys, timestamps, marketplace, now)?;
    let statement = Statement::from_envelope(&envelope)?;
    statement.check_subject(digest_hex)?;
    statement.check_predicate_type(KNOWN_PREDICATE_TYPES)?;
    Ok((trusted.verified.key_id, trusted.signed_at))
}

fn check_signature(
    signatures: &[Vec<u8>],
    digest_hex: &str,
    publisher: Option<&str>,
    keys: &[TrustedKey],
    timestamps: &[Envelope],
    marketplace: &[PublicKey],
    now: DateTime<Utc>,
) -> SignatureReport {
    let mut report = SignatureReport {
        status: SignatureStatus::Missing,
        key_id: None,
        publisher: publisher.map(str::to_owned),
        signed_at: None,
        reason: None,
    };
    if signatures.is_empty() {
        report.reason = Some("no signature is attached; sign with `plaza sign`".into());
        return report;
    }
    let Some(publisher) = publisher else {
        report.status = SignatureStatus::Invalid;
        report.reason = Some(
            "the manifest names no publisher (provenance.signedBy), so no registered key can \
             vouch for the signature"
                .into(),
        );
        return report;
    };
    if keys.is_empty() {
        report.status = SignatureStatus::Invalid;
        report.reason = Some(format!(
            "publisher `{publisher}` has no registered key in this org; register one first"
        ));
        return report;
    }
    let mut reasons = Vec::new();
    for (i, sig) in signatures.iter().enumerate() {
        match verify_one(sig, digest_hex, keys, timestamps, marketplace, now) {
            Ok((key_id, signed_at)) => {
                report.status = SignatureStatus::Verified;
                report.key_id = Some(key_id);
                report.signed_at = signed_at;
                return report;
            }
            Err(e) => reasons.push(format!("signature {}: {e}", i + 1)),
        }
    }
    report.status = SignatureStatus::Invalid;
    report.reason = Some(reasons.join("; "));
    report
}

#[allow(clippy::too_many_arguments)]
fn check_provenance(
    provenance: &[Vec<u8>],
    digest_hex: &str,
    manifest: &Value,
    keys: &[TrustedKey],
    timestamps: &[Envelope],
    marketplace: &[PublicKey],
    builders: &[TrustedBuilder],
    now: DateTime<Utc>,
) -> ProvenanceReport {
    let expected_source = SourceExpectation {
        repository: manifest_str(manifest, "/repository").unwrap_or_default(),
        git_ref: None,
    };
    let policy = ProvenancePolicy {
        publisher_keys: keys,
        marketplace_keys: marketplace,
        timestamps,
        trusted_builders: builders,
        expected_source: &expected_source,
        now,
    };
    if provenance.is_empty() {
        return ProvenanceReport::from(&verify_provenance(None, digest_hex, &policy));
    }
    provenance
        .iter()
        .map(|p| verify_provenance(Some(p), digest_hex, &policy))
        .max_by_key(|v| v.slsa_level)
        .map(|v| ProvenanceReport::from(&v))
        .unwrap_or_default()
}

/// Parses the SBOM, checks its binding and matches its components (see [`sbom_components`]).
fn check_sbom(
    materials: &SubmissionMaterials,
    index: &VulnIndex,
) -> (SbomReport, Vec<ComponentRecord>, Vec<VulnerabilityReport>) {
    let Some(bytes) = &materials.sbom else {
        return (
            SbomReport {
                problems: vec!["no SBOM is attached; generate one with `plaza sbom`".into()],
                ..SbomReport::default()
            },
            Vec::new(),
            Vec::new(),
        );
    };
    sbom_components(
        bytes,
        &materials.artifact_digest,
        materials.sbom_attached_as_referrer,
        index,
    )
}

/// Matches indexed components against the OSV index, as `plaza_supply::scan::match_sbom` does
/// for a whole SBOM (the re-scan has only the index, not the SBOM).
pub(crate) fn match_components(
    index: &VulnIndex,
    components: &[ComponentRecord],
) -> Vec<VulnerabilityReport> {
    let mut out = Vec::new();
    for c in components {
        let result = index.query(&c.ecosystem, &c.name, &c.version);
        for m in result.matches {
            out.push(VulnerabilityReport {
                id: m.id.to_owned(),
                aliases: m.aliases.to_vec(),
                severity: level_name(m.severity.level).to_owned(),
                package: c.purl.clone(),
                version: c.version.clone(),
                fixed_versions: m.fixed_versions.iter().map(|v| (*v).to_owned()).collect(),
            });
        }
    }
    sort_vulnerabilities(&mut out);
    out
}

fn sort_vulnerabilities(v: &mut Vec<VulnerabilityReport>) {
    v.sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
    v.dedup_by(|a, b| a.key() == b.key());
}

/// The index record of a component: its purl's package, and the purl's version or else the
/// component's own (the rule `plaza_supply::scan::match_sbom` queries by).
fn component_of(c: &plaza_supply::sbom::Component) -> Option<ComponentRecord> {
    let purl = c.purl.as_deref()?;
    let p = parse_purl(purl).ok()?;
    let version = p.version.or_else(|| c.version.clone())?;
    let ecosystem = canonical_ecosystem(&p.ecosystem).into_owned();
    let name = normalize_name(&ecosystem, &p.name).into_owned();
    Some(ComponentRecord {
        ecosystem,
        name,
        version,
        purl: purl.to_owned(),
    })
}

/// Most "component not checked" problems listed one by one.
const MAX_COMPONENT_PROBLEMS: usize = 20;

/// Parses the SBOM (`plaza_supply::sbom`), checks its binding (its subject's digest, or an OCI
/// referrer of the artifact), matches its components with `plaza_supply::scan::match_sbom` (the
/// function `plaza scan` calls), and indexes the components it could check.
fn sbom_components(
    bytes: &[u8],
    artifact_digest: &str,
    attached_as_referrer: bool,
    index: &VulnIndex,
) -> (SbomReport, Vec<ComponentRecord>, Vec<VulnerabilityReport>) {
    let sbom = match parse_sbom(bytes, "sbom") {
        Ok(s) => s,
        Err(e) => {
            return (
                SbomReport {
                    problems: vec![format!("the SBOM does not parse: {e}")],
                    ..SbomReport::default()
                },
                Vec::new(),
                Vec::new(),
            )
        }
    };
    let mut problems = Vec::new();
    let bound = match binding(&sbom, artifact_digest) {
        Binding::Bound { .. } => true,
        Binding::Unbound { .. } if attached_as_referrer => true,
        Binding::Unbound { reason } => {
            problems.push(format!(
                "the SBOM is not bound to the artifact: {reason}; attach it as a referrer of \
                 the artifact or give its subject the artifact's sha256"
            ));
            false
        }
    };
    let scan = match_sbom(&sbom, index);
    for n in scan.not_checked.iter().take(MAX_COMPONENT_PROBLEMS) {
        problems.push(format!(
            "component `{}` ({}) was not checked for vulnerabilities: {}",
            n.component, n.name, n.reason
        ));
    }
    if scan.not_checked.len() > MAX_COMPONENT_PROBLEMS {
        problems.push(format!(
            "… and {} more components not checked",
            scan.not_checked.len() - MAX_COMPONENT_PROBLEMS
        ));
    }
    let mut vulnerabilities: Vec<VulnerabilityReport> = scan
        .findings
        .iter()
        .map(|f| VulnerabilityReport {
            id: f.id.to_string(),
            aliases: f.aliases.to_vec(),
            severity: level_name(f.severity).to_owned(),
            package: f.purl.to_string(),
            version: f.version.to_string(),
            fixed_versions: f.fixed_versions.clone(),
        })
        .collect();
    sort_vulnerabilities(&mut vulnerabilities);
    let mut components: Vec<ComponentRecord> =
        sbom.components.iter().filter_map(component_of).collect();
    components.sort();
    components.dedup();
    let count = |f: &dyn Fn(&plaza_supply::sbom::Component) -> bool| {
        u32::try_from(sbom.components.iter().filter(|c| f(c)).count()).unwrap_or(u32::MAX)
    };
    let format = match sbom.format {
        SbomFormat::CycloneDx { .. } => "cyclonedx",
        SbomFormat::Spdx { .. } => "spdx",
    };
    (
        SbomReport {
            present: true,
            format: Some(format.to_owned()),
            components: u32::try_from(sbom.components.len()).unwrap_or(u32::MAX),
            with_purl: count(&|c| c.purl.is_some()),
            with_license: count(&|c| !c.licenses.is_empty()),
            with_hash: count(&|c| !c.hashes.is_empty()),
            bound,
            problems,
        },
        components,
        vulnerabilities,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_supply::sign::artifact::sign_artifact;
    use plaza_supply::sign::intoto::sha256_hex;
    use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey};

    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn cyclonedx(subject_sha: Option<&str>, purls: &[&str]) -> Vec<u8> {
        let mut subject = json!({"type": "application", "bom-ref": "app", "name": "app"});
        if let Some(h) = subject_sha {
            subject["hashes"] = json!([{"alg": "SHA-256", "content": h}]);
        }
        let components: Vec<Value> = purls
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"type": "library", "bom-ref": format!("c{i}"), "name": format!("c{i}"), "purl": p}))
            .collect();
        serde_json::to_vec(&json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "metadata": {"component": subject}, "components": components,
        }))
        .unwrap()
    }

    #[test]
    fn sbom_binding_by_subject_digest_or_referrer() {
        let hex = DIGEST.trim_start_matches("sha256:");
        let purls = ["pkg:pypi/Django@1.11.1", "pkg:cargo/serde@1.0.0"];
        let advisory = json!({
            "id": "PYSEC-T", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.11.2"}]}]}],
        });
        let idx =
            VulnIndex::from_advisories([
                parse_advisory(advisory.to_string().as_bytes(), "a.json").unwrap()
            ]);
        let (bound, comps, vulns) =
            sbom_components(&cyclonedx(Some(hex), &purls), DIGEST, false, &idx);
        assert!(bound.present && bound.bound, "{bound:?}");
        // The gate's matches are plaza scan's, and the re-scan's from the index agree.
        assert_eq!(vulns.len(), 1);
        assert_eq!(
            (vulns[0].id.as_str(), vulns[0].package.as_str()),
            ("PYSEC-T", "pkg:pypi/Django@1.11.1")
        );
        assert_eq!(vulns[0].fixed_versions, vec!["1.11.2".to_owned()]);
        assert_eq!(match_components(&idx, &comps), vulns);
        assert_eq!(bound.format.as_deref(), Some("cyclonedx"));
        assert_eq!((bound.components, bound.with_purl), (2, 2));
        // Canonical ecosystem, PEP 503 name, purl kept as written.
        assert_eq!(
            comps,
            vec![
                ComponentRecord {
                    ecosystem: "PyPI".into(),
                    name: "django".into(),
                    version: "1.11.1".into(),
                    purl: "pkg:pypi/Django@1.11.1".into(),
                },
                ComponentRecord {
                    ecosystem: "crates.io".into(),
                    name: "serde".into(),
                    version: "1.0.0".into(),
                    purl: "pkg:cargo/serde@1.0.0".into(),
                },
            ]
        );
        let unbound = cyclonedx(Some(&"2".repeat(64)), &purls);
        let (r, _, _) = sbom_components(&unbound, DIGEST, false, &idx);
        assert!(r.present && !r.bound);
        assert!(r.problems[0].contains("not bound"), "{:?}", r.problems);
        let (r, comps, _) = sbom_components(&unbound, DIGEST, true, &idx);
        assert!(
            r.bound && r.problems.is_empty(),
            "a referrer of the artifact binds it"
        );
        assert_eq!(comps.len(), 2);
    }

    #[test]
    fn sbom_problems_are_reported_not_fatal() {
        let idx = VulnIndex::new();
        let (r, comps, _) = sbom_components(b"{not json", DIGEST, true, &idx);
        assert!(!r.present && comps.is_empty());
        assert!(r.problems[0].contains("does not parse"), "{:?}", r.problems);
        let (r, comps, _) = sbom_components(
            &cyclonedx(
                None,
                &["pkg:cargo/serde", "pkg:nosuchtype/x@1", "pkg:npm/a@1.0.0"],
            ),
            DIGEST,
            true,
            &idx,
        );
        assert_eq!(
            comps.len(),
            1,
            "only the purl with a version of a known type"
        );
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        let (r, _, _) = check_sbom(&SubmissionMaterials::default(), &idx);
        assert!(!r.present && r.problems[0].contains("plaza sbom"));
    }

    fn key() -> (PrivateKey, TrustedKey) {
        let pair = generate(Algorithm::EcdsaP256, None).unwrap();
        let private = PrivateKey::from_pem(&pair.private_pem, None).unwrap();
        let trusted = TrustedKey {
            key: private.public_key(),
            owner: "p".into(),
            valid_from: DateTime::<Utc>::MIN_UTC,
            valid_until: None,
            revoked_at: None,
        };
        (private, trusted)
    }

    #[test]
    fn signatures_verify_by_digest_with_the_publishers_keys_only() {
        let (private, trusted) = key();
        let (_, stranger) = key();
        let artifact = b"component";
        let hex = sha256_hex(artifact);
        let sig = sign_artifact("app.wasm", artifact, &private)
            .to_json()
            .into_bytes();
        let now = Utc::now();
        let ok = check_signature(
            std::slice::from_ref(&sig),
            &hex,
            Some("p"),
            std::slice::from_ref(&trusted),
            &[],
            &[],
            now,
        );
        assert_eq!(ok.status, SignatureStatus::Verified);
        assert_eq!(ok.key_id, Some(trusted.key.key_id()));
        let missing = check_signature(&[], &hex, Some("p"), &[], &[], &[], now);
        assert_eq!(missing.status, SignatureStatus::Missing);
        let anonymous = check_signature(
            std::slice::from_ref(&sig),
            &hex,
            None,
            std::slice::from_ref(&trusted),
            &[],
            &[],
            now,
        );
        assert_eq!(anonymous.status, SignatureStatus::Invalid);
        let wrong_key = check_signature(
            std::slice::from_ref(&sig),
            &hex,
            Some("p"),
            &[stranger],
            &[],
            &[],
            now,
        );
        assert_eq!(wrong_key.status, SignatureStatus::Invalid);
        let other_digest = check_signature(
            std::slice::from_ref(&sig),
            &"0".repeat(64),
            Some("p"),
            &[trusted],
            &[],
            &[],
            now,
        );
        assert_eq!(other_digest.status, SignatureStatus::Invalid);
        assert!(other_digest.reason.unwrap().contains("signature 1"));
    }

    #[test]
    fn artifact_digests_must_be_sha256() {
        assert!(sha256_hex_of("sha256:abc").is_err());
        assert!(sha256_hex_of(&format!("sha512:{}", "a".repeat(64))).is_err());
        assert_eq!(
            sha256_hex_of(&format!("sha256:{}", "A".repeat(64))).unwrap(),
            "a".repeat(64)
        );
    }
}
