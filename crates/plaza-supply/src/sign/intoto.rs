//! in-toto attestation statements (Statement v1, and v0.1 as `cosign attest-blob` writes it).
//!
//! `{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": ..., "digest": {"sha256":
//! ...}}], "predicateType": ..., "predicate": {...}}`. Plaza writes v1 with exactly one subject
//! (the artifact) and reads v1 and v0.1 (same fields, other `_type`).

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use super::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use super::keys::PrivateKey;
use super::SignError;

/// `_type` of in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of in-toto Statement v0.1 (cosign attest-blob, slsa-github-generator v1).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// SLSA Provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA Verification Summary Attestation v1.
pub const SLSA_VSA_V1: &str = "https://slsa.dev/verification_summary/v1";
/// Plaza's artifact signature: the statement says "this publisher signs this artifact for
/// publication"; predicate `{"intent": "publish"}` (non-empty: the in-toto reference bindings
/// refuse an empty predicate). What `plaza sign` writes.
pub const PLAZA_SIGNATURE_V1: &str = "https://plaza.dev/signature/v1";
/// Plaza's marketplace timestamp (see [`super::timestamp`]).
pub const PLAZA_TIMESTAMP_V1: &str = "https://plaza.dev/timestamp/v1";
/// cosign's predicate for `cosign attest --type custom`.
pub const COSIGN_CUSTOM_V1: &str = "https://cosign.sigstore.dev/attestation/v1";
/// CycloneDX SBOM as a predicate.
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
/// SPDX SBOM as a predicate.
pub const SPDX: &str = "https://spdx.dev/Document";

/// Every predicate type Plaza knows; others are rejected by [`Statement::check_predicate_type`].
pub const KNOWN_PREDICATE_TYPES: &[&str] = &[
    SLSA_PROVENANCE_V1,
    SLSA_VSA_V1,
    PLAZA_SIGNATURE_V1,
    PLAZA_TIMESTAMP_V1,
    COSIGN_CUSTOM_V1,
    CYCLONEDX,
    SPDX,
];

const WHAT: &str = "in-toto statement";

/// An in-toto statement.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// `_type`: [`STATEMENT_V1`] or [`STATEMENT_V01`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// `predicateType`: how to read `predicate`.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate (absent in the JSON reads as `null`).
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// A subject: a name and its digests by algorithm (`sha256` → lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subject {
    /// The artifact's name (a file name or reference).
    #[serde(default)]
    pub name: String,
    /// Digests by algorithm.
    pub digest: BTreeMap<String, String>,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Statement {
    /// A v1 statement about one artifact, named `name`, with `sha256_hex` its digest.
    pub fn v1(
        name: &str,
        sha256_hex: &str,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Self {
        Statement {
            type_: STATEMENT_V1.to_owned(),
            subject: vec![Subject {
                name: name.to_owned(),
                digest: BTreeMap::from([("sha256".to_owned(), sha256_hex.to_ascii_lowercase())]),
            }],
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }

    /// Reads a statement (v1 or v0.1) from JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, SignError> {
        let s: Statement = serde_json::from_slice(json).map_err(|e| SignError::json(WHAT, &e))?;
        if s.type_ != STATEMENT_V1 && s.type_ != STATEMENT_V01 {
            return Err(SignError::field(
                WHAT,
                "/_type",
                format!("`{}` is not {STATEMENT_V1} or {STATEMENT_V01}", s.type_),
            ));
        }
        for (i, sub) in s.subject.iter().enumerate() {
            if sub.digest.is_empty() {
                return Err(SignError::field(
                    WHAT,
                    format!("/subject/{i}/digest"),
                    "a subject needs at least one digest",
                ));
            }
        }
        Ok(s)
    }

    /// The JSON form (compact).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The statement's only subject; more or fewer is [`SignError::SubjectCount`].
    pub fn single_subject(&self) -> Result<&Subject, SignError> {
        match self.subject.as_slice() {
            [one] => Ok(one),
            many => Err(SignError::SubjectCount { count: many.len() }),
        }
    }

    /// Checks the statement has exactly one subject and its sha256 is `artifact_sha256_hex`.
    pub fn check_subject(&self, artifact_sha256_hex: &str) -> Result<&Subject, SignError> {
        let subject = self.single_subject()?;
        let signed = subject.digest.get("sha256").ok_or_else(|| {
            SignError::field(
                WHAT,
                "/subject/0/digest",
                "no sha256 digest; Plaza identifies artifacts by sha256",
            )
        })?;
        if !signed.eq_ignore_ascii_case(artifact_sha256_hex) {
            return Err(SignError::DigestMismatch {
                signed: signed.clone(),
                artifact: artifact_sha256_hex.to_owned(),
            });
        }
        Ok(subject)
    }

    /// Checks `predicateType` is one of `known` (e.g. [`KNOWN_PREDICATE_TYPES`]).
    pub fn check_predicate_type(&self, known: &[&str]) -> Result<(), SignError> {
        if known.contains(&self.predicate_type.as_str()) {
            Ok(())
        } else {
            Err(SignError::UnknownPredicateType {
                found: self.predicate_type.clone(),
                expected: known.join(", "),
            })
        }
    }

    /// This statement signed by `key` as a DSSE envelope (payload type in-toto).
    pub fn sign(&self, key: &PrivateKey) -> Envelope {
        Envelope::sign(INTOTO_PAYLOAD_TYPE, self.to_json(), key)
    }

    /// The statement inside an envelope (checks the payload type; does NOT verify signatures).
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, SignError> {
        if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
            return Err(SignError::PayloadType {
                expected: INTOTO_PAYLOAD_TYPE,
                found: envelope.payload_type.clone(),
            });
        }
        Self::from_json(&envelope.payload)
    }
}

