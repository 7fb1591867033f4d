//! Plaza's store adapters: the [`Store`] port on SQLite (embedded mode, the default) and
//! PostgreSQL (scale-out mode), through sqlx.
//!
//! One implementation, [`SqlStore`], runs the same SQL on both databases over an sqlx `Any`
//! pool: ids are `TEXT`, instants `BIGINT` unix milliseconds, JSON is `TEXT` kept byte for byte
//! (the audit hash covers the exact text), role sets are comma-separated `TEXT`. Each backend
//! has its own forward-only migrations (`migrations/sqlite/`, `migrations/postgres/`), embedded
//! in the binary and applied on connect.
//!
//! Every mutating port method writes its audit record(s) in the same transaction as the change.
//! Appending to the hash chain starts by updating the one-row `audit_head` table, which
//! serialises writers on both backends so the chain stays intact under concurrency.
//!
//! ```no_run
//! # async fn demo() -> Result<(), plaza_store::StoreSetupError> {
//! let url = plaza_store::sqlite_url_for_data_dir(std::path::Path::new("./data"));
//! let store = plaza_store::connect(&url).await?;
//! assert_eq!(store.backend(), "sqlite");
//! # Ok(()) }
//! ```

mod chain;
mod connect;
mod db;
mod error;
mod migrate;
mod repo;
mod store;
mod target;

pub use connect::drop_postgres_schema;
pub use error::StoreSetupError;
pub use migrate::latest_migration_version;
pub use repo::{MAX_AUDIT_PAGE, MAX_DECISION_PAGE};
pub use store::{Backend, SqlStore};
pub use target::{mask_password, sqlite_file, sqlite_url_for_data_dir};

use plaza_core::ports::Store;
use std::sync::Arc;

/// Opens the store at `url` and applies pending migrations; see [`SqlStore::connect`] for the
/// URL forms.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreSetupError> {
    Ok(SqlStore::connect(url).await?.into_dyn())
}

/// Opens a PostgreSQL store isolated in `schema`; see [`SqlStore::connect_postgres_in_schema`].
pub async fn connect_postgres_in_schema(
    url: &str,
    schema: &str,
) -> Result<Arc<dyn Store>, StoreSetupError> {
    Ok(SqlStore::connect_postgres_in_schema(url, schema)
        .await?
        .into_dyn())
}
