//! Usage as the store keeps it: what happened to each event offered for ingest (accepted,
//! a duplicate of one already counted, or a conflicting reuse of its event id), and the
//! dead letters of rejected events, rollup buckets, the sequence numbers instances reported,
//! period-complete markers and stored corrections. Validation itself lives in `plaza-metering`.

use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use plaza_metering::{Decimal, Problem, SequenceTracker, ValidatedEvent};
use serde::Serialize;

/// What the store did with one validated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredOutcome {
    /// Counted now (and never again).
    Accepted,
    /// Already counted with identical content; nothing changed.
    Duplicate,
    /// The event id was already counted with other content: recorded as a conflict, not
    /// counted.
    Conflict,
    /// A correction the store cannot apply (it refers to no counted usage event of the app,
    /// or to one of another metric or instance): not stored, to be dead-lettered.
    Refused(Vec<Problem>),
}

/// What the usage bus did with one validated event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusOutcome {
    /// Durably appended to the log; a consumer will record it.
    Stored,
    /// The log already holds an event with the same org, app and event id (a fast retry).
    Duplicate,
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
    /// When it was replayed successfully, and what the replay gave (`accepted` or
    /// `duplicate`); `None` while it waits for a fix.
    pub replayed: Option<(DateTime<Utc>, String)>,
}

/// The length of a rollup bucket: 15 minutes. Every hour, day and month window of a time zone
/// whose offset is a whole number of quarter hours (every zone in use today) is a union of
/// buckets.
pub const ROLLUP_BUCKET_MILLIS: i64 = 15 * 60 * 1000;

/// The start of the rollup bucket holding `at`.
pub fn rollup_bucket(at: DateTime<Utc>) -> DateTime<Utc> {
    let ms = at.timestamp_millis();
    let start = ms - ms.rem_euclid(ROLLUP_BUCKET_MILLIS);
    DateTime::from_timestamp_millis(start).unwrap_or(at)
}

/// Whether `at` is the start of a rollup bucket.
pub fn is_bucket_boundary(at: DateTime<Utc>) -> bool {
    at.timestamp_millis().rem_euclid(ROLLUP_BUCKET_MILLIS) == 0
}

/// The latest event of a bucket: its timestamp, event id and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestValue {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Its event id (breaks timestamp ties).
    pub event_id: String,
    /// Its value.
    pub value: Decimal,
}

/// The version recorded for usage accepted before Plaza kept versions: unknown.
pub const UNKNOWN_VERSION: &str = "";

/// One rollup bucket: what the events of one app, metric, instance and app version in one
/// 15-minute bucket add up to, corrections applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupBucket {
    /// The app.
    pub app_id: String,
    /// The metric.
    pub metric: String,
    /// The instance.
    pub instance_id: String,
    /// The app version the instance ran when the events were accepted
    /// ([`UNKNOWN_VERSION`] for events recorded before versions were kept).
    pub version: String,
    /// The bucket's start.
    pub bucket: DateTime<Utc>,
    /// The exact sum, corrections applied.
    pub sum: Decimal,
    /// The number of events that count (voided ones do not).
    pub count: u64,
    /// The largest value; exact only when `corrected` is false.
    pub max: Option<Decimal>,
    /// The latest event; exact only when `corrected` is false.
    pub latest: Option<LatestValue>,
    /// A void or adjust touched the bucket: `max` and `latest` must be read from the raw events.
    pub corrected: bool,
}

/// Which stored usage to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageScope {
    /// The metric.
    pub metric: String,
    /// Only this app, or every app of the org.
    pub app_id: Option<String>,
    /// Only this instance.
    pub instance_id: Option<String>,
    /// Only these instances (an empty list: none at all). Combines with `instance_id`.
    pub instance_ids: Option<Vec<String>>,
    /// Only usage recorded while the instance ran this app version (exactly;
    /// [`UNKNOWN_VERSION`] selects usage recorded before versions were kept). A correction
    /// goes with the version of the event it corrects.
    pub version: Option<String>,
    /// From this instant (inclusive).
    pub from: DateTime<Utc>,
    /// Until this instant (exclusive).
    pub until: DateTime<Utc>,
}

/// The sequence numbers one instance has reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSequences {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The numbers seen.
    pub seen: SequenceTracker,
}

/// "This instance has reported everything for a period": the sequence numbers it sent for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodMarker {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The period's start (inclusive).
    pub period_start: DateTime<Utc>,
    /// The period's end (exclusive).
    pub period_end: DateTime<Utc>,
    /// The first sequence number of the period.
    pub first_sequence: u64,
    /// The last sequence number of the period.
    pub last_sequence: u64,
    /// Who marked it.
    pub marked_by: String,
    /// When.
    pub marked_at: DateTime<Utc>,
}

/// A stored correction (void or adjust) and the event it corrects.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCorrection {
    /// The correction as accepted.
    pub correction: ValidatedEvent,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When the corrected event happened: the correction counts in that event's period.
    pub corrects_occurred_at: DateTime<Utc>,
}
