//! Authentication and the per-route authorization guard.
//!
//! Every route declares an [`Access`] rule (see `routes`). The guard resolves the caller from
//! `Authorization: Bearer …` (a Plaza API token, or an OIDC JWT when SSO is configured), resolves
//! the org the path names, asks `plaza_core::access::decide`, and hands the handler the
//! [`Principal`] and the [`Org`] as request extensions.

use crate::oidc::{looks_like_jwt, OidcError};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{RawPathParams, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plaza_core::access::{decide, Access, AuthMethod, Decision, Principal};
use plaza_core::identity::Org;
use plaza_core::token::TOKEN_PREFIX;
use plaza_core::{CoreError, StoreError};

/// Resolves the caller, if the request carries credentials. Bad credentials are an error, never
/// silently anonymous.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not valid text"))?;
    let Some(token) = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
    else {
        return Err(ApiError::unauthenticated(
            "use `Authorization: Bearer <token>` with a Plaza API token or an SSO token",
        ));
    };
    let token = token.trim();
    if token.starts_with(TOKEN_PREFIX) {
        return Ok(Some(state.services.authenticate_token(token).await?));
    }
    if looks_like_jwt(token) {
        let Some(oidc) = &state.oidc else {
            return Err(ApiError::unauthenticated(
                "this server has no single sign-on configured; use a Plaza API token",
            ));
        };
        let identity = oidc.verify(token).await.map_err(|e| match e {
            OidcError::Rejected(msg) => ApiError::unauthenticated(msg),
            other => {
                tracing::error!(error = %other, "single sign-on failed");
                ApiError::unavailable(
                    "single sign-on is unavailable right now; retry later or use a Plaza API token",
                )
            }
        })?;
        let org = state.services.org_by_slug(oidc.org_slug()).await?;
        let user = state.services.resolve_oidc_user(&org, &identity).await?;
        let principal = state
            .services
            .principal_for(
                user,
                AuthMethod::Oidc {
                    issuer: identity.issuer,
                },
            )
            .await?;
        return Ok(Some(principal));
    }
    Err(ApiError::unauthenticated(
        "the bearer token is neither a Plaza API token nor a JWT",
    ))
}

/// The instance whose capability token authenticated a request (on routes whose rule is
/// [`Access::InstanceOrRole`]); handlers then act for that instance only.
#[derive(Clone, Debug)]
pub struct CallerInstance(pub plaza_core::install::Instance);

/// The bearer token of a request when it is one of Plaza's capability tokens (its key id is
/// one of Plaza's, `plz-…`), not an SSO token.
fn capability_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && plaza_core::capability::looks_like_jwt(token)
        && plaza_core::capability::key_id(token).is_ok_and(|kid| kid.starts_with("plz-")))
    .then_some(token)
}

/// What a caller who is not a member of the org in the path is told.
const NOT_A_MEMBER: &str = "you are not a member of this organisation";

/// The guard a route with rule `access` runs before its handler.
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    params: RawPathParams,
    mut req: Request,
    next: Next,
) -> Response {
    if matches!(access, Access::InstanceOrRole(_)) {
        if let Some(token) = capability_token(req.headers()) {
            let verified = state.services.verify_capability(token).await;
            let instance = match verified {
                Ok((_, instance)) => instance,
                Err(e) => return ApiError::from(e).into_response(),
            };
            let org = match state.services.org(&instance.org_id).await {
                Ok(org) => org,
                Err(e) => return ApiError::from(e).into_response(),
            };
            req.extensions_mut().insert(CallerInstance(instance));
            req.extensions_mut().insert(org);
            return next.run(req).await;
        }
    }
    match authorize(&state, access, &params, req.headers()).await {
        Ok(Some((principal, org))) => {
            req.extensions_mut().insert(principal);
            req.extensions_mut().insert(org);
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    access: Access,
    params: &RawPathParams,
    headers: &HeaderMap,
) -> Result<Option<(Principal, Org)>, ApiError> {
    if access == Access::Public {
        return Ok(None);
    }
    let Some(principal) = authenticate(state, headers).await? else {
        return Err(ApiError::unauthenticated(
            "this needs a token: send `Authorization: Bearer <token>` (see `plaza login`)",
        ));
    };
    // A non-member learns nothing about which orgs exist: a missing org and someone else's org
    // get the same answer.
    let path_org = match params.iter().find(|(k, _)| *k == "org") {
        Some((_, slug)) => match state.services.org_by_slug(slug).await {
            Ok(org) => Some(org),
            Err(CoreError::Store(StoreError::NotFound { .. })) => {
                return Err(ApiError::forbidden(NOT_A_MEMBER));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    match decide(access, Some(&principal), path_org.as_ref().map(|o| &o.id)) {
        Decision::Allow => {}
        Decision::Unauthenticated => return Err(ApiError::unauthenticated("no credentials")),
        Decision::Forbidden(why) => return Err(ApiError::forbidden(why)),
    }
    let org = match path_org {
        Some(org) => org,
        None => state.services.org(principal.org_id()).await?,
    };
    Ok(Some((principal, org)))
}
