//! Wire types of installs and credentials: the permission request (consent screen), instances
//! with their grants, upgrade outcomes with the permission delta, capability tokens, token
//! exchange answers and the unused-grant report.

use chrono::{DateTime, Utc};
use plaza_core::install::{
    Grant, Instance, PendingUpgrade, PermissionDelta, PermissionRequest, RequestedCredential,
    ResourceLimits,
};
use plaza_core::service::{
    ExchangedToken, IssuedCapability, UnusedGrant, UnusedGrantReport, UpgradeOutcome,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Resource limits.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesView {
    /// Memory cap in bytes.
    pub memory_bytes: u64,
    /// CPU in millicores.
    pub cpu_millis: u64,
    /// Wall time per request, in milliseconds.
    pub timeout_ms: u64,
}

impl From<ResourceLimits> for ResourcesView {
    fn from(r: ResourceLimits) -> Self {
        Self {
            memory_bytes: r.memory_bytes,
            cpu_millis: r.cpu_millis,
            timeout_ms: r.timeout_ms,
        }
    }
}

/// One credential an app asks for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestedCredentialView {
    /// Permission name.
    pub name: String,
    /// `oauth2`, `platform` or `api-key`.
    pub kind: String,
    /// Why the app needs it.
    pub description: Option<String>,
    /// Scopes it cannot work without.
    pub required: Vec<String>,
    /// Scopes an admin may refuse.
    pub optional: Vec<String>,
}

impl From<RequestedCredential> for RequestedCredentialView {
    fn from(c: RequestedCredential) -> Self {
        Self {
            name: c.name,
            kind: c.kind,
            description: c.description,
            required: c.required,
            optional: c.optional,
        }
    }
}

/// What an app version asks to be allowed, with the consent screen's plain words.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionRequestView {
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
    /// Credentials and scopes.
    pub credentials: Vec<RequestedCredentialView>,
    /// Outbound hosts.
    pub egress: Vec<String>,
    /// Resource limits.
    pub resources: ResourcesView,
    /// `runtime/runtimeVersion`.
    pub runtime: String,
    /// The request in plain words.
    pub summary: Vec<String>,
}

impl From<PermissionRequest> for PermissionRequestView {
    fn from(r: PermissionRequest) -> Self {
        Self {
            app_id: r.app_id,
            version: r.version,
            credentials: r.credentials.into_iter().map(Into::into).collect(),
            egress: r.egress,
            resources: r.resources.into(),
            runtime: r.runtime,
            summary: r.summary,
        }
    }
}

/// A consent: what an instance may do for one version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// The version it covers.
    pub version: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Optional scopes refused.
    pub refused_scopes: Vec<String>,
    /// Granted egress entries.
    pub egress: Vec<String>,
    /// Granted resources.
    pub resources: ResourcesView,
    /// `runtime/runtimeVersion`.
    pub runtime: String,
    /// Who consented (absent: nothing needed consent).
    pub granted_by: Option<String>,
    /// When.
    pub granted_at: DateTime<Utc>,
}

impl From<Grant> for GrantView {
    fn from(g: Grant) -> Self {
        Self {
            version: g.version,
            scopes: g.scopes,
            refused_scopes: g.refused_scopes,
            egress: g.egress,
            resources: g.resources.into(),
            runtime: g.runtime,
            granted_by: g.granted_by.map(|u| u.0),
            granted_at: g.granted_at,
        }
    }
}

/// A resource limit that changes between versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChangeView {
    /// `memory`, `cpu` or `timeout`.
    pub resource: String,
    /// Granted value.
    pub from: String,
    /// Requested value.
    pub to: String,
    /// Whether it grows.
    pub widens: bool,
}

/// What moving to another version changes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDeltaView {
    /// The granted version.
    pub from_version: String,
    /// The requested version.
    pub to_version: String,
    /// Scopes added.
    pub added_scopes: Vec<String>,
    /// Scopes dropped.
    pub removed_scopes: Vec<String>,
    /// Egress entries added.
    pub added_egress: Vec<String>,
    /// Egress entries dropped.
    pub removed_egress: Vec<String>,
    /// Resource limits that change.
    pub resources: Vec<ResourceChangeView>,
    /// `[from, to]` when the runtime changes.
    pub runtime: Option<Vec<String>>,
    /// Whether anything widens (then consent is needed).
    pub widens: bool,
}

impl From<PermissionDelta> for PermissionDeltaView {
    fn from(d: PermissionDelta) -> Self {
        Self {
            from_version: d.from_version,
            to_version: d.to_version,
            added_scopes: d.added_scopes,
            removed_scopes: d.removed_scopes,
            added_egress: d.added_egress,
            removed_egress: d.removed_egress,
            resources: d
                .resources
                .into_iter()
                .map(|r| ResourceChangeView {
                    resource: r.resource,
                    from: r.from,
                    to: r.to,
                    widens: r.widens,
                })
                .collect(),
            runtime: d.runtime.map(|(a, b)| vec![a, b]),
            widens: d.widens,
        }
    }
}

/// An upgrade waiting for an admin's consent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingUpgradeView {
    /// The version it would move to.
    pub version: String,
    /// What it changes.
    pub delta: PermissionDeltaView,
    /// Who asked (absent: the automatic offer when the version was published).
    pub requested_by: Option<String>,
    /// When.
    pub requested_at: DateTime<Utc>,
}

impl From<PendingUpgrade> for PendingUpgradeView {
    fn from(p: PendingUpgrade) -> Self {
        Self {
            version: p.version,
            delta: p.delta.into(),
            requested_by: p.requested_by.map(|u| u.0),
            requested_at: p.requested_at,
        }
    }
}

