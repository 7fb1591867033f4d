//! The marketplace's countersignature: a SLSA Verification Summary Attestation v1
//! (<https://slsa.dev/verification_summary/v1>) about an approved artifact, signed as a DSSE
//! envelope with the marketplace's key and verifiable offline with its published keys.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::sign::dsse::Envelope;
use crate::sign::intoto::{Statement, SLSA_VSA_V1};
use crate::sign::keys::{PrivateKey, PublicKey};
use crate::sign::SignError;

const WHAT: &str = "verification summary";

/// `verificationResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VerificationResult {
    /// The artifact passed the policy.
    #[serde(rename = "PASSED")]
    Passed,
    /// It did not.
    #[serde(rename = "FAILED")]
    Failed,
}

/// A resource reference (`policy`, `inputAttestations[]`): URI and digests.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// URI.
    pub uri: String,
    /// Digests by algorithm.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub digest: std::collections::BTreeMap<String, String>,
}

/// `verifier`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verifier {
    /// The verifier's id (the marketplace's URL).
    pub id: String,
}

/// The VSA v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSummary {
    /// Who verified.
    pub verifier: Verifier,
    /// When, RFC 3339.
    pub time_verified: String,
    /// What was verified (e.g. the artifact's registry reference).
    pub resource_uri: String,
    /// The policy applied.
    pub policy: Reference,
    /// Attestations the verification used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_attestations: Vec<Reference>,
    /// PASSED or FAILED.
    pub verification_result: VerificationResult,
    /// SlsaResult values, e.g. `["SLSA_BUILD_LEVEL_2"]`, or `["FAILED"]`.
    pub verified_levels: Vec<String>,
    /// SLSA version the levels refer to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa_version: Option<String>,
}

/// What the marketplace states about an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsaInput {
    /// The artifact's name.
    pub artifact_name: String,
    /// The artifact's sha256, hex.
    pub artifact_sha256: String,
    /// The marketplace's verifier id (its URL).
    pub verifier_id: String,
    /// Verification time.
    pub time_verified: DateTime<Utc>,
    /// The artifact's URI (registry reference).
    pub resource_uri: String,
    /// The policy applied.
    pub policy: Reference,
    /// Attestations used (signature, provenance, SBOM referrers).
    pub input_attestations: Vec<Reference>,
    /// The result.
    pub result: VerificationResult,
    /// The SLSA build level established (0..=3), written as `SLSA_BUILD_LEVEL_n` when the
    /// result is PASSED (a FAILED result writes `["FAILED"]`).
    pub slsa_build_level: u8,
}

/// The VSA statement (in-toto v1, one subject) for `input`.
pub fn vsa_statement(input: &VsaInput) -> Statement {
    let summary = VerificationSummary {
        verifier: Verifier {
            id: input.verifier_id.clone(),
        },
        time_verified: input
            .time_verified
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        resource_uri: input.resource_uri.clone(),
        policy: input.policy.clone(),
        input_attestations: input.input_attestations.clone(),
        verification_result: input.result,
        // SlsaResult values: the build track's level (0 included) when the artifact passed,
        // `FAILED` when policy verification failed.
        verified_levels: match input.result {
            VerificationResult::Passed => vec![format!(
                "SLSA_BUILD_LEVEL_{}",
                input.slsa_build_level.min(3)
            )],
            VerificationResult::Failed => vec!["FAILED".to_owned()],
        },
        slsa_version: Some("1.0".into()),
    };
    let predicate = serde_json::to_value(summary).unwrap_or(serde_json::Value::Null);
    Statement::v1(
        &input.artifact_name,
        &input.artifact_sha256,
        SLSA_VSA_V1,
        predicate,
    )
}

/// The VSA signed by the marketplace key, as a DSSE envelope.
pub fn sign_vsa(input: &VsaInput, marketplace_key: &PrivateKey) -> Envelope {
    vsa_statement(input).sign(marketplace_key)
}

/// A verified VSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedVsa {
    /// The summary.
    pub summary: VerificationSummary,
    /// The highest `SLSA_BUILD_LEVEL_n` in `verifiedLevels` (0 if none, or FAILED).
    pub slsa_build_level: u8,
    /// Plaza key id of the marketplace key that signed it.
    pub key_id: String,
}

