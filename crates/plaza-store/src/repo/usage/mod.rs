//! [`UsageRepo`] on SQL. Accepted events are keyed by (org, app, event id), so the primary key
//! is the permanent dedup; rollups per 15-minute bucket and each instance's sequence ranges are
//! updated in the same transaction as the events that change them. Values are exact decimals
//! kept as TEXT and added in Rust with `rust_decimal`, never as floating point. Plain usage
//! events take no audit record (the events table is itself the record of what was counted);
//! corrections and period markers are audited.

mod columns;
mod dead_letters;
mod periods;
mod read;
mod record;
mod rollup;
mod sequences;
mod settings;

use crate::store::{finish, SqlStore};
use chrono::{DateTime, Utc};
use plaza_core::audit::AuditEntry;
use plaza_core::ids::OrgId;
use plaza_core::ports::{StoreResult, UsageRepo};
use plaza_core::usage::{
    DeadLetter, InstanceSequences, PeriodMarker, RollupBucket, StoredCorrection, StoredOutcome,
    UsageScope,
};
use plaza_core::StoreError;
use plaza_metering::{resolve_corrections, Decimal, ValidatedEvent};

#[async_trait::async_trait]
impl UsageRepo for SqlStore {
    async fn record_usage(
        &self,
        org: &OrgId,
        events: &[ValidatedEvent],
        received_at: DateTime<Utc>,
        actor: &str,
    ) -> StoreResult<Vec<StoredOutcome>> {
        let _turn = self.usage_write_turn().await;
        let mut tx = self.write_tx().await?;
        let result = record::record(
            self.backend_kind(),
            &mut tx,
            org,
            events,
            received_at,
            actor,
        )
        .await;
        finish(tx, result).await
    }

    async fn add_dead_letters(&self, letters: &[DeadLetter]) -> StoreResult<()> {
        dead_letters::add(self, letters).await
    }

    async fn list_dead_letters(
        &self,
        org: &OrgId,
        limit: u32,
        include_replayed: bool,
    ) -> StoreResult<Vec<DeadLetter>> {
        dead_letters::list(self, org, limit, include_replayed).await
    }

    async fn get_dead_letter(&self, org: &OrgId, id: &str) -> StoreResult<DeadLetter> {
        dead_letters::get(self, org, id).await
    }

    async fn mark_dead_letter_replayed(
        &self,
        org: &OrgId,
        id: &str,
        at: DateTime<Utc>,
        status: &str,
    ) -> StoreResult<()> {
        dead_letters::mark_replayed(self, org, id, at, status).await
    }

    async fn usage_total(
        &self,
        org: &OrgId,
        app_id: &str,
        metric: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<(String, u64)> {
        let scope = UsageScope {
            metric: metric.to_owned(),
            app_id: Some(app_id.to_owned()),
            from,
            until,
            ..UsageScope::default()
        };
        let events = read::usage_events(self, org, &scope).await?;
        let resolved = resolve_corrections(&events)
            .map_err(|e| StoreError::Backend(format!("applying corrections: {e}")))?;
        let mut total = Decimal::ZERO;
        for e in &resolved.effective {
            total = total
                .checked_add(e.value)
                .ok_or_else(|| StoreError::Backend("usage total overflows".into()))?;
        }
        Ok((
            total.normalize().to_string(),
            resolved.effective.len() as u64,
        ))
    }

    async fn rollup_buckets(
        &self,
        org: &OrgId,
        scope: &UsageScope,
    ) -> StoreResult<Vec<RollupBucket>> {
        read::rollup_buckets(self, org, scope).await
    }

    async fn usage_events(
        &self,
        org: &OrgId,
        scope: &UsageScope,
    ) -> StoreResult<Vec<ValidatedEvent>> {
        read::usage_events(self, org, scope).await
    }

    async fn instance_sequences(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> StoreResult<Vec<InstanceSequences>> {
        read::instance_sequences(self, org, app_id, instance_id).await
    }

    async fn put_period_marker(
        &self,
        org: &OrgId,
        marker: &PeriodMarker,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        periods::put(self, org, marker, audit).await
    }

    async fn list_period_markers(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> StoreResult<Vec<PeriodMarker>> {
        periods::list(self, org, app_id, instance_id).await
    }

    async fn usage_late_arrival_days(&self, org: &OrgId) -> StoreResult<Option<u32>> {
        settings::late_arrival_days(self, org).await
    }

    async fn set_usage_late_arrival_days(
        &self,
        org: &OrgId,
        days: Option<u32>,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        settings::set_late_arrival_days(self, org, days, audit).await
    }

    async fn list_corrections(
        &self,
        org: &OrgId,
        app_id: Option<&str>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<StoredCorrection>> {
        read::corrections(self, org, app_id, since).await
    }
}
