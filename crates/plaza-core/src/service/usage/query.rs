//! Aggregation queries: one metric over hour, day or month windows in UTC or an IANA time
//! zone, optionally per app or per instance, with `sum`, `count`, `max`, `unique_count` or
//! `latest`; and the corrections feed billing reads to correct invoiced periods.
//!
//! Windows come from `plaza_metering::window_start`; `from` and `until` are widened to whole
//! windows. A window is answered from the rollups (15-minute buckets) when its bounds fall on
//! bucket boundaries, which they do in every zone whose offset is a whole number of quarter
//! hours. The raw events (with their corrections, through the reference
//! `plaza_metering::aggregate` logic) answer instead: `unique_count`, tag filters, windows not
//! made of whole buckets, and `max` or `latest` over buckets a correction touched.

use crate::error::CoreError;
use crate::identity::Org;
use crate::service::Services;
use crate::usage::{is_bucket_boundary, LatestValue, RollupBucket, StoredCorrection, UsageScope};
use chrono::{DateTime, Utc};
use plaza_metering::number::add_exact;
use plaza_metering::{
    next_window_start, resolve_corrections, window_start, Accumulator, Aggregation, Decimal,
    Granularity, Tz, UniqueOf, ValidatedEvent,
};
use std::collections::{BTreeMap, BTreeSet};

/// The most windows one query may span.
pub const MAX_QUERY_WINDOWS: usize = 10_000;

/// How rows are split inside a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// One row per window.
    #[default]
    Nothing,
    /// One row per app.
    App,
    /// One row per instance.
    Instance,
}

/// What to aggregate.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    /// The metric.
    pub metric: String,
    /// Only this app.
    pub app_id: Option<String>,
    /// Only this instance.
    pub instance_id: Option<String>,
    /// Only events carrying this tag (key, value).
    pub tag: Option<(String, String)>,
    /// Window size.
    pub granularity: Granularity,
    /// The zone whose calendar the windows follow.
    pub time_zone: Tz,
    /// How each window's events combine.
    pub aggregation: Aggregation,
    /// What `unique_count` counts.
    pub unique_of: UniqueOf,
    /// Start (widened to its window's start).
    pub from: DateTime<Utc>,
    /// End, exclusive (widened to its window's end).
    pub until: DateTime<Utc>,
    /// Row split.
    pub group_by: GroupBy,
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// The window's start.
    pub start: DateTime<Utc>,
    /// The window's end (exclusive).
    pub end: DateTime<Utc>,
    /// The app or instance of the row, when grouped.
    pub group: Option<String>,
    /// The aggregate (in the metric's declared unit for sum, max and latest).
    pub value: Decimal,
    /// How many events count in it.
    pub events: u64,
}

/// The answer to a [`UsageQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageAnswer {
    /// Rows with at least one event, by window then group.
    pub rows: Vec<UsageRow>,
    /// Windows answered from rollups.
    pub windows_from_rollups: usize,
    /// Windows answered from raw events.
    pub windows_from_events: usize,
}

/// Partial aggregate of buckets.
#[derive(Debug, Default)]
struct Partial {
    sum: Decimal,
    count: u64,
    max: Option<Decimal>,
    latest: Option<LatestValue>,
}

impl Partial {
    fn add(&mut self, b: &RollupBucket) -> Result<(), CoreError> {
        self.sum = add_exact(self.sum, b.sum).ok_or_else(|| {
            CoreError::Invalid(format!(
                "the sum of `{}` leaves the exact decimal range; query a shorter period",
                b.metric
            ))
        })?;
        self.count += b.count;
        if let Some(m) = b.max {
            self.max = Some(self.max.map_or(m, |x| x.max(m)));
        }
        if let Some(l) = &b.latest {
            let newer = self
                .latest
                .as_ref()
                .is_none_or(|x| (l.at, &l.event_id) > (x.at, &x.event_id));
            if newer {
                self.latest = Some(l.clone());
            }
        }
        Ok(())
    }

    fn value(&self, aggregation: Aggregation) -> Option<Decimal> {
        match aggregation {
            Aggregation::Sum => Some(self.sum),
            Aggregation::Count => Some(Decimal::from(self.count)),
            Aggregation::Max => self.max,
            Aggregation::Latest => self.latest.as_ref().map(|l| l.value),
            Aggregation::UniqueCount => None,
        }
    }
}

/// A window: `[start, end)`.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The windows covering `[from, until)`.
fn windows(q: &UsageQuery) -> Result<Vec<Window>, CoreError> {
    if q.from >= q.until {
        return Err(CoreError::Invalid(
            "`from` must be before `until`".to_string(),
        ));
    }
    let mut out = Vec::new();
    let mut start = window_start(q.from, q.granularity, q.time_zone)?;
    while start < q.until {
        let end = next_window_start(start, q.granularity, q.time_zone)?;
        out.push((start, end));
        if out.len() > MAX_QUERY_WINDOWS {
            return Err(CoreError::Invalid(format!(
                "the query spans more than {MAX_QUERY_WINDOWS} {} windows; use a coarser granularity or a shorter period",
                q.granularity.as_str()
            )));
        }
        start = end;
    }
    Ok(out)
}

/// The window holding `at`, by binary search.
fn window_of(windows: &[Window], at: DateTime<Utc>) -> Option<usize> {
    let i = windows.partition_point(|(s, _)| *s <= at);
    (i > 0 && at < windows[i - 1].1).then(|| i - 1)
}

