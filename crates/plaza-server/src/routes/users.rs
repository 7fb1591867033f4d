//! Users and their roles (admin).

use crate::api::{
    CreatedTokenView, NewTokenRequest, NewUserRequest, SetRolesRequest, TokenView, UserView,
};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem, ProblemItem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::{Org, Role, RoleSet};

/// The org's users.
#[utoipa::path(get, path = "/api/orgs/{org}/users", tag = "identity", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = Vec<UserView>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(
        s.services
            .list_users(&org)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/orgs/{org}/users", tag = "identity", security(("bearer" = [])), params(("org" = String, Path)), request_body = NewUserRequest, responses((status = 201, body = UserView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let roles = match &body.roles {
        Some(r) => parse_roles(r)?,
        None => RoleSet::new([Role::Consumer]),
    };
    let user = s
        .services
        .create_user(
            &p,
            &org,
            &body.handle,
            body.display_name.as_deref(),
            body.email.as_deref(),
            roles,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Replaces a user's roles.
#[utoipa::path(put, path = "/api/orgs/{org}/users/{user}/roles", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("user" = String, Path, description = "User handle")), request_body = SetRolesRequest, responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_roles(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<SetRolesRequest>,
) -> Result<Json<UserView>, ApiError> {
    let roles = parse_roles(&body.roles)?;
    Ok(Json(
        s.services
            .set_user_roles(&p, &org, &user, roles)
            .await?
            .into(),
    ))
}

fn parse_roles(names: &[String]) -> Result<RoleSet, ApiError> {
    let mut roles = Vec::new();
    let mut errors = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match name.parse::<Role>() {
            Ok(r) => roles.push(r),
            Err(e) => errors.push(ProblemItem {
                pointer: format!("/roles/{i}"),
                detail: e,
            }),
        }
    }
    if errors.is_empty() {
        Ok(RoleSet::new(roles))
    } else {
        Err(ApiError::invalid("unknown role names", errors))
    }
}

/// A user's API tokens (admin; never their secrets).
#[utoipa::path(get, path = "/api/orgs/{org}/users/{user}/tokens", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("user" = String, Path, description = "User handle")), responses((status = 200, body = Vec<TokenView>), (status = 404, body = Problem)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, user)): Path<(String, String)>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = s.services.list_user_tokens(&org, &user).await?;
    Ok(Json(tokens.into_iter().map(Into::into).collect()))
}

/// Issues an API token for a user, e.g. a service account (admin); the secret is in this answer
/// only. Revoke it with `DELETE /api/tokens/{id}`.
#[utoipa::path(post, path = "/api/orgs/{org}/users/{user}/tokens", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("user" = String, Path, description = "User handle")), request_body = NewTokenRequest, responses((status = 201, body = CreatedTokenView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn issue_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenView>), ApiError> {
    let new = s
        .services
        .issue_token_for_user(&p, &org, &user, &body.name, body.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenView {
            token: new.token.into(),
            secret: new.secret.expose().to_owned(),
        }),
    ))
}
