//! Errors of the domain: [`StoreError`] is what every repository port returns, [`CoreError`] what
//! services return to the edges (HTTP, CLI), which map each variant to a status or exit code.

use thiserror::Error;

/// What a repository port can fail with. Adapters map their driver errors onto these variants so
/// that a unique or foreign-key violation is never an internal error.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The entity does not exist.
    #[error("{entity} `{key}` not found")]
    NotFound {
        /// Kind of entity, e.g. "team".
        entity: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// A uniqueness or referential rule was violated.
    #[error("{entity} conflict: {detail}")]
    Conflict {
        /// Kind of entity, e.g. "team".
        entity: &'static str,
        /// What clashed, in words a user can act on.
        detail: String,
    },
    /// The backend failed (connection lost, disk full, ...). The text is for logs, not for users.
    #[error("store backend error: {0}")]
    Backend(String),
    /// Data read back from the store is not what the domain expects (a bug or manual edit).
    #[error("corrupt record in {entity}: {detail}")]
    Corrupt {
        /// Kind of entity.
        entity: &'static str,
        /// What is wrong with it.
        detail: String,
    },
}

/// What a domain service can fail with.
#[derive(Debug, Error)]
pub enum CoreError {
    /// The caller is not authenticated (no, malformed, expired or revoked credentials).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The caller is authenticated but lacks the right.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The input is invalid; the text says what and how to fix it.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A usage-event body could not be read as a whole (its content type, size, or JSON
    /// syntax); per-event problems are not errors but results.
    #[error(transparent)]
    Metering(#[from] plaza_metering::Error),
    /// The usage bus (scale-out metering mode) could not take the events: nothing was
    /// promised, the caller should retry.
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// What the usage bus port ([`UsageBus`](crate::ports::UsageBus)) fails with: it is down,
/// refused the events, or did not confirm storing them in time. Events not confirmed may still
/// have been stored; a retry with the same event ids is safe (dedup is by event id).
#[derive(Debug, Error)]
#[error("usage bus unavailable: {0}")]
pub struct BusError(pub String);
