//! [`SqlStore`]: the one store implementation, over an sqlx `Any` pool, for both backends.
//! This module holds the struct, its write transactions and the [`Store`] basics; the
//! repository traits are implemented in `repo/`.

use crate::db::backend_err;
use plaza_core::ports::{Store, StoreResult};
use sqlx::{Any, AnyPool};
use std::sync::Arc;

/// A write transaction on the store's pool.
pub(crate) type Tx = sqlx::Transaction<'static, Any>;

/// The database behind a [`SqlStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded mode.
    Sqlite,
    /// PostgreSQL, scale-out mode.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A Plaza store on SQLite or PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Queues this process's usage writers on SQLite, which takes one writer at a time: in
    /// line here they wait their turn, instead of retrying `BEGIN IMMEDIATE` with the busy
    /// handler's growing sleeps (seconds of tail latency under concurrent ingest).
    usage_writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqlStore {
    pub(crate) fn from_pool(pool: AnyPool, backend: Backend) -> Self {
        Self {
            pool,
            backend,
            usage_writer: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Waits for this process's turn to write usage (SQLite only; PostgreSQL writers run
    /// concurrently and lock only the rows they touch).
    pub(crate) async fn usage_write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.usage_writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Which database this is.
    pub fn backend_kind(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for maintenance tools and tests that need raw SQL. Writing through
    /// it bypasses the audit log: do not use it for changes that matter.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// This store behind the [`Store`] port.
    pub fn into_dyn(self) -> Arc<dyn Store> {
        Arc::new(self)
    }

    /// Begins a transaction that will write. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing
    /// to upgrade a read lock; PostgreSQL writers serialise on the audit head row they update
    /// first.
    pub(crate) async fn write_tx(&self) -> StoreResult<Tx> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(backend_err)
    }

    /// Begins a read-only transaction that sees one consistent snapshot.
    pub(crate) async fn snapshot_tx(&self) -> StoreResult<Tx> {
        match self.backend {
            Backend::Sqlite => self.pool.begin().await,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
        .map_err(backend_err)
    }
}

/// Commits `tx` when `result` is a success, rolls it back otherwise.
pub(crate) async fn finish<T>(tx: Tx, result: StoreResult<T>) -> StoreResult<T> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(backend_err)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rolling back a failed store transaction failed");
            }
            Err(e)
        }
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        self.backend.name()
    }
}
