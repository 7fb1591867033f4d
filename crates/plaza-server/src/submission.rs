//! What the registry holds about a version being registered, gathered for the supply gate: the
//! artifact (`<org>/<app-id>:<version>`), its Wasm component, and the SBOM, signatures and
//! provenance attached to it as OCI referrers (docs/registry.md).
//!
//! The artifact digest the gate checks signatures, provenance and the SBOM against is the
//! component's (the `.wasm` file an author signs in CI, as the seed job does) for a Wasm app,
//! and the image manifest's for a container image.

use crate::problem::ApiError;
use crate::state::AppState;
use plaza_core::supply_gate::SubmissionMaterials;
use plaza_registry::manifest::media_type;
use plaza_registry::referrer::artifact_type;
use plaza_registry::Digest;

/// Largest attachment read into the gate (an SBOM of 100,000 components is ~50 MB).
const MAX_ATTACHMENT_BYTES: usize = 64 * 1024 * 1024;

/// The version's materials, or `None` when the registry has no artifact for it (a manifest
/// registered without a push: the supply gate does not run and its facts stay absent).
pub async fn gather(
    state: &AppState,
    org_slug: &str,
    app_id: &str,
    version: &str,
    manifest_text: String,
) -> Result<Option<SubmissionMaterials>, ApiError> {
    let repo = format!("{org_slug}/{app_id}");
    let store = state.services.store();
    let Some(manifest_digest) = store
        .resolve_tag(&repo, version)
        .await
        .map_err(plaza_core::CoreError::from)?
    else {
        return Ok(None);
    };
    let manifest = json_blob(state, &manifest_digest).await?;
    let component_layer = manifest["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["mediaType"] == media_type::WASM_LAYER)
        .and_then(|l| l["digest"].as_str())
        .map(str::to_owned);
    let (artifact_digest, artifact_bytes) = match component_layer {
        Some(layer) => {
            let bytes = blob(state, &layer).await?;
            (layer, Some(bytes))
        }
        None => (manifest_digest.clone(), None),
    };
    let mut materials = SubmissionMaterials {
        artifact_digest,
        artifact_bytes,
        manifest_text,
        signatures: Vec::new(),
        provenance: Vec::new(),
        sbom: None,
        sbom_attached_as_referrer: false,
        timestamps: Vec::new(),
    };
    for referrer in store
        .referrers(&repo, &manifest_digest)
        .await
        .map_err(plaza_core::CoreError::from)?
    {
        let kind = referrer.artifact_type.as_deref().unwrap_or_default();
        let wanted = matches!(
            kind,
            artifact_type::SBOM_CYCLONEDX
                | artifact_type::SBOM_SPDX
                | artifact_type::SIGNATURE
                | artifact_type::PROVENANCE
        );
        if !wanted {
            continue;
        }
        let referrer_manifest = json_blob(state, &referrer.digest).await?;
        let Some(layer) = referrer_manifest["layers"][0]["digest"].as_str() else {
            continue;
        };
        let bytes = blob(state, layer).await?;
        match kind {
            artifact_type::SBOM_CYCLONEDX | artifact_type::SBOM_SPDX => {
                // The newest SBOM wins (referrers come oldest first).
                materials.sbom = Some(bytes);
                materials.sbom_attached_as_referrer = true;
            }
            artifact_type::SIGNATURE => materials.signatures.push(bytes),
            _ => materials.provenance.push(bytes),
        }
    }
    Ok(Some(materials))
}

async fn blob(state: &AppState, digest: &str) -> Result<Vec<u8>, ApiError> {
    let parsed = Digest::parse(digest).map_err(|e| ApiError::internal(e.to_string()))?;
    let data = state
        .blobs
        .get(&parsed, None)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .data;
    if data.len() > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::conflict(format!(
            "the registry blob {digest} is {} bytes, more than the supply gate reads \
             ({MAX_ATTACHMENT_BYTES}); attach a smaller SBOM or signature",
            data.len()
        )));
    }
    Ok(data.to_vec())
}

async fn json_blob(state: &AppState, digest: &str) -> Result<serde_json::Value, ApiError> {
    let bytes = blob(state, digest).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))
}
