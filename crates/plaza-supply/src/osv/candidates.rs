//! Per-package candidate tables: every `affected[]` entry of every advisory for one
//! (ecosystem, package), compiled at index time into contiguous rows of integer ranks, so that a
//! query parses its version once, finds its rank by binary search and picks, from a binary search
//! in the listed versions and one pass over a few cache lines of intervals, the advisories that
//! can possibly affect it. Only those are then evaluated exactly
//! ([`super::range::CompiledAffected::evaluate`]); the others provably neither match nor report a
//! range that could not be evaluated (see [`super::range::Footprint`]).
//!
//! Ranks: the table's distinct bound versions (under one ordering) sorted ascending; bound `i`
//! has rank `2i + 1`, a version strictly between bounds `i - 1` and `i` has rank `2i`. A row
//! `[start, end)` of ranks holds a necessary condition for one entry's hit.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::range::{Closing, CompiledAffected, Footprint, ParsedQuery};
use super::version::{Scheme, Version};

/// One interval of one advisory: a query of rank `start <= r < end` may be affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    start: u32,
    end: u32,
    /// The advisory's position in the package's advisory list.
    slot: u32,
}

/// The rows of one ordering.
#[derive(Debug)]
struct SchemeRows {
    scheme: Scheme,
    /// Distinct bounds, ascending.
    bounds: Vec<Version>,
    /// Their [`Version::keyed`] keys: searched first, contiguous.
    keys: Vec<u64>,
    /// Whether each key is exact.
    exact: Vec<bool>,
    /// Intervals, sorted by `start`.
    rows: Vec<Row>,
    /// Listed versions as (rank, advisory), sorted.
    listed: Vec<(u32, u32)>,
    /// Advisories with an entry using this ordering (evaluated when the query is not a version
    /// of it), ascending, deduplicated.
    users: Vec<u32>,
}

/// The candidate table of one package.
#[derive(Debug, Default)]
pub(crate) struct CandidateTable {
    /// At most two orderings (the ecosystem's and SemVer's).
    schemes: Vec<SchemeRows>,
    /// Advisories always evaluated.
    always: Vec<u32>,
    /// Listed versions matched by text, with their advisory.
    texts: Vec<(Box<str>, u32)>,
}

/// An interval before ranking.
struct Pending<'a> {
    scheme: Scheme,
    from: Option<&'a Version>,
    until: Option<(&'a Version, Closing)>,
    limit: Option<&'a Version>,
    slot: u32,
}

fn cmp(a: &Version, b: &Version) -> Ordering {
    a.compare(b).unwrap_or(Ordering::Equal)
}

/// The rank of `v` among `bounds` (sorted, distinct), whose coarse keys are `keys`: bounds
/// with a smaller key are smaller, with a greater key greater, so only the run of equal keys
/// needs comparing versions.
/// A bound with the same exact key as an exact `v` is `v` (found without touching versions).
fn rank(bounds: &[Version], keys: &[u64], exact: &[bool], v: &Version) -> Option<u32> {
    let (key, v_exact) = v.keyed();
    let first = keys.partition_point(|k| *k < key);
    let run = keys.get(first..)?.partition_point(|k| *k == key);
    let end = first.checked_add(run)?;
    let same = v_exact
        .then(|| exact.get(first..end)?.iter().position(|e| *e))
        .flatten();
    let (below, equal) = match same {
        Some(at) => (first.checked_add(at)?, true),
        None => {
            let below = first
                + bounds
                    .get(first..end)?
                    .partition_point(|b| cmp(b, v) == Ordering::Less);
            // Only a bound of the same key can be equal (no version is touched when there is
            // none).
            let equal = below < end
                && bounds
                    .get(below)
                    .is_some_and(|b| cmp(b, v) == Ordering::Equal);
            (below, equal)
        }
    };
    u32::try_from(below)
        .ok()?
        .checked_mul(2)?
        .checked_add(u32::from(equal))
}

