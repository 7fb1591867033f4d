//! `plaza push` and `plaza pull` against a real `plaza serve --demo`: an app folder pushed with
//! its SBOM and provenance as referrers and registered, pulled back into a layout skopeo reads,
//! published tags kept immutable, digests verified, and a container image pushed with skopeo
//! turned into an app version.

use crate::serve::{start_demo, start_demo_with, stop, DEMO_TOKEN};
use crate::support::{plaza, text};
use std::path::Path;
use std::process::Output;

const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn cli(args: &[&str], cwd: &Path, base: &str) -> Output {
    plaza()
        .args(args)
        .env("PLAZA_SERVER", base)
        .env("PLAZA_TOKEN", DEMO_TOKEN)
        .env("XDG_CONFIG_HOME", cwd.join("config"))
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// The seed manifest under another id, so the demo has not registered it yet.
fn write_app(dir: &Path, id: &str) {
    let seed = std::fs::read_to_string(crate::support::SEED_MANIFEST).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("micro-app.yaml"),
        seed.replace("com.example.where2eat", id),
    )
    .unwrap();
    std::fs::write(dir.join("app.wasm"), COMPONENT).unwrap();
}

#[test]
fn an_app_folder_is_pushed_with_referrers_registered_and_pulled_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let app = dir.path().join("app");
    write_app(&app, "com.example.pushed");
    std::fs::write(
        dir.path().join("sbom.json"),
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("provenance.json"),
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("not-an-sbom.json"), r#"{"hello": 1}"#).unwrap();

    // A bad attachment is refused before anything is uploaded.
    let out = cli(
        &["push", "app", "--sbom", "not-an-sbom.json"],
        dir.path(),
        &base,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("neither CycloneDX"),
        "{}",
        text(&out.stderr)
    );

    let out = cli(
        &[
            "push",
            "app",
            "--sbom",
            "sbom.json",
            "--provenance",
            "provenance.json",
        ],
        dir.path(),
        &base,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("pushed demo/com.example.pushed:1.2.0 as sha256:"),
        "{stdout}"
    );
    for what in [
        "attached the Plaza manifest",
        "attached the SBOM",
        "attached the provenance",
        "registered com.example.pushed 1.2.0",
    ] {
        assert!(stdout.contains(what), "{what}: {stdout}");
    }

    // Pulled back: a layout skopeo reads, the component byte for byte, the referrers listed.
    let out = cli(
        &["pull", "com.example.pushed:1.2.0", "-o", "pulled"],
        dir.path(),
        &base,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for artifact_type in [
        "application/vnd.plaza.manifest.v1+json",
        "application/vnd.cyclonedx+json",
        "application/vnd.in-toto+json",
    ] {
        assert!(stdout.contains(artifact_type), "{artifact_type}: {stdout}");
    }
    let layer = plaza_registry::Digest::sha256_of(COMPONENT);
    assert_eq!(
        std::fs::read(dir.path().join("pulled/blobs/sha256").join(layer.hex())).unwrap(),
        COMPONENT
    );
    let layout = format!("oci:{}:1.2.0", dir.path().join("pulled").display());
    let inspect = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", &layout])
        .output()
        .unwrap();
    assert!(inspect.status.success(), "{}", text(&inspect.stderr));
    let manifest: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(manifest["layers"][0]["digest"], layer.to_string());

    // By digest: verified; a digest that is not there is an error.
    let digest = stdout
        .split_whitespace()
        .find(|w| w.starts_with("demo/com.example.pushed@"))
        .and_then(|w| w.split_once('@'))
        .map(|(_, d)| d.to_owned())
        .unwrap();
    let out = cli(
        &[
            "pull",
            &format!("com.example.pushed@{digest}"),
            "-o",
            "by-digest",
        ],
        dir.path(),
        &base,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let missing = format!("com.example.pushed@sha256:{}", "0".repeat(64));
    let out = cli(&["pull", &missing], dir.path(), &base);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not in the registry"),
        "{}",
        text(&out.stderr)
    );

    // The version is published: another component under the same tag is refused.
    // The same empty component with a custom section `note`: other bytes, still valid.
    std::fs::write(
        app.join("app.wasm"),
        b"\0asm\x0d\x00\x01\x00\x00\x05\x04note",
    )
    .unwrap();
    let out = cli(&["push", "app"], dir.path(), &base);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("published app version"),
        "{}",
        text(&out.stderr)
    );
    stop(&mut child);
}

