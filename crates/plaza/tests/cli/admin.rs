//! `plaza admin bootstrap` and `plaza audit verify`, on a real SQLite file.

use crate::support::{run, text};
use sqlx::Connection;

#[test]
fn bootstrap_prints_a_token_and_refuses_a_second_org_with_the_same_slug() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "admin",
            "bootstrap",
            "--data",
            "d",
            "--org",
            "acme",
            "--token-only",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let token = text(&out.stdout);
    assert!(
        token.trim().starts_with("plz_") && token.lines().count() == 1,
        "{token}"
    );
    assert!(dir.path().join("d/plaza.db").exists());
    let out = run(
        &["admin", "bootstrap", "--data", "d", "--org", "acme"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn audit_verify_passes_then_detects_an_edited_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "admin",
            "bootstrap",
            "--data",
            "d",
            "--org",
            "acme",
            "--token-only",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["audit", "verify", "--data", "d"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("3 record(s)"),
        "{}",
        text(&out.stdout)
    );

    let db = dir.path().join("d/plaza.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let tamper = "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2";
        let refused = sqlx::query(tamper).execute(&mut conn).await.unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
        // Someone with write access to the file can drop the trigger; the chain still tells.
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&mut conn)
            .await
            .unwrap();
        let n = sqlx::query(tamper)
            .execute(&mut conn)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 1);
    });
    let out = run(&["audit", "verify", "--data", "d"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("record 2"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn audit_verify_on_a_missing_database_is_an_error_not_an_empty_success() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["audit", "verify", "--data", "nowhere"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no Plaza database"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.path().join("nowhere").exists(),
        "verify must not create a database"
    );
}
