//! Usage ingest: a request body of usage events is decoded and validated with `plaza-metering`
//! against the latest registered version of each event's app (its `billing.metrics`, plus the
//! host metrics), then the valid events are committed in one transaction with permanent dedup,
//! and the rejected ones go to the dead-letter store with every reason. The report gives one
//! status per event, in body order: nothing valid in a batch is lost to a bad neighbour.
//!
//! Every event names an installed instance of its app in the caller's org: active, or
//! uninstalled (late events of its last days still count); its metrics are those of the
//! version the instance runs, and that version is recorded on each accepted event
//! (`ValidatedEvent::app_version`). A caller authenticated by an instance's capability token may
//! report only that instance.

use super::{EventReport, EventStatus, IngestReport};
use crate::error::{CoreError, StoreError};
use crate::identity::Org;
use crate::ids::OrgId;
use crate::install::{Instance, InstanceId, InstanceStatus};
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

/// A problem for an event naming no usable instance of its app.
fn unknown_instance(app_id: &str, instance_id: &str, why: &str) -> Problem {
    Problem {
        code: Code::UnknownInstance,
        pointer: "/instanceId".into(),
        message: format!("`{instance_id}` is not an instance of `{app_id}` you can report for: {why}"),
        hint: "name an instance installed for the app (`GET /api/installs?app=…`); install it first (`POST /api/installs`)".into(),
        line: None,
        column: None,
    }
}

/// A problem for an event a capability token may not report.
fn not_owner(instance: &Instance) -> Problem {
    Problem {
        code: Code::NotOwner,
        pointer: "/instanceId".into(),
        message: format!(
            "this capability token is for instance `{}` of `{}`; it cannot report usage of another instance or app",
            instance.id, instance.app_id
        ),
        hint: "report only your own instance's usage, or use a publisher or admin API token".into(),
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
    /// The instance whose capability token made the request, if one did.
    pub(super) caller_instance: Option<&'a Instance>,
}

/// How each event's (app, instance) pair is judged: a metering context, or why not.
type Contexts = HashMap<(String, String), Result<MeteringContext, Problem>>;

impl Services {
    /// Ingests a body of usage events (`content_type` picks JSON, NDJSON or CloudEvents) for
    /// `org` as `actor`, and reports per event. `default_late_window` applies unless the org set
    /// its own. `caller_instance` is the instance whose capability token made the request
    /// (it may report only itself). Fails as a whole only when the body cannot be read at all.
    #[allow(clippy::too_many_arguments)]
    pub async fn ingest_usage(
        &self,
        org: &Org,
        actor: &str,
        caller_instance: Option<&Instance>,
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
            caller_instance,
        };
        self.ingest_decoded(&run, decoded).await
    }

    /// The metering context of each (app, instance) pair the events name: the metrics the
    /// version the instance runs declares; or the problem that rejects its events.
    async fn contexts_for(
        &self,
        run: &IngestRun<'_>,
        events: &Decoded,
    ) -> Result<Contexts, CoreError> {
        let mut contexts: Contexts = HashMap::new();
        let mut registered: HashMap<String, bool> = HashMap::new();
        for raw in events.iter().flatten() {
            let key = (raw.app_id.clone(), raw.instance_id.clone());
            if contexts.contains_key(&key) {
                continue;
            }
            let judged = self.context_of(run, raw, &mut registered).await?;
            contexts.insert(key, judged);
        }
        Ok(contexts)
    }

    /// The metering context of one event's app and instance, or why its events are refused.
    async fn context_of(
        &self,
        run: &IngestRun<'_>,
        raw: &RawEvent,
        registered: &mut HashMap<String, bool>,
    ) -> Result<Result<MeteringContext, Problem>, CoreError> {
        if let Some(caller) = run.caller_instance {
            if caller.id.as_str() != raw.instance_id || caller.app_id != raw.app_id {
                return Ok(Err(not_owner(caller)));
            }
        }
        let known_app = match registered.get(&raw.app_id) {
            Some(known) => *known,
            None => {
                let known = self
                    .store
                    .latest_app_version(&run.org.id, &raw.app_id)
                    .await?
                    .is_some();
                registered.insert(raw.app_id.clone(), known);
                known
            }
        };
        if !known_app {
            return Ok(Err(unknown_app(&raw.app_id)));
        }
        let instance = match self
            .store
            .get_instance(&InstanceId::from(raw.instance_id.as_str()))
            .await
        {
            Ok(i) if i.org_id == run.org.id && i.app_id == raw.app_id => i,
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Ok(Err(unknown_instance(
                    &raw.app_id,
                    &raw.instance_id,
                    "no such instance of this app in your org",
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if instance.status == InstanceStatus::PendingConsent {
            return Ok(Err(unknown_instance(
                &raw.app_id,
                &raw.instance_id,
                "it waits for an admin's consent and has not run",
            )));
        }
        let version = self
            .store
            .get_app_version(&run.org.id, &instance.app_id, &instance.version)
            .await?;
        // The version the instance runs now is recorded on each of its events: usage can then
        // be read by version, and an upgrade does not re-attribute what came before.
        let mut cx = MeteringContext::new(run.now).with_app_version(instance.version.clone());
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
        Ok(Ok(cx))
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
                    let key = (raw.app_id.clone(), raw.instance_id.clone());
                    let checked = match contexts.get(&key) {
                        Some(Ok(cx)) => validate(&raw, cx),
                        Some(Err(problem)) => Err(vec![problem.clone()]),
                        None => Err(vec![unknown_app(&raw.app_id)]),
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
