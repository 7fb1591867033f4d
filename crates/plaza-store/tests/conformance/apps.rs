//! App versions: ownership of app ids, versions, JSON manifests.

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::identity::Role;
use plaza_core::ids::UserId;

pub async fn app_versions_round_trip_and_list_in_registration_order(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Author]).await;
    let e = entry(Some(&acme), "app.version.register", "app:x");
    // Registration order, not version order, within an app; app ids sorted.
    let b2 = app(&acme, &zoe, "com.example.b", "2.0.0");
    let b1 = app(&acme, &zoe, "com.example.b", "1.10.0");
    let mut a1 = app(&acme, &zoe, "com.example.a", "0.1.0");
    a1.description = None;
    for v in [&b2, &b1, &a1] {
        s.create_app_version(v, &e).await.unwrap();
    }
    let got = s
        .get_app_version(&acme.id, "com.example.b", "2.0.0")
        .await
        .unwrap();
    assert_eq!(got, b2);
    assert_eq!(
        serde_json::to_string(&got.manifest).unwrap(),
        serde_json::to_string(&b2.manifest).unwrap(),
        "manifest JSON text (key order, unicode, numbers) survives"
    );
    assert_eq!(
        s.list_app_versions(&acme.id).await.unwrap(),
        vec![a1, b2, b1]
    );
}

pub async fn app_version_conflicts_and_missing_things_are_reported(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Author]).await;
    let eve = seed_user(s, &other, "eve", &[Role::Author]).await;
    let e = entry(Some(&acme), "app.version.register", "app:x");
    s.create_app_version(&app(&acme, &zoe, "com.example.a", "1.0.0"), &e)
        .await
        .unwrap();
    let before = db.chain().await;

    expect_conflict(
        s.create_app_version(&app(&acme, &zoe, "com.example.a", "1.0.0"), &e)
            .await,
        "app version",
        "version 1.0.0 of app `com.example.a` is already registered",
    );
    expect_conflict(
        s.create_app_version(&app(&other, &eve, "com.example.a", "2.0.0"), &e)
            .await,
        "app",
        "app id `com.example.a` belongs to another org",
    );
    let mut nobody = app(&acme, &zoe, "com.example.c", "1.0.0");
    nobody.created_by = UserId::from("usr_none");
    expect_not_found(s.create_app_version(&nobody, &e).await, "user");
    expect_not_found(
        s.create_app_version(&app(&org("ghost"), &zoe, "com.example.d", "1.0.0"), &e)
            .await,
        "org",
    );
    assert_eq!(db.chain().await, before);
    expect_not_found(
        s.get_app_version(&acme.id, "com.example.a", "9.9.9").await,
        "app version",
    );
    expect_not_found(
        s.get_app_version(&other.id, "com.example.a", "1.0.0").await,
        "app version",
    );
    assert_eq!(s.list_app_versions(&other.id).await.unwrap(), vec![]);
}
