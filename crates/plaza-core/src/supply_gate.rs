//! The submission gate's supply-chain checks and the continuous re-scan, as data: what a
//! submission brings ([`SubmissionMaterials`]), what the gate finds ([`SupplyReport`], and the
//! policy [`Facts`](plaza_policy::Facts) derived from it), and what the store keeps for the
//! re-scan: score history ([`ScanRecord`]), the purl → version index ([`ComponentRecord`]),
//! durable jobs ([`SupplyJob`]), notifications ([`Notification`]) and blocks ([`VersionBlock`]).
//!
//! The checks themselves are `plaza_supply`'s (signatures, provenance, SBOM, OSV matching,
//! secrets); the services in `service/supply/` run them and store the results.

use crate::ids::{OrgId, TeamId, UserId};
use chrono::{DateTime, Utc};
use plaza_policy::{Facts, SbomFacts, Vulnerability, VulnerabilityFacts};
use plaza_supply::osv::SeverityLevel;
use plaza_supply::score::{score, SbomFactor, Score, ScoreInput, SignatureFactor, VulnFactor};
use plaza_supply::sign::slsa::provenance::{ProvenanceVerdict, TrustedBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a submission brings to the supply-chain gate. The caller (the HTTP edge, reading the
/// registry) collects the referrers of the artifact.
#[derive(Debug, Clone, Default)]
pub struct SubmissionMaterials {
    /// The artifact's digest, `sha256:<64 hex>`: what signatures, provenance and the SBOM name.
    pub artifact_digest: String,
    /// The Wasm component (or other artifact bytes), for secret scanning.
    pub artifact_bytes: Option<Vec<u8>>,
    /// A container image's layers (tar or tar+gzip), bottom layer first, for secret scanning
    /// (files a later layer deletes are scanned too, and reported as such).
    pub layers: Vec<Vec<u8>>,
    /// The manifest as submitted (scanned for secrets).
    pub manifest_text: String,
    /// DSSE envelopes (JSON) signing the artifact.
    pub signatures: Vec<Vec<u8>>,
    /// DSSE envelopes (JSON) carrying SLSA provenance.
    pub provenance: Vec<Vec<u8>>,
    /// The SBOM (CycloneDX or SPDX JSON), if any.
    pub sbom: Option<Vec<u8>>,
    /// Whether the SBOM was attached as an OCI referrer whose subject is the artifact (which
    /// binds it even when its own subject carries no digest).
    pub sbom_attached_as_referrer: bool,
    /// Marketplace timestamps (DSSE envelopes) for the signatures.
    pub timestamps: Vec<Vec<u8>>,
}

/// Whether the artifact's signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureStatus {
    /// A signature verified with a key of the publisher valid for it.
    Verified,
    /// Signatures were attached but none verifies (or no longer does).
    Invalid,
    /// No signature was attached.
    Missing,
}

/// The signature check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// The outcome.
    pub status: SignatureStatus,
    /// The key that verified (Plaza key id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The publisher whose key it is (the manifest's `provenance.signedBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The signing time a marketplace timestamp proves, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// Why it did not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One provenance check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceCheck {
    /// The check (`signature`, `subject`, `builder`, … as `plaza_supply` names them).
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// The provenance verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceReport {
    /// The SLSA build level established, 0..=3.
    pub slsa_level: u8,
    /// Every check, in order.
    pub checks: Vec<ProvenanceCheck>,
}

impl From<&ProvenanceVerdict> for ProvenanceReport {
    fn from(v: &ProvenanceVerdict) -> Self {
        Self {
            slsa_level: v.slsa_level,
            checks: v
                .reasons
                .iter()
                .map(|f| ProvenanceCheck {
                    check: serde_json::to_value(f.check)
                        .ok()
                        .and_then(|c| c.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    passed: f.passed,
                    detail: f.detail.clone(),
                })
                .collect(),
        }
    }
}

/// The SBOM check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SbomReport {
    /// An SBOM was attached and parsed.
    pub present: bool,
    /// `cyclonedx` or `spdx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// How many components it lists.
    pub components: u32,
    /// Of those, how many have a purl.
    pub with_purl: u32,
    /// Of those, how many have a license.
    pub with_license: u32,
    /// Of those, how many have a hash.
    pub with_hash: u32,
    /// Whether it is bound to the artifact (its subject's digest, or attached as a referrer).
    pub bound: bool,
    /// What is wrong with it (parse errors, unbound, components without purl).
    pub problems: Vec<String>,
}

