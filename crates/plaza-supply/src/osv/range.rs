//! OSV range evaluation, exactly as the schema's "Evaluation" pseudocode
//! (<https://ossf.github.io/osv-schema/#evaluation>), on ranges compiled once at index time.
//!
//! - A version is affected when it is listed in `versions` or lies in any range.
//! - Within a range, events are sorted by version (stable: equal versions keep their written
//!   order; `introduced: "0"` sorts before everything), then walked: `introduced` with
//!   `v >= introduced` sets affected, `fixed` with `v >= fixed` clears it, `last_affected` with
//!   `v > last_affected` clears it. A range with `limit` events only applies below at least one
//!   of them (`*` is infinity; no limit means an implicit `*`).
//! - `SEMVER` ranges use SemVer (Go: `v` stripped on both sides); `ECOSYSTEM` ranges use the
//!   ecosystem's ordering. `GIT` ranges are commit ranges and are ignored for version queries.
//!   Unknown range types, ecosystems without an ordering and unparseable bounds make the range
//!   "not evaluated" (it matches nothing) and the reason is reported.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

use super::model::{Affected, Event, Range, RangeType};
use super::version::{Scheme, Version};

/// Why a range was not evaluated for a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NotEvaluated {
    /// The range's `type` is not SEMVER, ECOSYSTEM or GIT.
    UnknownRangeType(String),
    /// An ECOSYSTEM range in an ecosystem without an ordering here.
    NoOrdering(String),
    /// A bound of the range is not a version of its ordering.
    InvalidBound {
        /// The bound as written.
        version: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The queried version is not a version of the range's ordering.
    InvalidQueryVersion(String),
}

impl fmt::Display for NotEvaluated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotEvaluated::UnknownRangeType(t) => {
                write!(f, "range not evaluated: range type `{t}` is unknown")
            }
            NotEvaluated::NoOrdering(e) => write!(
                f,
                "range not evaluated: ecosystem {e} has no version ordering here; only exact `versions` entries match"
            ),
            NotEvaluated::InvalidBound { version, problem } => {
                write!(f, "range not evaluated: bound `{version}`: {problem}")
            }
            NotEvaluated::InvalidQueryVersion(problem) => {
                write!(f, "range not evaluated: queried version: {problem}")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
}

#[derive(Debug, Clone)]
struct Bound {
    kind: Kind,
    /// `None`: `introduced: "0"`, before every version.
    at: Option<Version>,
    raw: Box<str>,
}

#[derive(Debug, Clone)]
enum Compiled {
    Evaluable {
        scheme: Scheme,
        /// Sorted.
        events: Vec<Bound>,
        /// Finite limits; ignored when `unlimited`.
        limits: Vec<Version>,
        /// No limit event, or a `*` limit.
        unlimited: bool,
    },
    Git,
    Skipped(NotEvaluated),
}

/// A range ready for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRange {
    index: usize,
    kind_name: Box<str>,
    compiled: Compiled,
}

/// An `affected[]` entry ready for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct CompiledAffected {
    /// The ordering of the entry's ECOSYSTEM ranges (and of its `versions` list).
    scheme: Option<Scheme>,
    versions: Vec<(Box<str>, Option<Version>)>,
    /// The parsed entries as ([`Version::coarse_key`], index into `versions`), sorted by
    /// (version, index): a listed version is found by binary search (PyPI advisories list
    /// hundreds of versions each), comparing the keys first.
    sorted: Vec<(u64, usize)>,
    /// Indices into `versions` of the entries that did not parse (matched by their text only).
    unparsed: Vec<usize>,
    ranges: Vec<CompiledRange>,
}

/// What made a version affected (borrowed from the index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hit<'a> {
    /// Listed in `affected[].versions`.
    Listed {
        /// The list entry as written.
        listed: &'a str,
    },
    /// Inside a range.
    InRange {
        /// Index of the range in `affected[].ranges`.
        range_index: usize,
        /// The range's type.
        range_type: &'a str,
        /// The `introduced` event that opened the matching interval (`"0"` included).
        introduced: &'a str,
        /// The event closing that interval, if any.
        until: Option<Until<'a>>,
    },
}

