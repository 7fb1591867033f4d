//! Opening stores: migrations on connect, forward-only refusal, health.

use crate::harness::{Kind, TestDb};
use plaza_store::StoreSetupError;

pub async fn migrations_are_idempotent_on_reconnect(db: &TestDb) {
    let org = crate::fixtures::seed_org(&*db.store, "acme").await;
    for _ in 0..2 {
        let again = db
            .reconnect()
            .await
            .expect("reconnect to a migrated database");
        let store = again.into_dyn();
        assert_eq!(store.get_org(&org.id).await.unwrap(), org, "data survives");
        store.ping().await.unwrap();
    }
}

pub async fn a_database_from_a_newer_plaza_is_refused(db: &TestDb) {
    let newer = plaza_store::latest_migration_version(db.store.backend()) + 1;
    let checksum = match db.kind {
        Kind::Sqlite => "x'00'",
        Kind::Postgres => "'\\x00'::bytea",
    };
    db.exec(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({newer}, 'from the future', TRUE, {checksum}, 0)"
    ))
    .await;
    match db.reconnect().await {
        Err(e @ StoreSetupError::Migration { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&format!("migration {newer}")), "{msg}");
            assert!(msg.contains("newer Plaza"), "{msg}");
            assert!(msg.contains("forward-only"), "{msg}");
        }
        Err(other) => panic!("expected a migration error, got {other}"),
        Ok(_) => panic!("a database with an unknown newer migration must be refused"),
    }
}

pub async fn the_store_answers_ping_and_names_its_backend(db: &TestDb) {
    db.store.ping().await.unwrap();
    let want = match db.kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    assert_eq!(db.store.backend(), want);
}
