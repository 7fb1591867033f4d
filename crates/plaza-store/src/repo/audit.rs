//! [`AuditRepo`] on SQL: standalone appends, filtered reads, and reading the whole chain with
//! its head from one snapshot.

use crate::chain::{self, record_from_row, RECORD_COLUMNS};
use crate::db::{backend_err, millis};
use crate::store::{finish, SqlStore};
use plaza_core::audit::{AuditEntry, AuditFilter, AuditRecord, ChainHead};
use plaza_core::ports::{AuditRepo, StoreResult};

/// The most records one [`AuditRepo::list_audit`] call returns (also the default).
pub const MAX_AUDIT_PAGE: i64 = 1000;

/// A bound value of a filter condition.
enum Arg {
    Text(String),
    Int(i64),
}

/// The `WHERE ... ORDER BY ... LIMIT` SQL and its arguments for `filter`.
fn filter_sql(filter: &AuditFilter) -> (String, Vec<Arg>) {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let mut push = |cond: &str, arg: Arg| {
        args.push(arg);
        conds.push(cond.replace('?', &format!("${}", args.len())));
    };
    if let Some(org) = &filter.org_id {
        push("org_id = ?", Arg::Text(org.as_str().to_owned()));
    }
    if let Some(actor) = &filter.actor {
        push("actor = ?", Arg::Text(actor.clone()));
    }
    if let Some(prefix) = &filter.action_prefix {
        // substr/length count characters on both backends; no LIKE, whose wildcards and
        // case rules differ.
        push(
            &format!("substr(action, 1, {}) = ?", prefix.chars().count()),
            Arg::Text(prefix.clone()),
        );
    }
    if let Some(target) = &filter.target {
        push("target = ?", Arg::Text(target.clone()));
    }
    if let Some(since) = filter.since {
        push("at >= ?", Arg::Int(millis(since)));
    }
    if let Some(until) = filter.until {
        push("at < ?", Arg::Int(millis(until)));
    }
    if let Some(after) = filter.after_seq {
        push("seq > ?", Arg::Int(after));
    }
    let limit = filter
        .limit
        .unwrap_or(MAX_AUDIT_PAGE)
        .clamp(0, MAX_AUDIT_PAGE);
    args.push(Arg::Int(limit));
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (
        format!("{where_sql} ORDER BY seq LIMIT ${}", args.len()),
        args,
    )
}

#[async_trait::async_trait]
impl AuditRepo for SqlStore {
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let result = chain::append(&mut tx, entry).await;
        finish(tx, result).await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let (tail, args) = filter_sql(filter);
        let sql = format!("SELECT {RECORD_COLUMNS} FROM audit_log{tail}");
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = match arg {
                Arg::Text(t) => query.bind(t),
                Arg::Int(i) => query.bind(i),
            };
        }
        query
            .fetch_all(self.pool())
            .await
            .map_err(backend_err)?
            .iter()
            .map(record_from_row)
            .collect()
    }

    async fn read_chain(&self) -> StoreResult<(Vec<AuditRecord>, ChainHead)> {
        let mut tx = self.snapshot_tx().await?;
        let result = async {
            let head = chain::head(&mut tx).await?;
            let records = sqlx::query(&format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log ORDER BY seq"
            ))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend_err)?
            .iter()
            .map(record_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
            Ok((records, head))
        }
        .await;
        finish(tx, result).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn an_empty_filter_only_limits() {
        let (sql, args) = filter_sql(&AuditFilter::default());
        assert_eq!(sql, " ORDER BY seq LIMIT $1");
        assert!(matches!(args[..], [Arg::Int(MAX_AUDIT_PAGE)]));
    }

    #[test]
    fn every_field_narrows_with_numbered_parameters() {
        let filter = AuditFilter {
            org_id: Some("org_a".into()),
            actor: Some("user:u".into()),
            action_prefix: Some("token.".into()),
            target: Some("token:t".into()),
            since: Some(Utc.timestamp_millis_opt(1).unwrap()),
            until: Some(Utc.timestamp_millis_opt(2).unwrap()),
            after_seq: Some(3),
            limit: Some(1_000_000),
        };
        let (sql, args) = filter_sql(&filter);
        assert_eq!(
            sql,
            " WHERE org_id = $1 AND actor = $2 AND substr(action, 1, 6) = $3 AND target = $4 \
             AND at >= $5 AND at < $6 AND seq > $7 ORDER BY seq LIMIT $8"
        );
        assert!(matches!(args.last(), Some(Arg::Int(MAX_AUDIT_PAGE))));
    }
}
