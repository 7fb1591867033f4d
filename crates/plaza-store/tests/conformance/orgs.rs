//! Organisations, and creating an org with its first admin atomically.

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::identity::Role;
use plaza_core::ids::OrgId;

pub async fn orgs_are_created_read_and_listed_by_slug(db: &TestDb) {
    let s = &*db.store;
    let zeta = seed_org(s, "zeta").await;
    let acme = seed_org(s, "acme").await;
    assert_eq!(s.get_org(&acme.id).await.unwrap(), acme);
    assert_eq!(
        s.find_org_by_slug("zeta").await.unwrap(),
        Some(zeta.clone())
    );
    assert_eq!(s.find_org_by_slug("nope").await.unwrap(), None);
    assert_eq!(s.list_orgs().await.unwrap(), vec![acme, zeta]);
}

pub async fn an_unknown_org_is_not_found(db: &TestDb) {
    expect_not_found(db.store.get_org(&OrgId::from("org_missing")).await, "org");
}

pub async fn a_duplicate_org_slug_conflicts(db: &TestDb) {
    let s = &*db.store;
    seed_org(s, "acme").await;
    let again = org("acme");
    expect_conflict(
        s.create_org(&again, &entry(Some(&again), "org.create", "org:x"))
            .await,
        "org",
        "org `acme` already exists",
    );
}

pub async fn create_org_with_admin_writes_all_and_three_records(db: &TestDb) {
    let s = &*db.store;
    let org = org("acme");
    let admin = user(&org, "root", &[Role::Admin]);
    let tok = token(&admin, "bootstrap", 5);
    let audit = [
        entry(Some(&org), "org.create", "org:acme"),
        entry(Some(&org), "user.create", "user:root"),
        entry(Some(&org), "token.create", "token:bootstrap"),
    ];
    s.create_org_with_admin(&org, &admin, &tok, &audit)
        .await
        .unwrap();
    assert_eq!(s.get_org(&org.id).await.unwrap(), org);
    assert_eq!(s.get_user(&admin.id).await.unwrap(), admin);
    assert_eq!(s.get_token(&tok.id).await.unwrap(), tok);
    let (records, _) = db.chain().await;
    let actions: Vec<_> = records.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["org.create", "user.create", "token.create"]);
    assert_eq!(db.verified_len().await, 3);
}

pub async fn create_org_with_admin_with_a_clashing_user_leaves_nothing(db: &TestDb) {
    let s = &*db.store;
    let first = org("first");
    let admin = user(&first, "root", &[Role::Admin]);
    let audit = [entry(Some(&first), "org.create", "org:first")];
    s.create_org_with_admin(&first, &admin, &token(&admin, "t", 5), &audit)
        .await
        .unwrap();
    let before = db.chain().await;

    // The same admin user (same id) again, for a second org.
    let second = org("second");
    let mut clash = admin.clone();
    clash.org_id = second.id.clone();
    let audit = [
        entry(Some(&second), "org.create", "org:second"),
        entry(Some(&second), "user.create", "user:root"),
        entry(Some(&second), "token.create", "token:t"),
    ];
    let result = s
        .create_org_with_admin(&second, &clash, &token(&clash, "t", 5), &audit)
        .await;
    expect_conflict(result, "user", "already exists");
    assert_eq!(s.find_org_by_slug("second").await.unwrap(), None);
    assert_eq!(
        db.chain().await,
        before,
        "no audit record and no head change"
    );
}

pub async fn create_org_with_admin_with_a_taken_slug_leaves_nothing(db: &TestDb) {
    let s = &*db.store;
    seed_org(s, "acme").await;
    let before = db.chain().await;
    let org = org("acme");
    let admin = user(&org, "root", &[Role::Admin]);
    let result = s
        .create_org_with_admin(
            &org,
            &admin,
            &token(&admin, "t", 5),
            &[entry(Some(&org), "org.create", "org:acme")],
        )
        .await;
    expect_conflict(result, "org", "org `acme` already exists");
    expect_not_found(s.get_user(&admin.id).await, "user");
    assert_eq!(db.chain().await, before);
}
