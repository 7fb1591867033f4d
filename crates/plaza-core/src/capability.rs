//! Capability tokens: short-lived JWTs (JWS compact, EdDSA over Ed25519) that Plaza issues to an
//! instance for one invocation. The audience is the instance's SPIFFE id and the `scope` claim
//! its granted scopes. Plaza signs with a rotating [`SigningKey`]; [`jwks`] publishes the public
//! halves (old keys stay published until the last token they signed has expired).
//!
//! A token proves only what it was issued with: whoever accepts one must still check that the
//! instance is active and the scope still granted (uninstall revokes at once).

use crate::ids::{OrgId, TeamId};
use crate::install::InstanceId;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};

/// The `iss` of every capability token.
pub const ISSUER: &str = "plaza";
/// Default lifetime of a capability token.
pub const DEFAULT_TTL: Duration = Duration::minutes(10);
/// Longest lifetime a capability token may be issued with.
pub const MAX_TTL: Duration = Duration::hours(1);
/// How long a signing key signs before a new one takes over.
pub const DEFAULT_ROTATION: Duration = Duration::days(7);

/// One of Plaza's token-signing keys, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id, the JWS `kid`.
    pub kid: String,
    /// The private key, PKCS#8 DER (v2, with the public key), base64.
    pub private_pkcs8: String,
    /// The raw 32-byte public key, base64url without padding (the JWK `x`).
    pub public_x: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// New tokens are signed with it until then.
    pub signs_until: DateTime<Utc>,
    /// It stays in the JWKS (and verifies) until then: `signs_until` plus [`MAX_TTL`].
    pub published_until: DateTime<Utc>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("private_pkcs8", &"***")
            .field("public_x", &self.public_x)
            .field("signs_until", &self.signs_until)
            .finish()
    }
}

impl SigningKey {
    /// A fresh Ed25519 key that signs from `now` for `rotation`.
    pub fn generate(now: DateTime<Utc>, rotation: Duration) -> Result<Self, CapabilityError> {
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let keypair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: key.to_bytes(),
            public_key: Some(ed25519_dalek::pkcs8::PublicKeyBytes(
                key.verifying_key().to_bytes(),
            )),
        };
        let der = keypair
            .to_pkcs8_der()
            .map_err(|e| CapabilityError::Key(e.to_string()))?;
        let public_x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        let signs_until = now + rotation;
        Ok(Self {
            kid: format!("plz-{}", &public_x[..16]),
            private_pkcs8: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
            public_x,
            created_at: now,
            signs_until,
            published_until: signs_until + MAX_TTL,
        })
    }

    /// Whether it signs new tokens at `now`.
    pub fn signs_at(&self, now: DateTime<Utc>) -> bool {
        self.created_at <= now && now < self.signs_until
    }

    fn signer(&self) -> Result<ed25519_dalek::SigningKey, CapabilityError> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(&self.private_pkcs8)
            .map_err(|e| CapabilityError::Key(format!("key {}: {e}", self.kid)))?;
        ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|e| CapabilityError::Key(format!("key {}: {e}", self.kid)))
    }

    fn verifier(&self) -> Result<ed25519_dalek::VerifyingKey, CapabilityError> {
        let raw: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.public_x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CapabilityError::Key(format!("key {}: bad public key", self.kid)))?;
        ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|e| CapabilityError::Key(format!("key {}: {e}", self.kid)))
    }
}

/// The claims of a capability token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityClaims {
    /// Always [`ISSUER`].
    pub iss: String,
    /// The instance's SPIFFE id.
    pub sub: String,
    /// The instance's SPIFFE id (the audience the token is for).
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// The granted scopes, space-separated (RFC 8693 `scope`).
    pub scope: String,
    /// The org.
    pub org: OrgId,
    /// The team.
    pub team: TeamId,
    /// The app.
    pub app: String,
    /// The app version the instance runs.
    pub ver: String,
    /// The instance.
    pub inst: InstanceId,
}

