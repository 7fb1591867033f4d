//! The supply-chain services end to end on a real store (both backends): the submission gate
//! on signed versions with SBOMs, the vulnerability-database import, key revocation, and the
//! durable re-scan job that re-evaluates only the affected versions, keeps score history,
//! notifies publisher and installing teams, blocks new installs, and survives a crashed worker.

use crate::fixtures::*;
use crate::harness::TestDb;
use chrono::Duration;
use plaza_core::access::{AuthMethod, Principal};
use plaza_core::apps::AppVersion;
use plaza_core::identity::{Org, Role, User};
use plaza_core::ids::TokenId;
use plaza_core::service::{NewPublisherKey, Services, SUPPLY_JOB_LEASE};
use plaza_core::supply::KeyAlgorithm;
use plaza_core::supply_gate::{
    JobKind, JobState, Recipient, ScanCause, SignatureStatus, SubmissionMaterials,
};
use plaza_core::ManualClock;
use plaza_supply::osv::{parse_advisory, LoadedFile};
use plaza_supply::sign::artifact::sign_artifact;
use plaza_supply::sign::intoto::sha256_hex;
use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey};
use serde_json::{json, Value};
use std::sync::Arc;

const PUBLISHER: &str = "did:example:pat";

struct Key {
    private: PrivateKey,
    id: String,
}

async fn register_key(services: &Services, admin: &Principal, org: &Org) -> Key {
    let pair = generate(Algorithm::Ed25519, None).expect("generate");
    services
        .register_publisher_key(
            admin,
            org,
            NewPublisherKey {
                publisher: PUBLISHER.into(),
                key_id: pair.key_id.clone(),
                algorithm: KeyAlgorithm::Ed25519,
                public_pem: pair.public_pem.clone(),
                not_before: None,
                not_after: None,
                rotate_grace: None,
            },
        )
        .await
        .expect("register key");
    Key {
        private: PrivateKey::from_pem(&pair.private_pem, None).expect("private key"),
        id: pair.key_id,
    }
}

fn manifest(app: &str, version: &str) -> Value {
    json!({
        "id": app,
        "version": version,
        "name": app,
        "runtime": "wasm",
        "repository": "https://github.com/acme/app",
        "permissions": [{"name": "cal", "type": "oauth", "scopes": ["calendar.read"]}],
        "provenance": {"signedBy": PUBLISHER},
        "maintainers": ["pat"],
        "contact": {"email": "pat@example.com"},
    })
}

fn sbom(digest_hex: &str, purls: &[&str]) -> Vec<u8> {
    let components: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (name, version) = p
                .rsplit_once('/')
                .and_then(|(_, nv)| nv.split_once('@'))
                .unwrap();
            json!({"type": "library", "bom-ref": format!("c{i}"), "name": name,
                   "version": version, "purl": p})
        })
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "app",
            "hashes": [{"alg": "SHA-256", "content": digest_hex}]}},
        "components": components,
    }))
    .unwrap()
}

/// Registers the version and runs the gate on it, signed with `key`.
async fn submit(
    services: &Services,
    org: &Org,
    by: &User,
    app: &str,
    key: &Key,
    purls: &[&str],
) -> (AppVersion, plaza_core::supply_gate::SupplyReport) {
    let m = manifest(app, "1.0.0");
    let version = AppVersion {
        manifest: m.clone(),
        ..fixture_app(org, by, app, "1.0.0")
    };
    services
        .store()
        .create_app_version(&version, &entry(Some(org), "app.version.register", app))
        .await
        .expect("register version");
    let artifact = format!("component bytes of {app}").into_bytes();
    let hex = sha256_hex(&artifact);
    let signature = sign_artifact("app.wasm", &artifact, &key.private).to_json();
    let materials = SubmissionMaterials {
        artifact_digest: format!("sha256:{hex}"),
        artifact_bytes: Some(artifact),
        layers: Vec::new(),
        manifest_text: serde_json::to_string_pretty(&m).unwrap(),
        signatures: vec![signature.into_bytes()],
        provenance: vec![],
        sbom: Some(sbom(&hex, purls)),
        sbom_attached_as_referrer: false,
        timestamps: vec![],
    };
    let report = services
        .supply_gate(org, &m, &materials)
        .await
        .expect("gate");
    (version, report)
}