/// The event that closes a matching interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Until<'a> {
    /// `fixed`: this version is no longer affected.
    Fixed(&'a str),
    /// `last_affected`: this version is the last affected one.
    LastAffected(&'a str),
}

fn compile_range(index: usize, range: &Range, ecosystem: &str) -> CompiledRange {
    let kind_name: Box<str> = range.kind.as_str().into();
    let scheme = match &range.kind {
        RangeType::Git => {
            return CompiledRange {
                index,
                kind_name,
                compiled: Compiled::Git,
            }
        }
        RangeType::Unknown(t) => {
            return CompiledRange {
                index,
                kind_name,
                compiled: Compiled::Skipped(NotEvaluated::UnknownRangeType(t.clone())),
            }
        }
        RangeType::Semver => Scheme::for_semver_range(ecosystem),
        RangeType::Ecosystem => match Scheme::for_ecosystem(ecosystem) {
            Some(s) => s,
            None => {
                return CompiledRange {
                    index,
                    kind_name,
                    compiled: Compiled::Skipped(NotEvaluated::NoOrdering(ecosystem.to_string())),
                }
            }
        },
    };
    let mut events = Vec::with_capacity(range.events.len());
    let mut limits = Vec::new();
    let mut has_limit = false;
    let mut unlimited = false;
    for event in &range.events {
        let raw = event.version();
        let parse = |raw: &str| {
            scheme
                .parse(raw)
                .map_err(|problem| NotEvaluated::InvalidBound {
                    version: raw.to_string(),
                    problem,
                })
        };
        let bound = match event {
            Event::Limit(_) => {
                has_limit = true;
                if raw.contains('*') {
                    unlimited = true;
                } else {
                    match parse(raw) {
                        Ok(v) => limits.push(v),
                        Err(e) => return skipped(index, kind_name, e),
                    }
                }
                continue;
            }
            Event::Introduced(_) if raw == "0" => Bound {
                kind: Kind::Introduced,
                at: None,
                raw: raw.into(),
            },
            Event::Introduced(_) | Event::Fixed(_) | Event::LastAffected(_) => {
                let kind = match event {
                    Event::Introduced(_) => Kind::Introduced,
                    Event::Fixed(_) => Kind::Fixed,
                    _ => Kind::LastAffected,
                };
                match parse(raw) {
                    Ok(v) => Bound {
                        kind,
                        at: Some(v),
                        raw: raw.into(),
                    },
                    Err(e) => return skipped(index, kind_name, e),
                }
            }
        };
        events.push(bound);
    }
    // Stable sort by version; "0" first.
    events.sort_by(|a, b| match (&a.at, &b.at) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
    });
    CompiledRange {
        index,
        kind_name,
        compiled: Compiled::Evaluable {
            scheme,
            events,
            limits,
            unlimited: unlimited || !has_limit,
        },
    }
}

fn skipped(index: usize, kind_name: Box<str>, reason: NotEvaluated) -> CompiledRange {
    CompiledRange {
        index,
        kind_name,
        compiled: Compiled::Skipped(reason),
    }
}

fn ge(v: &Version, b: &Version) -> bool {
    v.compare(b).is_some_and(|o| o != Ordering::Less)
}

