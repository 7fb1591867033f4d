//! Policy governance: numbered policy versions with JSON files and settings, the org's mode,
//! exceptions (revoked and expired once each), and the append-only decision log.

use crate::fixtures::*;
use crate::harness::{Kind, TestDb};
use plaza_core::identity::{Org, Role, User};
use plaza_core::ids::{DecisionId, ExceptionId, OrgId};
use plaza_core::policy::{
    input_digest, policy_digest, Decision, OrgPolicyVersion, Outcome, PolicyException, PolicyFile,
    PolicyMode,
};
use serde_json::json;

fn policy(org: &Org, by: &User, version: i64) -> OrgPolicyVersion {
    let files = vec![
        PolicyFile {
            path: "lib/helpers.rego".into(),
            content: "package plaza.org.lib\n\n# ünïcödé ✓ — «quotes» and 日本語\nok := true\n"
                .into(),
        },
        PolicyFile {
            path: "scopes.rego".into(),
            content: format!(
                "package plaza.org.scopes\n\ndeny contains msg if {{\n  \
                 input.version == \"{version}.0.0\"\n  msg := \"tab\\there\"\n}}\n"
            ),
        },
    ];
    let settings = json!({
        "slsa_min_level": version,
        "zeta": "keys out of alphabetical order stay where they were",
        "allowed_egress": ["api.example.com", "*.internal"],
        "nested": {"b": null, "a": 2.5, "flag": true},
        "alpha": "ünïcödé ✓",
    });
    OrgPolicyVersion {
        org_id: org.id.clone(),
        version,
        digest: policy_digest(&files, &settings),
        files,
        settings,
        created_by: by.id.clone(),
        created_at: at(100 + version),
    }
}

fn exception(org: &Org, by: &User, rule: &str, created_ms: i64) -> PolicyException {
    PolicyException {
        id: ExceptionId::generate(),
        org_id: org.id.clone(),
        app_id: "com.example.lunch".into(),
        rule_id: rule.into(),
        reason: "SBOM tooling lands next sprint — approved by the council ✓".into(),
        expires_at: at(7 * 86_400_000),
        granted_by: by.id.clone(),
        created_at: at(created_ms),
        revoked_at: None,
        expired_at: None,
    }
}

fn decision(org: &Org, app_id: &str, version: &str, created_ms: i64) -> Decision {
    let input = json!({
        "manifest": {"id": app_id, "version": version, "name": "Wo essen wir? 🍜"},
        "zeta": [3, 2, 1],
        "alpha": {"sbom": null, "slsa": {"level": 1}},
    });
    Decision {
        id: DecisionId::generate(),
        org_id: org.id.clone(),
        app_id: app_id.into(),
        version: version.into(),
        input_digest: input_digest(&input),
        input,
        bundle_version: "2024.06.1".into(),
        org_policy_version: None,
        mode: PolicyMode::Enforce,
        outcome: Outcome::Review,
        findings: json!([
            {"rule": "plaza.sbom.required", "level": "deny", "msg": "no SBOM", "waived": true},
            {"rule": "acme.scopes", "level": "warn", "msg": "égress to *.internal", "waived": false},
        ]),
        duration_us: 1234 + created_ms,
        created_at: at(created_ms),
    }
}

/// An org with a policy admin, ready for policy changes.
async fn seed(db: &TestDb, slug: &str) -> (Org, User) {
    let s = &*db.store;
    let org = seed_org(s, slug).await;
    let admin = seed_user(s, &org, "pat", &[Role::Admin]).await;
    (org, admin)
}

async fn push(db: &TestDb, p: &OrgPolicyVersion) -> Result<(), plaza_core::StoreError> {
    let org = Org {
        id: p.org_id.clone(),
        slug: "x".into(),
        name: "x".into(),
        created_at: at(0),
    };
    db.store
        .create_policy_version(
            p,
            &entry(Some(&org), "policy.push", &format!("policy:{}", p.version)),
        )
        .await
}

fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap()
}

