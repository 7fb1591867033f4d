//! Teams and their members.

use crate::api::{NewTeamRequest, TeamSettingsView, TeamView, UserView};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;

/// The org's teams.
#[utoipa::path(get, path = "/api/orgs/{org}/teams", tag = "identity", security(("bearer" = [])), params(("org" = String, Path)), responses((status = 200, body = Vec<TeamView>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    let teams = s.services.list_teams(&org).await?;
    Ok(Json(teams.into_iter().map(Into::into).collect()))
}

/// Creates a team (admin).
#[utoipa::path(post, path = "/api/orgs/{org}/teams", tag = "identity", security(("bearer" = [])), params(("org" = String, Path)), request_body = NewTeamRequest, responses((status = 201, body = TeamView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<NewTeamRequest>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let name = body.name.as_deref().unwrap_or(&body.slug);
    let team = s.services.create_team(&p, &org, &body.slug, name).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// One team.
#[utoipa::path(get, path = "/api/orgs/{org}/teams/{team}", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path)), responses((status = 200, body = TeamView), (status = 404, body = Problem)))]
pub async fn show(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<TeamView>, ApiError> {
    Ok(Json(s.services.team(&org, &team).await?.into()))
}

/// A team's members.
#[utoipa::path(get, path = "/api/orgs/{org}/teams/{team}/members", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path)), responses((status = 200, body = Vec<UserView>), (status = 404, body = Problem)))]
pub async fn members(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let team = s.services.team(&org, &team).await?;
    let members = s.services.team_members(&team).await?;
    Ok(Json(members.into_iter().map(Into::into).collect()))
}

/// Adds a user (by handle) to a team (admin).
#[utoipa::path(put, path = "/api/orgs/{org}/teams/{team}/members/{user}", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path), ("user" = String, Path, description = "User handle")), responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_member(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, team, user)): Path<(String, String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let team = s.services.team(&org, &team).await?;
    Ok(Json(
        s.services.add_team_member(&p, &team, &user).await?.into(),
    ))
}

/// Removes a user (by handle) from a team (admin).
#[utoipa::path(delete, path = "/api/orgs/{org}/teams/{team}/members/{user}", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path), ("user" = String, Path, description = "User handle")), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, team, user)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let team = s.services.team(&org, &team).await?;
    s.services.remove_team_member(&p, &team, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team's settings.
#[utoipa::path(get, path = "/api/orgs/{org}/teams/{team}/settings", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path)), responses((status = 200, body = TeamSettingsView), (status = 404, body = Problem)))]
pub async fn settings(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Path((_, team)): Path<(String, String)>,
) -> Result<Json<TeamSettingsView>, ApiError> {
    let team = s.services.team(&org, &team).await?;
    Ok(Json(s.services.team_settings(&team).await?.into()))
}

/// Replaces a team's settings (audited `team.settings.set`).
#[utoipa::path(put, path = "/api/orgs/{org}/teams/{team}/settings", tag = "identity", security(("bearer" = [])), params(("org" = String, Path), ("team" = String, Path)), request_body = TeamSettingsView, responses((status = 200, body = TeamSettingsView), (status = 404, body = Problem)))]
pub async fn set_settings(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path((_, team)): Path<(String, String)>,
    ApiJson(body): ApiJson<TeamSettingsView>,
) -> Result<Json<TeamSettingsView>, ApiError> {
    let team = s.services.team(&org, &team).await?;
    let saved = s
        .services
        .set_team_settings(&p, &org, &team, body.into())
        .await?;
    Ok(Json(saved.into()))
}
