//! Aggregation windows and the reference aggregation.
//!
//! # Windows
//!
//! A window is named by its start instant (UTC). For a timestamp and an IANA time zone:
//!
//! - **day**: from the first instant of the local calendar date to the first instant of the
//!   next date. Days are 24 hours long except across a DST change (23 or 25 hours). Where a
//!   DST gap swallows local midnight, the day starts at the first instant after the gap.
//! - **month**: from the first instant of the 1st of the local month to the first instant of the
//!   1st of the next month.
//! - **hour**: one hour long, starting where local wall time is on the hour, using the UTC offset
//!   in effect at the timestamp. For zones whose offsets are whole hours (nearly all) these are
//!   UTC hours; for `Asia/Kolkata` (+05:30) they start at half past the UTC hour. During a
//!   "fall back" hour that repeats, each of the two real hours is its own window. (In the one
//!   zone with a 30-minute DST shift, `Australia/Lord_Howe`, the windows next to a transition
//!   are shifted by the new offset, so two consecutive windows may overlap by 30 minutes; each
//!   event still belongs to exactly one window.)
//!
//! # Aggregations
//!
//! [`Accumulator`] folds usage events one by one and is the reference the store's rollups are
//! tested against: `sum` (exact decimal sum), `count` (number of events), `max` (largest
//! value), `unique_count` (distinct values, or distinct values of one dimension; events without
//! that dimension are not counted) and `latest` (the value of the event with the greatest
//! timestamp, ties broken by the greatest event id). Corrections are applied first by
//! [`resolve_corrections`]: an `adjust` adds its delta to the event it refers to, a `void`
//! removes that event (with its adjustments); a correction counts in the window of the event
//! it corrects, not in the window of its own timestamp.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::event::EventKind;
use crate::number::{add_exact, canonical, canonical_text};
use crate::validate::ValidatedEvent;
use crate::Error;

/// The size of an aggregation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    /// One hour.
    Hour,
    /// One local calendar day.
    Day,
    /// One local calendar month.
    Month,
}

impl Granularity {
    /// Every granularity.
    pub const ALL: &'static [Granularity] =
        &[Granularity::Hour, Granularity::Day, Granularity::Month];

    /// `hour`, `day` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Granularity::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| Error::UnknownGranularity {
                name: s.to_string(),
            })
    }
}

/// Reads an IANA time zone name (`UTC`, `Europe/Berlin`, `America/New_York`; case-sensitive).
pub fn parse_time_zone(name: &str) -> Result<Tz, Error> {
    name.parse::<Tz>().map_err(|_| Error::UnknownTimeZone {
        name: name.to_string(),
    })
}

/// The start of the window of `granularity` that contains `ts`, in zone `tz`.
pub fn window_start(
    ts: DateTime<Utc>,
    granularity: Granularity,
    tz: Tz,
) -> Result<DateTime<Utc>, Error> {
    let out_of_range = || Error::WindowOutOfRange {
        granularity: granularity.as_str(),
        timestamp: ts.to_rfc3339(),
    };
    if !representable(ts) {
        return Err(out_of_range());
    }
    let local = tz.from_utc_datetime(&ts.naive_utc());
    let start = match granularity {
        Granularity::Hour => {
            let offset = i64::from(local.offset().fix().local_minus_utc());
            let secs = ts.timestamp();
            let into_hour = (secs + offset).rem_euclid(3600);
            DateTime::from_timestamp(secs - into_hour, 0)
        }
        Granularity::Day => day_start(local.date_naive(), tz),
        Granularity::Month => local
            .date_naive()
            .with_day(1)
            .and_then(|d| day_start(d, tz)),
    };
    // A window never starts after the instant it holds (guards odd historical transitions).
    start.map(|s| s.min(ts)).ok_or_else(out_of_range)
}

