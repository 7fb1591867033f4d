//! The API's wire types, kept apart from the domain types so the API can stay stable while the
//! domain changes. Each view is built from a domain value with `From`.

use chrono::{DateTime, Utc};
use plaza_core::access::Principal;
use plaza_core::apps::AppVersion;
use plaza_core::audit::AuditRecord;
use plaza_core::identity::{Org, Team, User};
use plaza_core::token::ApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod installs;
mod supply;
mod usage;
pub use installs::*;
pub use supply::*;
pub use usage::*;

/// A team's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamSettingsView {
    /// Whether the team's instances take a newly published version that widens nothing on their
    /// own (each instance can still opt out with its own `autoUpgrade`); also the default
    /// `autoUpgrade` of the team's new installs.
    pub auto_upgrade: bool,
}

impl From<plaza_core::identity::TeamSettings> for TeamSettingsView {
    fn from(s: plaza_core::identity::TeamSettings) -> Self {
        Self {
            auto_upgrade: s.auto_upgrade,
        }
    }
}

impl From<TeamSettingsView> for plaza_core::identity::TeamSettings {
    fn from(v: TeamSettingsView) -> Self {
        Self {
            auto_upgrade: v.auto_upgrade,
        }
    }
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgView {
    /// Stable id.
    pub id: String,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Org> for OrgView {
    fn from(o: Org) -> Self {
        Self {
            id: o.id.0,
            slug: o.slug,
            name: o.name,
            created_at: o.created_at,
        }
    }
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    /// Stable id.
    pub id: String,
    /// URL name, unique in the org.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id.0,
            slug: t.slug,
            name: t.name,
            created_at: t.created_at,
        }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Stable id.
    pub id: String,
    /// Login handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// E-mail, if known.
    pub email: Option<String>,
    /// Roles: author, consumer, reviewer, council, finance, admin.
    pub roles: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            handle: u.handle,
            display_name: u.display_name,
            email: u.email,
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            created_at: u.created_at,
        }
    }
}

/// The caller: user, org, teams, and how they signed in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeView {
    /// The user.
    pub user: UserView,
    /// Their org.
    pub org: OrgView,
    /// Ids of their teams.
    pub team_ids: Vec<String>,
    /// `token` or `oidc`.
    pub auth_method: String,
}

impl MeView {
    /// The view of `p` in `org`.
    pub fn new(p: Principal, org: Org) -> Self {
        let auth_method = match p.method {
            plaza_core::access::AuthMethod::Token { .. } => "token",
            plaza_core::access::AuthMethod::Oidc { .. } => "oidc",
        };
        Self {
            user: p.user.into(),
            org: org.into(),
            team_ids: p.teams.into_iter().map(|t| t.0).collect(),
            auth_method: auth_method.into(),
        }
    }
}

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Stable id, for revocation.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.0,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTokenView {
    /// The token.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret: store it now, it is not shown again.
    pub secret: String,
}

/// Body of `POST /api/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for (`ci`, `laptop`).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=.*\S)[^\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]+$"
    )]
    pub name: String,
    /// Lifetime in days (1–366, default 90).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub expires_in_days: Option<i64>,
}

/// Body of `POST /api/orgs/{org}/teams`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTeamRequest {
    /// URL name: lowercase letters, digits, hyphens.
    #[schema(pattern = r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    pub slug: String,
    /// Display name (defaults to the slug).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=.*\S)[^\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]+$"
    )]
    pub name: Option<String>,
}

/// Body of `POST /api/orgs/{org}/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUserRequest {
    /// Login handle: lowercase letters, digits, hyphens.
    #[schema(pattern = r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    pub handle: String,
    /// Display name (defaults to the handle).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=.*\S)[^\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]+$"
    )]
    pub display_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Roles (default: consumer).
    #[serde(default)]
    #[schema(value_type = Option<Vec<RoleName>>)]
    pub roles: Option<Vec<String>>,
}

/// A role's wire name (documentation only: bodies carry plain strings, so an unknown role is
/// reported with its position rather than as a parse failure).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum RoleName {
    /// Publishes apps.
    Author,
    /// Installs apps for a team.
    Consumer,
    /// Works the review queue.
    Reviewer,
    /// Governance.
    Council,
    /// Money.
    Finance,
    /// Administration.
    Admin,
}

/// Body of `PUT /api/orgs/{org}/users/{user}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRolesRequest {
    /// The complete new set of roles.
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
}

/// An audit record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecordView {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Org it concerns.
    pub org_id: Option<String>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// Further facts.
    pub details: serde_json::Value,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl From<AuditRecord> for AuditRecordView {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: r.entry.at,
            org_id: r.entry.org_id.map(|o| o.0),
            actor: r.entry.actor,
            action: r.entry.action,
            target: r.entry.target,
            details: r.entry.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Result of `GET /api/audit/verify`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyView {
    /// Whether the whole chain verified.
    pub intact: bool,
    /// How many of the caller's org's records the chain holds.
    pub records: Option<i64>,
    /// Hash of the last record (when intact): keep it elsewhere to anchor the log.
    pub head_hash: Option<String>,
    /// First broken record, when it is the caller's org's own.
    pub broken_at: Option<i64>,
    /// Why it is broken.
    pub reason: Option<String>,
}

/// A registered app version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppVersionView {
    /// Reverse-DNS app id.
    pub app_id: String,
    /// SemVer version.
    pub version: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The normalised manifest.
    pub manifest: serde_json::Value,
    /// Who registered it (user id).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The policy decision made at registration (absent when read back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    /// The supply gate's report at registration (signature, provenance, SBOM, vulnerabilities,
    /// secrets, score; docs/supply-gate.md), when the version's artifact was in the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub supply: Option<serde_json::Value>,
}

