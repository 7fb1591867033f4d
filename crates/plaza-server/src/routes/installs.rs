//! Installs and their credentials: the consent screen, install, consent, upgrade, rollback,
//! uninstall, capability tokens, the JWKS, token exchange (RFC 8693), the demo's mock calendar
//! provider, and the unused-grant report.

use crate::api::{
    CapabilityView, ConsentBody, ExchangeView, InstallRequestBody, InstanceView, OAuthErrorView,
    PermissionRequestView, UnusedGrantsView, UpgradeBody, UpgradeView,
};
use crate::extract::{is_json_content_type, read_body, ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use plaza_core::ports::InstanceFilter;
use plaza_core::service::{ExchangeError, InstallRequest};
use serde::Deserialize;

/// Which version's request to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PermissionQuery {
    /// The version (default: the latest registered).
    version: Option<String>,
}

/// What an app version asks for, in plain words: the consent screen.
#[utoipa::path(get, path = "/api/orgs/{org}/apps/{app}/permissions", tag = "installs", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("app" = String, Path, description = "App id"), PermissionQuery),
    responses((status = 200, body = PermissionRequestView), (status = 404, body = Problem)))]
pub async fn permissions(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, app)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PermissionQuery>,
) -> Result<Json<PermissionRequestView>, ApiError> {
    let request = s
        .services
        .permission_request(&org, &app, q.version.as_deref())
        .await?;
    Ok(Json(request.into()))
}

/// Installs an app version for a team. An admin's install is granted at once (201, `active`);
/// a team member's waits for an admin's consent (202, `pending_consent`).
#[utoipa::path(post, path = "/api/installs", tag = "installs", security(("bearer" = [])), request_body = InstallRequestBody,
    responses((status = 201, body = InstanceView), (status = 202, body = InstanceView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn install(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<InstallRequestBody>,
) -> Result<(StatusCode, Json<InstanceView>), ApiError> {
    let req = InstallRequest {
        app_id: body.app_id,
        version: body.version,
        team: body.team,
        instance_id: body.instance_id,
        tags: body.tags,
        billing_mode: body.billing_mode,
        auto_upgrade: body.auto_upgrade,
        refuse_scopes: body.refuse_scopes,
    };
    let instance = s.services.install(&p, &org, &req).await?;
    let status = if instance.is_active() {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(instance.into())))
}

/// Which instances to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstanceListQuery {
    /// Only of this app.
    app: Option<String>,
    /// Only of this team (slug).
    team: Option<String>,
    /// Include uninstalled instances (default false).
    include_uninstalled: Option<bool>,
}

/// The caller's org's instances, oldest first.
#[utoipa::path(get, path = "/api/installs", tag = "installs", security(("bearer" = [])), params(InstanceListQuery),
    responses((status = 200, body = Vec<InstanceView>), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<InstanceListQuery>,
) -> Result<Json<Vec<InstanceView>>, ApiError> {
    let team_id = match &q.team {
        Some(slug) => Some(s.services.team(&org, slug).await?.id),
        None => None,
    };
    let filter = InstanceFilter {
        app_id: q.app,
        team_id,
        include_uninstalled: q.include_uninstalled.unwrap_or(false),
    };
    let list = s.services.list_instances(&org, &filter).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// One instance of the caller's org.
#[utoipa::path(get, path = "/api/installs/{id}", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")),
    responses((status = 200, body = InstanceView), (status = 404, body = Problem)))]
pub async fn show(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    Ok(Json(s.services.instance(&p, &id).await?.into()))
}

