//! Usage: ingest (validate, count once, dead-letter the rest), aggregation queries over
//! rollups, sequence gaps and period-complete markers, and dead-letter replay. The rules live
//! in `plaza-metering`; the store keeps the counts.

mod ingest;
mod query;
mod replay;
mod sequences;
mod settings;

pub use query::{GroupBy, UsageAnswer, UsageQuery, UsageRow, MAX_QUERY_WINDOWS};
pub use sequences::{InstanceGaps, PeriodStatus};
pub use settings::MAX_LATE_ARRIVAL_DAYS;

use plaza_metering::Problem;
use serde::Serialize;

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    /// Counted.
    Accepted,
    /// Already counted with identical content.
    Duplicate,
    /// The event id was already counted with other content; recorded, not counted.
    Conflict,
    /// Invalid; kept in the dead-letter store with the reasons.
    Rejected,
}

/// One event's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    /// 0-based position in the body.
    pub index: usize,
    /// The event id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// What happened.
    pub status: EventStatus,
    /// Why it was rejected, or what it conflicts with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// The outcome of one ingest request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    /// Events counted now.
    pub accepted: usize,
    /// Events already counted.
    pub duplicates: usize,
    /// Event ids reused with other content.
    pub conflicts: usize,
    /// Invalid events, dead-lettered.
    pub rejected: usize,
    /// One entry per event, in body order.
    pub events: Vec<EventReport>,
}
