//! The marketplace's own signatures on the supply chain: its public keys (every key it ever
//! signed with, so old timestamps and countersignatures stay verifiable offline), signed
//! timestamps that prove when a publisher's signature existed, and the countersignature (a SLSA
//! Verification Summary Attestation) on what it approves.

use super::Services;
use crate::access::Principal;
use crate::audit::AuditEntry;
use crate::capability::SigningKey;
use crate::error::CoreError;
use crate::identity::Org;
use crate::policy::Decision;
use crate::supply_gate::SupplyReport;
use chrono::{DateTime, Utc};
use plaza_supply::sign::dsse::Envelope;
use plaza_supply::sign::slsa::vsa::{sign_vsa, Reference, VerificationResult, VsaInput};
use serde_json::json;

/// The `verifier.id` of the marketplace's Verification Summary Attestations.
pub const VERIFIER_ID: &str = "https://plaza.dev/verifiers/marketplace/v1";

/// Largest signature a timestamp is issued for (an Ed25519 or DER ECDSA signature is far
/// smaller).
pub const MAX_TIMESTAMPED_SIGNATURE_BYTES: usize = 1024;

/// What the marketplace countersigns: an approved version and what approved it.
#[derive(Debug)]
pub struct Countersigned<'a> {
    /// The app.
    pub app_id: &'a str,
    /// The version.
    pub version: &'a str,
    /// The supply gate's report.
    pub report: &'a SupplyReport,
    /// The policy decision that passed it.
    pub decision: &'a Decision,
    /// Where the artifact is (`oci://<repo>@<digest>`).
    pub resource_uri: &'a str,
    /// The attestations the gate read.
    pub inputs: Vec<Reference>,
}

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

    /// The marketplace's countersignature on an approved version: a SLSA Verification Summary
    /// Attestation (subject: the artifact; `resourceUri`: where it is; the policy that judged
    /// it; the attestations read; `verifiedLevels`: the SLSA build level the provenance
    /// established) signed with the marketplace's current key. Audited `supply.countersign`.
    pub async fn countersign(
        &self,
        org: &Org,
        what: Countersigned<'_>,
    ) -> Result<Envelope, CoreError> {
        let Countersigned {
            app_id,
            version,
            report,
            decision,
            resource_uri,
            inputs,
        } = what;
        let key = self.signing_key().await?;
        let private = key
            .attestation_private_key()
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let now = self.now();
        let policy_uri = match decision.org_policy_version {
            Some(v) => format!(
                "https://plaza.dev/policy/bundle/{}?org={}&orgPolicyVersion={v}",
                decision.bundle_version, org.slug
            ),
            None => format!(
                "https://plaza.dev/policy/bundle/{}?org={}",
                decision.bundle_version, org.slug
            ),
        };
        let hex = report
            .artifact_digest
            .strip_prefix("sha256:")
            .unwrap_or(&report.artifact_digest)
            .to_owned();
        let input = VsaInput {
            artifact_name: format!("{app_id}@{version}"),
            artifact_sha256: hex,
            verifier_id: VERIFIER_ID.to_owned(),
            time_verified: now,
            resource_uri: resource_uri.to_owned(),
            policy: Reference {
                uri: policy_uri,
                digest: [(
                    "sha256".to_owned(),
                    decision
                        .input_digest
                        .strip_prefix("sha256:")
                        .unwrap_or(&decision.input_digest)
                        .to_owned(),
                )]
                .into(),
            },
            input_attestations: inputs,
            result: VerificationResult::Passed,
            slsa_build_level: report.provenance.slsa_level,
        };
        let envelope = sign_vsa(&input, &private);
        let audit = AuditEntry::new(
            now,
            Some(org.id.clone()),
            "system:supply",
            "supply.countersign",
            format!("app:{app_id}@{version}"),
            json!({"key": key.kid, "decision": decision.id.to_string(), "slsaBuildLevel": input.slsa_build_level}),
        );
        self.store.append_audit(&audit).await?;
        Ok(envelope)
    }
}
