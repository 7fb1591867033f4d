//! Reading and verifying the audit log.

use crate::api::{AuditRecordView, AuditVerifyView};
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditFilter;
use plaza_core::identity::Org;
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters of `GET /api/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this actor (`user:<id>`, `system:bootstrap`, ...).
    pub actor: Option<String>,
    /// Only actions starting with this (`token.`, `team.create`).
    pub action: Option<String>,
    /// Only this target (`team:<id>`).
    pub target: Option<String>,
    /// At or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Only records after this sequence number (paging).
    pub after: Option<i64>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The org's audit records, oldest first.
#[utoipa::path(get, path = "/api/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery), responses((status = 200, body = Vec<AuditRecordView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditRecordView>>, ApiError> {
    let filter = AuditFilter {
        org_id: Some(org.id),
        actor: q.actor,
        action_prefix: q.action,
        target: q.target,
        since: q.since,
        until: q.until,
        after_seq: q.after,
        limit: q.limit,
    };
    let records = s.services.audit_records(filter).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

/// Verifies the whole hash chain; reports the caller's org's share of it.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit", security(("bearer" = [])), responses((status = 200, body = AuditVerifyView), (status = 403, body = Problem)))]
pub async fn verify(
    State(s): State<AppState>,
    Extension(org): Extension<Org>,
) -> Result<Json<AuditVerifyView>, ApiError> {
    let r = s.services.verify_audit_chain_for(&org.id).await?;
    Ok(Json(AuditVerifyView {
        intact: r.intact,
        records: Some(r.org_records),
        head_hash: r.head_hash,
        broken_at: r.broken_at,
        reason: r.reason,
    }))
}
