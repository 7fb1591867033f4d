//! Supply chain: publishers' keys (register, list, revoke), the marketplace's own keys, signed
//! timestamps, the org's supply settings (trusted builders, blocking), versions' scan history,
//! and the caller's notifications.

use crate::api::{
    BlockView, MarketplaceKeyView, NotificationView, PublisherKeyView, RegisterKeyBody,
    RevokeKeyBody, ScanView, SupplySettingsView, TimestampBody, VersionScansView, VexBody, VexView,
};
use crate::extract::ApiJson;
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem, ProblemItem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use plaza_core::service::NewPublisherKey;
use plaza_core::supply::KeyAlgorithm;
use plaza_supply::sign::keys::{Algorithm, PublicKey};

/// The org's publisher keys, every publisher.
#[utoipa::path(get, path = "/api/orgs/{org}/publisher-keys", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug")),
    responses((status = 200, body = Vec<PublisherKeyView>), (status = 403, body = Problem)))]
pub async fn list_all(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<PublisherKeyView>>, ApiError> {
    let keys = s.services.publisher_keys(&org, None).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// One publisher's keys (revoked and expired ones included, so old signatures can be judged).
#[utoipa::path(get, path = "/api/orgs/{org}/publishers/{publisher}/keys", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("publisher" = String, Path, description = "A manifest's provenance.signedBy")),
    responses((status = 200, body = Vec<PublisherKeyView>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, publisher)): Path<(String, String)>,
) -> Result<Json<Vec<PublisherKeyView>>, ApiError> {
    let keys = s.services.publisher_keys(&org, Some(&publisher)).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Registers a publisher's public key; with `rotateGraceDays`, the publisher's other keys end
/// that many days from now.
#[utoipa::path(post, path = "/api/orgs/{org}/publishers/{publisher}/keys", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("publisher" = String, Path, description = "A manifest's provenance.signedBy")),
    request_body = RegisterKeyBody,
    responses((status = 201, body = PublisherKeyView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, publisher)): Path<(String, String)>,
    ApiJson(body): ApiJson<RegisterKeyBody>,
) -> Result<(StatusCode, Json<PublisherKeyView>), ApiError> {
    let key = PublicKey::from_pem(&body.public_key).map_err(|e| {
        ApiError::invalid(
            "`publicKey` is not a usable public key",
            vec![ProblemItem {
                pointer: "/publicKey".into(),
                detail: format!(
                    "{e}; give the SPKI PEM (-----BEGIN PUBLIC KEY-----) of an Ed25519 or ECDSA \
                     P-256 key, as `plaza keygen` writes it"
                ),
            }],
        )
    })?;
    let algorithm = match key.algorithm() {
        Algorithm::Ed25519 => KeyAlgorithm::Ed25519,
        Algorithm::EcdsaP256 => KeyAlgorithm::EcdsaP256,
    };
    let public_pem = key.to_pem().map_err(ApiError::internal)?;
    let new = NewPublisherKey {
        publisher,
        key_id: key.key_id(),
        algorithm,
        public_pem,
        not_before: body.not_before,
        not_after: body.not_after,
        rotate_grace: match body.rotate_grace_days {
            None => None,
            Some(d) if (0..=plaza_core::service::MAX_ROTATION_GRACE_DAYS).contains(&d) => {
                Some(chrono::Duration::days(d))
            }
            Some(d) => {
                return Err(ApiError::invalid(
                    "`rotateGraceDays` is out of range",
                    vec![ProblemItem {
                        pointer: "/rotateGraceDays".into(),
                        detail: format!(
                            "{d}: give 0 to {} days",
                            plaza_core::service::MAX_ROTATION_GRACE_DAYS
                        ),
                    }],
                ))
            }
        },
    };
    let stored = s.services.register_publisher_key(&p, &org, new).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Revokes a publisher key from now on.
#[utoipa::path(post, path = "/api/orgs/{org}/publisher-keys/{key}/revoke", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("key" = String, Path, description = "Key id")),
    request_body = RevokeKeyBody,
    responses((status = 200, body = PublisherKeyView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, key_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RevokeKeyBody>,
) -> Result<Json<PublisherKeyView>, ApiError> {
    let key = s
        .services
        .revoke_publisher_key(&p, &org, &key_id, &body.reason)
        .await?;
    Ok(Json(key.into()))
}

/// Every key the marketplace has signed timestamps and countersignatures with, retired ones
/// included, for offline verification.
#[utoipa::path(get, path = "/api/marketplace-keys", tag = "supply",
    responses((status = 200, body = Vec<MarketplaceKeyView>)))]
pub async fn marketplace_keys(State(s): State<AppState>) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    for k in s.services.marketplace_keys().await? {
        let public = k.attestation_public_key().map_err(ApiError::internal)?;
        out.push(MarketplaceKeyView {
            key_id: public.key_id(),
            kid: k.kid.clone(),
            algorithm: "ed25519".into(),
            public_key: public.to_pem().map_err(ApiError::internal)?,
            signs_from: k.created_at,
            signs_until: k.signs_until,
        });
    }
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(out),
    )
        .into_response())
}

