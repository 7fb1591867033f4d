//! The audit log: appends, filters, the hash chain under mixed and concurrent writes, atomicity
//! of failed changes, and tamper detection at the store level.

use crate::fixtures::*;
use crate::harness::{Kind, TestDb};
use plaza_core::audit::{verify_chain, AuditEntry, AuditFilter, GENESIS_HASH};
use plaza_core::identity::{Role, RoleSet};
use plaza_core::ids::OrgId;
use plaza_core::ports::Store;
use serde_json::json;
use std::sync::Arc;

fn record(org: Option<&str>, actor: &str, action: &str, target: &str, ms: i64) -> AuditEntry {
    AuditEntry::new(
        at(ms),
        org.map(OrgId::from),
        actor,
        action,
        target,
        json!({"target": target, "nested": {"z": 1, "a": [true, null, 2.5]}}),
    )
}

pub async fn appended_records_are_chained_from_genesis(db: &TestDb) {
    let s = &*db.store;
    let first = s
        .append_audit(&record(None, "system", "login.refused", "user:x", 0))
        .await;
    let first = first.unwrap();
    assert_eq!((first.seq, first.prev_hash.as_str()), (1, GENESIS_HASH));
    let second = s
        .append_audit(&record(
            Some("org_a"),
            "system",
            "login.refused",
            "user:y",
            1,
        ))
        .await
        .unwrap();
    assert_eq!((second.seq, &second.prev_hash), (2, &first.hash));
    let (records, head) = db.chain().await;
    assert_eq!(records, vec![first, second.clone()]);
    assert_eq!((head.seq, head.hash), (2, second.hash));
}

pub async fn list_audit_honours_every_filter(db: &TestDb) {
    let s = &*db.store;
    let rows = [
        (Some("org_a"), "user:ann", "token.create", "token:1", 0),
        (Some("org_a"), "user:ann", "token.revoke", "token:1", 10),
        (Some("org_b"), "user:bob", "team.create", "team:1", 20),
        (None, "system", "tokenizer.run", "job:1", 30),
        (Some("org_a"), "user:bob", "team.member.add", "team:1", 40),
    ];
    for (org, actor, action, target, ms) in rows {
        s.append_audit(&record(org, actor, action, target, ms))
            .await
            .unwrap();
    }
    let cases: Vec<(&str, AuditFilter, Vec<i64>)> = vec![
        ("none", AuditFilter::default(), vec![1, 2, 3, 4, 5]),
        (
            "org",
            AuditFilter {
                org_id: Some("org_a".into()),
                ..Default::default()
            },
            vec![1, 2, 5],
        ),
        (
            "actor",
            AuditFilter {
                actor: Some("user:bob".into()),
                ..Default::default()
            },
            vec![3, 5],
        ),
        (
            "action prefix with dot",
            AuditFilter {
                action_prefix: Some("token.".into()),
                ..Default::default()
            },
            vec![1, 2],
        ),
        (
            "action prefix without dot",
            AuditFilter {
                action_prefix: Some("token".into()),
                ..Default::default()
            },
            vec![1, 2, 4],
        ),
        (
            "exact action as prefix",
            AuditFilter {
                action_prefix: Some("token.revoke".into()),
                ..Default::default()
            },
            vec![2],
        ),
        (
            "prefix is case-sensitive and literal",
            AuditFilter {
                action_prefix: Some("TOKEN%".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            "target",
            AuditFilter {
                target: Some("team:1".into()),
                ..Default::default()
            },
            vec![3, 5],
        ),
        (
            "since (inclusive)",
            AuditFilter {
                since: Some(at(20)),
                ..Default::default()
            },
            vec![3, 4, 5],
        ),
        (
            "until (exclusive)",
            AuditFilter {
                until: Some(at(20)),
                ..Default::default()
            },
            vec![1, 2],
        ),
        (
            "after seq",
            AuditFilter {
                after_seq: Some(3),
                ..Default::default()
            },
            vec![4, 5],
        ),
        (
            "limit",
            AuditFilter {
                limit: Some(2),
                ..Default::default()
            },
            vec![1, 2],
        ),
        (
            "zero limit",
            AuditFilter {
                limit: Some(0),
                ..Default::default()
            },
            vec![],
        ),
        (
            "page after seq with limit",
            AuditFilter {
                after_seq: Some(1),
                limit: Some(2),
                ..Default::default()
            },
            vec![2, 3],
        ),
        (
            "combined",
            AuditFilter {
                org_id: Some("org_a".into()),
                actor: Some("user:ann".into()),
                action_prefix: Some("token.".into()),
                target: Some("token:1".into()),
                since: Some(at(5)),
                until: Some(at(11)),
                ..Default::default()
            },
            vec![2],
        ),
    ];
    for (name, filter, want) in cases {
        let got: Vec<i64> = s
            .list_audit(&filter)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(got, want, "filter: {name}");
    }
    let all = s.list_audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(all, db.chain().await.0, "listed records equal the chain's");
}

pub async fn the_chain_verifies_after_mixed_operations(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Author]).await;
    let e = |a: &str| entry(Some(&acme), a, "x");
    s.add_team_member(&web.id, &zoe.id, &e("team.member.add"))
        .await
        .unwrap();
    let t = token(&zoe, "ci", 9);
    s.create_token(&t, &e("token.create")).await.unwrap();
    let _ = s.revoke_token(&t.id, at(99), &e("token.revoke")).await;
    let _ = s.revoke_token(&t.id, at(99), &e("token.revoke")).await; // fails: not recorded
    let _ = s.create_team(&team(&acme, "web"), &e("team.create")).await; // fails
    s.set_user_roles(&zoe.id, &RoleSet::new([Role::Admin]), &e("user.roles"))
        .await
        .unwrap();
    s.create_app_version(
        &app(&acme, &zoe, "com.example.a", "1.0.0"),
        &e("app.version"),
    )
    .await
    .unwrap();
    s.append_audit(&e("login.refused")).await.unwrap();
    s.remove_team_member(&web.id, &zoe.id, &e("team.member.remove"))
        .await
        .unwrap();
    assert_eq!(db.verified_len().await, 10);
}