#[test]
fn a_container_image_pushed_with_skopeo_becomes_an_app_version() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    // Any image will do; a layout from `plaza package` is at hand.
    write_app(&dir.path().join("src"), "com.example.container");
    let out = cli(&["package", "src", "-o", "image"], dir.path(), &base);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let host = base.trim_start_matches("http://");
    let creds = format!("ci:{DEMO_TOKEN}");
    let copy = std::process::Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &format!("oci:{}:1.2.0", dir.path().join("image").display()),
            &format!("docker://{host}/demo/com.example.container:1.2.0"),
        ])
        .output()
        .unwrap();
    assert!(copy.status.success(), "{}", text(&copy.stderr));

    let out = cli(
        &["push", "--manifest", "src/micro-app.yaml"],
        dir.path(),
        &base,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("found demo/com.example.container:1.2.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("registered com.example.container 1.2.0"),
        "{stdout}"
    );

    // Nothing at the version's tag: a clear error, nothing registered.
    write_app(&dir.path().join("other"), "com.example.nothing");
    let out = cli(
        &["push", "--manifest", "other/micro-app.yaml"],
        dir.path(),
        &base,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not in the registry; push the image first"),
        "{}",
        text(&out.stderr)
    );
    stop(&mut child);
}

/// With `blob_storage = "s3://…"` the registry keeps its blobs in an S3-compatible bucket (moto, a
/// fake of S3 for tests, started by scripts/ensure-s3): a push and a pull go through it.
#[test]
fn the_registry_keeps_blobs_in_an_s3_bucket_when_configured() {
    let endpoint = std::env::var("PLAZA_TEST_S3_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:9300".to_owned());
    let bucket = format!("plaza-cli-{}", std::process::id());
    let created = std::process::Command::new("curl")
        .args(["-fsS", "-X", "PUT", &format!("{endpoint}/{bucket}")])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "the S3 test server is not reachable at {endpoint}; start it with scripts/ensure-s3"
    );
    let dir = tempfile::tempdir().unwrap();
    let location = format!("s3://{bucket}/registry");
    let (mut child, base, _) = start_demo_with(
        dir.path(),
        &[
            ("PLAZA_BLOB_STORAGE", &location),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    write_app(&dir.path().join("app"), "com.example.s3");
    let out = cli(&["push", "app"], dir.path(), &base);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = cli(
        &["pull", "com.example.s3:1.2.0", "-o", "pulled"],
        dir.path(),
        &base,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let layer = plaza_registry::Digest::sha256_of(COMPONENT);
    assert_eq!(
        std::fs::read(dir.path().join("pulled/blobs/sha256").join(layer.hex())).unwrap(),
        COMPONENT
    );
    stop(&mut child);
    // The blobs are in the bucket, not on disk.
    assert!(!dir.path().join("data/registry/blobs").exists());
    let listing = std::process::Command::new("curl")
        .args([
            "-fsS",
            &format!("{endpoint}/{bucket}?prefix=registry/blobs/"),
        ])
        .output()
        .unwrap();
    assert!(
        text(&listing.stdout).contains(layer.hex()),
        "{}",
        text(&listing.stdout)
    );
}

/// Signs `image` the way `cosign sign --key` does (a simple-signing payload, ECDSA P-256 over
/// SHA-256, DER, base64 in the layer annotation) and pushes the signature manifest under
/// cosign's tag; writes the public key to `dir/cosign.pub`.
fn push_cosign_signature(base: &str, repo: &str, image: &str, dir: &Path) {
    use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey};
    use sha2::Digest as _;
    let pair = generate(Algorithm::EcdsaP256, None).unwrap();
    std::fs::write(dir.join("cosign.pub"), &pair.public_pem).unwrap();
    let key = PrivateKey::from_pem(&pair.private_pem, None).unwrap();
    let host = base.trim_start_matches("http://");
    let payload = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": format!("{host}/{repo}")},
            "image": {"docker-manifest-digest": image},
            "type": "cosign container image signature",
        },
        "optional": null,
    })
    .to_string()
    .into_bytes();
    let signature = plaza_supply::sign::dsse::encode_base64(&key.sign(&payload));
    let digest = |b: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)));
    let config = b"{}".to_vec();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": digest(&payload), "size": payload.len(),
            "annotations": {"dev.cosignproject.cosign/signature": signature},
        }],
    })
    .to_string()
    .into_bytes();
    let tag = format!("{}.sig", image.replace(':', "-"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        for blob in [&config, &payload] {
            let r = client
                .post(format!(
                    "{base}/v2/{repo}/blobs/uploads/?digest={}",
                    digest(blob)
                ))
                .basic_auth("plaza", Some(DEMO_TOKEN))
                .body(blob.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
        }
        let r = client
            .put(format!("{base}/v2/{repo}/manifests/{tag}"))
            .basic_auth("plaza", Some(DEMO_TOKEN))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    });
}

