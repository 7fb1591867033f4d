//! cosign key-pair formats, with vectors in `fixtures/cosign/` written by
//! `tests/interop/make_cosign_vectors.py` (cosign itself has no Debian package here; the script
//! reproduces its documented formats with pyca/cryptography).

use std::fs;
use std::path::PathBuf;

use plaza_supply::sign::cosign::{
    signature_tag, verify_attestation, verify_blob_bundle, verify_blob_signature,
    verify_cosign_image_signature, BundleKind,
};
use plaza_supply::sign::intoto::{COSIGN_CUSTOM_V1, STATEMENT_V01};
use plaza_supply::sign::keys::PublicKey;
use plaza_supply::sign::SignError;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cosign")
}

fn read(name: &str) -> Vec<u8> {
    fs::read(dir().join(name)).unwrap()
}

fn key(name: &str) -> PublicKey {
    PublicKey::from_pem(&String::from_utf8(read(name)).unwrap()).unwrap()
}

#[test]
fn sign_blob_signature_verifies_with_the_cosign_key_only() {
    let blob = read("blob");
    let sig = String::from_utf8(read("blob.sig")).unwrap();
    verify_blob_signature(&blob, &sig, &key("cosign.pub")).unwrap();
    // Trailing newline (as `cosign sign-blob > file` may leave) and URL-safe form are fine.
    verify_blob_signature(&blob, &format!("{sig}\n"), &key("cosign.pub")).unwrap();
    let url_safe = sig
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned();
    verify_blob_signature(&blob, &url_safe, &key("cosign.pub")).unwrap();
    assert!(verify_blob_signature(&blob, &sig, &key("other.pub")).is_err());
    let mut tampered = blob.clone();
    tampered[0] ^= 1;
    let e = verify_blob_signature(&tampered, &sig, &key("cosign.pub")).unwrap_err();
    assert!(e.to_string().contains("does not verify"), "{e}");
}

#[test]
fn bundles_old_and_sigstore_verify() {
    let blob = read("blob");
    let k = key("cosign.pub");
    let legacy = verify_blob_bundle(&blob, &read("blob.bundle.legacy.json"), &k).unwrap();
    assert_eq!(legacy.kind, BundleKind::Legacy);
    assert!(legacy.not_checked.is_empty(), "{legacy:?}");
    // A bundle with a Rekor entry still verifies by key, and says what was not checked.
    let mut with_rekor: serde_json::Value =
        serde_json::from_slice(&read("blob.bundle.legacy.json")).unwrap();
    with_rekor["rekorBundle"] =
        serde_json::json!({"SignedEntryTimestamp": "MEUC", "Payload": {"logIndex": 1}});
    let v = verify_blob_bundle(&blob, with_rekor.to_string().as_bytes(), &k).unwrap();
    assert_eq!(v.not_checked.len(), 1, "{v:?}");
    assert!(v.not_checked[0].contains("rekorBundle"));

    let sigstore = verify_blob_bundle(&blob, &read("blob.sigstore.json"), &k).unwrap();
    assert_eq!(sigstore.kind, BundleKind::MessageSignature);
    assert!(verify_blob_bundle(&blob, &read("blob.sigstore.json"), &key("other.pub")).is_err());
    let e = verify_blob_bundle(b"another blob", &read("blob.sigstore.json"), &k).unwrap_err();
    assert!(matches!(e, SignError::DigestMismatch { .. }), "{e}");

    let att = verify_blob_bundle(&blob, &read("blob.att.sigstore.json"), &k).unwrap();
    assert_eq!(att.kind, BundleKind::DsseEnvelope);
    assert_eq!(att.statement.unwrap().predicate_type, COSIGN_CUSTOM_V1);

    let e = verify_blob_bundle(&blob, br#"{"mediaType":"text/plain"}"#, &k).unwrap_err();
    assert!(e.to_string().contains("/mediaType"), "{e}");
}

#[test]
fn attest_blob_envelope_with_statement_v01() {
    let blob = read("blob");
    let k = key("cosign.pub");
    let statement = verify_attestation(&read("blob.att.json"), &blob, &k).unwrap();
    assert_eq!(statement.type_, STATEMENT_V01);
    assert_eq!(statement.predicate["Data"], "hello from attest-blob\n");
    let e = verify_attestation(&read("blob.att.json"), b"other blob", &k).unwrap_err();
    assert!(matches!(e, SignError::DigestMismatch { .. }), "{e}");
    assert!(matches!(
        verify_attestation(&read("blob.att.json"), &blob, &key("other.pub")),
        Err(SignError::NoValidSignature { .. })
    ));
    // Tampered statement: the predicate changed after signing.
    let mut env: serde_json::Value = serde_json::from_slice(&read("blob.att.json")).unwrap();
    let payload =
        plaza_supply::sign::dsse::decode_base64("t", "", env["payload"].as_str().unwrap()).unwrap();
    let changed = String::from_utf8(payload)
        .unwrap()
        .replace("hello", "HELLO");
    env["payload"] = plaza_supply::sign::dsse::encode_base64(changed.as_bytes()).into();
    assert!(verify_attestation(env.to_string().as_bytes(), &blob, &k).is_err());
}

fn fetch(digest: &str) -> Result<Vec<u8>, String> {
    fs::read(dir().join("blobs").join(digest.replace(':', "-"))).map_err(|e| e.to_string())
}

#[test]
fn image_signatures_by_tag_and_by_referrer() {
    let digest = String::from_utf8(read("image.digest")).unwrap();
    let k = key("cosign.pub");
    assert_eq!(
        signature_tag(&digest).unwrap(),
        format!("sha256-{}.sig", &digest[7..])
    );
    for manifest in ["image.sig.manifest.json", "image.referrer.manifest.json"] {
        let v = verify_cosign_image_signature(&read(manifest), fetch, &digest, &k).unwrap();
        assert_eq!(v.layer_index, 0);
        assert_eq!(
            v.docker_reference.as_deref(),
            Some("registry.plaza.test/acme/app")
        );
        // Another key, another image, a registry serving other bytes, a missing blob.
        let e = verify_cosign_image_signature(&read(manifest), fetch, &digest, &key("other.pub"))
            .unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        let other_image = format!("sha256:{}", "0".repeat(64));
        let e =
            verify_cosign_image_signature(&read(manifest), fetch, &other_image, &k).unwrap_err();
        assert!(e.to_string().contains("is for image"), "{e}");
        let e = verify_cosign_image_signature(
            &read(manifest),
            |_: &str| Ok::<_, String>(b"{}".to_vec()),
            &digest,
            &k,
        )
        .unwrap_err();
        assert!(e.to_string().contains("another digest"), "{e}");
        let e = verify_cosign_image_signature(
            &read(manifest),
            |_: &str| Err::<Vec<u8>, _>("404 blob unknown"),
            &digest,
            &k,
        )
        .unwrap_err();
        assert!(e.to_string().contains("404 blob unknown"), "{e}");
    }
    let e =
        verify_cosign_image_signature(b"{\"schemaVersion\":2}", fetch, &digest, &k).unwrap_err();
    assert!(e.to_string().contains("/layers"), "{e}");
}
