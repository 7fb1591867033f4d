//! cosign compatibility for key-pair signing without a transparency log (how enterprises run
//! cosign offline). Everything here verifies with the cosign public key alone (ECDSA P-256 SPKI
//! PEM, `cosign.pub`; Ed25519 keys work the same way):
//!
//! - `cosign sign-blob --key`: base64 of an ASN.1 DER ECDSA signature over SHA-256 of the blob
//!   ([`verify_blob_signature`]).
//! - Bundles ([`verify_blob_bundle`]): the old cosign bundle `{"base64Signature", "cert",
//!   "rekorBundle"}` and the Sigstore bundle (`mediaType`
//!   `application/vnd.dev.sigstore.bundle*`) with `messageSignature{messageDigest, signature}` or
//!   `dsseEnvelope`. Transparency-log entries and certificates are not checked (there is no log
//!   offline); the result says so in [`VerifiedBundle::not_checked`].
//! - `cosign attest-blob`: a DSSE envelope (payload type in-toto) of a Statement v0.1 (or v1)
//!   whose subject is the blob ([`verify_attestation`]).
//! - Image signatures ([`verify_cosign_image_signature`]): a signature manifest (found under the
//!   tag [`signature_tag`] `sha256-<hex>.sig`, or as an OCI 1.1 referrer of the image) whose
//!   layers are "simple signing" payloads, each signature in the layer annotation
//!   `dev.cosignproject.cosign/signature`.

use serde_json::Value;

use super::dsse::{decode_base64, Envelope};
use super::intoto::{sha256_hex, Statement};
use super::keys::PublicKey;
use super::SignError;

/// The layer annotation holding a cosign image signature (base64).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// `critical.type` of a cosign image signature payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// `artifactType` of a cosign signature manifest stored as an OCI 1.1 referrer.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// At most this many layers of a signature manifest are examined.
pub const MAX_SIGNATURE_LAYERS: usize = 64;
/// A simple-signing payload larger than this is refused (real ones are a few hundred bytes).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

fn cosign(what: &'static str, detail: impl Into<String>) -> SignError {
    SignError::Cosign {
        what,
        detail: detail.into(),
    }
}

fn hex_of_digest<'a>(what: &'static str, digest: &'a str) -> Result<&'a str, SignError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| cosign(what, format!("`{digest}` is not a sha256:<hex> digest")))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(cosign(
            what,
            format!("`{digest}` is not a sha256:<64 hex digits> digest"),
        ));
    }
    Ok(hex)
}

/// The tag cosign stores an image's signatures under: `sha256:<hex>` → `sha256-<hex>.sig`.
pub fn signature_tag(image_digest: &str) -> Result<String, SignError> {
    Ok(format!(
        "sha256-{}.sig",
        hex_of_digest("image digest", image_digest)?
    ))
}

/// The tag cosign stores an image's attestations under: `sha256-<hex>.att`.
pub fn attestation_tag(image_digest: &str) -> Result<String, SignError> {
    Ok(format!(
        "sha256-{}.att",
        hex_of_digest("image digest", image_digest)?
    ))
}

/// Verifies `cosign sign-blob --key` output (`signature_base64`, whitespace ignored) for `blob`.
pub fn verify_blob_signature(
    blob: &[u8],
    signature_base64: &str,
    key: &PublicKey,
) -> Result<(), SignError> {
    let sig = decode_base64("cosign signature", "", signature_base64)?;
    if key.verifies(blob, &sig) {
        Ok(())
    } else {
        Err(cosign(
            "blob signature",
            "does not verify with the key given: the blob changed after signing, or it was signed with another key",
        ))
    }
}

/// Which bundle form was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// cosign's own bundle: `base64Signature` (+ `cert`, `rekorBundle`).
    Legacy,
    /// Sigstore bundle with `messageSignature`.
    MessageSignature,
    /// Sigstore bundle with `dsseEnvelope` (an attestation).
    DsseEnvelope,
}

/// A verified bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBundle {
    /// The form.
    pub kind: BundleKind,
    /// The statement, for [`BundleKind::DsseEnvelope`].
    pub statement: Option<Statement>,
    /// What the bundle carries that was not checked offline with a key (tlog entries,
    /// certificates, timestamps).
    pub not_checked: Vec<String>,
}

