//! VEX statements: a publisher or reviewer states that an advisory does not affect an app
//! (OpenVEX `not_affected` with a justification, or `fixed`), optionally until an expiry. The
//! supply gate and every re-scan apply the app's statements: covered vulnerabilities are listed
//! as suppressed, not counted. Adding and removing are audited.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::{CoreError, StoreError};
use crate::identity::Org;
use crate::supply_gate::VexStatement;
use plaza_supply::vex::Suppression;
use serde_json::json;

/// Most statements one app may carry.
pub const MAX_VEX_PER_APP: usize = 1000;

impl Services {
    /// Stores a statement about `app_id` (an app the org has registered), made by `actor`.
    /// `author` defaults to the actor's handle; an expiry must lie in the future.
    pub async fn add_vex(
        &self,
        actor: &Principal,
        org: &Org,
        app_id: &str,
        mut suppression: Suppression,
    ) -> Result<VexStatement, CoreError> {
        suppression.validate().map_err(CoreError::Invalid)?;
        let now = self.now();
        if suppression.expires_at.is_some_and(|t| t <= now) {
            return Err(CoreError::Invalid(
                "`expiresAt` is in the past: the statement would never apply".into(),
            ));
        }
        let known = self
            .store
            .list_app_versions(&org.id)
            .await?
            .iter()
            .any(|v| v.app_id == app_id);
        if !known {
            return Err(StoreError::NotFound {
                entity: "app",
                key: app_id.to_owned(),
            }
            .into());
        }
        if self.store.list_vex(&org.id, app_id).await?.len() >= MAX_VEX_PER_APP {
            return Err(CoreError::Invalid(format!(
                "`{app_id}` already has {MAX_VEX_PER_APP} VEX statements; remove stale ones first"
            )));
        }
        if suppression.author.is_none() {
            suppression.author = Some(actor.user.handle.clone());
        }
        let statement = VexStatement {
            id: format!("vex_{}", uuid::Uuid::now_v7().simple()),
            org_id: org.id.clone(),
            app_id: app_id.to_owned(),
            suppression,
            created_by: actor.user.id.clone(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "vex.add",
            format!("app:{app_id}/vex:{}", statement.id),
            json!({
                "vulnerability": statement.suppression.vulnerability,
                "status": statement.suppression.status,
                "justification": statement.suppression.justification,
                "products": statement.suppression.products,
                "expiresAt": statement.suppression.expires_at,
            }),
        );
        self.store.create_vex(&statement, &audit).await?;
        Ok(statement)
    }

    /// The app's statements, oldest first.
    pub async fn list_vex(&self, org: &Org, app_id: &str) -> Result<Vec<VexStatement>, CoreError> {
        Ok(self.store.list_vex(&org.id, app_id).await?)
    }

    /// Removes a statement (the findings it covered count again at the next scan).
    pub async fn remove_vex(
        &self,
        actor: &Principal,
        org: &Org,
        app_id: &str,
        id: &str,
    ) -> Result<(), CoreError> {
        if !self
            .store
            .list_vex(&org.id, app_id)
            .await?
            .iter()
            .any(|s| s.id == id)
        {
            return Err(StoreError::NotFound {
                entity: "vex statement",
                key: id.to_owned(),
            }
            .into());
        }
        let audit = AuditEntry::new(
            self.now(),
            Some(org.id.clone()),
            actor.actor(),
            "vex.remove",
            format!("app:{app_id}/vex:{id}"),
            json!({}),
        );
        Ok(self.store.delete_vex(&org.id, id, &audit).await?)
    }
}
