//! Users, their lookups and role sets.

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::identity::{Role, RoleSet};
use plaza_core::ids::UserId;

pub async fn users_are_created_found_and_listed_by_handle(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Consumer]).await;
    let mut ann = user(&acme, "ann", &[Role::Author, Role::Admin]);
    ann.email = None;
    ann.external_subject = Some("oidc|12345".into());
    s.create_user(&ann, &entry(Some(&acme), "user.create", "user:ann"))
        .await
        .unwrap();
    assert_eq!(s.get_user(&zoe.id).await.unwrap(), zoe);
    assert_eq!(
        s.find_user_by_handle(&acme.id, "ann").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(s.find_user_by_handle(&acme.id, "bob").await.unwrap(), None);
    assert_eq!(
        s.find_user_by_external_subject(&acme.id, "oidc|12345")
            .await
            .unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        s.find_user_by_external_subject(&acme.id, "x")
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.list_users(&acme.id).await.unwrap(), vec![ann, zoe]);
}

pub async fn an_unknown_user_is_not_found(db: &TestDb) {
    expect_not_found(db.store.get_user(&UserId::from("usr_none")).await, "user");
}

pub async fn user_conflicts_and_missing_orgs_are_reported(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let mut zoe = user(&acme, "zoe", &[]);
    zoe.external_subject = Some("sub-zoe".into());
    s.create_user(&zoe, &entry(Some(&acme), "user.create", "u"))
        .await
        .unwrap();
    // Same handle in another org is fine.
    seed_user(s, &other, "zoe", &[]).await;

    let e = entry(Some(&acme), "user.create", "u");
    expect_conflict(
        s.create_user(&user(&acme, "zoe", &[]), &e).await,
        "user",
        "user `zoe` already exists in this org",
    );
    let mut same_subject = user(&acme, "zed", &[]);
    same_subject.external_subject = Some("sub-zoe".into());
    expect_conflict(s.create_user(&same_subject, &e).await, "user", "sub-zoe");
    expect_not_found(
        s.create_user(&user(&org("ghost"), "a", &[]), &e).await,
        "org",
    );
}

pub async fn role_sets_round_trip(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let cases: Vec<(&str, Vec<Role>)> = vec![
        ("nobody", vec![]),
        ("author", vec![Role::Author]),
        ("two", vec![Role::Admin, Role::Finance]),
        ("everyone", Role::ALL.to_vec()),
    ];
    for (handle, roles) in cases {
        let u = seed_user(s, &acme, handle, &roles).await;
        let back = s.get_user(&u.id).await.unwrap();
        assert_eq!(back.roles, RoleSet::new(roles), "{handle}");
    }
}

pub async fn set_user_roles_replaces_the_set(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Consumer, Role::Author]).await;
    let roles = RoleSet::new([Role::Reviewer]);
    s.set_user_roles(
        &zoe.id,
        &roles,
        &entry(Some(&acme), "user.roles", "user:zoe"),
    )
    .await
    .unwrap();
    assert_eq!(s.get_user(&zoe.id).await.unwrap().roles, roles);
    let before = db.chain().await;
    expect_not_found(
        s.set_user_roles(
            &UserId::from("usr_none"),
            &roles,
            &entry(None, "user.roles", "x"),
        )
        .await,
        "user",
    );
    assert_eq!(db.chain().await, before);
}
