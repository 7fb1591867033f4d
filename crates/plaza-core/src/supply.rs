//! Supply-chain records the store keeps: publishers' registered public keys (validity windows,
//! rotation, revocation) and the imported OSV vulnerability database.
//!
//! A *publisher* is the identity a manifest names in `provenance.signedBy` (for example
//! `did:example:maintainer`); its keys are registered with an org. Which signatures a key
//! accepts is decided by `plaza_supply::sign::trust` from the record's window and revocation.

use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use plaza_supply::sign::keys::PublicKey;
use plaza_supply::sign::trust::TrustedKey;
use plaza_supply::sign::SignError;
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

impl PublisherKey {
    /// The key as signature verification takes it: parsed, with its window and revocation. The
    /// rules of which signatures a key accepts (window, revocation, marketplace timestamps) are
    /// `plaza_supply::sign::trust`'s, so the CLI and the server's gate judge alike.
    pub fn trusted_key(&self) -> Result<TrustedKey, SignError> {
        Ok(TrustedKey {
            key: PublicKey::from_pem(&self.public_pem)?,
            owner: self.publisher.clone(),
            valid_from: self.not_before,
            valid_until: self.not_after,
            revoked_at: self.revoked_at,
        })
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

    #[test]
    fn algorithm_names_round_trip() {
        for a in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            assert_eq!(KeyAlgorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(KeyAlgorithm::parse("rsa"), None);
    }
}
