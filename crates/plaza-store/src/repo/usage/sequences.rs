//! The sequence numbers each instance has reported, kept as ranges in `usage_sequences` and
//! merged inside the ingest transaction (upsert to create or lock the row, merge with
//! `plaza_metering::SequenceTracker`, write back), in key order like the rollups.

use crate::db::{backend_err, write_err, Cols};
use crate::store::Tx;
use plaza_core::ports::StoreResult;
use plaza_metering::SequenceTracker;
use std::collections::BTreeMap;

/// Sequence numbers counted in a batch, by (app, instance).
#[derive(Debug, Default)]
pub(super) struct SequenceUpdates {
    seen: BTreeMap<(String, String), Vec<u64>>,
}

/// Decodes the stored ranges.
pub(super) fn tracker_from_text(c: &Cols<'_>, text: &str) -> StoreResult<SequenceTracker> {
    serde_json::from_str::<SequenceTracker>(text)
        .map_err(|e| c.corrupt(format!("sequence ranges `{text}`: {e}")))
}

impl SequenceUpdates {
    /// Notes `sequence` for the instance.
    pub(super) fn add(&mut self, app_id: &str, instance_id: &str, sequence: u64) {
        self.seen
            .entry((app_id.to_owned(), instance_id.to_owned()))
            .or_default()
            .push(sequence);
    }

    /// Merges the numbers into `usage_sequences`.
    pub(super) async fn apply(self, tx: &mut Tx, org: &str, at: i64) -> StoreResult<()> {
        for ((app, instance), numbers) in self.seen {
            let row = sqlx::query(
                "INSERT INTO usage_sequences (org_id, app_id, instance_id, ranges, updated_at) \
                 VALUES ($1, $2, $3, '[]', $4) ON CONFLICT (org_id, app_id, instance_id) \
                 DO UPDATE SET updated_at = usage_sequences.updated_at RETURNING ranges",
            )
            .bind(org)
            .bind(&app)
            .bind(&instance)
            .bind(at)
            .fetch_one(&mut **tx)
            .await
            .map_err(backend_err)?;
            let c = Cols::of(&row, "usage sequences");
            let text: String = c.get("ranges")?;
            let mut tracker = tracker_from_text(&c, &text)?;
            for n in numbers {
                tracker.insert(n);
            }
            let ranges = serde_json::to_string(&tracker)
                .map_err(|e| plaza_core::StoreError::Backend(format!("encoding ranges: {e}")))?;
            sqlx::query(
                "UPDATE usage_sequences SET ranges = $1, updated_at = $2 \
                 WHERE org_id = $3 AND app_id = $4 AND instance_id = $5",
            )
            .bind(ranges)
            .bind(at)
            .bind(org)
            .bind(&app)
            .bind(&instance)
            .execute(&mut **tx)
            .await
            .map_err(write_err("usage sequences"))?;
        }
        Ok(())
    }
}