impl From<AppVersion> for AppVersionView {
    fn from(a: AppVersion) -> Self {
        Self {
            app_id: a.app_id,
            version: a.version,
            name: a.name,
            description: a.description,
            manifest: a.manifest,
            created_by: a.created_by.0,
            created_at: a.created_at,
            decision: None,
            supply: None,
        }
    }
}

/// Result of validating a manifest.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationView {
    /// Whether the manifest has no errors.
    pub valid: bool,
    /// Every problem found, with location and hint.
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<plaza_manifest::Diagnostic>,
    /// The normalised manifest, when valid.
    pub manifest: Option<serde_json::Value>,
}

/// Answer of the health probes.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `ok` or `ready`.
    pub status: String,
    /// The store backend, for readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// One file of a policy set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyFileView {
    /// Relative path ending in `.rego`.
    pub path: String,
    /// Rego source.
    pub content: String,
}

/// Body of `POST /api/orgs/{org}/policies` and `.../policies/preview`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyPushRequest {
    /// The org's Rego files (may be empty: only settings).
    pub files: Vec<PolicyFileView>,
    /// Settings of the built-in bundle (`data.plaza.org`), e.g. `{"slsa_min_level": 2}`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// A version of an org's policies.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyVersionView {
    /// 1, 2, 3, ...
    pub version: i64,
    /// Whether it is the one in force (the newest).
    pub active: bool,
    /// SHA-256 over files and settings.
    pub digest: String,
    /// The Rego files.
    pub files: Vec<PolicyFileView>,
    /// Settings of the built-in bundle.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Who pushed it (user id).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl PolicyVersionView {
    /// The view of `v`, marked active or not.
    pub fn new(v: plaza_core::policy::OrgPolicyVersion, active: bool) -> Self {
        Self {
            version: v.version,
            active,
            digest: v.digest,
            files: v
                .files
                .into_iter()
                .map(|f| PolicyFileView {
                    path: f.path,
                    content: f.content,
                })
                .collect(),
            settings: v.settings,
            created_by: v.created_by.0,
            created_at: v.created_at,
        }
    }
}

/// The org's policy mode.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyModeView {
    /// `enforce` or `warn-only`.
    #[schema(pattern = "^(enforce|warn-only)$")]
    pub mode: String,
}

/// Body of `POST /api/orgs/{org}/exceptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewExceptionRequest {
    /// The app (reverse-DNS id).
    pub app_id: String,
    /// The rule id to waive, e.g. `plaza.sbom.required`.
    pub rule_id: String,
    /// Why.
    pub reason: String,
    /// When it stops applying (RFC 3339; at most a year ahead).
    pub expires_at: DateTime<Utc>,
}

/// A policy exception.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionView {
    /// Stable id.
    pub id: String,
    /// The app.
    pub app_id: String,
    /// The rule waived.
    pub rule_id: String,
    /// Why.
    pub reason: String,
    /// When it stops applying.
    pub expires_at: DateTime<Utc>,
    /// Whether it applies now.
    pub active: bool,
    /// Who granted it (user id).
    pub granted_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its expiry was recorded, if it has expired.
    pub expired_at: Option<DateTime<Utc>>,
}

impl ExceptionView {
    /// The view of `e` as of `now`.
    pub fn new(e: plaza_core::policy::PolicyException, now: DateTime<Utc>) -> Self {
        Self {
            active: e.applies_at(now),
            id: e.id.0,
            app_id: e.app_id,
            rule_id: e.rule_id,
            reason: e.reason,
            expires_at: e.expires_at,
            granted_by: e.granted_by.0,
            created_at: e.created_at,
            revoked_at: e.revoked_at,
            expired_at: e.expired_at,
        }
    }
}

/// A recorded policy decision.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    /// Stable id.
    pub id: String,
    /// The app judged.
    pub app_id: String,
    /// Its version.
    pub version: String,
    /// `pass`, `review` or `deny`.
    pub outcome: String,
    /// The mode in force.
    pub mode: String,
    /// Every finding (waived ones carry `waivedBy`).
    #[schema(value_type = Vec<Object>)]
    pub findings: serde_json::Value,
    /// SHA-256 of the input document.
    pub input_digest: String,
    /// Built-in bundle version.
    pub bundle_version: String,
    /// Org policy version, if any.
    pub org_policy_version: Option<i64>,
    /// Evaluation time in microseconds.
    pub duration_us: i64,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<plaza_core::policy::Decision> for DecisionView {
    fn from(d: plaza_core::policy::Decision) -> Self {
        Self {
            id: d.id.0,
            app_id: d.app_id,
            version: d.version,
            outcome: d.outcome.as_str().into(),
            mode: d.mode.as_str().into(),
            findings: d.findings,
            input_digest: d.input_digest,
            bundle_version: d.bundle_version,
            org_policy_version: d.org_policy_version,
            duration_us: d.duration_us,
            created_at: d.created_at,
        }
    }
}

/// One row of a policy preview.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRowView {
    /// The app.
    pub app_id: String,
    /// Its version.
    pub version: String,
    /// Recorded outcome.
    pub before: String,
    /// Outcome under the candidate.
    pub after: String,
    /// Whether the outcome changes.
    pub changed: bool,
    /// Rules that newly fire.
    pub new_rules: Vec<String>,
    /// Rules that stop firing.
    pub gone_rules: Vec<String>,
}

impl From<plaza_core::service::PreviewRow> for PreviewRowView {
    fn from(r: plaza_core::service::PreviewRow) -> Self {
        Self {
            app_id: r.app_id,
            version: r.version,
            changed: r.before != r.after,
            before: r.before.as_str().into(),
            after: r.after.as_str().into(),
            new_rules: r.new_rules,
            gone_rules: r.gone_rules,
        }
    }
}
