//! Registering app versions from manifests, and reading them.

use super::manifests::ManifestBody;
use crate::api::AppVersionView;
use crate::problem::{ApiError, Problem, ProblemItem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use plaza_core::policy::Outcome;
use plaza_core::service::GateFinding;
use plaza_policy::Severity;

/// The org's app versions.
#[utoipa::path(get, path = "/api/orgs/{org}/apps", tag = "apps", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = Vec<AppVersionView>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<AppVersionView>>, ApiError> {
    Ok(Json(
        s.services
            .list_app_versions(&org)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Registers a version from its manifest (YAML or JSON). An invalid manifest is refused with every
/// problem located.
#[utoipa::path(post, path = "/api/orgs/{org}/apps", tag = "apps", security(("bearer" = [])), params(("org" = String, Path)),
    request_body(content = Object, description = "A Plaza manifest v1 (YAML, or JSON with `Content-Type: application/json`)", content_type = "application/yaml"),
    responses((status = 201, body = AppVersionView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    body: ManifestBody,
) -> Result<(StatusCode, Json<AppVersionView>), ApiError> {
    let validated = body.0;
    let errors: Vec<ProblemItem> = validated
        .errors()
        .map(|d| ProblemItem {
            pointer: d.location.pointer.clone(),
            detail: diagnostic_text(d),
        })
        .collect();
    let Some(manifest) = validated.manifest.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(
            "the manifest is invalid; fix every problem listed",
            errors,
        ));
    };
    let json = serde_json::to_value(&manifest).map_err(ApiError::internal)?;
    // The supply gate runs when the version's artifact is in the registry (`plaza push`); its
    // facts (signature, provenance level, SBOM, vulnerabilities, secrets) feed the policies.
    let text = serde_json::to_string(&json).map_err(ApiError::internal)?;
    let gathered =
        crate::submission::gather(&s, &org.slug, &manifest.id, &manifest.version, text).await?;
    let report = match &gathered {
        Some(g) => Some(s.services.supply_gate(&org, &json, &g.materials).await?),
        None => None,
    };
    let facts = report.as_ref().map(|r| r.facts());
    let (decision, findings) = s.services.evaluate_app(&org, &json, facts.as_ref()).await?;
    if decision.outcome == Outcome::Deny {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Deny && f.waived_by.is_none())
            .map(finding_item)
            .collect();
        return Err(ApiError::invalid(
            format!(
                "the org's policies deny this version (decision {}); fix the findings listed, or \
                 ask the council for an exception",
                decision.id
            ),
            errors,
        ));
    }
    let app = s.services.register_app_version(&p, &org, json).await?;
    // The marketplace countersigns what passed (a VSA attached to the image as a referrer).
    if let (Some(g), Some(r)) = (&gathered, &report) {
        crate::submission::countersign(&s, &org, &app.app_id, &app.version, g, r, &decision)
            .await?;
    }
    let mut view = AppVersionView::from(app);
    view.decision = Some(decision.into());
    view.supply = report
        .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
        .transpose()?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A policy finding as a located problem: its `details.path` (a JSON pointer into the manifest)
/// when the policy gives one.
fn finding_item(f: &GateFinding) -> ProblemItem {
    let pointer = f
        .details
        .as_ref()
        .and_then(|d| d.get("path"))
        .and_then(|p| p.as_str())
        .filter(|p| p.is_empty() || p.starts_with('/'))
        .unwrap_or("")
        .to_owned();
    let detail = match &f.remediation {
        Some(r) => format!("[{}] {} ({r})", f.rule_id, f.message),
        None => format!("[{}] {}", f.rule_id, f.message),
    };
    ProblemItem { pointer, detail }
}

fn diagnostic_text(d: &plaza_manifest::Diagnostic) -> String {
    let at = format!("line {}, column {}", d.location.line, d.location.column);
    match &d.hint {
        Some(h) => format!("{} ({at}); {h}", d.message),
        None => format!("{} ({at})", d.message),
    }
}

/// One version of an app.
#[utoipa::path(get, path = "/api/orgs/{org}/apps/{app}/versions/{version}", tag = "apps", security(("bearer" = [])), params(("org" = String, Path), ("app" = String, Path, description = "Reverse-DNS app id"), ("version" = String, Path)), responses((status = 200, body = AppVersionView), (status = 404, body = Problem)))]
pub async fn show(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, app, version)): Path<(String, String, String)>,
) -> Result<Json<AppVersionView>, ApiError> {
    Ok(Json(
        s.services.app_version(&org, &app, &version).await?.into(),
    ))
}

/// Smoke-tests a wasm app version: starts it in the sandbox (no token, no egress), calls its
/// health check (`healthcheck.path`, else `/`) and reports pass or fail with timings.
#[utoipa::path(post, path = "/api/orgs/{org}/apps/{app}/versions/{version}/smoke-test", tag = "apps", security(("bearer" = [])),
    params(("org" = String, Path), ("app" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = crate::wasm::smoke::SmokeReport), (status = 404, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
pub async fn smoke_test(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, app, version)): Path<(String, String, String)>,
) -> Result<Json<crate::wasm::smoke::SmokeReport>, ApiError> {
    let v = s.services.app_version(&org, &app, &version).await?;
    Ok(Json(crate::wasm::smoke::run(&s, &org.slug, &v).await?))
}
