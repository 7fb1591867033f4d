//! Liveness, readiness and metrics.

use crate::api::HealthView;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = HealthView)))]
pub async fn healthz() -> Json<HealthView> {
    Json(HealthView {
        status: "ok".into(),
        store: None,
    })
}

/// Readiness: the store answers too.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = HealthView), (status = 503, body = crate::problem::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    let store = state.services.store();
    store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::unavailable("the store does not answer")
    })?;
    Ok(Json(HealthView {
        status: "ready".into(),
        store: Some(store.backend().into()),
    }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.services.store().backend());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}