impl CapabilityClaims {
    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

/// Why a token could not be issued or is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapabilityError {
    /// A stored key cannot be used.
    #[error("signing key unusable: {0}")]
    Key(String),
    /// The text is not a JWS compact token Plaza could have made.
    #[error("not a capability token: {0}")]
    Malformed(String),
    /// The token names a key Plaza does not publish (retired long ago, or never Plaza's).
    #[error("the token was signed with the unknown key `{0}`")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// Expired, or not valid yet.
    #[error("the token expired at {0}; ask for a fresh one")]
    Expired(DateTime<Utc>),
    /// Not valid yet.
    #[error("the token is not valid before {0}")]
    NotYetValid(DateTime<Utc>),
    /// Issued by someone else or for another audience.
    #[error("the token was not issued by Plaza for this instance")]
    WrongAudience,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// Signs `claims` with `key` as a JWS compact token.
pub fn mint(key: &SigningKey, claims: &CapabilityClaims) -> Result<String, CapabilityError> {
    let header = Header {
        alg: "EdDSA".into(),
        typ: "JWT".into(),
        kid: key.kid.clone(),
    };
    let signing_input = format!("{}.{}", b64_json(&header)?, b64_json(claims)?);
    let signature = key.signer()?.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// The `kid` a token names, without checking anything else (to pick the key).
pub fn key_id(token: &str) -> Result<String, CapabilityError> {
    let (header, _, _) = split(token)?;
    Ok(header.kid)
}

/// Checks a token's signature against the published `keys` and its time window at `now`;
/// returns its claims. The caller checks the instance is active and the scopes still granted.
pub fn verify(
    token: &str,
    keys: &[SigningKey],
    now: DateTime<Utc>,
) -> Result<CapabilityClaims, CapabilityError> {
    let (header, signing_input, signature) = split(token)?;
    if header.alg != "EdDSA" {
        return Err(CapabilityError::Malformed(format!(
            "algorithm `{}`; capability tokens are EdDSA",
            header.alg
        )));
    }
    let key = keys
        .iter()
        .find(|k| k.kid == header.kid && now < k.published_until)
        .ok_or_else(|| CapabilityError::UnknownKey(header.kid.clone()))?;
    let signature = ed25519_dalek::Signature::from_slice(&signature)
        .map_err(|_| CapabilityError::BadSignature)?;
    key.verifier()?
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| CapabilityError::BadSignature)?;
    let payload = signing_input
        .split_once('.')
        .map(|(_, p)| p)
        .unwrap_or_default();
    let claims: CapabilityClaims = serde_json::from_slice(&decode(payload)?)
        .map_err(|e| CapabilityError::Malformed(format!("claims: {e}")))?;
    if claims.iss != ISSUER || claims.aud != claims.sub {
        return Err(CapabilityError::WrongAudience);
    }
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let now_secs = now.timestamp();
    if now_secs >= claims.exp {
        return Err(CapabilityError::Expired(at(claims.exp)));
    }
    // One minute of leeway for clocks of several servers.
    if now_secs + 60 < claims.nbf {
        return Err(CapabilityError::NotYetValid(at(claims.nbf)));
    }
    Ok(claims)
}

/// Whether `text` looks like a JWS compact token (three base64url parts), so an edge can tell
/// a capability token from a `plz_` API token.
pub fn looks_like_jwt(text: &str) -> bool {
    text.starts_with("eyJ") && text.split('.').count() == 3
}

/// The JWKS document (RFC 7517) of the keys published at `now`.
pub fn jwks(keys: &[SigningKey], now: DateTime<Utc>) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .filter(|k| k.created_at <= now && now < k.published_until)
        .map(|k| {
            serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": k.kid, "x": k.public_x,
            })
        })
        .collect();
    serde_json::json!({ "keys": keys })
}

fn split(token: &str) -> Result<(Header, &str, Vec<u8>), CapabilityError> {
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| CapabilityError::Malformed("expected three dot-separated parts".into()))?;
    let Some((header, payload)) = signing_input.split_once('.') else {
        return Err(CapabilityError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    };
    if payload.contains('.') {
        return Err(CapabilityError::Malformed(
            "expected three dot-separated parts".into(),
        ));
    }
    let header: Header = serde_json::from_slice(&decode(header)?)
        .map_err(|e| CapabilityError::Malformed(format!("header: {e}")))?;
    Ok((header, signing_input, decode(signature)?))
}

/// Decodes base64url with or without padding.
fn decode(part: &str) -> Result<Vec<u8>, CapabilityError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .or_else(|_| URL_SAFE.decode(part))
        .map_err(|_| CapabilityError::Malformed("a part is not base64url".into()))
}

