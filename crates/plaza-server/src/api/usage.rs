//! Wire types of the metering API: ingest reports, dead letters, aggregation answers, sequence
//! gaps, period markers and corrections. Decimal values travel as strings, so no client parses
//! them into floating point by accident.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One problem with one usage event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventProblemView {
    /// Stable code, e.g. `unknown_metric` (docs/metering.md lists them).
    pub code: String,
    /// JSON pointer: relative to the body for decoding problems, to the event otherwise.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// 1-based line in the body, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl From<plaza_metering::Problem> for EventProblemView {
    fn from(p: plaza_metering::Problem) -> Self {
        Self {
            code: p.code.as_str().to_owned(),
            pointer: p.pointer,
            message: p.message,
            hint: p.hint,
            line: p.line,
            column: p.column,
        }
    }
}

/// What happened to one usage event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventReportView {
    /// 0-based position in the body.
    pub index: usize,
    /// The event id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `accepted` (committed), `duplicate`, `conflict` or `rejected`.
    pub status: String,
    /// Why it was rejected or conflicts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<EventProblemView>,
}

/// The outcome of an ingest request: counts, then one entry per event in body order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestReportView {
    /// Events counted now.
    pub accepted: usize,
    /// Events already counted with identical content.
    pub duplicates: usize,
    /// Event ids reused with other content (recorded, not counted).
    pub conflicts: usize,
    /// Invalid events (dead-lettered).
    pub rejected: usize,
    /// One entry per event.
    pub events: Vec<EventReportView>,
}

impl From<plaza_core::service::IngestReport> for IngestReportView {
    fn from(r: plaza_core::service::IngestReport) -> Self {
        use plaza_core::service::EventStatus;
        Self {
            accepted: r.accepted,
            duplicates: r.duplicates,
            conflicts: r.conflicts,
            rejected: r.rejected,
            events: r
                .events
                .into_iter()
                .map(|e| EventReportView {
                    index: e.index,
                    event_id: e.event_id,
                    status: match e.status {
                        EventStatus::Accepted => "accepted",
                        EventStatus::Duplicate => "duplicate",
                        EventStatus::Conflict => "conflict",
                        EventStatus::Rejected => "rejected",
                    }
                    .to_owned(),
                    problems: e.problems.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

/// A rejected usage event kept for inspection and replay.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// Its id.
    pub id: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// 0-based position in its request body.
    pub index: u64,
    /// 1-based line of the body where it started (0 when not known).
    pub line: u64,
    /// The event as decoded; absent when it could not be decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub event: Option<serde_json::Value>,
    /// Every reason it was rejected.
    #[schema(value_type = Vec<Object>)]
    pub problems: serde_json::Value,
    /// When it was replayed successfully; absent while it waits for a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<DateTime<Utc>>,
    /// What the replay gave: `accepted` or `duplicate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_status: Option<String>,
}

impl From<plaza_core::usage::DeadLetter> for DeadLetterView {
    fn from(d: plaza_core::usage::DeadLetter) -> Self {
        Self {
            id: d.id,
            received_at: d.received_at,
            index: d.index,
            line: d.line,
            event: d.event,
            problems: d.problems,
            replayed_at: d.replayed.as_ref().map(|(at, _)| *at),
            replay_status: d.replayed.map(|(_, s)| s),
        }
    }
}

/// One row of a usage aggregation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRowView {
    /// The window's start (UTC).
    pub start: DateTime<Utc>,
    /// The window's end, exclusive (UTC).
    pub end: DateTime<Utc>,
    /// The row's app, instance, app version, team slug or cost center, when grouped (`""`
    /// for a version recorded before versions were kept, or an instance without a team or
    /// cost center).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The aggregate as an exact decimal string (in the metric's declared unit for sum, max
    /// and latest).
    pub value: String,
    /// How many events count in it (corrections applied).
    pub events: u64,
}

/// The answer to a usage query.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageAnswerView {
    /// The metric.
    pub metric: String,
    /// `sum`, `count`, `max`, `unique_count` or `latest`.
    pub aggregation: String,
    /// `hour`, `day` or `month`.
    pub granularity: String,
    /// The IANA zone of the windows.
    pub time_zone: String,
    /// What the rows are split by: `app`, `instance`, `version`, `team`, `costCenter`, or
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Windows answered from rollups.
    pub windows_from_rollups: usize,
    /// Windows answered from raw events (unique counts, tag filters, corrected extremes).
    pub windows_from_events: usize,
    /// Windows (and groups) with at least one event, in order.
    pub rows: Vec<UsageRowView>,
}

impl From<plaza_core::service::UsageRow> for UsageRowView {
    fn from(r: plaza_core::service::UsageRow) -> Self {
        Self {
            start: r.start,
            end: r.end,
            group: r.group,
            value: r.value.to_string(),
            events: r.events,
        }
    }
}

/// The sequence numbers one instance is missing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceGapsView {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The smallest sequence number seen.
    pub first: u64,
    /// The largest seen.
    pub last: u64,
    /// How many distinct numbers were seen.
    pub seen: u64,
    /// The missing numbers as inclusive `[first, last]` ranges.
    pub missing: Vec<[u64; 2]>,
    /// How many numbers are missing.
    pub missing_count: u64,
}

impl From<plaza_core::service::InstanceGaps> for InstanceGapsView {
    fn from(g: plaza_core::service::InstanceGaps) -> Self {
        Self {
            app_id: g.app_id,
            instance_id: g.instance_id,
            first: g.first,
            last: g.last,
            seen: u64::try_from(g.seen).unwrap_or(u64::MAX),
            missing: g.missing.into_iter().map(|(a, b)| [a, b]).collect(),
            missing_count: u64::try_from(g.missing_count).unwrap_or(u64::MAX),
        }
    }
}

/// "This instance has reported every sequence number of this period."
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeriodMarkRequest {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The period's start (RFC 3339).
    pub start: DateTime<Utc>,
    /// The period's end, exclusive (RFC 3339).
    pub end: DateTime<Utc>,
    /// The first sequence number of the period.
    pub first_sequence: u64,
    /// The last sequence number of the period.
    pub last_sequence: u64,
}

/// A period marker and whether the period is complete now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodStatusView {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The period's start.
    pub start: DateTime<Utc>,
    /// The period's end, exclusive.
    pub end: DateTime<Utc>,
    /// The first sequence number of the period.
    pub first_sequence: u64,
    /// The last.
    pub last_sequence: u64,
    /// Who marked it.
    pub marked_by: String,
    /// When.
    pub marked_at: DateTime<Utc>,
    /// Whether every sequence number of the period has been counted.
    pub complete: bool,
    /// The period's numbers still missing, as inclusive `[first, last]` ranges.
    pub missing: Vec<[u64; 2]>,
}