/// A signed timestamp proving a signature existed now: keep it with the signature, and the
/// signature stays valid even if its key is revoked later.
#[utoipa::path(post, path = "/api/timestamps", tag = "supply", security(("bearer" = [])),
    request_body = TimestampBody,
    responses((status = 201, description = "A DSSE envelope (in-toto statement, predicate https://plaza.dev/timestamp/v1)", content_type = "application/json"), (status = 422, body = Problem)))]
pub async fn timestamp(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<TimestampBody>,
) -> Result<Response, ApiError> {
    let signature =
        plaza_supply::sign::dsse::decode_base64("signature", "/signature", &body.signature)
            .map_err(|e| {
                ApiError::invalid(
                    "`signature` is not base64",
                    vec![ProblemItem {
                        pointer: "/signature".into(),
                        detail: e.to_string(),
                    }],
                )
            })?;
    let envelope = s.services.issue_timestamp(&p, &signature).await?;
    let json: serde_json::Value =
        serde_json::from_str(&envelope.to_json()).map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// The org's supply-chain settings.
#[utoipa::path(get, path = "/api/orgs/{org}/supply-settings", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug")),
    responses((status = 200, body = SupplySettingsView), (status = 403, body = Problem)))]
pub async fn settings(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<SupplySettingsView>, ApiError> {
    Ok(Json(s.services.supply_settings(&org).await?.into()))
}

/// Replaces the org's supply-chain settings (audited `supply.settings.set`).
#[utoipa::path(put, path = "/api/orgs/{org}/supply-settings", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug")),
    request_body = SupplySettingsView,
    responses((status = 200, body = SupplySettingsView), (status = 422, body = Problem)))]
pub async fn set_settings(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<SupplySettingsView>,
) -> Result<Json<SupplySettingsView>, ApiError> {
    let saved = s
        .services
        .set_supply_settings(&p, &org, body.into())
        .await?;
    Ok(Json(saved.into()))
}

/// A version's supply-chain scans (score history, oldest first) and whether it is blocked.
#[utoipa::path(get, path = "/api/orgs/{org}/apps/{app}/versions/{version}/scans", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("app" = String, Path, description = "App id"), ("version" = String, Path)),
    responses((status = 200, body = VersionScansView), (status = 403, body = Problem)))]
pub async fn scans(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, app, version)): Path<(String, String, String)>,
) -> Result<Json<VersionScansView>, ApiError> {
    let history = s.services.supply_scan_history(&org, &app, &version).await?;
    let block = s
        .services
        .version_block(&org, &app, &version)
        .await?
        .map(|b| BlockView {
            reason: b.reason,
            blocked_at: b.blocked_at,
        });
    Ok(Json(VersionScansView {
        app_id: app,
        version,
        block,
        scans: history.into_iter().map(ScanView::from).collect(),
    }))
}

/// How many notifications to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// At most this many, newest first (1–1000, default 100).
    limit: Option<u32>,
}

/// The caller's notifications and their teams', newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "supply", security(("bearer" = [])),
    params(NotificationQuery),
    responses((status = 200, body = Vec<NotificationView>), (status = 400, body = Problem)))]
pub async fn notifications(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=plaza_core::service::MAX_NOTIFICATIONS).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` must be between 1 and {}",
            plaza_core::service::MAX_NOTIFICATIONS
        )));
    }
    let all = s.services.notifications_of(&p, limit).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// The app's VEX statements, oldest first.
#[utoipa::path(get, path = "/api/orgs/{org}/apps/{app}/vex", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("app" = String, Path, description = "App id")),
    responses((status = 200, body = Vec<VexView>), (status = 403, body = Problem)))]
pub async fn list_vex(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, app)): Path<(String, String)>,
) -> Result<Json<Vec<VexView>>, ApiError> {
    let list = s.services.list_vex(&org, &app).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Adds a VEX statement (audited `vex.add`): the covered vulnerabilities of every version of
/// the app are listed as suppressed from the next scan on.
#[utoipa::path(post, path = "/api/orgs/{org}/apps/{app}/vex", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("app" = String, Path, description = "App id")),
    request_body = VexBody,
    responses((status = 201, body = VexView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_vex(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, app)): Path<(String, String)>,
    ApiJson(body): ApiJson<VexBody>,
) -> Result<(StatusCode, Json<VexView>), ApiError> {
    let status =
        serde_json::from_value(serde_json::Value::String(body.status.clone())).map_err(|_| {
            ApiError::invalid(
                "`status` is not an OpenVEX status",
                vec![ProblemItem {
                    pointer: "/status".into(),
                    detail: format!(
                        "`{}`: use not_affected, fixed, affected or under_investigation",
                        body.status
                    ),
                }],
            )
        })?;
    let suppression = plaza_supply::vex::Suppression {
        vulnerability: body.vulnerability,
        products: body.products,
        status,
        justification: body.justification,
        impact_statement: body.impact_statement,
        author: None,
        expires_at: body.expires_at,
    };
    let stored = s.services.add_vex(&p, &org, &app, suppression).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Removes a VEX statement (audited `vex.remove`).
#[utoipa::path(delete, path = "/api/orgs/{org}/apps/{app}/vex/{id}", tag = "supply", security(("bearer" = [])),
    params(("org" = String, Path, description = "Org slug"), ("app" = String, Path, description = "App id"), ("id" = String, Path, description = "Statement id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_vex(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, app, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    s.services.remove_vex(&p, &org, &app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
