//! What the registry holds about a version being registered, gathered for the supply gate: the
//! artifact (`<org>/<app-id>:<version>`), its Wasm component, and the SBOM, signatures and
//! provenance attached to it as OCI referrers (docs/registry.md); and the marketplace's
//! countersignature attached back as a referrer once the version is approved.
//!
//! The artifact digest the gate checks signatures, provenance and the SBOM against is the
//! component's (the `.wasm` file an author signs in CI, as the seed job does) for a Wasm app,
//! and the image manifest's for a container image.

use crate::problem::ApiError;
use crate::state::AppState;
use plaza_core::identity::Org;
use plaza_core::policy::{Decision, Outcome};
use plaza_core::registry::StoredManifest;
use plaza_core::service::Services;
use plaza_core::supply_gate::{SubmissionMaterials, SupplyReport};
use plaza_registry::manifest::media_type;
use plaza_registry::referrer::{self, artifact_type, Attachment, Subject};
use plaza_registry::{BlobStore, Digest};
use plaza_supply::sign::slsa::vsa::Reference;

/// Largest attachment read into the gate (an SBOM of 100,000 components is ~50 MB).
const MAX_ATTACHMENT_BYTES: usize = 64 * 1024 * 1024;

/// What [`gather`] found: the materials, and the image they came from (for attaching the
/// countersignature).
pub struct Gathered {
    /// For the supply gate.
    pub materials: SubmissionMaterials,
    /// The image manifest the referrers hang from.
    pub image: Subject,
    /// The repository.
    pub repo: String,
    /// The attestations read (signature, provenance, SBOM referrers), for the countersignature.
    pub inputs: Vec<Reference>,
}

