//! [`StoreSetupError`]: what can go wrong while opening a store (before any port is called).
//! Port methods themselves fail with [`plaza_core::StoreError`].

use thiserror::Error;

/// Why a store could not be opened.
#[derive(Debug, Error)]
pub enum StoreSetupError {
    /// The URL names no supported backend or is malformed.
    #[error(
        "unsupported store URL `{url}`: {reason}; use `sqlite://PATH` (e.g. \
         `sqlite://./data/plaza.db`) or `postgres://USER@HOST:PORT/DATABASE`"
    )]
    BadUrl {
        /// The URL as given (passwords masked).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// What was being opened, e.g. `SQLite database at /var/lib/plaza/plaza.db` or
        /// `PostgreSQL at db.internal:5432/plaza as plaza`.
        target: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema migrations could not be applied.
    #[error("migrating the {backend} database failed: {detail}")]
    Migration {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// What went wrong and what to do about it.
        detail: String,
    },
    /// A PostgreSQL schema name is not a plain identifier.
    #[error(
        "invalid PostgreSQL schema name `{0}`: use 1-63 lowercase letters, digits and \
         underscores, starting with a letter or underscore"
    )]
    BadSchemaName(String),
}
