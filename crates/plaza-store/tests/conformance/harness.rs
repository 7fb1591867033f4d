//! Running one conformance case against a fresh database of each backend: an SQLite file in a
//! temporary directory, or a PostgreSQL schema of its own (dropped afterwards, even when the
//! case panics).

use plaza_core::audit::{verify_chain, AuditRecord, ChainHead};
use plaza_core::ports::Store;
use plaza_store::{SqlStore, StoreSetupError};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use tempfile::TempDir;

/// Where the PostgreSQL tests connect unless `PLAZA_TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which backend a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database for one case.
pub struct TestDb {
    /// The store under test, behind the port.
    pub store: Arc<dyn Store>,
    /// The same store, for raw SQL (tampering) and closing.
    pub sql: SqlStore,
    /// Which backend this is.
    pub kind: Kind,
    url: String,
    schema: Option<String>,
    _dir: Option<TempDir>,
}

/// The PostgreSQL URL the tests use.
pub fn postgres_url() -> String {
    std::env::var("PLAZA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether the operator asked to skip PostgreSQL explicitly.
pub fn skip_postgres() -> bool {
    std::env::var("PLAZA_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

/// Says, once per run and past the test harness's output capture, that PostgreSQL is skipped.
fn warn_skipped_once() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!! WARNING: PLAZA_SKIP_POSTGRES=1 is set: the PostgreSQL conformance cases \
             pass WITHOUT RUNNING. The store is verified on SQLite only. !!!!!\n"
        );
    });
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = plaza_store::sqlite_url_for_data_dir(dir.path());
        let sql = SqlStore::connect(&url).await.expect("open SQLite store");
        TestDb {
            store: sql.clone().into_dyn(),
            sql,
            kind: Kind::Sqlite,
            url,
            schema: None,
            _dir: Some(dir),
        }
    }

    /// A new schema in the test PostgreSQL database; `None` when skipped on purpose.
    /// Panics, saying how to start PostgreSQL, when it is unreachable.
    pub async fn postgres() -> Option<TestDb> {
        let url = postgres_url();
        if skip_postgres() {
            warn_skipped_once();
            return None;
        }
        let schema = format!("plaza_test_{}", uuid::Uuid::new_v4().simple());
        let sql = match SqlStore::connect_postgres_in_schema(&url, &schema).await {
            Ok(sql) => sql,
            Err(e @ StoreSetupError::Connect { .. }) => panic!(
                "PostgreSQL at {url} is unreachable, so the PostgreSQL conformance tests cannot \
                 run: {e}\nStart it with `pg_ctlcluster --skip-systemctl-redirect \
                 $(ls /etc/postgresql) main start`, point PLAZA_TEST_POSTGRES_URL at another \
                 server, or set PLAZA_SKIP_POSTGRES=1 to skip these tests explicitly."
            ),
            Err(e) => panic!("opening a PostgreSQL store in schema {schema} failed: {e}"),
        };
        Some(TestDb {
            store: sql.clone().into_dyn(),
            sql,
            kind: Kind::Postgres,
            url,
            schema: Some(schema),
            _dir: None,
        })
    }

    /// Opens the same database again (running migrations again).
    pub async fn reconnect(&self) -> Result<SqlStore, StoreSetupError> {
        match &self.schema {
            Some(schema) => SqlStore::connect_postgres_in_schema(&self.url, schema).await,
            None => SqlStore::connect(&self.url).await,
        }
    }

    /// Runs raw SQL (bypassing the ports), e.g. to tamper with the audit log.
    pub async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(self.sql.pool())
            .await
            .unwrap_or_else(|e| panic!("raw SQL failed: {e}\n{sql}"));
    }

    /// Runs raw SQL, returning the database's answer.
    pub async fn try_exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql)
            .execute(self.sql.pool())
            .await
            .map(|_| ())
    }

    /// Drops the append-only triggers, as an attacker with DDL rights could, so tamper tests
    /// can show the hash chain still catches them.
    pub async fn allow_tampering(&self) {
        self.exec(match self.kind {
            Kind::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            Kind::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log;",
        })
        .await;
    }

    /// The whole chain and its head.
    pub async fn chain(&self) -> (Vec<AuditRecord>, ChainHead) {
        self.store.read_chain().await.expect("read chain")
    }

    /// Verifies the chain, returning how many records it holds.
    pub async fn verified_len(&self) -> i64 {
        let (records, head) = self.chain().await;
        verify_chain(records, &head).expect("audit chain verifies")
    }

    async fn cleanup(&self) {
        self.sql.close().await;
        if let Some(schema) = &self.schema {
            if let Err(e) = plaza_store::drop_postgres_schema(&self.url, schema).await {
                eprintln!("warning: could not drop test schema {schema}: {e}");
            }
        }
    }
}

/// Runs `case` on a fresh database of `kind`, then cleans up; a panic in the case still fails
/// the test after cleanup.
pub async fn run<F, Fut>(kind: Kind, case: F)
where
    F: FnOnce(Arc<TestDb>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = match kind {
        Kind::Sqlite => TestDb::sqlite().await,
        Kind::Postgres => match TestDb::postgres().await {
            Some(db) => db,
            None => return,
        },
    };
    let db = Arc::new(db);
    let outcome = tokio::spawn(case(db.clone())).await;
    db.cleanup().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("conformance case did not finish: {e}");
    }
}

/// Declares each listed case (`module::case`) as a test on SQLite and one on PostgreSQL:
/// `sqlite::case` and `postgres::case`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run(crate::harness::Kind::Sqlite, |db| async move {
                        crate::$module::$case(&db).await
                    })
                    .await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run(crate::harness::Kind::Postgres, |db| async move {
                        crate::$module::$case(&db).await
                    })
                    .await
                }
            )*
        }
    };
}