/// Verifies a cosign or Sigstore bundle (JSON) for `blob` with `key`.
pub fn verify_blob_bundle(
    blob: &[u8],
    bundle_json: &[u8],
    key: &PublicKey,
) -> Result<VerifiedBundle, SignError> {
    const WHAT: &str = "cosign bundle";
    let v: Value = serde_json::from_slice(bundle_json).map_err(|e| SignError::json(WHAT, &e))?;
    let mut not_checked = Vec::new();
    if let Some(sig) = v.get("base64Signature") {
        let sig = sig
            .as_str()
            .ok_or_else(|| SignError::field(WHAT, "/base64Signature", "not a string"))?;
        verify_blob_signature(blob, sig, key)?;
        if v.get("cert")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty())
        {
            not_checked.push("/cert: certificate not checked (key-pair verification)".into());
        }
        if v.get("rekorBundle").is_some_and(|r| !r.is_null()) {
            not_checked.push("/rekorBundle: transparency-log entry not checked (offline)".into());
        }
        return Ok(VerifiedBundle {
            kind: BundleKind::Legacy,
            statement: None,
            not_checked,
        });
    }
    let media = v
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !media.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(SignError::field(
            WHAT,
            "/mediaType",
            format!("`{media}`: neither a cosign bundle (base64Signature) nor a Sigstore bundle (application/vnd.dev.sigstore.bundle…)"),
        ));
    }
    let material = v.get("verificationMaterial");
    if material
        .and_then(|m| m.get("tlogEntries"))
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        not_checked.push(
            "/verificationMaterial/tlogEntries: transparency-log entries not checked (offline)"
                .into(),
        );
    }
    if material
        .and_then(|m| {
            m.get("certificate")
                .or_else(|| m.get("x509CertificateChain"))
        })
        .is_some()
    {
        not_checked
            .push("/verificationMaterial: certificate not checked (key-pair verification)".into());
    }
    if let Some(ms) = v.get("messageSignature") {
        let digest = ms.get("messageDigest");
        if let Some(d) = digest {
            let alg = d
                .get("algorithm")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if alg != "SHA2_256" {
                return Err(SignError::field(
                    WHAT,
                    "/messageSignature/messageDigest/algorithm",
                    format!("`{alg}`: only SHA2_256 is read"),
                ));
            }
            let b64 = d.get("digest").and_then(Value::as_str).unwrap_or_default();
            let got = decode_base64(WHAT, "/messageSignature/messageDigest/digest", b64)?;
            if hex::encode(&got) != sha256_hex(blob) {
                return Err(SignError::DigestMismatch {
                    signed: hex::encode(got),
                    artifact: sha256_hex(blob),
                });
            }
        }
        let sig = ms
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(|| SignError::field(WHAT, "/messageSignature/signature", "missing"))?;
        verify_blob_signature(blob, sig, key)?;
        return Ok(VerifiedBundle {
            kind: BundleKind::MessageSignature,
            statement: None,
            not_checked,
        });
    }
    if let Some(env) = v.get("dsseEnvelope") {
        let env = Envelope::from_value(WHAT, "/dsseEnvelope", env)?;
        let statement = verify_attestation_envelope(&env, blob, key)?;
        return Ok(VerifiedBundle {
            kind: BundleKind::DsseEnvelope,
            statement: Some(statement),
            not_checked,
        });
    }
    Err(SignError::field(
        WHAT,
        "",
        "neither messageSignature nor dsseEnvelope",
    ))
}

/// Verifies a `cosign attest-blob` envelope (JSON) for `blob`: signature, one subject with the
/// blob's sha256. Returns the statement (v0.1 or v1); its predicate type is the caller's to judge.
pub fn verify_attestation(
    envelope_json: &[u8],
    blob: &[u8],
    key: &PublicKey,
) -> Result<Statement, SignError> {
    verify_attestation_envelope(&Envelope::from_json(envelope_json)?, blob, key)
}

fn verify_attestation_envelope(
    env: &Envelope,
    blob: &[u8],
    key: &PublicKey,
) -> Result<Statement, SignError> {
    env.verify(std::slice::from_ref(key))?;
    let statement = Statement::from_envelope(env)?;
    statement.check_subject(&sha256_hex(blob))?;
    Ok(statement)
}