impl CompiledAffected {
    /// Compiles one `affected[]` entry of a package in `ecosystem` (as OSV spells it).
    pub fn compile(affected: &Affected, ecosystem: &str) -> CompiledAffected {
        let scheme = Scheme::for_ecosystem(ecosystem);
        let versions: Vec<(Box<str>, Option<Version>)> = affected
            .versions
            .iter()
            .map(|v| {
                let parsed = scheme.and_then(|s| s.parse(v).ok());
                (Box::<str>::from(v.as_str()), parsed)
            })
            .collect();
        let (parsed, unparsed): (Vec<usize>, Vec<usize>) =
            (0..versions.len()).partition(|i| versions.get(*i).is_some_and(|(_, v)| v.is_some()));
        let parsed_at = |i: usize| versions.get(i).and_then(|(_, v)| v.as_ref());
        let mut sorted: Vec<(u64, usize)> = parsed
            .into_iter()
            .map(|i| (parsed_at(i).map_or(0, Version::coarse_key), i))
            .collect();
        // Keys order like the versions, so ordering by key first is ordering by version.
        sorted.sort_by(|(ka, a), (kb, b)| {
            ka.cmp(kb)
                .then_with(|| match (parsed_at(*a), parsed_at(*b)) {
                    (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
                    _ => Ordering::Equal,
                })
                .then(a.cmp(b))
        });
        let ranges = affected
            .ranges
            .iter()
            .enumerate()
            .map(|(i, r)| compile_range(i, r, ecosystem))
            .collect();
        CompiledAffected {
            scheme,
            versions,
            sorted,
            unparsed,
            ranges,
        }
    }

    /// Evaluates the queried version against the entry. Reasons for ranges that could not be evaluated are pushed to `not_evaluated`
    /// as (range index, reason).
    pub fn evaluate(
        &self,
        parsed: &ParsedQuery<'_>,
        not_evaluated: &mut Vec<(usize, NotEvaluated)>,
    ) -> Option<Hit<'_>> {
        let version = parsed.raw;
        // IncludedInVersions
        let query_eco = self.scheme.and_then(|s| parsed.get(s).ok());
        // The first listed entry equal to the query, as written or as a version: a parsed entry
        // equal as written is equal as a version too (the query is parsed the same way), so the
        // text only needs checking for the entries that did not parse.
        let by_text = self.unparsed.iter().copied().find(|i| {
            self.versions
                .get(*i)
                .is_some_and(|(raw, _)| &**raw == version)
        });
        let by_version = query_eco.and_then(|q| {
            let key = q.coarse_key();
            let parsed_at = |i: usize| self.versions.get(i).and_then(|(_, v)| v.as_ref());
            let below = |(k, i): &(u64, usize)| {
                *k < key
                    || (*k == key
                        && parsed_at(*i).and_then(|v| v.compare(q)) == Some(Ordering::Less))
            };
            let first = self.sorted.partition_point(below);
            self.sorted
                .get(first)
                .map(|(_, i)| *i)
                .filter(|i| parsed_at(*i).and_then(|v| v.compare(q)) == Some(Ordering::Equal))
        });
        let listed = match (by_text, by_version) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some((raw, _)) = listed.and_then(|i| self.versions.get(i)) {
            return Some(Hit::Listed { listed: raw });
        }
        // IncludedInRanges
        for range in &self.ranges {
            match &range.compiled {
                Compiled::Git => {}
                Compiled::Skipped(reason) => not_evaluated.push((range.index, reason.clone())),
                Compiled::Evaluable {
                    scheme,
                    events,
                    limits,
                    unlimited,
                } => {
                    let v = match parsed.get(*scheme) {
                        Ok(v) => v,
                        Err(problem) => {
                            not_evaluated.push((
                                range.index,
                                NotEvaluated::InvalidQueryVersion(problem.to_string()),
                            ));
                            continue;
                        }
                    };
                    if !*unlimited && !limits.iter().any(|l| v.compare(l) == Some(Ordering::Less)) {
                        continue;
                    }
                    let mut opened: Option<usize> = None;
                    for (i, e) in events.iter().enumerate() {
                        match (e.kind, &e.at) {
                            (Kind::Introduced, None) => opened = Some(i),
                            (Kind::Introduced, Some(b)) if ge(v, b) => opened = Some(i),
                            (Kind::Fixed, Some(b)) if ge(v, b) => opened = None,
                            (Kind::LastAffected, Some(b))
                                if v.compare(b) == Some(Ordering::Greater) =>
                            {
                                opened = None
                            }
                            _ => {}
                        }
                    }
                    if let Some(i) = opened {
                        let introduced = events.get(i).map_or("", |e| &*e.raw);
                        let until = events.iter().skip(i + 1).find_map(|e| match e.kind {
                            Kind::Fixed => Some(Until::Fixed(&e.raw)),
                            Kind::LastAffected => Some(Until::LastAffected(&e.raw)),
                            Kind::Introduced => None,
                        });
                        return Some(Hit::InRange {
                            range_index: range.index,
                            range_type: &range.kind_name,
                            introduced,
                            until,
                        });
                    }
                }
            }
        }
        None
    }

    /// The `fixed` versions of the entry's evaluable ranges that are above `version` (all of
    /// them, unordered, when the query version cannot be ordered).
    pub fn fixes_above(&self, parsed: &ParsedQuery<'_>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for range in &self.ranges {
            if let Compiled::Evaluable { scheme, events, .. } = &range.compiled {
                let v = parsed.get(*scheme).ok();
                for e in events {
                    if e.kind != Kind::Fixed {
                        continue;
                    }
                    let above = match (v, &e.at) {
                        (Some(v), Some(b)) => v.compare(b) == Some(Ordering::Less),
                        _ => true,
                    };
                    if above && !out.contains(&&*e.raw) {
                        out.push(&e.raw);
                    }
                }
            }
        }
        out
    }
}

