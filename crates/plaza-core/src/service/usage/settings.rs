//! An org's metering settings: its late-arrival window (how old an event may be when it
//! arrives), which overrides the server's default.

use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::Org;
use crate::service::Services;
use chrono::TimeDelta;

/// The longest late-arrival window an org may set, in days (ten years).
pub const MAX_LATE_ARRIVAL_DAYS: u32 = 3650;

impl Services {
    /// The org's late-arrival window in days, and whether the org set it (else the server's
    /// `default_days` applies).
    pub async fn usage_late_arrival(
        &self,
        org: &Org,
        default_days: u32,
    ) -> Result<(u32, bool), CoreError> {
        Ok(match self.store.usage_late_arrival_days(&org.id).await? {
            Some(days) => (days, true),
            None => (default_days, false),
        })
    }

    /// The window that applies to `org`'s events.
    pub(super) async fn late_window(
        &self,
        org: &Org,
        default: TimeDelta,
    ) -> Result<TimeDelta, CoreError> {
        Ok(match self.store.usage_late_arrival_days(&org.id).await? {
            Some(days) => TimeDelta::days(i64::from(days)),
            None => default,
        })
    }

    /// Sets (or, with `None`, clears) the org's late-arrival window.
    pub async fn set_usage_late_arrival(
        &self,
        actor: &Principal,
        org: &Org,
        days: Option<u32>,
    ) -> Result<(), CoreError> {
        if let Some(d) = days {
            if !(1..=MAX_LATE_ARRIVAL_DAYS).contains(&d) {
                return Err(CoreError::Invalid(format!(
                    "`lateArrivalDays` is {d}; use 1 to {MAX_LATE_ARRIVAL_DAYS} days, or null for the server default"
                )));
            }
        }
        let before = self.store.usage_late_arrival_days(&org.id).await?;
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "usage.settings.set",
            format!("org:{}", org.id),
            serde_json::json!({"lateArrivalDays": {"from": before, "to": days}}),
        );
        Ok(self
            .store
            .set_usage_late_arrival_days(&org.id, days, &audit)
            .await?)
    }
}
