//! The marketplace's own signatures on the supply chain: its public keys (every key it ever
//! signed with, so old timestamps and countersignatures stay verifiable offline) and signed
//! timestamps that prove when a publisher's signature existed.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::capability::SigningKey;
use crate::error::CoreError;
use chrono::{DateTime, Utc};
use plaza_supply::sign::dsse::Envelope;
use serde_json::json;

/// Largest signature a timestamp is issued for (an Ed25519 or DER ECDSA signature is far
/// smaller).
pub const MAX_TIMESTAMPED_SIGNATURE_BYTES: usize = 1024;

impl Services {
    /// Every key the marketplace has signed with, newest first (retired keys included).
    pub async fn marketplace_keys(&self) -> Result<Vec<SigningKey>, CoreError> {
        self.signing_key().await?;
        Ok(self
            .store
            .published_signing_keys(DateTime::<Utc>::MIN_UTC)
            .await?)
    }

    /// A signed timestamp (a DSSE envelope over an in-toto statement whose subject is the
    /// signature's sha256) proving `signature` existed now. Audited.
    pub async fn issue_timestamp(
        &self,
        actor: &Principal,
        signature: &[u8],
    ) -> Result<Envelope, CoreError> {
        if signature.is_empty() || signature.len() > MAX_TIMESTAMPED_SIGNATURE_BYTES {
            return Err(CoreError::Invalid(format!(
                "`signature` must be the raw signature bytes (base64), 1 to \
                 {MAX_TIMESTAMPED_SIGNATURE_BYTES} bytes: the `sig` of the DSSE envelope to \
                 timestamp"
            )));
        }
        let key = self.signing_key().await?;
        let private = key
            .attestation_private_key()
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let now = self.now();
        let envelope = plaza_supply::sign::trust::issue_timestamp(signature, now, &private);
        let audit = AuditEntry::new(
            now,
            Some(actor.org_id().clone()),
            actor.actor(),
            "timestamp.issue",
            format!(
                "signature:sha256:{}",
                plaza_supply::sign::intoto::sha256_hex(signature)
            ),
            json!({"key": key.kid}),
        );
        self.store.append_audit(&audit).await?;
        Ok(envelope)
    }
}
