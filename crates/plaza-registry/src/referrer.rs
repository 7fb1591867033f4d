//! What Plaza hangs off an app's artifact as OCI 1.1 referrers: the Plaza manifest, the SBOM,
//! signatures and provenance. Each is an image manifest whose `subject` is the artifact's
//! manifest, whose `artifactType` says what it is, whose config is the empty descriptor and whose
//! one layer holds the document. The artifact types are documented in docs/registry.md; the
//! registry's referrers API filters by them (`?artifactType=`).

use crate::digest::Digest;
use crate::manifest::media_type;
use serde_json::{json, Map, Value};

/// The artifact types of Plaza's referrers.
pub mod artifact_type {
    /// The app's Plaza manifest (normalised, JSON).
    pub const PLAZA_MANIFEST: &str = "application/vnd.plaza.manifest.v1+json";
    /// A CycloneDX JSON SBOM.
    pub const SBOM_CYCLONEDX: &str = "application/vnd.cyclonedx+json";
    /// An SPDX 2.3 JSON SBOM.
    pub const SBOM_SPDX: &str = "application/spdx+json";
    /// A signature: a DSSE envelope over an in-toto statement whose subject is the artifact.
    pub const SIGNATURE: &str = "application/vnd.dsse.envelope.v1+json";
    /// Provenance: an in-toto statement (SLSA Provenance), usually in a DSSE envelope.
    pub const PROVENANCE: &str = "application/vnd.in-toto+json";
    /// The marketplace's countersignature: a SLSA Verification Summary Attestation in a DSSE
    /// envelope signed with the marketplace's key.
    pub const VERIFICATION_SUMMARY: &str = "application/vnd.plaza.verification-summary.v1+json";
}

/// The empty JSON object `{}` that serves as a referrer's config (the image spec's "empty
/// descriptor"); push it as a blob before the referrer.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// The annotation carrying an in-toto statement's predicate type on a provenance referrer.
pub const PREDICATE_TYPE_ANNOTATION: &str = "in-toto.io/predicate-type";

/// Which manifest a referrer points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject manifest's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A document to attach: what it is and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The referrer's `artifactType`.
    pub artifact_type: &'static str,
    /// The layer's media type (the document's own format).
    pub layer_media_type: &'static str,
    /// The document.
    pub bytes: Vec<u8>,
    /// Annotations for the referrer manifest (e.g. the predicate type).
    pub annotations: Map<String, Value>,
}

/// Why a document cannot be attached as what it was given as.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    /// Not JSON.
    #[error("{what} is not JSON: {reason}")]
    NotJson {
        /// What was expected.
        what: &'static str,
        /// serde_json's message, with line and column.
        reason: String,
    },
    /// JSON, but not the expected kind of document.
    #[error("{0}")]
    WrongKind(String),
}

fn parse(bytes: &[u8], what: &'static str) -> Result<Value, AttachmentError> {
    serde_json::from_slice(bytes).map_err(|e| AttachmentError::NotJson {
        what,
        reason: e.to_string(),
    })
}

/// The normalised Plaza manifest as an attachment.
pub fn plaza_manifest(manifest: &Value) -> Attachment {
    Attachment {
        artifact_type: artifact_type::PLAZA_MANIFEST,
        layer_media_type: artifact_type::PLAZA_MANIFEST,
        bytes: manifest.to_string().into_bytes(),
        annotations: Map::new(),
    }
}

/// An SBOM, recognised as CycloneDX (`bomFormat: "CycloneDX"`) or SPDX (`spdxVersion`).
pub fn sbom(bytes: Vec<u8>) -> Result<Attachment, AttachmentError> {
    let doc = parse(&bytes, "the SBOM")?;
    let kind = if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        artifact_type::SBOM_CYCLONEDX
    } else if doc.get("spdxVersion").and_then(Value::as_str).is_some() {
        artifact_type::SBOM_SPDX
    } else {
        return Err(AttachmentError::WrongKind(
            "the SBOM is neither CycloneDX JSON (`bomFormat: \"CycloneDX\"`) nor SPDX JSON (`spdxVersion`); generate one with syft or cyclonedx tooling".into(),
        ));
    };
    Ok(Attachment {
        artifact_type: kind,
        layer_media_type: kind,
        bytes,
        annotations: Map::new(),
    })
}

fn is_envelope(doc: &Value) -> bool {
    doc.get("payloadType").and_then(Value::as_str).is_some()
        && doc.get("payload").and_then(Value::as_str).is_some()
        && doc.get("signatures").and_then(Value::as_array).is_some()
}

/// A signature: a DSSE envelope (`payloadType`, `payload`, `signatures`).
pub fn signature(bytes: Vec<u8>) -> Result<Attachment, AttachmentError> {
    let doc = parse(&bytes, "the signature")?;
    if !is_envelope(&doc) {
        return Err(AttachmentError::WrongKind(
            "the signature is not a DSSE envelope (it needs `payloadType`, `payload` and `signatures`); sign with `plaza sign` or cosign".into(),
        ));
    }
    Ok(Attachment {
        artifact_type: artifact_type::SIGNATURE,
        layer_media_type: artifact_type::SIGNATURE,
        bytes,
        annotations: Map::new(),
    })
}

