//! The middleware stack around every route: request ids (generated or propagated from
//! `x-request-id`), a tracing span per request, Prometheus metrics by matched route, a
//! per-request timeout answered as problem+json, the body limit, and a panic catcher that answers
//! 500 problem+json instead of dropping the connection.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the stack (outermost first: request id, trace, panic catcher, timeout).
pub fn wrap(router: Router, state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let timeout_after = Duration::from_secs(state.config.request_timeout_secs);
    router
        .route_layer(from_fn_with_state(state.clone(), record_metrics))
        .layer(DefaultBodyLimit::max(limit))
        .layer(from_fn_with_state(timeout_after, timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .make_span_with(|req: &Request| {
                let id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(sanitize_request_id))
}

/// The method as a metric label: the standard methods by name, anything else as `OTHER`, so a
/// caller cannot create new time series at will.
fn metric_method(m: &axum::http::Method) -> String {
    use axum::http::Method;
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if KNOWN.contains(m) {
        m.as_str().to_owned()
    } else {
        "OTHER".to_owned()
    }
}

/// Drops an incoming `x-request-id` that is too long or holds characters other than letters,
/// digits and `-_.:`, so a generated one replaces it: ids end up in logs and must stay inert.
async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let acceptable = req.headers().get(&REQUEST_ID).is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    });
    if !acceptable {
        req.headers_mut().remove(&REQUEST_ID);
    }
    next.run(req).await
}

/// The answer to a request whose handler panicked: logged, then a generic 500 problem.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = metric_method(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), started.elapsed());
    resp
}

async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    // Registry transfers stream blobs of any size for as long as the client sends them; their
    // bodies are bounded by the network, not by the API's request time limit.
    if req.uri().path().starts_with("/v2/") {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::timeout().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_over_the_time_limit_is_a_503_problem() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "ok" }))
            .layer(from_fn_with_state(Duration::from_millis(50), timeout));
        let slow = app
            .clone()
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(slow.status(), 503);
        assert_eq!(slow.headers()["content-type"], "application/problem+json");
        let fast = app
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fast.status(), 200);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_not_a_dropped_connection() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("boom")
                    } else {
                        "never"
                    }
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let resp = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
}
