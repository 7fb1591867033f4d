//! Usage ingest (`POST /api/usage/events`) and the dead-letter store
//! (`GET /api/usage/dead-letters`). The body's `Content-Type` picks the format: one event or an
//! array (`application/json`), NDJSON (`application/x-ndjson`), or CloudEvents
//! (`application/cloudevents+json`, `application/cloudevents-batch+json`); see docs/metering.md.

use crate::api::{DeadLetterView, IngestReportView};
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::{Extension, Json};
use plaza_core::identity::Org;
use serde::Deserialize;

/// Ingests usage events for the caller's org; answers one status per event.
#[utoipa::path(post, path = "/api/usage/events", tag = "usage", security(("bearer" = [])),
    request_body(content = Object, description = "One usage event, a JSON array of them, NDJSON lines, or CloudEvents 1.0 (structured or batch); see docs/metering.md", content_type = "application/json"),
    responses((status = 200, body = IngestReportView, description = "Every event's status: accepted (committed), duplicate, conflict or rejected (dead-lettered)"),
        (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn ingest(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestReportView>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let options = plaza_metering::ParseOptions {
        max_batch: s.config.usage_max_batch,
        ..plaza_metering::ParseOptions::default()
    };
    let report = s
        .services
        .ingest_usage(
            &org,
            &body,
            content_type,
            &options,
            chrono::TimeDelta::days(i64::from(s.config.usage_late_arrival_days)),
        )
        .await?;
    Ok(Json(report.into()))
}

/// Paging of the dead letters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
}

/// The org's rejected usage events, oldest first, with every reason.
#[utoipa::path(get, path = "/api/usage/dead-letters", tag = "usage", security(("bearer" = [])), params(DeadLetterQuery),
    responses((status = 200, body = Vec<DeadLetterView>), (status = 400, body = Problem)))]
pub async fn dead_letters(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Json<Vec<DeadLetterView>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 1000"));
    }
    Ok(Json(
        s.services
            .dead_letters(&org, limit)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