/// One known vulnerability of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VulnerabilityReport {
    /// The OSV id.
    pub id: String,
    /// Its aliases (CVE, GHSA, …).
    pub aliases: Vec<String>,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
    /// The component's purl.
    pub package: String,
    /// The component's version.
    pub version: String,
    /// Versions that fix it (above the installed one); empty when no fix is available.
    pub fixed_versions: Vec<String>,
}

impl VulnerabilityReport {
    /// Critical, with a fix available: the re-scan blocks new installs for this.
    pub fn is_critical_with_fix(&self) -> bool {
        self.severity == "critical" && !self.fixed_versions.is_empty()
    }

    /// The identity of the finding across scans.
    pub fn key(&self) -> (&str, &str) {
        (&self.id, &self.package)
    }
}

/// The secret scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsReport {
    /// How many secrets were found.
    pub count: u32,
    /// The scanner's findings: location, rule and a redacted preview, never the secret.
    pub findings: Vec<serde_json::Value>,
}

/// What the manifest says that the score weighs: maintainers, contact and requested scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestFacts {
    /// How many maintainers it lists.
    pub maintainers: u32,
    /// Whether it gives a contact e-mail.
    pub contact_email: bool,
    /// Every scope its permissions request.
    pub scopes: Vec<String>,
}

impl ManifestFacts {
    /// Reads them from a normalised manifest (JSON).
    pub fn of(manifest: &serde_json::Value) -> Self {
        use serde_json::Value;
        Self {
            maintainers: manifest
                .get("maintainers")
                .and_then(Value::as_array)
                .map_or(0, |m| u32::try_from(m.len()).unwrap_or(u32::MAX)),
            contact_email: manifest
                .pointer("/contact/email")
                .and_then(Value::as_str)
                .is_some_and(|e| !e.trim().is_empty()),
            scopes: manifest
                .get("permissions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("scopes").and_then(Value::as_array))
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
        }
    }
}

/// What the supply-chain gate found about one artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupplyReport {
    /// The artifact checked.
    pub artifact_digest: String,
    /// The signature.
    pub signature: SignatureReport,
    /// The provenance.
    pub provenance: ProvenanceReport,
    /// The SBOM.
    pub sbom: SbomReport,
    /// Known vulnerabilities of the SBOM's components.
    pub vulnerabilities: Vec<VulnerabilityReport>,
    /// Secrets found in the manifest and the artifact.
    pub secrets: SecretsReport,
    /// What the manifest says that the score weighs.
    pub manifest: ManifestFacts,
    /// The security score (`plaza_supply::score`), every factor explained.
    pub score: Score,
    /// Vulnerabilities a VEX statement covers: shown, not counted (docs/vulnerabilities.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedVulnerability>,
}

/// A vulnerability that a VEX statement suppresses, with the statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedVulnerability {
    /// The finding.
    pub vulnerability: VulnerabilityReport,
    /// The statement's id.
    pub statement: String,
    /// What it says (`not_affected` / `fixed`), why, and who.
    pub by: plaza_supply::vex::Suppression,
}

