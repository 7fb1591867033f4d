//! The caller's API tokens.

use crate::api::{CreatedTokenView, NewTokenRequest, TokenView};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::ids::TokenId;

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "identity", security(("bearer" = [])), responses((status = 200, body = Vec<TokenView>)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(
        s.services
            .list_tokens(&p)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Issues a token for the caller; the secret is in this answer only.
#[utoipa::path(post, path = "/api/tokens", tag = "identity", security(("bearer" = [])), request_body = NewTokenRequest, responses((status = 201, body = CreatedTokenView), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenView>), ApiError> {
    let new = s
        .services
        .issue_token(&p, &body.name, body.expires_in_days, None)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenView {
            token: new.token.into(),
            secret: new.secret.expose().to_owned(),
        }),
    ))
}

/// Revokes a token: the caller's own, or (for an admin) any of the org's.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "identity", security(("bearer" = [])), params(("id" = String, Path, description = "Token id")), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.services.revoke_token(&p, &TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
