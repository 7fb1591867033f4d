//! Supply-chain scans: score history with what goes with it (component index, verified keys,
//! notifications, blocks) written all or nothing with the audit record; the package and key
//! lookups the re-scan uses; the org's supply settings; and the durable job queue (claim,
//! lease, compare-and-set finish, all-or-nothing enqueue with an import or a revocation).

use crate::fixtures::*;
use crate::harness::TestDb;
use chrono::Duration;
use plaza_core::audit::AuditFilter;
use plaza_core::identity::{Org, Role};
use plaza_core::ids::{OrgId, TeamId, UserId};
use plaza_core::ports::ScanWrite;
use plaza_core::supply::{KeyAlgorithm, PublisherKey, StoredAdvisory};
use plaza_core::supply_gate::{
    ComponentRecord, JobKind, JobState, Notification, Recipient, ScanCause, ScanRecord, SupplyJob,
    SupplySettings, VersionBlock, VersionRef,
};
use plaza_supply::sign::slsa::provenance::TrustedBuilder;
use serde_json::json;

fn scan(org: &Org, app: &str, version: &str, ms: i64, cause: ScanCause, score: i64) -> ScanRecord {
    ScanRecord {
        org_id: org.id.clone(),
        app_id: app.to_owned(),
        version: version.to_owned(),
        seq: 0,
        scanned_at: at(ms),
        cause,
        score,
        report: json!({"score": score, "ünïcödé": "✓"}),
    }
}

fn component(eco: &str, name: &str, version: &str) -> ComponentRecord {
    ComponentRecord {
        ecosystem: eco.to_owned(),
        name: name.to_owned(),
        version: version.to_owned(),
        purl: format!("pkg:{}/{name}@{version}", eco.to_lowercase()),
    }
}

fn vref(org: &Org, app: &str, version: &str) -> VersionRef {
    VersionRef {
        org_id: org.id.clone(),
        app_id: app.to_owned(),
        version: version.to_owned(),
    }
}

fn job(id: &str, kind: JobKind, ms: i64) -> SupplyJob {
    SupplyJob {
        id: id.to_owned(),
        kind,
        payload: json!({"advisories": [id]}),
        state: JobState::Queued,
        attempts: 0,
        created_at: at(ms),
        updated_at: at(ms),
        error: None,
    }
}

fn note(org: &Org, id: &str, recipient: Recipient, ms: i64) -> Notification {
    Notification {
        id: id.to_owned(),
        org_id: org.id.clone(),
        recipient,
        kind: "supply.rescan".to_owned(),
        subject: format!("subject {id}"),
        body: json!({"id": id}),
        created_at: at(ms),
    }
}

async fn record(db: &TestDb, write: ScanWrite<'_>) -> i64 {
    let target = format!("app:{}@{}", write.scan.app_id, write.scan.version);
    db.store
        .record_scan(
            write,
            &plaza_core::audit::AuditEntry::new(
                at(0),
                Some(write.scan.org_id.clone()),
                "system:supply",
                "supply.scan",
                target,
                json!({}),
            ),
        )
        .await
        .expect("record scan")
}

fn plain<'a>(s: &'a ScanRecord) -> ScanWrite<'a> {
    ScanWrite {
        scan: s,
        components: None,
        key_ids: None,
        notifications: &[],
        block: None,
    }
}

