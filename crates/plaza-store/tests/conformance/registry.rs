//! Registry metadata: manifests per repository with their blob references, tags (moved,
//! listed in byte order, deleted), referrers by subject, blob links per repository, the digests
//! GC must keep, and the audit records of pushes and deletions.

use crate::fixtures::*;
use crate::harness::{Kind, TestDb};
use plaza_core::audit::{AuditEntry, AuditFilter};
use plaza_core::identity::{Org, Role};
use plaza_core::ids::UserId;
use plaza_core::registry::StoredManifest;
use plaza_core::StoreError;
use serde_json::json;
use sqlx::Row;

const IMAGE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const REPO: &str = "acme/com.example.where2eat";
const OTHER: &str = "acme/com.example.lunch";

/// A digest made from `n`.
fn d(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn manifest(repo: &str, digest: &str, pushed_ms: i64) -> StoredManifest {
    StoredManifest {
        repository: repo.into(),
        digest: digest.into(),
        media_type: IMAGE.into(),
        artifact_type: None,
        subject: None,
        size: 1234,
        annotations: json!({
            "org.opencontainers.image.title": "Wo essen wir? 🍜",
            "zeta": "keys out of alphabetical order stay where they were",
            "alpha": "ünïcödé ✓",
        }),
        pushed_by: Some(UserId::from("usr_pusher")),
        pushed_at: at(pushed_ms),
    }
}

fn referrer(repo: &str, digest: &str, subject: &str, pushed_ms: i64) -> StoredManifest {
    StoredManifest {
        artifact_type: Some("application/spdx+json".into()),
        subject: Some(subject.into()),
        annotations: json!({}),
        pushed_by: None,
        ..manifest(repo, digest, pushed_ms)
    }
}

fn blobs(ns: &[u32]) -> Vec<String> {
    ns.iter().map(|&n| d(n)).collect()
}

fn audit(org: &Org, action: &str, target: &str) -> AuditEntry {
    entry(Some(org), action, target)
}

async fn push(
    db: &TestDb,
    org: &Org,
    m: &StoredManifest,
    refs: &[String],
    tag: Option<&str>,
) -> Result<(), StoreError> {
    let target = format!("manifest:{}@{}", m.repository, m.digest);
    db.store
        .put_manifest(m, refs, tag, &audit(org, "registry.push", &target))
        .await
}

async fn delete_manifest(
    db: &TestDb,
    org: &Org,
    repo: &str,
    digest: &str,
) -> Result<(), StoreError> {
    let target = format!("manifest:{repo}@{digest}");
    db.store
        .delete_manifest(
            repo,
            digest,
            &audit(org, "registry.manifest.delete", &target),
        )
        .await
}

async fn delete_tag(db: &TestDb, org: &Org, repo: &str, tag: &str) -> Result<(), StoreError> {
    let target = format!("tag:{repo}:{tag}");
    db.store
        .delete_tag(repo, tag, &audit(org, "registry.tag.delete", &target))
        .await
}

fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

pub async fn manifests_are_pushed_read_and_resolved(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let m = manifest(REPO, &d(1), 10);
    let index = StoredManifest {
        media_type: INDEX.into(),
        size: 77,
        pushed_by: None,
        annotations: json!({}),
        ..manifest(REPO, &d(2), 11)
    };
    let before = db.chain().await.1.seq;
    push(db, &acme, &m, &blobs(&[100, 101]), Some("1.0.0"))
        .await
        .unwrap();
    push(db, &acme, &index, &[d(1)], None).await.unwrap();
    assert_eq!(db.chain().await.1.seq, before + 2, "one record per push");

    let got = s.get_manifest(REPO, &d(1)).await.unwrap().expect("pushed");
    assert_eq!(got, m);
    assert_eq!(
        json_text(&got.annotations),
        json_text(&m.annotations),
        "annotations JSON text (key order, unicode) survives"
    );
    assert_eq!(s.get_manifest(REPO, &d(2)).await.unwrap(), Some(index));
    assert_eq!(s.resolve_tag(REPO, "1.0.0").await.unwrap(), Some(d(1)));

    assert_eq!(s.get_manifest(REPO, &d(3)).await.unwrap(), None);
    assert_eq!(
        s.get_manifest(OTHER, &d(1)).await.unwrap(),
        None,
        "per repo"
    );
    assert_eq!(s.resolve_tag(REPO, "2.0.0").await.unwrap(), None);
    assert_eq!(
        s.resolve_tag(OTHER, "1.0.0").await.unwrap(),
        None,
        "per repo"
    );
    assert_eq!(s.resolve_tag(REPO, "1.0.0 ").await.unwrap(), None, "exact");
    // The pushed manifest's blobs can now be served from its repository (only).
    for blob in blobs(&[100, 101]) {
        assert!(s.blob_linked(REPO, &blob).await.unwrap());
        assert!(!s.blob_linked(OTHER, &blob).await.unwrap());
    }
}

pub async fn a_tag_moves_and_a_repush_only_repoints_it(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let m1 = manifest(REPO, &d(1), 10);
    let m2 = manifest(REPO, &d(2), 20);
    push(db, &acme, &m1, &blobs(&[100]), Some("latest"))
        .await
        .unwrap();
    push(db, &acme, &m2, &blobs(&[200]), Some("latest"))
        .await
        .unwrap();
    assert_eq!(s.resolve_tag(REPO, "latest").await.unwrap(), Some(d(2)));
    assert_eq!(
        s.get_manifest(REPO, &d(1)).await.unwrap(),
        Some(m1.clone()),
        "the untagged manifest stays"
    );

    // Pushing m1 again (later, listing other blobs) points tags at it and changes nothing else.
    let before = db.chain().await.1.seq;
    let again = StoredManifest {
        pushed_at: at(30),
        pushed_by: Some(UserId::from("usr_other")),
        ..m1.clone()
    };
    push(db, &acme, &again, &blobs(&[999]), Some("latest"))
        .await
        .unwrap();
    push(db, &acme, &again, &blobs(&[999]), Some("stable"))
        .await
        .unwrap();
    push(db, &acme, &again, &blobs(&[999]), None).await.unwrap();
    assert_eq!(
        db.chain().await.1.seq,
        before + 3,
        "every re-push is audited"
    );
    assert_eq!(s.resolve_tag(REPO, "latest").await.unwrap(), Some(d(1)));
    assert_eq!(s.resolve_tag(REPO, "stable").await.unwrap(), Some(d(1)));
    assert_eq!(
        s.get_manifest(REPO, &d(1)).await.unwrap(),
        Some(m1),
        "the stored manifest keeps its first push"
    );
    assert!(!s.blob_linked(REPO, &d(999)).await.unwrap(), "no new links");
    assert!(
        !s.referenced_digests().await.unwrap().contains(&d(999)),
        "no new blob references"
    );
    assert_eq!(s.list_tags(REPO).await.unwrap(), vec!["latest", "stable"]);
}

pub async fn tags_list_in_byte_order_and_an_unknown_repository_is_not_found(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    expect_not_found(s.list_tags(REPO).await, "repository");

    let m = manifest(REPO, &d(1), 10);
    push(db, &acme, &m, &[], None).await.unwrap();
    assert_eq!(s.list_tags(REPO).await.unwrap(), Vec::<String>::new());
    for tag in ["a_1", "é", "a", "Z", "B", "a-1", "10", "9"] {
        push(db, &acme, &m, &[], Some(tag)).await.unwrap();
    }
    assert_eq!(
        s.list_tags(REPO).await.unwrap(),
        vec!["10", "9", "B", "Z", "a", "a-1", "a_1", "é"],
        "byte order, not a locale's"
    );

    // A repository that only has linked blobs (an upload in progress) has no manifest.
    s.link_blob(OTHER, &d(100)).await.unwrap();
    expect_not_found(s.list_tags(OTHER).await, "repository");
    expect_not_found(s.list_tags("acme/com.example").await, "repository");
    match s.list_tags("nobody/nothing").await {
        Err(StoreError::NotFound { key, .. }) => assert_eq!(key, "nobody/nothing"),
        other => panic!("expected repository not found, got {other:?}"),
    }

    delete_manifest(db, &acme, REPO, &d(1)).await.unwrap();
    expect_not_found(s.list_tags(REPO).await, "repository");

    if db.kind == Kind::Postgres {
        // The test database may sort like "C" anyway: check the columns do not depend on it.
        let rows = sqlx::query(
            "SELECT table_name || '.' || column_name || ' ' || COALESCE(collation_name, '-') \
             AS col FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name LIKE 'registry\\_%' \
             AND column_name IN ('repository', 'digest', 'subject', 'tag', 'manifest', 'blob') \
             ORDER BY 1",
        )
        .fetch_all(db.sql.pool())
        .await
        .unwrap();
        let cols: Vec<String> = rows.iter().map(|r| r.get("col")).collect();
        assert_eq!(
            cols,
            vec![
                "registry_blob_links.digest C",
                "registry_blob_links.repository C",
                "registry_manifest_blobs.blob C",
                "registry_manifest_blobs.manifest C",
                "registry_manifest_blobs.repository C",
                "registry_manifests.digest C",
                "registry_manifests.repository C",
                "registry_manifests.subject C",
                "registry_tags.digest C",
                "registry_tags.repository C",
                "registry_tags.tag C",
                "registry_uploads.repository C",
            ],
            "names, digests and tags compare in byte order whatever the database's collation"
        );
    }
}

pub async fn deleting_a_manifest_removes_its_tags_and_blob_references(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let m1 = manifest(REPO, &d(1), 10);
    let m2 = manifest(REPO, &d(2), 20);
    let elsewhere = manifest(OTHER, &d(1), 30);
    push(db, &acme, &m1, &blobs(&[100, 101]), Some("v1"))
        .await
        .unwrap();
    push(db, &acme, &m1, &[], Some("latest")).await.unwrap();
    push(db, &acme, &m2, &blobs(&[101, 200]), Some("v2"))
        .await
        .unwrap();
    push(db, &acme, &elsewhere, &blobs(&[100]), Some("v1"))
        .await
        .unwrap();

    let before = db.chain().await.1.seq;
    delete_manifest(db, &acme, REPO, &d(1)).await.unwrap();
    assert_eq!(
        db.chain().await.1.seq,
        before + 1,
        "the deletion is audited"
    );
    assert_eq!(s.get_manifest(REPO, &d(1)).await.unwrap(), None);
    assert_eq!(s.resolve_tag(REPO, "v1").await.unwrap(), None);
    assert_eq!(s.resolve_tag(REPO, "latest").await.unwrap(), None);
    assert_eq!(s.list_tags(REPO).await.unwrap(), vec!["v2"]);
    assert_eq!(s.get_manifest(REPO, &d(2)).await.unwrap(), Some(m2));
    assert_eq!(
        s.get_manifest(OTHER, &d(1)).await.unwrap(),
        Some(elsewhere),
        "the same digest in another repository stays"
    );
    assert_eq!(s.resolve_tag(OTHER, "v1").await.unwrap(), Some(d(1)));
    // The blobs stay linked (the registry unlinks them, or GC keeps them) ...
    assert!(s.blob_linked(REPO, &d(100)).await.unwrap());
    // ... but once unlinked, only the references of the remaining manifests hold them.
    s.unlink_blob(REPO, &d(100)).await.unwrap();
    s.unlink_blob(REPO, &d(101)).await.unwrap();
    s.unlink_blob(REPO, &d(200)).await.unwrap();
    s.unlink_blob(OTHER, &d(100)).await.unwrap();
    assert_eq!(
        sorted(s.referenced_digests().await.unwrap()),
        sorted(vec![d(1), d(2), d(100), d(101), d(200)]),
        "m2 still references 101 and 200, the other repository's manifest 100"
    );
    delete_manifest(db, &acme, OTHER, &d(1)).await.unwrap();
    assert_eq!(
        sorted(s.referenced_digests().await.unwrap()),
        sorted(vec![d(2), d(101), d(200)]),
        "the deleted manifests' references are gone"
    );

    let before = db.chain().await;
    expect_not_found(delete_manifest(db, &acme, REPO, &d(1)).await, "manifest");
    expect_not_found(delete_manifest(db, &acme, OTHER, &d(2)).await, "manifest");
    expect_not_found(
        delete_manifest(db, &acme, "nobody/nothing", &d(2)).await,
        "manifest",
    );
    assert_eq!(
        db.chain().await,
        before,
        "refused deletions leave no record"
    );
    assert_eq!(s.list_tags(REPO).await.unwrap(), vec!["v2"]);
}

pub async fn a_tag_is_deleted_not_its_manifest(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let m = manifest(REPO, &d(1), 10);
    push(db, &acme, &m, &[], Some("v1")).await.unwrap();
    push(db, &acme, &m, &[], Some("latest")).await.unwrap();
    push(db, &acme, &manifest(OTHER, &d(1), 11), &[], Some("v1"))
        .await
        .unwrap();

    let before = db.chain().await.1.seq;
    delete_tag(db, &acme, REPO, "v1").await.unwrap();
    assert_eq!(
        db.chain().await.1.seq,
        before + 1,
        "the deletion is audited"
    );
    assert_eq!(s.resolve_tag(REPO, "v1").await.unwrap(), None);
    assert_eq!(s.resolve_tag(REPO, "latest").await.unwrap(), Some(d(1)));
    assert_eq!(s.resolve_tag(OTHER, "v1").await.unwrap(), Some(d(1)));
    assert_eq!(s.get_manifest(REPO, &d(1)).await.unwrap(), Some(m));
    assert_eq!(s.list_tags(REPO).await.unwrap(), vec!["latest"]);

    let before = db.chain().await;
    expect_not_found(delete_tag(db, &acme, REPO, "v1").await, "tag");
    expect_not_found(delete_tag(db, &acme, REPO, "V1").await, "tag");
    expect_not_found(delete_tag(db, &acme, "nobody/nothing", "v1").await, "tag");
    assert_eq!(
        db.chain().await,
        before,
        "refused deletions leave no record"
    );

    delete_tag(db, &acme, REPO, "latest").await.unwrap();
    assert_eq!(
        s.list_tags(REPO).await.unwrap(),
        Vec::<String>::new(),
        "an untagged repository still exists"
    );
}

pub async fn referrers_are_listed_by_subject_in_the_same_repository_oldest_first(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let subject = d(1);
    // A referrer may arrive before its subject.
    let sbom = referrer(REPO, &d(11), &subject, 30);
    let signature = StoredManifest {
        artifact_type: Some("application/vnd.dev.cosign.artifact.sig.v1+json".into()),
        annotations: json!({"zeta": 1, "alpha": "✓"}),
        ..referrer(REPO, &d(12), &subject, 10)
    };
    let provenance = referrer(REPO, &d(13), &subject, 20);
    push(db, &acme, &sbom, &blobs(&[100]), None).await.unwrap();
    push(db, &acme, &manifest(REPO, &subject, 5), &[], Some("1.0"))
        .await
        .unwrap();
    push(db, &acme, &signature, &[], None).await.unwrap();
    push(db, &acme, &provenance, &[], None).await.unwrap();
    // Same subject digest in another repository, and another subject here: not listed.
    push(db, &acme, &referrer(OTHER, &d(14), &subject, 1), &[], None)
        .await
        .unwrap();
    push(db, &acme, &referrer(REPO, &d(15), &d(2), 2), &[], None)
        .await
        .unwrap();

    let got = s.referrers(REPO, &subject).await.unwrap();
    assert_eq!(got, vec![signature.clone(), provenance, sbom.clone()]);
    assert_eq!(json_text(&got[0].annotations), r#"{"zeta":1,"alpha":"✓"}"#);
    assert_eq!(
        s.referrers(OTHER, &subject).await.unwrap(),
        vec![referrer(OTHER, &d(14), &subject, 1)]
    );
    assert_eq!(s.referrers(REPO, &d(9)).await.unwrap(), vec![]);
    assert_eq!(
        s.referrers("nobody/nothing", &subject).await.unwrap(),
        vec![]
    );

    delete_manifest(db, &acme, REPO, &d(13)).await.unwrap();
    assert_eq!(
        s.referrers(REPO, &subject).await.unwrap(),
        vec![signature, sbom]
    );
}

pub async fn blobs_are_linked_per_repository_without_audit(db: &TestDb) {
    let s = &*db.store;
    let before = db.chain().await;
    assert!(!s.blob_linked(REPO, &d(100)).await.unwrap());
    s.link_blob(REPO, &d(100)).await.unwrap();
    s.link_blob(REPO, &d(100)).await.unwrap(); // idempotent
    s.link_blob(OTHER, &d(101)).await.unwrap();
    assert!(s.blob_linked(REPO, &d(100)).await.unwrap());
    assert!(
        !s.blob_linked(OTHER, &d(100)).await.unwrap(),
        "per repository"
    );
    assert!(
        !s.blob_linked(REPO, &d(101)).await.unwrap(),
        "per repository"
    );
    assert!(s.blob_linked(OTHER, &d(101)).await.unwrap());

    s.unlink_blob(REPO, &d(100)).await.unwrap();
    assert!(!s.blob_linked(REPO, &d(100)).await.unwrap());
    assert!(s.blob_linked(OTHER, &d(101)).await.unwrap());
    expect_not_found(s.unlink_blob(REPO, &d(100)).await, "blob");
    expect_not_found(s.unlink_blob(REPO, &d(101)).await, "blob");
    expect_not_found(s.unlink_blob("nobody/nothing", &d(101)).await, "blob");
    // Linking again after an unlink works.
    s.link_blob(REPO, &d(100)).await.unwrap();
    assert!(s.blob_linked(REPO, &d(100)).await.unwrap());
    assert_eq!(db.chain().await, before, "links are not audited");

    // Blobs linked by hand and by a push are one and the same link.
    let acme = seed_org(s, "acme").await;
    push(
        db,
        &acme,
        &manifest(REPO, &d(1), 10),
        &blobs(&[100, 102]),
        None,
    )
    .await
    .unwrap();
    assert!(s.blob_linked(REPO, &d(102)).await.unwrap());
    s.unlink_blob(REPO, &d(100)).await.unwrap();
    assert!(!s.blob_linked(REPO, &d(100)).await.unwrap());
}

pub async fn referenced_digests_are_links_manifests_and_references_once_each(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    assert_eq!(s.referenced_digests().await.unwrap(), Vec::<String>::new());
    // An uploaded blob, linked in two repositories.
    s.link_blob(REPO, &d(100)).await.unwrap();
    s.link_blob(OTHER, &d(100)).await.unwrap();
    // A manifest referencing a blob that is then unlinked, and a child manifest.
    push(
        db,
        &acme,
        &manifest(REPO, &d(1), 10),
        &blobs(&[101, 100]),
        None,
    )
    .await
    .unwrap();
    s.unlink_blob(REPO, &d(101)).await.unwrap();
    push(
        db,
        &acme,
        &manifest(REPO, &d(2), 11),
        &blobs(&[1, 1, 102]),
        None,
    )
    .await
    .unwrap();
    // The same manifest pushed to another repository.
    push(db, &acme, &manifest(OTHER, &d(1), 12), &blobs(&[101]), None)
        .await
        .unwrap();
    assert_eq!(
        sorted(s.referenced_digests().await.unwrap()),
        sorted(vec![d(1), d(2), d(100), d(101), d(102)]),
        "each digest once"
    );

    for repo in [REPO, OTHER] {
        for n in [100, 101, 102] {
            let _ = s.unlink_blob(repo, &d(n)).await;
        }
    }
    delete_manifest(db, &acme, REPO, &d(2)).await.unwrap();
    assert_eq!(
        sorted(s.referenced_digests().await.unwrap()),
        sorted(vec![d(1), d(100), d(101)]),
        "only what the remaining manifests need (d(1) in both repositories)"
    );
}

pub async fn repositories_are_listed_in_byte_order(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    assert_eq!(s.list_repositories().await.unwrap(), Vec::<String>::new());
    for (i, repo) in ["a_b/x", "a/x", "B/x", "a-b/x"].into_iter().enumerate() {
        let n = i as u32 + 1;
        push(db, &acme, &manifest(repo, &d(n), 10), &[], None)
            .await
            .unwrap();
    }
    // Linked blobs alone make a repository; so does a manifest of one already listed.
    s.link_blob("a/y", &d(100)).await.unwrap();
    s.link_blob("a/x", &d(100)).await.unwrap();
    push(db, &acme, &manifest("a/x", &d(9), 10), &[], None)
        .await
        .unwrap();
    assert_eq!(
        s.list_repositories().await.unwrap(),
        vec!["B/x", "a-b/x", "a/x", "a/y", "a_b/x"],
        "byte order, each once"
    );

    s.unlink_blob("a/y", &d(100)).await.unwrap();
    delete_manifest(db, &acme, "B/x", &d(3)).await.unwrap();
    assert_eq!(
        s.list_repositories().await.unwrap(),
        vec!["a-b/x", "a/x", "a_b/x"],
        "a repository with nothing left is gone"
    );
}

pub async fn registry_changes_are_audited_with_their_entries(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let pusher = seed_user(s, &acme, "pat", &[Role::Admin]).await;
    let m = StoredManifest {
        pushed_by: Some(pusher.id.clone()),
        ..manifest(REPO, &d(1), 10)
    };
    push(db, &acme, &m, &blobs(&[100]), Some("v1"))
        .await
        .unwrap();
    push(db, &acme, &m, &[], Some("v2")).await.unwrap();
    s.link_blob(REPO, &d(101)).await.unwrap();
    s.unlink_blob(REPO, &d(101)).await.unwrap();
    delete_tag(db, &acme, REPO, "v1").await.unwrap();
    delete_manifest(db, &acme, REPO, &d(1)).await.unwrap();
    // Refused: nothing recorded.
    let _ = delete_tag(db, &acme, REPO, "v2").await;
    let _ = delete_manifest(db, &acme, REPO, &d(1)).await;
    let _ = s.unlink_blob(REPO, &d(101)).await;

    let records = s
        .list_audit(&AuditFilter {
            action_prefix: Some("registry.".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let got: Vec<(&str, String)> = records
        .iter()
        .map(|r| (r.entry.action.as_str(), r.entry.target.clone()))
        .collect();
    let manifest_target = format!("manifest:{REPO}@{}", d(1));
    assert_eq!(
        got,
        vec![
            ("registry.push", manifest_target.clone()),
            ("registry.push", manifest_target.clone()),
            ("registry.tag.delete", format!("tag:{REPO}:v1")),
            ("registry.manifest.delete", manifest_target),
        ]
    );
    assert!(records
        .iter()
        .all(|r| r.entry.org_id.as_ref() == Some(&acme.id)));
    assert_eq!(
        records[0].entry,
        audit(&acme, "registry.push", &format!("manifest:{REPO}@{}", d(1))),
        "the entry is stored as given"
    );
}

pub async fn the_chain_verifies_after_mixed_registry_operations(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await; // 1 record
    let m1 = manifest(REPO, &d(1), 10);
    let m2 = referrer(REPO, &d(2), &d(1), 20);
    s.link_blob(REPO, &d(100)).await.unwrap(); // no record
    push(db, &acme, &m1, &blobs(&[100]), Some("v1"))
        .await
        .unwrap(); // 2
    push(db, &acme, &m1, &[], Some("latest")).await.unwrap(); // 3
    push(db, &acme, &m2, &[], None).await.unwrap(); // 4
    let _ = delete_tag(db, &acme, REPO, "nope").await; // fails
    delete_tag(db, &acme, REPO, "latest").await.unwrap(); // 5
    let _ = delete_manifest(db, &acme, OTHER, &d(1)).await; // fails
    delete_manifest(db, &acme, REPO, &d(2)).await.unwrap(); // 6
    let _ = s.unlink_blob(OTHER, &d(100)).await; // fails, no record anyway
    s.unlink_blob(REPO, &d(100)).await.unwrap(); // no record
    s.append_audit(&audit(&acme, "registry.pull.refused", "repository:x"))
        .await
        .unwrap(); // 7
    delete_manifest(db, &acme, REPO, &d(1)).await.unwrap(); // 8
    assert_eq!(db.verified_len().await, 8);
}

pub async fn namespace_blobs_are_the_distinct_links_under_one_org(db: &TestDb) {
    let s = &db.store;
    s.link_blob(REPO, &d(1)).await.unwrap();
    s.link_blob(OTHER, &d(1)).await.unwrap();
    s.link_blob(OTHER, &d(2)).await.unwrap();
    s.link_blob("acmecorp/app", &d(3)).await.unwrap();
    s.link_blob("globex/app", &d(4)).await.unwrap();
    assert_eq!(
        s.namespace_blobs("acme").await.unwrap(),
        vec![d(1), d(2)],
        "each digest once, only acme's"
    );
    assert_eq!(s.namespace_blobs("acmecorp").await.unwrap(), vec![d(3)]);
    assert!(s.namespace_blobs("nobody").await.unwrap().is_empty());
}

pub async fn upload_sessions_belong_to_the_repository_that_opened_them(db: &TestDb) {
    let s = &db.store;
    let at = chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
    s.open_upload("u-1", "acme/app", at).await.unwrap();
    assert_eq!(
        s.upload_repository("u-1").await.unwrap().as_deref(),
        Some("acme/app")
    );
    assert_eq!(s.upload_repository("u-2").await.unwrap(), None);
    assert!(matches!(
        s.open_upload("u-1", "other/app", at).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(s.close_upload("u-1").await.unwrap());
    assert!(!s.close_upload("u-1").await.unwrap());
    assert_eq!(s.upload_repository("u-1").await.unwrap(), None);
}