/// An installed instance of an app.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Instance id.
    pub id: String,
    /// The app.
    pub app_id: String,
    /// The version it runs.
    pub version: String,
    /// The team's id.
    pub team_id: String,
    /// Its SPIFFE id.
    pub spiffe_id: String,
    /// Attribution tags.
    pub tags: BTreeMap<String, String>,
    /// `normal` or `sandbox`.
    pub billing_mode: String,
    /// Whether non-widening versions are taken automatically.
    pub auto_upgrade: bool,
    /// `pending_consent`, `active` or `uninstalled`.
    pub status: String,
    /// The consent for `version`.
    pub grant: GrantView,
    /// The version a rollback returns to.
    pub previous_version: Option<String>,
    /// An upgrade waiting for consent.
    pub pending_upgrade: Option<PendingUpgradeView>,
    /// Who installed it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change.
    pub revision: i64,
}

impl From<Instance> for InstanceView {
    fn from(i: Instance) -> Self {
        Self {
            id: i.id.0,
            app_id: i.app_id,
            version: i.version,
            team_id: i.team_id.0,
            spiffe_id: i.spiffe_id,
            tags: i.tags,
            billing_mode: i.billing_mode.as_str().to_owned(),
            auto_upgrade: i.auto_upgrade,
            status: i.status.as_str().to_owned(),
            grant: i.grant.into(),
            previous_version: i.previous.map(|g| g.version),
            pending_upgrade: i.pending_upgrade.map(Into::into),
            created_by: i.created_by.0,
            created_at: i.created_at,
            updated_at: i.updated_at,
            revision: i.revision,
        }
    }
}

/// The body of `POST /api/installs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallRequestBody {
    /// The app id.
    pub app_id: String,
    /// The version (default: the latest registered).
    #[serde(default)]
    pub version: Option<String>,
    /// The team's slug.
    pub team: String,
    /// An id for the instance (default: generated).
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Attribution tags (`cost-center`, `product`, …).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `normal` (default) or `sandbox`.
    #[serde(default)]
    pub billing_mode: Option<String>,
    /// Take versions that widen nothing automatically (default true).
    #[serde(default)]
    pub auto_upgrade: Option<bool>,
    /// Optional scopes refused (an admin's install is granted at once without them).
    #[serde(default)]
    pub refuse_scopes: Vec<String>,
}

/// The body of `POST /api/installs/{id}/consent`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentBody {
    /// Optional scopes refused.
    #[serde(default)]
    pub refuse_scopes: Vec<String>,
}

/// The body of `POST /api/installs/{id}/upgrade`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpgradeBody {
    /// The version to move to.
    pub version: String,
    /// An admin consents to wider permissions in the same call (default false).
    #[serde(default)]
    pub consent: bool,
}

/// What an upgrade did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeView {
    /// Whether the instance runs the new version now (`false`: waits for consent).
    pub applied: bool,
    /// What the new version changes.
    pub delta: PermissionDeltaView,
    /// The instance.
    pub instance: InstanceView,
}

impl From<UpgradeOutcome> for UpgradeView {
    fn from(o: UpgradeOutcome) -> Self {
        Self {
            applied: o.applied,
            delta: o.delta.into(),
            instance: o.instance.into(),
        }
    }
}

/// A capability token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityView {
    /// The JWT (EdDSA); verify it with `/.well-known/jwks.json`.
    pub token: String,
    /// Its audience: the instance's SPIFFE id.
    pub audience: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl From<IssuedCapability> for CapabilityView {
    fn from(c: IssuedCapability) -> Self {
        Self {
            token: c.token,
            audience: c.claims.aud,
            scope: c.claims.scope,
            expires_at: DateTime::from_timestamp(c.claims.exp, 0).unwrap_or_default(),
        }
    }
}

/// A successful token exchange (RFC 8693 §2.2.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeView {
    /// The downstream credential.
    pub access_token: String,
    /// `urn:ietf:params:oauth:token-type:access_token`.
    pub issued_token_type: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The scope it carries.
    pub scope: String,
}

impl From<ExchangedToken> for ExchangeView {
    fn from(t: ExchangedToken) -> Self {
        Self {
            access_token: t.access_token,
            issued_token_type: t.issued_token_type.to_owned(),
            token_type: t.token_type.to_owned(),
            expires_in: t.expires_in,
            scope: t.scope,
        }
    }
}

/// A refused token exchange (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorView {
    /// `invalid_request`, `unsupported_grant_type`, `invalid_grant`, `invalid_scope` or
    /// `invalid_target`.
    pub error: String,
    /// What is wrong.
    pub error_description: String,
}

/// One granted scope or egress entry and its last use.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantUseView {
    /// `scope` or `egress`.
    pub kind: String,
    /// The scope or egress entry.
    pub name: String,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<UnusedGrant> for GrantUseView {
    fn from(u: UnusedGrant) -> Self {
        Self {
            kind: u.kind.as_str().to_owned(),
            name: u.name,
            last_used_at: u.last_used_at,
        }
    }
}

/// Which grants an instance did not use in the window: candidates to narrow.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnusedGrantsView {
    /// The instance.
    pub instance_id: String,
    /// The window in days.
    pub days: u32,
    /// Its start.
    pub since: DateTime<Utc>,
    /// Granted, not used in the window.
    pub unused: Vec<GrantUseView>,
    /// Granted and used in the window.
    pub used: Vec<GrantUseView>,
}

impl From<UnusedGrantReport> for UnusedGrantsView {
    fn from(r: UnusedGrantReport) -> Self {
        Self {
            instance_id: r.instance_id,
            days: r.days,
            since: r.since,
            unused: r.unused.into_iter().map(Into::into).collect(),
            used: r.used.into_iter().map(Into::into).collect(),
        }
    }
}
