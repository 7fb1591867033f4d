//! Installs: a team's running copy of an app version (an [`Instance`]), the permissions its
//! manifest asks for in plain words ([`PermissionRequest`]), what an admin granted
//! ([`Grant`]), and how two versions' permissions differ ([`PermissionDelta`]) so an upgrade
//! that widens anything waits for consent.
//!
//! Everything here is pure: the services in `service::installs` load and store instances.

mod credential;
mod delta;
mod request;
mod runtime_policy;

pub use credential::{
    new_downstream_secret, DownstreamCredential, GrantKind, GrantUse, DOWNSTREAM_PREFIX,
};
pub use delta::{PermissionDelta, ResourceChange};
pub use request::{describe_scope, ConsentError, PermissionRequest, RequestedCredential};
pub use runtime_policy::RuntimePolicy;

use crate::ids::{OrgId, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The default SPIFFE trust domain (`install.trust_domain` in the configuration).
pub const DEFAULT_TRUST_DOMAIN: &str = "plaza.local";

/// Identifies an instance. Plaza generates `inst_<uuidv7>`; an install may name its own id
/// (the demo's `inst-9a3f`), checked by [`InstanceId::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceId(pub String);

impl InstanceId {
    /// A fresh, time-ordered id.
    pub fn generate() -> Self {
        Self(format!("inst_{}", uuid::Uuid::now_v7().simple()))
    }

    /// An id chosen by the installer: 3–64 characters, lowercase letters, digits, `-` and `_`,
    /// starting with a letter (it is a path segment of the SPIFFE id and of `/apps/<id>/`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_len = (3..=64).contains(&s.len());
        let ok_start = s.starts_with(|c: char| c.is_ascii_lowercase());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok_len && ok_start && ok_chars {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "instance id `{s}` is not valid: use 3 to 64 lowercase letters, digits, `-` or \
                 `_`, starting with a letter (e.g. `inst-9a3f`)"
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for InstanceId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Whether an instance's usage is charged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingMode {
    /// Usage is rated and charged to the team.
    #[default]
    Normal,
    /// Usage is metered but not charged (trials, testing).
    Sandbox,
}

impl BillingMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Normal => "normal",
            BillingMode::Sandbox => "sandbox",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(BillingMode::Normal),
            "sandbox" => Some(BillingMode::Sandbox),
            _ => None,
        }
    }
}

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Installed by someone who may not grant; waits for an admin's consent. Nothing runs and
    /// no token is issued.
    PendingConsent,
    /// Installed and granted: runs, gets tokens, is metered.
    Active,
    /// Uninstalled: every credential is revoked; kept for audit and billing.
    Uninstalled,
}

impl InstanceStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::PendingConsent => "pending_consent",
            InstanceStatus::Active => "active",
            InstanceStatus::Uninstalled => "uninstalled",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending_consent" => Some(InstanceStatus::PendingConsent),
            "active" => Some(InstanceStatus::Active),
            "uninstalled" => Some(InstanceStatus::Uninstalled),
            _ => None,
        }
    }
}

/// The resources a version asks for, as normalised by the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLimits {
    /// Memory cap in bytes.
    pub memory_bytes: u64,
    /// CPU in millicores.
    pub cpu_millis: u64,
    /// Wall-time limit per invocation, in milliseconds.
    pub timeout_ms: u64,
}

/// What was granted to an instance for one app version: the consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The app version this consent covers.
    pub version: String,
    /// Granted scopes, sorted, without duplicates.
    pub scopes: Vec<String>,
    /// Optional scopes the admin refused, sorted.
    pub refused_scopes: Vec<String>,
    /// Granted egress entries (`host[:port]`), as the manifest lists them, sorted.
    pub egress: Vec<String>,
    /// Granted resources.
    pub resources: ResourceLimits,
    /// `runtime/runtimeVersion`, e.g. `wasm/wasi-1.0`.
    pub runtime: String,
    /// Who consented (`None`: nothing needed consent, e.g. an automatic narrowing upgrade).
    pub granted_by: Option<UserId>,
    /// When.
    pub granted_at: DateTime<Utc>,
}

/// An upgrade waiting for consent because it widens what the instance may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingUpgrade {
    /// The version the instance would move to.
    pub version: String,
    /// What it would change.
    pub delta: PermissionDelta,
    /// Who asked for it (`None`: the automatic upgrade when the version was published).
    pub requested_by: Option<UserId>,
    /// When.
    pub requested_at: DateTime<Utc>,
}

