//! Manifest validation over the API: the same `plaza_manifest::load` the CLI's `plaza validate`
//! runs, so an author's CI and the server never disagree.

use crate::api::ValidationView;
use crate::extract::{is_json_content_type, read_body};
use crate::problem::{ApiError, Problem};
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use plaza_manifest::Validated;

/// A manifest request body, YAML or JSON by `Content-Type`, parsed and validated.
pub struct ManifestBody(pub Validated);

impl<S: Send + Sync> FromRequest<S> for ManifestBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let name = if is_json_content_type(&ct) {
            "request.json"
        } else if matches!(
            essence.as_str(),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
        ) {
            "request.yaml"
        } else {
            return Err(ApiError::unsupported_media_type(format!(
                "send the manifest as `application/json` or `application/yaml` (got `{}`)",
                if ct.is_empty() { "none" } else { &ct }
            )));
        };
        let bytes = read_body(req, state).await?;
        Ok(ManifestBody(plaza_manifest::load(name, &bytes)))
    }
}

impl ManifestBody {
    /// The view of the validation outcome.
    pub fn view(self) -> ValidationView {
        let valid = self.0.is_valid();
        let manifest = self
            .0
            .manifest
            .as_ref()
            .and_then(|m| serde_json::to_value(m).ok());
        ValidationView {
            valid,
            diagnostics: self.0.diagnostics,
            manifest,
        }
    }
}

/// Validates a manifest and reports every problem with its location; never stores anything.
#[utoipa::path(post, path = "/api/manifests/validate", tag = "manifests", security(("bearer" = [])),
    request_body(content = Object, description = "A Plaza manifest v1 (YAML, or JSON with `Content-Type: application/json`)", content_type = "application/yaml"),
    responses((status = 200, body = ValidationView), (status = 415, body = Problem)))]
pub async fn validate(body: ManifestBody) -> Json<ValidationView> {
    Json(body.view())
}
