//! The servers' side: publishing validated events and awaiting JetStream's acks.

use crate::{connect, message_id, BusConfig, Envelope, Error};
use async_nats::jetstream::message::PublishMessage;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plaza_core::ids::OrgId;
use plaza_core::ports::UsageBus;
use plaza_core::usage::BusOutcome;
use plaza_core::BusError;
use plaza_metering::ValidatedEvent;

/// How many publishes are in flight before their acks are awaited.
const IN_FLIGHT: usize = 256;

/// The [`UsageBus`] on NATS JetStream.
#[derive(Clone)]
pub struct JetStreamBus {
    js: async_nats::jetstream::Context,
    config: BusConfig,
}

impl JetStreamBus {
    /// Connects and creates the stream when absent.
    pub async fn connect(config: BusConfig) -> Result<Self, Error> {
        let (js, _) = connect(&config).await?;
        Ok(Self { js, config })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &BusConfig {
        &self.config
    }
}

#[async_trait]
impl UsageBus for JetStreamBus {
    async fn publish_usage(
        &self,
        org: &OrgId,
        actor: &str,
        received_at: DateTime<Utc>,
        events: &[ValidatedEvent],
    ) -> Result<Vec<BusOutcome>, BusError> {
        let subject = self.config.subject(org);
        let mut outcomes = Vec::with_capacity(events.len());
        for chunk in events.chunks(IN_FLIGHT) {
            let mut acks = Vec::with_capacity(chunk.len());
            for event in chunk {
                let envelope = Envelope {
                    org: org.clone(),
                    actor: actor.to_owned(),
                    received_at,
                    event: event.clone(),
                };
                let payload = serde_json::to_vec(&envelope)
                    .map_err(|e| BusError(format!("cannot encode an event: {e}")))?;
                let ack = self
                    .js
                    .send_publish(
                        subject.clone(),
                        PublishMessage::build()
                            .payload(payload.into())
                            .message_id(message_id(org, event)),
                    )
                    .await
                    .map_err(|e| BusError(format!("publish to JetStream failed: {e}")))?;
                acks.push(ack);
            }
            for ack in acks {
                let ack = ack
                    .await
                    .map_err(|e| BusError(format!("JetStream did not confirm an event: {e}")))?;
                outcomes.push(if ack.duplicate {
                    BusOutcome::Duplicate
                } else {
                    BusOutcome::Stored
                });
            }
        }
        Ok(outcomes)
    }
}
