//! The life of an instance: install (with consent or pending it), consent, upgrade with the
//! permission delta, automatic upgrades when a version is published, rollback and uninstall.

use super::Services;
use crate::access::Principal;
use crate::apps::AppVersion;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::{Org, Role};
use crate::install::{
    check_tags, spiffe_id, BillingMode, Grant, Instance, InstanceId, InstanceStatus,
    PendingUpgrade, PermissionDelta, PermissionRequest,
};
use crate::ports::InstanceFilter;
use serde_json::json;
use std::collections::BTreeMap;

/// What a caller asks for when installing (the API's `InstallRequestBody` read into the domain;
/// the demo fills it directly).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallRequest {
    /// The app.
    pub app_id: String,
    /// The version (default: the latest registered).
    pub version: Option<String>,
    /// The team's slug.
    pub team: String,
    /// An id for the instance (default: generated).
    pub instance_id: Option<String>,
    /// Attribution tags.
    pub tags: BTreeMap<String, String>,
    /// `normal` (default) or `sandbox`.
    pub billing_mode: Option<String>,
    /// Take non-widening versions automatically (default true).
    pub auto_upgrade: Option<bool>,
    /// Optional scopes the admin refuses.
    pub refuse_scopes: Vec<String>,
}

/// What an upgrade did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeOutcome {
    /// The instance after it.
    pub instance: Instance,
    /// What the new version changes.
    pub delta: PermissionDelta,
    /// Whether the instance now runs the new version (`false`: it waits for consent).
    pub applied: bool,
}

impl Services {
    /// What a version (default: the latest) asks for, for the consent screen.
    pub async fn permission_request(
        &self,
        org: &Org,
        app_id: &str,
        version: Option<&str>,
    ) -> Result<PermissionRequest, CoreError> {
        let v = self.version_or_latest(org, app_id, version).await?;
        request_of(&v)
    }

    async fn version_or_latest(
        &self,
        org: &Org,
        app_id: &str,
        version: Option<&str>,
    ) -> Result<AppVersion, CoreError> {
        match version {
            Some(v) => Ok(self.store.get_app_version(&org.id, app_id, v).await?),
            None => self
                .store
                .latest_app_version(&org.id, app_id)
                .await?
                .ok_or_else(|| {
                    CoreError::Store(crate::StoreError::NotFound {
                        entity: "app",
                        key: app_id.to_owned(),
                    })
                }),
        }
    }

