//! Data-driven provenance verification: `fixtures/provenance/CASE/statement.json` (an in-toto
//! statement; `@ARTIFACT_SHA256@` stands for the artifact's digest) is signed with a registered
//! publisher key and verified against one org policy; the verdict's level and failed checks must
//! be `CASE/expected.json`. The signature and timing rules are tested below the fixtures.

use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use plaza_supply::sign::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use plaza_supply::sign::intoto::sha256_hex;
use plaza_supply::sign::keys::{generate, Algorithm, PrivateKey};
use plaza_supply::sign::slsa::provenance::{
    local_build_provenance, verify_provenance, Check, LocalBuild, ProvenancePolicy,
    ProvenanceVerdict, SourceExpectation, TrustedBuilder, PLAZA_LOCAL_BUILDER_ID,
};
use plaza_supply::sign::trust::{issue_timestamp, TrustedKey};

const ARTIFACT: &[u8] = b"\0asm app component bytes";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn key(alg: Algorithm) -> PrivateKey {
    PrivateKey::from_pem(&generate(alg, None).unwrap().private_pem, None).unwrap()
}

fn registered(k: &PrivateKey, revoked_at: Option<&str>) -> TrustedKey {
    TrustedKey {
        key: k.public_key(),
        owner: "acme".into(),
        valid_from: t("2026-01-01T00:00:00Z"),
        valid_until: None,
        revoked_at: revoked_at.map(t),
    }
}

fn builders() -> Vec<TrustedBuilder> {
    vec![
        TrustedBuilder {
            id: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml".into(),
            level: 3,
        },
        TrustedBuilder {
            id: "https://ci.acme.example/runner@v2".into(),
            level: 2,
        },
        TrustedBuilder {
            id: "https://overclaimed.example/builder".into(),
            level: 7,
        },
    ]
}

fn source() -> SourceExpectation {
    SourceExpectation {
        repository: "https://github.com/acme/app".into(),
        git_ref: Some("main".into()),
    }
}

fn failed(v: &ProvenanceVerdict) -> Vec<Check> {
    v.failures().map(|f| f.check).collect()
}

fn verify(
    envelope: Option<&str>,
    keys: &[TrustedKey],
    market: &[plaza_supply::sign::keys::PublicKey],
    stamps: &[Envelope],
) -> ProvenanceVerdict {
    let builders = builders();
    let source = source();
    let policy = ProvenancePolicy {
        publisher_keys: keys,
        marketplace_keys: market,
        timestamps: stamps,
        trusted_builders: &builders,
        expected_source: &source,
        now: t("2026-06-01T00:00:00Z"),
    };
    verify_provenance(envelope.map(str::as_bytes), &sha256_hex(ARTIFACT), &policy)
}

#[test]
fn provenance_fixtures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/provenance");
    let publisher = key(Algorithm::EcdsaP256);
    let keys = [registered(&publisher, None)];
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "{cases:?}");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let statement = fs::read_to_string(case.join("statement.json"))
            .unwrap()
            .replace("@ARTIFACT_SHA256@", &sha256_hex(ARTIFACT));
        let expected: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
        let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, statement.into_bytes(), &publisher);
        let verdict = verify(Some(&env.to_json()), &keys, &[], &[]);
        let got = serde_json::json!({
            "slsa_level": verdict.slsa_level,
            "failed": serde_json::to_value(failed(&verdict)).unwrap(),
        });
        assert_eq!(got, expected, "{name}: {:#?}", verdict.reasons);
        // Every failure explains itself.
        for f in verdict.failures() {
            assert!(f.detail.len() > 20, "{name}: {f:?}");
        }
    }
}

fn local_build(builder_id: &str) -> LocalBuild {
    LocalBuild {
        artifact_name: "app.wasm".into(),
        artifact_sha256: sha256_hex(ARTIFACT),
        repository: "https://github.com/acme/app".into(),
        git_ref: "refs/heads/main".into(),
        commit: Some("7fd1a60b01f91b314f59955a4e4d4e80d8edf11d".into()),
        command: Some("cargo component build --release".into()),
        manifest: Some("plaza.yaml".into()),
        builder_id: builder_id.into(),
        internal_parameters: None,
        invocation_id: "local-1".into(),
        started_on: t("2026-05-01T10:00:00Z"),
        finished_on: t("2026-05-01T10:03:00Z"),
    }
}

