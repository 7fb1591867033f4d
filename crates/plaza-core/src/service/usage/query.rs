//! Aggregation queries: one metric over hour, day or month windows in UTC or an IANA time
//! zone, optionally per app, instance, app version, team or cost center, with `sum`, `count`,
//! `max`, `unique_count` or `latest`; and the corrections feed billing reads to correct
//! invoiced periods.
//!
//! The version is the one recorded with each event at ingest (rollups are kept per version).
//! Team and cost center are resolved when the query runs, from the org's instances (uninstalled
//! ones included): a team filter or grouping follows the team each instance was installed for,
//! a cost center the instance's *current* `cost-center` tag, so re-tagging an instance
//! re-attributes its past usage. Both become a set of instance ids the store filters by, on
//! the rollups and on the raw events alike.
//!
//! Windows come from `plaza_metering::window_start`; `from` and `until` are widened to whole
//! windows. A window is answered from the rollups (15-minute buckets) when its bounds fall on
//! bucket boundaries, which they do in every zone whose offset is a whole number of quarter
//! hours. The raw events (with their corrections, through the reference
//! `plaza_metering::aggregate` logic) answer instead: `unique_count`, tag filters, windows not
//! made of whole buckets, and `max` or `latest` over buckets a correction touched.

use crate::error::CoreError;
use crate::identity::Org;
use crate::install::cost_center;
use crate::ports::InstanceFilter;
use crate::service::Services;
use crate::usage::{
    is_bucket_boundary, LatestValue, RollupBucket, StoredCorrection, UsageScope, UNKNOWN_VERSION,
};
use chrono::{DateTime, Utc};
use plaza_metering::number::add_exact;
use plaza_metering::{
    next_window_start, resolve_corrections, window_start, Accumulator, Aggregation, Decimal,
    Granularity, Tz, UniqueOf, ValidatedEvent,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// One row per app version the instances ran when the events were accepted (`""`:
    /// unknown, recorded before versions were kept).
    Version,
    /// One row per team (slug) the instances were installed for.
    Team,
    /// One row per cost center (the instances' current `cost-center` tag; `""`: none).
    CostCenter,
}

impl GroupBy {
    /// The name the API and CLI use: `app`, `instance`, `version`, `team`, `costCenter`.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            GroupBy::Nothing => None,
            GroupBy::App => Some("app"),
            GroupBy::Instance => Some("instance"),
            GroupBy::Version => Some("version"),
            GroupBy::Team => Some("team"),
            GroupBy::CostCenter => Some("costCenter"),
        }
    }

    /// Every grouping, by name.
    pub const NAMED: &'static [GroupBy] = &[
        GroupBy::App,
        GroupBy::Instance,
        GroupBy::Version,
        GroupBy::Team,
        GroupBy::CostCenter,
    ];
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
    /// Only usage recorded while the instances ran this app version (exactly; `""` for usage
    /// recorded before versions were kept).
    pub version: Option<String>,
    /// Only usage of the instances of this team (its slug); an unknown team is `NotFound`.
    pub team: Option<String>,
    /// Only usage of the instances whose cost center (current `cost-center` tag) is this.
    pub cost_center: Option<String>,
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
    /// The app, instance, version, team or cost center of the row, when grouped.
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

/// What a query needs to know of the org's instances: which of them its team and cost-center
/// filters let through, and the team or cost center each one is grouped under.
#[derive(Debug, Default)]
struct Attribution {
    /// The instances the filters allow (`None`: no such filter).
    instance_ids: Option<Vec<String>>,
    /// Instance id → its team slug or cost center, when grouping by one of them.
    labels: HashMap<String, String>,
}

impl Attribution {
    /// The group a bucket or event of `app_id`, `instance_id` and `version` falls in.
    fn group_of(
        &self,
        group_by: GroupBy,
        app_id: &str,
        instance_id: &str,
        version: &str,
    ) -> Option<String> {
        match group_by {
            GroupBy::Nothing => None,
            GroupBy::App => Some(app_id.to_owned()),
            GroupBy::Instance => Some(instance_id.to_owned()),
            GroupBy::Version => Some(version.to_owned()),
            // Usage of an instance Plaza does not know (recorded before installs existed)
            // has no team or cost center.
            GroupBy::Team | GroupBy::CostCenter => {
                Some(self.labels.get(instance_id).cloned().unwrap_or_default())
            }
        }
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
        let attribution = self.attribution(org, q).await?;
        let scope = |from, until| UsageScope {
            metric: q.metric.clone(),
            app_id: q.app_id.clone(),
            instance_id: q.instance_id.clone(),
            instance_ids: attribution.instance_ids.clone(),
            version: q.version.clone(),
            from,
            until,
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
                let group = attribution.group_of(q.group_by, &b.app_id, &b.instance_id, &b.version);
                partials.entry((w, group)).or_default().add(b)?;
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
            self.fold_raw(q, &attribution, &windows, events, &mut rows)?;
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

    /// Resolves the query's team and cost-center filters to the org's instances (uninstalled
    /// ones included), and, when grouping by team or cost center, each instance's group.
    async fn attribution(&self, org: &Org, q: &UsageQuery) -> Result<Attribution, CoreError> {
        let grouped = matches!(q.group_by, GroupBy::Team | GroupBy::CostCenter);
        if q.team.is_none() && q.cost_center.is_none() && !grouped {
            return Ok(Attribution::default());
        }
        // An unknown team is NotFound, not an empty answer: it is most likely a typo.
        let team = match &q.team {
            Some(slug) => Some(self.store.get_team_by_slug(&org.id, slug).await?),
            None => None,
        };
        let instances = self
            .store
            .list_instances(
                &org.id,
                &InstanceFilter {
                    app_id: q.app_id.clone(),
                    team_id: team.as_ref().map(|t| t.id.clone()),
                    include_uninstalled: true,
                },
            )
            .await?;
        let mut out = Attribution::default();
        if q.team.is_some() || q.cost_center.is_some() {
            out.instance_ids = Some(
                instances
                    .iter()
                    .filter(|i| {
                        q.cost_center
                            .as_deref()
                            .is_none_or(|cc| cost_center(&i.tags) == Some(cc))
                    })
                    .map(|i| i.id.as_str().to_owned())
                    .collect(),
            );
        }
        match q.group_by {
            GroupBy::Team => {
                let slugs: HashMap<_, _> = self
                    .store
                    .list_teams(&org.id)
                    .await?
                    .into_iter()
                    .map(|t| (t.id, t.slug))
                    .collect();
                for i in &instances {
                    let slug = slugs.get(&i.team_id).cloned().unwrap_or_default();
                    out.labels.insert(i.id.as_str().to_owned(), slug);
                }
            }
            GroupBy::CostCenter => {
                for i in &instances {
                    let cc = cost_center(&i.tags).unwrap_or_default().to_owned();
                    out.labels.insert(i.id.as_str().to_owned(), cc);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// Folds raw events (corrections applied) into rows.
    fn fold_raw(
        &self,
        q: &UsageQuery,
        attribution: &Attribution,
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
            let version = e.app_version.as_deref().unwrap_or(UNKNOWN_VERSION);
            let group = attribution.group_of(q.group_by, &e.app_id, &e.instance_id, version);
            accumulators
                .entry((w, group))
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
