//! API tokens: storing, finding by hash, listing newest first, revoking.

use crate::fixtures::*;
use crate::harness::TestDb;
use plaza_core::identity::Role;
use plaza_core::ids::{TokenId, UserId};
use plaza_core::token::TokenHash;

pub async fn tokens_are_found_by_hash_and_listed_newest_first(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[Role::Author]).await;
    let old = token(&zoe, "laptop", 10);
    let mut new = token(&zoe, "ci", 20);
    new.expires_at = Some(at(86_400_000));
    for t in [&old, &new] {
        s.create_token(
            t,
            &entry(Some(&acme), "token.create", &format!("token:{}", t.id)),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        s.find_token_by_hash(&new.hash).await.unwrap(),
        Some(new.clone())
    );
    assert_eq!(
        s.find_token_by_hash(&TokenHash::of("plz_nope"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get_token(&old.id).await.unwrap(), old);
    assert_eq!(s.list_tokens(&zoe.id).await.unwrap(), vec![new, old]);
    assert_eq!(
        s.list_tokens(&UserId::from("usr_none")).await.unwrap(),
        vec![]
    );
}

pub async fn a_token_is_revoked_once(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[]).await;
    let t = token(&zoe, "ci", 10);
    s.create_token(&t, &entry(Some(&acme), "token.create", "token:ci"))
        .await
        .unwrap();
    let revoke = entry(Some(&acme), "token.revoke", "token:ci");
    s.revoke_token(&t.id, at(500), &revoke).await.unwrap();
    assert_eq!(s.get_token(&t.id).await.unwrap().revoked_at, Some(at(500)));
    let before = db.chain().await;
    expect_conflict(
        s.revoke_token(&t.id, at(600), &revoke).await,
        "token",
        "already revoked",
    );
    expect_not_found(
        s.revoke_token(&TokenId::from("tok_none"), at(600), &revoke)
            .await,
        "token",
    );
    assert_eq!(db.chain().await, before);
    assert_eq!(s.get_token(&t.id).await.unwrap().revoked_at, Some(at(500)));
}

pub async fn token_rules_are_enforced(db: &TestDb) {
    let s = &*db.store;
    let acme = seed_org(s, "acme").await;
    let zoe = seed_user(s, &acme, "zoe", &[]).await;
    let t = token(&zoe, "ci", 10);
    let e = entry(Some(&acme), "token.create", "token:x");
    s.create_token(&t, &e).await.unwrap();
    let mut same_secret = token(&zoe, "copy", 11);
    same_secret.hash = t.hash.clone();
    expect_conflict(s.create_token(&same_secret, &e).await, "token", "secret");
    let mut orphan = token(&zoe, "orphan", 12);
    orphan.user_id = UserId::from("usr_none");
    expect_not_found(s.create_token(&orphan, &e).await, "user");
    expect_not_found(s.get_token(&TokenId::from("tok_none")).await, "token");
}