/// A value as base64url JSON, one JWS part.
fn b64_json<T: Serialize>(value: &T) -> Result<String, CapabilityError> {
    serde_json::to_vec(value)
        .map(|json| URL_SAFE_NO_PAD.encode(json))
        .map_err(|e| CapabilityError::Malformed(e.to_string()))
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl SigningKey {
    /// The public half as the supply chain's verifiers take it (marketplace timestamps and
    /// countersignatures are signed with the same rotating keys as capability tokens).
    pub fn attestation_public_key(
        &self,
    ) -> Result<plaza_supply::sign::keys::PublicKey, CapabilityError> {
        let raw = URL_SAFE_NO_PAD
            .decode(&self.public_x)
            .map_err(|e| CapabilityError::Key(e.to_string()))?;
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&raw);
        plaza_supply::sign::keys::PublicKey::from_spki_der(&der)
            .map_err(|e| CapabilityError::Key(e.to_string()))
    }

    /// The private half as the supply chain's signers take it.
    pub fn attestation_private_key(
        &self,
    ) -> Result<plaza_supply::sign::keys::PrivateKey, CapabilityError> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(&self.private_pkcs8)
            .map_err(|e| CapabilityError::Key(e.to_string()))?;
        plaza_supply::sign::keys::PrivateKey::from_pkcs8_der(&der)
            .map_err(|e| CapabilityError::Key(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: DateTime<Utc>) -> CapabilityClaims {
        let spiffe =
            "spiffe://plaza.local/org/demo/team/lunch/app/com.example.where2eat/instance/inst-9a3f";
        CapabilityClaims {
            iss: ISSUER.into(),
            sub: spiffe.into(),
            aud: spiffe.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + DEFAULT_TTL).timestamp(),
            jti: "t1".into(),
            scope: "calendar.read".into(),
            org: OrgId::from("org_1"),
            team: TeamId::from("team_1"),
            app: "com.example.where2eat".into(),
            ver: "1.2.0".into(),
            inst: InstanceId::from("inst-9a3f"),
        }
    }

    #[test]
    fn a_minted_token_verifies_and_carries_its_claims() {
        let now = Utc::now();
        let key = SigningKey::generate(now, DEFAULT_ROTATION).unwrap();
        let token = mint(&key, &claims(now)).unwrap();
        assert!(looks_like_jwt(&token));
        assert_eq!(key_id(&token).unwrap(), key.kid);
        let got = verify(&token, std::slice::from_ref(&key), now).unwrap();
        assert_eq!(got, claims(now));
        assert_eq!(got.scopes().collect::<Vec<_>>(), ["calendar.read"]);
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let now = Utc::now();
        let key = SigningKey::generate(now, DEFAULT_ROTATION).unwrap();
        let other = SigningKey::generate(now, DEFAULT_ROTATION).unwrap();
        let token = mint(&key, &claims(now)).unwrap();
        // Another scope in the payload: the signature no longer matches.
        let mut c = claims(now);
        c.scope = "calendar.read calendar.events.create".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&forged, std::slice::from_ref(&key), now),
            Err(CapabilityError::BadSignature)
        );
        assert!(matches!(
            verify(&token, std::slice::from_ref(&key), now + DEFAULT_TTL),
            Err(CapabilityError::Expired(_))
        ));
        assert!(matches!(
            verify(&token, std::slice::from_ref(&other), now),
            Err(CapabilityError::UnknownKey(_))
        ));
        assert!(matches!(
            verify("plz_abc", std::slice::from_ref(&key), now),
            Err(CapabilityError::Malformed(_))
        ));
    }

    #[test]
    fn the_jwks_lists_published_keys_only() {
        let now = Utc::now();
        let old = SigningKey::generate(now - Duration::days(30), DEFAULT_ROTATION).unwrap();
        let current = SigningKey::generate(now, DEFAULT_ROTATION).unwrap();
        let doc = jwks(&[old, current.clone()], now);
        let keys = doc["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["kid"], current.kid.as_str());
        assert_eq!(keys[0]["crv"], "Ed25519");
        assert!(current.signs_at(now));
    }

    #[test]
    fn a_retired_key_still_verifies_its_last_tokens() {
        let issued = Utc::now();
        let key = SigningKey::generate(
            issued - DEFAULT_ROTATION + Duration::minutes(1),
            DEFAULT_ROTATION,
        )
        .unwrap();
        let token = mint(&key, &claims(issued)).unwrap();
        let later = issued + Duration::minutes(5);
        assert!(!key.signs_at(later));
        assert!(verify(&token, std::slice::from_ref(&key), later).is_ok());
    }
}
