//! Installs: instances with their grants, optimistic updates by revision, revocation of
//! downstream credentials at uninstall, the grant-use record, token-signing keys and downstream
//! credentials.

use crate::fixtures::*;
use crate::harness::TestDb;
use chrono::Duration;
use plaza_core::capability::{SigningKey, MAX_TTL};
use plaza_core::identity::Role;
use plaza_core::ids::{OrgId, TeamId, UserId};
use plaza_core::install::{
    BillingMode, DownstreamCredential, GrantKind, GrantUse, Instance, InstanceId, InstanceStatus,
    PendingUpgrade, PermissionDelta, ResourceChange,
};
use plaza_core::ports::InstanceFilter;
use plaza_core::token::TokenHash;
use plaza_core::StoreError;
use std::collections::BTreeMap;

/// Asserts `result` is a `NotFound`, whatever the entity.
#[track_caller]
fn expect_any_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "expected not found, got {result:?}"
    );
}

/// An instance with every optional part filled: several tags, a previous grant, a pending
/// upgrade, sandbox billing, updated after it was created, at revision 1.
fn full_instance(
    team: &plaza_core::identity::Team,
    app: &plaza_core::apps::AppVersion,
    by: &plaza_core::identity::User,
    id: &str,
) -> Instance {
    let mut i = instance(team, app, by, id, 12);
    let mut tags = BTreeMap::new();
    tags.insert("cost-center".to_owned(), "CC-1234".to_owned());
    tags.insert("product".to_owned(), "lunch ✓ \"quoted\"".to_owned());
    tags.insert("team/owner".to_owned(), String::new());
    i.tags = tags;
    i.billing_mode = BillingMode::Sandbox;
    i.auto_upgrade = false;
    i.previous = Some(grant("0.9.0", None, 17));
    i.pending_upgrade = Some(PendingUpgrade {
        version: "1.1.0".to_owned(),
        delta: PermissionDelta {
            from_version: app.version.clone(),
            to_version: "1.1.0".to_owned(),
            added_scopes: vec!["contacts.read".to_owned()],
            removed_scopes: vec![],
            added_egress: vec!["new.example.com".to_owned()],
            removed_egress: vec!["maps.example.com:8443".to_owned()],
            resources: vec![ResourceChange {
                resource: "memory".to_owned(),
                from: "128Mi".to_owned(),
                to: "256Mi".to_owned(),
                widens: true,
            }],
            runtime: Some(("wasm/wasi-1.0".to_owned(), "wasm/wasi-2.0".to_owned())),
            widens: true,
        },
        requested_by: Some(by.id.clone()),
        requested_at: at(5_555),
    });
    i.updated_at = at(9_999);
    i
}

