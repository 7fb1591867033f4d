//! The app catalog as the foundation knows it: an app id owned by an org, and its versions, each
//! carrying the validated manifest it was registered with. Submissions, gates and listings build
//! on this in later parts.

use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One registered version of an app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppVersion {
    /// Owning org.
    pub org_id: OrgId,
    /// Reverse-DNS app id from the manifest, e.g. `com.example.where2eat`.
    pub app_id: String,
    /// SemVer version from the manifest.
    pub version: String,
    /// Display name from the manifest.
    pub name: String,
    /// One-line description, if the manifest has one.
    pub description: Option<String>,
    /// The normalised manifest, as JSON.
    pub manifest: serde_json::Value,
    /// Who registered it.
    pub created_by: UserId,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}
