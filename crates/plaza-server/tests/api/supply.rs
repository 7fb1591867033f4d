//! Publisher keys over the API (register, rotate with a grace period, revoke, all audited), the
//! marketplace's keys and signed timestamps, and the rule they serve: after a revocation, a
//! signature stays valid only when a marketplace timestamp proves it was made earlier.

use crate::support::{assert_problem, TestApp};
use axum::http::Method;
use chrono::{Duration, TimeZone, Utc};
use plaza_supply::sign::artifact::{sign_artifact, verify_artifact_trusted};
use plaza_supply::sign::dsse::Envelope;
use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey, PublicKey};
use plaza_supply::sign::trust::TrustedKey;
use serde_json::json;
use std::sync::Arc;

const PUBLISHER: &str = "did:example:maintainer";
const KEYS: &str = "/api/orgs/acme/publishers/did:example:maintainer/keys";

fn keypair(alg: Algorithm) -> (PrivateKey, String) {
    let pair = generate(alg, None).unwrap();
    (
        PrivateKey::from_pem(&pair.private_pem, None).unwrap(),
        pair.public_pem,
    )
}

/// The publisher's keys as `plaza verify --publisher` builds them from the API.
fn trusted(listed: &serde_json::Value) -> Vec<TrustedKey> {
    let time = |v: &serde_json::Value| {
        v.as_str().map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&Utc)
        })
    };
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| TrustedKey {
            key: PublicKey::from_pem(k["publicKey"].as_str().unwrap()).unwrap(),
            owner: PUBLISHER.into(),
            valid_from: time(&k["notBefore"]).unwrap(),
            valid_until: time(&k["notAfter"]),
            revoked_at: time(&k["revokedAt"]),
        })
        .collect()
}

