//! Keys written by OpenSSL, wrong key types, and artifact signatures end to end.

use std::fs;
use std::path::PathBuf;

use plaza_supply::sign::artifact::{sign_artifact, verify_artifact, verify_artifact_trusted};
use plaza_supply::sign::dsse::Envelope;
use plaza_supply::sign::intoto::{artifact_signature_statement, sha256_hex, Statement};
use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey, PublicKey};
use plaza_supply::sign::trust::TrustedKey;
use plaza_supply::sign::SignError;

fn read(name: &str) -> String {
    fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/keys")
            .join(name),
    )
    .unwrap()
}

#[test]
fn openssl_keys_load_and_match_their_public_keys() {
    for (private, pass, public, alg) in [
        (
            "ed25519-openssl.key",
            None,
            "ed25519-openssl.pub",
            Algorithm::Ed25519,
        ),
        (
            "ed25519-scrypt.key",
            Some("openssl-pass"),
            "ed25519-openssl.pub",
            Algorithm::Ed25519,
        ),
        ("p256-sec1.key", None, "p256-sec1.pub", Algorithm::EcdsaP256),
        (
            "p256-pbkdf2.key",
            Some("openssl-pass"),
            "p256-sec1.pub",
            Algorithm::EcdsaP256,
        ),
    ] {
        let key =
            PrivateKey::from_pem(&read(private), pass).unwrap_or_else(|e| panic!("{private}: {e}"));
        let pubkey = PublicKey::from_pem(&read(public)).unwrap();
        assert_eq!(key.public_key(), pubkey, "{private}");
        assert_eq!(key.algorithm(), alg);
        // The key id is the sha256 of the DER inside the public PEM.
        let der_b64: String = read(public)
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = plaza_supply::sign::dsse::decode_base64("t", "", &der_b64).unwrap();
        assert_eq!(pubkey.key_id(), sha256_hex(&der));
        assert!(pubkey.verifies(b"m", &key.sign(b"m")));
    }
}

#[test]
fn encrypted_openssl_keys_need_the_right_passphrase() {
    for name in ["ed25519-scrypt.key", "p256-pbkdf2.key"] {
        assert!(
            matches!(
                PrivateKey::from_pem(&read(name), None),
                Err(SignError::PassphraseRequired)
            ),
            "{name}"
        );
        let e = PrivateKey::from_pem(&read(name), Some("wrong")).unwrap_err();
        assert!(matches!(e, SignError::WrongPassphrase), "{name}: {e}");
        assert!(e.to_string().contains("passphrase does not decrypt"), "{e}");
    }
}

#[test]
fn wrong_key_types_are_named() {
    let e = PublicKey::from_pem(&read("rsa.pub")).unwrap_err();
    assert!(
        matches!(e, SignError::UnsupportedKey { .. }) && e.to_string().contains("RSA"),
        "{e}"
    );
    let e = PrivateKey::from_pem(&read("x25519.key"), None).unwrap_err();
    assert!(e.to_string().contains("X25519"), "{e}");
    let e = PublicKey::from_pem(&read("p384.pub")).unwrap_err();
    assert!(e.to_string().contains("not on P-256"), "{e}");
    let e = PrivateKey::from_pem(&read("p384-sec1.key"), None).unwrap_err();
    assert!(e.to_string().contains("P-256"), "{e}");
    assert!(e.to_string().contains("plaza keygen"), "{e}");
}

fn key(alg: Algorithm) -> PrivateKey {
    PrivateKey::from_pem(&generate(alg, None).unwrap().private_pem, None).unwrap()
}

#[test]
fn sign_and_verify_an_artifact() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
        let k = key(alg);
        let json = sign_artifact("app.wasm", b"component", &k).to_json();
        let v = verify_artifact(json.as_bytes(), b"component", &[k.public_key()]).unwrap();
        assert_eq!(v.key_id, k.public_key().key_id());
        assert_eq!(v.statement.subject[0].name, "app.wasm");

        // Another artifact: the signature is over the wrong digest.
        let e = verify_artifact(json.as_bytes(), b"component!", &[k.public_key()]).unwrap_err();
        assert!(matches!(e, SignError::DigestMismatch { .. }), "{e}");
        assert!(e.to_string().contains(&sha256_hex(b"component!")), "{e}");
        // A key of the other algorithm: no signature verifies.
        let other = key(if alg == Algorithm::Ed25519 {
            Algorithm::EcdsaP256
        } else {
            Algorithm::Ed25519
        });
        let e = verify_artifact(json.as_bytes(), b"component", &[other.public_key()]).unwrap_err();
        assert!(matches!(e, SignError::NoValidSignature { .. }), "{e}");
    }
}

#[test]
fn statements_plaza_refuses_even_when_signed() {
    let k = key(Algorithm::Ed25519);
    let mut two = artifact_signature_statement("a.wasm", b"a");
    two.subject.push(
        artifact_signature_statement("b.wasm", b"b")
            .subject
            .remove(0),
    );
    let e =
        verify_artifact(two.sign(&k).to_json().as_bytes(), b"a", &[k.public_key()]).unwrap_err();
    assert!(matches!(e, SignError::SubjectCount { count: 2 }), "{e}");
    let unknown = Statement::v1(
        "a.wasm",
        &sha256_hex(b"a"),
        "https://example.com/mystery/v1",
        serde_json::json!({}),
    );
    let e = verify_artifact(
        unknown.sign(&k).to_json().as_bytes(),
        b"a",
        &[k.public_key()],
    )
    .unwrap_err();
    assert!(matches!(e, SignError::UnknownPredicateType { .. }), "{e}");
    let not_intoto = Envelope::sign("text/plain", b"hello".to_vec(), &k);
    let e = verify_artifact(not_intoto.to_json().as_bytes(), b"a", &[k.public_key()]).unwrap_err();
    assert!(matches!(e, SignError::PayloadType { .. }), "{e}");
}

#[test]
fn trusted_verification_applies_windows() {
    let k = key(Algorithm::EcdsaP256);
    let json = sign_artifact("app.wasm", b"component", &k).to_json();
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let registered = [TrustedKey {
        key: k.public_key(),
        owner: "acme".into(),
        valid_from: t("2026-01-01T00:00:00Z"),
        valid_until: Some(t("2027-01-01T00:00:00Z")),
        revoked_at: None,
    }];
    verify_artifact_trusted(
        json.as_bytes(),
        b"component",
        &registered,
        &[],
        &[],
        t("2026-06-01T00:00:00Z"),
    )
    .unwrap();
    let e = verify_artifact_trusted(
        json.as_bytes(),
        b"component",
        &registered,
        &[],
        &[],
        t("2027-06-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("expired at 2027-01-01T00:00:00Z"),
        "{e}"
    );
}