/// Where an `affected[]` entry can hit, for the per-package candidate table
/// ([`super::candidates`]): a superset of the versions [`CompiledAffected::evaluate`] reports as
/// affected, and the orderings whose failure to parse the query makes it report a note.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Footprint<'a> {
    /// Evaluation always has something to say (a range that is not evaluated): always evaluate.
    Always,
    /// The entry has an evaluable range or listed versions under `scheme`: a query that is not a
    /// version of `scheme` must be evaluated (it is reported, or matched by text only).
    Uses(Scheme),
    /// A listed version that did not parse: matched by its text only.
    ListedText(&'a str),
    /// A listed version: a hit needs `v == at` under `scheme` (or the same text, which parses
    /// the same).
    Listed {
        /// The ordering of the entry.
        scheme: Scheme,
        /// The version.
        at: &'a Version,
        /// As written (equal texts are equal versions).
        raw: &'a str,
    },
    /// A necessary condition for a hit: `from <= v` (`None`: from the beginning) and `v` below
    /// `until` and below `limit` (each `None`: unbounded), all under `scheme`.
    Interval {
        /// The ordering of the bounds.
        scheme: Scheme,
        /// The `introduced` bound, inclusive.
        from: Option<&'a Version>,
        /// The first closing event after it, in evaluation order.
        until: Option<(&'a Version, Closing)>,
        /// The greatest `limit` (exclusive), when the range has finite limits only.
        limit: Option<&'a Version>,
    },
}

/// How an interval's upper bound closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// `fixed`: the bound itself is not affected.
    Exclusive,
    /// `last_affected`: the bound itself is affected.
    Inclusive,
}

impl CompiledAffected {
    /// Calls `emit` with the entry's [`Footprint`]s. Derivation of an interval: if the walk ends
    /// with the interval opened by `introduced` event `i`, then `v >= i` and every later event,
    /// in particular the first closing one after `i`, did not apply (`v < fixed`,
    /// `v <= last_affected`); a range with finite limits only applies below the greatest one.
    pub fn footprint<'a>(&'a self, mut emit: impl FnMut(Footprint<'a>)) {
        if let Some(scheme) = self.scheme {
            if !self.versions.is_empty() {
                emit(Footprint::Uses(scheme));
            }
        }
        for (raw, parsed) in &self.versions {
            match (self.scheme, parsed) {
                (Some(scheme), Some(v)) => emit(Footprint::Listed { scheme, at: v, raw }),
                _ => emit(Footprint::ListedText(raw)),
            }
        }
        for range in &self.ranges {
            match &range.compiled {
                Compiled::Git => {}
                Compiled::Skipped(_) => emit(Footprint::Always),
                Compiled::Evaluable {
                    scheme,
                    events,
                    limits,
                    unlimited,
                } => {
                    emit(Footprint::Uses(*scheme));
                    let limit = if *unlimited {
                        None
                    } else {
                        let greatest =
                            limits
                                .iter()
                                .fold(None, |acc: Option<&Version>, l| match acc {
                                    Some(a) if a.compare(l) != Some(Ordering::Less) => Some(a),
                                    _ => Some(l),
                                });
                        match greatest {
                            Some(l) => Some(l),
                            // Limited, but by nothing finite: the range never applies.
                            None => continue,
                        }
                    };
                    for (i, e) in events.iter().enumerate() {
                        if e.kind != Kind::Introduced {
                            continue;
                        }
                        let until = events.iter().skip(i + 1).find_map(|c| {
                            let closing = match c.kind {
                                Kind::Fixed => Closing::Exclusive,
                                Kind::LastAffected => Closing::Inclusive,
                                Kind::Introduced => return None,
                            };
                            Some(c.at.as_ref().map(|at| (at, closing)))
                        });
                        let until = match until {
                            // A closing event at "0" cannot be written (only `introduced` may
                            // be "0"); treat it as unbounded to stay a superset.
                            Some(Some(b)) => Some(b),
                            Some(None) | None => None,
                        };
                        emit(Footprint::Interval {
                            scheme: *scheme,
                            from: e.at.as_ref(),
                            until,
                            limit,
                        });
                    }
                }
            }
        }
    }
}

/// The queried version, parsed once under each ordering its ecosystem can need (the ecosystem's
/// own for ECOSYSTEM ranges and `versions`, SemVer for SEMVER ranges), the latter only when a
/// range asks for it.
#[derive(Debug)]
pub(crate) struct ParsedQuery<'a> {
    raw: &'a str,
    eco: Option<(Scheme, Result<Version, String>)>,
    /// SemVer's ordering when it is not the ecosystem's, parsed on first use.
    semver: Option<(Scheme, OnceCell<Result<Version, String>>)>,
}

impl<'a> ParsedQuery<'a> {
    /// Parses `raw` for a package of `ecosystem` (as OSV spells it).
    pub fn new(raw: &'a str, ecosystem: &str) -> Self {
        let eco = Scheme::for_ecosystem(ecosystem);
        let sem = Scheme::for_semver_range(ecosystem);
        ParsedQuery {
            raw,
            eco: eco.map(|s| (s, s.parse(raw))),
            semver: (eco != Some(sem)).then(|| (sem, OnceCell::new())),
        }
    }