fn marketplace(listed: &serde_json::Value) -> Vec<PublicKey> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| PublicKey::from_pem(k["publicKey"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn keys_rotate_and_revoke_and_timestamps_keep_earlier_signatures_valid() {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(plaza_core::ManualClock::new(start));
    let app = TestApp::build(plaza_server::ServerConfig::default(), clock.clone()).await;
    let author = app.role_tokens[&plaza_core::identity::Role::Author].clone();

    // Register an ECDSA key; a bad PEM is a 422 at /publicKey; a duplicate a 409.
    let (old_private, old_public) = keypair(Algorithm::EcdsaP256);
    let r = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&author),
            json!({"publicKey": old_public}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["algorithm"], "ecdsa-p256");
    assert_eq!(r.body["publisher"], PUBLISHER);
    let old_id = r.body["keyId"].as_str().unwrap().to_owned();
    assert_eq!(
        old_id,
        PublicKey::from_pem(&old_public).unwrap().key_id(),
        "the key id is the SPKI digest"
    );
    let again = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&author),
            json!({"publicKey": old_public}),
        )
        .await;
    assert_problem(&again, 409);
    let bad = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&author),
            json!({"publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA"}),
        )
        .await;
    assert_problem(&bad, 422);
    assert_eq!(bad.body["errors"][0]["pointer"], "/publicKey");
    // A grace period far out of range is a 422, not an overflow (found by schemathesis).
    let (_, spare) = keypair(Algorithm::Ed25519);
    let huge = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&author),
            json!({"publicKey": spare, "rotateGraceDays": 9_223_372_036_854_775_806_i64}),
        )
        .await;
    assert_problem(&huge, 422);
    assert_eq!(huge.body["errors"][0]["pointer"], "/rotateGraceDays");

    // A signature made now, and a marketplace timestamp of it.
    let artifact = b"\0asm component bytes";
    let signed_early = sign_artifact("app.wasm", artifact, &old_private);
    let r = app
        .send_json(
            Method::POST,
            "/api/timestamps",
            Some(&author),
            json!({"signature": plaza_supply::sign::dsse::encode_base64(&signed_early.signatures[0].sig)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let timestamp = Envelope::from_json(r.text.as_bytes()).unwrap();

    // Rotation: a new Ed25519 key; the old one ends 7 days from now.
    clock.advance(Duration::days(1));
    let (_new_private, new_public) = keypair(Algorithm::Ed25519);
    let r = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&author),
            json!({"publicKey": new_public, "rotateGraceDays": 7}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let listed = app.get(KEYS, Some(&author)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    let old = &listed.body[0];
    assert_eq!(old["keyId"], old_id.as_str());
    assert_eq!(
        old["notAfter"].as_str().unwrap(),
        (start + Duration::days(8)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    );
    assert!(listed.body[1]["notAfter"].is_null());

    // Revocation (by an admin), then: without the timestamp, the old signature is refused; with
    // it, the signature made before the revocation stays valid.
    clock.advance(Duration::days(1));
    let r = app
        .send_json(
            Method::POST,
            &format!("/api/orgs/acme/publisher-keys/{old_id}/revoke"),
            Some(&app.admin_token),
            json!({"reason": "key file leaked"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revocationReason"], "key file leaked");
    let twice = app
        .send_json(
            Method::POST,
            &format!("/api/orgs/acme/publisher-keys/{old_id}/revoke"),
            Some(&app.admin_token),
            json!({"reason": "again"}),
        )
        .await;
    assert_problem(&twice, 409);

    let keys = trusted(&app.get(KEYS, Some(&author)).await.body);
    let market = marketplace(&app.get("/api/marketplace-keys", None).await.body);
    assert!(!market.is_empty());
    let now = start + Duration::days(2);
    let envelope = signed_early.to_json();
    let refused = verify_artifact_trusted(envelope.as_bytes(), artifact, &keys, &[], &market, now);
    assert!(
        refused.unwrap_err().to_string().contains("revoked"),
        "a revoked key without a timestamp refuses"
    );
    let kept = verify_artifact_trusted(
        envelope.as_bytes(),
        artifact,
        &keys,
        std::slice::from_ref(&timestamp),
        &market,
        now,
    )
    .unwrap();
    assert_eq!(kept.signed_at, Some(start));
    // A signature made after the revocation with the old key: refused even with a fresh timestamp.
    let late = sign_artifact("app.wasm", artifact, &old_private);
    let late_ts = app
        .send_json(
            Method::POST,
            "/api/timestamps",
            Some(&author),
            json!({"signature": plaza_supply::sign::dsse::encode_base64(&late.signatures[0].sig)}),
        )
        .await;
    let late_ts = Envelope::from_json(late_ts.text.as_bytes()).unwrap();
    assert!(verify_artifact_trusted(
        late.to_json().as_bytes(),
        artifact,
        &keys,
        &[late_ts],
        &market,
        now
    )
    .is_err());

    // Every step is in the audit log.
    let audit = app
        .get("/api/audit?limit=200", Some(&app.admin_token))
        .await;
    let actions: Vec<&str> = audit.body["records"]
        .as_array()
        .or_else(|| audit.body.as_array())
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    for action in [
        "publisher.key.register",
        "publisher.key.rotate",
        "publisher.key.revoke",
        "timestamp.issue",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn consumers_cannot_register_keys_and_other_orgs_do_not_see_them() {
    let app = TestApp::new().await;
    let (_, public) = keypair(Algorithm::Ed25519);
    let consumer = app.role_tokens[&plaza_core::identity::Role::Consumer].clone();
    let r = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&consumer),
            json!({"publicKey": public}),
        )
        .await;
    assert_problem(&r, 403);
    let r = app
        .send_json(
            Method::POST,
            KEYS,
            Some(&app.admin_token),
            json!({"publicKey": public}),
        )
        .await;
    assert_eq!(r.status, 201);
    let other = app.other_role_tokens[&plaza_core::identity::Role::Admin].clone();
    let r = app
        .get("/api/orgs/globex/publisher-keys", Some(&other))
        .await;
    assert_eq!(r.body, json!([]));
    let r = app.get(KEYS, Some(&other)).await;
    assert_problem(&r, 403);
}

/// A one-file uncompressed tar archive (ustar), as an image layer holds.
fn tar_with(path: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..path.len()].copy_from_slice(path.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[148..156].copy_from_slice(b"        ");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[tokio::test]
async fn a_container_images_layers_are_scanned_for_secrets_and_the_secret_never_shown() {
    let app = TestApp::new().await;
    let author = app.role_tokens[&plaza_core::identity::Role::Author].clone();
    let secret = format!("ghp_{}", "Zq9xW2vB7nR4tY6uI8oP1aS3dF5gH0jK2lM4"); // synthetic
    let layer = tar_with(
        "app/config.env",
        format!("GITHUB_TOKEN={secret}\n").as_bytes(),
    );
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = crate::oci::push_blob(&app, &author, &layer).await;
    let config_digest = crate::oci::push_blob(&app, &author, config).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    })
    .to_string()
    .into_bytes();
    let r = crate::oci::put_manifest(&app, &author, "1.2.0", manifest).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/policy-mode",
            Some(&app.admin_token),
            json!({"mode": "warn-only"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&author),
            Some((
                "application/yaml",
                crate::support::SEED_MANIFEST.as_bytes().to_vec(),
            )),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        !r.text.contains(&secret),
        "the secret leaked into the answer"
    );
    let secrets = &r.body["supply"]["secrets"];
    assert_eq!(secrets["count"], 1, "{}", r.text);
    let finding = &secrets["findings"][0];
    assert!(
        finding["location"]["label"]
            .as_str()
            .unwrap()
            .contains("app/config.env"),
        "{finding}"
    );
    let scans = app
        .get(
            "/api/orgs/acme/apps/com.example.where2eat/versions/1.2.0/scans",
            Some(&author),
        )
        .await;
    assert!(!scans.text.contains(&secret));
    assert_eq!(scans.body["scans"][0]["report"]["secrets"]["count"], 1);
}
