//! What the registry keeps in the store, next to the content-addressed blobs: which manifests
//! each repository holds (with the facts the referrers API and GC need), its tags, and which blobs
//! a repository may serve. The blob bytes themselves live in a `BlobStore` (`plaza-registry`).

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A manifest pushed to a repository. Its bytes are stored as a blob under `digest`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredManifest {
    /// Repository name, e.g. `acme/com.example.where2eat`.
    pub repository: String,
    /// `sha256:…` of the manifest bytes.
    pub digest: String,
    /// Its media type (OCI image manifest or index, Docker schema 2).
    pub media_type: String,
    /// `artifactType` (or the config media type, as the referrers API reports it), if any.
    pub artifact_type: Option<String>,
    /// Digest of the `subject` manifest, for the referrers API.
    pub subject: Option<String>,
    /// Size of the manifest bytes.
    pub size: i64,
    /// The manifest's annotations (a JSON object; empty when none).
    pub annotations: serde_json::Value,
    /// Who pushed it, when known.
    pub pushed_by: Option<UserId>,
    /// When.
    pub pushed_at: DateTime<Utc>,
}