/// A VEX statement stored for an app: a publisher's or reviewer's suppression of one advisory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// Its id.
    pub id: String,
    /// The org.
    pub org_id: OrgId,
    /// The app it is about (every version).
    pub app_id: String,
    /// The statement.
    pub suppression: plaza_supply::vex::Suppression,
    /// Who made it.
    pub created_by: crate::ids::UserId,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl SupplyReport {
    /// A report of these findings, scored.
    pub fn assemble(
        artifact_digest: String,
        signature: SignatureReport,
        provenance: ProvenanceReport,
        sbom: SbomReport,
        vulnerabilities: Vec<VulnerabilityReport>,
        secrets: SecretsReport,
        manifest: ManifestFacts,
    ) -> Self {
        let mut report = Self {
            artifact_digest,
            signature,
            provenance,
            sbom,
            vulnerabilities,
            secrets,
            manifest,
            score: score(&ScoreInput {
                signature: SignatureFactor::Unsigned,
                provenance_level: None,
                sbom: None,
                vulnerabilities: Vec::new(),
                secrets_found: 0,
                dependencies: None,
                maintainers: 0,
                contact_email: false,
                scopes: Vec::new(),
            }),
            suppressed: Vec::new(),
        };
        report.rescore();
        report
    }

    /// What the score is computed from.
    pub fn score_input(&self) -> ScoreInput {
        ScoreInput {
            signature: match self.signature.status {
                SignatureStatus::Verified => SignatureFactor::Verified,
                SignatureStatus::Missing => SignatureFactor::Unsigned,
                SignatureStatus::Invalid => SignatureFactor::Invalid {
                    reason: self.signature.reason.clone().unwrap_or_default(),
                },
            },
            provenance_level: Some(self.provenance.slsa_level),
            sbom: self.sbom.present.then_some(SbomFactor {
                components: self.sbom.components,
                with_purl: self.sbom.with_purl,
                with_license: self.sbom.with_license,
                with_hash: self.sbom.with_hash,
                bound: self.sbom.bound,
            }),
            vulnerabilities: self
                .vulnerabilities
                .iter()
                .map(|v| VulnFactor {
                    id: v.id.clone(),
                    severity: SeverityLevel::from_name(&v.severity)
                        .unwrap_or(SeverityLevel::Unknown),
                    fix_available: !v.fixed_versions.is_empty(),
                })
                .collect(),
            secrets_found: self.secrets.count,
            dependencies: None,
            maintainers: self.manifest.maintainers,
            contact_email: self.manifest.contact_email,
            scopes: self.manifest.scopes.clone(),
        }
    }

    /// Moves the vulnerabilities a statement covers at `now` (previously suppressed ones
    /// included, so an expired or removed statement brings its finding back) into `suppressed`,
    /// and rescores.
    pub fn apply_vex(&mut self, statements: &[VexStatement], now: DateTime<Utc>) {
        let mut all = std::mem::take(&mut self.vulnerabilities);
        // A re-scan's fresh matches include findings suppressed before: keep one of each.
        let earlier: Vec<VulnerabilityReport> =
            self.suppressed.drain(..).map(|s| s.vulnerability).collect();
        for v in earlier {
            if !all.iter().any(|a| a.key() == v.key()) {
                all.push(v);
            }
        }
        for v in all {
            let by = statements.iter().find(|st| {
                st.suppression
                    .covers_parts(&v.id, &v.aliases, &v.package, now)
            });
            match by {
                Some(st) => self.suppressed.push(SuppressedVulnerability {
                    vulnerability: v,
                    statement: st.id.clone(),
                    by: st.suppression.clone(),
                }),
                None => self.vulnerabilities.push(v),
            }
        }
        self.vulnerabilities
            .sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
        self.rescore();
    }

    /// Recomputes the score from the findings (after a re-scan changed them).
    pub fn rescore(&mut self) {
        self.score = score(&self.score_input());
    }

    /// The facts the policy input carries (`input.facts`).
    pub fn facts(&self) -> Facts {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        let items = self
            .vulnerabilities
            .iter()
            .map(|v| {
                *counts.entry(v.severity.clone()).or_default() += 1;
                Vulnerability {
                    id: v.id.clone(),
                    severity: v.severity.clone(),
                    package: v.package.clone(),
                    version: v.version.clone(),
                    fixed_version: v.fixed_versions.first().cloned(),
                }
            })
            .collect();
        Facts {
            signature_verified: Some(self.signature.status == SignatureStatus::Verified),
            provenance_level: Some(self.provenance.slsa_level),
            sbom: Some(SbomFacts {
                present: self.sbom.present && self.sbom.bound,
                format: self.sbom.format.clone(),
                component_count: self.sbom.present.then_some(self.sbom.components),
            }),
            vulnerabilities: Some(VulnerabilityFacts { counts, items }),
            secrets_found: Some(self.secrets.count),
            ..Facts::default()
        }
    }

    /// Vulnerabilities of `self` that `before` did not have (by id and package).
    pub fn new_vulnerabilities<'a>(
        &'a self,
        before: &SupplyReport,
    ) -> Vec<&'a VulnerabilityReport> {
        self.vulnerabilities
            .iter()
            .filter(|v| !before.vulnerabilities.iter().any(|b| b.key() == v.key()))
            .collect()
    }
}

/// What caused a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanCause {
    /// The submission gate.
    Submission,
    /// A vulnerability-database import.
    Vulndb,
    /// A publisher key was revoked.
    KeyRevoked,
}

