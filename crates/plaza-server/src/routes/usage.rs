//! The metering API: ingest (`POST /api/usage/events`), aggregation (`GET /api/usage/query`),
//! sequence gaps (`GET /api/usage/gaps`), period-complete markers (`/api/usage/periods`),
//! corrections by arrival (`GET /api/usage/corrections`) and the dead-letter store with replay
//! (`/api/usage/dead-letters`). The ingest body's `Content-Type` picks the format: one event or
//! an array (`application/json`), NDJSON (`application/x-ndjson`), or CloudEvents
//! (`application/cloudevents+json`, `application/cloudevents-batch+json`); see docs/metering.md.

use crate::api::{
    CorrectionView, DeadLetterView, IngestReportView, InstanceGapsView, PeriodMarkRequest,
    PeriodStatusView, UsageAnswerView, UsageSettingsRequest, UsageSettingsView,
};
use crate::auth::CallerInstance;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::{DateTime, TimeDelta, Utc};
use plaza_core::access::Principal;
use plaza_core::error::CoreError;
use plaza_core::identity::Org;
use plaza_core::service::{GroupBy, UsageQuery};
use plaza_metering::{parse_time_zone, Aggregation, Granularity, UniqueOf};
use serde::Deserialize;

fn late_window(s: &AppState) -> TimeDelta {
    TimeDelta::days(i64::from(s.config.usage_late_arrival_days))
}