/// A team's installed copy of an app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// Its id, globally unique.
    pub id: InstanceId,
    /// The org.
    pub org_id: OrgId,
    /// The team that installed it and is charged for it.
    pub team_id: TeamId,
    /// The app.
    pub app_id: String,
    /// The version it runs.
    pub version: String,
    /// Its workload identity: `spiffe://<trust-domain>/org/<org>/team/<team>/app/<app>/instance/<id>`.
    pub spiffe_id: String,
    /// Attribution tags (`cost-center`, `product`, …).
    pub tags: BTreeMap<String, String>,
    /// Charged or not.
    pub billing_mode: BillingMode,
    /// Whether versions that do not widen the grant are taken automatically when published.
    pub auto_upgrade: bool,
    /// Where it is in its life.
    pub status: InstanceStatus,
    /// The consent for `version` (for a pending install: what would be granted).
    pub grant: Grant,
    /// The version and consent before the last upgrade, for rollback.
    pub previous: Option<Grant>,
    /// An upgrade waiting for consent.
    pub pending_upgrade: Option<PendingUpgrade>,
    /// Who installed it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; an update names the revision it read (optimistic concurrency).
    pub revision: i64,
}

impl Instance {
    /// Whether it may run and get tokens.
    pub fn is_active(&self) -> bool {
        self.status == InstanceStatus::Active
    }
}

/// The SPIFFE id of an instance: `spiffe://<trust-domain>/org/<org>/team/<team>/app/<app>/instance/<id>`,
/// with the org and team slugs.
pub fn spiffe_id(
    trust_domain: &str,
    org_slug: &str,
    team_slug: &str,
    app_id: &str,
    instance: &InstanceId,
) -> String {
    format!(
        "spiffe://{trust_domain}/org/{org_slug}/team/{team_slug}/app/{app_id}/instance/{instance}"
    )
}

/// Attribution tag keys: 1–63 lowercase letters, digits, `-`, `_`, `.` or `/`; values up to 256
/// characters. Returns what is wrong with the first bad tag.
pub fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > 32 {
        return Err(format!("at most 32 tags (got {})", tags.len()));
    }
    for (k, v) in tags {
        let key_ok = (1..=63).contains(&k.len())
            && k.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'-' | b'_' | b'.' | b'/')
            });
        if !key_ok {
            return Err(format!(
                "tag key `{k}` is not valid: use 1 to 63 lowercase letters, digits, `-`, `_`, \
                 `.` or `/` (e.g. `cost-center`)"
            ));
        }
        if v.chars().count() > 256 || v.chars().any(char::is_control) {
            return Err(format!(
                "tag `{k}` has a value longer than 256 characters or with control characters"
            ));
        }
    }
    Ok(())
}

/// The tag keys that name a cost center, in the order they are looked up.
pub const COST_CENTER_TAGS: [&str; 3] = ["cost-center", "cost_center", "costcenter"];

/// The cost center `tags` name: the value of the first of [`COST_CENTER_TAGS`] present
/// (`cost-center`, the documented key, first).
pub fn cost_center(tags: &BTreeMap<String, String>) -> Option<&str> {
    COST_CENTER_TAGS
        .iter()
        .find_map(|k| tags.get(*k))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_center_is_the_first_cost_center_tag() {
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(cost_center(&tags(&[("cost-center", "CC-1")])), Some("CC-1"));
        assert_eq!(
            cost_center(&tags(&[("costcenter", "CC-3"), ("cost-center", "CC-1")])),
            Some("CC-1")
        );
        assert_eq!(cost_center(&tags(&[("cost_center", "CC-2")])), Some("CC-2"));
        assert_eq!(cost_center(&tags(&[("product", "x")])), None);
    }

    #[test]
    fn instance_ids_are_checked() {
        assert!(InstanceId::parse("inst-9a3f").is_ok());
        assert!(InstanceId::parse("inst-hello").is_ok());
        assert!(InstanceId::generate().as_str().starts_with("inst_"));
        assert!(InstanceId::parse("generated").is_ok());
        for bad in ["in", "9inst", "Inst-1", "inst/1", "inst 1", &"a".repeat(65)] {
            assert!(InstanceId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spiffe_ids_follow_the_documented_shape() {
        assert_eq!(
            spiffe_id(
                "plaza.local",
                "demo",
                "lunch",
                "com.example.where2eat",
                &InstanceId::from("inst-9a3f")
            ),
            "spiffe://plaza.local/org/demo/team/lunch/app/com.example.where2eat/instance/inst-9a3f"
        );
    }

    #[test]
    fn tags_are_checked() {
        let mut tags = BTreeMap::new();
        tags.insert("cost-center".to_owned(), "CC-1234".to_owned());
        assert!(check_tags(&tags).is_ok());
        tags.insert("Cost Center".to_owned(), "x".to_owned());
        assert!(check_tags(&tags).unwrap_err().contains("Cost Center"));
    }
}
