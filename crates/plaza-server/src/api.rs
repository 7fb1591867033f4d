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
    /// Records verified (when intact).
    pub records: Option<i64>,
    /// Hash of the last record (when intact): keep it elsewhere to anchor the log.
    pub head_hash: Option<String>,
    /// First broken record (when not intact).
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
