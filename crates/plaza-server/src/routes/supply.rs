//! Supply chain: publishers' keys (register, list, revoke), the marketplace's own keys, and
//! signed timestamps.

use crate::api::{
    MarketplaceKeyView, PublisherKeyView, RegisterKeyBody, RevokeKeyBody, TimestampBody,
};
use crate::extract::ApiJson;
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
        rotate_grace: body.rotate_grace_days.map(chrono::Duration::days),
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