/// A verified cosign image signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedImageSignature {
    /// Index of the layer whose signature verified.
    pub layer_index: usize,
    /// `critical.identity.docker-reference` of the payload.
    pub docker_reference: Option<String>,
}

/// Verifies a cosign image signature: `signature_manifest_json` is the OCI manifest found under
/// [`signature_tag`] or as a referrer; `fetch_blob(digest)` returns a layer blob by digest
/// (`sha256:<hex>`; its bytes are checked against the digest here); `image_digest` is the
/// signed image's manifest digest. Passes when some layer's signature verifies with `key` over
/// a simple-signing payload of type [`SIMPLE_SIGNING_TYPE`] naming `image_digest`.
pub fn verify_cosign_image_signature<E: std::fmt::Display>(
    signature_manifest_json: &[u8],
    fetch_blob: impl Fn(&str) -> Result<Vec<u8>, E>,
    image_digest: &str,
    key: &PublicKey,
) -> Result<VerifiedImageSignature, SignError> {
    const WHAT: &str = "signature manifest";
    hex_of_digest("image digest", image_digest)?;
    let manifest: Value =
        serde_json::from_slice(signature_manifest_json).map_err(|e| SignError::json(WHAT, &e))?;
    let layers = manifest
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| SignError::field(WHAT, "/layers", "missing; not an OCI image manifest"))?;
    if layers.len() > MAX_SIGNATURE_LAYERS {
        return Err(SignError::field(
            WHAT,
            "/layers",
            format!(
                "{} layers, more than the {MAX_SIGNATURE_LAYERS} read",
                layers.len()
            ),
        ));
    }
    let mut problems = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        match check_layer(layer, &fetch_blob, image_digest, key) {
            Ok(docker_reference) => {
                return Ok(VerifiedImageSignature {
                    layer_index: i,
                    docker_reference,
                })
            }
            Err(e) => problems.push(format!("/layers/{i}: {e}")),
        }
    }
    if problems.is_empty() {
        problems.push("no layers".into());
    }
    Err(cosign(
        "image signature",
        format!(
            "no layer holds a valid signature of {image_digest}: {}",
            problems.join("; ")
        ),
    ))
}

fn check_layer<E: std::fmt::Display>(
    layer: &Value,
    fetch_blob: &impl Fn(&str) -> Result<Vec<u8>, E>,
    image_digest: &str,
    key: &PublicKey,
) -> Result<Option<String>, String> {
    let sig = layer
        .get("annotations")
        .and_then(|a| a.get(SIGNATURE_ANNOTATION))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no `{SIGNATURE_ANNOTATION}` annotation"))?;
    let digest = layer
        .get("digest")
        .and_then(Value::as_str)
        .ok_or("no digest")?;
    let hex = hex_of_digest("layer digest", digest).map_err(|e| e.to_string())?;
    let payload = fetch_blob(digest).map_err(|e| format!("fetching {digest}: {e}"))?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "payload of {} bytes, more than {MAX_PAYLOAD_BYTES}",
            payload.len()
        ));
    }
    if !sha256_hex(&payload).eq_ignore_ascii_case(hex) {
        return Err(format!("the blob fetched for {digest} has another digest"));
    }
    let sig = decode_base64("signature annotation", "", sig).map_err(|e| e.to_string())?;
    if !key.verifies(&payload, &sig) {
        return Err("signature does not verify with the key given".into());
    }
    let p: Value =
        serde_json::from_slice(&payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    let critical = p.get("critical").ok_or("payload has no `critical`")?;
    let ty = critical
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ty != SIMPLE_SIGNING_TYPE {
        return Err(format!(
            "payload critical.type is `{ty}`, not `{SIMPLE_SIGNING_TYPE}`"
        ));
    }
    let signed = critical
        .get("image")
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !signed.eq_ignore_ascii_case(image_digest) {
        return Err(format!(
            "the signature is for image {signed}, not {image_digest}"
        ));
    }
    Ok(critical
        .get("identity")
        .and_then(|i| i.get("docker-reference"))
        .and_then(Value::as_str)
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            signature_tag(&d).unwrap(),
            format!("sha256-{}.sig", "ab".repeat(32))
        );
        assert_eq!(
            attestation_tag(&d).unwrap(),
            format!("sha256-{}.att", "ab".repeat(32))
        );
        assert!(signature_tag("sha256:abc").is_err());
        assert!(signature_tag("latest").is_err());
    }
}
