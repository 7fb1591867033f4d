//! Documents about the API itself: the OpenAPI document, the manifest JSON Schema, the index page.

use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use axum::Json;

/// The OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}

/// The JSON Schema of manifest v1.
#[utoipa::path(get, path = "/api/schemas/manifest.json", tag = "meta", responses((status = 200, description = "JSON Schema (draft 2020-12) of the Plaza manifest v1", content_type = "application/schema+json")))]
pub async fn manifest_schema() -> impl IntoResponse {
    let body = serde_json::to_string_pretty(&plaza_manifest::json_schema()).unwrap_or_default();
    ([(CONTENT_TYPE, "application/schema+json")], body)
}

/// A small landing page pointing at the API.
#[utoipa::path(get, path = "/", tag = "meta", responses((status = 200, description = "HTML landing page", content_type = "text/html")))]
pub async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Plaza</title></head>",
        "<body><h1>Plaza</h1><p>The governed marketplace for your organisation's micro-apps.</p>",
        "<ul><li><a href=\"/api/openapi.json\">API (OpenAPI 3.1)</a></li>",
        "<li><a href=\"/api/schemas/manifest.json\">Manifest v1 JSON Schema</a></li>",
        "<li><a href=\"/healthz\">Health</a> · <a href=\"/readyz\">Readiness</a> · <a href=\"/metrics\">Metrics</a></li></ul>",
        "<p>Authenticate API calls with <code>Authorization: Bearer &lt;token&gt;</code>.</p></body></html>"
    ))
}