/// Provenance: a DSSE envelope around an in-toto statement, or a bare statement (`_type`,
/// `predicateType`). The predicate type, when readable, is annotated.
pub fn provenance(bytes: Vec<u8>) -> Result<Attachment, AttachmentError> {
    use base64::Engine as _;
    let doc = parse(&bytes, "the provenance")?;
    let (layer, statement) = if is_envelope(&doc) {
        let payload = doc
            .get("payload")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(payload))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        (artifact_type::SIGNATURE, decoded)
    } else if doc.get("predicateType").is_some() {
        (artifact_type::PROVENANCE, Some(doc))
    } else {
        return Err(AttachmentError::WrongKind(
            "the provenance is neither a DSSE envelope nor an in-toto statement (`_type`, `predicateType`); write one with `plaza attest --provenance`".into(),
        ));
    };
    let mut annotations = Map::new();
    if let Some(t) = statement
        .as_ref()
        .and_then(|s| s.get("predicateType"))
        .and_then(Value::as_str)
    {
        annotations.insert(PREDICATE_TYPE_ANNOTATION.into(), Value::String(t.into()));
    }
    Ok(Attachment {
        artifact_type: artifact_type::PROVENANCE,
        layer_media_type: layer,
        bytes,
        annotations,
    })
}

/// The marketplace's countersignature (a DSSE envelope around a SLSA VSA statement), annotated
/// with its predicate type.
pub fn verification_summary(bytes: Vec<u8>) -> Result<Attachment, AttachmentError> {
    let doc = parse(&bytes, "the verification summary")?;
    if !is_envelope(&doc) {
        return Err(AttachmentError::WrongKind(
            "the verification summary is not a DSSE envelope".into(),
        ));
    }
    let mut annotations = Map::new();
    annotations.insert(
        PREDICATE_TYPE_ANNOTATION.into(),
        Value::String("https://slsa.dev/verification_summary/v1".into()),
    );
    Ok(Attachment {
        artifact_type: artifact_type::VERIFICATION_SUMMARY,
        layer_media_type: artifact_type::SIGNATURE,
        bytes,
        annotations,
    })
}

/// The referrer image manifest for `attachment` about `subject`, as bytes (its digest is the
/// sha256 of these bytes). Push [`EMPTY_CONFIG`] and the attachment's bytes as blobs first.
pub fn referrer_manifest(subject: &Subject, attachment: &Attachment) -> Vec<u8> {
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": attachment.artifact_type,
        "config": {
            "mediaType": media_type::OCI_EMPTY,
            "digest": Digest::sha256_of(EMPTY_CONFIG).to_string(),
            "size": EMPTY_CONFIG.len(),
        },
        "layers": [{
            "mediaType": attachment.layer_media_type,
            "digest": Digest::sha256_of(&attachment.bytes).to_string(),
            "size": attachment.bytes.len(),
        }],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest.to_string(),
            "size": subject.size,
        },
    });
    if !attachment.annotations.is_empty() {
        manifest["annotations"] = Value::Object(attachment.annotations.clone());
    }
    manifest.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn subject() -> Subject {
        Subject {
            media_type: media_type::OCI_MANIFEST.into(),
            digest: Digest::sha256_of(b"subject"),
            size: 7,
        }
    }

    #[test]
    fn a_referrer_is_a_valid_manifest_pointing_at_its_subject() {
        let a = plaza_manifest(&json!({"id": "com.example.a"}));
        let bytes = referrer_manifest(&subject(), &a);
        let parsed = crate::parse_manifest(&bytes, Some(media_type::OCI_MANIFEST)).unwrap();
        assert_eq!(
            parsed.referrer_artifact_type(),
            Some(artifact_type::PLAZA_MANIFEST)
        );
        assert_eq!(
            parsed.subject.as_ref().map(|s| &s.digest),
            Some(&subject().digest)
        );
        assert_eq!(
            parsed
                .blob_digests()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
            vec![
                Digest::sha256_of(EMPTY_CONFIG).to_string(),
                Digest::sha256_of(&a.bytes).to_string()
            ]
        );
    }

    #[test]
    fn sboms_are_told_apart() {
        let cdx = sbom(br#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#.to_vec()).unwrap();
        assert_eq!(cdx.artifact_type, artifact_type::SBOM_CYCLONEDX);
        let spdx = sbom(br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec()).unwrap();
        assert_eq!(spdx.artifact_type, artifact_type::SBOM_SPDX);
        assert!(matches!(
            sbom(b"{}".to_vec()),
            Err(AttachmentError::WrongKind(_))
        ));
        let err = sbom(b"{".to_vec()).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn provenance_annotates_the_predicate_type_inside_an_envelope() {
        let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1"});
        let payload =
            base64::engine::general_purpose::STANDARD.encode(statement.to_string().as_bytes());
        let envelope = json!({"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": [{"sig": "AA=="}]});
        let a = provenance(envelope.to_string().into_bytes()).unwrap();
        assert_eq!(a.layer_media_type, artifact_type::SIGNATURE);
        assert_eq!(
            a.annotations[PREDICATE_TYPE_ANNOTATION],
            "https://slsa.dev/provenance/v1"
        );
        let bare = provenance(statement.to_string().into_bytes()).unwrap();
        assert_eq!(bare.layer_media_type, artifact_type::PROVENANCE);
        assert!(signature(statement.to_string().into_bytes()).is_err());
        assert!(signature(envelope.to_string().into_bytes()).is_ok());
    }
}