impl ScanCause {
    /// The stored name: `submission`, `vulndb`, `key-revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::Vulndb => "vulndb",
            Self::KeyRevoked => "key-revoked",
        }
    }

    /// The cause with this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "submission" => Some(Self::Submission),
            "vulndb" => Some(Self::Vulndb),
            "key-revoked" => Some(Self::KeyRevoked),
            _ => None,
        }
    }
}

/// One entry of a version's score history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRecord {
    /// The org.
    pub org_id: OrgId,
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
    /// 1, 2, … per version, in scan order (the store assigns it).
    pub seq: i64,
    /// When.
    pub scanned_at: DateTime<Utc>,
    /// Why.
    pub cause: ScanCause,
    /// The score, 0..=100.
    pub score: i64,
    /// The [`SupplyReport`] as JSON.
    pub report: serde_json::Value,
}

/// One component of a version, as the purl → version index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRecord {
    /// The OSV ecosystem (canonical spelling).
    pub ecosystem: String,
    /// The package name, normalised as matching does.
    pub name: String,
    /// The component's version.
    pub version: String,
    /// The purl as the SBOM wrote it.
    pub purl: String,
}

/// A published version of an app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRef {
    /// The org.
    pub org_id: OrgId,
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
}

/// A version blocked for new installs by a re-scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionBlock {
    /// The org.
    pub org_id: OrgId,
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
    /// Why, in words shown to installers.
    pub reason: String,
    /// Since when.
    pub blocked_at: DateTime<Utc>,
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Recipient {
    /// A user (the publisher).
    User(UserId),
    /// A team (that installed the version).
    Team(TeamId),
}

impl Recipient {
    /// (`user` | `team`, id).
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::User(u) => ("user", u.as_str()),
            Self::Team(t) => ("team", t.as_str()),
        }
    }
}

/// A notification record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Its id.
    pub id: String,
    /// The org.
    pub org_id: OrgId,
    /// Who it is for.
    pub recipient: Recipient,
    /// What it is about, dotted (`supply.rescan`).
    pub kind: String,
    /// One line.
    pub subject: String,
    /// Details.
    pub body: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The kind of a re-scan job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Advisories were added, changed or removed.
    Vulndb,
    /// A publisher key was revoked.
    KeyRevoked,
}

impl JobKind {
    /// The stored name: `vulndb` or `key-revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vulndb => "vulndb",
            Self::KeyRevoked => "key-revoked",
        }
    }

    /// The kind with this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vulndb" => Some(Self::Vulndb),
            "key-revoked" => Some(Self::KeyRevoked),
            _ => None,
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker (claimable again once its lease ran out).
    Running,
    /// Finished.
    Done,
    /// Given up after too many attempts.
    Failed,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state with this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A durable re-scan job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupplyJob {
    /// Its id.
    pub id: String,
    /// What it re-scans for.
    pub kind: JobKind,
    /// Its parameters ([`VulndbJob`] or [`KeyRevokedJob`] as JSON).
    pub payload: serde_json::Value,
    /// Its state.
    pub state: JobState,
    /// How many times it was claimed.
    pub attempts: i64,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change (a claim renews it: the lease runs from here).
    pub updated_at: DateTime<Utc>,
    /// The last attempt's error.
    pub error: Option<String>,
}

/// Parameters of a [`JobKind::Vulndb`] job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VulndbJob {
    /// Advisory ids added, changed or removed.
    pub advisories: Vec<String>,
    /// The (ecosystem, name) packages they affect (before and after the import).
    pub packages: Vec<(String, String)>,
}

/// Parameters of a [`JobKind::KeyRevoked`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRevokedJob {
    /// The org of the key.
    pub org_id: OrgId,
    /// The revoked key.
    pub key_id: String,
}

/// An org's supply-chain settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupplySettings {
    /// Builders the org trusts, with the SLSA level it assigns each.
    pub trusted_builders: Vec<TrustedBuilder>,
    /// Whether a re-scan blocks new installs of a version that got a critical vulnerability
    /// with a fix, or whose signature stopped verifying.
    pub block_on_rescan: bool,
}

