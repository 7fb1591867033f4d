//! Sequence gaps per instance, and period-complete markers: an instance (or its publisher)
//! says which sequence numbers a period holds; the period is complete once every one of them
//! has been counted. Out-of-order arrival is fine: completeness is read, not frozen.

use crate::audit::AuditEntry;
use crate::error::CoreError;
use crate::identity::Org;
use crate::service::Services;
use crate::usage::PeriodMarker;
use chrono::{DateTime, Utc};
use plaza_metering::SequenceTracker;

/// The gaps of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceGaps {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The smallest sequence number seen.
    pub first: u64,
    /// The largest seen.
    pub last: u64,
    /// How many distinct numbers were seen.
    pub seen: u128,
    /// The missing numbers between `first` and `last`, as inclusive ranges.
    pub missing: Vec<(u64, u64)>,
    /// How many numbers are missing.
    pub missing_count: u128,
}

/// A period marker and whether its period is complete now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodStatus {
    /// The marker.
    pub marker: PeriodMarker,
    /// Whether every sequence number of the period was counted.
    pub complete: bool,
    /// The numbers of the period still missing, as inclusive ranges.
    pub missing: Vec<(u64, u64)>,
}

/// The numbers of `first..=last` that `seen` lacks, as inclusive ranges.
pub fn missing_between(seen: &SequenceTracker, first: u64, last: u64) -> Vec<(u64, u64)> {
    let mut missing = Vec::new();
    let mut next = first;
    for r in seen.ranges() {
        if next > last {
            break;
        }
        let (s, e) = (*r.start(), *r.end());
        if e < next {
            continue;
        }
        if s > next {
            missing.push((next, (s - 1).min(last)));
        }
        match e.checked_add(1) {
            Some(n) => next = next.max(n),
            None => return missing,
        }
    }
    if next <= last {
        missing.push((next, last));
    }
    missing
}

impl Services {
    /// The sequence gaps of the org's instances (optionally of one app and instance).
    pub async fn usage_gaps(
        &self,
        org: &Org,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> Result<Vec<InstanceGaps>, CoreError> {
        Ok(self
            .store
            .instance_sequences(&org.id, app_id, instance_id)
            .await?
            .into_iter()
            .filter_map(|s| {
                let (first, last) = (s.seen.first()?, s.seen.last()?);
                Some(InstanceGaps {
                    missing: s
                        .seen
                        .gaps()
                        .into_iter()
                        .map(|g| (*g.start(), *g.end()))
                        .collect(),
                    missing_count: s.seen.missing_count(),
                    seen: s.seen.seen_count(),
                    app_id: s.app_id,
                    instance_id: s.instance_id,
                    first,
                    last,
                })
            })
            .collect())
    }

    /// Marks a period of an instance as fully reported, and says whether it is complete.
    #[allow(clippy::too_many_arguments)]
    pub async fn mark_usage_period(
        &self,
        org: &Org,
        actor: &str,
        app_id: &str,
        instance_id: &str,
        (period_start, period_end): (DateTime<Utc>, DateTime<Utc>),
        (first_sequence, last_sequence): (u64, u64),
    ) -> Result<PeriodStatus, CoreError> {
        if period_start >= period_end {
            return Err(CoreError::Invalid(
                "the period's `start` must be before its `end`".into(),
            ));
        }
        if first_sequence > last_sequence {
            return Err(CoreError::Invalid(format!(
                "`firstSequence` ({first_sequence}) is after `lastSequence` ({last_sequence})"
            )));
        }
        if self
            .store
            .latest_app_version(&org.id, app_id)
            .await?
            .is_none()
        {
            return Err(CoreError::Invalid(format!(
                "the app `{app_id}` is not registered by your org"
            )));
        }
        let marker = PeriodMarker {
            app_id: app_id.to_owned(),
            instance_id: instance_id.to_owned(),
            period_start,
            period_end,
            first_sequence,
            last_sequence,
            marked_by: actor.to_owned(),
            marked_at: self.now(),
        };
        let audit = AuditEntry::new(
            marker.marked_at,
            Some(org.id.clone()),
            actor,
            "usage.period.mark",
            format!("usage-instance:{app_id}/{instance_id}"),
            serde_json::json!({
                "periodStart": period_start.to_rfc3339(),
                "periodEnd": period_end.to_rfc3339(),
                "firstSequence": first_sequence,
                "lastSequence": last_sequence,
            }),
        );
        self.store
            .put_period_marker(&org.id, &marker, &audit)
            .await?;
        Ok(self
            .period_statuses(org, Some(app_id), Some(instance_id))
            .await?
            .into_iter()
            .find(|p| p.marker.period_start == period_start)
            .unwrap_or(PeriodStatus {
                missing: vec![(first_sequence, last_sequence)],
                complete: false,
                marker,
            }))
    }

    /// The org's period markers with their completeness now.
    pub async fn period_statuses(
        &self,
        org: &Org,
        app_id: Option<&str>,
        instance_id: Option<&str>,
    ) -> Result<Vec<PeriodStatus>, CoreError> {
        let markers = self
            .store
            .list_period_markers(&org.id, app_id, instance_id)
            .await?;
        let sequences = self
            .store
            .instance_sequences(&org.id, app_id, instance_id)
            .await?;
        let empty = SequenceTracker::new();
        Ok(markers
            .into_iter()
            .map(|marker| {
                let seen = sequences
                    .iter()
                    .find(|s| s.app_id == marker.app_id && s.instance_id == marker.instance_id)
                    .map_or(&empty, |s| &s.seen);
                let missing = missing_between(seen, marker.first_sequence, marker.last_sequence);
                PeriodStatus {
                    complete: missing.is_empty(),
                    missing,
                    marker,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ranges: &[(u64, u64)]) -> SequenceTracker {
        SequenceTracker::from_ranges(ranges.iter().map(|(a, b)| *a..=*b)).unwrap()
    }

    #[test]
    fn missing_between_lists_what_the_period_lacks() {
        let s = seen(&[(1, 3), (6, 8), (12, 12)]);
        assert_eq!(missing_between(&s, 1, 12), vec![(4, 5), (9, 11)]);
        assert_eq!(missing_between(&s, 2, 7), vec![(4, 5)]);
        assert_eq!(missing_between(&s, 1, 3), vec![]);
        assert_eq!(
            missing_between(&s, 0, 15),
            vec![(0, 0), (4, 5), (9, 11), (13, 15)]
        );
        assert_eq!(missing_between(&SequenceTracker::new(), 5, 6), vec![(5, 6)]);
        assert_eq!(missing_between(&seen(&[(0, u64::MAX)]), 7, 9), vec![]);
    }
}
