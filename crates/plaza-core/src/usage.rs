//! Usage as the store keeps it: what happened to each event offered for ingest (accepted,
//! a duplicate of one already counted, or a conflicting reuse of its event id), and the
//! dead letters of rejected events. Validation itself lives in `plaza-metering`.

use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What the store did with one validated event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoredOutcome {
    /// Counted now (and never again).
    Accepted,
    /// Already counted with identical content; nothing changed.
    Duplicate,
    /// The event id was already counted with other content: recorded as a conflict, not
    /// counted.
    Conflict,
}

/// A rejected event kept for inspection and replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Its id.
    pub id: String,
    /// The org that sent it.
    pub org_id: OrgId,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Its 0-based position in the request body.
    pub index: u64,
    /// The 1-based line of the body where it starts.
    pub line: u64,
    /// The event as decoded (JSON), or `None` when it could not be decoded.
    pub event: Option<serde_json::Value>,
    /// Every reason it was rejected (`code`, `pointer`, `message`, `hint`).
    pub problems: serde_json::Value,
}
