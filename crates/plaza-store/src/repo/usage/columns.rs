//! The `usage_events` row as the store writes and reads it: one column list, one multi-row
//! `INSERT … ON CONFLICT DO NOTHING RETURNING` builder, and the row → [`ValidatedEvent`] decoder.

use crate::db::{millis, Cols};
use crate::store::Backend;
use plaza_core::ports::StoreResult;
use plaza_core::usage::UNKNOWN_VERSION;
use plaza_core::StoreError;
use plaza_metering::{Decimal, EventKind, ValidatedEvent};
use sqlx::any::AnyRow;
use std::fmt::Write as _;

/// The columns of `usage_events`, in insert and read order.
pub(super) const EVENT_COLUMNS: &str = "org_id, app_id, event_id, instance_id, metric, value, \
     unit, original_value, original_unit, occurred_at, sequence, kind, correction_of, tags, \
     dimensions, content_hash, received_at, app_version";

/// Bound parameters per event row.
const PARAMS_PER_ROW: usize = 18;

/// Rows per insert statement: 18 parameters each stays well under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameter limits.
pub(super) const ROWS_PER_INSERT: usize = 500;

/// `kind` as stored.
pub(super) fn kind_text(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Usage => "usage",
        EventKind::Void => "void",
        EventKind::Adjust => "adjust",
    }
}

fn kind_from_text(text: &str) -> Option<EventKind> {
    match text {
        "usage" => Some(EventKind::Usage),
        "void" => Some(EventKind::Void),
        "adjust" => Some(EventKind::Adjust),
        _ => None,
    }
}

/// JSON text of a value (maps of tags and dimensions, problems).
pub(super) fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding JSON: {e}")))
}

/// `INSERT INTO usage_events (…) VALUES (…), … ON CONFLICT DO NOTHING` for `rows` rows,
/// with `RETURNING app_id, event_id` when `returning`.
pub(super) fn insert_sql(rows: usize, backend: Backend, returning: bool) -> String {
    let mut sql = format!("INSERT INTO usage_events ({EVENT_COLUMNS}) VALUES ");
    for r in 0..rows {
        let sep = if r == 0 { "" } else { ", " };
        let row = placeholders(backend, r * PARAMS_PER_ROW + 1, PARAMS_PER_ROW);
        // Writing to a String cannot fail.
        let _ = write!(sql, "{sep}({row})");
    }
    sql.push_str(" ON CONFLICT (org_id, app_id, event_id) DO NOTHING");
    if returning {
        sql.push_str(" RETURNING app_id, event_id");
    }
    sql
}

/// `count` parameter placeholders numbered from `first` (1-based), comma-separated: `?` on
/// SQLite (sqlx binds anonymous parameters by position, but looks numbered ones up by name at a
/// cost quadratic in their number), `$n` on PostgreSQL.
pub(super) fn placeholders(backend: Backend, first: usize, count: usize) -> String {
    let mut out = String::new();
    for n in first..first + count {
        if n > first {
            out.push_str(", ");
        }
        match backend {
            Backend::Sqlite => out.push('?'),
            // Writing to a String cannot fail.
            Backend::Postgres => {
                let _ = write!(out, "${n}");
            }
        }
    }
    out
}

/// Binds one event's row to an insert statement made by [`insert_sql`].
pub(super) fn bind_event<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    org: &str,
    e: &ValidatedEvent,
    received_at: i64,
) -> StoreResult<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>> {
    let sequence = e
        .sequence
        .map(i64::try_from)
        .transpose()
        .map_err(|_| StoreError::Backend("a sequence number beyond 2^63".into()))?;
    Ok(query
        .bind(org.to_owned())
        .bind(e.app_id.clone())
        .bind(e.event_id.clone())
        .bind(e.instance_id.clone())
        .bind(e.metric.clone())
        .bind(e.value.to_string())
        .bind(e.unit.clone())
        .bind(e.original_value.to_string())
        .bind(e.original_unit.clone())
        .bind(millis(e.timestamp))
        .bind(sequence)
        .bind(kind_text(e.kind))
        .bind(e.correction_ref.clone())
        .bind(json_text(&e.tags)?)
        .bind(json_text(&e.dimensions)?)
        .bind(e.content_hash.clone())
        .bind(received_at)
        .bind(
            e.app_version
                .clone()
                .unwrap_or_else(|| UNKNOWN_VERSION.to_owned()),
        ))
}

/// A decimal stored as text.
pub(super) fn decimal(c: &Cols<'_>, col: &str) -> StoreResult<Decimal> {
    let text: String = c.get(col)?;
    text.parse()
        .map_err(|e| c.corrupt(format!("column `{col}`: `{text}` is not a decimal: {e}")))
}

/// An optional decimal stored as text.
pub(super) fn opt_decimal(c: &Cols<'_>, col: &str) -> StoreResult<Option<Decimal>> {
    let text: Option<String> = c.get(col)?;
    text.map(|t| {
        t.parse()
            .map_err(|e| c.corrupt(format!("column `{col}`: `{t}` is not a decimal: {e}")))
    })
    .transpose()
}

/// Decodes a `usage_events` row read with [`EVENT_COLUMNS`].
pub(super) fn event_from_row(row: &AnyRow) -> StoreResult<ValidatedEvent> {
    let c = Cols::of(row, "usage event");
    let kind: String = c.get("kind")?;
    let sequence: Option<i64> = c.get("sequence")?;
    let tags: String = c.get("tags")?;
    let dimensions: String = c.get("dimensions")?;
    Ok(ValidatedEvent {
        app_id: c.get("app_id")?,
        instance_id: c.get("instance_id")?,
        event_id: c.get("event_id")?,
        metric: c.get("metric")?,
        value: decimal(&c, "value")?,
        unit: c.get("unit")?,
        original_value: decimal(&c, "original_value")?,
        original_unit: c.get("original_unit")?,
        timestamp: c.instant("occurred_at")?,
        sequence: sequence
            .map(u64::try_from)
            .transpose()
            .map_err(|_| c.corrupt("a negative sequence number".into()))?,
        tags: serde_json::from_str(&tags).map_err(|e| c.corrupt(format!("tags: {e}")))?,
        dimensions: serde_json::from_str(&dimensions)
            .map_err(|e| c.corrupt(format!("dimensions: {e}")))?,
        kind: kind_from_text(&kind).ok_or_else(|| c.corrupt(format!("kind `{kind}`")))?,
        correction_ref: c.get("correction_of")?,
        content_hash: c.get("content_hash")?,
        app_version: Some(c.get::<String>("app_version")?).filter(|v| v != UNKNOWN_VERSION),
    })
}