/// The start of the window after the one that contains `ts` (the end of `ts`'s window).
pub fn next_window_start(
    ts: DateTime<Utc>,
    granularity: Granularity,
    tz: Tz,
) -> Result<DateTime<Utc>, Error> {
    let out_of_range = || Error::WindowOutOfRange {
        granularity: granularity.as_str(),
        timestamp: ts.to_rfc3339(),
    };
    if !representable(ts) {
        return Err(out_of_range());
    }
    let local = tz.from_utc_datetime(&ts.naive_utc()).date_naive();
    let next = match granularity {
        Granularity::Hour => {
            window_start(ts, granularity, tz)?.checked_add_signed(TimeDelta::hours(1))
        }
        Granularity::Day => local.succ_opt().and_then(|d| day_start(d, tz)),
        Granularity::Month => {
            let (y, m) = if local.month() == 12 {
                (local.year() + 1, 1)
            } else {
                (local.year(), local.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).and_then(|d| day_start(d, tz))
        }
    };
    next.filter(|n| *n > ts).ok_or_else(out_of_range)
}

/// Whether the windows around `ts` stay inside chrono's range (local times within a couple of
/// months of the extremes would otherwise be unrepresentable).
fn representable(ts: DateTime<Utc>) -> bool {
    let margin = TimeDelta::days(64);
    ts.checked_sub_signed(margin).is_some() && ts.checked_add_signed(margin).is_some()
}

/// The window of `granularity` containing `ts`: `[start, end)`.
pub fn window(
    ts: DateTime<Utc>,
    granularity: Granularity,
    tz: Tz,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Error> {
    Ok((
        window_start(ts, granularity, tz)?,
        next_window_start(ts, granularity, tz)?,
    ))
}

/// The first instant of local date `date` in `tz`.
fn day_start(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        chrono::LocalResult::None => first_instant_at_or_after(midnight, tz),
    }
}

/// The first instant whose local wall time is at or after `local` (for wall times that a DST
/// gap skips): a binary search over the two days around it.
fn first_instant_at_or_after(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let guess = local.and_utc().timestamp();
    let (mut lo, mut hi) = (
        guess.checked_sub(2 * 86_400)?,
        guess.checked_add(2 * 86_400)?,
    );
    let reached = |secs: i64| -> Option<bool> {
        let t = DateTime::from_timestamp(secs, 0)?;
        Some(tz.from_utc_datetime(&t.naive_utc()).naive_local() >= local)
    };
    if !reached(hi)? {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(mid)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    DateTime::from_timestamp(lo, 0)
}

/// How a window's events are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aggregation {
    /// Exact sum of the values.
    Sum,
    /// Number of events.
    Count,
    /// Largest value.
    Max,
    /// Number of distinct values (or of distinct values of one dimension).
    UniqueCount,
    /// Value of the latest event (by timestamp, then event id).
    Latest,
}

impl Aggregation {
    /// Every aggregation.
    pub const ALL: &'static [Aggregation] = &[
        Aggregation::Sum,
        Aggregation::Count,
        Aggregation::Max,
        Aggregation::UniqueCount,
        Aggregation::Latest,
    ];

    /// `sum`, `count`, `max`, `unique_count` or `latest`.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Count => "count",
            Aggregation::Max => "max",
            Aggregation::UniqueCount => "unique_count",
            Aggregation::Latest => "latest",
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Aggregation {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Aggregation::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| Error::UnknownAggregation {
                name: s.to_string(),
            })
    }
}

/// What `unique_count` counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum UniqueOf {
    /// Distinct values (`42` and `42.0` are one value).
    #[default]
    Value,
    /// Distinct values of this dimension.
    Dimension(String),
}

/// Folds resolved usage events (see [`resolve_corrections`]) of one metric into one aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulator {
    aggregation: Aggregation,
    unique_of: UniqueOf,
    metric: Option<String>,
    sum: Decimal,
    count: u64,
    max: Option<Decimal>,
    unique: BTreeSet<String>,
    latest: Option<(DateTime<Utc>, String, Decimal)>,
}

impl Accumulator {
    /// An empty accumulator; `unique_count` counts distinct values.
    pub fn new(aggregation: Aggregation) -> Accumulator {
        Accumulator {
            aggregation,
            unique_of: UniqueOf::Value,
            metric: None,
            sum: Decimal::ZERO,
            count: 0,
            max: None,
            unique: BTreeSet::new(),
            latest: None,
        }
    }

    /// An empty `unique_count` accumulator of distinct values of `dimension`.
    pub fn unique_count_of(dimension: impl Into<String>) -> Accumulator {
        Accumulator {
            unique_of: UniqueOf::Dimension(dimension.into()),
            ..Accumulator::new(Aggregation::UniqueCount)
        }
    }

    /// The aggregation.
    pub fn aggregation(&self) -> Aggregation {
        self.aggregation
    }

