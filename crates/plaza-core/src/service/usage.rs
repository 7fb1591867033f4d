//! Usage ingest: a request body of usage events is decoded and validated with `plaza-metering`
//! against the latest registered version of each event's app (its `billing.metrics`, plus the
//! host metrics), then the valid events are committed in one transaction with permanent dedup,
//! and the rejected ones go to the dead-letter store with every reason. The report gives one
//! status per event, in body order: nothing valid in a batch is lost to a bad neighbour.
//!
//! Until installs exist (issue 6), an event's `instanceId` is taken as given; an app must be
//! registered by the caller's org.

use super::Services;
use crate::error::CoreError;
use crate::identity::Org;
use crate::usage::{DeadLetter, StoredOutcome};
use plaza_metering::{parse, validate, MeteringContext, ParseOptions, Problem, ValidatedEvent};
use serde::Serialize;
use std::collections::BTreeMap;

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

/// A problem for an event whose app the org has not registered.
fn unknown_app(app_id: &str) -> Problem {
    Problem {
        code: plaza_metering::Code::UnknownApp,
        pointer: "/appId".into(),
        message: format!("the app `{app_id}` is not registered by your org"),
        hint: "send usage only for your org's registered apps (`GET /api/orgs/{org}/apps`)".into(),
        line: None,
        column: None,
    }
}

impl Services {
    /// Ingests a body of usage events (`content_type` picks JSON, NDJSON or CloudEvents) for
    /// `org`, and reports per event. Fails as a whole only when the body cannot be read at all.
    pub async fn ingest_usage(
        &self,
        org: &Org,
        body: &[u8],
        content_type: &str,
        options: &ParseOptions,
        late_window: chrono::TimeDelta,
    ) -> Result<IngestReport, CoreError> {
        let decoded = parse(body, content_type, options)?;
        let now = self.now();
        let mut contexts: BTreeMap<String, MeteringContext> = BTreeMap::new();
        for version in self.store.list_app_versions(&org.id).await? {
            // Registration order: the last version of each app wins.
            let mut cx = MeteringContext::new(now);
            cx.late_window = late_window;
            for m in version
                .manifest
                .pointer("/billing/metrics")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
            {
                if let (Some(name), Some(unit)) = (
                    m.get("name").and_then(|v| v.as_str()),
                    m.get("unit").and_then(|v| v.as_str()),
                ) {
                    cx = cx.with_metric(name, unit);
                }
            }
            contexts.insert(version.app_id.clone(), cx);
        }

        let mut reports = Vec::with_capacity(decoded.len());
        let mut valid: Vec<(usize, ValidatedEvent)> = Vec::new();
        let mut letters = Vec::new();
        for (index, item) in decoded.into_iter().enumerate() {
            let (event, problems, line) = match item {
                Err(e) => (None, e.problems, e.line),
                Ok(raw) => {
                    let checked = match contexts.get(&raw.app_id) {
                        None => Err(vec![unknown_app(&raw.app_id)]),
                        Some(cx) => validate(&raw, cx),
                    };
                    match checked {
                        Ok(v) => {
                            valid.push((index, v));
                            reports.push(None);
                            continue;
                        }
                        Err(problems) => (Some(raw), problems, 0),
                    }
                }
            };
            letters.push(DeadLetter {
                id: uuid::Uuid::now_v7().to_string(),
                org_id: org.id.clone(),
                received_at: now,
                index: index as u64,
                line: line as u64,
                event: event.as_ref().and_then(|e| serde_json::to_value(e).ok()),
                problems: serde_json::to_value(&problems).unwrap_or_default(),
            });
            reports.push(Some(EventReport {
                index,
                event_id: event.map(|e| e.event_id),
                status: EventStatus::Rejected,
                problems,
            }));
        }

        let events: Vec<ValidatedEvent> = valid.iter().map(|(_, e)| e.clone()).collect();
        let outcomes = if events.is_empty() {
            Vec::new()
        } else {
            self.store.record_usage(&org.id, &events, now).await?
        };
        if !letters.is_empty() {
            self.store.add_dead_letters(&letters).await?;
        }
        for ((index, event), outcome) in valid.into_iter().zip(outcomes) {
            let status = match outcome {
                StoredOutcome::Accepted => EventStatus::Accepted,
                StoredOutcome::Duplicate => EventStatus::Duplicate,
                StoredOutcome::Conflict => EventStatus::Conflict,
            };
            let problems = if status == EventStatus::Conflict {
                vec![Problem {
                    code: plaza_metering::Code::EventIdConflict,
                    pointer: "/eventId".into(),
                    message: format!(
                        "the event id `{}` was already counted with other content; this one is recorded as a conflict and not counted",
                        event.event_id
                    ),
                    hint: "give every distinct event its own id; to change a counted event, send a `void` or `adjust` correction".into(),
                    line: None,
                    column: None,
                }]
            } else {
                Vec::new()
            };
            reports[index] = Some(EventReport {
                index,
                event_id: Some(event.event_id),
                status,
                problems,
            });
        }
        let events: Vec<EventReport> = reports.into_iter().flatten().collect();
        let count = |s: EventStatus| events.iter().filter(|e| e.status == s).count();
        Ok(IngestReport {
            accepted: count(EventStatus::Accepted),
            duplicates: count(EventStatus::Duplicate),
            conflicts: count(EventStatus::Conflict),
            rejected: count(EventStatus::Rejected),
            events,
        })
    }

    /// The org's dead letters, oldest first.
    pub async fn dead_letters(&self, org: &Org, limit: u32) -> Result<Vec<DeadLetter>, CoreError> {
        Ok(self.store.list_dead_letters(&org.id, limit).await?)
    }
}