pub async fn instances_round_trip_and_are_listed_by_org_app_and_team(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let web = seed_team(s, &acme, "web").await;
    let data = seed_team(s, &acme, "data").await;
    let elsewhere = seed_team(s, &other, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let eve = seed_user(s, &other, "eve", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    let b = seed_app(s, &acme, &zoe, "com.example.b", "2.0.0").await;
    let x = seed_app(s, &other, &eve, "com.other.x", "1.0.0").await;

    // Every field set, and the minimal shape: no tags, no previous grant, nothing pending,
    // nobody consented, waiting for consent.
    let full = full_instance(&web, &a, &zoe, "inst-full");
    let mut bare = instance(&data, &b, &zoe, "inst-bare", 20);
    bare.tags = BTreeMap::new();
    bare.grant.granted_by = None;
    bare.grant.scopes = vec![];
    bare.grant.refused_scopes = vec![];
    bare.grant.egress = vec![];
    bare.status = InstanceStatus::PendingConsent;
    // Created out of chronological order: listing is oldest first, not insertion order.
    let late = instance(&web, &a, &zoe, "inst-late", 30);
    let early = instance(&data, &a, &zoe, "inst-early", 5);
    let foreign = instance(&elsewhere, &x, &eve, "inst-foreign", 1);
    for i in [&late, &full, &bare, &early, &foreign] {
        seed_instance(s, i).await;
    }

    assert_eq!(s.get_instance(&full.id).await.unwrap(), full);
    assert_eq!(s.get_instance(&bare.id).await.unwrap(), bare);
    assert_eq!(s.get_instance(&foreign.id).await.unwrap(), foreign);
    expect_not_found(
        s.get_instance(&InstanceId::from("inst-none")).await,
        "instance",
    );

    let acme_id = &acme.id;
    let list = |filter: InstanceFilter| async move {
        s.list_instances(acme_id, &filter)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        s.list_instances(&acme.id, &InstanceFilter::default())
            .await
            .unwrap(),
        vec![early.clone(), full.clone(), bare.clone(), late.clone()],
        "the org's instances, oldest first, exactly"
    );
    assert_eq!(
        list(InstanceFilter {
            app_id: Some("com.example.a".to_owned()),
            ..InstanceFilter::default()
        })
        .await,
        vec!["inst-early", "inst-full", "inst-late"]
    );
    assert_eq!(
        list(InstanceFilter {
            team_id: Some(web.id.clone()),
            ..InstanceFilter::default()
        })
        .await,
        vec!["inst-full", "inst-late"]
    );
    assert_eq!(
        list(InstanceFilter {
            app_id: Some("com.example.a".to_owned()),
            team_id: Some(data.id.clone()),
            ..InstanceFilter::default()
        })
        .await,
        vec!["inst-early"]
    );
    assert_eq!(
        list(InstanceFilter {
            app_id: Some("com.other.x".to_owned()),
            ..InstanceFilter::default()
        })
        .await,
        Vec::<String>::new(),
        "another org's app is not listed"
    );
    assert_eq!(
        list(InstanceFilter {
            team_id: Some(elsewhere.id.clone()),
            ..InstanceFilter::default()
        })
        .await,
        Vec::<String>::new()
    );

    // Uninstalled instances are listed only when asked for.
    let mut gone = s.get_instance(&late.id).await.unwrap();
    gone.status = InstanceStatus::Uninstalled;
    gone.updated_at = at(40);
    gone.revision = 2;
    s.update_instance(
        &gone,
        &entry_in(&acme.id, "instance.uninstall", "inst-late"),
    )
    .await
    .unwrap();
    assert_eq!(
        list(InstanceFilter::default()).await,
        vec!["inst-early", "inst-full", "inst-bare"]
    );
    assert_eq!(
        list(InstanceFilter {
            team_id: Some(web.id.clone()),
            ..InstanceFilter::default()
        })
        .await,
        vec!["inst-full"]
    );
    assert_eq!(
        s.list_instances(
            &acme.id,
            &InstanceFilter {
                team_id: Some(web.id.clone()),
                include_uninstalled: true,
                ..InstanceFilter::default()
            }
        )
        .await
        .unwrap(),
        vec![full, gone.clone()]
    );
    assert_eq!(s.get_instance(&gone.id).await.unwrap(), gone);
    assert_eq!(
        s.list_instances(&OrgId::from("org_none"), &InstanceFilter::default())
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        s.list_instances(&other.id, &InstanceFilter::default())
            .await
            .unwrap(),
        vec![foreign]
    );
}

pub async fn instance_creation_rules_are_enforced(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let web = seed_team(s, &acme, "web").await;
    let theirs = seed_team(s, &other, "theirs").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let eve = seed_user(s, &other, "eve", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    seed_app(s, &other, &eve, "com.other.x", "1.0.0").await;
    let first = instance(&web, &a, &zoe, "inst-first", 10);
    seed_instance(s, &first).await;
    let before = db.chain().await;
    let e = entry_in(&acme.id, "instance.create", "inst-x");

    // The same id again, even for another team and app version.
    let mut again = instance(&web, &a, &zoe, "inst-first", 20);
    again.spiffe_id = "spiffe://plaza.local/elsewhere".to_owned();
    expect_conflict(
        s.create_instance(&again, &e).await,
        "instance",
        "inst-first",
    );
    // Another id whose SPIFFE id is taken.
    let mut twin = instance(&web, &a, &zoe, "inst-twin", 20);
    twin.spiffe_id = first.spiffe_id.clone();
    expect_conflict(s.create_instance(&twin, &e).await, "instance", "");

    let mut no_team = instance(&web, &a, &zoe, "inst-no-team", 20);
    no_team.team_id = TeamId::generate();
    expect_not_found(s.create_instance(&no_team, &e).await, "team");
    let mut foreign_team = instance(&web, &a, &zoe, "inst-foreign-team", 20);
    foreign_team.team_id = theirs.id.clone();
    expect_not_found(s.create_instance(&foreign_team, &e).await, "team");

    let mut no_version = instance(&web, &a, &zoe, "inst-no-version", 20);
    no_version.version = "9.9.9".to_owned();
    expect_not_found(s.create_instance(&no_version, &e).await, "app version");
    let mut no_app = instance(&web, &a, &zoe, "inst-no-app", 20);
    no_app.app_id = "com.example.none".to_owned();
    expect_not_found(s.create_instance(&no_app, &e).await, "app version");
    // An app version of another org is not one the org may install.
    let mut foreign_app = instance(&web, &a, &zoe, "inst-foreign-app", 20);
    foreign_app.app_id = "com.other.x".to_owned();
    expect_not_found(s.create_instance(&foreign_app, &e).await, "app version");

    let mut no_org = instance(&web, &a, &zoe, "inst-no-org", 20);
    no_org.org_id = OrgId::generate();
    expect_any_not_found(s.create_instance(&no_org, &e).await);

    let mut nobody = instance(&web, &a, &zoe, "inst-nobody", 20);
    nobody.created_by = UserId::from("usr_none");
    expect_not_found(s.create_instance(&nobody, &e).await, "user");

    assert_eq!(
        db.chain().await,
        before,
        "a refused create leaves no audit record"
    );
    for id in [
        "inst-twin",
        "inst-no-team",
        "inst-foreign-team",
        "inst-no-version",
        "inst-no-app",
        "inst-foreign-app",
        "inst-no-org",
        "inst-nobody",
    ] {
        expect_not_found(s.get_instance(&InstanceId::from(id)).await, "instance");
    }
    assert_eq!(s.get_instance(&first.id).await.unwrap(), first);
    assert_eq!(
        s.list_instances(&acme.id, &InstanceFilter::default())
            .await
            .unwrap(),
        vec![first]
    );
    assert_eq!(
        s.list_instances(&other.id, &InstanceFilter::default())
            .await
            .unwrap(),
        vec![]
    );

    // A successful create appends exactly its own record.
    let second = instance(&web, &a, &zoe, "inst-second", 30);
    let create = entry_in(&acme.id, "instance.create", "inst-second");
    s.create_instance(&second, &create).await.unwrap();
    let (records, _) = db.chain().await;
    assert_eq!(records.len(), before.0.len() + 1);
    assert_eq!(records.last().unwrap().entry, create);
    assert_eq!(db.verified_len().await, records.len() as i64);
}

pub async fn updates_apply_only_at_the_next_revision(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    seed_app(s, &acme, &zoe, "com.example.a", "1.1.0").await;
    let created = instance(&web, &a, &zoe, "inst-up", 10);
    seed_instance(s, &created).await;
    let read = s.get_instance(&created.id).await.unwrap();
    let chain_len = db.chain().await.0.len();

    // An upgrade: new version and grant, the old grant kept, tags and settings changed.
    let mut upgraded = read.clone();
    upgraded.version = "1.1.0".to_owned();
    upgraded.previous = Some(read.grant.clone());
    upgraded.grant = grant("1.1.0", Some(&zoe), 100);
    upgraded.grant.egress.push("new.example.com".to_owned());
    upgraded
        .tags
        .insert("product".to_owned(), "lunch".to_owned());
    upgraded.billing_mode = BillingMode::Sandbox;
    upgraded.auto_upgrade = false;
    upgraded.updated_at = at(100);
    upgraded.revision = 2;
    let upgrade = entry_in(&acme.id, "instance.upgrade", "inst-up");
    s.update_instance(&upgraded, &upgrade).await.unwrap();
    assert_eq!(s.get_instance(&created.id).await.unwrap(), upgraded);
    let (records, _) = db.chain().await;
    assert_eq!(records.len(), chain_len + 1, "the update is audited");
    assert_eq!(records.last().unwrap().entry, upgrade);

    // A second writer that read the same revision loses, and changes nothing.
    let before = db.chain().await;
    let mut stale = read.clone();
    stale.tags.clear();
    stale.status = InstanceStatus::Uninstalled;
    stale.updated_at = at(200);
    stale.revision = 2;
    let e = entry_in(&acme.id, "instance.update", "inst-up");
    expect_conflict(
        s.update_instance(&stale, &e).await,
        "instance",
        "changed by someone else",
    );
    // Neither the revision it already has nor one that skips ahead applies.
    let mut same = upgraded.clone();
    same.auto_upgrade = true;
    expect_conflict(
        s.update_instance(&same, &e).await,
        "instance",
        "changed by someone else",
    );
    let mut skipping = upgraded.clone();
    skipping.auto_upgrade = true;
    skipping.revision = 4;
    expect_conflict(
        s.update_instance(&skipping, &e).await,
        "instance",
        "changed by someone else",
    );
    let mut ghost = upgraded.clone();
    ghost.id = InstanceId::from("inst-none");
    ghost.revision = 3;
    expect_not_found(s.update_instance(&ghost, &e).await, "instance");
    assert_eq!(
        db.chain().await,
        before,
        "a refused update leaves no audit record"
    );
    assert_eq!(s.get_instance(&created.id).await.unwrap(), upgraded);
    expect_not_found(s.get_instance(&ghost.id).await, "instance");

    // The next revision after the winner's applies: a pending upgrade is recorded, then
    // cleared at consent; each update appends its own record.
    let mut pending = upgraded.clone();
    pending.pending_upgrade = Some(PendingUpgrade {
        version: "2.0.0".to_owned(),
        delta: PermissionDelta {
            from_version: "1.1.0".to_owned(),
            to_version: "2.0.0".to_owned(),
            added_scopes: vec!["contacts.read".to_owned()],
            removed_scopes: vec!["calendar.write".to_owned()],
            added_egress: vec![],
            removed_egress: vec![],
            resources: vec![],
            runtime: None,
            widens: true,
        },
        requested_by: None,
        requested_at: at(300),
    });
    pending.status = InstanceStatus::PendingConsent;
    pending.updated_at = at(300);
    pending.revision = 3;
    let request = entry_in(&acme.id, "instance.upgrade.request", "inst-up");
    s.update_instance(&pending, &request).await.unwrap();
    assert_eq!(s.get_instance(&created.id).await.unwrap(), pending);
    let mut consented = pending.clone();
    consented.pending_upgrade = None;
    consented.previous = None;
    consented.status = InstanceStatus::Active;
    consented.tags.clear();
    consented.updated_at = at(400);
    consented.revision = 4;
    let consent = entry_in(&acme.id, "instance.consent", "inst-up");
    s.update_instance(&consented, &consent).await.unwrap();
    assert_eq!(s.get_instance(&created.id).await.unwrap(), consented);
    let (records, _) = db.chain().await;
    let actions: Vec<&str> = records[chain_len..]
        .iter()
        .map(|r| r.entry.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "instance.upgrade",
            "instance.upgrade.request",
            "instance.consent"
        ]
    );
    assert_eq!(db.verified_len().await, records.len() as i64);
}

pub async fn uninstall_revokes_the_instances_downstream_credentials_only(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    let one = instance(&web, &a, &zoe, "inst-one", 10);
    let two = instance(&web, &a, &zoe, "inst-two", 11);
    seed_instance(s, &one).await;
    seed_instance(s, &two).await;
    let issue = |d: DownstreamCredential| {
        let e = entry_in(&acme.id, "credential.downstream.issue", "x");
        async move {
            s.create_downstream_credential(&d, &e).await.unwrap();
            d
        }
    };
    let read = issue(downstream(&one, "calendar.read", 100)).await;
    let write = issue(downstream(&one, "calendar.write", 110)).await;
    let old = issue(downstream(&one, "calendar.read", 50)).await;
    let others = issue(downstream(&two, "calendar.read", 120)).await;
    // One was revoked before (the store has no port for it, so directly).
    db.exec(&format!(
        "UPDATE downstream_credentials SET revoked_at = {} WHERE hash = '{}'",
        at(60).timestamp_millis(),
        old.hash.0
    ))
    .await;
    let revoked_at = |d: &DownstreamCredential| {
        let hash = d.hash.clone();
        async move {
            s.find_downstream_credential(&hash)
                .await
                .unwrap()
                .expect("credential is kept")
                .revoked_at
        }
    };

    // An update that does not uninstall revokes nothing.
    let mut paused = s.get_instance(&one.id).await.unwrap();
    paused.status = InstanceStatus::PendingConsent;
    paused.updated_at = at(200);
    paused.revision = 2;
    s.update_instance(&paused, &entry_in(&acme.id, "instance.update", "inst-one"))
        .await
        .unwrap();
    // Nor does an uninstall that loses the revision race.
    let mut stale = one.clone();
    stale.status = InstanceStatus::Uninstalled;
    stale.updated_at = at(250);
    stale.revision = 2;
    let uninstall = entry_in(&acme.id, "instance.uninstall", "inst-one");
    expect_conflict(
        s.update_instance(&stale, &uninstall).await,
        "instance",
        "changed by someone else",
    );
    for d in [&read, &write, &others] {
        assert_eq!(revoked_at(d).await, None, "{} not revoked yet", d.scope);
    }

    let mut gone = paused.clone();
    gone.status = InstanceStatus::Uninstalled;
    gone.updated_at = at(300);
    gone.revision = 3;
    s.update_instance(&gone, &uninstall).await.unwrap();
    assert_eq!(s.get_instance(&one.id).await.unwrap(), gone);
    let mut expected = read.clone();
    expected.revoked_at = Some(at(300));
    assert_eq!(
        s.find_downstream_credential(&read.hash).await.unwrap(),
        Some(expected),
        "revoked at the uninstall's time, nothing else changed"
    );
    assert_eq!(revoked_at(&write).await, Some(at(300)));
    assert_eq!(
        revoked_at(&old).await,
        Some(at(60)),
        "an earlier revocation is kept"
    );
    assert_eq!(
        revoked_at(&others).await,
        None,
        "another instance's credential stays valid"
    );
    assert_eq!(s.get_instance(&two.id).await.unwrap(), two);
}

pub async fn grant_uses_keep_the_latest_time_per_kind_and_name(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    let one = instance(&web, &a, &zoe, "inst-one", 10);
    let two = instance(&web, &a, &zoe, "inst-two", 11);
    seed_instance(s, &one).await;
    seed_instance(s, &two).await;
    assert_eq!(s.grant_uses(&one.id).await.unwrap(), vec![]);
    let chain = db.chain().await;

    let uses = [
        (GrantKind::Scope, "calendar.read", 100),
        (GrantKind::Egress, "maps.example.com:8443", 40),
        (GrantKind::Scope, "calendar.read", 50), // older: ignored
        (GrantKind::Scope, "calendar.write", 70),
        (GrantKind::Egress, "api.example.com", 10),
        (GrantKind::Scope, "calendar.read", 200), // newer: moves it
        (GrantKind::Egress, "api.example.com", 10), // the same again
        (GrantKind::Scope, "calendar.write", 69),
        // The same name as an egress entry is another grant.
        (GrantKind::Egress, "calendar.read", 5),
        // Upper case sorts first in byte order, last in a locale's.
        (GrantKind::Scope, "Mail.Send", 80),
    ];
    for (kind, name, ms) in uses {
        s.record_grant_use(&one.id, kind, name, at(ms))
            .await
            .unwrap();
    }
    s.record_grant_use(&two.id, GrantKind::Scope, "calendar.read", at(999))
        .await
        .unwrap();
    let used = |kind, name: &str, ms| GrantUse {
        kind,
        name: name.to_owned(),
        last_used_at: at(ms),
    };
    assert_eq!(
        s.grant_uses(&one.id).await.unwrap(),
        vec![
            used(GrantKind::Egress, "api.example.com", 10),
            used(GrantKind::Egress, "calendar.read", 5),
            used(GrantKind::Egress, "maps.example.com:8443", 40),
            used(GrantKind::Scope, "Mail.Send", 80),
            used(GrantKind::Scope, "calendar.read", 200),
            used(GrantKind::Scope, "calendar.write", 70),
        ],
        "by kind, then name in byte order (not the database's collation)"
    );
    assert_eq!(
        s.grant_uses(&two.id).await.unwrap(),
        vec![used(GrantKind::Scope, "calendar.read", 999)]
    );
    assert_eq!(
        s.grant_uses(&InstanceId::from("inst-none")).await.unwrap(),
        vec![]
    );
    assert_eq!(db.chain().await, chain, "grant uses are not audited");
}

pub async fn published_signing_keys_come_back_exactly_newest_first(db: &TestDb) {
    let s = &*db.store;
    let week = Duration::days(7);
    let old = SigningKey::generate(at(0), week).unwrap();
    let new = SigningKey::generate(at(week.num_milliseconds() - 3_600_000), week).unwrap();
    let retired = SigningKey::generate(at(-30 * 86_400_000), week).unwrap();
    assert_eq!(
        s.published_signing_keys(at(0)).await.unwrap(),
        vec![],
        "no key yet"
    );
    let chain_len = db.chain().await.0.len();
    for k in [&old, &retired, &new] {
        let e = entry(None, "signing_key.create", &format!("key:{}", k.kid));
        s.create_signing_key(k, &e).await.unwrap();
    }
    let (records, _) = db.chain().await;
    assert_eq!(records.len(), chain_len + 3, "each key is audited");
    for r in &records {
        let text = serde_json::to_string(&r.entry).unwrap();
        for k in [&old, &new, &retired] {
            assert!(
                !text.contains(&k.private_pkcs8),
                "a private key is in the audit log"
            );
        }
    }

    // Every field, the private half too, newest first; the retired key's publication ended.
    let now = at(week.num_milliseconds());
    let listed = s.published_signing_keys(now).await.unwrap();
    assert_eq!(listed, vec![new.clone(), old.clone()]);
    assert_eq!(listed[1].private_pkcs8, old.private_pkcs8);
    assert_eq!(listed[1].public_x, old.public_x);
    assert_eq!(listed[1].created_at, old.created_at);
    assert_eq!(listed[1].signs_until, old.signs_until);
    assert_eq!(listed[1].published_until, old.published_until);
    // Published until `published_until`, not at it.
    assert_eq!(old.published_until, at(week.num_milliseconds()) + MAX_TTL);
    let last_moment = old.published_until - Duration::milliseconds(1);
    assert_eq!(
        s.published_signing_keys(last_moment).await.unwrap(),
        vec![new.clone(), old.clone()]
    );
    assert_eq!(
        s.published_signing_keys(old.published_until).await.unwrap(),
        vec![new.clone()]
    );
    assert_eq!(
        s.published_signing_keys(new.published_until).await.unwrap(),
        vec![]
    );

    // The same kid again is refused, with no record.
    let before = db.chain().await;
    let mut clash = SigningKey::generate(at(10), week).unwrap();
    clash.kid = old.kid.clone();
    expect_conflict(
        s.create_signing_key(&clash, &entry(None, "signing_key.create", "key:x"))
            .await,
        "signing key",
        "",
    );
    assert_eq!(db.chain().await, before);
    assert_eq!(s.published_signing_keys(now).await.unwrap(), vec![new, old]);
}

pub async fn downstream_credentials_are_found_by_hash(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Admin]).await;
    let a = seed_app(s, &acme, &zoe, "com.example.a", "1.0.0").await;
    let one = instance(&web, &a, &zoe, "inst-one", 10);
    seed_instance(s, &one).await;
    let chain_len = db.chain().await.0.len();

    let read = downstream(&one, "calendar.read", 100);
    let mut write = downstream(&one, "calendar.write", 123);
    write.provider = "mail".to_owned();
    write.expires_at = at(987_654);
    let e = entry_in(&acme.id, "credential.downstream.issue", "inst-one");
    s.create_downstream_credential(&read, &e).await.unwrap();
    s.create_downstream_credential(&write, &e).await.unwrap();
    assert_eq!(
        db.chain().await.0.len(),
        chain_len + 2,
        "each credential is audited"
    );
    assert_eq!(
        s.find_downstream_credential(&read.hash).await.unwrap(),
        Some(read.clone())
    );
    assert_eq!(
        s.find_downstream_credential(&write.hash).await.unwrap(),
        Some(write.clone())
    );
    assert_eq!(
        s.find_downstream_credential(&TokenHash::of("pdc_nope"))
            .await
            .unwrap(),
        None
    );

    let before = db.chain().await;
    let mut orphan = downstream(&one, "calendar.read", 200);
    orphan.instance_id = InstanceId::from("inst-none");
    expect_not_found(
        s.create_downstream_credential(&orphan, &e).await,
        "instance",
    );
    // An instance is named within its org: another org cannot get credentials for it.
    let mut foreign = downstream(&one, "calendar.read", 200);
    foreign.org_id = other.id.clone();
    expect_not_found(
        s.create_downstream_credential(&foreign, &e).await,
        "instance",
    );
    let mut same_hash = downstream(&one, "calendar.write", 300);
    same_hash.hash = read.hash.clone();
    expect_conflict(
        s.create_downstream_credential(&same_hash, &e).await,
        "downstream credential",
        "",
    );
    assert_eq!(db.chain().await, before);
    for d in [&orphan, &foreign] {
        assert_eq!(s.find_downstream_credential(&d.hash).await.unwrap(), None);
    }
    assert_eq!(
        s.find_downstream_credential(&read.hash).await.unwrap(),
        Some(read)
    );
}
