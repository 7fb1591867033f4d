//! DSSE interop with securesystemslib (PyPI), both directions, Ed25519 and ECDSA P-256, through
//! `tests/interop/sslib_dsse.py`. The interpreter comes from `scripts/ensure-securesystemslib`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use plaza_supply::sign::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use plaza_supply::sign::intoto::{artifact_signature_statement, sha256_hex, Statement};
use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey, PublicKey};
use plaza_supply::sign::slsa::provenance::{
    local_build_provenance, LocalBuild, PLAZA_LOCAL_BUILDER_ID,
};
use plaza_supply::sign::slsa::vsa::{vsa_statement, Reference, VerificationResult, VsaInput};

const INSTALL: &str = "scripts/ensure-securesystemslib";

/// The venv python with securesystemslib: `PLAZA_SECURESYSTEMSLIB_PYTHON`, then the venv the
/// installer makes, then `python3` on PATH. Panics naming the installer when none has it.
fn python() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("PLAZA_SECURESYSTEMSLIB_PYTHON") {
        candidates.push(p.into());
    }
    let venv = std::env::var_os("PLAZA_SECURESYSTEMSLIB_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/plaza/securesystemslib-venv"))
        });
    if let Some(v) = venv {
        candidates.push(v.join("bin/python"));
    }
    candidates.push("python3".into());
    let mut tried = Vec::new();
    for c in candidates {
        match Command::new(&c)
            .args([
                "-c",
                "import securesystemslib.signer, securesystemslib.dsse",
            ])
            .output()
        {
            Ok(o) if o.status.success() => return c,
            Ok(o) => tried.push(format!("{}: exit {}", c.display(), o.status)),
            Err(e) => tried.push(format!("{}: {e}", c.display())),
        }
    }
    panic!(
        "securesystemslib / in-toto-attestation are not installed (tried {}). Run `{INSTALL}` (CI runs it from scripts/test); this test never skips.",
        tried.join("; ")
    )
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sslib_dsse.py")
}

fn run(args: &[&str]) -> Output {
    Command::new(python())
        .arg(script())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn securesystemslib_envelopes_verify_in_plaza() {
    for alg in ["ed25519", "ecdsa"] {
        let dir = tempfile::tempdir().unwrap();
        let statement = artifact_signature_statement("app.wasm", b"artifact bytes");
        let payload = dir.path().join("statement.json");
        std::fs::write(&payload, statement.to_json()).unwrap();
        let out = run(&["sign", alg, p(dir.path()), p(&payload)]);
        assert!(out.status.success(), "{alg}: {}", text(&out));
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        let public = PublicKey::from_pem(&read("key.pub")).unwrap();
        let env = Envelope::from_json(read("envelope.json").as_bytes()).unwrap();
        let v = env.verify(std::slice::from_ref(&public)).unwrap();
        // securesystemslib's keyid convention, computed by Plaza.
        assert_eq!(v.keyid, read("keyid"), "{alg}");
        assert_eq!(
            public.securesystemslib_keyid().unwrap(),
            read("keyid"),
            "{alg}"
        );
        let got = Statement::from_envelope(&env).unwrap();
        got.check_subject(&sha256_hex(b"artifact bytes")).unwrap();
        // Plaza reads the PKCS#8 private key securesystemslib wrote.
        let private = PrivateKey::from_pem(&read("key.pem"), None).unwrap();
        assert_eq!(private.public_key(), public);
        let encrypted = read("key.enc.pem");
        assert!(
            encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{encrypted}"
        );
        assert_eq!(
            PrivateKey::from_pem(&encrypted, Some("sslib-pass"))
                .unwrap()
                .public_key(),
            public
        );
        let e = PrivateKey::from_pem(&encrypted, Some("wrong")).unwrap_err();
        assert!(
            matches!(e, plaza_supply::sign::SignError::WrongPassphrase),
            "{alg}: {e}"
        );
        // Tampering is caught.
        let mut tampered = env.clone();
        tampered.payload.push(b' ');
        assert!(tampered.verify(&[public]).is_err(), "{alg}");
    }
}

#[test]
fn plaza_envelopes_verify_in_securesystemslib() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate(alg, None).unwrap();
        let key = PrivateKey::from_pem(&pair.private_pem, None).unwrap();
        let public = key.public_key();
        let pub_path = dir.path().join("key.pub");
        std::fs::write(&pub_path, &pair.public_pem).unwrap();
        let statement = artifact_signature_statement("app.wasm", b"artifact bytes");

        // Signed under securesystemslib's keyid: its default verifier accepts it as is.
        let mut env = Envelope {
            payload_type: INTOTO_PAYLOAD_TYPE.into(),
            payload: statement.to_json(),
            signatures: vec![],
        };
        env.add_signature(&key, public.securesystemslib_keyid().unwrap());
        let env_path = dir.path().join("sslib-keyid.json");
        std::fs::write(&env_path, env.to_json()).unwrap();
        let out = run(&["verify", p(&pub_path), p(&env_path)]);
        assert!(out.status.success(), "{alg}: {}", text(&out));
        let report = text(&out);
        assert!(
            report.contains(&format!(
                "verified {}",
                public.securesystemslib_keyid().unwrap()
            )),
            "{report}"
        );
        assert!(
            report.contains(&format!(
                "payload-sha256 {}",
                sha256_hex(&statement.to_json())
            )),
            "{report}"
        );

        // Plaza's default keyid, agreed out of band.
        let env = statement.sign(&key);
        let env_path = dir.path().join("plaza-keyid.json");
        std::fs::write(&env_path, env.to_json()).unwrap();
        let out = run(&["verify", p(&pub_path), p(&env_path), &pair.key_id]);
        assert!(out.status.success(), "{alg}: {}", text(&out));

        // A tampered envelope fails in securesystemslib too.
        let mut tampered = env.clone();
        tampered.payload = artifact_signature_statement("app.wasm", b"other bytes").to_json();
        let bad_path = dir.path().join("tampered.json");
        std::fs::write(&bad_path, tampered.to_json()).unwrap();
        let out = run(&["verify", p(&pub_path), p(&bad_path), &pair.key_id]);
        assert!(
            !out.status.success(),
            "{alg}: tampered envelope verified: {}",
            text(&out)
        );
        assert!(text(&out).contains("not verified"), "{}", text(&out));
    }
}