fn group_of(q: &UsageQuery, app_id: &str, instance_id: &str) -> Option<String> {
    match q.group_by {
        GroupBy::Nothing => None,
        GroupBy::App => Some(app_id.to_owned()),
        GroupBy::Instance => Some(instance_id.to_owned()),
    }
}

impl Services {
    /// Answers a usage query for `org`.
    pub async fn query_usage(&self, org: &Org, q: &UsageQuery) -> Result<UsageAnswer, CoreError> {
        let windows = windows(q)?;
        let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
            return Ok(UsageAnswer {
                rows: Vec::new(),
                windows_from_rollups: 0,
                windows_from_events: 0,
            });
        };
        let scope = |from, until| UsageScope {
            metric: q.metric.clone(),
            app_id: q.app_id.clone(),
            instance_id: q.instance_id.clone(),
            from,
            until,
            ..UsageScope::default()
        };
        let all_raw = q.aggregation == Aggregation::UniqueCount || q.tag.is_some();
        let mut raw_windows: BTreeSet<usize> = BTreeSet::new();
        let mut partials: BTreeMap<(usize, Option<String>), Partial> = BTreeMap::new();
        if all_raw {
            raw_windows.extend(0..windows.len());
        } else {
            for (i, (s, e)) in windows.iter().enumerate() {
                if !is_bucket_boundary(*s) || !is_bucket_boundary(*e) {
                    raw_windows.insert(i);
                }
            }
            let needs_exact_extremes =
                matches!(q.aggregation, Aggregation::Max | Aggregation::Latest);
            let buckets = self
                .store
                .rollup_buckets(&org.id, &scope(first.0, last.1))
                .await?;
            for b in &buckets {
                let Some(w) = window_of(&windows, b.bucket) else {
                    continue;
                };
                if raw_windows.contains(&w) {
                    continue;
                }
                if b.corrected && needs_exact_extremes {
                    raw_windows.insert(w);
                    partials.retain(|(pw, _), _| *pw != w);
                    continue;
                }
                partials
                    .entry((w, group_of(q, &b.app_id, &b.instance_id)))
                    .or_default()
                    .add(b)?;
            }
        }

        let mut rows: BTreeMap<(usize, Option<String>), (Decimal, u64)> = BTreeMap::new();
        for ((w, group), p) in &partials {
            if p.count == 0 {
                continue;
            }
            if let Some(v) = p.value(q.aggregation) {
                rows.insert((*w, group.clone()), (v, p.count));
            }
        }
        // Raw windows, read in contiguous runs.
        let runs = contiguous_runs(&raw_windows);
        for (a, b) in &runs {
            let events = self
                .store
                .usage_events(&org.id, &scope(windows[*a].0, windows[*b].1))
                .await?;
            self.fold_raw(q, &windows, events, &mut rows)?;
        }
        Ok(UsageAnswer {
            rows: rows
                .into_iter()
                .map(|((w, group), (value, events))| UsageRow {
                    start: windows[w].0,
                    end: windows[w].1,
                    group,
                    value: plaza_metering::number::canonical(value),
                    events,
                })
                .collect(),
            windows_from_rollups: windows.len() - raw_windows.len(),
            windows_from_events: raw_windows.len(),
        })
    }

    /// The corrections received at or after `since`, with the period each corrects.
    pub async fn usage_corrections(
        &self,
        org: &Org,
        app_id: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<StoredCorrection>, CoreError> {
        Ok(self.store.list_corrections(&org.id, app_id, since).await?)
    }

    /// Folds raw events (corrections applied) into rows.
    fn fold_raw(
        &self,
        q: &UsageQuery,
        windows: &[Window],
        events: Vec<ValidatedEvent>,
        rows: &mut BTreeMap<(usize, Option<String>), (Decimal, u64)>,
    ) -> Result<(), CoreError> {
        let resolved = resolve_corrections(&events)?;
        let mut accumulators: BTreeMap<(usize, Option<String>), Accumulator> = BTreeMap::new();
        for e in &resolved.effective {
            if let Some((k, v)) = &q.tag {
                if e.tags.get(k) != Some(v) {
                    continue;
                }
            }
            let Some(w) = window_of(windows, e.timestamp) else {
                continue;
            };
            accumulators
                .entry((w, group_of(q, &e.app_id, &e.instance_id)))
                .or_insert_with(|| match &q.unique_of {
                    UniqueOf::Dimension(d) if q.aggregation == Aggregation::UniqueCount => {
                        Accumulator::unique_count_of(d.clone())
                    }
                    _ => Accumulator::new(q.aggregation),
                })
                .add(e)?;
        }
        for (key, acc) in accumulators {
            if let Some(v) = acc.value() {
                rows.insert(key, (v, acc.count()));
            }
        }
        Ok(())
    }
}

/// Sorted indices as inclusive runs of consecutive numbers.
fn contiguous_runs(indices: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => runs.push((i, i)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_consecutive_indices() {
        let set: BTreeSet<usize> = [0, 1, 2, 5, 7, 8].into_iter().collect();
        assert_eq!(contiguous_runs(&set), vec![(0, 2), (5, 5), (7, 8)]);
        assert!(contiguous_runs(&BTreeSet::new()).is_empty());
    }

    #[test]
    fn window_of_finds_the_half_open_window() {
        let t = |h: i64| DateTime::from_timestamp(h * 3600, 0).unwrap();
        let w = vec![(t(0), t(1)), (t(1), t(2))];
        assert_eq!(window_of(&w, t(0)), Some(0));
        assert_eq!(window_of(&w, t(1)), Some(1));
        assert_eq!(window_of(&w, t(2)), None);
    }
}
