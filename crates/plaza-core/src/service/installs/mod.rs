//! Installs: a team installs an app version, an admin consents to what it asks (all of it, or
//! without some optional scopes), upgrades re-ask when they widen anything, rollback is one
//! call, uninstall revokes every credential at once. Every change is audited in the same
//! transaction as the change.

mod credentials;
mod lifecycle;

pub(crate) use credentials::KeyCache;
pub use credentials::{
    ExchangeError, ExchangedToken, IssuedCapability, UnusedGrant, UnusedGrantReport,
    CALENDAR_PROVIDER, DOWNSTREAM_TTL, INVOCATION_TOKEN_REUSE,
};
pub use lifecycle::{InstallRequest, UpgradeOutcome};

use super::Services;
use crate::access::Principal;
use crate::error::{CoreError, StoreError};
use crate::identity::Role;
use crate::install::{Instance, InstanceId};

/// Settings of installs and capability tokens (`install.*` in the configuration).
#[derive(Clone, Debug)]
pub struct InstallSettings {
    /// The SPIFFE trust domain of instance ids.
    pub trust_domain: String,
    /// Lifetime of a capability token.
    pub token_ttl: chrono::Duration,
    /// How long a signing key signs before the next one takes over.
    pub key_rotation: chrono::Duration,
}

impl Default for InstallSettings {
    fn default() -> Self {
        Self {
            trust_domain: crate::install::DEFAULT_TRUST_DOMAIN.to_owned(),
            token_ttl: crate::capability::DEFAULT_TTL,
            key_rotation: crate::capability::DEFAULT_ROTATION,
        }
    }
}

impl Services {
    /// An instance the caller may see: one of their org's. Another org's instance is
    /// `NotFound`, as if it did not exist.
    pub async fn instance(&self, actor: &Principal, id: &str) -> Result<Instance, CoreError> {
        let not_found = || {
            CoreError::Store(StoreError::NotFound {
                entity: "instance",
                key: id.to_owned(),
            })
        };
        let instance = match self.store.get_instance(&InstanceId::from(id)).await {
            Ok(i) => i,
            Err(StoreError::NotFound { .. }) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        if &instance.org_id != actor.org_id() {
            return Err(not_found());
        }
        Ok(instance)
    }

    /// An instance of the caller's org that serves a request: like [`Services::instance`], but
    /// read through a one-second cache (a change made here clears it at once).
    pub async fn running_instance(
        &self,
        actor: &Principal,
        id: &str,
    ) -> Result<Instance, CoreError> {
        let key = InstanceId::from(id);
        if let Some(instance) = self.running.get(&key) {
            if &instance.org_id == actor.org_id() {
                return Ok(instance);
            }
        }
        let instance = self.instance(actor, id).await?;
        self.running.insert(key, instance.clone());
        Ok(instance)
    }

    /// Forgets a cached running instance after it changed.
    pub(crate) fn forget_instance(&self, id: &InstanceId) {
        self.running.remove(id);
    }

    /// `Forbidden` unless the caller is an admin or a member of the instance's team.
    fn require_team_access(actor: &Principal, instance: &Instance) -> Result<(), CoreError> {
        if actor.has_role(Role::Admin) || actor.teams.contains(&instance.team_id) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "only members of the instance's team or an admin may change it".into(),
            ))
        }
    }
}
