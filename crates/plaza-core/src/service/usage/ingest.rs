//! Usage ingest: a request body of usage events is decoded and validated with `plaza-metering`
//! against the latest registered version of each event's app (its `billing.metrics`, plus the
//! host metrics), then the valid events are committed in one transaction with permanent dedup,
//! and the rejected ones go to the dead-letter store with every reason. The report gives one
//! status per event, in body order: nothing valid in a batch is lost to a bad neighbour.
//!
//! Until installs exist (issue 6), an event's `instanceId` is taken as given; an app must be
//! registered by the caller's org.

use super::{EventReport, EventStatus, IngestReport};
use crate::error::CoreError;
use crate::identity::Org;
use crate::ids::OrgId;
use crate::service::Services;
use crate::usage::{BusOutcome, DeadLetter, StoredOutcome};
use chrono::{DateTime, TimeDelta, Utc};
use plaza_metering::{
    parse, validate, Code, Decoded, MeteringContext, ParseOptions, Problem, RawEvent,
    ValidatedEvent,
};
use std::collections::HashMap;

/// A problem for an event whose app the org has not registered.
fn unknown_app(app_id: &str) -> Problem {
    Problem {
        code: Code::UnknownApp,
        pointer: "/appId".into(),
        message: format!("the app `{app_id}` is not registered by your org"),
        hint: "send usage only for your org's registered apps (`GET /api/orgs/{org}/apps`)".into(),
        line: None,
        column: None,
    }
}

/// The problem reported for a conflicting reuse of an event id.
fn conflict(event_id: &str) -> Problem {
    Problem {
        code: Code::EventIdConflict,
        pointer: "/eventId".into(),
        message: format!(
            "the event id `{event_id}` was already counted with other content; this one is recorded as a conflict and not counted"
        ),
        hint: "give every distinct event its own id; to change a counted event, send a `void` or `adjust` correction".into(),
        line: None,
        column: None,
    }
}

/// How one ingest treats its events.
pub(super) struct IngestRun<'a> {
    pub(super) org: &'a Org,
    pub(super) actor: &'a str,
    pub(super) late_window: TimeDelta,
    pub(super) now: DateTime<Utc>,
    /// Whether rejected events go to the dead-letter store (not for a replay, whose dead
    /// letter already exists).
    pub(super) dead_letter: bool,
}

impl Services {
    /// Ingests a body of usage events (`content_type` picks JSON, NDJSON or CloudEvents) for
    /// `org` as `actor`, and reports per event. `default_late_window` applies unless the org set
    /// its own. Fails as a whole only when the body cannot be read at all.
    pub async fn ingest_usage(
        &self,
        org: &Org,
        actor: &str,
        body: &[u8],
        content_type: &str,
        options: &ParseOptions,
        default_late_window: TimeDelta,
    ) -> Result<IngestReport, CoreError> {
        let decoded = parse(body, content_type, options)?;
        let run = IngestRun {
            org,
            actor,
            late_window: self.late_window(org, default_late_window).await?,
            now: self.now(),
            dead_letter: true,
        };
        self.ingest_decoded(&run, decoded).await
    }

    /// The metering context of each app the events name: the metrics its latest registered
    /// version declares. Apps the org has not registered are absent.
    async fn contexts_for(
        &self,
        run: &IngestRun<'_>,
        events: &Decoded,
    ) -> Result<HashMap<String, MeteringContext>, CoreError> {
        let mut contexts = HashMap::new();
        let mut unknown = std::collections::HashSet::new();
        for raw in events.iter().flatten() {
            if contexts.contains_key(&raw.app_id) || unknown.contains(&raw.app_id) {
                continue;
            }
            let Some(version) = self
                .store
                .latest_app_version(&run.org.id, &raw.app_id)
                .await?
            else {
                unknown.insert(raw.app_id.clone());
                continue;
            };
            let mut cx = MeteringContext::new(run.now);
            cx.late_window = run.late_window;
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
            contexts.insert(raw.app_id.clone(), cx);
        }
        Ok(contexts)
    }

