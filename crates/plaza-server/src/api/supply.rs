//! Wire types of the supply-chain routes: publishers' keys.

use chrono::{DateTime, Utc};
use plaza_core::supply::PublisherKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A publisher's registered public key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublisherKeyView {
    /// Hex SHA-256 of the key's SubjectPublicKeyInfo DER (the DSSE `keyid` Plaza writes).
    pub key_id: String,
    /// The publisher (a manifest's `provenance.signedBy`).
    pub publisher: String,
    /// `ed25519` or `ecdsa-p256`.
    pub algorithm: String,
    /// The public key, SPKI PEM.
    pub public_key: String,
    /// Signatures made before this are not accepted.
    pub not_before: DateTime<Utc>,
    /// Signatures made at or after this are not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl From<PublisherKey> for PublisherKeyView {
    fn from(k: PublisherKey) -> Self {
        Self {
            key_id: k.key_id,
            publisher: k.publisher,
            algorithm: k.algorithm.as_str().to_owned(),
            public_key: k.public_pem,
            not_before: k.not_before,
            not_after: k.not_after,
            revoked_at: k.revoked_at,
            revocation_reason: k.revocation_reason,
            created_at: k.created_at,
        }
    }
}

/// The body of `POST /api/orgs/{org}/publishers/{publisher}/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterKeyBody {
    /// The public key, SPKI PEM (`plaza keygen` writes it), Ed25519 or ECDSA P-256.
    pub public_key: String,
    /// Valid from (default: now).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// Valid until (default: open-ended).
    #[serde(default)]
    pub not_after: Option<DateTime<Utc>>,
    /// Rotation: the publisher's other current keys stop being valid this many days from now
    /// (0 to 90). Leave out to keep them.
    #[serde(default)]
    pub rotate_grace_days: Option<i64>,
}

/// The body of `POST /api/orgs/{org}/publisher-keys/{key}/revoke`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeKeyBody {
    /// Why the key is revoked.
    pub reason: String,
}

/// One of the marketplace's own signing keys (timestamps, countersignatures).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceKeyView {
    /// Hex SHA-256 of the key's SPKI DER (the `keyid` of envelopes it signs).
    pub key_id: String,
    /// The JWKS `kid` of the same key.
    pub kid: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// The public key, SPKI PEM.
    pub public_key: String,
    /// It signed from then…
    pub signs_from: DateTime<Utc>,
    /// …until then.
    pub signs_until: DateTime<Utc>,
}

/// The body of `POST /api/timestamps`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimestampBody {
    /// The signature to timestamp: the `sig` of a DSSE envelope, base64 (standard or URL-safe).
    pub signature: String,
}

/// One supply-chain scan of a version (the score history).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanView {
    /// 1, 2, … in scan order.
    pub seq: i64,
    /// When.
    pub scanned_at: DateTime<Utc>,
    /// Why: `submission`, `vulndb` (advisories changed) or `key-revoked`.
    pub cause: String,
    /// The security score, 0–100.
    pub score: i64,
    /// The supply report (docs/supply-gate.md).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

impl From<plaza_core::supply_gate::ScanRecord> for ScanView {
    fn from(r: plaza_core::supply_gate::ScanRecord) -> Self {
        Self {
            seq: r.seq,
            scanned_at: r.scanned_at,
            cause: r.cause.as_str().to_owned(),
            score: r.score,
            report: r.report,
        }
    }
}

/// Why a version is blocked for new installs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    /// In words.
    pub reason: String,
    /// Since when.
    pub blocked_at: DateTime<Utc>,
}

/// A version's scans, oldest first, and whether it is blocked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionScansView {
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
    /// Set when a re-scan blocked new installs of the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<BlockView>,
    /// The score history.
    pub scans: Vec<ScanView>,
}

/// A notification to the caller or one of their teams.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    /// Its id.
    pub id: String,
    /// `user` or `team`.
    pub recipient_kind: String,
    /// The user or team id.
    pub recipient: String,
    /// What it is about, e.g. `supply.rescan`.
    pub kind: String,
    /// One line.
    pub subject: String,
    /// Details.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<plaza_core::supply_gate::Notification> for NotificationView {
    fn from(n: plaza_core::supply_gate::Notification) -> Self {
        let (kind, id) = match n.recipient {
            plaza_core::supply_gate::Recipient::User(u) => ("user", u.0),
            plaza_core::supply_gate::Recipient::Team(t) => ("team", t.0),
        };
        Self {
            id: n.id,
            recipient_kind: kind.to_owned(),
            recipient: id,
            kind: n.kind,
            subject: n.subject,
            body: n.body,
            created_at: n.created_at,
        }
    }
}

/// A builder the org trusts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedBuilderView {
    /// The provenance's `builder.id` (an id without `@` matches any `@<version>` of it).
    pub id: String,
    /// The SLSA build level the org assigns it, 1–3.
    pub level: u8,
}

/// The org's supply-chain settings (`GET`/`PUT /api/orgs/{org}/supply-settings`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupplySettingsView {
    /// Builders whose provenance earns the level given.
    pub trusted_builders: Vec<TrustedBuilderView>,
    /// Whether a re-scan blocks new installs of a version that got a critical vulnerability
    /// with a fix, or whose signature stopped verifying (default true).
    pub block_on_rescan: bool,
}

impl From<plaza_core::supply_gate::SupplySettings> for SupplySettingsView {
    fn from(s: plaza_core::supply_gate::SupplySettings) -> Self {
        Self {
            trusted_builders: s
                .trusted_builders
                .into_iter()
                .map(|b| TrustedBuilderView {
                    id: b.id,
                    level: b.level,
                })
                .collect(),
            block_on_rescan: s.block_on_rescan,
        }
    }
}

impl From<SupplySettingsView> for plaza_core::supply_gate::SupplySettings {
    fn from(v: SupplySettingsView) -> Self {
        Self {
            trusted_builders: v
                .trusted_builders
                .into_iter()
                .map(|b| plaza_supply::sign::slsa::provenance::TrustedBuilder {
                    id: b.id,
                    level: b.level,
                })
                .collect(),
            block_on_rescan: v.block_on_rescan,
        }
    }
}

/// The body of `POST /api/orgs/{org}/apps/{app}/vex`: one OpenVEX-style statement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VexBody {
    /// The advisory id or an alias (`GHSA-…`, `CVE-…`, `PYSEC-…`, `GO-…`).
    pub vulnerability: String,
    /// The components it is about, as purls (without a version: every version); empty: all.
    #[serde(default)]
    pub products: Vec<String>,
    /// `not_affected` or `fixed` (`affected` and `under_investigation` suppress nothing).
    pub status: String,
    /// For `not_affected`: one of OpenVEX's justifications.
    #[serde(default)]
    pub justification: Option<String>,
    /// Free-text explanation (required for `not_affected` without a justification).
    #[serde(default)]
    pub impact_statement: Option<String>,
    /// When it stops applying.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored VEX statement.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VexView {
    /// Its id.
    pub id: String,
    /// The app.
    pub app_id: String,
    /// The statement (`vulnerability`, `products`, `status`, `justification`,
    /// `impactStatement`, `author`, `expiresAt`).
    #[schema(value_type = Object)]
    pub statement: serde_json::Value,
    /// Who made it (user id).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<plaza_core::supply_gate::VexStatement> for VexView {
    fn from(v: plaza_core::supply_gate::VexStatement) -> Self {
        Self {
            id: v.id,
            app_id: v.app_id,
            statement: serde_json::to_value(&v.suppression).unwrap_or_default(),
            created_by: v.created_by.0,
            created_at: v.created_at,
        }
    }
}
