//! Supply-chain records the store keeps: publishers' registered public keys (validity windows,
//! rotation, revocation) and the imported OSV vulnerability database.
//!
//! A *publisher* is the identity a manifest names in `provenance.signedBy` (for example
//! `did:example:maintainer`); its keys are registered with an org. Whether a signature made at a
//! given time is acceptable is decided here, as a pure function of the key's record, so the CLI's
//! `plaza verify --publisher` and the server's gate agree.

use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A public key's algorithm, as Plaza names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    /// Ed25519 (EdDSA).
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The stored and wire name: `ed25519` or `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256 => "ecdsa-p256",
        }
    }

    /// The algorithm with this name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ed25519" => Some(Self::Ed25519),
            "ecdsa-p256" => Some(Self::EcdsaP256),
            _ => None,
        }
    }
}

/// A publisher's public key, registered with an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherKey {
    /// The org it is registered with.
    pub org_id: OrgId,
    /// Hex SHA-256 of the key's SubjectPublicKeyInfo DER (the DSSE `keyid` Plaza writes).
    pub key_id: String,
    /// The publisher it belongs to (a manifest's `provenance.signedBy`).
    pub publisher: String,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_pem: String,
    /// Signatures made before this are not accepted.
    pub not_before: DateTime<Utc>,
    /// Signatures made at or after this are not accepted (set by rotation, or at registration).
    pub not_after: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Who registered it.
    pub created_by: UserId,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Whether a key accepts a signature, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KeyVerdict {
    /// The key was valid when the signature was made.
    Valid,
    /// The signature was made outside the key's validity window.
    OutsideWindow {
        /// Why, in words.
        reason: String,
    },
    /// The key is revoked, and nothing proves the signature was made before that.
    Revoked {
        /// Why, in words.
        reason: String,
    },
}

impl PublisherKey {
    /// Whether this key accepts a signature. `signed_at` is the time a marketplace-issued signed
    /// timestamp proves the signature was made, if there is one; `now` is the time of checking.
    ///
    /// The rules (docs/signing.md): a key with no proven signing time is judged at `now`: it
    /// must be inside its window and not revoked. With a proven time, the window is checked at
    /// that time, and a revoked key still accepts signatures proven to predate the revocation.
    pub fn accepts(&self, signed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> KeyVerdict {
        let at = signed_at.unwrap_or(now);
        if at < self.not_before {
            return KeyVerdict::OutsideWindow {
                reason: format!(
                    "key {} is valid from {}, after the signature's time {}",
                    self.key_id,
                    self.not_before.to_rfc3339(),
                    at.to_rfc3339()
                ),
            };
        }
        if let Some(end) = self.not_after.filter(|end| at >= *end) {
            return KeyVerdict::OutsideWindow {
                reason: format!(
                    "key {} stopped being valid at {} (signature time {}); sign with the \
                     publisher's current key",
                    self.key_id,
                    end.to_rfc3339(),
                    at.to_rfc3339()
                ),
            };
        }
        if let Some(revoked) = self.revoked_at.filter(|r| now >= *r) {
            let proven_earlier = signed_at.is_some_and(|t| t < revoked);
            if !proven_earlier {
                let why = self
                    .revocation_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let proof = if signed_at.is_some() {
                    "the marketplace timestamp is not earlier than the revocation"
                } else {
                    "no marketplace timestamp proves the signature was made before that"
                };
                return KeyVerdict::Revoked {
                    reason: format!(
                        "key {} was revoked at {}{why}; {proof}",
                        self.key_id,
                        revoked.to_rfc3339()
                    ),
                };
            }
        }
        KeyVerdict::Valid
    }
}

/// An OSV advisory as the store keeps it: the record's JSON and what indexes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAdvisory {
    /// The OSV id.
    pub id: String,
    /// Hex SHA-256 of the file it was imported from: a re-import skips unchanged files.
    pub digest: String,
    /// The record's `modified` as written.
    pub modified: String,
    /// Whether the record carries `withdrawn` (it then matches nothing).
    pub withdrawn: bool,
    /// The record's JSON.
    pub body: String,
    /// The (ecosystem, package name) pairs it affects, names normalised as matching does.
    pub packages: Vec<(String, String)>,
}

/// What a vulnerability-database import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportCounts {
    /// Advisories new to the database.
    pub added: u64,
    /// Advisories whose file changed.
    pub changed: u64,
    /// Advisories whose file is unchanged (not rewritten).
    pub unchanged: u64,
    /// Advisories no longer in the source (removed).
    pub removed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn key() -> PublisherKey {
        PublisherKey {
            org_id: OrgId("org".into()),
            key_id: "abc".into(),
            publisher: "did:example:p".into(),
            algorithm: KeyAlgorithm::Ed25519,
            public_pem: String::new(),
            not_before: t(1),
            not_after: Some(t(10)),
            revoked_at: None,
            revocation_reason: None,
            created_by: UserId("u".into()),
            created_at: t(1),
        }
    }

    #[test]
    fn window_is_checked_at_the_proven_time_else_now() {
        let k = key();
        assert_eq!(k.accepts(None, t(5)), KeyVerdict::Valid);
        assert!(matches!(
            k.accepts(None, t(0)),
            KeyVerdict::OutsideWindow { .. }
        ));
        assert!(matches!(
            k.accepts(None, t(10)),
            KeyVerdict::OutsideWindow { .. }
        ));
        // Signed during the window, proven by a timestamp, checked after it ended: valid.
        assert_eq!(k.accepts(Some(t(9)), t(20)), KeyVerdict::Valid);
    }

    #[test]
    fn revocation_needs_a_proven_earlier_signature() {
        let mut k = key();
        k.revoked_at = Some(t(6));
        k.revocation_reason = Some("laptop stolen".into());
        let KeyVerdict::Revoked { reason } = k.accepts(None, t(7)) else {
            panic!("a revoked key without a timestamp must refuse");
        };
        assert!(reason.contains("laptop stolen"), "{reason}");
        assert_eq!(k.accepts(Some(t(5)), t(7)), KeyVerdict::Valid);
        assert!(matches!(
            k.accepts(Some(t(6)), t(7)),
            KeyVerdict::Revoked { .. }
        ));
        // Before the revocation happened, without a timestamp, the key is judged at `now`.
        assert_eq!(k.accepts(None, t(5)), KeyVerdict::Valid);
    }

    #[test]
    fn algorithm_names_round_trip() {
        for a in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            assert_eq!(KeyAlgorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(KeyAlgorithm::parse("rsa"), None);
    }
}
