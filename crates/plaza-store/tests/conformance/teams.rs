//! Teams and memberships.

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::identity::Role;
use plaza_core::ids::{OrgId, TeamId, UserId};

pub async fn teams_are_created_read_and_listed_by_slug(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let web = seed_team(s, &acme, "web").await;
    let data = seed_team(s, &acme, "data").await;
    let other_web = seed_team(s, &other, "web").await; // same slug, other org: fine
    assert_eq!(s.get_team_by_slug(&acme.id, "web").await.unwrap(), web);
    assert_eq!(
        s.get_team_by_slug(&other.id, "web").await.unwrap(),
        other_web
    );
    assert_eq!(s.list_teams(&acme.id).await.unwrap(), vec![data, web]);
    assert_eq!(
        s.list_teams(&OrgId::from("org_none")).await.unwrap(),
        vec![]
    );
}

pub async fn a_duplicate_team_slug_conflicts(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    seed_team(s, &acme, "platform").await;
    let again = team(&acme, "platform");
    expect_conflict(
        s.create_team(&again, &entry(Some(&acme), "team.create", "team:x"))
            .await,
        "team",
        "team `platform` already exists in this org",
    );
}

pub async fn a_team_of_an_unknown_org_is_not_found(db: &TestDb) {
    let s = &*db.store;
    let ghost = org("ghost"); // never stored
    let t = team(&ghost, "web");
    expect_not_found(
        s.create_team(&t, &entry(None, "team.create", "team:x"))
            .await,
        "org",
    );
    expect_not_found(s.get_team_by_slug(&ghost.id, "web").await, "team");
}

pub async fn an_unknown_team_slug_is_not_found(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    expect_not_found(s.get_team_by_slug(&acme.id, "nope").await, "team");
}

pub async fn members_are_added_listed_and_removed(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    let data = seed_team(s, &acme, "data").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Consumer]).await;
    let ann = seed_user(s, &acme, "ann", &[Role::Author]).await;
    let add = |t: &str| entry(Some(&acme), "team.member.add", t);
    s.add_team_member(&web.id, &zoe.id, &add("web"))
        .await
        .unwrap();
    s.add_team_member(&web.id, &ann.id, &add("web"))
        .await
        .unwrap();
    s.add_team_member(&data.id, &zoe.id, &add("data"))
        .await
        .unwrap();

    assert_eq!(
        s.list_team_members(&web.id).await.unwrap(),
        vec![ann.clone(), zoe.clone()]
    );
    assert_eq!(
        s.teams_of_user(&zoe.id).await.unwrap(),
        vec![data.clone(), web.clone()]
    );
    assert_eq!(s.teams_of_user(&ann.id).await.unwrap(), vec![web.clone()]);

    let rm = entry(Some(&acme), "team.member.remove", "web");
    s.remove_team_member(&web.id, &zoe.id, &rm).await.unwrap();
    assert_eq!(s.list_team_members(&web.id).await.unwrap(), vec![ann]);
    assert_eq!(s.teams_of_user(&zoe.id).await.unwrap(), vec![data]);
    assert_eq!(db.verified_len().await, 1 + 2 + 2 + 3 + 1);
}

pub async fn membership_rules_are_enforced(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let other = seed_org(s, "other").await;
    let web = seed_team(s, &acme, "web").await;
    let zoe = seed_user(s, &acme, "zoe", &[]).await;
    let outsider = seed_user(s, &other, "eve", &[]).await;
    let e = || entry(Some(&acme), "team.member", "web");
    s.add_team_member(&web.id, &zoe.id, &e()).await.unwrap();
    let before = db.chain().await;

    expect_conflict(
        s.add_team_member(&web.id, &zoe.id, &e()).await,
        "team member",
        "user `zoe` is already a member of team `web`",
    );
    expect_conflict(
        s.add_team_member(&web.id, &outsider.id, &e()).await,
        "team member",
        "another org",
    );
    expect_not_found(
        s.add_team_member(&TeamId::from("team_none"), &zoe.id, &e())
            .await,
        "team",
    );
    expect_not_found(
        s.add_team_member(&web.id, &UserId::from("usr_none"), &e())
            .await,
        "user",
    );
    expect_not_found(
        s.remove_team_member(&web.id, &outsider.id, &e()).await,
        "team member",
    );
    assert_eq!(
        db.chain().await,
        before,
        "failed changes leave no audit record"
    );
}

pub async fn team_settings_default_and_are_replaced_audited(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let web = seed_team(s, &acme, "web").await;
    assert_eq!(
        s.team_settings(&web.id).await.unwrap(),
        plaza_core::identity::TeamSettings::default()
    );
    let off = plaza_core::identity::TeamSettings {
        auto_upgrade: false,
    };
    for settings in [&off, &off] {
        s.set_team_settings(
            &web.id,
            settings,
            &entry(Some(&acme), "team.settings.set", "web"),
        )
        .await
        .unwrap();
    }
    assert_eq!(s.team_settings(&web.id).await.unwrap(), off);
    let missing = plaza_core::ids::TeamId("team_missing".into());
    expect_not_found(
        s.set_team_settings(
            &missing,
            &off,
            &entry(Some(&acme), "team.settings.set", "x"),
        )
        .await,
        "team",
    );
}
