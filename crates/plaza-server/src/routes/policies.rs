//! Org policies: versions (push, list, show, preview), the enforcement mode, council exceptions
//! and the decision log.

use crate::api::{
    DecisionView, ExceptionView, NewExceptionRequest, PolicyModeView, PolicyPushRequest,
    PolicyVersionView, PreviewRowView,
};
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use plaza_core::ids::ExceptionId;
use plaza_core::policy::{PolicyFile, PolicyMode};
use serde::Deserialize;
use utoipa::IntoParams;

fn files(body: &PolicyPushRequest) -> Vec<PolicyFile> {
    body.files
        .iter()
        .map(|f| PolicyFile {
            path: f.path.clone(),
            content: f.content.clone(),
        })
        .collect()
}

/// The org's policy versions, newest (active) first.
#[utoipa::path(get, path = "/api/orgs/{org}/policies", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = Vec<PolicyVersionView>)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<PolicyVersionView>>, ApiError> {
    let versions = s.services.policy_versions(&org).await?;
    Ok(Json(
        versions
            .into_iter()
            .enumerate()
            .map(|(i, v)| PolicyVersionView::new(v, i == 0))
            .collect(),
    ))
}

/// Pushes a new version: it is compiled with the built-in bundle first, and stored (and active)
/// only if it compiles; otherwise 422 names the file, line and column, and the previous version
/// stays active.
#[utoipa::path(post, path = "/api/orgs/{org}/policies", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), request_body = PolicyPushRequest, responses((status = 201, body = PolicyVersionView)))]
pub async fn push(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<PolicyPushRequest>,
) -> Result<(StatusCode, Json<PolicyVersionView>), ApiError> {
    let files = files(&body);
    let v = s
        .services
        .push_policy(&p, &org, files, body.settings)
        .await?;
    Ok((StatusCode::CREATED, Json(PolicyVersionView::new(v, true))))
}

/// One version.
#[utoipa::path(get, path = "/api/orgs/{org}/policies/{version}", tag = "policies", security(("bearer" = [])), params(("org" = String, Path), ("version" = i64, Path, minimum = 1)), responses((status = 200, body = PolicyVersionView), (status = 400, description = "The version is not a whole number", body = Problem)))]
pub async fn show(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, version)): Path<(String, String)>,
) -> Result<Json<PolicyVersionView>, ApiError> {
    let n: i64 = version.parse().map_err(|_| {
        ApiError::bad_request(format!("policy version `{version}` is not a whole number"))
    })?;
    let latest = s
        .services
        .policy_versions(&org)
        .await?
        .first()
        .map(|v| v.version);
    let v = s.services.policy_version(&org, n).await?;
    Ok(Json(PolicyVersionView::new(v, latest == Some(n))))
}

/// What a candidate version would change for every app version the gate has judged; stores
/// nothing.
#[utoipa::path(post, path = "/api/orgs/{org}/policies/preview", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), request_body = PolicyPushRequest, responses((status = 200, body = Vec<PreviewRowView>)))]
pub async fn preview(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<PolicyPushRequest>,
) -> Result<Json<Vec<PreviewRowView>>, ApiError> {
    let rows = s
        .services
        .preview_policy(&org, &files(&body), &body.settings)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The org's mode.
#[utoipa::path(get, path = "/api/orgs/{org}/policy-mode", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = PolicyModeView)))]
pub async fn mode(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<PolicyModeView>, ApiError> {
    let mode = s.services.policy_mode(&org).await?;
    Ok(Json(PolicyModeView {
        mode: mode.as_str().into(),
    }))
}

/// Sets the org's mode: `enforce` (deny blocks) or `warn-only` (everything goes to review).
#[utoipa::path(put, path = "/api/orgs/{org}/policy-mode", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), request_body = PolicyModeView, responses((status = 200, body = PolicyModeView)))]
pub async fn set_mode(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<PolicyModeView>,
) -> Result<Json<PolicyModeView>, ApiError> {
    let mode: PolicyMode = body.mode.parse().map_err(|e: String| {
        ApiError::invalid(
            e.clone(),
            vec![crate::problem::ProblemItem {
                pointer: "/mode".into(),
                detail: e,
            }],
        )
    })?;
    s.services.set_policy_mode(&p, &org, mode).await?;
    Ok(Json(PolicyModeView {
        mode: mode.as_str().into(),
    }))
}

/// The org's exceptions, including revoked and expired ones.
#[utoipa::path(get, path = "/api/orgs/{org}/exceptions", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = Vec<ExceptionView>)))]
pub async fn exceptions(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<ExceptionView>>, ApiError> {
    let now = s.services.now();
    let list = s.services.exceptions(&org).await?;
    Ok(Json(
        list.into_iter()
            .map(|e| ExceptionView::new(e, now))
            .collect(),
    ))
}

/// Grants an exception (council): one app may break one rule until the expiry.
#[utoipa::path(post, path = "/api/orgs/{org}/exceptions", tag = "policies", security(("bearer" = [])), params(("org" = String, Path)), request_body = NewExceptionRequest, responses((status = 201, body = ExceptionView)))]
pub async fn grant(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(b): ApiJson<NewExceptionRequest>,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    let e = s
        .services
        .grant_exception(&p, &org, &b.app_id, &b.rule_id, &b.reason, b.expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ExceptionView::new(e, s.services.now())),
    ))
}

/// Revokes an exception (council).
#[utoipa::path(delete, path = "/api/orgs/{org}/exceptions/{id}", tag = "policies", security(("bearer" = [])), params(("org" = String, Path), ("id" = String, Path)), responses((status = 204)))]
pub async fn revoke(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.services
        .revoke_exception(&p, &org, &ExceptionId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters of `GET /api/orgs/{org}/decisions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// Only this app.
    pub app: Option<String>,
    /// Only this version (with `app`).
    pub version: Option<String>,
    /// At most this many, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The decision log, newest first.
#[utoipa::path(get, path = "/api/orgs/{org}/decisions", tag = "policies", security(("bearer" = [])), params(("org" = String, Path), DecisionQuery), responses((status = 200, body = Vec<DecisionView>), (status = 422, body = Problem)))]
pub async fn decisions(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<DecisionQuery>,
) -> Result<Json<Vec<DecisionView>>, ApiError> {
    let list = s
        .services
        .decisions(&org, q.app.as_deref(), q.version.as_deref(), q.limit)
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
