//! An app version's component, as the registry holds it: the `<org>/<app-id>` repository's
//! manifest tagged with the version, and its one `application/wasm` layer.

use crate::problem::ApiError;
use crate::state::AppState;
use plaza_registry::manifest::media_type;
use plaza_registry::Digest;

/// The component of `app_id`@`version` in the org `org_slug`'s namespace: its layer digest and
/// bytes. A version with no artifact, or whose artifact is not a wasm component, is an error
/// that says so.
pub async fn load(
    state: &AppState,
    org_slug: &str,
    app_id: &str,
    version: &str,
) -> Result<(String, Vec<u8>), ApiError> {
    let repo = format!("{org_slug}/{app_id}");
    let store = state.services.store();
    let missing = || {
        ApiError::conflict(format!(
            "{app_id} {version} has no component in the registry (`{repo}:{version}`); push it \
             with `plaza push`"
        ))
    };
    let manifest_digest = store
        .resolve_tag(&repo, version)
        .await
        .map_err(plaza_core::CoreError::from)?
        .ok_or_else(missing)?;
    let stored = store
        .get_manifest(&repo, &manifest_digest)
        .await
        .map_err(plaza_core::CoreError::from)?
        .ok_or_else(missing)?;
    let digest = Digest::parse(&stored.digest).map_err(|e| ApiError::internal(e.to_string()))?;
    let bytes = state
        .blobs
        .get(&digest, None)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .data;
    let manifest: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    let layer = manifest["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["mediaType"] == media_type::WASM_LAYER)
        .and_then(|l| l["digest"].as_str())
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "`{repo}:{version}` is not a wasm component artifact (no `{}` layer)",
                media_type::WASM_LAYER
            ))
        })?;
    let layer = Digest::parse(layer).map_err(|e| ApiError::internal(e.to_string()))?;
    let component = state
        .blobs
        .get(&layer, None)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .data;
    Ok((layer.to_string(), component.to_vec()))
}