    /// Installs an app version for a team. An admin's install is granted at once (refusing the
    /// optional scopes in `refuseScopes`); a team member's waits for an admin's consent.
    pub async fn install(
        &self,
        actor: &Principal,
        org: &Org,
        req: &InstallRequest,
    ) -> Result<Instance, CoreError> {
        let team = self.team(org, &req.team).await?;
        let admin = actor.has_role(Role::Admin);
        if !admin && !actor.teams.contains(&team.id) {
            return Err(CoreError::Forbidden(format!(
                "only members of team `{}` or an admin may install apps for it",
                team.slug
            )));
        }
        check_tags(&req.tags).map_err(CoreError::Invalid)?;
        let billing_mode = match req.billing_mode.as_deref() {
            None => BillingMode::Normal,
            Some(m) => BillingMode::parse(m).ok_or_else(|| {
                CoreError::Invalid(format!(
                    "billing mode `{m}` is not one of `normal`, `sandbox`"
                ))
            })?,
        };
        let id = match &req.instance_id {
            Some(id) => InstanceId::parse(id).map_err(CoreError::Invalid)?,
            None => InstanceId::generate(),
        };
        let version = self
            .version_or_latest(org, &req.app_id, req.version.as_deref())
            .await?;
        if let Some(block) = self
            .store
            .version_block(&org.id, &version.app_id, &version.version)
            .await?
        {
            return Err(CoreError::Forbidden(format!(
                "{}@{} is blocked for new installs since {}: {}; install another version",
                version.app_id,
                version.version,
                block.blocked_at.to_rfc3339(),
                block.reason
            )));
        }
        let request = request_of(&version)?;
        let now = self.now();
        let granted_by = admin.then(|| actor.user.id.clone());
        let grant = request
            .grant(&req.refuse_scopes, granted_by, now)
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let status = if admin {
            InstanceStatus::Active
        } else {
            InstanceStatus::PendingConsent
        };
        let instance = Instance {
            spiffe_id: spiffe_id(
                &self.install_settings.trust_domain,
                &org.slug,
                &team.slug,
                &version.app_id,
                &id,
            ),
            id,
            org_id: org.id.clone(),
            team_id: team.id.clone(),
            app_id: version.app_id.clone(),
            version: version.version.clone(),
            tags: req.tags.clone(),
            billing_mode,
            auto_upgrade: match req.auto_upgrade {
                Some(a) => a,
                None => self.store.team_settings(&team.id).await?.auto_upgrade,
            },
            status,
            grant,
            previous: None,
            pending_upgrade: None,
            created_by: actor.user.id.clone(),
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        let audit = self.instance_audit(
            &instance,
            actor.actor(),
            "instance.install",
            json!({
                "app": instance.app_id, "version": instance.version, "team": team.slug,
                "status": instance.status.as_str(), "scopes": instance.grant.scopes,
                "refusedScopes": instance.grant.refused_scopes, "egress": instance.grant.egress,
                "billingMode": instance.billing_mode.as_str(),
            }),
        );
        self.store.create_instance(&instance, &audit).await?;
        Ok(instance)
    }

    /// An admin consents: to a pending install, or to a pending upgrade (which then applies),
    /// refusing the optional scopes in `refuse`.
    pub async fn consent(
        &self,
        actor: &Principal,
        id: &str,
        refuse: &[String],
    ) -> Result<Instance, CoreError> {
        if !actor.has_role(Role::Admin) {
            return Err(CoreError::Forbidden(
                "only an admin may grant an app's permissions".into(),
            ));
        }
        let mut instance = self.instance(actor, id).await?;
        let now = self.now();
        let by = Some(actor.user.id.clone());
        let (action, details) = match (instance.status, instance.pending_upgrade.take()) {
            (InstanceStatus::PendingConsent, _) => {
                let version = self
                    .store
                    .get_app_version(&instance.org_id, &instance.app_id, &instance.version)
                    .await?;
                instance.grant = request_of(&version)?
                    .grant(refuse, by, now)
                    .map_err(|e| CoreError::Invalid(e.to_string()))?;
                instance.status = InstanceStatus::Active;
                ("instance.consent", json!({"version": instance.version}))
            }
            (InstanceStatus::Active, Some(pending)) => {
                let version = self
                    .store
                    .get_app_version(&instance.org_id, &instance.app_id, &pending.version)
                    .await?;
                let grant = request_of(&version)?
                    .grant(refuse, by, now)
                    .map_err(|e| CoreError::Invalid(e.to_string()))?;
                let from = instance.version.clone();
                apply_upgrade(&mut instance, grant);
                (
                    "instance.upgrade",
                    json!({"from": from, "to": instance.version, "consented": true}),
                )
            }
            (status, _) => {
                return Err(CoreError::Invalid(format!(
                    "instance `{id}` is {} and waits for no consent",
                    status.as_str()
                )))
            }
        };
        let mut details = details;
        details["scopes"] = json!(instance.grant.scopes);
        details["refusedScopes"] = json!(instance.grant.refused_scopes);
        self.save_instance(&mut instance, now, actor.actor(), action, details)
            .await?;
        Ok(instance)
    }

    /// Moves an instance to `version`. A delta that widens nothing applies at once; one that
    /// widens anything applies only when an admin passes `consent`, and otherwise waits (the
    /// instance stays on its version).
    pub async fn upgrade(
        &self,
        actor: &Principal,
        id: &str,
        version: &str,
        consent: bool,
    ) -> Result<UpgradeOutcome, CoreError> {
        let mut instance = self.instance(actor, id).await?;
        Self::require_team_access(actor, &instance)?;
        if !instance.is_active() {
            return Err(CoreError::Invalid(format!(
                "instance `{id}` is {}; only an active instance can be upgraded",
                instance.status.as_str()
            )));
        }
        if instance.version == version {
            return Err(CoreError::Invalid(format!(
                "instance `{id}` already runs version {version}"
            )));
        }
        let target = self
            .store
            .get_app_version(&instance.org_id, &instance.app_id, version)
            .await?;
        let request = request_of(&target)?;
        let now = self.now();
        let consenting = consent && actor.has_role(Role::Admin);
        if consent && !consenting {
            return Err(CoreError::Forbidden(
                "only an admin may consent to wider permissions".into(),
            ));
        }
        let by = consenting.then(|| actor.user.id.clone());
        let (delta, grant) = PermissionDelta::between(&instance.grant, &request, by, now);
        let applied = !delta.widens || consenting;
        let from = instance.version.clone();
        let (action, details) = if applied {
            apply_upgrade(&mut instance, grant);
            (
                "instance.upgrade",
                json!({"from": from, "to": version, "consented": consenting, "delta": delta}),
            )
        } else {
            instance.pending_upgrade = Some(PendingUpgrade {
                version: version.to_owned(),
                delta: delta.clone(),
                requested_by: Some(actor.user.id.clone()),
                requested_at: now,
            });
            (
                "instance.upgrade.pending",
                json!({"from": from, "to": version, "delta": delta}),
            )
        };
        self.save_instance(&mut instance, now, actor.actor(), action, details)
            .await?;
        Ok(UpgradeOutcome {
            instance,
            delta,
            applied,
        })
    }

    /// Back to the version (and consent) before the last upgrade.
    pub async fn rollback(&self, actor: &Principal, id: &str) -> Result<Instance, CoreError> {
        let mut instance = self.instance(actor, id).await?;
        Self::require_team_access(actor, &instance)?;
        if !instance.is_active() {
            return Err(CoreError::Invalid(format!(
                "instance `{id}` is {}; only an active instance can be rolled back",
                instance.status.as_str()
            )));
        }
        let Some(previous) = instance.previous.take() else {
            return Err(CoreError::Invalid(format!(
                "instance `{id}` has no previous version to roll back to"
            )));
        };
        let from = instance.version.clone();
        instance.version = previous.version.clone();
        instance.previous = Some(std::mem::replace(&mut instance.grant, previous));
        instance.pending_upgrade = None;
        let details = json!({"from": from, "to": instance.version});
        let now = self.now();
        self.save_instance(
            &mut instance,
            now,
            actor.actor(),
            "instance.rollback",
            details,
        )
        .await?;
        Ok(instance)
    }

    /// Uninstalls: the instance stops running and every credential it holds is revoked at once
    /// (capability tokens are refused from now on; downstream credentials are revoked in the
    /// same transaction).
    pub async fn uninstall(&self, actor: &Principal, id: &str) -> Result<Instance, CoreError> {
        let mut instance = self.instance(actor, id).await?;
        Self::require_team_access(actor, &instance)?;
        if instance.status == InstanceStatus::Uninstalled {
            return Err(CoreError::Invalid(format!(
                "instance `{id}` is already uninstalled"
            )));
        }
        instance.status = InstanceStatus::Uninstalled;
        instance.pending_upgrade = None;
        let details = json!({"version": instance.version});
        let now = self.now();
        self.save_instance(
            &mut instance,
            now,
            actor.actor(),
            "instance.uninstall",
            details,
        )
        .await?;
        Ok(instance)
    }

    /// The org's instances.
    pub async fn list_instances(
        &self,
        org: &Org,
        filter: &InstanceFilter,
    ) -> Result<Vec<Instance>, CoreError> {
        Ok(self.store.list_instances(&org.id, filter).await?)
    }

    /// After `version` of an app is published: every active instance that takes upgrades
    /// automatically (its own `autoUpgrade`, and its team's setting) moves to it when that
    /// widens nothing, and otherwise gets it as a pending
    /// upgrade for an admin to consent to. Only newer versions (SemVer) are offered.
    pub async fn offer_published_version(
        &self,
        version: &AppVersion,
    ) -> Result<Vec<UpgradeOutcome>, CoreError> {
        let Ok(new) = semver::Version::parse(&version.version) else {
            return Ok(Vec::new());
        };
        let request = request_of(version)?;
        let filter = InstanceFilter {
            app_id: Some(version.app_id.clone()),
            ..InstanceFilter::default()
        };
        let mut outcomes = Vec::new();
        let mut team_allows: std::collections::HashMap<crate::ids::TeamId, bool> =
            std::collections::HashMap::new();
        for mut instance in self.store.list_instances(&version.org_id, &filter).await? {
            let newer = semver::Version::parse(&instance.version).is_ok_and(|cur| new > cur);
            if !instance.is_active() || !instance.auto_upgrade || !newer {
                continue;
            }
            // The team must allow automatic upgrades too.
            let allows = match team_allows.get(&instance.team_id) {
                Some(a) => *a,
                None => {
                    let a = self
                        .store
                        .team_settings(&instance.team_id)
                        .await?
                        .auto_upgrade;
                    team_allows.insert(instance.team_id.clone(), a);
                    a
                }
            };
            if !allows {
                continue;
            }
            let now = self.now();
            let (delta, grant) = PermissionDelta::between(&instance.grant, &request, None, now);
            let from = instance.version.clone();
            let (action, applied) = if delta.widens {
                instance.pending_upgrade = Some(PendingUpgrade {
                    version: version.version.clone(),
                    delta: delta.clone(),
                    requested_by: None,
                    requested_at: now,
                });
                ("instance.upgrade.pending", false)
            } else {
                apply_upgrade(&mut instance, grant);
                ("instance.upgrade", true)
            };
            let details =
                json!({"from": from, "to": version.version, "automatic": true, "delta": delta});
            self.save_instance(&mut instance, now, "system".to_owned(), action, details)
                .await?;
            outcomes.push(UpgradeOutcome {
                instance,
                delta,
                applied,
            });
        }
        Ok(outcomes)
    }

    /// Stores a changed instance (next revision) with its audit record.
    async fn save_instance(
        &self,
        instance: &mut Instance,
        now: chrono::DateTime<chrono::Utc>,
        actor: String,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), CoreError> {
        instance.updated_at = now;
        instance.revision += 1;
        let audit = self.instance_audit(instance, actor, action, details);
        let saved = self.store.update_instance(instance, &audit).await;
        self.forget_instance(&instance.id);
        Ok(saved?)
    }

    pub(super) fn instance_audit(
        &self,
        instance: &Instance,
        actor: String,
        action: &str,
        details: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry::new(
            instance.updated_at,
            Some(instance.org_id.clone()),
            actor,
            action,
            format!("instance:{}", instance.id),
            details,
        )
    }
}

/// Makes `grant` current, keeping the old one for rollback.
fn apply_upgrade(instance: &mut Instance, grant: Grant) {
    instance.version = grant.version.clone();
    instance.previous = Some(std::mem::replace(&mut instance.grant, grant));
    instance.pending_upgrade = None;
}

fn request_of(version: &AppVersion) -> Result<PermissionRequest, CoreError> {
    PermissionRequest::from_manifest(&version.manifest).map_err(|e| {
        CoreError::Store(crate::StoreError::Corrupt {
            entity: "app version",
            detail: format!("{}@{}: {e}", version.app_id, version.version),
        })
    })
}