impl From<plaza_core::service::PeriodStatus> for PeriodStatusView {
    fn from(p: plaza_core::service::PeriodStatus) -> Self {
        Self {
            app_id: p.marker.app_id,
            instance_id: p.marker.instance_id,
            start: p.marker.period_start,
            end: p.marker.period_end,
            first_sequence: p.marker.first_sequence,
            last_sequence: p.marker.last_sequence,
            marked_by: p.marker.marked_by,
            marked_at: p.marker.marked_at,
            complete: p.complete,
            missing: p.missing.into_iter().map(|(a, b)| [a, b]).collect(),
        }
    }
}

/// A stored correction and the period it belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrectionView {
    /// The correction's own event id.
    pub event_id: String,
    /// `void` or `adjust`.
    pub kind: String,
    /// The event it corrects.
    #[serde(rename = "ref")]
    pub correction_ref: String,
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The metric.
    pub metric: String,
    /// The signed delta of an adjust, in the metric's declared unit (0 for a void).
    pub value: String,
    /// The metric's declared unit.
    pub unit: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// When the corrected event happened: billing applies the correction to that period,
    /// even one already invoiced.
    pub corrects_occurred_at: DateTime<Utc>,
}

impl From<plaza_core::usage::StoredCorrection> for CorrectionView {
    fn from(c: plaza_core::usage::StoredCorrection) -> Self {
        let e = c.correction;
        Self {
            event_id: e.event_id,
            kind: e.kind.as_str().to_owned(),
            correction_ref: e.correction_ref.unwrap_or_default(),
            app_id: e.app_id,
            instance_id: e.instance_id,
            metric: e.metric,
            value: e.value.to_string(),
            unit: e.unit,
            received_at: c.received_at,
            corrects_occurred_at: c.corrects_occurred_at,
        }
    }
}

/// An org's metering settings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageSettingsView {
    /// How old (in days) an event may be when it arrives.
    pub late_arrival_days: u32,
    /// `org` when the org set it, `server` when the server's default applies.
    pub source: String,
}

/// Body of `PUT /api/orgs/{org}/usage-settings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsageSettingsRequest {
    /// 1–3650 days, or null to fall back to the server's default.
    #[schema(minimum = 1, maximum = 3650)]
    pub late_arrival_days: Option<u32>,
}