fn fixture_app(org: &Org, by: &User, app: &str, version: &str) -> AppVersion {
    crate::fixtures::app(org, by, app, version)
}

fn osv_file(id: &str, package: &str, fixed: &str, vector: &str) -> LoadedFile {
    let body = serde_json::to_vec(&json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [format!("CVE-{id}")],
        "summary": "remote code execution",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
    }))
    .unwrap();
    let name = format!("{id}.json");
    LoadedFile {
        sha256: sha256_hex(&body),
        advisory: parse_advisory(&body, &name),
        name,
    }
}

const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const MEDIUM: &str = "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:N";

pub async fn gate_import_revocation_and_rescan_end_to_end(db: &TestDb) {
    let s = &*db.store;
    let clock = Arc::new(ManualClock::new(at(1_000)));
    let services = Services::new(db.store.clone(), clock.clone());
    let org = seed_org(s, "acme").await;
    let pat = seed_user(s, &org, "pat", &[Role::Admin]).await;
    let admin = Principal {
        user: pat.clone(),
        teams: vec![],
        method: AuthMethod::Token {
            token_id: TokenId::from("tok_test"),
        },
    };
    let red = seed_team(s, &org, "red").await;
    let blue = seed_team(s, &org, "blue").await;
    let key1 = register_key(&services, &admin, &org).await;
    let key2 = register_key(&services, &admin, &org).await;
    clock.advance(Duration::seconds(1));

    // The gate: signed versions with SBOMs verify.
    let (a, report_a) = submit(
        &services,
        &org,
        &pat,
        "com.acme.a",
        &key1,
        &["pkg:pypi/django@1.11.1", "pkg:pypi/requests@2.0.0"],
    )
    .await;
    assert_eq!(
        report_a.signature.status,
        SignatureStatus::Verified,
        "{report_a:?}"
    );
    assert_eq!(report_a.signature.key_id.as_deref(), Some(key1.id.as_str()));
    assert_eq!(report_a.signature.publisher.as_deref(), Some(PUBLISHER));
    assert!(
        report_a.sbom.present && report_a.sbom.bound,
        "{:?}",
        report_a.sbom
    );
    assert_eq!(report_a.sbom.components, 2);
    assert!(report_a.vulnerabilities.is_empty());
    assert_eq!(report_a.secrets.count, 0);
    let facts = report_a.facts();
    assert_eq!(facts.signature_verified, Some(true));
    assert_eq!(facts.sbom.unwrap().component_count, Some(2));
    let (b, _) = submit(
        &services,
        &org,
        &pat,
        "com.acme.b",
        &key1,
        &["pkg:pypi/flask@2.0.0"],
    )
    .await;
    let (c, report_c) = submit(
        &services,
        &org,
        &pat,
        "com.acme.c",
        &key2,
        &["pkg:pypi/flask@2.0.0"],
    )
    .await;
    assert_eq!(report_c.signature.key_id.as_deref(), Some(key2.id.as_str()));
    let history = services
        .supply_scan_history(&org, &a.app_id, &a.version)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].cause, ScanCause::Submission);
    assert_eq!(history[0].score, i64::from(report_a.score.total));

    // A signature over another artifact does not verify.
    let m = manifest("com.acme.d", "1.0.0");
    let bad = services
        .supply_gate(
            &org,
            &m,
            &SubmissionMaterials {
                artifact_digest: format!("sha256:{}", sha256_hex(b"the real bytes")),
                manifest_text: "id: com.acme.d\npassword = \"hunter2hunter2\"\n".into(),
                signatures: vec![sign_artifact("x", b"other bytes", &key1.private)
                    .to_json()
                    .into_bytes()],
                ..SubmissionMaterials::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bad.signature.status, SignatureStatus::Invalid);
    assert!(bad.signature.reason.is_some());
    assert!(!bad.sbom.present);
    assert!(bad.score.total < report_a.score.total);

    // Teams install A (red) and B (blue).
    seed_instance(s, &instance(&red, &a, &pat, "inst-red-a", 5)).await;
    seed_instance(s, &instance(&blue, &b, &pat, "inst-blue-b", 5)).await;

    // A broken file aborts the import: nothing imported, no job.
    let mut broken = osv_file("PYSEC-X", "django", "1.11.2", CRITICAL);
    broken.advisory = parse_advisory(b"{\"id\": 3}", "PYSEC-X.json");
    let err = services
        .import_vulndb(
            "user:tester",
            vec![osv_file("PYSEC-1", "django", "1.11.2", CRITICAL), broken],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PYSEC-X.json"), "{err}");
    assert!(s.list_advisories().await.unwrap().is_empty());
    assert!(services.run_next_supply_job().await.unwrap().is_none());

    // An advisory for a component of A (not of B or C): only A is re-scanned.
    clock.advance(Duration::seconds(1));
    let counts = services
        .import_vulndb(
            "user:tester",
            vec![osv_file("PYSEC-1", "django", "1.11.2", CRITICAL)],
        )
        .await
        .unwrap();
    assert_eq!((counts.added, counts.changed, counts.removed), (1, 0, 0));
    let jobs = s
        .list_supply_jobs(Some(JobState::Queued), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, JobKind::Vulndb);
    let outcome = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(outcome.state, JobState::Done, "{outcome:?}");
    assert_eq!(outcome.rescanned.len(), 1, "{outcome:?}");
    let r = &outcome.rescanned[0];
    assert_eq!(r.version.app_id, "com.acme.a");
    assert!(r.score_after < r.score_before, "{r:?}");
    assert!(r.changed && r.blocked);
    assert_eq!(r.notified, 2, "publisher and the red team");
    let history = services
        .supply_scan_history(&org, &a.app_id, &a.version)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|h| h.cause).collect::<Vec<_>>(),
        vec![ScanCause::Submission, ScanCause::Vulndb]
    );
    assert!(history[1].score < history[0].score);
    assert_eq!(
        history[1].report["vulnerabilities"][0]["id"], "PYSEC-1",
        "{}",
        history[1].report
    );
    assert_eq!(
        history[1].report["vulnerabilities"][0]["fixedVersions"][0],
        "1.11.2"
    );
    assert_eq!(
        services
            .supply_scan_history(&org, &b.app_id, &b.version)
            .await
            .unwrap()
            .len(),
        1,
        "B has no affected component"
    );
    let block = services
        .version_block(&org, &a.app_id, &a.version)
        .await
        .unwrap()
        .expect("A blocked");
    assert!(block.reason.contains("PYSEC-1"), "{}", block.reason);
    // New installs of A are refused.
    let refused = services
        .install(
            &admin,
            &org,
            &plaza_core::service::InstallRequest {
                app_id: a.app_id.clone(),
                version: Some(a.version.clone()),
                team: "blue".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, plaza_core::CoreError::Forbidden(m) if m.contains("blocked for new installs") && m.contains("PYSEC-1")),
        "{refused}"
    );
    assert!(services
        .version_block(&org, &b.app_id, &b.version)
        .await
        .unwrap()
        .is_none());
    let to_pat = services
        .notifications(&org, &Recipient::User(pat.id.clone()), 10)
        .await
        .unwrap();
    assert_eq!(to_pat.len(), 1);
    assert!(to_pat[0].subject.contains("com.acme.a"));
    assert_eq!(
        services
            .notifications(&org, &Recipient::Team(red.id.clone()), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(services
        .notifications(&org, &Recipient::Team(blue.id.clone()), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(services.run_next_supply_job().await.unwrap().is_none());
    // Re-importing the same file changes nothing and enqueues nothing.
    let again = services
        .import_vulndb(
            "user:tester",
            vec![osv_file("PYSEC-1", "django", "1.11.2", CRITICAL)],
        )
        .await
        .unwrap();
    assert_eq!(again.unchanged, 1);
    assert!(services.run_next_supply_job().await.unwrap().is_none());

    // Revoking key1 re-scans exactly the versions it verified (A and B, not C).
    clock.advance(Duration::seconds(1));
    services
        .revoke_publisher_key(&admin, &org, &key1.id, "leaked")
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    let outcome = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(outcome.kind, JobKind::KeyRevoked);
    let apps: Vec<&str> = outcome
        .rescanned
        .iter()
        .map(|r| r.version.app_id.as_str())
        .collect();
    assert_eq!(apps, vec!["com.acme.a", "com.acme.b"]);
    assert!(outcome.rescanned.iter().all(|r| r.changed && r.blocked));
    let b_history = services
        .supply_scan_history(&org, &b.app_id, &b.version)
        .await
        .unwrap();
    assert_eq!(b_history.len(), 2);
    assert_eq!(b_history[1].cause, ScanCause::KeyRevoked);
    assert_eq!(b_history[1].report["signature"]["status"], "invalid");
    assert!(b_history[1].score < b_history[0].score);
    assert!(services
        .version_block(&org, &b.app_id, &b.version)
        .await
        .unwrap()
        .unwrap()
        .reason
        .contains("signature"));
    assert_eq!(
        services
            .notifications(&org, &Recipient::Team(blue.id.clone()), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        services
            .notifications(&org, &Recipient::User(pat.id.clone()), 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        services
            .supply_scan_history(&org, &c.app_id, &c.version)
            .await
            .unwrap()
            .len(),
        1,
        "C was signed with key2"
    );
    // The versions no longer count as verified by key1: revoking key2 touches C only.
    services
        .revoke_publisher_key(&admin, &org, &key2.id, "rotated out")
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    let outcome = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(
        outcome
            .rescanned
            .iter()
            .map(|r| r.version.app_id.as_str())
            .collect::<Vec<_>>(),
        vec!["com.acme.c"]
    );
}

pub async fn a_job_of_a_crashed_worker_is_reclaimed_after_the_lease(db: &TestDb) {
    let s = &*db.store;
    let clock = Arc::new(ManualClock::new(at(1_000)));
    let services = Services::new(db.store.clone(), clock.clone());
    let org = seed_org(s, "acme").await;
    let pat = seed_user(s, &org, "pat", &[Role::Admin]).await;
    let admin = Principal {
        user: pat.clone(),
        teams: vec![],
        method: AuthMethod::Token {
            token_id: TokenId::from("tok_test"),
        },
    };
    let key = register_key(&services, &admin, &org).await;
    // The org turned blocking off.
    services
        .set_supply_settings(
            &admin,
            &org,
            plaza_core::supply_gate::SupplySettings {
                trusted_builders: vec![],
                block_on_rescan: false,
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    let (b, _) = submit(
        &services,
        &org,
        &pat,
        "com.acme.b",
        &key,
        &["pkg:pypi/flask@2.0.0"],
    )
    .await;
    services
        .import_vulndb(
            "user:tester",
            vec![osv_file("PYSEC-2", "flask", "2.0.1", CRITICAL)],
        )
        .await
        .unwrap();
    // A worker claims the job and dies.
    let now = services.now();
    let claimed = s
        .claim_supply_job(now, now - SUPPLY_JOB_LEASE, 5)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(claimed.attempts, 1);
    // Within the lease the job is the dead worker's.
    clock.advance(Duration::minutes(5));
    assert!(services.run_next_supply_job().await.unwrap().is_none());
    // After it, the job is re-run (attempt 2) and finishes.
    clock.advance(SUPPLY_JOB_LEASE);
    let outcome = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(outcome.job_id, claimed.id);
    assert_eq!(outcome.state, JobState::Done);
    assert_eq!(outcome.rescanned.len(), 1);
    assert!(outcome.rescanned[0].changed);
    assert!(!outcome.rescanned[0].blocked, "the org turned blocking off");
    assert!(services
        .version_block(&org, &b.app_id, &b.version)
        .await
        .unwrap()
        .is_none());
    let job = &s.list_supply_jobs(None, 10).await.unwrap()[0];
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));
    assert!(services.run_next_supply_job().await.unwrap().is_none());

    // A change of an advisory that lowers its severity re-scans again; removing it too.
    clock.advance(Duration::seconds(1));
    let changed = services
        .import_vulndb(
            "user:tester",
            vec![osv_file("PYSEC-2", "flask", "2.0.1", MEDIUM)],
        )
        .await
        .unwrap();
    assert_eq!(changed.changed, 1);
    let o = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(o.rescanned.len(), 1);
    let removed = services.import_vulndb("user:tester", vec![]).await.unwrap();
    assert_eq!(removed.removed, 1);
    let o = services.run_next_supply_job().await.unwrap().unwrap();
    assert_eq!(
        o.rescanned.len(),
        1,
        "the removed advisory's package is still looked up"
    );
    let history = services
        .supply_scan_history(&org, &b.app_id, &b.version)
        .await
        .unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[3].report["vulnerabilities"], json!([]));
    assert_eq!(
        history[3].score, history[0].score,
        "back to the submission's score"
    );
}

pub async fn provenance_levels_timestamps_and_failing_jobs(db: &TestDb) {
    use plaza_supply::sign::slsa::provenance::{
        local_build_provenance, LocalBuild, TrustedBuilder, PLAZA_LOCAL_BUILDER_ID,
    };
    let s = &*db.store;
    let clock = Arc::new(ManualClock::new(at(1_000)));
    let services = Services::new(db.store.clone(), clock.clone());
    let org = seed_org(s, "acme").await;
    let pat = seed_user(s, &org, "pat", &[Role::Admin]).await;
    let admin = Principal {
        user: pat.clone(),
        teams: vec![],
        method: AuthMethod::Token {
            token_id: TokenId::from("tok_test"),
        },
    };
    let key = register_key(&services, &admin, &org).await;
    let bad_level = services
        .set_supply_settings(
            &admin,
            &org,
            plaza_core::supply_gate::SupplySettings {
                trusted_builders: vec![TrustedBuilder {
                    id: PLAZA_LOCAL_BUILDER_ID.into(),
                    level: 4,
                }],
                block_on_rescan: true,
            },
        )
        .await
        .unwrap_err();
    assert!(
        bad_level.to_string().contains("/trustedBuilders/0/level"),
        "{bad_level}"
    );
    services
        .set_supply_settings(
            &admin,
            &org,
            plaza_core::supply_gate::SupplySettings {
                trusted_builders: vec![TrustedBuilder {
                    id: PLAZA_LOCAL_BUILDER_ID.into(),
                    level: 2,
                }],
                block_on_rescan: true,
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));

    let gate = async |app: &str, timestamped: bool| {
        let m = manifest(app, "1.0.0");
        let version = AppVersion {
            manifest: m.clone(),
            ..fixture_app(&org, &pat, app, "1.0.0")
        };
        s.create_app_version(&version, &entry(Some(&org), "app.version.register", app))
            .await
            .unwrap();
        let artifact = format!("bytes of {app}").into_bytes();
        let hex = sha256_hex(&artifact);
        let envelope = sign_artifact("app.wasm", &artifact, &key.private);
        let timestamps = if timestamped {
            let stamp = services
                .issue_timestamp(&admin, &envelope.signatures[0].sig)
                .await
                .unwrap();
            vec![stamp.to_json().into_bytes()]
        } else {
            vec![]
        };
        let provenance = local_build_provenance(&LocalBuild {
            artifact_name: "app.wasm".into(),
            artifact_sha256: hex.clone(),
            repository: "https://github.com/acme/app".into(),
            git_ref: "refs/heads/main".into(),
            commit: None,
            command: Some("cargo build".into()),
            manifest: None,
            builder_id: PLAZA_LOCAL_BUILDER_ID.into(),
            internal_parameters: None,
            invocation_id: format!("build-{app}"),
            started_on: at(0),
            finished_on: at(1),
        })
        .sign(&key.private);
        services
            .supply_gate(
                &org,
                &m,
                &SubmissionMaterials {
                    artifact_digest: format!("sha256:{hex}"),
                    artifact_bytes: Some(artifact),
                    layers: Vec::new(),
                    manifest_text: m.to_string(),
                    signatures: vec![envelope.to_json().into_bytes()],
                    provenance: vec![provenance.to_json().into_bytes()],
                    sbom: None,
                    sbom_attached_as_referrer: false,
                    timestamps,
                },
            )
            .await
            .unwrap()
    };
    let stamped = gate("com.acme.p", true).await;
    let plain = gate("com.acme.q", false).await;
    assert_eq!(stamped.provenance.slsa_level, 2, "{:?}", stamped.provenance);
    assert_eq!(stamped.facts().provenance_level, Some(2));
    assert_eq!(stamped.signature.status, SignatureStatus::Verified);
    assert!(
        stamped.signature.signed_at.is_some(),
        "the timestamp proves the signing time"
    );
    assert_eq!(plain.signature.signed_at, None);

    // Revocation: the timestamped signature stays valid, the other one does not.
    clock.advance(Duration::seconds(1));
    services
        .revoke_publisher_key(&admin, &org, &key.id, "leaked")
        .await
        .unwrap();
    let outcome = services.run_next_supply_job().await.unwrap().unwrap();
    let by_app: Vec<(&str, bool, bool)> = outcome
        .rescanned
        .iter()
        .map(|r| (r.version.app_id.as_str(), r.changed, r.blocked))
        .collect();
    assert_eq!(
        by_app,
        vec![("com.acme.p", false, false), ("com.acme.q", true, true)]
    );
    let p = services
        .supply_scan_history(&org, "com.acme.p", "1.0.0")
        .await
        .unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].report["signature"]["status"], "verified");
    assert_eq!(
        services
            .notifications(&org, &Recipient::User(pat.id.clone()), 10)
            .await
            .unwrap()
            .len(),
        1,
        "only the version whose findings changed notifies"
    );

    // A job that cannot run is retried, then given up.
    s.enqueue_supply_job(&plaza_core::supply_gate::SupplyJob {
        id: "job-broken".into(),
        kind: JobKind::KeyRevoked,
        payload: json!("nonsense"),
        state: JobState::Queued,
        attempts: 0,
        created_at: services.now(),
        updated_at: services.now(),
        error: None,
    })
    .await
    .unwrap();
    for attempt in 1..=plaza_core::service::MAX_JOB_ATTEMPTS {
        let o = services.run_next_supply_job().await.unwrap().unwrap();
        assert!(
            o.error.as_deref().unwrap_or("").contains("payload"),
            "{o:?}"
        );
        let want = if attempt < plaza_core::service::MAX_JOB_ATTEMPTS {
            JobState::Queued
        } else {
            JobState::Failed
        };
        assert_eq!(o.state, want, "attempt {attempt}");
    }
    assert!(services.run_next_supply_job().await.unwrap().is_none());
}

pub async fn vex_statements_suppress_findings_in_the_gate_and_the_rescan(db: &TestDb) {
    let s = &*db.store;
    let clock = Arc::new(ManualClock::new(at(1_000)));
    let services = Services::new(db.store.clone(), clock.clone());
    let org = seed_org(s, "acme").await;
    let pat = seed_user(s, &org, "pat", &[Role::Admin]).await;
    let admin = Principal {
        user: pat.clone(),
        teams: vec![],
        method: AuthMethod::Token {
            token_id: TokenId::from("tok_test"),
        },
    };
    let key = register_key(&services, &admin, &org).await;
    services
        .import_vulndb(
            "test",
            vec![
                osv_file("PYSEC-V-1", "django", "9.0.0", CRITICAL),
                osv_file("PYSEC-V-2", "django", "9.0.0", MEDIUM),
            ],
        )
        .await
        .expect("import");
    while services.run_next_supply_job().await.expect("job").is_some() {}
    let (a, report) = submit(
        &services,
        &org,
        &pat,
        "com.acme.vex",
        &key,
        &["pkg:pypi/django@1.11.1"],
    )
    .await;
    assert_eq!(report.vulnerabilities.len(), 2, "{report:?}");
    let unsuppressed_score = report.score.total;

    // A statement by alias (CVE-PYSEC-V-1) for every version of django, expiring later.
    let bad = services
        .add_vex(
            &admin,
            &org,
            &a.app_id,
            plaza_supply::vex::Suppression {
                vulnerability: "CVE-PYSEC-V-1".into(),
                products: vec!["pkg:pypi/django".into()],
                status: plaza_supply::vex::VexStatus::NotAffected,
                justification: None,
                impact_statement: None,
                author: None,
                expires_at: None,
            },
        )
        .await;
    assert!(bad.is_err(), "not_affected without a reason is refused");
    let unknown_app = services
        .add_vex(&admin, &org, "com.acme.nope", suppression(at(50_000)))
        .await;
    assert!(unknown_app.is_err());
    let st = services
        .add_vex(&admin, &org, &a.app_id, suppression(at(50_000)))
        .await
        .expect("add vex");
    assert_eq!(
        st.suppression.author.as_deref(),
        Some("pat"),
        "the author defaults to the actor"
    );
    assert_eq!(
        services.list_vex(&org, &a.app_id).await.unwrap(),
        vec![st.clone()]
    );

    // The next submission scan lists the covered finding as suppressed, scored without it.
    let m = manifest(&a.app_id, "1.0.1");
    let artifact = b"component bytes v1.0.1".to_vec();
    let hex = sha256_hex(&artifact);
    let report = services
        .supply_gate(
            &org,
            &m,
            &SubmissionMaterials {
                artifact_digest: format!("sha256:{hex}"),
                artifact_bytes: Some(artifact.clone()),
                layers: Vec::new(),
                manifest_text: "{}".into(),
                signatures: vec![sign_artifact("app.wasm", &artifact, &key.private)
                    .to_json()
                    .into_bytes()],
                sbom: Some(sbom(&hex, &["pkg:pypi/django@1.11.1"])),
                ..SubmissionMaterials::default()
            },
        )
        .await
        .expect("gate");
    assert_eq!(report.vulnerabilities.len(), 1);
    assert_eq!(report.vulnerabilities[0].id, "PYSEC-V-2");
    assert_eq!(report.suppressed.len(), 1);
    assert_eq!(report.suppressed[0].vulnerability.id, "PYSEC-V-1");
    assert_eq!(report.suppressed[0].statement, st.id);
    assert!(
        report.score.total > unsuppressed_score,
        "{} vs {unsuppressed_score}",
        report.score.total
    );
    assert_eq!(report.facts().vulnerabilities.unwrap().items.len(), 1);

    // After its expiry a re-scan counts it again; removing it is audited and NotFound twice.
    clock.advance(Duration::seconds(60));
    services
        .import_vulndb(
            "test",
            vec![
                osv_file("PYSEC-V-1", "django", "9.0.0", CRITICAL),
                osv_file("PYSEC-V-2", "django", "9.0.1", MEDIUM),
            ],
        )
        .await
        .expect("re-import");
    while services.run_next_supply_job().await.expect("job").is_some() {}
    let history = services
        .supply_scan_history(&org, &a.app_id, "1.0.1")
        .await
        .unwrap();
    let last: plaza_core::supply_gate::SupplyReport =
        serde_json::from_value(history.last().unwrap().report.clone()).unwrap();
    assert_eq!(history.last().unwrap().cause, ScanCause::Vulndb);
    assert_eq!(
        last.vulnerabilities.len(),
        2,
        "expired: counted again: {last:?}"
    );
    assert!(last.suppressed.is_empty());
    services
        .remove_vex(&admin, &org, &a.app_id, &st.id)
        .await
        .expect("remove");
    assert!(services
        .remove_vex(&admin, &org, &a.app_id, &st.id)
        .await
        .is_err());
    let actions: Vec<String> = s
        .list_audit(&plaza_core::audit::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert!(actions.iter().any(|a| a == "vex.add"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "vex.remove"), "{actions:?}");
}

fn suppression(expires: chrono::DateTime<chrono::Utc>) -> plaza_supply::vex::Suppression {
    plaza_supply::vex::Suppression {
        vulnerability: "CVE-PYSEC-V-1".into(),
        products: vec!["pkg:pypi/django".into()],
        status: plaza_supply::vex::VexStatus::NotAffected,
        justification: Some("vulnerable_code_not_in_execute_path".into()),
        impact_statement: None,
        author: None,
        expires_at: Some(expires),
    }
}
