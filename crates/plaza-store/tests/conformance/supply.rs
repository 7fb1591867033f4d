//! Supply chain: publisher keys (registration, rotation with a grace period, revocation, each
//! audited) and the OSV advisory import (all or nothing, package index replaced per advisory).

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::audit::AuditFilter;
use plaza_core::identity::Role;
use plaza_core::supply::{KeyAlgorithm, PublisherKey, StoredAdvisory};

fn key(
    org: &plaza_core::identity::Org,
    by: &plaza_core::identity::User,
    id: &str,
    publisher: &str,
    ms: i64,
) -> PublisherKey {
    PublisherKey {
        org_id: org.id.clone(),
        key_id: id.to_owned(),
        publisher: publisher.to_owned(),
        algorithm: KeyAlgorithm::EcdsaP256,
        public_pem: format!("-----BEGIN PUBLIC KEY-----\n{id}\n-----END PUBLIC KEY-----\n"),
        not_before: at(ms),
        not_after: None,
        revoked_at: None,
        revocation_reason: None,
        created_by: by.id.clone(),
        created_at: at(ms),
    }
}

pub async fn publisher_keys_round_trip_rotate_and_revoke(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let eve = seed_user(s, &other, "eve", &[Role::Admin]).await;
    let mut first = key(&acme, &zoe, "k1", "did:example:p", 1_000);
    first.not_after = Some(at(1_000_000));
    s.create_publisher_key(
        &first,
        None,
        &entry(Some(&acme), "publisher.key.register", "k1"),
    )
    .await
    .expect("register k1");
    let unrelated = key(&acme, &zoe, "k9", "did:example:q", 1_500);
    s.create_publisher_key(
        &unrelated,
        None,
        &entry(Some(&acme), "publisher.key.register", "k9"),
    )
    .await
    .expect("register k9");
    // Another org may register its own key with the same id: keys are per org.
    s.create_publisher_key(
        &key(&other, &eve, "k1", "did:example:p", 1_000),
        None,
        &entry(Some(&other), "publisher.key.register", "k1"),
    )
    .await
    .expect("same key id in another org");
    assert_eq!(
        s.list_publisher_keys(&acme.id, Some("did:example:p"))
            .await
            .expect("list"),
        vec![first.clone()]
    );

    // Rotation: k2 arrives; k1 (and only the same publisher's keys) end at the grace instant.
    let second = key(&acme, &zoe, "k2", "did:example:p", 2_000);
    s.create_publisher_key(
        &second,
        Some(at(50_000)),
        &entry(Some(&acme), "publisher.key.rotate", "k2"),
    )
    .await
    .expect("rotate");
    let keys = s
        .list_publisher_keys(&acme.id, Some("did:example:p"))
        .await
        .expect("list");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key_id, "k1");
    assert_eq!(
        keys[0].not_after,
        Some(at(50_000)),
        "the old key ends after the grace period"
    );
    assert_eq!(keys[1], second, "the new key is open-ended");
    let all = s
        .list_publisher_keys(&acme.id, None)
        .await
        .expect("list all");
    assert_eq!(
        all.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
        ["k1", "k9", "k2"]
    );
    assert_eq!(
        all[1].not_after, None,
        "another publisher's key is untouched"
    );

    // A key already registered conflicts, naming its publisher; nothing is audited for it.
    let before = s
        .list_audit(&AuditFilter::default())
        .await
        .expect("audit")
        .len();
    expect_conflict(
        s.create_publisher_key(
            &key(&acme, &zoe, "k1", "did:example:z", 3_000),
            None,
            &entry(Some(&acme), "publisher.key.register", "k1"),
        )
        .await,
        "publisher key",
        "did:example:p",
    );
    assert_eq!(
        s.list_audit(&AuditFilter::default())
            .await
            .expect("audit")
            .len(),
        before
    );

    // Revocation.
    let revoked = s
        .revoke_publisher_key(
            &acme.id,
            "k2",
            at(60_000),
            "leaked in CI logs",
            &entry(Some(&acme), "publisher.key.revoke", "k2"),
            None,
        )
        .await
        .expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at(60_000)));
    assert_eq!(
        revoked.revocation_reason.as_deref(),
        Some("leaked in CI logs")
    );
    assert_eq!(
        s.list_publisher_keys(&acme.id, Some("did:example:p"))
            .await
            .expect("list")[1],
        revoked
    );
    expect_conflict(
        s.revoke_publisher_key(
            &acme.id,
            "k2",
            at(70_000),
            "again",
            &entry(Some(&acme), "publisher.key.revoke", "k2"),
            None,
        )
        .await,
        "publisher key",
        "already revoked",
    );
    expect_not_found(
        s.revoke_publisher_key(
            &acme.id,
            "nope",
            at(70_000),
            "x",
            &entry(Some(&acme), "publisher.key.revoke", "nope"),
            None,
        )
        .await,
        "publisher key",
    );
    // A revoked key is not rotated (its end stays where revocation left it).
    s.create_publisher_key(
        &key(&acme, &zoe, "k3", "did:example:p", 80_000),
        Some(at(90_000)),
        &entry(Some(&acme), "publisher.key.rotate", "k3"),
    )
    .await
    .expect("rotate again");
    let keys = s
        .list_publisher_keys(&acme.id, Some("did:example:p"))
        .await
        .expect("list");
    assert_eq!(
        keys[1].not_after, None,
        "revoked k2 keeps its record as revoked"
    );
    assert_eq!(
        keys[0].not_after,
        Some(at(50_000)),
        "k1 already ended earlier"
    );
}

