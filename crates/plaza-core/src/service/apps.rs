//! Registering app versions from validated manifests, and reading them back.

use super::Services;
use crate::access::Principal;
use crate::apps::AppVersion;
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::Org;
use serde_json::json;

impl Services {
    /// Registers a version of an app. `manifest` must already be validated and normalised (the
    /// edge runs `plaza-manifest` first); this records who registered it and audits it.
    pub async fn register_app_version(
        &self,
        actor: &Principal,
        org: &Org,
        manifest: serde_json::Value,
    ) -> Result<AppVersion, CoreError> {
        let text = |key: &str| {
            manifest
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let (Some(app_id), Some(version), Some(name)) = (text("id"), text("version"), text("name"))
        else {
            return Err(CoreError::Invalid(
                "the manifest needs `id`, `version` and `name`".into(),
            ));
        };
        let precedence = without_build_metadata(&version);
        if let Some(clash) = self
            .store
            .list_app_versions(&org.id)
            .await?
            .into_iter()
            .find(|v| v.app_id == app_id && without_build_metadata(&v.version) == precedence)
        {
            return Err(StoreError::Conflict {
                entity: "app version",
                detail: format!(
                    "`{app_id}` already has version {}, which SemVer ranks equal to {version} \
                     (build metadata after `+` does not count); bump the version",
                    clash.version
                ),
            }
            .into());
        }
        let now = self.now();
        let app = AppVersion {
            org_id: org.id.clone(),
            app_id,
            version,
            name,
            description: text("description"),
            manifest,
            created_by: actor.user.id.clone(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "app.version.register",
            format!("app:{}@{}", app.app_id, app.version),
            json!({"name": app.name}),
        );
        self.store.create_app_version(&app, &audit).await?;
        // Installed instances that take upgrades automatically move to (or are offered) the
        // new version. The version is registered either way; a failure here is logged and the
        // instances stay where they are.
        if let Err(e) = self.offer_published_version(&app).await {
            tracing::warn!(app = %app.app_id, version = %app.version, error = %e,
                "offering the new version to installed instances failed");
        }
        Ok(app)
    }

    /// The org's app versions.
    pub async fn list_app_versions(&self, org: &Org) -> Result<Vec<AppVersion>, CoreError> {
        Ok(self.store.list_app_versions(&org.id).await?)
    }

    /// One version of an app of the org.
    pub async fn app_version(
        &self,
        org: &Org,
        app_id: &str,
        version: &str,
    ) -> Result<AppVersion, CoreError> {
        Ok(self.store.get_app_version(&org.id, app_id, version).await?)
    }
}

/// A version without its build metadata: SemVer 2.0 ranks `1.0.0+a` and `1.0.0+b` equal.
fn without_build_metadata(version: &str) -> &str {
    version.split_once('+').map_or(version, |(v, _)| v)
}
