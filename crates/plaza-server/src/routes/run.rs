//! `/apps/<instance>/…`: requests to an installed wasm app, served by a fresh sandboxed
//! instance per request (`plaza-runtime`). The caller signs in like for the API and must belong
//! to the instance's org; the app never sees the caller's credentials, only its own capability
//! token.

use crate::problem::ApiError;
use crate::state::AppState;
use crate::wasm::component;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use plaza_core::access::Principal;
use plaza_core::identity::Org;
use std::collections::HashMap;

/// Serves one request to an instance's app.
pub async fn invoke(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    Path(params): Path<HashMap<String, String>>,
    req: Request,
) -> Result<Response, ApiError> {
    let id = params.get("instance").cloned().unwrap_or_default();
    let instance = s.services.running_instance(&p, &id).await?;
    let Some(host) = s.wasm.clone() else {
        return Err(ApiError::unavailable(
            "this server runs no wasm apps (started without a wasm host)",
        ));
    };
    if !instance.is_active() {
        return Err(ApiError::conflict(format!(
            "instance `{id}` is {}; only an active instance runs",
            instance.status.as_str()
        )));
    }
    let key = format!(
        "{}/{}@{}",
        instance.org_id, instance.app_id, instance.version
    );
    let app = match host.cached(&key) {
        Some(app) => app,
        None => {
            let (kind, _) = instance
                .grant
                .runtime
                .split_once('/')
                .unwrap_or((instance.grant.runtime.as_str(), ""));
            if kind == "container" {
                return Err(ApiError::conflict(format!(
                    "instance `{id}` is a container app: it runs in Kubernetes \
                     (`plaza deploy render {id}`), not in Plaza"
                )));
            }
            if instance.grant.runtime.ends_with("/wasip1") {
                return Err(ApiError::conflict(
                    "`wasip1` modules cannot serve HTTP; build the app for `wasm32-wasip2` \
                     (runtimeVersion `wasip2` or `wasi-1.0`)",
                ));
            }
            let (digest, bytes) =
                component::load(&s, &org.slug, &instance.app_id, &instance.version).await?;
            let runtime = host.runtime().clone();
            let prepared = tokio::task::spawn_blocking(move || runtime.prepare(&digest, &bytes))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| {
                    ApiError::conflict(format!(
                        "{} {} cannot run: {e}",
                        instance.app_id, instance.version
                    ))
                })?;
            host.keep(key, prepared.clone());
            prepared
        }
    };
    let token = s.services.invocation_capability(&instance).await?;
    let policy = s.services.runtime_policy(&instance.org_id).await?;
    let invocation = host.invocation(&instance, &token.token, &policy);
    let request = guest_request(req, &id, s.config.body_limit_bytes).await?;
    let invoked = host.runtime().invoke(&app, invocation, request).await;
    host.meter.record(
        &instance.org_id,
        &instance.app_id,
        &instance.id,
        &invoked.usage,
    );
    let denials: Vec<&str> = invoked
        .usage
        .egress_denials
        .iter()
        .map(|d| denial_reason(&d.reason))
        .collect();
    s.metrics.observe_invocation(
        &instance.app_id,
        invoked.failure.as_ref().map(|f| f.slug()),
        &denials,
    );
    let (parts, body) = invoked.response.into_parts();
    Ok(Response::from_parts(parts, Body::from(body)).into_response())
}

/// The request as the app sees it: the path below `/apps/<instance>`, the caller's headers
/// without its credentials, the body read whole (up to the server's body limit).
async fn guest_request(
    req: Request,
    instance: &str,
    limit: usize,
) -> Result<axum::http::Request<axum::body::Bytes>, ApiError> {
    let (mut parts, body) = req.into_parts();
    let prefix = format!("/apps/{instance}");
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let rest = path_and_query
        .strip_prefix(&prefix)
        .unwrap_or(path_and_query);
    let rest = if rest.is_empty() || rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_owned()
    };
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    parts.uri = format!("http://{host}{rest}")
        .parse()
        .map_err(|_| ApiError::bad_request("the request path cannot be passed to the app"))?;
    parts.headers.remove(AUTHORIZATION);
    parts.headers.remove(COOKIE);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::too_large())?;
    Ok(axum::http::Request::from_parts(parts, bytes))
}

/// The metric label of an egress denial.
fn denial_reason(reason: &plaza_runtime::DenialReason) -> &'static str {
    use plaza_runtime::DenialReason as D;
    match reason {
        D::NotGranted => "not_granted",
        D::BadRequest(_) => "bad_request",
        D::PrivateAddress(_) => "private_address",
        D::ConnectionQuota { .. } => "connection_quota",
        D::ByteQuota { .. } => "byte_quota",
    }
}
