//! The consumers' side: a durable pull consumer that writes batches to the store and acks
//! after the commit.

use crate::{connect, BusConfig, Envelope, Error};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::AckKind;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use plaza_core::ids::OrgId;
use plaza_core::service::Services;
use plaza_core::usage::StoredOutcome;
use plaza_metering::ValidatedEvent;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// How long a fetch waits for messages when the stream is idle.
const FETCH_WAIT: Duration = Duration::from_secs(1);
/// How long a group whose store write failed waits before JetStream redelivers it.
const RETRY_DELAY: Duration = Duration::from_secs(2);

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Messages taken from the stream.
    pub messages: usize,
    /// Events counted now.
    pub accepted: usize,
    /// Events already counted (redeliveries, late retries).
    pub duplicates: usize,
    /// Events whose id was counted with other content (in the conflict log, not counted).
    pub conflicts: usize,
    /// Corrections the store refused (dead-lettered).
    pub refused: usize,
    /// Messages that could not be decoded (terminated: never redelivered).
    pub undecodable: usize,
    /// Messages left unacked because the store failed (redelivered later).
    pub failed: usize,
}

/// A durable pull consumer of the usage stream.
pub struct UsageConsumer {
    js: async_nats::jetstream::Context,
    consumer: async_nats::jetstream::consumer::Consumer<pull::Config>,
    config: BusConfig,
}

/// Events of one org, actor and ingest moment, with the messages that carried them.
struct Group {
    org: OrgId,
    actor: String,
    received_at: DateTime<Utc>,
    events: Vec<ValidatedEvent>,
    messages: Vec<async_nats::jetstream::Message>,
}

impl UsageConsumer {
    /// Connects, creates the stream when absent, and binds to (or creates) the durable consumer
    /// (explicit acks, the configured ack wait, at most four batches unacked).
    pub async fn connect(config: BusConfig) -> Result<Self, Error> {
        let (js, stream) = connect(&config).await?;
        let consumer = stream
            .get_or_create_consumer(
                &config.durable,
                pull::Config {
                    durable_name: Some(config.durable.clone()),
                    ack_policy: AckPolicy::Explicit,
                    deliver_policy: DeliverPolicy::All,
                    ack_wait: config.ack_wait,
                    max_ack_pending: (config.batch.max(1) * 4) as i64,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Error::js("consumer creation", e))?;
        Ok(Self {
            js,
            consumer,
            config,
        })
    }

    /// Takes one batch (waiting up to a second for messages), records it and acks what was
    /// committed.
    pub async fn run_once(&self, services: &Services) -> Result<BatchReport, Error> {
        let mut batch = self
            .consumer
            .batch()
            .max_messages(self.config.batch.max(1))
            .expires(FETCH_WAIT)
            .messages()
            .await
            .map_err(|e| Error::js("fetch", e))?;
        let mut report = BatchReport::default();
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<(OrgId, String, DateTime<Utc>), usize> = HashMap::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| Error::js("fetch", e))?;
            report.messages += 1;
            let envelope: Envelope = match serde_json::from_slice(&message.payload) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(subject = %message.subject, error = %e, "undecodable usage message terminated");
                    report.undecodable += 1;
                    let _ = message.ack_with(AckKind::Term).await;
                    continue;
                }
            };
            let key = (
                envelope.org.clone(),
                envelope.actor.clone(),
                envelope.received_at,
            );
            let at = *index.entry(key).or_insert_with(|| {
                groups.push(Group {
                    org: envelope.org,
                    actor: envelope.actor,
                    received_at: envelope.received_at,
                    events: Vec::new(),
                    messages: Vec::new(),
                });
                groups.len() - 1
            });
            groups[at].events.push(envelope.event);
            groups[at].messages.push(message);
        }
        let mut first_error = None;
        for group in groups {
            match services
                .record_bus_usage(&group.org, &group.actor, group.received_at, &group.events)
                .await
            {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        match outcome {
                            StoredOutcome::Accepted => report.accepted += 1,
                            StoredOutcome::Duplicate => report.duplicates += 1,
                            StoredOutcome::Conflict => report.conflicts += 1,
                            StoredOutcome::Refused(_) => report.refused += 1,
                        }
                    }
                    // Committed: now (and only now) the messages may go.
                    for m in &group.messages {
                        m.ack().await.map_err(|e| Error::js("ack", e))?;
                    }
                }
                Err(e) => {
                    tracing::warn!(org = %group.org, error = %e, "recording usage from the bus failed; redelivering");
                    report.failed += group.messages.len();
                    for m in &group.messages {
                        let _ = m.ack_with(AckKind::Nak(Some(RETRY_DELAY))).await;
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        self.js
            .client()
            .flush()
            .await
            .map_err(|e| Error::js("ack flush", e))?;
        match first_error {
            Some(e) => Err(Error::Record(e)),
            None => Ok(report),
        }
    }

    /// Records batches until `shutdown` completes (a batch cut short is redelivered), backing off
    /// after failures.
    pub async fn run(
        &self,
        services: &Services,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                result = self.run_once(services) => match result {
                    Ok(r) if r.messages > 0 => tracing::debug!(
                        messages = r.messages,
                        accepted = r.accepted,
                        duplicates = r.duplicates,
                        conflicts = r.conflicts,
                        "usage batch recorded"
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "usage consumer batch failed");
                        tokio::time::sleep(RETRY_DELAY).await;
                    }
                },
            }
        }
    }
}