#[test]
fn plaza_private_keys_load_in_pyca_cryptography() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate(alg, None).unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, &pair.private_pem).unwrap();
        let out = run(&["load-private", p(&path)]);
        assert!(out.status.success(), "{alg}: {}", text(&out));
        let public = PublicKey::from_pem(&pair.public_pem).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            public.securesystemslib_keyid().unwrap()
        );
        // Passphrase-encrypted (PBES2, scrypt, AES-256-CBC) too.
        let encrypted = PrivateKey::from_pem(&pair.private_pem, None)
            .unwrap()
            .to_pem(Some("pässwörd"))
            .unwrap();
        let enc_path = dir.path().join("key.enc.pem");
        std::fs::write(&enc_path, &encrypted).unwrap();
        let out = run(&["load-private", p(&enc_path), "pässwörd"]);
        assert!(out.status.success(), "{alg}: {}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            public.securesystemslib_keyid().unwrap()
        );
        let out = run(&["load-private", p(&enc_path), "wrong"]);
        assert!(
            !out.status.success(),
            "{alg}: a wrong passphrase decrypted the key"
        );
    }
}

#[test]
fn plaza_statements_pass_the_in_toto_reference_bindings() {
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let digest = sha256_hex(b"artifact bytes");
    let provenance = local_build_provenance(&LocalBuild {
        artifact_name: "app.wasm".into(),
        artifact_sha256: digest.clone(),
        repository: "https://github.com/acme/app".into(),
        git_ref: "refs/heads/main".into(),
        commit: Some("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d".into()),
        command: Some("cargo component build --release".into()),
        manifest: Some("plaza.yaml".into()),
        builder_id: PLAZA_LOCAL_BUILDER_ID.into(),
        internal_parameters: Some(serde_json::json!({"rustc": "1.90.0"})),
        invocation_id: "local-1".into(),
        started_on: t("2026-05-01T10:00:00Z"),
        finished_on: t("2026-05-01T10:03:00Z"),
    });
    let vsa = vsa_statement(&VsaInput {
        artifact_name: "app.wasm".into(),
        artifact_sha256: digest.clone(),
        verifier_id: "https://plaza.test".into(),
        time_verified: t("2026-05-01T12:00:00Z"),
        resource_uri: "oci://registry.plaza.test/acme/app".into(),
        policy: Reference {
            uri: "https://plaza.test/policies/default".into(),
            digest: [("sha256".to_owned(), sha256_hex(b"policy"))].into(),
        },
        input_attestations: vec![Reference {
            uri: "oci://registry.plaza.test/acme/app@sha256:00".into(),
            digest: [("sha256".to_owned(), sha256_hex(b"provenance"))].into(),
        }],
        result: VerificationResult::Passed,
        slsa_build_level: 2,
    });
    let market = PrivateKey::from_pem(
        &generate(Algorithm::Ed25519, None).unwrap().private_pem,
        None,
    )
    .unwrap();
    let stamp =
        plaza_supply::sign::trust::issue_timestamp(b"sig", t("2026-05-01T12:00:00Z"), &market);
    let statements = [
        (
            "signature.json",
            artifact_signature_statement("app.wasm", b"artifact bytes").to_json(),
        ),
        ("provenance.json", provenance.to_json()),
        ("vsa.json", vsa.to_json()),
        ("timestamp.json", stamp.payload.clone()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = statements
        .iter()
        .map(|(name, json)| {
            let path = dir.path().join(name);
            std::fs::write(&path, json).unwrap();
            path
        })
        .collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let out = intoto_check(&refs);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ok "))
            .count(),
        4,
        "{}",
        text(&out)
    );

    // The checker is strict: a misspelt provenance field fails.
    let misspelt = String::from_utf8(provenance.to_json())
        .unwrap()
        .replace("\"resolvedDependencies\"", "\"resolvedDependency\"");
    let bad = dir.path().join("misspelt.json");
    std::fs::write(&bad, misspelt).unwrap();
    let out = intoto_check(&[bad.as_path()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("resolvedDependency"), "{}", text(&out));
}

/// Runs `tests/interop/intoto_check.py` (in-toto-attestation's strict parsers) on `files`.
fn intoto_check(files: &[&Path]) -> Output {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/intoto_check.py");
    Command::new(python())
        .arg(script)
        .args(files)
        .output()
        .unwrap()
}
