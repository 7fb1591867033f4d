//! The dead-letter store seen by users: listing rejected events, and replaying one after a
//! fix (a manifest that now declares the metric, the event a correction refers to having
//! arrived, or a corrected event sent with the replay). A successful replay marks the dead
//! letter; a failed one leaves it waiting and adds no new one.

use super::ingest::IngestRun;
use super::{EventStatus, IngestReport};
use crate::error::CoreError;
use crate::identity::Org;
use crate::service::Services;
use crate::usage::DeadLetter;
use crate::StoreError;
use chrono::TimeDelta;
use plaza_metering::{parse, ParseOptions, RawEvent};

impl Services {
    /// The org's dead letters, oldest first; replayed ones only when asked.
    pub async fn dead_letters(
        &self,
        org: &Org,
        limit: u32,
        include_replayed: bool,
    ) -> Result<Vec<DeadLetter>, CoreError> {
        Ok(self
            .store
            .list_dead_letters(&org.id, limit, include_replayed)
            .await?)
    }

    /// Replays dead letter `id`: its stored event, or `replacement` (one event, as JSON) when
    /// given. Reports the event's new status; marks the dead letter replayed when the event is
    /// now counted (accepted, or a duplicate of one counted meanwhile).
    pub async fn replay_dead_letter(
        &self,
        org: &Org,
        actor: &str,
        id: &str,
        replacement: Option<&[u8]>,
        default_late_window: TimeDelta,
    ) -> Result<IngestReport, CoreError> {
        let letter = self.store.get_dead_letter(&org.id, id).await?;
        if let Some((at, status)) = &letter.replayed {
            return Err(StoreError::Conflict {
                entity: "dead letter",
                detail: format!(
                    "`{id}` was already replayed at {} ({status}); its event is counted",
                    at.to_rfc3339()
                ),
            }
            .into());
        }
        let decoded = match (replacement, &letter.event) {
            (Some(body), _) => {
                let decoded = parse(body, "application/json", &ParseOptions::default())?;
                if decoded.len() != 1 {
                    return Err(CoreError::Invalid(format!(
                        "a replay takes one event, the body holds {}",
                        decoded.len()
                    )));
                }
                decoded
            }
            (None, Some(event)) => {
                let raw: RawEvent = serde_json::from_value(event.clone()).map_err(|e| {
                    StoreError::Corrupt {
                        entity: "dead letter",
                        detail: format!("stored event of `{id}`: {e}"),
                    }
                })?;
                vec![Ok(raw)]
            }
            (None, None) => {
                return Err(CoreError::Invalid(format!(
                    "dead letter `{id}` could not be decoded when it arrived; send the corrected event as the request body"
                )))
            }
        };
        let run = IngestRun {
            org,
            actor,
            late_window: self.late_window(org, default_late_window).await?,
            now: self.now(),
            dead_letter: false,
            caller_instance: None,
        };
        let report = self.ingest_decoded(&run, decoded).await?;
        if let Some(event) = report.events.first() {
            let status = match event.status {
                EventStatus::Accepted => Some("accepted"),
                EventStatus::Duplicate => Some("duplicate"),
                _ => None,
            };
            if let Some(status) = status {
                self.store
                    .mark_dead_letter_replayed(&org.id, id, run.now, status)
                    .await?;
            }
        }
        Ok(report)
    }
}