/// An admin consents to a pending install or a pending upgrade, refusing optional scopes if
/// wanted. Required scopes cannot be refused.
#[utoipa::path(post, path = "/api/installs/{id}/consent", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")), request_body = ConsentBody,
    responses((status = 200, body = InstanceView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn consent(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<Json<InstanceView>, ApiError> {
    Ok(Json(
        s.services
            .consent(&p, &id, &body.refuse_scopes)
            .await?
            .into(),
    ))
}

/// Moves an instance to another version: at once when nothing widens (or an admin consents in
/// the same call), otherwise it waits for consent and the instance stays on its version.
#[utoipa::path(post, path = "/api/installs/{id}/upgrade", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")), request_body = UpgradeBody,
    responses((status = 200, body = UpgradeView), (status = 202, body = UpgradeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn upgrade(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpgradeBody>,
) -> Result<(StatusCode, Json<UpgradeView>), ApiError> {
    let outcome = s
        .services
        .upgrade(&p, &id, &body.version, body.consent)
        .await?;
    let status = if outcome.applied {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(outcome.into())))
}

/// Back to the version (and consent) before the last upgrade.
#[utoipa::path(post, path = "/api/installs/{id}/rollback", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")),
    responses((status = 200, body = InstanceView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn rollback(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    Ok(Json(s.services.rollback(&p, &id).await?.into()))
}

/// Uninstalls: every credential of the instance is revoked at once.
#[utoipa::path(delete, path = "/api/installs/{id}", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")),
    responses((status = 200, body = InstanceView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn uninstall(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    Ok(Json(s.services.uninstall(&p, &id).await?.into()))
}

/// Issues a capability token for the instance (for container apps and tools); audited.
#[utoipa::path(post, path = "/api/installs/{id}/tokens", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")),
    responses((status = 201, body = CapabilityView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn issue_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CapabilityView>), ApiError> {
    let issued = s.services.issue_capability(&p, &id).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// The report window.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnusedQuery {
    /// Days to look back (1–366, default 30).
    days: Option<u32>,
}

/// Granted scopes and egress hosts the instance did not use in the last N days.
#[utoipa::path(get, path = "/api/installs/{id}/unused-grants", tag = "installs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id"), UnusedQuery),
    responses((status = 200, body = UnusedGrantsView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn unused_grants(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UnusedQuery>,
) -> Result<Json<UnusedGrantsView>, ApiError> {
    let report = s
        .services
        .unused_grants(&p, &id, q.days.unwrap_or(30))
        .await?;
    Ok(Json(report.into()))
}

/// The public keys that verify capability tokens (RFC 7517); retired keys stay until their
/// last token has expired.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "installs",
    responses((status = 200, description = "JWK set", content_type = "application/json")))]
pub async fn jwks(State(s): State<AppState>) -> Result<Response, ApiError> {
    let doc = s.services.jwks().await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(doc),
    )
        .into_response())
}

/// The fields of a token-exchange request.
#[derive(Debug, Default, Deserialize)]
struct ExchangeForm {
    grant_type: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
    scope: Option<String>,
}

const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Token exchange (RFC 8693): an instance's capability token (`subject_token`, or the bearer
/// token when absent) for a downstream credential of one granted `scope`.
/// `application/x-www-form-urlencoded` as the RFC has it, or the same fields as JSON.
/// Errors are RFC 6749 §5.2 bodies; asking for an ungranted scope is refused and audited.
#[utoipa::path(post, path = "/api/token/exchange", tag = "installs",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=JWT&subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=calendar.read"),
    responses((status = 200, body = ExchangeView), (status = 400, body = OAuthErrorView), (status = 401, body = OAuthErrorView)))]
pub async fn exchange(State(s): State<AppState>, req: Request) -> Response {
    match exchange_inner(&s, req).await {
        Ok(token) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            Json(ExchangeView::from(token)),
        )
            .into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn exchange_inner(
    s: &AppState,
    req: Request,
) -> Result<plaza_core::service::ExchangedToken, ExchangeError> {
    let bad = |d: &str| ExchangeError {
        code: "invalid_request",
        description: d.to_owned(),
    };
    let headers = req.headers().clone();
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = read_body(req, s)
        .await
        .map_err(|_| bad("the body could not be read (too large?)"))?;
    let form: ExchangeForm = if is_json_content_type(&ct) {
        serde_json::from_slice(&body).map_err(|e| bad(&format!("the JSON body is invalid: {e}")))?
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| bad(&format!("the form body is invalid: {e}")))?
    } else {
        return Err(bad(
            "send the fields as application/x-www-form-urlencoded (RFC 8693) or JSON",
        ));
    };
    match form.grant_type.as_deref() {
        Some(TOKEN_EXCHANGE_GRANT) => {}
        Some(other) => {
            return Err(ExchangeError {
                code: "unsupported_grant_type",
                description: format!(
                    "grant_type `{other}` is not supported; use `{TOKEN_EXCHANGE_GRANT}`"
                ),
            })
        }
        None => {
            return Err(bad(&format!(
                "grant_type is required: `{TOKEN_EXCHANGE_GRANT}`"
            )))
        }
    }
    if let Some(t) = form.subject_token_type.as_deref() {
        if t != JWT_TOKEN_TYPE && t != ACCESS_TOKEN_TYPE {
            return Err(bad(&format!(
                "subject_token_type `{t}` is not supported; the subject is a capability token (`{JWT_TOKEN_TYPE}`)"
            )));
        }
    }
    let subject = match form.subject_token {
        Some(t) => t,
        None => bearer(&headers)
            .ok_or_else(|| bad("subject_token is required: the instance's capability token"))?,
    };
    let scope = form
        .scope
        .ok_or_else(|| bad("scope is required: the one granted scope to exchange for"))?;
    s.services.exchange_token(&subject, &scope).await
}

fn oauth_error(e: ExchangeError) -> Response {
    let status = if e.code == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(OAuthErrorView {
            error: e.code.to_owned(),
            error_description: e.description,
        }),
    )
        .into_response()
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
}

/// Which day's events.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// The day, `YYYY-MM-DD` (default: today, UTC).
    date: Option<String>,
}

/// The demo's **mock** calendar provider (a stand-in for a third-party calendar API): the day's
/// events, for a downstream credential with `calendar.read` from token exchange.
#[utoipa::path(get, path = "/api/mock/calendar/events", tag = "installs", security(("bearer" = [])), params(CalendarQuery),
    responses((status = 200, description = "The day's events", content_type = "application/json"), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn calendar_events(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let credential = bearer(&headers).ok_or_else(|| {
        ApiError::unauthenticated(
            "send the downstream credential from token exchange as `Authorization: Bearer …`",
        )
    })?;
    let date = match q.date.as_deref() {
        None => s.services.now().date_naive(),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(format!("date `{d}` is not a day: write it as YYYY-MM-DD"))
        })?,
    };
    Ok(Json(
        s.services.mock_calendar_events(&credential, date).await?,
    ))
}