    /// Adds one usage event. Fails on a correction (resolve corrections first), on an event of
    /// another metric than the first one added, and when the sum leaves the decimal range.
    pub fn add(&mut self, e: &ValidatedEvent) -> Result<(), Error> {
        if e.kind != EventKind::Usage {
            return Err(Error::UnresolvedCorrection {
                event_id: e.event_id.clone(),
                kind: e.kind.as_str(),
            });
        }
        match &self.metric {
            Some(m) if *m != e.metric => {
                return Err(Error::MixedMetrics {
                    first: m.clone(),
                    other: e.metric.clone(),
                })
            }
            Some(_) => {}
            None => self.metric = Some(e.metric.clone()),
        }
        let value = canonical(e.value);
        self.sum = add_exact(self.sum, value).ok_or_else(|| Error::Overflow {
            aggregation: "sum",
            metric: e.metric.clone(),
        })?;
        self.count = self.count.saturating_add(1);
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
        if self.aggregation == Aggregation::UniqueCount {
            match &self.unique_of {
                UniqueOf::Value => {
                    self.unique.insert(canonical_text(value));
                }
                UniqueOf::Dimension(d) => {
                    if let Some(v) = e.dimensions.get(d) {
                        self.unique.insert(v.clone());
                    }
                }
            }
        }
        let newer = match &self.latest {
            None => true,
            Some((t, id, _)) => (e.timestamp, &e.event_id) > (*t, id),
        };
        if newer {
            self.latest = Some((e.timestamp, e.event_id.clone(), value));
        }
        Ok(())
    }

    /// The aggregate: `Some(0)` for an empty `sum`, `count` or `unique_count`; `None` for an
    /// empty `max` or `latest`.
    pub fn value(&self) -> Option<Decimal> {
        match self.aggregation {
            Aggregation::Sum => Some(self.sum),
            Aggregation::Count => Some(Decimal::from(self.count)),
            Aggregation::Max => self.max,
            Aggregation::UniqueCount => Some(Decimal::from(self.unique.len() as u64)),
            Aggregation::Latest => self.latest.as_ref().map(|(_, _, v)| *v),
        }
    }

    /// Number of events added.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// The outcome of [`resolve_corrections`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// The usage events that still count, in input order, with every `adjust` delta added to
    /// their value (the value may end up negative if the adjustments say so).
    pub effective: Vec<ValidatedEvent>,
    /// Event ids of corrections whose `ref` names no usage event of the input.
    pub orphans: Vec<String>,
}

/// Applies `void` and `adjust` corrections to the usage events they refer to (by event id).
/// Event ids are taken to be unique (the store deduplicates); a repeated usage id counts once,
/// first occurrence. A correction of a correction is an orphan.
pub fn resolve_corrections(events: &[ValidatedEvent]) -> Result<Resolved, Error> {
    let mut effective: Vec<ValidatedEvent> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::Usage) {
        if !position.contains_key(e.event_id.as_str()) {
            position.insert(&e.event_id, effective.len());
            effective.push(e.clone());
        }
    }
    let mut voided = vec![false; effective.len()];
    let mut orphans = Vec::new();
    for c in events.iter().filter(|e| e.kind.is_correction()) {
        let target = c
            .correction_ref
            .as_deref()
            .and_then(|r| position.get(r).copied());
        match (c.kind, target) {
            (_, None) => orphans.push(c.event_id.clone()),
            (EventKind::Void, Some(i)) => voided[i] = true,
            (_, Some(i)) => {
                let e = &mut effective[i];
                e.value = add_exact(e.value, c.value).ok_or_else(|| Error::Overflow {
                    aggregation: "adjust",
                    metric: e.metric.clone(),
                })?;
            }
        }
    }
    let effective = effective
        .into_iter()
        .zip(voided)
        .filter(|(_, v)| !v)
        .map(|(e, _)| e)
        .collect();
    Ok(Resolved { effective, orphans })
}

