//! Who may pull and push: the caller is a Plaza user (API token as the Basic password, or as a
//! Bearer token; an SSO JWT works as Bearer too), and a repository's first name component is the
//! org that owns it. Members of that org may pull; its authors and admins may push and delete.

use super::error::OciError;
use crate::state::AppState;
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use plaza_core::access::Principal;
use plaza_core::identity::Role;
use plaza_registry::RepoName;

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Read: GET, HEAD.
    Pull,
    /// Write: POST, PATCH, PUT, DELETE.
    Push,
}

/// The authenticated caller.
pub struct Caller {
    /// Who.
    pub principal: Principal,
}

/// The caller, if the request carries credentials; bad credentials are 401.
pub async fn principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, OciError> {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let scheme = value.split_once(' ').map_or(value, |(scheme, _)| scheme);
    if scheme.eq_ignore_ascii_case("basic") {
        let token = presented_token(value).ok_or_else(OciError::unauthorized)?;
        let token = token.as_str();
        return match state.services.authenticate_token(token).await {
            Ok(p) => Ok(Some(p)),
            Err(plaza_core::CoreError::Unauthenticated(_)) => Err(OciError::unauthorized()),
            Err(e) => Err(e.into()),
        };
    }
    match crate::auth::authenticate(state, headers).await {
        Ok(p) => Ok(p),
        Err(e) if e.status() == axum::http::StatusCode::UNAUTHORIZED => {
            Err(OciError::unauthorized())
        }
        Err(e) => Err(OciError::internal(format!(
            "authentication failed: {}",
            e.status()
        ))),
    }
}

/// The token a request presents: the Basic password, or the Bearer token.
pub fn presented_token(authorization: &str) -> Option<String> {
    let (scheme, rest) = authorization.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let text = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
        return Some(
            text.split_once(':')
                .map_or(text.as_str(), |(_, p)| p)
                .to_owned(),
        );
    }
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_owned())
}

/// Authenticates and checks the caller may do `need` on `repo`.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    repo: &RepoName,
    need: Need,
) -> Result<Caller, OciError> {
    let principal = principal(state, headers)
        .await?
        .ok_or_else(OciError::unauthorized)?;
    let namespace = repo.components().next().unwrap_or("");
    let org = state.services.store().get_org(principal.org_id()).await?;
    if org.slug != namespace {
        return Err(OciError::denied(format!(
            "repository `{repo}` belongs to the `{namespace}` namespace; you may use `{}/…`",
            org.slug,
            repo = repo.as_str()
        )));
    }
    if need == Need::Push && !principal.user.roles.any_of(&[Role::Author, Role::Admin]) {
        return Err(OciError::denied(
            "pushing and deleting need the author or admin role",
        ));
    }
    Ok(Caller { principal })
}