/// Ingests usage events for the caller's org; answers one status per event.
#[utoipa::path(post, path = "/api/usage/events", tag = "usage", security(("bearer" = [])),
    request_body(content = Object, description = "One usage event, a JSON array of them, NDJSON lines, or CloudEvents 1.0 (structured or batch); see docs/metering.md", content_type = "application/json"),
    responses((status = 200, body = IngestReportView, description = "Every event's status: accepted (committed), duplicate, conflict or rejected (dead-lettered)"),
        (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn ingest(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    person: Option<Extension<Principal>>,
    instance: Option<Extension<CallerInstance>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestReportView>, ApiError> {
    let caller = instance.as_ref().map(|Extension(CallerInstance(i))| i);
    let actor = match (&person, caller) {
        (Some(Extension(p)), _) => p.actor(),
        (None, Some(i)) => format!("instance:{}", i.id),
        (None, None) => return Err(ApiError::unauthenticated("no credentials")),
    };
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
            &actor,
            caller,
            &body,
            content_type,
            &options,
            late_window(&s),
        )
        .await?;
    Ok(Json(report.into()))
}

/// Paging of the dead letters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeadLetterQuery {
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
    /// Also list the ones already replayed (default false).
    include_replayed: Option<bool>,
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
            .dead_letters(&org, limit, q.include_replayed.unwrap_or(false))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Replays a dead letter after a fix: its stored event, or the corrected event in the body.
#[utoipa::path(post, path = "/api/usage/dead-letters/{id}/replay", tag = "usage", security(("bearer" = [])),
    params(("id" = String, Path, description = "The dead letter's id")),
    request_body(content = Object, description = "Optional: one corrected event, replacing the stored one", content_type = "application/json"),
    responses((status = 200, body = IngestReportView, description = "The replayed event's status; the dead letter is marked replayed when it is accepted or a duplicate"),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn replay(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<IngestReportView>, ApiError> {
    let replacement = (!body.iter().all(u8::is_ascii_whitespace)).then_some(&body[..]);
    let report = s
        .services
        .replay_dead_letter(&org, &p.actor(), &id, replacement, late_window(&s))
        .await?;
    Ok(Json(report.into()))
}

/// What to aggregate.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UsageQueryParams {
    /// The metric (required).
    metric: String,
    /// Only this app.
    app_id: Option<String>,
    /// Only this instance.
    instance_id: Option<String>,
    /// Only usage recorded while the instances ran this app version (exact match; empty for
    /// usage recorded before versions were kept).
    version: Option<String>,
    /// Only usage of the instances of this team (its slug; an unknown team is a 404).
    team: Option<String>,
    /// Only usage of the instances whose current `cost-center` tag has this value.
    cost_center: Option<String>,
    /// Only events with this tag, as `key:value` (e.g. `costCenter:cc-42`).
    tag: Option<String>,
    /// `hour`, `day` (default) or `month`.
    granularity: Option<String>,
    /// IANA time zone of the windows, e.g. `Europe/Paris` (default `UTC`).
    time_zone: Option<String>,
    /// `sum` (default), `count`, `max`, `unique_count` or `latest`.
    aggregation: Option<String>,
    /// For `unique_count`: count distinct values of this dimension instead of distinct values.
    unique_of: Option<String>,
    /// Start (RFC 3339; widened to its window's start).
    from: DateTime<Utc>,
    /// End, exclusive (RFC 3339; widened to its window's end).
    until: DateTime<Utc>,
    /// `app`, `instance`, `version`, `team` or `costCenter`: one row per group in each window.
    group_by: Option<String>,
}

fn usage_query(q: UsageQueryParams) -> Result<UsageQuery, ApiError> {
    let granularity = match q.granularity.as_deref().unwrap_or("day") {
        "hour" => Granularity::Hour,
        "day" => Granularity::Day,
        "month" => Granularity::Month,
        other => {
            return Err(ApiError::bad_request(format!(
                "`granularity` is `{other}`; use hour, day or month"
            )))
        }
    };
    let aggregation: Aggregation = q
        .aggregation
        .as_deref()
        .unwrap_or("sum")
        .parse()
        .map_err(|e: plaza_metering::Error| ApiError::bad_request(e.to_string()))?;
    let time_zone = parse_time_zone(q.time_zone.as_deref().unwrap_or("UTC"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let tag = match q.tag {
        None => None,
        Some(t) => match t.split_once(':') {
            Some((k, v)) if !k.is_empty() => Some((k.to_owned(), v.to_owned())),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`tag` is `{t}`; write it as key:value, e.g. costCenter:cc-42"
                )))
            }
        },
    };
    let group_by = match q.group_by.as_deref() {
        None => GroupBy::Nothing,
        Some(name) => GroupBy::NAMED
            .iter()
            .copied()
            .find(|g| g.as_str() == Some(name))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`groupBy` is `{name}`; use app, instance, version, team or costCenter"
                ))
            })?,
    };
    if q.unique_of.is_some() && aggregation != Aggregation::UniqueCount {
        return Err(ApiError::bad_request(
            "`uniqueOf` goes with `aggregation=unique_count`",
        ));
    }
    Ok(UsageQuery {
        metric: q.metric,
        app_id: q.app_id,
        instance_id: q.instance_id,
        version: q.version,
        team: q.team,
        cost_center: q.cost_center,
        tag,
        granularity,
        time_zone,
        aggregation,
        unique_of: q.unique_of.map_or(UniqueOf::Value, UniqueOf::Dimension),
        from: q.from,
        until: q.until,
        group_by,
    })
}

/// Aggregates one metric of the caller's org over hour, day or month windows.
#[utoipa::path(get, path = "/api/usage/query", tag = "usage", security(("bearer" = [])), params(UsageQueryParams),
    responses((status = 200, body = UsageAnswerView), (status = 400, body = Problem),
        (status = 404, body = Problem, description = "The `team` is not a team of the org")))]
pub async fn query(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<UsageQueryParams>,
) -> Result<Json<UsageAnswerView>, ApiError> {
    let q = usage_query(q)?;
    // Every invalid part of a query is in its query string: 400, not 422.
    let answer = s
        .services
        .query_usage(&org, &q)
        .await
        .map_err(|e| match e {
            CoreError::Invalid(detail) => ApiError::bad_request(detail),
            other => other.into(),
        })?;
    Ok(Json(UsageAnswerView {
        metric: q.metric,
        aggregation: q.aggregation.as_str().to_owned(),
        granularity: q.granularity.as_str().to_owned(),
        time_zone: q.time_zone.name().to_owned(),
        group_by: q.group_by.as_str().map(str::to_owned),
        windows_from_rollups: answer.windows_from_rollups,
        windows_from_events: answer.windows_from_events,
        rows: answer.rows.into_iter().map(Into::into).collect(),
    }))
}