pub async fn scans_keep_history_and_replace_indexes(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let a1 = scan(&acme, "com.acme.a", "1.0.0", 10, ScanCause::Submission, 90);
    let comps = vec![
        component("crates.io", "serde", "1.0.0"),
        component("PyPI", "django", "1.11.1"),
        component("PyPI", "django", "1.11.1"), // the same purl twice is indexed once
    ];
    let keys = vec!["k1".to_owned(), "k2".to_owned()];
    let seq = record(
        db,
        ScanWrite {
            scan: &a1,
            components: Some(&comps),
            key_ids: Some(&keys),
            notifications: &[],
            block: None,
        },
    )
    .await;
    assert_eq!(seq, 1);
    let b1 = scan(&acme, "com.acme.b", "2.0.0", 11, ScanCause::Submission, 80);
    let b_comps = vec![component("crates.io", "serde", "1.0.1")];
    let b_keys = vec!["k2".to_owned()];
    record(
        db,
        ScanWrite {
            scan: &b1,
            components: Some(&b_comps),
            key_ids: Some(&b_keys),
            notifications: &[],
            block: None,
        },
    )
    .await;
    // Another org with the same package and key id.
    let o1 = scan(
        &other,
        "com.other.c",
        "1.0.0",
        12,
        ScanCause::Submission,
        70,
    );
    record(
        db,
        ScanWrite {
            scan: &o1,
            components: Some(&b_comps),
            key_ids: Some(&b_keys),
            notifications: &[],
            block: None,
        },
    )
    .await;

    assert_eq!(
        s.version_components(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap(),
        vec![
            component("PyPI", "django", "1.11.1"),
            component("crates.io", "serde", "1.0.0"),
        ]
    );
    // Packages find versions of every org, each once.
    let found = s
        .versions_with_packages(&[
            ("crates.io".into(), "serde".into()),
            ("crates.io".into(), "serde".into()),
            ("npm".into(), "left-pad".into()),
        ])
        .await
        .unwrap();
    let mut want = vec![
        vref(&acme, "com.acme.a", "1.0.0"),
        vref(&acme, "com.acme.b", "2.0.0"),
        vref(&other, "com.other.c", "1.0.0"),
    ];
    want.sort();
    assert_eq!(found, want);
    assert_eq!(
        s.versions_with_packages(&[("PyPI".into(), "django".into())])
            .await
            .unwrap(),
        vec![vref(&acme, "com.acme.a", "1.0.0")]
    );
    assert!(s.versions_with_packages(&[]).await.unwrap().is_empty());
    // Keys find versions of one org only.
    assert_eq!(
        s.versions_verified_by_key(&acme.id, "k2").await.unwrap(),
        vec![
            vref(&acme, "com.acme.a", "1.0.0"),
            vref(&acme, "com.acme.b", "2.0.0"),
        ]
    );
    assert_eq!(
        s.versions_verified_by_key(&acme.id, "k1").await.unwrap(),
        vec![vref(&acme, "com.acme.a", "1.0.0")]
    );

    // A re-scan keeps components (None) and replaces keys (Some, empty).
    let a2 = scan(&acme, "com.acme.a", "1.0.0", 20, ScanCause::KeyRevoked, 40);
    assert_eq!(
        record(
            db,
            ScanWrite {
                key_ids: Some(&[]),
                ..plain(&a2)
            }
        )
        .await,
        2
    );
    assert!(s
        .versions_verified_by_key(&acme.id, "k1")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.version_components(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap()
            .len(),
        2
    );
    // New components replace the old ones.
    let a3 = scan(&acme, "com.acme.a", "1.0.0", 30, ScanCause::Vulndb, 35);
    let fewer = vec![component("npm", "left-pad", "1.3.0")];
    record(
        db,
        ScanWrite {
            components: Some(&fewer),
            ..plain(&a3)
        },
    )
    .await;
    assert_eq!(
        s.versions_with_packages(&[("PyPI".into(), "django".into())])
            .await
            .unwrap(),
        vec![]
    );

    let history = s.list_scans(&acme.id, "com.acme.a", "1.0.0").await.unwrap();
    assert_eq!(
        history.iter().map(|h| (h.seq, h.score)).collect::<Vec<_>>(),
        vec![(1, 90), (2, 40), (3, 35)]
    );
    assert_eq!(history[1].cause, ScanCause::KeyRevoked);
    assert_eq!(history[0].report, a1.report);
    assert_eq!(history[2].scanned_at, at(30));
    let latest = s
        .latest_scan(&acme.id, "com.acme.a", "1.0.0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.seq, latest.cause), (3, ScanCause::Vulndb));
    assert!(s
        .latest_scan(&acme.id, "com.acme.a", "9.9.9")
        .await
        .unwrap()
        .is_none());
    // Each scan is audited.
    let audited = s
        .list_audit(&AuditFilter {
            action_prefix: Some("supply.scan".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 5);
}

pub async fn rescan_writes_notifications_and_blocks_all_or_nothing(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let team = TeamId::from("team_x");
    let user = UserId::from("usr_y");
    let first = scan(&acme, "com.acme.a", "1.0.0", 10, ScanCause::Submission, 90);
    record(db, plain(&first)).await;
    let notes = vec![
        note(&acme, "n1", Recipient::User(user.clone()), 20),
        note(&acme, "n2", Recipient::Team(team.clone()), 20),
    ];
    let block = VersionBlock {
        org_id: acme.id.clone(),
        app_id: "com.acme.a".into(),
        version: "1.0.0".into(),
        reason: "critical vulnerabilities with a fix available: X".into(),
        blocked_at: at(20),
    };
    let second = scan(&acme, "com.acme.a", "1.0.0", 20, ScanCause::Vulndb, 30);
    record(
        db,
        ScanWrite {
            notifications: &notes,
            block: Some(&block),
            ..plain(&second)
        },
    )
    .await;
    assert_eq!(
        s.version_block(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap(),
        Some(block.clone())
    );
    assert_eq!(
        s.version_block(&acme.id, "com.acme.a", "2.0.0")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.list_notifications(&acme.id, &Recipient::User(user.clone()), 10)
            .await
            .unwrap(),
        vec![notes[0].clone()]
    );
    assert_eq!(
        s.list_notifications(&acme.id, &Recipient::Team(team.clone()), 10)
            .await
            .unwrap(),
        vec![notes[1].clone()]
    );
    // A user and a team with the same id are different recipients; newest first; limit.
    let later = vec![
        note(&acme, "n3", Recipient::User(user.clone()), 30),
        note(&acme, "n4", Recipient::User(user.clone()), 40),
    ];
    let third = scan(&acme, "com.acme.a", "1.0.0", 40, ScanCause::Vulndb, 30);
    let block2 = VersionBlock {
        reason: "the signature no longer verifies".into(),
        blocked_at: at(40),
        ..block.clone()
    };
    record(
        db,
        ScanWrite {
            notifications: &later,
            block: Some(&block2),
            ..plain(&third)
        },
    )
    .await;
    let got = s
        .list_notifications(&acme.id, &Recipient::User(user.clone()), 2)
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        vec!["n4", "n3"]
    );
    assert_eq!(
        s.version_block(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap()
            .unwrap()
            .reason,
        "the signature no longer verifies"
    );

    // A failing write (a notification id taken) leaves nothing: no scan, no block change, no
    // audit record.
    let before = db.verified_len().await;
    let clash = vec![
        note(&acme, "n9", Recipient::Team(team.clone()), 50),
        note(&acme, "n1", Recipient::Team(team.clone()), 50),
    ];
    let fourth = scan(&acme, "com.acme.a", "1.0.0", 50, ScanCause::Vulndb, 10);
    let other_block = VersionBlock {
        reason: "should not be stored".into(),
        ..block.clone()
    };
    let result = s
        .record_scan(
            ScanWrite {
                notifications: &clash,
                block: Some(&other_block),
                ..plain(&fourth)
            },
            &entry(Some(&acme), "supply.rescan", "app:com.acme.a@1.0.0"),
        )
        .await;
    expect_conflict(result, "notification", "clashes");
    assert_eq!(db.verified_len().await, before);
    assert_eq!(
        s.list_scans(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.version_block(&acme.id, "com.acme.a", "1.0.0")
            .await
            .unwrap()
            .unwrap()
            .reason,
        "the signature no longer verifies"
    );
    assert!(s
        .list_notifications(&acme.id, &Recipient::Team(team), 10)
        .await
        .unwrap()
        .iter()
        .all(|n| n.id != "n9"));
    // A scan of an unknown org is refused.
    let ghost = Org {
        id: OrgId::from("org_ghost"),
        ..acme.clone()
    };
    let g = scan(&ghost, "x", "1", 1, ScanCause::Submission, 1);
    expect_not_found(
        s.record_scan(plain(&g), &entry(None, "supply.scan", "x"))
            .await,
        "org",
    );
}

pub async fn supply_settings_default_and_are_replaced_audited(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    assert_eq!(
        s.supply_settings(&acme.id).await.unwrap(),
        SupplySettings {
            trusted_builders: vec![],
            block_on_rescan: true
        }
    );
    let set = SupplySettings {
        trusted_builders: vec![
            TrustedBuilder {
                id: "https://github.com/actions/runner".into(),
                level: 3,
            },
            TrustedBuilder {
                id: "https://plaza.dev/builders/local@v1".into(),
                level: 1,
            },
        ],
        block_on_rescan: false,
    };
    s.set_supply_settings(
        &acme.id,
        &set,
        &entry(Some(&acme), "supply.settings.set", "org"),
    )
    .await
    .unwrap();
    assert_eq!(s.supply_settings(&acme.id).await.unwrap(), set);
    let again = SupplySettings::default();
    s.set_supply_settings(
        &acme.id,
        &again,
        &entry(Some(&acme), "supply.settings.set", "org"),
    )
    .await
    .unwrap();
    assert_eq!(s.supply_settings(&acme.id).await.unwrap(), again);
    expect_not_found(
        s.set_supply_settings(
            &OrgId::from("org_ghost"),
            &set,
            &entry(None, "supply.settings.set", "org"),
        )
        .await,
        "org",
    );
    let audited = s
        .list_audit(&AuditFilter {
            action_prefix: Some("supply.settings.set".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

pub async fn jobs_are_claimed_once_leased_and_reclaimed_after_a_crash(db: &TestDb) {
    let s = &*db.store;
    s.enqueue_supply_job(&job("j1", JobKind::Vulndb, 1))
        .await
        .unwrap();
    s.enqueue_supply_job(&job("j2", JobKind::KeyRevoked, 2))
        .await
        .unwrap();
    expect_conflict(
        s.enqueue_supply_job(&job("j1", JobKind::Vulndb, 3)).await,
        "supply job",
        "clashes",
    );
    let lease = Duration::minutes(10);
    let now = at(100_000);
    // Oldest first.
    let first = s
        .claim_supply_job(now, now - lease, 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.id.as_str(), first.state, first.attempts),
        ("j1", JobState::Running, 1)
    );
    assert_eq!(first.payload, json!({"advisories": ["j1"]}));
    let second = s
        .claim_supply_job(now, now - lease, 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, "j2");
    assert_eq!(second.kind, JobKind::KeyRevoked);
    // Both are running and leased: nothing to claim.
    assert!(s
        .claim_supply_job(now, now - lease, 5)
        .await
        .unwrap()
        .is_none());
    // j2's worker finishes.
    assert!(s
        .finish_supply_job("j2", 1, JobState::Done, None, now)
        .await
        .unwrap());
    // j1's worker "crashes". Before the lease runs out, j1 stays its.
    let soon = now + Duration::minutes(5);
    assert!(s
        .claim_supply_job(soon, soon - lease, 5)
        .await
        .unwrap()
        .is_none());
    // After the lease, another worker claims it again (attempt 2).
    let later = now + Duration::minutes(11);
    let again = s
        .claim_supply_job(later, later - lease, 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("j1", 2));
    assert_eq!(again.updated_at, later);
    // The crashed worker's late finish does not count: the claim is no longer its.
    assert!(!s
        .finish_supply_job("j1", 1, JobState::Done, None, later)
        .await
        .unwrap());
    // The new worker fails it: back to queued with the error, claimable at once.
    assert!(s
        .finish_supply_job("j1", 2, JobState::Queued, Some("boom"), later)
        .await
        .unwrap());
    let queued = s
        .list_supply_jobs(Some(JobState::Queued), 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].error.as_deref(), Some("boom"));
    // max_attempts: a job claimed that often is not claimed again.
    assert!(s
        .claim_supply_job(later, later - lease, 2)
        .await
        .unwrap()
        .is_none());
    let third = s
        .claim_supply_job(later, later - lease, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempts, 3);
    assert!(s
        .finish_supply_job("j1", 3, JobState::Failed, Some("gave up"), later)
        .await
        .unwrap());
    let all = s.list_supply_jobs(None, 10).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|j| (j.id.as_str(), j.state))
            .collect::<Vec<_>>(),
        vec![("j1", JobState::Failed), ("j2", JobState::Done)]
    );
    assert_eq!(s.list_supply_jobs(None, 1).await.unwrap().len(), 1, "limit");
    // Jobs survive a restart: a new connection sees them.
    let reopened = db.reconnect().await.expect("reconnect");
    use plaza_core::ports::ScanRepo;
    assert_eq!(reopened.list_supply_jobs(None, 10).await.unwrap(), all);
}

pub async fn concurrent_claims_never_share_a_job(db: &TestDb) {
    let s = db.store.clone();
    for i in 0..20 {
        s.enqueue_supply_job(&job(&format!("j{i:02}"), JobKind::Vulndb, i))
            .await
            .unwrap();
    }
    let now = at(1_000_000);
    let mut handles = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(j) = s
                .claim_supply_job(now, now - Duration::minutes(10), 5)
                .await
                .expect("claim")
            {
                got.push(j.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort();
    let want: Vec<String> = (0..20).map(|i| format!("j{i:02}")).collect();
    assert_eq!(all, want, "every job claimed exactly once");
}

fn advisory(id: &str, packages: &[(&str, &str)]) -> StoredAdvisory {
    StoredAdvisory {
        id: id.to_owned(),
        digest: format!("digest-{id}"),
        modified: "2024-01-01T00:00:00Z".to_owned(),
        withdrawn: false,
        body: json!({"id": id}).to_string(),
        packages: packages
            .iter()
            .map(|(e, n)| ((*e).to_owned(), (*n).to_owned()))
            .collect(),
    }
}

pub async fn imports_and_revocations_enqueue_their_job_all_or_nothing(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    // An import with its job: both stored.
    s.apply_advisory_import(
        &[advisory("A-1", &[("PyPI", "django")])],
        &[],
        at(1),
        &entry(None, "vulndb.import", "vulndb"),
        Some(&job("import-1", JobKind::Vulndb, 1)),
    )
    .await
    .unwrap();
    assert_eq!(s.list_advisories().await.unwrap().len(), 1);
    assert_eq!(s.list_supply_jobs(None, 10).await.unwrap().len(), 1);
    // An import whose job clashes: neither the advisories nor the job are stored.
    let before = db.verified_len().await;
    expect_conflict(
        s.apply_advisory_import(
            &[advisory("A-2", &[("npm", "x")])],
            &["A-1".to_owned()],
            at(2),
            &entry(None, "vulndb.import", "vulndb"),
            Some(&job("import-1", JobKind::Vulndb, 2)),
        )
        .await,
        "supply job",
        "clashes",
    );
    assert_eq!(db.verified_len().await, before);
    let ids: Vec<String> = s
        .list_advisories()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec!["A-1".to_owned()]);
    // Without a job, only the import.
    s.apply_advisory_import(
        &[advisory("A-3", &[])],
        &[],
        at(3),
        &entry(None, "vulndb.import", "vulndb"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.list_supply_jobs(None, 10).await.unwrap().len(), 1);

    // Revocation with its job.
    let key = PublisherKey {
        org_id: acme.id.clone(),
        key_id: "k1".into(),
        publisher: "did:example:p".into(),
        algorithm: KeyAlgorithm::Ed25519,
        public_pem: "pem".into(),
        not_before: at(0),
        not_after: None,
        revoked_at: None,
        revocation_reason: None,
        created_by: zoe.id.clone(),
        created_at: at(0),
    };
    s.create_publisher_key(
        &key,
        None,
        &entry(Some(&acme), "publisher.key.register", "k1"),
    )
    .await
    .unwrap();
    // A clashing job leaves the key unrevoked.
    expect_conflict(
        s.revoke_publisher_key(
            &acme.id,
            "k1",
            at(5),
            "leaked",
            &entry(Some(&acme), "publisher.key.revoke", "k1"),
            Some(&job("import-1", JobKind::KeyRevoked, 5)),
        )
        .await,
        "supply job",
        "clashes",
    );
    assert_eq!(
        s.list_publisher_keys(&acme.id, None).await.unwrap()[0].revoked_at,
        None
    );
    let revoked = s
        .revoke_publisher_key(
            &acme.id,
            "k1",
            at(6),
            "leaked",
            &entry(Some(&acme), "publisher.key.revoke", "k1"),
            Some(&job("revoke-1", JobKind::KeyRevoked, 6)),
        )
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(6)));
    let jobs = s
        .list_supply_jobs(Some(JobState::Queued), 10)
        .await
        .unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec!["import-1", "revoke-1"]
    );
    // Revoking again conflicts and enqueues nothing.
    expect_conflict(
        s.revoke_publisher_key(
            &acme.id,
            "k1",
            at(7),
            "again",
            &entry(Some(&acme), "publisher.key.revoke", "k1"),
            Some(&job("revoke-2", JobKind::KeyRevoked, 7)),
        )
        .await,
        "publisher key",
        "already revoked",
    );
    assert_eq!(s.list_supply_jobs(None, 10).await.unwrap().len(), 2);
}
