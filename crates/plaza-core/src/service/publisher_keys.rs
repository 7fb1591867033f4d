//! Publishers' public keys: registration (optionally rotating out the publisher's older keys
//! after a grace period), listing and revocation, each audited in the same transaction.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::Org;
use crate::supply::{KeyAlgorithm, PublisherKey};
use crate::supply_gate::{JobKind, JobState, KeyRevokedJob, SupplyJob};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Longest rotation grace period: the old key keeps verifying new signatures this long at most.
pub const MAX_ROTATION_GRACE_DAYS: i64 = 90;

/// A key to register, parsed and checked at the edge (its id and algorithm come from the PEM).
#[derive(Debug, Clone)]
pub struct NewPublisherKey {
    /// The publisher (a manifest's `provenance.signedBy`).
    pub publisher: String,
    /// Hex SHA-256 of the SPKI DER.
    pub key_id: String,
    /// The key's algorithm.
    pub algorithm: KeyAlgorithm,
    /// SPKI PEM.
    pub public_pem: String,
    /// Valid from (default: now).
    pub not_before: Option<DateTime<Utc>>,
    /// Valid until (default: open-ended).
    pub not_after: Option<DateTime<Utc>>,
    /// Rotation: the publisher's other keys stop being valid this long after now.
    pub rotate_grace: Option<Duration>,
}

impl Services {
    /// Registers a publisher key. With `rotate_grace`, the publisher's other current keys end
    /// after the grace period (they keep verifying signatures made before that).
    pub async fn register_publisher_key(
        &self,
        actor: &Principal,
        org: &Org,
        new: NewPublisherKey,
    ) -> Result<PublisherKey, CoreError> {
        let publisher = new.publisher.trim();
        if publisher.is_empty() || publisher.len() > 256 || publisher.chars().any(char::is_control)
        {
            return Err(CoreError::Invalid(
                "`publisher` must be 1 to 256 printable characters, the identity your manifests \
                 name in provenance.signedBy (e.g. did:example:maintainer)"
                    .into(),
            ));
        }
        let now = self.now();
        let not_before = new.not_before.unwrap_or(now);
        if let Some(end) = new.not_after.filter(|end| *end <= not_before) {
            return Err(CoreError::Invalid(format!(
                "`notAfter` ({}) must be later than `notBefore` ({})",
                end.to_rfc3339(),
                not_before.to_rfc3339()
            )));
        }
        let retire_at = match new.rotate_grace {
            Some(g) if g < Duration::zero() || g > Duration::days(MAX_ROTATION_GRACE_DAYS) => {
                return Err(CoreError::Invalid(format!(
                    "the rotation grace period must be between 0 and {MAX_ROTATION_GRACE_DAYS} days"
                )))
            }
            Some(g) => Some(now + g),
            None => None,
        };
        let key = PublisherKey {
            org_id: org.id.clone(),
            key_id: new.key_id,
            publisher: publisher.to_owned(),
            algorithm: new.algorithm,
            public_pem: new.public_pem,
            not_before,
            not_after: new.not_after,
            revoked_at: None,
            revocation_reason: None,
            created_by: actor.user.id.clone(),
            created_at: now,
        };
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            if retire_at.is_some() {
                "publisher.key.rotate"
            } else {
                "publisher.key.register"
            },
            format!("publisher:{}/key:{}", key.publisher, key.key_id),
            json!({
                "algorithm": key.algorithm.as_str(),
                "notBefore": key.not_before.to_rfc3339(),
                "notAfter": key.not_after.map(|t| t.to_rfc3339()),
                "othersEndAt": retire_at.map(|t| t.to_rfc3339()),
            }),
        );
        self.store
            .create_publisher_key(&key, retire_at, &audit)
            .await?;
        Ok(key)
    }

    /// The org's publisher keys (of one publisher, when given).
    pub async fn publisher_keys(
        &self,
        org: &Org,
        publisher: Option<&str>,
    ) -> Result<Vec<PublisherKey>, CoreError> {
        Ok(self.store.list_publisher_keys(&org.id, publisher).await?)
    }

    /// Revokes a publisher key from now on: signatures it made stop verifying unless a
    /// marketplace timestamp proves they were made earlier. Enqueues, in the same transaction,
    /// a re-scan of the versions whose signature verified with it.
    pub async fn revoke_publisher_key(
        &self,
        actor: &Principal,
        org: &Org,
        key_id: &str,
        reason: &str,
    ) -> Result<PublisherKey, CoreError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(CoreError::Invalid(
                "say why the key is revoked (`reason`, 1 to 1000 characters): it is shown to \
                 everyone whose signature stops verifying"
                    .into(),
            ));
        }
        let now = self.now();
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            actor.actor(),
            "publisher.key.revoke",
            format!("key:{key_id}"),
            json!({"reason": reason}),
        );
        // The versions this key verified are re-scanned by a durable job enqueued in the same
        // transaction as the revocation.
        let job = SupplyJob {
            id: format!("job_{}", uuid::Uuid::now_v7().simple()),
            kind: JobKind::KeyRevoked,
            payload: serde_json::to_value(KeyRevokedJob {
                org_id: org.id.clone(),
                key_id: key_id.to_owned(),
            })
            .unwrap_or_default(),
            state: JobState::Queued,
            attempts: 0,
            created_at: now,
            updated_at: now,
            error: None,
        };
        Ok(self
            .store
            .revoke_publisher_key(&org.id, key_id, now, reason, &audit, Some(&job))
            .await?)
    }
}