pub async fn a_failed_change_leaves_no_record_and_no_head_change(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    seed_team(s, &acme, "platform").await;
    let before = db.chain().await;
    let dup = team(&acme, "platform");
    assert!(s
        .create_team(&dup, &entry(Some(&acme), "team.create", "t"))
        .await
        .is_err());
    assert_eq!(db.chain().await, before);
    assert_eq!(s.list_teams(&acme.id).await.unwrap().len(), 1);
    // The chain continues from the same head afterwards.
    seed_team(s, &acme, "web").await;
    assert_eq!(db.verified_len().await, before.1.seq + 1);
}

pub async fn concurrent_writers_keep_the_chain_intact(db: &TestDb) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 20;
    let store: Arc<dyn Store> = db.store.clone();
    let acme = seed_org(&*store, "acme").await;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let acme = acme.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let t = team(&acme, &format!("t{task}-{i}"));
                let e = entry(Some(&acme), "team.create", &format!("team:{}", t.id));
                store
                    .create_team(&t, &e)
                    .await
                    .expect("concurrent create_team");
                if i % 5 == 0 {
                    store
                        .append_audit(&entry(None, "probe", "none"))
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("writer task");
    }
    let teams = store.list_teams(&acme.id).await.unwrap();
    assert_eq!(teams.len(), TASKS * PER_TASK);
    let expected = 1 + TASKS * PER_TASK + TASKS * PER_TASK / 5;
    assert_eq!(db.verified_len().await, expected as i64);
}

/// Three records with the chain verified, ready for tampering.
async fn three_records(db: &TestDb) {
    for i in 0..3 {
        db.store
            .append_audit(&record(
                Some("org_a"),
                "system",
                "probe",
                &format!("t:{i}"),
                i,
            ))
            .await
            .unwrap();
    }
    assert_eq!(db.verified_len().await, 3);
    db.allow_tampering().await;
}

async fn break_seq(db: &TestDb) -> (i64, String) {
    let (records, head) = db.chain().await;
    let err = verify_chain(records, &head).expect_err("tampering must be detected");
    (err.seq, err.reason)
}

pub async fn the_database_refuses_to_change_or_delete_audit_records(db: &TestDb) {
    for i in 0..2 {
        db.store
            .append_audit(&record(
                Some("org_a"),
                "system",
                "probe",
                &format!("t:{i}"),
                i,
            ))
            .await
            .unwrap();
    }
    for sql in [
        "UPDATE audit_log SET target = 'team:evil' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ] {
        let err = db.try_exec(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if db.kind == Kind::Postgres {
        let err = db
            .try_exec("TRUNCATE audit_log")
            .await
            .expect_err("truncate");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(db.verified_len().await, 2);
}

pub async fn an_edited_record_breaks_the_chain_there(db: &TestDb) {
    three_records(db).await;
    db.exec("UPDATE audit_log SET target = 'team:evil' WHERE seq = 2")
        .await;
    let (seq, reason) = break_seq(db).await;
    assert_eq!(seq, 2);
    assert!(reason.contains("edited"), "{reason}");
}

pub async fn a_deleted_middle_record_breaks_the_chain(db: &TestDb) {
    three_records(db).await;
    db.exec("DELETE FROM audit_log WHERE seq = 2").await;
    assert_eq!(break_seq(db).await.0, 3);
}

pub async fn swapped_records_break_the_chain(db: &TestDb) {
    three_records(db).await;
    db.exec(
        "UPDATE audit_log SET seq = -1 WHERE seq = 2; \
         UPDATE audit_log SET seq = 2 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3 WHERE seq = -1;",
    )
    .await;
    assert_eq!(break_seq(db).await.0, 2);
}

pub async fn a_deleted_last_record_is_caught_by_the_head(db: &TestDb) {
    three_records(db).await;
    db.exec("DELETE FROM audit_log WHERE seq = 3").await;
    let (seq, reason) = break_seq(db).await;
    assert_eq!(seq, 3);
    assert!(reason.contains("head"), "{reason}");
}

pub async fn timestamps_round_trip_at_millisecond_precision(db: &TestDb) {
    let s = &*db.store;
    let precise = at(7); // ends in ...130 ms
    let sub_ms = precise + chrono::Duration::microseconds(456);
    let mut o = org("acme");
    o.created_at = sub_ms;
    s.create_org(&o, &entry(None, "org.create", "o"))
        .await
        .unwrap();
    assert_eq!(
        s.get_org(&o.id).await.unwrap().created_at,
        precise,
        "kept to the millisecond"
    );
    let mut e = record(None, "system", "probe", "t", 0);
    e.at = sub_ms; // bypassing AuditEntry::new's truncation
    let rec = s.append_audit(&e).await.unwrap();
    assert_eq!(rec.entry.at, precise);
    let (records, _) = db.chain().await;
    assert_eq!(records.last().unwrap(), &rec);
    for ms in [0_i64, 1, 999, -1_700_000_000_123, 4_102_444_800_000] {
        let r = s
            .append_audit(&record(None, "system", "probe", "t", ms))
            .await
            .unwrap();
        let back = s
            .list_audit(&AuditFilter {
                after_seq: Some(r.seq - 1),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(back[0].entry.at, at(ms), "{ms}");
    }
    assert_eq!(db.verified_len().await, 7);
}
