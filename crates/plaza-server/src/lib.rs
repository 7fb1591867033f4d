//! Plaza's HTTP edge, on axum: the JSON API under `/api`, health and metrics, the OpenAPI
//! document, and the middleware every request passes through (request id, tracing, metrics,
//! timeout, body limit, panic catching, problem+json errors).
//!
//! Handlers do three things: extract, call a `plaza_core` service, map the result. They hold no
//! SQL and no business rules.

pub mod api;
pub mod auth;
pub mod config;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod oci;
pub mod oidc;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod state;
pub mod submission;
pub mod wasm;

pub use config::ServerConfig;
pub use state::AppState;

use axum::Router;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// The whole application: every route with its guard, and the middleware stack.
pub fn app(state: AppState) -> Router {
    middleware::wrap(routes::router(state.clone()), state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish for
/// up to the configured grace period.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    let _ = rx.await;
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(std::io::Error::other(join)),
        Err(_) => {
            tracing::warn!("grace period over; dropping remaining connections");
            Ok(())
        }
    }
}
