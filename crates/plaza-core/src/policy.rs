//! Policy governance as the domain sees it: an org's versioned policy sets, its enforcement mode,
//! time-limited exceptions the council grants, and the decision log. Evaluating Rego is
//! `plaza-policy`'s job; this module holds what is stored and the rules about it.

use crate::ids::{DecisionId, ExceptionId, OrgId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// How an org treats `deny` findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyMode {
    /// `deny` blocks, `warn` sends to review.
    #[default]
    Enforce,
    /// Nothing blocks: `deny` and `warn` both send to review, so an org can adopt policies
    /// gradually with a clear remediation path.
    WarnOnly,
}

impl PolicyMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMode::Enforce => "enforce",
            PolicyMode::WarnOnly => "warn-only",
        }
    }
}

impl fmt::Display for PolicyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "enforce" => Ok(PolicyMode::Enforce),
            "warn-only" => Ok(PolicyMode::WarnOnly),
            _ => Err(format!(
                "unknown policy mode `{s}`; expected `enforce` or `warn-only`"
            )),
        }
    }
}

/// One file of a policy set, by its path relative to the pushed folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFile {
    /// Relative path, e.g. `scopes.rego` or `lib/helpers.rego`.
    pub path: String,
    /// The Rego source.
    pub content: String,
}

/// A version of an org's own policies: Rego files plus the settings the built-in bundle reads
/// (`data.plaza.org`). The newest version is the active one; a push that does not compile is
/// never stored, so the previous version stays active.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicyVersion {
    /// Owning org.
    pub org_id: OrgId,
    /// 1, 2, 3, ... per org.
    pub version: i64,
    /// The Rego files, sorted by path.
    pub files: Vec<PolicyFile>,
    /// Settings for the built-in bundle (`data.plaza.org`), a JSON object.
    pub settings: serde_json::Value,
    /// SHA-256 over files and settings ([`policy_digest`]).
    pub digest: String,
    /// Who pushed it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The digest of a policy set: files (sorted by path) and settings, each length-prefixed.
pub fn policy_digest(files: &[PolicyFile], settings: &serde_json::Value) -> String {
    let mut sorted: Vec<&PolicyFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for f in sorted {
        for part in [f.path.as_bytes(), f.content.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
    }
    let settings = serde_json::to_string(settings).unwrap_or_default();
    h.update((settings.len() as u64).to_be_bytes());
    h.update(settings.as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// A council's permission for one app to break one rule, for a while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyException {
    /// Stable id.
    pub id: ExceptionId,
    /// Owning org.
    pub org_id: OrgId,
    /// The app it covers (reverse-DNS id).
    pub app_id: String,
    /// The rule id it waives, e.g. `plaza.sbom.required`.
    pub rule_id: String,
    /// Why it was granted.
    pub reason: String,
    /// When it stops applying.
    pub expires_at: DateTime<Utc>,
    /// Who granted it.
    pub granted_by: UserId,
    /// When it was granted.
    pub created_at: DateTime<Utc>,
    /// When it was revoked early, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its expiry was recorded (audited), if it has been.
    pub expired_at: Option<DateTime<Utc>>,
}

impl PolicyException {
    /// Whether it waives findings at `now`.
    pub fn applies_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// The outcome of a policy decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No blocking or review-worthy finding.
    Pass,
    /// Goes to human review (a `warn`, or a `deny` in warn-only mode).
    Review,
    /// Blocked by a `deny` in enforce mode.
    Deny,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Review => "review",
            Outcome::Deny => "deny",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pass" => Ok(Outcome::Pass),
            "review" => Ok(Outcome::Review),
            "deny" => Ok(Outcome::Deny),
            _ => Err(format!("unknown outcome `{s}`")),
        }
    }
}

/// One recorded evaluation: what was judged, by which policies, with what result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Stable id.
    pub id: DecisionId,
    /// Owning org.
    pub org_id: OrgId,
    /// The app judged.
    pub app_id: String,
    /// Its version.
    pub version: String,
    /// SHA-256 of the input document.
    pub input_digest: String,
    /// The input document itself (kept so a policy change can be previewed against it).
    pub input: serde_json::Value,
    /// Version of the built-in bundle.
    pub bundle_version: String,
    /// The org policy version, if the org has one.
    pub org_policy_version: Option<i64>,
    /// The mode in force.
    pub mode: PolicyMode,
    /// The result.
    pub outcome: Outcome,
    /// Every finding, with waived ones marked, as JSON.
    pub findings: serde_json::Value,
    /// How long the evaluation took, in microseconds.
    pub duration_us: i64,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// SHA-256 of a JSON document's compact text.
pub fn input_digest(input: &serde_json::Value) -> String {
    let text = serde_json::to_string(input).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn digests_ignore_file_order_but_not_content() {
        let a = PolicyFile {
            path: "a.rego".into(),
            content: "package a".into(),
        };
        let b = PolicyFile {
            path: "b.rego".into(),
            content: "package b".into(),
        };
        let s = serde_json::json!({"slsa_min_level": 2});
        assert_eq!(
            policy_digest(&[a.clone(), b.clone()], &s),
            policy_digest(&[b.clone(), a.clone()], &s)
        );
        let b2 = PolicyFile {
            content: "package b2".into(),
            ..b
        };
        assert_ne!(policy_digest(&[a.clone(), b2], &s), policy_digest(&[a], &s));
    }

    #[test]
    fn an_exception_applies_until_it_expires_or_is_revoked() {
        let now = Utc::now();
        let mut e = PolicyException {
            id: ExceptionId::from("exc_1"),
            org_id: OrgId::from("org_1"),
            app_id: "com.example.app".into(),
            rule_id: "plaza.sbom.required".into(),
            reason: "SBOM tooling lands next sprint".into(),
            expires_at: now + Duration::days(7),
            granted_by: UserId::from("usr_1"),
            created_at: now,
            revoked_at: None,
            expired_at: None,
        };
        assert!(e.applies_at(now));
        assert!(!e.applies_at(now + Duration::days(7)));
        e.revoked_at = Some(now);
        assert!(!e.applies_at(now));
    }

    #[test]
    fn modes_parse_from_their_wire_names() {
        assert_eq!("warn-only".parse::<PolicyMode>(), Ok(PolicyMode::WarnOnly));
        assert!("lenient".parse::<PolicyMode>().is_err());
    }
}