/// Optional app and instance filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstanceFilter {
    /// Only this app.
    app_id: Option<String>,
    /// Only this instance.
    instance_id: Option<String>,
}

/// The sequence numbers each instance is missing (between the smallest and largest seen).
#[utoipa::path(get, path = "/api/usage/gaps", tag = "usage", security(("bearer" = [])), params(InstanceFilter),
    responses((status = 200, body = Vec<InstanceGapsView>), (status = 400, body = Problem)))]
pub async fn gaps(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<InstanceFilter>,
) -> Result<Json<Vec<InstanceGapsView>>, ApiError> {
    Ok(Json(
        s.services
            .usage_gaps(&org, q.app_id.as_deref(), q.instance_id.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Marks a period of an instance as fully reported; answers whether it is complete yet.
#[utoipa::path(post, path = "/api/usage/periods", tag = "usage", security(("bearer" = [])),
    request_body = PeriodMarkRequest,
    responses((status = 201, body = PeriodStatusView), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn mark_period(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<PeriodMarkRequest>,
) -> Result<(StatusCode, Json<PeriodStatusView>), ApiError> {
    let status = s
        .services
        .mark_usage_period(
            &org,
            &p.actor(),
            &body.app_id,
            &body.instance_id,
            (body.start, body.end),
            (body.first_sequence, body.last_sequence),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(status.into())))
}

/// The org's period markers and whether each period is complete now.
#[utoipa::path(get, path = "/api/usage/periods", tag = "usage", security(("bearer" = [])), params(InstanceFilter),
    responses((status = 200, body = Vec<PeriodStatusView>), (status = 400, body = Problem)))]
pub async fn periods(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<InstanceFilter>,
) -> Result<Json<Vec<PeriodStatusView>>, ApiError> {
    Ok(Json(
        s.services
            .period_statuses(&org, q.app_id.as_deref(), q.instance_id.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Which corrections to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CorrectionQuery {
    /// Only this app.
    app_id: Option<String>,
    /// Received at or after this instant (RFC 3339; default: all).
    since: Option<DateTime<Utc>>,
}

/// Corrections by arrival, each with the period it corrects: what billing applies to periods
/// already invoiced.
#[utoipa::path(get, path = "/api/usage/corrections", tag = "usage", security(("bearer" = [])), params(CorrectionQuery),
    responses((status = 200, body = Vec<CorrectionView>), (status = 400, body = Problem)))]
pub async fn corrections(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<CorrectionQuery>,
) -> Result<Json<Vec<CorrectionView>>, ApiError> {
    let since = q.since.unwrap_or(DateTime::<Utc>::MIN_UTC);
    Ok(Json(
        s.services
            .usage_corrections(&org, q.app_id.as_deref(), since)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

async fn settings_view(s: &AppState, org: &Org) -> Result<UsageSettingsView, ApiError> {
    let (days, own) = s
        .services
        .usage_late_arrival(org, s.config.usage_late_arrival_days)
        .await?;
    Ok(UsageSettingsView {
        late_arrival_days: days,
        source: if own { "org" } else { "server" }.into(),
    })
}

/// The org's metering settings (the late-arrival window), and whether the org set them.
#[utoipa::path(get, path = "/api/orgs/{org}/usage-settings", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path)), responses((status = 200, body = UsageSettingsView)))]
pub async fn settings(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<UsageSettingsView>, ApiError> {
    Ok(Json(settings_view(&s, &org).await?))
}

/// Sets the org's late-arrival window (1–3650 days; null: the server's default). Audited.
#[utoipa::path(put, path = "/api/orgs/{org}/usage-settings", tag = "usage", security(("bearer" = [])),
    params(("org" = String, Path)), request_body = UsageSettingsRequest,
    responses((status = 200, body = UsageSettingsView)))]
pub async fn set_settings(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
    ApiJson(body): ApiJson<UsageSettingsRequest>,
) -> Result<Json<UsageSettingsView>, ApiError> {
    s.services
        .set_usage_late_arrival(&p, &org, body.late_arrival_days)
        .await?;
    Ok(Json(settings_view(&s, &org).await?))
}