/// The statement `plaza sign` writes: v1, one subject (the artifact), predicate
/// [`PLAZA_SIGNATURE_V1`] `{"intent": "publish"}`.
pub fn artifact_signature_statement(name: &str, artifact: &[u8]) -> Statement {
    Statement::v1(
        name,
        &sha256_hex(artifact),
        PLAZA_SIGNATURE_V1,
        serde_json::json!({ "intent": "publish" }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_round_trip_and_subject_checks() {
        let s = artifact_signature_statement("app.wasm", b"bytes");
        let read = Statement::from_json(&s.to_json()).unwrap();
        assert_eq!(read, s);
        assert_eq!(
            read.check_subject(&sha256_hex(b"bytes")).unwrap().name,
            "app.wasm"
        );
        let e = read.check_subject(&sha256_hex(b"other")).unwrap_err();
        assert!(matches!(e, SignError::DigestMismatch { .. }), "{e}");
        read.check_predicate_type(KNOWN_PREDICATE_TYPES).unwrap();
        let e = read
            .check_predicate_type(&[SLSA_PROVENANCE_V1])
            .unwrap_err();
        assert!(e.to_string().contains(PLAZA_SIGNATURE_V1), "{e}");
    }

    #[test]
    fn two_subjects_are_refused() {
        let mut s = artifact_signature_statement("a", b"a");
        s.subject.push(s.subject[0].clone());
        let e = s.check_subject(&sha256_hex(b"a")).unwrap_err();
        assert!(matches!(e, SignError::SubjectCount { count: 2 }), "{e}");
        assert!(e.to_string().contains("2 subjects"));
    }

    #[test]
    fn v01_is_read_and_other_types_are_not() {
        let json = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1","subject":[{"name":"blob","digest":{"sha256":"ABCD"}}],"predicate":{"Data":"x"}}"#;
        let s = Statement::from_json(json).unwrap();
        assert_eq!(s.type_, STATEMENT_V01);
        s.check_subject("abcd").unwrap();
        let e = Statement::from_json(&json.replace(b"v0.1", b"v9")).unwrap_err();
        assert!(e.to_string().contains("/_type"), "{e}");
    }

    trait ReplaceBytes {
        fn replace(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }
    impl<const N: usize> ReplaceBytes for [u8; N] {
        fn replace(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            String::from_utf8_lossy(self)
                .replace(
                    std::str::from_utf8(from).unwrap(),
                    std::str::from_utf8(to).unwrap(),
                )
                .into_bytes()
        }
    }
}