pub async fn policy_versions_round_trip_and_list_newest_first(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let (other, _) = seed(db, "other").await;
    assert_eq!(s.latest_policy_version(&acme.id).await.unwrap(), None);
    assert_eq!(s.list_policy_versions(&acme.id).await.unwrap(), vec![]);

    let v1 = policy(&acme, &pat, 1);
    let mut v2 = policy(&acme, &pat, 2);
    v2.files.truncate(1);
    v2.settings = json!({});
    v2.digest = policy_digest(&v2.files, &v2.settings);
    let chain_before = db.chain().await.1.seq;
    push(db, &v1).await.unwrap();
    push(db, &v2).await.unwrap();
    assert_eq!(db.chain().await.1.seq, chain_before + 2, "one record each");

    let got = s.get_policy_version(&acme.id, 1).await.unwrap();
    assert_eq!(got, v1);
    assert_eq!(
        json_text(&got.settings),
        json_text(&v1.settings),
        "settings JSON text (key order, unicode, numbers) survives"
    );
    assert_eq!(got.files[0].content, v1.files[0].content, "unicode files");
    assert_eq!(s.get_policy_version(&acme.id, 2).await.unwrap(), v2);
    assert_eq!(
        s.latest_policy_version(&acme.id).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(
        s.list_policy_versions(&acme.id).await.unwrap(),
        vec![v2, v1]
    );

    expect_not_found(s.get_policy_version(&acme.id, 3).await, "policy version");
    expect_not_found(s.get_policy_version(&other.id, 1).await, "policy version");
    assert_eq!(s.latest_policy_version(&other.id).await.unwrap(), None);
    assert_eq!(s.list_policy_versions(&other.id).await.unwrap(), vec![]);
}

pub async fn policy_versions_must_be_exactly_the_next_number(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let (other, eve) = seed(db, "other").await;
    let before = db.chain().await;
    expect_conflict(
        push(db, &policy(&acme, &pat, 2)).await,
        "policy version",
        "expected 1",
    );
    expect_conflict(
        push(db, &policy(&acme, &pat, 0)).await,
        "policy version",
        "expected 1",
    );
    assert_eq!(db.chain().await, before, "refused pushes leave no record");

    push(db, &policy(&acme, &pat, 1)).await.unwrap();
    let before = db.chain().await;
    expect_conflict(
        push(db, &policy(&acme, &pat, 1)).await,
        "policy version",
        "policy version 1 already exists; expected 2",
    );
    expect_conflict(
        push(db, &policy(&acme, &pat, 3)).await,
        "policy version",
        "expected 2",
    );
    expect_conflict(
        push(db, &policy(&acme, &pat, -1)).await,
        "policy version",
        "expected 2",
    );
    // Numbering is per org: the other org starts at 1.
    expect_conflict(
        push(db, &policy(&other, &eve, 2)).await,
        "policy version",
        "expected 1",
    );
    // A user of another org cannot push, nor can anyone to a missing org.
    expect_not_found(push(db, &policy(&acme, &eve, 2)).await, "user");
    expect_not_found(push(db, &policy(&org("ghost"), &pat, 1)).await, "org");
    assert_eq!(db.chain().await, before, "refused pushes leave no record");
    assert_eq!(s.list_policy_versions(&acme.id).await.unwrap().len(), 1);
    assert_eq!(s.list_policy_versions(&other.id).await.unwrap(), vec![]);

    push(db, &policy(&acme, &pat, 2)).await.unwrap();
    push(db, &policy(&other, &eve, 1)).await.unwrap();
    let versions: Vec<i64> = s
        .list_policy_versions(&acme.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.version)
        .collect();
    assert_eq!(versions, vec![2, 1]);
}

pub async fn the_policy_mode_defaults_to_enforce_and_can_be_set(db: &TestDb) {
    let s = &*db.store;
    let (acme, _) = seed(db, "acme").await;
    let (other, _) = seed(db, "other").await;
    assert_eq!(s.policy_mode(&acme.id).await.unwrap(), PolicyMode::Enforce);
    assert_eq!(
        s.policy_mode(&OrgId::from("org_none")).await.unwrap(),
        PolicyMode::Enforce
    );
    let e = entry(Some(&acme), "policy.mode.set", "org:acme");
    let before = db.chain().await.1.seq;
    s.set_policy_mode(&acme.id, PolicyMode::WarnOnly, &e)
        .await
        .unwrap();
    assert_eq!(s.policy_mode(&acme.id).await.unwrap(), PolicyMode::WarnOnly);
    assert_eq!(s.policy_mode(&other.id).await.unwrap(), PolicyMode::Enforce);
    s.set_policy_mode(&acme.id, PolicyMode::WarnOnly, &e)
        .await
        .unwrap();
    s.set_policy_mode(&acme.id, PolicyMode::Enforce, &e)
        .await
        .unwrap();
    assert_eq!(s.policy_mode(&acme.id).await.unwrap(), PolicyMode::Enforce);
    assert_eq!(db.chain().await.1.seq, before + 3, "each set is audited");

    let before = db.chain().await;
    expect_not_found(
        s.set_policy_mode(&OrgId::from("org_none"), PolicyMode::WarnOnly, &e)
            .await,
        "org",
    );
    assert_eq!(db.chain().await, before);
}

pub async fn exceptions_are_created_read_and_listed_newest_first(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let (other, eve) = seed(db, "other").await;
    let e = entry(Some(&acme), "policy.exception.grant", "exception:x");
    let old = exception(&acme, &pat, "plaza.sbom.required", 10);
    let mut new = exception(&acme, &pat, "plaza.slsa.level", 20);
    new.app_id = "com.example.other".into();
    let theirs = exception(&other, &eve, "plaza.sbom.required", 30);
    let before = db.chain().await.1.seq;
    for x in [&old, &new, &theirs] {
        s.create_exception(x, &e).await.unwrap();
    }
    assert_eq!(db.chain().await.1.seq, before + 3, "each grant is audited");

    assert_eq!(s.get_exception(&acme.id, &old.id).await.unwrap(), old);
    assert_eq!(
        s.list_exceptions(&acme.id).await.unwrap(),
        vec![new.clone(), old.clone()]
    );
    assert_eq!(s.list_exceptions(&other.id).await.unwrap(), vec![theirs]);
    assert_eq!(
        s.list_exceptions(&OrgId::from("org_none")).await.unwrap(),
        vec![]
    );
    // Another org's exception is not found through this org.
    expect_not_found(
        s.get_exception(&other.id, &old.id).await,
        "policy exception",
    );
    expect_not_found(
        s.get_exception(&acme.id, &ExceptionId::from("exc_none"))
            .await,
        "policy exception",
    );

    let before = db.chain().await;
    expect_conflict(
        s.create_exception(&old, &e).await,
        "policy exception",
        "already exists",
    );
    expect_not_found(
        s.create_exception(&exception(&acme, &eve, "r", 40), &e)
            .await,
        "user",
    );
    expect_not_found(
        s.create_exception(&exception(&org("ghost"), &pat, "r", 40), &e)
            .await,
        "org",
    );
    assert_eq!(db.chain().await, before, "refused grants leave no record");
    assert_eq!(s.list_exceptions(&acme.id).await.unwrap().len(), 2);
}

pub async fn an_exception_is_revoked_once_and_its_expiry_recorded_once(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let a = exception(&acme, &pat, "plaza.sbom.required", 10);
    let b = exception(&acme, &pat, "plaza.slsa.level", 20);
    let e = entry(Some(&acme), "policy.exception", "exception:x");
    for x in [&a, &b] {
        s.create_exception(x, &e).await.unwrap();
    }
    let before = db.chain().await.1.seq;
    s.revoke_exception(&a.id, at(500), &e).await.unwrap();
    s.mark_exception_expired(&b.id, at(600), &e).await.unwrap();
    assert_eq!(db.chain().await.1.seq, before + 2, "each change is audited");

    let got_a = s.get_exception(&acme.id, &a.id).await.unwrap();
    assert_eq!((got_a.revoked_at, got_a.expired_at), (Some(at(500)), None));
    assert!(!got_a.applies_at(at(501)));
    let got_b = s.get_exception(&acme.id, &b.id).await.unwrap();
    assert_eq!((got_b.revoked_at, got_b.expired_at), (None, Some(at(600))));

    let before = db.chain().await;
    expect_conflict(
        s.revoke_exception(&a.id, at(700), &e).await,
        "policy exception",
        "already revoked",
    );
    expect_conflict(
        s.mark_exception_expired(&b.id, at(700), &e).await,
        "policy exception",
        "already recorded",
    );
    let none = ExceptionId::from("exc_none");
    expect_not_found(
        s.revoke_exception(&none, at(700), &e).await,
        "policy exception",
    );
    expect_not_found(
        s.mark_exception_expired(&none, at(700), &e).await,
        "policy exception",
    );
    assert_eq!(db.chain().await, before, "refused changes leave no record");
    assert_eq!(s.get_exception(&acme.id, &a.id).await.unwrap(), got_a);
    assert_eq!(s.get_exception(&acme.id, &b.id).await.unwrap(), got_b);

    // Revocation and recorded expiry are independent: each can still happen once.
    s.mark_exception_expired(&a.id, at(800), &e).await.unwrap();
    s.revoke_exception(&b.id, at(800), &e).await.unwrap();
    let listed = s.list_exceptions(&acme.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    for x in listed {
        assert!(x.revoked_at.is_some() && x.expired_at.is_some(), "{x:?}");
    }
}

pub async fn decisions_are_logged_filtered_and_listed_newest_first(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let (other, _) = seed(db, "other").await;
    push(db, &policy(&acme, &pat, 1)).await.unwrap();

    let a1_old = decision(&acme, "com.example.a", "1.0.0", 10);
    let mut a1_new = decision(&acme, "com.example.a", "1.0.0", 30);
    a1_new.org_policy_version = Some(1);
    a1_new.mode = PolicyMode::WarnOnly;
    a1_new.outcome = Outcome::Deny;
    a1_new.findings = json!([]);
    let mut a2 = decision(&acme, "com.example.a", "2.0.0", 20);
    a2.outcome = Outcome::Pass;
    let b1 = decision(&acme, "com.example.b", "1.0.0", 40);
    let theirs = decision(&other, "com.example.a", "1.0.0", 50);

    let chain_before = db.chain().await;
    for d in [&a1_old, &a1_new, &a2, &b1, &theirs] {
        s.record_decision(d).await.unwrap();
    }
    assert_eq!(
        db.chain().await,
        chain_before,
        "the decision log is its own record: no audit records"
    );

    let list = |app: Option<&'static str>, version: Option<&'static str>, limit: i64| {
        let org = acme.id.clone();
        async move { s.list_decisions(&org, app, version, limit).await.unwrap() }
    };
    let all = list(None, None, 100).await;
    assert_eq!(
        all,
        vec![b1.clone(), a1_new.clone(), a2.clone(), a1_old.clone()]
    );
    assert_eq!(
        json_text(&all[3].input),
        json_text(&a1_old.input),
        "input JSON text (key order, unicode) survives"
    );
    assert_eq!(json_text(&all[3].findings), json_text(&a1_old.findings));
    assert_eq!(
        list(Some("com.example.a"), None, 100).await,
        vec![a1_new.clone(), a2.clone(), a1_old.clone()]
    );
    assert_eq!(
        list(Some("com.example.a"), Some("1.0.0"), 100).await,
        vec![a1_new.clone(), a1_old.clone()]
    );
    assert_eq!(
        list(None, Some("1.0.0"), 100).await,
        vec![b1.clone(), a1_new.clone(), a1_old.clone()]
    );
    assert_eq!(list(Some("com.example.zzz"), None, 100).await, vec![]);
    assert_eq!(list(None, None, 2).await, vec![b1.clone(), a1_new.clone()]);
    // Limits below 1 still return one decision.
    assert_eq!(list(None, None, 0).await, vec![b1.clone()]);
    assert_eq!(list(None, None, -5).await, vec![b1.clone()]);
    assert_eq!(list(None, None, i64::MAX).await.len(), 4);

    assert_eq!(
        s.list_decisions(&other.id, None, None, 100).await.unwrap(),
        vec![theirs]
    );
    assert_eq!(
        s.list_decisions(&OrgId::from("org_none"), None, None, 100)
            .await
            .unwrap(),
        vec![]
    );
}

pub async fn decision_lists_are_capped_at_a_thousand(db: &TestDb) {
    let s = &*db.store;
    let (acme, _) = seed(db, "acme").await;
    // Bulk-insert 1001 decisions (inserting is allowed; only changing is refused).
    db.exec(&format!(
        "INSERT INTO policy_decisions (id, org_id, app_id, version, input_digest, input, \
         bundle_version, org_policy_version, mode, outcome, findings, duration_us, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001) \
         SELECT 'dec_bulk_' || CAST(i AS TEXT), '{org}', 'com.example.a', '1.0.0', 'sha256:x', \
         '{{}}', 'b', NULL, 'enforce', 'pass', '[]', i, 1700000000000 + i FROM n",
        org = acme.id
    ))
    .await;
    let got = s.list_decisions(&acme.id, None, None, 5000).await.unwrap();
    assert_eq!(got.len(), plaza_store::MAX_DECISION_PAGE as usize);
    assert_eq!(got[0].id.as_str(), "dec_bulk_1001", "newest first");
}

pub async fn decision_rules_are_enforced(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await;
    let (other, eve) = seed(db, "other").await;
    push(db, &policy(&other, &eve, 1)).await.unwrap();
    let d = decision(&acme, "com.example.a", "1.0.0", 10);
    s.record_decision(&d).await.unwrap();
    expect_conflict(
        s.record_decision(&d).await,
        "policy decision",
        "already exists",
    );
    expect_not_found(
        s.record_decision(&decision(&org("ghost"), "com.example.a", "1.0.0", 10))
            .await,
        "org",
    );
    // Policy version 1 exists, but in another org.
    let mut foreign_version = decision(&acme, "com.example.a", "1.0.0", 20);
    foreign_version.org_policy_version = Some(1);
    expect_not_found(s.record_decision(&foreign_version).await, "policy version");
    push(db, &policy(&acme, &pat, 1)).await.unwrap();
    s.record_decision(&foreign_version).await.unwrap();
    assert_eq!(
        s.list_decisions(&acme.id, None, None, 10).await.unwrap(),
        vec![foreign_version, d]
    );
}

pub async fn the_database_refuses_to_change_or_delete_decisions(db: &TestDb) {
    let s = &*db.store;
    let (acme, _) = seed(db, "acme").await;
    let d = decision(&acme, "com.example.a", "1.0.0", 10);
    s.record_decision(&d).await.unwrap();
    for sql in [
        format!(
            "UPDATE policy_decisions SET outcome = 'pass' WHERE id = '{}'",
            d.id
        ),
        format!("DELETE FROM policy_decisions WHERE id = '{}'", d.id),
        "DELETE FROM policy_decisions".to_owned(),
    ] {
        let err = db.try_exec(&sql).await.expect_err(&sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if db.kind == Kind::Postgres {
        let err = db
            .try_exec("TRUNCATE policy_decisions")
            .await
            .expect_err("truncate");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(
        s.list_decisions(&acme.id, None, None, 10).await.unwrap(),
        vec![d]
    );
}

pub async fn the_chain_verifies_after_mixed_policy_operations(db: &TestDb) {
    let s = &*db.store;
    let (acme, pat) = seed(db, "acme").await; // 2 records
    let e = |a: &str| entry(Some(&acme), a, "policy");
    push(db, &policy(&acme, &pat, 1)).await.unwrap(); // 3
    let _ = push(db, &policy(&acme, &pat, 1)).await; // fails: not recorded
    let _ = push(db, &policy(&acme, &pat, 5)).await; // fails
    s.set_policy_mode(&acme.id, PolicyMode::WarnOnly, &e("policy.mode"))
        .await
        .unwrap(); // 4
    let x = exception(&acme, &pat, "plaza.sbom.required", 10);
    s.create_exception(&x, &e("exception.grant")).await.unwrap(); // 5
    s.record_decision(&decision(&acme, "com.example.a", "1.0.0", 11))
        .await
        .unwrap(); // no record
    s.revoke_exception(&x.id, at(20), &e("exception.revoke"))
        .await
        .unwrap(); // 6
    let _ = s
        .revoke_exception(&x.id, at(21), &e("exception.revoke"))
        .await; // fails
    s.mark_exception_expired(&x.id, at(30), &e("exception.expired"))
        .await
        .unwrap(); // 7
    let _ = s
        .mark_exception_expired(&x.id, at(31), &e("exception.expired"))
        .await; // fails
    push(db, &policy(&acme, &pat, 2)).await.unwrap(); // 8
    s.append_audit(&e("policy.preview")).await.unwrap(); // 9
    assert_eq!(db.verified_len().await, 9);
}
