//! The usage bus of Plaza's scale-out metering mode (`metering.bus = "nats://…"`), on NATS
//! JetStream.
//!
//! - [`JetStreamBus`] implements the [`UsageBus`](plaza_core::ports::UsageBus) port for the
//!   servers: each validated event is published to the stream (`PLAZA_USAGE` unless configured,
//!   subject `<stream>.<org id>`) with the JetStream message id `<org>/<app>/<eventId>`, so the
//!   stream's own dedup window drops fast retries, and the publish ack (the event is on disk in
//!   JetStream) is awaited for every event before the server answers.
//! - [`UsageConsumer`] is a durable pull consumer with explicit acks: it fetches batches, writes
//!   each batch's events to the store grouped by org (one transaction per group, through
//!   [`Services::record_bus_usage`](plaza_core::service::Services::record_bus_usage), which
//!   dedups forever by org, app and event id), and acks the messages only after the commit. A
//!   consumer that dies mid-batch leaves its messages unacked; JetStream redelivers them after
//!   the ack wait, and the store answers `duplicate` for those already committed. Any number of
//!   consumers may share the durable: JetStream hands each message to one of them at a time.
//!
//! The stream is created when absent (by servers and consumers alike) with file storage and
//! work-queue retention: an acked message is deleted, so the stream holds only the backlog.

mod consumer;
mod publisher;

pub use consumer::{BatchReport, UsageConsumer};
pub use publisher::JetStreamBus;

use chrono::{DateTime, Utc};
use plaza_core::ids::OrgId;
use plaza_metering::ValidatedEvent;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The stream's name unless configured.
pub const DEFAULT_STREAM: &str = "PLAZA_USAGE";
/// The durable consumer's name unless configured.
pub const DEFAULT_DURABLE: &str = "plaza-usage-consumer";
/// The store actor consumers record as when the message names none.
pub const CONSUMER_ACTOR: &str = "system:usage-consumer";

/// Where the bus is and how it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusConfig {
    /// The NATS server, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// The JetStream stream (letters, digits, `-` and `_`); its subjects are `<stream>.<org>`.
    pub stream: String,
    /// The durable consumer's name, shared by every consumer process.
    pub durable: String,
    /// How long JetStream remembers message ids to drop duplicates (default 2 minutes).
    pub duplicate_window: Duration,
    /// Most messages a consumer takes per batch (default 1000).
    pub batch: usize,
    /// How long a delivered message may stay unacked before JetStream redelivers it
    /// (default 30 s).
    pub ack_wait: Duration,
}

impl BusConfig {
    /// The defaults, on the NATS server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: DEFAULT_STREAM.into(),
            durable: DEFAULT_DURABLE.into(),
            duplicate_window: Duration::from_secs(120),
            batch: 1000,
            ack_wait: Duration::from_secs(30),
        }
    }

    /// The subject events of `org` are published on.
    pub fn subject(&self, org: &OrgId) -> String {
        format!("{}.{}", self.stream, org)
    }
}

/// What the bus adapter fails with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The NATS server could not be reached.
    #[error("cannot connect to the NATS server at {url}: {detail}")]
    Connect {
        /// The configured URL.
        url: String,
        /// The client's reason.
        detail: String,
    },
    /// A JetStream request (stream or consumer creation, publish, fetch) failed.
    #[error("JetStream {what} failed: {detail}")]
    JetStream {
        /// What was attempted.
        what: &'static str,
        /// The client's reason.
        detail: String,
    },
    /// The store failed while a consumer recorded a batch (its messages are redelivered).
    #[error("recording usage from the bus failed: {0}")]
    Record(#[from] plaza_core::CoreError),
}

impl Error {
    fn js(what: &'static str, e: impl std::fmt::Display) -> Self {
        Error::JetStream {
            what,
            detail: e.to_string(),
        }
    }
}

/// One message on the stream: an event and the ingest request it came with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The org that sent the event.
    pub org: OrgId,
    /// Who sent it (recorded as the actor of corrections' audit entries).
    pub actor: String,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// The event, as validated by the server.
    pub event: ValidatedEvent,
}

/// The JetStream message id of an event: dedup is per org, app and event id.
pub fn message_id(org: &OrgId, event: &ValidatedEvent) -> String {
    format!("{}/{}/{}", org, event.app_id, event.event_id)
}

/// Connects to NATS and makes sure the stream exists (file storage, the configured dedup
/// window).
async fn connect(
    config: &BusConfig,
) -> Result<
    (
        async_nats::jetstream::Context,
        async_nats::jetstream::stream::Stream,
    ),
    Error,
> {
    use async_nats::jetstream::stream;
    let client = async_nats::connect(&config.url)
        .await
        .map_err(|e| Error::Connect {
            url: config.url.clone(),
            detail: e.to_string(),
        })?;
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_or_create_stream(stream::Config {
            name: config.stream.clone(),
            subjects: vec![format!("{}.>", config.stream)],
            storage: stream::StorageType::File,
            // A message leaves the stream once a consumer acked it (after its events were
            // committed), so the stream holds only what is not yet in the store.
            retention: stream::RetentionPolicy::WorkQueue,
            duplicate_window: config.duplicate_window,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::js("stream creation", e))?;
    Ok((js, stream))
}
