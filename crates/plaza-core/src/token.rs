//! API tokens: random secrets shown once, stored only as a SHA-256 hash, with expiry and
//! revocation.

use crate::ids::{OrgId, TokenId, UserId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every Plaza API token starts with this, so secret scanners (and people) recognise one.
pub const TOKEN_PREFIX: &str = "plz_";

/// A token's secret, as handed to its owner exactly once.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    /// A fresh secret: the prefix and 32 random bytes in URL-safe base64.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a secret given by an operator (e.g. `PLAZA_DEMO_TOKEN`), checking its shape.
    pub fn from_operator(s: &str) -> Result<Self, String> {
        if !s.starts_with(TOKEN_PREFIX) || s.len() < TOKEN_PREFIX.len() + 16 {
            return Err(format!(
                "a Plaza token must start with `{TOKEN_PREFIX}` and carry at least 16 more \
                 characters (got {} characters)",
                s.len()
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("a Plaza token may hold only letters, digits, `_` and `-`".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The secret text. Print it once; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash the store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

/// The SHA-256 of a token secret, hex-encoded. A stolen database yields no usable tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(pub String);

impl TokenHash {
    /// Hashes presented token text.
    pub fn of(secret: &str) -> Self {
        Self(hex::encode(Sha256::digest(secret.as_bytes())))
    }
}

/// A stored API token (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Stable id, used to list and revoke.
    pub id: TokenId,
    /// Whose token it is.
    pub user_id: UserId,
    /// The owner's org.
    pub org_id: OrgId,
    /// What the owner called it ("ci", "laptop").
    pub name: String,
    /// Hash of the secret.
    pub hash: TokenHash,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Why the token cannot be used at `now`, if it cannot.
    pub fn unusable_reason(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some_and(|t| t <= now) {
            Some("the token was revoked")
        } else if self.expires_at.is_some_and(|t| t <= now) {
            Some("the token has expired")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_unique_and_hash_stably() {
        let a = TokenSecret::generate();
        let b = TokenSecret::generate();
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_ne!(a, b);
        assert_eq!(a.hash(), TokenHash::of(a.expose()));
        assert_eq!(a.hash().0.len(), 64);
        assert_eq!(format!("{a:?}"), "TokenSecret(***)");
    }

    #[test]
    fn operator_tokens_are_checked() {
        assert!(TokenSecret::from_operator("plz_demo-token-0123456789").is_ok());
        assert!(TokenSecret::from_operator("demo").is_err());
        assert!(TokenSecret::from_operator("plz_has space in it!!!!!").is_err());
    }
}
