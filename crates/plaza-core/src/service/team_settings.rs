//! A team's own settings: whether its instances take upgrades that widen nothing on their own
//! ("if the team allows it"), audited when changed.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::{Org, Team, TeamSettings};
use serde_json::json;

impl Services {
    /// The team's settings (defaults until set).
    pub async fn team_settings(&self, team: &Team) -> Result<TeamSettings, CoreError> {
        Ok(self.store.team_settings(&team.id).await?)
    }

    /// Replaces the team's settings (audited `team.settings.set`).
    pub async fn set_team_settings(
        &self,
        actor: &Principal,
        org: &Org,
        team: &Team,
        settings: TeamSettings,
    ) -> Result<TeamSettings, CoreError> {
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "team.settings.set",
            format!("team:{}", team.slug),
            json!({"autoUpgrade": settings.auto_upgrade}),
        );
        self.store
            .set_team_settings(&team.id, &settings, &audit)
            .await?;
        Ok(settings)
    }
}
