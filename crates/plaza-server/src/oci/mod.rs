//! The OCI Distribution API under `/v2/`, so skopeo, oras, crane and docker can push and pull
//! Plaza's artifacts. Requests are parsed into a [`target::Target`], the caller is authenticated
//! with a Plaza token (HTTP Basic with the token as password, or Bearer) and checked against the
//! repository's namespace (its first component is the org), then one handler per operation
//! talks to the blob store (`plaza-registry`) and the registry metadata (the store's
//! `RegistryRepo`). Errors use the distribution spec's body, not problem+json, because that is
//! what registry clients read.

mod access;
mod blobs;
mod error;
mod manifests;
mod target;
mod uploads;

use crate::state::AppState;
use access::{authorize, Need};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
pub use error::OciError;
use target::Target;

/// The API version header every `/v2/` answer carries.
const API_VERSION: (&str, &str) = ("docker-distribution-api-version", "registry/2.0");

/// `GET /v2/`: 200 for an authenticated caller (the spec's API base check), else 401.
pub async fn base(State(state): State<AppState>, req: Request) -> Response {
    let realm = token_realm(req.headers());
    let answer = match access::principal(&state, req.headers()).await {
        Ok(Some(_)) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({})),
        )
            .into_response(),
        Ok(None) => OciError::unauthorized()
            .challenge(&realm, None)
            .into_response(),
        Err(e) if e.is_unauthorized() => e.challenge(&realm, None).into_response(),
        Err(e) => e.into_response(),
    };
    with_version(answer)
}

/// `GET /v2/token`: the Docker token flow's token endpoint. A client that met the Bearer
/// challenge sends its credentials here (a Plaza token as the Basic password) and gets a token
/// to use as `Authorization: Bearer` — for now the same Plaza token, checked first.
pub async fn token(State(state): State<AppState>, req: Request) -> Response {
    let realm = token_realm(req.headers());
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(access::presented_token);
    let answer = match (access::principal(&state, req.headers()).await, presented) {
        (Ok(Some(_)), Some(token)) => axum::Json(serde_json::json!({
            "token": token,
            "access_token": token,
            "issued_at": state.services.now().to_rfc3339(),
        }))
        .into_response(),
        (Err(e), _) if !e.is_unauthorized() => e.into_response(),
        _ => OciError::unauthorized()
            .challenge(&realm, None)
            .into_response(),
    };
    with_version(answer)
}

/// Every other `/v2/…` request.
pub async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let realm = token_realm(req.headers());
    let scope = Target::parse(req.uri().path()).ok().map(|t| {
        let action = match *req.method() {
            Method::GET | Method::HEAD => "pull",
            _ => "pull,push",
        };
        format!("repository:{}:{action}", t.repo().as_str())
    });
    with_version(match handle(&state, req).await {
        Ok(r) => r,
        Err(e) if e.is_unauthorized() => e.challenge(&realm, scope.as_deref()).into_response(),
        Err(e) => e.into_response(),
    })
}

/// The token endpoint's absolute URL, from the request's `Host` (and `X-Forwarded-Proto` behind
/// a proxy).
fn token_realm(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}/v2/token")
}

fn with_version(mut r: Response) -> Response {
    r.headers_mut()
        .insert(API_VERSION.0, HeaderValue::from_static(API_VERSION.1));
    r
}

async fn handle(state: &AppState, req: Request) -> Result<Response, OciError> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let target = Target::parse(&path)?;
    let need = match method {
        Method::GET | Method::HEAD => Need::Pull,
        _ => Need::Push,
    };
    let caller = authorize(state, req.headers(), target.repo(), need).await?;
    let headers = req.headers().clone();
    let body: Body = req.into_body();
    match (&method, &target) {
        (&Method::GET | &Method::HEAD, Target::Blob { repo, digest }) => {
            blobs::get(state, repo, digest, &headers, method == Method::HEAD).await
        }
        (&Method::DELETE, Target::Blob { repo, digest }) => {
            blobs::delete(state, repo, digest).await
        }
        (&Method::POST, Target::Uploads { repo }) => {
            uploads::start(state, &caller, repo, &query, &headers, body).await
        }
        (&Method::PATCH, Target::Upload { repo, id }) => {
            uploads::patch(state, repo, id, &headers, body).await
        }
        (&Method::PUT, Target::Upload { repo, id }) => {
            uploads::finish(state, repo, id, &query, &headers, body).await
        }
        (&Method::GET, Target::Upload { repo, id }) => uploads::status(state, repo, id).await,
        (&Method::DELETE, Target::Upload { repo, id }) => uploads::cancel(state, repo, id).await,
        (&Method::GET | &Method::HEAD, Target::Manifest { repo, reference }) => {
            manifests::get(state, repo, reference, method == Method::HEAD).await
        }
        (&Method::PUT, Target::Manifest { repo, reference }) => {
            manifests::put(state, &caller, repo, reference, &headers, body).await
        }
        (&Method::DELETE, Target::Manifest { repo, reference }) => {
            manifests::delete(state, &caller, repo, reference).await
        }
        (&Method::GET, Target::Tags { repo }) => manifests::tags(state, repo, &query).await,
        (&Method::GET, Target::Referrers { repo, digest }) => {
            manifests::referrers(state, repo, digest, &query).await
        }
        _ => Err(OciError::unsupported(format!(
            "{method} is not supported on {path}"
        ))),
    }
}
