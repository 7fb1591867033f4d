//! Checks of one backend's connection set-up that have no counterpart on the other: SQLite file
//! settings and URL forms, and the errors for bad URLs and unreachable servers.

use plaza_store::{SqlStore, StoreSetupError};

#[tokio::test]
async fn sqlite_files_are_created_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("new dir?");
    let url = plaza_store::sqlite_url_for_data_dir(&data_dir);
    let store = SqlStore::connect(&url).await.unwrap();
    assert!(
        data_dir.join("plaza.db").exists(),
        "file and directory created"
    );
    let mut conn = store.pool().acquire().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
    for (pragma, want) in [("foreign_keys", 1_i64), ("busy_timeout", 5000)] {
        let got: i64 = sqlx::query_scalar(&format!("PRAGMA {pragma}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(got, want, "{pragma}");
    }
}

#[tokio::test]
async fn sqlite_urls_with_and_without_slashes_open_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let a = plaza_store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let org = crate::fixtures::seed_org(&*a, "acme").await;
    let b = plaza_store::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert_eq!(b.get_org(&org.id).await.unwrap(), org);
}

#[tokio::test]
async fn an_in_memory_sqlite_store_works_for_quick_tests() {
    let store = plaza_store::connect("sqlite::memory:").await.unwrap();
    let org = crate::fixtures::seed_org(&*store, "acme").await;
    crate::fixtures::seed_team(&*store, &org, "web").await;
    let (records, head) = store.read_chain().await.unwrap();
    assert_eq!(plaza_core::audit::verify_chain(records, &head), Ok(2));
}

#[tokio::test]
async fn an_unsupported_url_names_the_supported_schemes() {
    for url in [
        "mysql://root:hunter2@localhost/plaza",
        "./plaza.db",
        "sqlite://",
    ] {
        match plaza_store::connect(url).await {
            Err(e @ StoreSetupError::BadUrl { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("sqlite://PATH") && msg.contains("postgres://"),
                    "{msg}"
                );
                assert!(!msg.contains("hunter2"), "password leaked: {msg}");
            }
            Err(other) => panic!("{url}: expected BadUrl, got {other}"),
            Ok(_) => panic!("{url}: should be refused"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_postgres_names_host_port_and_database() {
    let url = "postgres://plaza:secret@127.0.0.1:1/plazadb";
    match plaza_store::connect(url).await {
        Err(e @ StoreSetupError::Connect { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("PostgreSQL at 127.0.0.1:1/plazadb as plaza"),
                "{msg}"
            );
            assert!(!msg.contains("secret"), "{msg}");
        }
        Err(other) => panic!("expected Connect, got {other}"),
        Ok(_) => panic!("nothing listens on port 1"),
    }
}

#[tokio::test]
async fn an_unopenable_sqlite_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let url = format!("sqlite://{}/plaza.db", file.display());
    let msg = plaza_store::connect(&url)
        .await
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        msg.contains("SQLite database at") && msg.contains("not-a-dir"),
        "{msg}"
    );
}