    /// The version as queried.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The version under `scheme`, or why it is not one.
    pub fn get(&self, scheme: Scheme) -> Result<&Version, &str> {
        let parsed = match (&self.eco, &self.semver) {
            (Some((s, parsed)), _) if *s == scheme => parsed,
            (_, Some((s, cell))) if *s == scheme => cell.get_or_init(|| s.parse(self.raw)),
            _ => return Err("not parsed for this ecosystem"),
        };
        parsed.as_ref().map_err(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::model::Package;

    fn affected(eco: &str, events: &[(&str, &str)], versions: &[&str]) -> CompiledAffected {
        let events = events
            .iter()
            .map(|(k, v)| match *k {
                "introduced" => Event::Introduced(v.to_string()),
                "fixed" => Event::Fixed(v.to_string()),
                "last_affected" => Event::LastAffected(v.to_string()),
                _ => Event::Limit(v.to_string()),
            })
            .collect();
        let a = Affected {
            package: Some(Package {
                ecosystem: eco.into(),
                name: "p".into(),
                purl: None,
            }),
            severity: vec![],
            ranges: vec![Range {
                kind: if eco == "Go" {
                    RangeType::Semver
                } else {
                    RangeType::Ecosystem
                },
                repo: None,
                events,
            }],
            versions: versions.iter().map(|s| s.to_string()).collect(),
            ecosystem_specific: None,
            database_specific: None,
        };
        CompiledAffected::compile(&a, eco)
    }

    /// An ecosystem with the entry's ordering.
    fn a_eco(a: &CompiledAffected) -> String {
        match a.scheme {
            Some(Scheme::GoSemver) => "Go",
            Some(Scheme::Pep440) => "PyPI",
            Some(Scheme::Maven) => "Maven",
            Some(Scheme::Semver) => "npm",
            None => "Debian:11",
        }
        .to_string()
    }

    fn hit(a: &CompiledAffected, v: &str) -> bool {
        a.evaluate(&ParsedQuery::new(v, &a_eco(a)), &mut Vec::new())
            .is_some()
    }

    #[test]
    fn spec_examples() {
        let multi = affected(
            "Go",
            &[
                ("introduced", "3.0.0"),
                ("fixed", "3.2.5"),
                ("introduced", "1.0.0"),
                ("fixed", "1.0.2"),
            ],
            &[],
        );
        for (v, want) in [
            ("0.9.0", false),
            ("1.0.0", true),
            ("v1.0.1", true),
            ("1.0.2", false),
            ("2.0.0", false),
            ("3.0.0", true),
            ("3.2.4", true),
            ("3.2.5", false),
            ("4.0.0", false),
        ] {
            assert_eq!(hit(&multi, v), want, "{v}");
        }
        let last = affected(
            "PyPI",
            &[("introduced", "0"), ("last_affected", "2.1.214")],
            &[],
        );
        assert!(hit(&last, "2.1.214"));
        assert!(hit(&last, "0.0.dev0"));
        assert!(!hit(&last, "2.1.215"));
        let limit = affected("PyPI", &[("introduced", "1.0"), ("limit", "2.0")], &[]);
        assert!(hit(&limit, "1.5"));
        assert!(!hit(&limit, "2.0"));
        let star = affected("PyPI", &[("introduced", "1.0"), ("limit", "*")], &[]);
        assert!(hit(&star, "99"));
    }

    #[test]
    fn listed_versions_and_unordered_ecosystems() {
        let a = affected(
            "Debian:11",
            &[("introduced", "0"), ("fixed", "1.2-3")],
            &["1.0-1"],
        );
        assert!(hit(&a, "1.0-1"));
        let mut notes = Vec::new();
        assert!(a
            .evaluate(&ParsedQuery::new("1.1-1", "Debian:11"), &mut notes)
            .is_none());
        assert_eq!(notes.len(), 1);
        assert!(notes[0]
            .1
            .to_string()
            .contains("ecosystem Debian:11 has no version ordering"));
        let py = affected("PyPI", &[], &["1.0-rc2"]);
        assert!(hit(&py, "1.0rc2"));
        assert!(hit(&py, "1.0.0rc2"));
    }

    #[test]
    fn invalid_query_version_is_reported() {
        let a = affected("Go", &[("introduced", "0")], &[]);
        let mut notes = Vec::new();
        assert!(a
            .evaluate(&ParsedQuery::new("latest", "Go"), &mut notes)
            .is_none());
        assert!(matches!(notes[0].1, NotEvaluated::InvalidQueryVersion(_)));
    }
}