    /// Validates, counts and reports decoded events.
    pub(super) async fn ingest_decoded(
        &self,
        run: &IngestRun<'_>,
        decoded: Decoded,
    ) -> Result<IngestReport, CoreError> {
        let contexts = self.contexts_for(run, &decoded).await?;
        let mut reports: Vec<Option<EventReport>> = Vec::with_capacity(decoded.len());
        let mut valid: Vec<(usize, ValidatedEvent, RawEvent)> = Vec::new();
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
                            valid.push((index, v, raw));
                            reports.push(None);
                            continue;
                        }
                        Err(problems) => (Some(raw), problems, 0),
                    }
                }
            };
            letters.push(dead_letter(run, index, line, event.as_ref(), &problems));
            reports.push(Some(EventReport {
                index,
                event_id: event.map(|e| e.event_id),
                status: EventStatus::Rejected,
                problems,
            }));
        }

        let events: Vec<ValidatedEvent> = valid.iter().map(|(_, e, _)| e.clone()).collect();
        let outcomes = if events.is_empty() {
            Vec::new()
        } else if let Some(bus) = &self.usage_bus {
            // Scale-out mode: the bus's ack is the durability promise; conflicts and refused
            // corrections are found by the consumer against the store.
            bus.publish_usage(&run.org.id, run.actor, run.now, &events)
                .await?
                .into_iter()
                .map(|o| match o {
                    BusOutcome::Stored => StoredOutcome::Accepted,
                    BusOutcome::Duplicate => StoredOutcome::Duplicate,
                })
                .collect()
        } else {
            self.store
                .record_usage(&run.org.id, &events, run.now, run.actor)
                .await?
        };
        for ((index, event, raw), outcome) in valid.into_iter().zip(outcomes) {
            let (status, problems) = match outcome {
                StoredOutcome::Accepted => (EventStatus::Accepted, Vec::new()),
                StoredOutcome::Duplicate => (EventStatus::Duplicate, Vec::new()),
                StoredOutcome::Conflict => (EventStatus::Conflict, vec![conflict(&event.event_id)]),
                StoredOutcome::Refused(problems) => {
                    letters.push(dead_letter(run, index, 0, Some(&raw), &problems));
                    (EventStatus::Rejected, problems)
                }
            };
            reports[index] = Some(EventReport {
                index,
                event_id: Some(event.event_id),
                status,
                problems,
            });
        }
        if run.dead_letter && !letters.is_empty() {
            self.store.add_dead_letters(&letters).await?;
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

    /// The consumer side of the scale-out mode: records events taken from the usage bus in
    /// one store transaction (permanent dedup, so a redelivered event is a duplicate), and
    /// dead-letters the corrections the store refuses. Returns the outcome per event.
    pub async fn record_bus_usage(
        &self,
        org: &OrgId,
        actor: &str,
        received_at: DateTime<Utc>,
        events: &[ValidatedEvent],
    ) -> Result<Vec<StoredOutcome>, CoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self
            .store
            .record_usage(org, events, received_at, actor)
            .await?;
        let letters: Vec<DeadLetter> = events
            .iter()
            .zip(&outcomes)
            .enumerate()
            .filter_map(|(index, (event, outcome))| match outcome {
                StoredOutcome::Refused(problems) => Some(DeadLetter {
                    id: uuid::Uuid::now_v7().to_string(),
                    org_id: org.clone(),
                    received_at,
                    index: index as u64,
                    line: 0,
                    event: serde_json::to_value(event).ok(),
                    problems: serde_json::to_value(problems).unwrap_or_default(),
                    replayed: None,
                }),
                _ => None,
            })
            .collect();
        if !letters.is_empty() {
            self.store.add_dead_letters(&letters).await?;
        }
        Ok(outcomes)
    }
}

/// A rejected event as the dead-letter store keeps it.
fn dead_letter(
    run: &IngestRun<'_>,
    index: usize,
    line: usize,
    event: Option<&RawEvent>,
    problems: &[Problem],
) -> DeadLetter {
    DeadLetter {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: run.org.id.clone(),
        received_at: run.now,
        index: index as u64,
        line: line as u64,
        event: event.and_then(|e| serde_json::to_value(e).ok()),
        problems: serde_json::to_value(problems).unwrap_or_default(),
        replayed: None,
    }
}