impl Default for SupplySettings {
    fn default() -> Self {
        Self {
            trusted_builders: Vec::new(),
            block_on_rescan: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> SupplyReport {
        SupplyReport::assemble(
            format!("sha256:{}", "a".repeat(64)),
            SignatureReport {
                status: SignatureStatus::Verified,
                key_id: Some("k".into()),
                publisher: Some("p".into()),
                signed_at: None,
                reason: None,
            },
            ProvenanceReport {
                slsa_level: 3,
                checks: vec![],
            },
            SbomReport {
                present: true,
                format: Some("cyclonedx".into()),
                components: 2,
                with_purl: 2,
                with_license: 2,
                with_hash: 2,
                bound: true,
                problems: vec![],
            },
            vec![],
            SecretsReport::default(),
            ManifestFacts {
                maintainers: 1,
                contact_email: true,
                scopes: vec!["calendar.read".into()],
            },
        )
    }

    fn vuln(id: &str, severity: &str, fixed: &[&str]) -> VulnerabilityReport {
        VulnerabilityReport {
            id: id.into(),
            aliases: vec![],
            severity: severity.into(),
            package: "pkg:cargo/x@1.0.0".into(),
            version: "1.0.0".into(),
            fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_score_follows_the_findings() {
        let clean = report();
        let base = clean.score.total;
        let mut bad = clean.clone();
        bad.signature.status = SignatureStatus::Invalid;
        bad.signature.reason = Some("revoked".into());
        bad.rescore();
        assert!(bad.score.total < base, "{} !< {base}", bad.score.total);
        assert!(bad.score.total <= 39, "an invalid signature caps the total");
        let mut vulnerable = clean.clone();
        vulnerable
            .vulnerabilities
            .push(vuln("A", "critical", &["1.0.1"]));
        vulnerable.rescore();
        assert!(vulnerable.score.total < base);
        // The same vulnerability weighs more in an app asking for a broad scope.
        let mut broad = vulnerable.clone();
        broad.manifest.scopes = vec!["admin:org".into()];
        broad.rescore();
        assert!(broad.score.total < vulnerable.score.total);
        let mut leaky = clean;
        leaky.secrets.count = 1;
        leaky.rescore();
        assert!(leaky.score.total < base);
    }

    #[test]
    fn manifest_facts_are_read_from_the_manifest() {
        let m = serde_json::json!({
            "maintainers": ["a", "b"],
            "contact": {"email": "x@example.com"},
            "permissions": [{"name": "cal", "scopes": ["calendar.read", "calendar.write"]}],
        });
        assert_eq!(
            ManifestFacts::of(&m),
            ManifestFacts {
                maintainers: 2,
                contact_email: true,
                scopes: vec!["calendar.read".into(), "calendar.write".into()],
            }
        );
        assert_eq!(
            ManifestFacts::of(&serde_json::Value::Null),
            ManifestFacts::default()
        );
    }

    #[test]
    fn facts_carry_counts_items_and_the_first_fix() {
        let mut r = report();
        r.vulnerabilities = vec![
            vuln("A", "critical", &["1.0.1", "2.0.0"]),
            vuln("B", "low", &[]),
            vuln("C", "critical", &[]),
        ];
        let f = r.facts();
        assert_eq!(f.signature_verified, Some(true));
        assert_eq!(f.provenance_level, Some(3));
        let v = f.vulnerabilities.unwrap();
        assert_eq!(v.counts.get("critical"), Some(&2));
        assert_eq!(v.counts.get("low"), Some(&1));
        assert_eq!(v.items[0].fixed_version.as_deref(), Some("1.0.1"));
        assert_eq!(v.items[1].fixed_version, None);
        assert_eq!(f.sbom.unwrap().component_count, Some(2));
    }

    #[test]
    fn new_vulnerabilities_are_by_id_and_package() {
        let mut before = report();
        before.vulnerabilities = vec![vuln("A", "high", &[])];
        let mut after = report();
        after.vulnerabilities = vec![vuln("A", "high", &[]), vuln("B", "critical", &["2"])];
        let new = after.new_vulnerabilities(&before);
        assert_eq!(new.len(), 1);
        assert!(new[0].is_critical_with_fix());
    }

    #[test]
    fn reports_round_trip_through_json() {
        let mut r = report();
        r.vulnerabilities.push(vuln("A", "high", &["1.2.0"]));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["signature"]["status"], "verified");
        assert_eq!(json["sbom"]["bound"], true);
        assert_eq!(json["vulnerabilities"][0]["fixedVersions"][0], "1.2.0");
        let back: SupplyReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn names_round_trip() {
        for c in [
            ScanCause::Submission,
            ScanCause::Vulndb,
            ScanCause::KeyRevoked,
        ] {
            assert_eq!(ScanCause::parse(c.as_str()), Some(c));
        }
        for k in [JobKind::Vulndb, JobKind::KeyRevoked] {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
    }
}