impl CandidateTable {
    /// Builds the table of one package from its advisories' entries: `entries` yields
    /// (position in the package's advisory list, entry), withdrawn advisories left out.
    pub fn build<'a>(entries: impl IntoIterator<Item = (usize, &'a CompiledAffected)>) -> Self {
        let mut table = CandidateTable::default();
        let mut pending: Vec<Pending<'a>> = Vec::new();
        let mut listed: Vec<(Scheme, &'a str, &'a Version, u32)> = Vec::new();
        let mut users: Vec<(Scheme, u32)> = Vec::new();
        for (slot, entry) in entries {
            let Ok(slot) = u32::try_from(slot) else {
                // More advisories than ranks can name (never in practice): the query falls
                // back to evaluating every advisory.
                table.always.push(u32::MAX);
                continue;
            };
            entry.footprint(|f| match f {
                Footprint::Always => table.always.push(slot),
                Footprint::Uses(scheme) => users.push((scheme, slot)),
                Footprint::ListedText(text) => table.texts.push((text.into(), slot)),
                Footprint::Listed { scheme, at, raw } => listed.push((scheme, raw, at, slot)),
                Footprint::Interval {
                    scheme,
                    from,
                    until,
                    limit,
                } => pending.push(Pending {
                    scheme,
                    from,
                    until,
                    limit,
                    slot,
                }),
            });
        }
        let mut schemes: Vec<Scheme> = Vec::new();
        for scheme in users.iter().map(|(s, _)| *s) {
            if !schemes.contains(&scheme) {
                schemes.push(scheme);
            }
        }
        for scheme in schemes {
            // Listed versions repeat across advisories (PyPI advisories list every affected
            // release): distinct texts first, so that sorting sees each version once.
            let mut distinct: HashMap<&str, &Version> = HashMap::new();
            for (_, raw, at, _) in listed.iter().filter(|l| l.0 == scheme) {
                distinct.entry(*raw).or_insert(*at);
            }
            let mut bounds: Vec<&Version> = distinct.values().copied().collect();
            for p in pending.iter().filter(|p| p.scheme == scheme) {
                bounds.extend(p.from);
                bounds.extend(p.until.map(|(v, _)| v));
                bounds.extend(p.limit);
            }
            let mut keyed: Vec<((u64, bool), &Version)> =
                bounds.into_iter().map(|v| (v.keyed(), v)).collect();
            keyed.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then_with(|| cmp(a.1, b.1)));
            keyed.dedup_by(|a, b| cmp(a.1, b.1) == Ordering::Equal);
            let keys: Vec<u64> = keyed.iter().map(|((k, _), _)| *k).collect();
            let exact: Vec<bool> = keyed.iter().map(|((_, e), _)| *e).collect();
            let bounds: Vec<Version> = keyed.into_iter().map(|(_, v)| v.clone()).collect();
            let mut rows = SchemeRows {
                scheme,
                rows: Vec::new(),
                listed: Vec::new(),
                users: users
                    .iter()
                    .filter(|(s, _)| *s == scheme)
                    .map(|(_, slot)| *slot)
                    .collect(),
                bounds: Vec::new(),
                keys: Vec::new(),
                exact: Vec::new(),
            };
            let ranks: HashMap<&str, Option<u32>> = distinct
                .iter()
                .map(|(raw, v)| (*raw, rank(&bounds, &keys, &exact, v)))
                .collect();
            for (_, raw, _, slot) in listed.iter().filter(|l| l.0 == scheme) {
                match ranks.get(raw).copied().flatten() {
                    Some(r) => rows.listed.push((r, *slot)),
                    // Not representable (never in practice): always evaluate the advisory.
                    None => table.always.push(*slot),
                }
            }
            for p in pending.iter().filter(|p| p.scheme == scheme) {
                let start = match p.from {
                    None => Some(0),
                    Some(v) => rank(&bounds, &keys, &exact, v),
                };
                let end = |bound: Option<(&Version, Closing)>| match bound {
                    None => Some(u32::MAX),
                    Some((v, Closing::Exclusive)) => rank(&bounds, &keys, &exact, v),
                    Some((v, Closing::Inclusive)) => {
                        rank(&bounds, &keys, &exact, v).and_then(|r| r.checked_add(1))
                    }
                };
                let ends = (end(p.until), end(p.limit.map(|l| (l, Closing::Exclusive))));
                match (start, ends) {
                    (Some(start), (Some(a), Some(b))) => {
                        let end = a.min(b);
                        if start < end {
                            rows.rows.push(Row {
                                start,
                                end,
                                slot: p.slot,
                            });
                        }
                    }
                    _ => table.always.push(p.slot),
                }
            }
            rows.rows.sort_unstable_by_key(|r| (r.start, r.end, r.slot));
            rows.rows.dedup();
            rows.listed.sort_unstable();
            rows.listed.dedup();
            rows.users.sort_unstable();
            rows.users.dedup();
            rows.bounds = bounds;
            rows.keys = keys;
            rows.exact = exact;
            table.schemes.push(rows);
        }
        table.always.sort_unstable();
        table.always.dedup();
        table.texts.sort_unstable();
        table.texts.dedup();
        table
    }

    /// The positions (in the package's advisory list) of the advisories that may affect the
    /// queried version or report a range they could not evaluate, ascending, deduplicated, into
    /// `out` (cleared first). `None`: the table cannot tell, evaluate every advisory.
    pub fn candidates(&self, query: &ParsedQuery<'_>, out: &mut Vec<usize>) -> Option<()> {
        out.clear();
        let mut push = |slot: u32| -> Option<()> {
            out.push(usize::try_from(slot).ok()?);
            Some(())
        };
        for &slot in &self.always {
            if slot == u32::MAX {
                return None;
            }
            push(slot)?;
        }
        for (text, slot) in &self.texts {
            if **text == *query.raw() {
                push(*slot)?;
            }
        }
        for rows in &self.schemes {
            let Ok(v) = query.get(rows.scheme) else {
                for &slot in &rows.users {
                    push(slot)?;
                }
                continue;
            };
            let rank = rank(&rows.bounds, &rows.keys, &rows.exact, v)?;
            if rank % 2 == 1 {
                let first = rows.listed.partition_point(|(r, _)| *r < rank);
                for (_, slot) in rows
                    .listed
                    .iter()
                    .skip(first)
                    .take_while(|(r, _)| *r == rank)
                {
                    push(*slot)?;
                }
            }
            for row in &rows.rows {
                if row.start > rank {
                    break;
                }
                if rank < row.end {
                    push(row.slot)?;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(())
    }
}
