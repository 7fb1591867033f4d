//! Opening a store: parse the URL, build the connection pool with the backend's per-connection
//! settings, run the migrations, and (for tests) isolate PostgreSQL in a schema of its own.

use crate::error::StoreSetupError;
use crate::migrate;
use crate::store::{Backend, SqlStore};
use crate::target::{escape_path, Target};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for SQLite's write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 5_000;
/// Connections per pool for an SQLite file (readers run in parallel under WAL).
const SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Connections per pool for PostgreSQL.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

impl SqlStore {
    /// Opens the store at `url` (`sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`,
    /// `postgres://...` or `postgresql://...`) and applies pending migrations.
    ///
    /// An SQLite file is created if missing (with its directory), put in WAL journal mode, and
    /// every connection enforces foreign keys and waits up to 5 s for the write lock.
    /// `sqlite::memory:` is a private in-memory database on a single connection, for tests.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreSetupError> {
        let target = Target::parse(url)?;
        match &target {
            Target::Sqlite { path, .. } => open_sqlite(&target, path.as_deref()).await,
            Target::Postgres { .. } => {
                // One direct attempt first: the pool would retry an unreachable server until
                // its acquire timeout, where a direct connection fails at once.
                let _ = raw_connection(&target).await?.close().await;
                open_postgres(&target, None).await
            }
        }
    }

    /// Opens a PostgreSQL store whose tables live in `schema` (created if missing): every pooled
    /// connection sets `search_path` to it. Lets tests run side by side in one database;
    /// see [`drop_postgres_schema`] to clean up.
    pub async fn connect_postgres_in_schema(
        url: &str,
        schema: &str,
    ) -> Result<SqlStore, StoreSetupError> {
        let target = Target::parse(url)?;
        if !matches!(target, Target::Postgres { .. }) {
            return Err(StoreSetupError::BadUrl {
                url: url.to_owned(),
                reason: "a schema can only be chosen for PostgreSQL".into(),
            });
        }
        let ident = quote_schema(schema)?;
        let mut conn = raw_connection(&target).await?;
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {ident}").as_str())
            .await
            .map_err(|source| connect_error(&target, source))?;
        let _ = conn.close().await;
        open_postgres(&target, Some(ident)).await
    }
}

/// Drops a schema made by [`SqlStore::connect_postgres_in_schema`], with everything in it.
pub async fn drop_postgres_schema(url: &str, schema: &str) -> Result<(), StoreSetupError> {
    let target = Target::parse(url)?;
    let ident = quote_schema(schema)?;
    let mut conn = raw_connection(&target).await?;
    conn.execute(format!("DROP SCHEMA IF EXISTS {ident} CASCADE").as_str())
        .await
        .map_err(|source| connect_error(&target, source))?;
    let _ = conn.close().await;
    Ok(())
}

async fn open_sqlite(target: &Target, path: Option<&Path>) -> Result<SqlStore, StoreSetupError> {
    let url = match path {
        Some(path) => {
            let abs = std::path::absolute(path).map_err(|e| connect_error(target, e.into()))?;
            if let Some(dir) = abs.parent() {
                std::fs::create_dir_all(dir).map_err(|e| connect_error(target, e.into()))?;
            }
            sqlite_url_for_file(&abs, target.url())
        }
        None => target.url().to_owned(),
    };
    let options = AnyPoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str())
                    .await?;
                Ok(())
            })
        });
    let options = if path.is_some() {
        options.max_connections(SQLITE_MAX_CONNECTIONS)
    } else {
        // One connection that never closes: the in-memory database lives as long as it does.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    };
    sqlx::any::install_default_drivers();
    let pool = options
        .connect(&url)
        .await
        .map_err(|source| connect_error(target, source))?;
    if path.is_some() {
        // Once per file (it persists); needs a moment of exclusive access, so not per connection.
        sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_optional(&pool)
            .await
            .map_err(|source| connect_error(target, source))?;
    }
    finish(target, pool, Backend::Sqlite).await
}

async fn open_postgres(
    target: &Target,
    schema: Option<String>,
) -> Result<SqlStore, StoreSetupError> {
    let mut options = AnyPoolOptions::new()
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT);
    if let Some(ident) = schema {
        let set = format!("SET search_path TO {ident}");
        options = options.after_connect(move |conn, _meta| {
            let set = set.clone();
            Box::pin(async move {
                conn.execute(set.as_str()).await?;
                Ok(())
            })
        });
    }
    sqlx::any::install_default_drivers();
    let pool = options
        .connect(target.url())
        .await
        .map_err(|source| connect_error(target, source))?;
    finish(target, pool, Backend::Postgres).await
}

async fn finish(
    target: &Target,
    pool: AnyPool,
    backend: Backend,
) -> Result<SqlStore, StoreSetupError> {
    if let Err(e) = migrate::run(&pool, backend.name()).await {
        pool.close().await;
        return Err(e);
    }
    tracing::info!(
        backend = backend.name(),
        target = %target.describe(),
        schema_version = migrate::latest_migration_version(backend.name()),
        "store opened"
    );
    Ok(SqlStore::from_pool(pool, backend))
}

async fn raw_connection(target: &Target) -> Result<AnyConnection, StoreSetupError> {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(target.url())
        .await
        .map_err(|source| connect_error(target, source))
}

fn connect_error(target: &Target, source: sqlx::Error) -> StoreSetupError {
    StoreSetupError::Connect {
        target: target.describe(),
        source,
    }
}

/// The schema name as a quoted identifier, after checking it is a plain one.
fn quote_schema(schema: &str) -> Result<String, StoreSetupError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(format!("\"{schema}\""))
    } else {
        Err(StoreSetupError::BadSchemaName(schema.to_owned()))
    }
}

/// The sqlx URL for an absolute SQLite file, keeping the query of the URL given.
fn sqlite_url_for_file(abs: &Path, given: &str) -> String {
    let query = given.split_once('?').map(|(_, q)| q).unwrap_or("mode=rwc");
    format!("sqlite://{}?{query}", escape_path(abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        assert_eq!(quote_schema("plaza_test_1").unwrap(), "\"plaza_test_1\"");
        for bad in ["", "Plaza", "a-b", "x\"; drop table y; --", "1abc"] {
            assert!(quote_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sqlite_file_urls_are_absolute_and_escaped() {
        assert_eq!(
            sqlite_url_for_file(Path::new("/tmp/my dir/a?b.db"), "sqlite://x?mode=rwc"),
            "sqlite:///tmp/my%20dir/a%3Fb.db?mode=rwc"
        );
    }
}
