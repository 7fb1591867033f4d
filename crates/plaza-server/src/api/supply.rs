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