#[test]
fn built_local_provenance_round_trips_to_its_level() {
    for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
        let publisher = key(alg);
        let keys = [registered(&publisher, None)];
        let statement = local_build_provenance(&local_build(PLAZA_LOCAL_BUILDER_ID));
        let json: serde_json::Value = serde_json::from_slice(&statement.to_json()).unwrap();
        assert_eq!(
            json["predicate"]["buildDefinition"]["externalParameters"]["source"],
            "git+https://github.com/acme/app@refs/heads/main"
        );
        assert_eq!(
            json["predicate"]["runDetails"]["metadata"]["startedOn"],
            "2026-05-01T10:00:00Z"
        );
        assert_eq!(
            json["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
            "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"
        );
        let env = statement.sign(&publisher).to_json();
        let v = verify(Some(&env), &keys, &[], &[]);
        assert_eq!((v.slsa_level, failed(&v)), (1, vec![]), "{v:#?}");
        let trusted = local_build_provenance(&local_build("https://ci.acme.example/runner@v2"))
            .sign(&publisher)
            .to_json();
        assert_eq!(verify(Some(&trusted), &keys, &[], &[]).slsa_level, 2);
    }
}

#[test]
fn signature_rules_decide_level_zero() {
    let publisher = key(Algorithm::Ed25519);
    let stranger = key(Algorithm::Ed25519);
    let market = key(Algorithm::EcdsaP256);
    let statement = local_build_provenance(&local_build("https://ci.acme.example/runner@v2"));
    let env = statement.sign(&publisher);
    let json = env.to_json();

    // No provenance, not JSON.
    let v = verify(None, &[registered(&publisher, None)], &[], &[]);
    assert_eq!((v.slsa_level, failed(&v)), (0, vec![Check::Present]));
    let v = verify(Some("{not json"), &[registered(&publisher, None)], &[], &[]);
    assert_eq!((v.slsa_level, failed(&v)), (0, vec![Check::Format]));
    // Signed by a key nobody registered.
    let v = verify(
        Some(&statement.sign(&stranger).to_json()),
        &[registered(&publisher, None)],
        &[],
        &[],
    );
    assert_eq!((v.slsa_level, failed(&v)), (0, vec![Check::Signature]));
    // Tampered payload.
    let mut tampered = env.clone();
    tampered.payload = String::from_utf8(tampered.payload)
        .unwrap()
        .replace("acme/app", "acme/app2")
        .into_bytes();
    let v = verify(
        Some(&tampered.to_json()),
        &[registered(&publisher, None)],
        &[],
        &[],
    );
    assert!(failed(&v).contains(&Check::Signature), "{v:#?}");
    assert_eq!(v.slsa_level, 0);
    // Revoked key: level 0 without a timestamp, level kept with a timestamp from before.
    let revoked = [registered(&publisher, Some("2026-03-01T00:00:00Z"))];
    let v = verify(Some(&json), &revoked, &[market.public_key()], &[]);
    assert_eq!((v.slsa_level, failed(&v)), (0, vec![Check::Signature]));
    assert!(v.reasons[0].detail.contains("revoked"), "{v:#?}");
    let before = issue_timestamp(&env.signatures[0].sig, t("2026-02-01T00:00:00Z"), &market);
    let v = verify(
        Some(&json),
        &revoked,
        &[market.public_key()],
        std::slice::from_ref(&before),
    );
    assert_eq!((v.slsa_level, failed(&v)), (2, vec![]), "{v:#?}");
    assert!(
        v.reasons[0]
            .detail
            .contains("timestamped 2026-02-01T00:00:00Z"),
        "{v:#?}"
    );
    let after = issue_timestamp(&env.signatures[0].sig, t("2026-03-02T00:00:00Z"), &market);
    let v = verify(Some(&json), &revoked, &[market.public_key()], &[after]);
    assert_eq!(v.slsa_level, 0);
    // The timestamp must come from the marketplace.
    let v = verify(Some(&json), &revoked, &[stranger.public_key()], &[before]);
    assert_eq!(v.slsa_level, 0);
}