/// The reference rollup: resolves corrections, then folds each remaining event into the window
/// (by its own timestamp) it falls in. `new_accumulator` makes the empty accumulator of each
/// window. Events must all be of one metric.
pub fn aggregate(
    events: &[ValidatedEvent],
    new_accumulator: impl Fn() -> Accumulator,
    granularity: Granularity,
    tz: Tz,
) -> Result<BTreeMap<DateTime<Utc>, Accumulator>, Error> {
    let resolved = resolve_corrections(events)?;
    let mut windows: BTreeMap<DateTime<Utc>, Accumulator> = BTreeMap::new();
    for e in &resolved.effective {
        let start = window_start(e.timestamp, granularity, tz)?;
        windows
            .entry(start)
            .or_insert_with(&new_accumulator)
            .add(e)?;
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        parse_time_zone(name).unwrap()
    }

    fn span(ts: &str, g: Granularity, zone: &str) -> (String, String, i64) {
        let (s, e) = window(utc(ts), g, tz(zone)).unwrap();
        (s.to_rfc3339(), e.to_rfc3339(), (e - s).num_hours())
    }

    #[test]
    fn berlin_spring_forward_day_is_23_hours() {
        // 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST.
        let (s, e, h) = span("2026-03-29T12:00:00Z", Granularity::Day, "Europe/Berlin");
        assert_eq!(s, "2026-03-28T23:00:00+00:00");
        assert_eq!(e, "2026-03-29T22:00:00+00:00");
        assert_eq!(h, 23);
        // The day before is 24 hours, the autumn change day 25.
        assert_eq!(
            span("2026-03-28T12:00:00Z", Granularity::Day, "Europe/Berlin").2,
            24
        );
        assert_eq!(
            span("2026-10-25T12:00:00Z", Granularity::Day, "Europe/Berlin").2,
            25
        );
        // 23:30 UTC on the 28th is already the 29th in Berlin.
        assert_eq!(
            span("2026-03-28T23:30:00Z", Granularity::Day, "Europe/Berlin").0,
            "2026-03-28T23:00:00+00:00"
        );
    }

    #[test]
    fn new_york_month_boundaries() {
        // January 2026 in New York: EST (-05:00) throughout.
        let (s, e, _) = span(
            "2026-01-15T12:00:00Z",
            Granularity::Month,
            "America/New_York",
        );
        assert_eq!(s, "2026-01-01T05:00:00+00:00");
        assert_eq!(e, "2026-02-01T05:00:00+00:00");
        // 03:00 UTC on 1 Feb is still 31 January in New York.
        assert_eq!(
            span(
                "2026-02-01T03:00:00Z",
                Granularity::Month,
                "America/New_York"
            )
            .0,
            "2026-01-01T05:00:00+00:00"
        );
        // March starts in EST and ends in EDT (-04:00): 31 days minus one hour.
        let (s, e, h) = span(
            "2026-03-20T00:00:00Z",
            Granularity::Month,
            "America/New_York",
        );
        assert_eq!(s, "2026-03-01T05:00:00+00:00");
        assert_eq!(e, "2026-04-01T04:00:00+00:00");
        assert_eq!(h, 31 * 24 - 1);
        // December rolls into the next year.
        assert_eq!(
            span(
                "2026-12-31T23:00:00Z",
                Granularity::Month,
                "America/New_York"
            )
            .1,
            "2027-01-01T05:00:00+00:00"
        );
        // In UTC the same instant belongs to February.
        assert_eq!(
            span("2026-02-01T03:00:00Z", Granularity::Month, "UTC").0,
            "2026-02-01T00:00:00+00:00"
        );
    }

    #[test]
    fn hours() {
        assert_eq!(
            span("2026-01-10T14:23:00Z", Granularity::Hour, "UTC"),
            (
                "2026-01-10T14:00:00+00:00".into(),
                "2026-01-10T15:00:00+00:00".into(),
                1
            )
        );
        // Half-hour offset: Kolkata hours start at :30 UTC.
        assert_eq!(
            span("2026-01-10T14:23:00Z", Granularity::Hour, "Asia/Kolkata").0,
            "2026-01-10T13:30:00+00:00"
        );
        // Berlin's repeated 02:00-03:00 on 2026-10-25 is two windows, not one of two hours.
        let a = span("2026-10-25T00:30:00Z", Granularity::Hour, "Europe/Berlin");
        let b = span("2026-10-25T01:30:00Z", Granularity::Hour, "Europe/Berlin");
        assert_eq!(a.0, "2026-10-25T00:00:00+00:00");
        assert_eq!(b.0, "2026-10-25T01:00:00+00:00");
        assert_eq!((a.2, b.2), (1, 1));
    }

    #[test]
    fn midnight_in_a_dst_gap() {
        // America/Santiago springs forward at local midnight (2025-09-07 00:00 -> 01:00).
        let (s, _, h) = span("2025-09-07T12:00:00Z", Granularity::Day, "America/Santiago");
        assert_eq!(s, "2025-09-07T04:00:00+00:00");
        assert_eq!(h, 23);
    }

    #[test]
    fn windows_tile_time() {
        // Consecutive windows meet exactly, for every granularity, across DST changes.
        for zone in [
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "UTC",
            "America/Santiago",
        ] {
            for g in Granularity::ALL {
                let mut t = utc("2026-03-01T00:00:00Z");
                let mut prev_end: Option<DateTime<Utc>> = None;
                for _ in 0..40 {
                    let (s, e) = window(t, *g, tz(zone)).unwrap();
                    assert!(s <= t && t < e, "{zone} {g} {t}");
                    if let Some(p) = prev_end {
                        assert_eq!(p, s, "{zone} {g}");
                    }
                    assert_eq!(window_start(s, *g, tz(zone)).unwrap(), s);
                    prev_end = Some(e);
                    t = e;
                }
            }
        }
    }

    #[test]
    fn names() {
        for a in Aggregation::ALL {
            assert_eq!(a.as_str().parse::<Aggregation>().unwrap(), *a);
        }
        assert_eq!(
            "unique_count".parse::<Aggregation>().unwrap(),
            Aggregation::UniqueCount
        );
        assert!(matches!(
            "avg".parse::<Aggregation>(),
            Err(Error::UnknownAggregation { .. })
        ));
        assert_eq!("day".parse::<Granularity>().unwrap(), Granularity::Day);
        assert!("week".parse::<Granularity>().is_err());
        assert!(matches!(
            parse_time_zone("Mars/Olympus"),
            Err(Error::UnknownTimeZone { .. })
        ));
        assert!(parse_time_zone("europe/berlin").is_err());
    }

    fn ev(id: &str, value: &str, ts: &str) -> ValidatedEvent {
        ValidatedEvent {
            app_id: "app".into(),
            instance_id: "i".into(),
            event_id: id.into(),
            metric: "m".into(),
            value: crate::number::parse_json_number(value).unwrap(),
            unit: "count".into(),
            original_value: Decimal::ZERO,
            original_unit: "count".into(),
            timestamp: utc(ts),
            sequence: None,
            tags: BTreeMap::new(),
            dimensions: BTreeMap::new(),
            kind: EventKind::Usage,
            correction_ref: None,
            content_hash: String::new(),
            app_version: None,
        }
    }

    fn correction(id: &str, kind: EventKind, r: &str, value: &str) -> ValidatedEvent {
        ValidatedEvent {
            kind,
            correction_ref: Some(r.into()),
            ..ev(id, value, "2026-02-03T00:00:00Z")
        }
    }

    fn fold(agg: Accumulator, events: &[ValidatedEvent]) -> Option<String> {
        let mut a = agg;
        for e in &resolve_corrections(events).unwrap().effective {
            a.add(e).unwrap();
        }
        a.value().map(canonical_text)
    }

    #[test]
    fn accumulators() {
        let mut events = vec![
            ev("a", "0.1", "2026-01-01T00:00:00Z"),
            ev("b", "0.2", "2026-01-02T00:00:00Z"),
            ev("c", "0.2", "2026-01-02T00:00:00Z"),
            ev("d", "7", "2026-01-01T12:00:00Z"),
        ];
        events[0].dimensions.insert("user".into(), "u1".into());
        events[1].dimensions.insert("user".into(), "u2".into());
        events[2].dimensions.insert("user".into(), "u1".into());
        let sum = fold(Accumulator::new(Aggregation::Sum), &events);
        assert_eq!(sum.as_deref(), Some("7.5"));
        assert_eq!(
            fold(Accumulator::new(Aggregation::Count), &events).as_deref(),
            Some("4")
        );
        assert_eq!(
            fold(Accumulator::new(Aggregation::Max), &events).as_deref(),
            Some("7")
        );
        assert_eq!(
            fold(Accumulator::new(Aggregation::UniqueCount), &events).as_deref(),
            Some("3")
        );
        assert_eq!(
            fold(Accumulator::unique_count_of("user"), &events).as_deref(),
            Some("2")
        );
        // Latest: greatest timestamp, ties by greatest event id ("c" over "b").
        assert_eq!(
            fold(Accumulator::new(Aggregation::Latest), &events).as_deref(),
            Some("0.2")
        );
        events[2].value = Decimal::from(9);
        assert_eq!(
            fold(Accumulator::new(Aggregation::Latest), &events).as_deref(),
            Some("9")
        );
        assert_eq!(fold(Accumulator::new(Aggregation::Max), &[]), None);
        assert_eq!(fold(Accumulator::new(Aggregation::Latest), &[]), None);
        assert_eq!(
            fold(Accumulator::new(Aggregation::Sum), &[]).as_deref(),
            Some("0")
        );
    }

    #[test]
    fn corrections_apply_to_their_target() {
        let events = vec![
            ev("a", "10", "2026-01-31T23:00:00Z"),
            ev("b", "5", "2026-02-01T01:00:00Z"),
            correction("fix-a", EventKind::Adjust, "a", "-3"),
            correction("fix-a2", EventKind::Adjust, "a", "0.5"),
            correction("drop-b", EventKind::Void, "b", "0"),
            correction("lost", EventKind::Void, "zzz", "0"),
            correction("meta", EventKind::Void, "fix-a", "0"),
        ];
        let r = resolve_corrections(&events).unwrap();
        assert_eq!(r.effective.len(), 1);
        assert_eq!(canonical_text(r.effective[0].value), "7.5");
        assert_eq!(r.orphans, ["lost", "meta"]);
        assert_eq!(
            fold(Accumulator::new(Aggregation::Count), &events).as_deref(),
            Some("1")
        );
        // The adjustment counts in January (its target's month), not in February.
        let months = aggregate(
            &events,
            || Accumulator::new(Aggregation::Sum),
            Granularity::Month,
            chrono_tz::UTC,
        )
        .unwrap();
        let jan = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(months.len(), 1);
        assert_eq!(months[&jan].value(), Some(Decimal::new(75, 1)));
    }

    #[test]
    fn windows_follow_the_zone() {
        let events = vec![
            ev("a", "1", "2026-01-31T23:00:00Z"), // 18:00 on 31 Jan in New York
            ev("b", "2", "2026-02-01T04:59:59Z"), // 23:59:59 on 31 Jan in New York
            ev("c", "4", "2026-02-01T05:00:00Z"), // 00:00 on 1 Feb in New York
        ];
        let ny = aggregate(
            &events,
            || Accumulator::new(Aggregation::Sum),
            Granularity::Month,
            tz("America/New_York"),
        )
        .unwrap();
        let sums: Vec<(String, String)> = ny
            .iter()
            .map(|(k, v)| (k.to_rfc3339(), canonical_text(v.value().unwrap())))
            .collect();
        assert_eq!(
            sums,
            [
                ("2026-01-01T05:00:00+00:00".to_string(), "3".to_string()),
                ("2026-02-01T05:00:00+00:00".to_string(), "4".to_string())
            ]
        );
        let utc_months = aggregate(
            &events,
            || Accumulator::new(Aggregation::Sum),
            Granularity::Month,
            chrono_tz::UTC,
        )
        .unwrap();
        assert_eq!(
            utc_months.values().map(|a| a.count()).collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn accumulator_refuses_what_it_cannot_fold() {
        let mut a = Accumulator::new(Aggregation::Sum);
        let c = correction("x", EventKind::Void, "a", "0");
        assert!(matches!(a.add(&c), Err(Error::UnresolvedCorrection { .. })));
        a.add(&ev(
            "a",
            "79228162514264337593543950335",
            "2026-01-01T00:00:00Z",
        ))
        .unwrap();
        assert!(matches!(
            a.add(&ev("b", "1", "2026-01-01T00:00:00Z")),
            Err(Error::Overflow { .. })
        ));
        let mut other = ev("c", "1", "2026-01-01T00:00:00Z");
        other.metric = "n".into();
        assert!(matches!(a.add(&other), Err(Error::MixedMetrics { .. })));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for g in Granularity::ALL {
            for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                for zone in [
                    tz("Europe/Berlin"),
                    tz("Pacific/Kiritimati"),
                    chrono_tz::UTC,
                ] {
                    assert!(matches!(
                        window(t, *g, zone),
                        Err(Error::WindowOutOfRange { .. })
                    ));
                    for days in [63, 65, 400] {
                        let near = if t == DateTime::<Utc>::MIN_UTC {
                            t + TimeDelta::days(days)
                        } else {
                            t - TimeDelta::days(days)
                        };
                        // Either a window or an error; never a panic.
                        let _ = window(near, *g, zone);
                    }
                }
            }
        }
    }
}