/// The marketplace's VSA referrer of `image` in `repo`, through the OCI referrers API.
fn fetch_vsa(base: &str, repo: &str, image: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let get = |path: String| {
            client
                .get(format!("{base}/v2/{repo}/{path}"))
                .basic_auth("plaza", Some(DEMO_TOKEN))
                .header(
                    "accept",
                    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
                )
                .send()
        };
        let index: serde_json::Value = get(format!(
            "referrers/{image}?artifactType=application/vnd.plaza.verification-summary.v1%2Bjson"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let manifests = index["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1, "one countersignature: {index}");
        let digest = manifests[0]["digest"].as_str().unwrap();
        let manifest: serde_json::Value = get(format!("manifests/{digest}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let layer = manifest["layers"][0]["digest"].as_str().unwrap();
        get(format!("blobs/{layer}"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    })
}

/// A JSON call to the demo server as its admin.
fn api(
    method: reqwest::Method,
    base: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .request(method, format!("{base}{path}"))
            .bearer_auth(DEMO_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    })
}

#[test]
fn a_signed_app_passes_the_supply_gate_in_enforce_mode_and_a_key_revocation_blocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let (status, _) = api(
        reqwest::Method::PUT,
        &base,
        "/api/orgs/demo/policy-mode",
        Some(serde_json::json!({"mode": "enforce"})),
    );
    assert_eq!(status, 200);
    let app = dir.path().join("app");
    write_app(&app, "com.example.signed");
    let manifest = std::fs::read_to_string(app.join("micro-app.yaml")).unwrap();
    std::fs::write(
        app.join("micro-app.yaml"),
        format!("{manifest}repository: https://github.com/example/signed\nlicense: Apache-2.0\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sbom.json"),
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
            {"type":"library","bom-ref":"serde","name":"serde","version":"1.0.200","purl":"pkg:cargo/serde@1.0.200"}]}"#,
    )
    .unwrap();

    // Unsigned, with no provenance: denied, the rules named.
    let out = cli(&["push", "app", "--sbom", "sbom.json"], dir.path(), &base);
    assert_ne!(out.status.code(), Some(0));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("plaza.provenance.min-level"), "{said}");

    // The governed path: a key registered for the manifest's publisher, the component signed,
    // signed provenance, the SBOM; pushed together.
    let run = |args: &[&str]| {
        let out = cli(args, dir.path(), &base);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    };
    run(&["keygen", "--output", "publisher"]);
    run(&[
        "keys",
        "register",
        "--publisher",
        "did:example:maintainer",
        "--public-key",
        "publisher.pub",
    ]);
    run(&[
        "sign",
        "--artifact",
        "app/app.wasm",
        "--key",
        "publisher.key",
    ]);
    run(&[
        "attest",
        "--provenance",
        "--artifact",
        "app/app.wasm",
        "--key",
        "publisher.key",
        "--repository",
        "https://github.com/example/signed",
        "--ref",
        "refs/heads/main",
        "--commit",
        "0123456789abcdef0123456789abcdef01234567",
    ]);
    let verified = run(&[
        "verify",
        "--artifact",
        "app/app.wasm",
        "--publisher",
        "did:example:maintainer",
    ]);
    assert!(text(&verified.stdout).starts_with("verified:"));
    // The tag 1.2.0 was pushed by the denied attempt; push again under the same tag with the
    // same component (the tag is not published, so it may be re-pushed).
    let out = run(&[
        "push",
        "app",
        "--sbom",
        "sbom.json",
        "--signature",
        "app/app.wasm.dsse.json",
        "--provenance",
        "app/app.wasm.provenance.dsse.json",
    ]);
    assert!(
        text(&out.stdout).contains("registered com.example.signed 1.2.0"),
        "{}",
        text(&out.stdout)
    );
    // It passed, so the marketplace countersigned it: a SLSA VSA attached to the image as a
    // referrer, verifiable offline with the marketplace's published keys.
    let image = text(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap()
        .trim_end_matches([',', '.', ')'])
        .to_owned();
    let vsa = fetch_vsa(&base, "demo/com.example.signed", &image);
    let (_, market) = api(reqwest::Method::GET, &base, "/api/marketplace-keys", None);
    let keys: Vec<plaza_supply::sign::keys::PublicKey> = market
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            plaza_supply::sign::keys::PublicKey::from_pem(k["publicKey"].as_str().unwrap()).unwrap()
        })
        .collect();
    let component = std::fs::read(app.join("app.wasm")).unwrap();
    let verified = plaza_supply::sign::slsa::vsa::verify_vsa(
        &vsa,
        &plaza_supply::sign::intoto::sha256_hex(&component),
        &keys,
    )
    .unwrap();
    assert_eq!(verified.slsa_build_level, 1);
    // An image is also signed and verified by reference: its manifest digest is the subject.
    run(&[
        "sign",
        "--artifact",
        "demo/com.example.signed:1.2.0",
        "--key",
        "publisher.key",
        "-o",
        "image.dsse.json",
    ]);
    let by_ref = run(&[
        "verify",
        "--artifact",
        "demo/com.example.signed:1.2.0",
        "--key",
        "publisher.pub",
        "--signature",
        "image.dsse.json",
    ]);
    assert!(
        text(&by_ref.stdout).contains(&format!("demo/com.example.signed@{image}")),
        "{}",
        text(&by_ref.stdout)
    );
    // A cosign image signature (simple signing payload, ECDSA P-256, under cosign's
    // `sha256-<hex>.sig` tag) verifies from the registry with the cosign public key.
    let without = cli(
        &[
            "verify",
            "--artifact",
            "demo/com.example.signed:1.2.0",
            "--key",
            "publisher.pub",
        ],
        dir.path(),
        &base,
    );
    assert_eq!(without.status.code(), Some(1), "no cosign signature yet");
    push_cosign_signature(&base, "demo/com.example.signed", &image, dir.path());
    let cosigned = run(&[
        "verify",
        "--artifact",
        "demo/com.example.signed:1.2.0",
        "--key",
        "cosign.pub",
    ]);
    assert!(
        text(&cosigned.stdout).contains("has a cosign signature"),
        "{}",
        text(&cosigned.stdout)
    );
    let wrong = cli(
        &[
            "verify",
            "--artifact",
            "demo/com.example.signed:1.2.0",
            "--key",
            "publisher.pub",
        ],
        dir.path(),
        &base,
    );
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "another key does not verify it"
    );

    let path = "/api/orgs/demo/apps/com.example.signed/versions/1.2.0/scans";
    let (status, scans) = api(reqwest::Method::GET, &base, path, None);
    assert_eq!(status, 200, "{scans}");
    // Two submissions were scanned (the denied one is kept in the history): the newest is the
    // registered one.
    let submitted = scans["scans"].as_array().unwrap().len();
    assert_eq!(submitted, 2, "{scans}");
    let newest = &scans["scans"][submitted - 1];
    assert_eq!(
        scans["scans"][0]["report"]["signature"]["status"],
        "missing"
    );
    let report = &newest["report"];
    assert_eq!(newest["cause"], "submission");
    assert_eq!(report["signature"]["status"], "verified", "{report}");
    assert_eq!(
        report["provenance"]["slsaLevel"], 1,
        "an untrusted builder earns level 1: {report}"
    );
    assert_eq!(report["sbom"]["present"], true, "{report}");
    assert_eq!(
        report["sbom"]["bound"], true,
        "bound as a referrer: {report}"
    );
    let first_score = newest["score"].as_i64().unwrap();

    // The publisher's key is revoked: the background re-scan finds the signature no longer
    // verifies, scores it lower, blocks new installs and notifies the publisher (alice).
    let key_id = report["signature"]["keyId"].as_str().unwrap().to_owned();
    let (_, keys) = api(
        reqwest::Method::GET,
        &base,
        "/api/orgs/demo/publishers/did:example:maintainer/keys",
        None,
    );
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["keyId"] == key_id.as_str()),
        "the verifying key is the one registered: {keys}"
    );
    run(&["keys", "revoke", &key_id, "--reason", "test: key leaked"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let scans = loop {
        let (_, scans) = api(reqwest::Method::GET, &base, path, None);
        if scans["scans"]
            .as_array()
            .is_some_and(|s| s.len() > submitted)
        {
            break scans;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no re-scan within 30 s: {scans}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let rescan = &scans["scans"][submitted];
    assert_eq!(rescan["cause"], "key-revoked");
    assert_eq!(
        rescan["report"]["signature"]["status"], "invalid",
        "{rescan}"
    );
    assert!(rescan["score"].as_i64().unwrap() < first_score);
    assert!(scans["block"]["reason"].is_string(), "{scans}");
    // The publisher (who pushed and registered it: the demo admin) is told.
    let (_, notes) = api(reqwest::Method::GET, &base, "/api/notifications", None);
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["recipientKind"] == "user"
                && n["body"].to_string().contains("com.example.signed")),
        "{notes}"
    );
    let (status, refused) = api(
        reqwest::Method::POST,
        &base,
        "/api/installs",
        Some(
            serde_json::json!({"appId": "com.example.signed", "version": "1.2.0", "team": "payments"}),
        ),
    );
    assert_eq!(status, 403, "{refused}");
    stop(&mut child);
}