/// The version's materials, or `None` when the registry has no artifact for it (a manifest
/// registered without a push: the supply gate does not run and its facts stay absent).
pub async fn gather(
    state: &AppState,
    org_slug: &str,
    app_id: &str,
    version: &str,
    manifest_text: String,
) -> Result<Option<Gathered>, ApiError> {
    let repo = format!("{org_slug}/{app_id}");
    let store = state.services.store();
    let Some(manifest_digest) = store
        .resolve_tag(&repo, version)
        .await
        .map_err(plaza_core::CoreError::from)?
    else {
        return Ok(None);
    };
    let manifest_bytes = blob(state, &manifest_digest).await?;
    let image = Subject {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        digest: Digest::parse(&manifest_digest).map_err(|e| ApiError::internal(e.to_string()))?,
        size: manifest_bytes.len() as u64,
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest_bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    let component_layer = manifest["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["mediaType"] == media_type::WASM_LAYER)
        .and_then(|l| l["digest"].as_str())
        .map(str::to_owned);
    let (artifact_digest, artifact_bytes) = match &component_layer {
        Some(layer) => {
            let bytes = blob(state, layer).await?;
            (layer.clone(), Some(bytes))
        }
        None => (manifest_digest.clone(), None),
    };
    // A container image's file-system layers, for the secret scan (too large ones are skipped
    // and logged: the gate reads at most MAX_ATTACHMENT_BYTES per blob).
    let mut layers = Vec::new();
    if component_layer.is_none() {
        for l in manifest["layers"].as_array().into_iter().flatten() {
            let media = l["mediaType"].as_str().unwrap_or_default();
            let is_fs = media.contains(".tar") || media.contains("rootfs.diff");
            let (Some(digest), true) = (l["digest"].as_str(), is_fs) else {
                continue;
            };
            match blob(state, digest).await {
                Ok(bytes) => layers.push(bytes),
                Err(_) => {
                    tracing::warn!(%digest, "image layer not scanned for secrets (too large or unreadable)")
                }
            }
        }
    }
    let mut materials = SubmissionMaterials {
        artifact_digest,
        artifact_bytes,
        layers,
        manifest_text,
        signatures: Vec::new(),
        provenance: Vec::new(),
        sbom: None,
        sbom_attached_as_referrer: false,
        timestamps: Vec::new(),
    };
    let mut inputs = Vec::new();
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
        inputs.push(Reference {
            uri: format!("oci://{repo}@{}", referrer.digest),
            digest: [(
                "sha256".to_owned(),
                referrer.digest.trim_start_matches("sha256:").to_owned(),
            )]
            .into(),
        });
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
    Ok(Some(Gathered {
        materials,
        image,
        repo,
        inputs,
    }))
}

/// Countersigns an approved version (its decision passed) and attaches the VSA to its image as a
/// referrer. A version that went to review or was let through in warn-only mode is not
/// countersigned: the marketplace vouches only for what passed.
pub async fn countersign(
    state: &AppState,
    org: &Org,
    app_id: &str,
    version: &str,
    gathered: &Gathered,
    report: &SupplyReport,
    decision: &Decision,
) -> Result<bool, ApiError> {
    if decision.outcome != Outcome::Pass {
        return Ok(false);
    }
    let resource_uri = format!("oci://{}@{}", gathered.repo, gathered.image.digest);
    let envelope = state
        .services
        .countersign(
            org,
            plaza_core::service::Countersigned {
                app_id,
                version,
                report,
                decision,
                resource_uri: &resource_uri,
                inputs: gathered.inputs.clone(),
            },
        )
        .await?;
    let attachment = referrer::verification_summary(envelope.to_json().into_bytes())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    attach_referrer(
        &state.services,
        state.blobs.as_ref(),
        "system:supply",
        org,
        &gathered.repo,
        &gathered.image,
        &attachment,
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(true)
}

/// Why a referrer could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The blob store refused a blob.
    #[error("storing a referrer blob failed: {0}")]
    Blob(String),
    /// The registry metadata could not be written.
    #[error("recording the referrer failed: {0}")]
    Store(#[from] plaza_core::StoreError),
}

/// Stores `attachment` as a referrer of `subject` in `repo`, as a push through the registry
/// API would: the empty config, the document and the referrer manifest as blobs, linked, and
/// the manifest recorded (audited `registry.manifest.push`).
pub async fn attach_referrer(
    services: &Services,
    blobs: &dyn BlobStore,
    actor: &str,
    org: &Org,
    repo: &str,
    subject: &Subject,
    attachment: &Attachment,
) -> Result<(), AttachError> {
    let manifest = referrer::referrer_manifest(subject, attachment);
    let config = Digest::sha256_of(referrer::EMPTY_CONFIG);
    let layer = Digest::sha256_of(&attachment.bytes);
    let digest = Digest::sha256_of(&manifest);
    let store = services.store();
    for (d, bytes) in [
        (&config, referrer::EMPTY_CONFIG),
        (&layer, attachment.bytes.as_slice()),
        (&digest, manifest.as_slice()),
    ] {
        blobs
            .put(d, bytes)
            .await
            .map_err(|e| AttachError::Blob(e.to_string()))?;
    }
    let linked = vec![config.to_string(), layer.to_string()];
    for blob in &linked {
        store.link_blob(repo, blob).await?;
    }
    let now = services.now();
    let stored = StoredManifest {
        repository: repo.to_owned(),
        digest: digest.to_string(),
        media_type: media_type::OCI_MANIFEST.to_owned(),
        artifact_type: Some(attachment.artifact_type.to_owned()),
        subject: Some(subject.digest.to_string()),
        size: manifest.len() as i64,
        annotations: serde_json::Value::Object(attachment.annotations.clone()),
        pushed_by: None,
        pushed_at: now,
    };
    let audit = plaza_core::audit::AuditEntry::new(
        now,
        Some(org.id.clone()),
        actor,
        "registry.manifest.push",
        format!("oci:{repo}@{digest}"),
        serde_json::json!({"artifactType": attachment.artifact_type, "subject": subject.digest.to_string()}),
    );
    store.put_manifest(&stored, &linked, None, &audit).await?;
    Ok(())
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