/// Verifies a VSA envelope (JSON) offline for an artifact with the marketplace's published keys.
pub fn verify_vsa(
    envelope_json: &[u8],
    artifact_sha256_hex: &str,
    marketplace_keys: &[PublicKey],
) -> Result<VerifiedVsa, SignError> {
    let env = Envelope::from_json(envelope_json)?;
    let verified = env
        .verify(marketplace_keys)
        .map_err(|_| SignError::NoValidSignature {
            what: WHAT,
            signatures: env.signatures.len(),
            keys: marketplace_keys.len(),
            extra: "; fetch the marketplace's current published keys".into(),
        })?;
    let statement = Statement::from_envelope(&env)?;
    statement.check_predicate_type(&[SLSA_VSA_V1])?;
    statement.check_subject(artifact_sha256_hex)?;
    let summary: VerificationSummary = serde_path_to_error::deserialize(&statement.predicate)
        .map_err(|e| {
            SignError::field(
                WHAT,
                format!("/predicate/{}", e.path().to_string().replace('.', "/")),
                e.inner().to_string(),
            )
        })?;
    let mut level = 0;
    for (i, l) in summary.verified_levels.iter().enumerate() {
        if let Some(n) = l.strip_prefix("SLSA_BUILD_LEVEL_") {
            let n: u8 = n.parse().ok().filter(|n| *n <= 3).ok_or_else(|| {
                SignError::field(
                    WHAT,
                    format!("/predicate/verifiedLevels/{i}"),
                    format!("`{l}` is not SLSA_BUILD_LEVEL_0..3"),
                )
            })?;
            level = level.max(n);
        }
    }
    Ok(VerifiedVsa {
        summary,
        slsa_build_level: level,
        key_id: verified.key_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::intoto::sha256_hex;
    use crate::sign::keys::{generate, Algorithm};

    fn input(level: u8) -> VsaInput {
        VsaInput {
            artifact_name: "registry.plaza.test/acme/app@sha256:x".into(),
            artifact_sha256: sha256_hex(b"artifact"),
            verifier_id: "https://plaza.test".into(),
            time_verified: DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            resource_uri: "oci://registry.plaza.test/acme/app".into(),
            policy: Reference {
                uri: "https://plaza.test/policies/default".into(),
                digest: [("sha256".to_owned(), sha256_hex(b"policy"))].into(),
            },
            input_attestations: vec![],
            result: VerificationResult::Passed,
            slsa_build_level: level,
        }
    }

    #[test]
    fn vsa_round_trip_offline() {
        let old = PrivateKey::from_pem(
            &generate(Algorithm::Ed25519, None).unwrap().private_pem,
            None,
        )
        .unwrap();
        let new = PrivateKey::from_pem(
            &generate(Algorithm::EcdsaP256, None).unwrap().private_pem,
            None,
        )
        .unwrap();
        let env = sign_vsa(&input(2), &new);
        let json = env.to_json();
        let published = [old.public_key(), new.public_key()];
        let v = verify_vsa(json.as_bytes(), &sha256_hex(b"artifact"), &published).unwrap();
        assert_eq!(v.slsa_build_level, 2);
        assert_eq!(v.summary.verified_levels, vec!["SLSA_BUILD_LEVEL_2"]);
        assert_eq!(v.summary.verification_result, VerificationResult::Passed);
        assert_eq!(v.key_id, new.public_key().key_id());
        let raw: serde_json::Value = serde_json::from_slice(&env.payload).unwrap();
        assert_eq!(raw["predicate"]["verificationResult"], "PASSED");
        assert_eq!(raw["predicate"]["timeVerified"], "2026-05-01T12:00:00Z");
        assert_eq!(raw["predicateType"], SLSA_VSA_V1);
        // Other artifact, other keys.
        assert!(matches!(
            verify_vsa(json.as_bytes(), &sha256_hex(b"other"), &published),
            Err(SignError::DigestMismatch { .. })
        ));
        assert!(matches!(
            verify_vsa(
                json.as_bytes(),
                &sha256_hex(b"artifact"),
                &[old.public_key()]
            ),
            Err(SignError::NoValidSignature { .. })
        ));
        // Level 0 is a level; a failed verification says FAILED.
        let v0 = verify_vsa(
            sign_vsa(&input(0), &old).to_json().as_bytes(),
            &sha256_hex(b"artifact"),
            &published,
        )
        .unwrap();
        assert_eq!(v0.slsa_build_level, 0);
        assert_eq!(v0.summary.verified_levels, vec!["SLSA_BUILD_LEVEL_0"]);
        let failed = VsaInput {
            result: VerificationResult::Failed,
            ..input(3)
        };
        let vf = verify_vsa(
            sign_vsa(&failed, &old).to_json().as_bytes(),
            &sha256_hex(b"artifact"),
            &published,
        )
        .unwrap();
        assert_eq!(
            (vf.slsa_build_level, vf.summary.verified_levels.clone()),
            (0, vec!["FAILED".to_owned()])
        );
        assert_eq!(vf.summary.verification_result, VerificationResult::Failed);
    }
}
