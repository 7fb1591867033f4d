//! Signing and verifying an artifact, as `plaza sign` and `plaza verify` do: a DSSE envelope
//! over an in-toto Statement v1 whose one subject is the artifact's sha256
//! ([`crate::sign::intoto::PLAZA_SIGNATURE_V1`] predicate unless the caller signs another
//! statement).

use chrono::{DateTime, Utc};

use super::dsse::Envelope;
use super::intoto::{artifact_signature_statement, sha256_hex, Statement, KNOWN_PREDICATE_TYPES};
use super::keys::{PrivateKey, PublicKey};
use super::trust::{verify_with_trusted_keys, TrustedKey};
use super::SignError;

/// The envelope `plaza sign --artifact PATH --key KEY` writes (JSON via [`Envelope::to_json`]).
pub fn sign_artifact(name: &str, artifact: &[u8], key: &PrivateKey) -> Envelope {
    artifact_signature_statement(name, artifact).sign(key)
}

/// What a verified artifact signature says.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedArtifact {
    /// The statement (v1 or v0.1).
    pub statement: Statement,
    /// Plaza key id of the key that verified.
    pub key_id: String,
    /// Index of that key in the slice given.
    pub key_index: usize,
    /// The signing time a marketplace timestamp proved (trusted-key verification only).
    pub signed_at: Option<DateTime<Utc>>,
}

fn check_statement(env: &Envelope, artifact: &[u8]) -> Result<Statement, SignError> {
    let statement = Statement::from_envelope(env)?;
    statement.check_subject(&sha256_hex(artifact))?;
    statement.check_predicate_type(KNOWN_PREDICATE_TYPES)?;
    Ok(statement)
}

/// `plaza verify --artifact … --key PUB`: some signature verifies with one of `keys`, the
/// statement has exactly one subject whose sha256 is the artifact's, and its predicate type is
/// known.
pub fn verify_artifact(
    envelope_json: &[u8],
    artifact: &[u8],
    keys: &[PublicKey],
) -> Result<VerifiedArtifact, SignError> {
    let env = Envelope::from_json(envelope_json)?;
    let verified = env.verify(keys)?;
    let statement = check_statement(&env, artifact)?;
    Ok(VerifiedArtifact {
        statement,
        key_id: verified.key_id,
        key_index: verified.key_index,
        signed_at: None,
    })
}

/// `plaza verify --artifact … --publisher NAME` and the server's gate: as [`verify_artifact`],
/// with the publisher's registered keys judged by their validity windows and revocations at
/// `now`, using marketplace `timestamps` (verified with `marketplace_keys`) where given.
pub fn verify_artifact_trusted(
    envelope_json: &[u8],
    artifact: &[u8],
    keys: &[TrustedKey],
    timestamps: &[Envelope],
    marketplace_keys: &[PublicKey],
    now: DateTime<Utc>,
) -> Result<VerifiedArtifact, SignError> {
    let env = Envelope::from_json(envelope_json)?;
    let trusted = verify_with_trusted_keys(&env, keys, timestamps, marketplace_keys, now)?;
    let statement = check_statement(&env, artifact)?;
    Ok(VerifiedArtifact {
        statement,
        key_id: trusted.verified.key_id,
        key_index: trusted.verified.key_index,
        signed_at: trusted.signed_at,
    })
}