fn advisory(id: &str, digest: &str, packages: &[(&str, &str)]) -> StoredAdvisory {
    StoredAdvisory {
        id: id.to_owned(),
        digest: digest.to_owned(),
        modified: "2024-01-01T00:00:00Z".to_owned(),
        withdrawn: id.ends_with('W'),
        body: format!("{{\"id\":\"{id}\",\"note\":\"ünïcode ✓\"}}"),
        packages: packages
            .iter()
            .map(|(e, n)| ((*e).to_owned(), (*n).to_owned()))
            .collect(),
    }
}

pub async fn advisory_imports_replace_and_remove_all_or_nothing(db: &TestDb) {
    let s = &*db.store;
    let a = advisory(
        "GO-1",
        "d1",
        &[("Go", "golang.org/x/net"), ("Go", "stdlib")],
    );
    let b = advisory("PYSEC-W", "d2", &[("PyPI", "jinja2")]);
    s.apply_advisory_import(
        &[a.clone(), b.clone()],
        &[],
        at(1),
        &entry(None, "vulndb.import", "osv"),
        None,
    )
    .await
    .expect("first import");
    assert_eq!(
        s.advisory_digests().await.expect("digests"),
        vec![
            ("GO-1".to_owned(), "d1".to_owned()),
            ("PYSEC-W".to_owned(), "d2".to_owned())
        ]
    );
    let mut listed = s.list_advisories().await.expect("list");
    listed.iter_mut().for_each(|x| x.packages.sort());
    let mut want_a = a.clone();
    want_a.packages.sort();
    assert_eq!(listed, vec![want_a, b.clone()]);

    // A changed advisory replaces its package index; a removed one goes with its index.
    let a2 = advisory("GO-1", "d3", &[("Go", "golang.org/x/text")]);
    s.apply_advisory_import(
        std::slice::from_ref(&a2),
        &["PYSEC-W".to_owned()],
        at(2),
        &entry(None, "vulndb.import", "osv"),
        None,
    )
    .await
    .expect("second import");
    assert_eq!(s.list_advisories().await.expect("list"), vec![a2.clone()]);

    // A failing import (two records with the same id) changes nothing.
    let dup = advisory("GO-2", "d4", &[("Go", "x")]);
    assert!(s
        .apply_advisory_import(
            &[dup.clone(), dup],
            &["GO-1".to_owned()],
            at(3),
            &entry(None, "vulndb.import", "osv"),
            None,
        )
        .await
        .is_err());
    assert_eq!(s.list_advisories().await.expect("list"), vec![a2]);
}
