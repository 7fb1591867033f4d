//! [`VulnIndex`]: advisories indexed by (ecosystem, normalised package name), with their ranges
//! compiled at insert time so that a query only parses the queried version once per ordering.
//! Each package also has a [`CandidateTable`] (built by [`VulnIndex::from_advisories`], or on the
//! first query after a change): a query evaluates only the advisories it names as candidates.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::candidates::CandidateTable;
use super::ecosystem::{canonical_ecosystem, normalize_name};
use super::error::OsvError;
use super::model::Advisory;
use super::purl::parse_purl;
use super::range::{CompiledAffected, Hit, NotEvaluated, ParsedQuery};
use super::severity::{advisory_severity, SeverityInfo};

/// An advisory that affects the queried package version. Borrows from the [`VulnIndex`], so a
/// scan allocates little per match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match<'a> {
    /// The advisory's id, aliases and summary, shareable by findings (not serialised).
    #[serde(skip)]
    pub text: &'a AdvisoryText,
    /// The advisory id.
    pub id: &'a str,
    /// Its aliases (CVE, GHSA, …).
    pub aliases: &'a [String],
    /// Its summary, when it has one.
    pub summary: Option<&'a str>,
    /// Its severity (computed once, at insert time).
    pub severity: &'a SeverityInfo,
    /// Whether a `fixed` version above the queried one exists.
    pub fix_available: bool,
    /// Those `fixed` versions, as written (for an ecosystem without ordering: every `fixed`).
    pub fixed_versions: Vec<&'a str>,
    /// Index of the `affected[]` entry that matched.
    pub affected_index: usize,
    /// What matched: a listed version or a range.
    pub hit: Hit<'a>,
    /// The whole advisory (not serialised).
    #[serde(skip)]
    pub advisory: &'a Advisory,
}

/// A range of an advisory for the queried package that could not be evaluated (it matched
/// nothing); reported so that a "no match" is never silently a "could not tell".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unevaluated {
    /// The advisory id.
    pub id: String,
    /// Index of the `affected[]` entry.
    pub affected_index: usize,
    /// Index of the range in `affected[].ranges`.
    pub range_index: usize,
    /// Why.
    pub reason: NotEvaluated,
}

/// The answer to a query.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueryResult<'a> {
    /// Affecting advisories, one per advisory, sorted by id.
    pub matches: Vec<Match<'a>>,
    /// Ranges of non-matching advisories that could not be evaluated.
    pub unevaluated: Vec<Unevaluated>,
}

#[derive(Debug)]
struct Stored {
    advisory: Advisory,
    /// The advisory's identifying text, shared by every finding that reports it.
    text: AdvisoryText,
    severity: SeverityInfo,
    /// Parallel to `advisory.affected`; `None` for entries without a package. The `usize` is the
    /// entry's package in `keys`.
    compiled: Vec<Option<(usize, CompiledAffected)>>,
    /// (canonical ecosystem, normalised name) of every entry with a package, deduplicated.
    keys: Vec<(String, String)>,
}

/// The advisories of one package.
#[derive(Debug, Default)]
struct PackageAdvisories {
    /// Every advisory with an entry for the package, in insertion order.
    list: Vec<Arc<Stored>>,
    /// Built from `list` when first needed; reset when `list` changes.
    table: OnceLock<Prepared>,
}

/// What a query of the package needs beside the list.
#[derive(Debug)]
struct Prepared {
    candidates: CandidateTable,
    /// Parallel to the list: the package's position in each advisory's `keys`.
    keys: Vec<Option<usize>>,
}

impl PackageAdvisories {
    fn table(&self, eco: &str, name: &str) -> &Prepared {
        self.table.get_or_init(|| {
            let keys: Vec<Option<usize>> = self
                .list
                .iter()
                .map(|stored| key_of(stored, eco, name))
                .collect();
            let candidates = CandidateTable::build(
                self.list
                    .iter()
                    .zip(&keys)
                    .enumerate()
                    .filter(|(_, (stored, _))| !stored.advisory.is_withdrawn())
                    .flat_map(|(slot, (stored, key))| {
                        stored.compiled.iter().filter_map(move |c| match (c, key) {
                            (Some((k, c)), Some(key)) if k == key => Some((slot, c)),
                            _ => None,
                        })
                    }),
            );
            Prepared { candidates, keys }
        })
    }
}

/// The position of (eco, name) in the advisory's `keys`.
fn key_of(stored: &Stored, eco: &str, name: &str) -> Option<usize> {
    stored
        .keys
        .iter()
        .position(|(e, n)| *e == *eco && *n == *name)
}

/// An advisory's id, aliases and summary, made once at insert time and shared (cheaply cloned)
/// by every finding that reports the advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisoryText {
    /// The advisory id.
    pub id: Arc<str>,
    /// Its aliases.
    pub aliases: Arc<[String]>,
    /// Its summary.
    pub summary: Option<Arc<str>>,
}

/// An in-memory OSV index.
#[derive(Debug, Default)]
pub struct VulnIndex {
    by_id: HashMap<String, Arc<Stored>>,
    /// ecosystem → name → advisories with an entry for that package.
    by_package: HashMap<String, HashMap<String, PackageAdvisories>>,
}

impl VulnIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of `advisories` (a later advisory with an id already seen replaces it).
    pub fn from_advisories(advisories: impl IntoIterator<Item = Advisory>) -> Self {
        let mut index = Self::new();
        for a in advisories {
            index.replace(a);
        }
        for (eco, names) in &index.by_package {
            for (name, package) in names {
                package.table(eco, name);
            }
        }
        index
    }

    /// Number of advisories held (withdrawn ones included).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index holds no advisory.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The advisory with this id.
    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.by_id.get(id).map(|s| &s.advisory)
    }

    /// Iterates over the held advisories (in no particular order).
    pub fn advisories(&self) -> impl Iterator<Item = &Advisory> {
        self.by_id.values().map(|s| &s.advisory)
    }

    /// Adds an advisory; returns `false` (and changes nothing) when its id is already held.
    pub fn insert(&mut self, advisory: Advisory) -> bool {
        if self.by_id.contains_key(&advisory.id) {
            return false;
        }
        self.add(advisory);
        true
    }

    /// Adds or replaces the advisory with the same id; returns the replaced one.
    pub fn replace(&mut self, advisory: Advisory) -> Option<Advisory> {
        let old = self.remove(&advisory.id);
        self.add(advisory);
        old
    }

    /// Removes an advisory by id; returns it.
    pub fn remove(&mut self, id: &str) -> Option<Advisory> {
        let stored = self.by_id.remove(id)?;
        for (eco, name) in &stored.keys {
            if let Some(names) = self.by_package.get_mut(eco) {
                if let Some(package) = names.get_mut(name) {
                    package.list.retain(|s| !Arc::ptr_eq(s, &stored));
                    package.table = OnceLock::new();
                    if package.list.is_empty() {
                        names.remove(name);
                    }
                }
                if names.is_empty() {
                    self.by_package.remove(eco);
                }
            }
        }
        match Arc::try_unwrap(stored) {
            Ok(s) => Some(s.advisory),
            Err(shared) => Some(shared.advisory.clone()),
        }
    }

    fn add(&mut self, advisory: Advisory) {
        let mut keys: Vec<(String, String)> = Vec::new();
        let compiled = advisory
            .affected
            .iter()
            .map(|a| {
                let p = a.package.as_ref()?;
                let eco = canonical_ecosystem(&p.ecosystem).into_owned();
                let name = normalize_name(&eco, &p.name).into_owned();
                let c = CompiledAffected::compile(a, &eco);
                let key = match keys.iter().position(|(e, n)| *e == eco && *n == name) {
                    Some(k) => k,
                    None => {
                        keys.push((eco, name));
                        keys.len() - 1
                    }
                };
                Some((key, c))
            })
            .collect();
        let severity = advisory_severity(&advisory);
        let text = AdvisoryText {
            id: Arc::from(advisory.id.as_str()),
            aliases: Arc::from(advisory.aliases.as_slice()),
            summary: advisory.summary.as_deref().map(Arc::from),
        };
        let stored = Arc::new(Stored {
            advisory,
            text,
            severity,
            compiled,
            keys,
        });
        for (eco, name) in &stored.keys {
            let package = self
                .by_package
                .entry(eco.clone())
                .or_default()
                .entry(name.clone())
                .or_default();
            package.list.push(Arc::clone(&stored));
            package.table = OnceLock::new();
        }
        self.by_id.insert(stored.advisory.id.clone(), stored);
    }

    /// The advisories affecting `name` at `version` in `ecosystem` (OSV spelling; known names are
    /// also accepted in any case, and PyPI names in any PEP 503 spelling). Withdrawn advisories
    /// never match.
    pub fn query(&self, ecosystem: &str, name: &str, version: &str) -> QueryResult<'_> {
        self.query_with(ecosystem, name, version, true)
    }

    /// [`VulnIndex::query`], evaluating only the candidates of the package's table
    /// (`use_table`) or every advisory of the package (the reference the table is tested
    /// against, and the fallback when the table cannot tell).
    fn query_with(
        &self,
        ecosystem: &str,
        name: &str,
        version: &str,
        use_table: bool,
    ) -> QueryResult<'_> {
        let eco = canonical_ecosystem(ecosystem);
        let name = normalize_name(&eco, name);
        let mut result = QueryResult::default();
        let Some(package) = self.by_package.get(&*eco).and_then(|n| n.get(&*name)) else {
            return result;
        };
        let parsed = ParsedQuery::new(version, &eco);
        let mut notes: Vec<(usize, NotEvaluated)> = Vec::new();
        let mut slots: Vec<usize> = Vec::new();
        let prepared = package.table(&eco, &name);
        let filtered = use_table
            && prepared
                .candidates
                .candidates(&parsed, &mut slots)
                .is_some();
        if filtered {
            for slot in slots {
                if let (Some(stored), Some(Some(key))) =
                    (package.list.get(slot), prepared.keys.get(slot))
                {
                    evaluate_advisory(stored, *key, &parsed, &mut notes, &mut result);
                }
            }
        } else {
            for stored in &package.list {
                if let Some(key) = key_of(stored, &eco, &name) {
                    evaluate_advisory(stored, key, &parsed, &mut notes, &mut result);
                }
            }
        }
        result.matches.sort_by(|a, b| a.id.cmp(b.id));
        result
    }

    /// [`VulnIndex::query`] for a purl with a version (`pkg:pypi/django@1.11.1`).
    pub fn query_purl(&self, purl: &str) -> Result<QueryResult<'_>, OsvError> {
        let p = parse_purl(purl)?;
        let version = p.version.ok_or_else(|| OsvError::Purl {
            purl: purl.to_string(),
            problem: "it has no @version, and a query needs one".to_string(),
        })?;
        Ok(self.query(&p.ecosystem, &p.name, &version))
    }
}

/// Evaluates every entry of `stored` for the package at `key` in its `keys`, in order: the first
/// entry that hits makes the match; with no hit, the ranges that could not be evaluated are
/// reported.
fn evaluate_advisory<'a>(
    stored: &'a Stored,
    key: usize,
    parsed: &ParsedQuery<'_>,
    notes: &mut Vec<(usize, NotEvaluated)>,
    result: &mut QueryResult<'a>,
) {
    let advisory = &stored.advisory;
    if advisory.is_withdrawn() {
        return;
    }
    let mut pending: Vec<Unevaluated> = Vec::new();
    let mut found = None;
    for (i, compiled) in stored.compiled.iter().enumerate() {
        let Some((k, compiled)) = compiled else {
            continue;
        };
        if *k != key {
            continue;
        }
        notes.clear();
        if let Some(hit) = compiled.evaluate(parsed, notes) {
            found = Some((i, compiled, hit));
            break;
        }
        pending.extend(notes.drain(..).map(|(range_index, reason)| Unevaluated {
            id: advisory.id.clone(),
            affected_index: i,
            range_index,
            reason,
        }));
    }
    match found {
        Some((affected_index, compiled, hit)) => {
            let fixed_versions = compiled.fixes_above(parsed);
            result.matches.push(Match {
                text: &stored.text,
                id: &advisory.id,
                aliases: &advisory.aliases,
                summary: advisory.summary.as_deref(),
                severity: &stored.severity,
                fix_available: !fixed_versions.is_empty(),
                fixed_versions,
                affected_index,
                hit,
                advisory,
            });
        }
        None => result.unevaluated.extend(pending),
    }
}

#[cfg(test)]
mod tests {
    //! The candidate tables must never change an answer: every query below is answered with the
    //! table and by evaluating every advisory of the package, and the whole results (matches with
    //! their details, `unevaluated` in order) must be equal.

    use std::collections::BTreeSet;
    use std::path::Path;

    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::osv::load::read_dir;
    use crate::osv::model::parse_advisory;

    /// Asserts that the table path and the every-advisory path agree; returns the matches.
    fn agree(index: &VulnIndex, eco: &str, name: &str, version: &str) -> usize {
        let fast = index.query_with(eco, name, version, true);
        let reference = index.query_with(eco, name, version, false);
        assert_eq!(fast, reference, "{eco} {name} {version}");
        fast.matches.len() + fast.unevaluated.len()
    }

    /// Versions around a bound: the bound and spellings just above, below or beside it.
    fn variants(v: &str) -> Vec<String> {
        let mut out = vec![v.to_string()];
        for suffix in [
            ".1", "-rc1", "a1", ".dev0", ".post1", "+local.1", "-0", ".0",
        ] {
            out.push(format!("{v}{suffix}"));
        }
        out.push(format!("v{v}"));
        if let Some(stripped) = v.strip_prefix('v') {
            out.push(stripped.to_string());
        }
        out
    }

    #[test]
    fn table_agrees_with_every_advisory_on_real_data() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
        let files = read_dir(&dir).expect("../shared/data/osv must exist");
        let advisories: Vec<Advisory> = files
            .into_iter()
            .map(|f| f.advisory.unwrap_or_else(|e| panic!("{}: {e}", f.name)))
            .collect();
        let mut probes: BTreeSet<(String, String, String)> = BTreeSet::new();
        for a in &advisories {
            for affected in &a.affected {
                let Some(p) = &affected.package else { continue };
                let bounds = affected
                    .ranges
                    .iter()
                    .flat_map(|r| r.events.iter().map(|e| e.version().to_string()))
                    .chain(affected.versions.iter().cloned());
                for b in bounds {
                    for v in variants(&b) {
                        probes.insert((p.ecosystem.clone(), p.name.clone(), v));
                    }
                }
            }
        }
        for (eco, name) in [("PyPI", "tensorflow"), ("Go", "stdlib")] {
            for v in ["0", "latest", "99999", "", "1!0", "go1.21rc2"] {
                probes.insert((eco.into(), name.into(), v.into()));
            }
        }
        let index = VulnIndex::from_advisories(advisories);
        // Every probe of the heavily-advised packages, a seeded sample of the rest (the
        // reference path is slow in debug builds).
        let mut rng = StdRng::seed_from_u64(5);
        let heavy = ["tensorflow", "tensorflow-gpu", "django", "stdlib", "plone"];
        let mut asked = 0;
        let mut answered = 0;
        for (eco, name, version) in &probes {
            if heavy.contains(&name.as_str()) || rng.gen_ratio(1, 4) {
                answered += agree(&index, eco, name, version);
                asked += 1;
            }
        }
        assert!(asked > 10_000, "only {asked} probes");
        assert!(answered > 10_000, "only {answered} matches or notes");
    }

    /// A small version universe where PEP 440, SemVer and Go spellings meet (some are not
    /// versions of some orderings).
    const UNIVERSE: &[&str] = &[
        "0",
        "0.9",
        "1",
        "1.0",
        "1.0.0",
        "v1.0.0",
        "1.0.0-rc.1",
        "1.0rc1",
        "1.0.post1",
        "1.1",
        "1.1.0",
        "1.2.3",
        "2",
        "2.0.0",
        "2.0.0+build",
        "3.0.0",
        "10.0.0",
        "x",
        "latest",
    ];

    fn random_advisory(rng: &mut StdRng, n: usize) -> Advisory {
        let ecosystems = ["PyPI", "Go", "Debian:11", "npm"];
        let names = ["a", "b"];
        let kinds = ["ECOSYSTEM", "ECOSYSTEM", "SEMVER", "GIT", "WEIRD"];
        let events = [
            "introduced",
            "introduced",
            "fixed",
            "last_affected",
            "limit",
        ];
        let pick = |rng: &mut StdRng, from: &[&'static str]| -> &'static str {
            from.choose(rng).copied().unwrap_or_default()
        };
        let affected: Vec<serde_json::Value> = (0..rng.gen_range(1..4))
            .map(|_| {
                let ranges: Vec<serde_json::Value> = (0..rng.gen_range(0..3))
                    .map(|_| {
                        let evs: Vec<serde_json::Value> = (0..rng.gen_range(1..5))
                            .map(|_| {
                                let kind = pick(rng, &events);
                                let v = match kind {
                                    "introduced" if rng.gen_ratio(1, 3) => "0",
                                    "limit" if rng.gen_ratio(1, 3) => "*",
                                    _ => pick(rng, UNIVERSE),
                                };
                                serde_json::json!({ kind: v })
                            })
                            .collect();
                        serde_json::json!({"type": pick(rng, &kinds), "repo": "https://x", "events": evs})
                    })
                    .collect();
                let versions: Vec<&str> = (0..rng.gen_range(0..3))
                    .map(|_| pick(rng, UNIVERSE))
                    .collect();
                // One entry in five in any ecosystem, so keys differ within an advisory.
                let ecosystem = if rng.gen_ratio(1, 5) {
                    pick(rng, &ecosystems)
                } else {
                    pick(rng, &ecosystems[..2])
                };
                serde_json::json!({
                    "package": {"ecosystem": ecosystem, "name": pick(rng, &names)},
                    "ranges": ranges,
                    "versions": versions,
                })
            })
            .collect();
        let mut doc = serde_json::json!({
            "id": format!("R-{n}"),
            "modified": "2024-01-01T00:00:00Z",
            "affected": affected,
        });
        if rng.gen_ratio(1, 10) {
            doc["withdrawn"] = "2024-02-01T00:00:00Z".into();
        }
        let bytes = serde_json::to_vec(&doc).expect("JSON value serialises");
        parse_advisory(&bytes, "random.json").unwrap_or_else(|e| panic!("{doc}: {e}"))
    }

    fn agree_everywhere(index: &VulnIndex) -> usize {
        let mut answered = 0;
        for eco in ["PyPI", "Go", "Debian:11", "npm"] {
            for name in ["a", "b"] {
                for v in UNIVERSE {
                    answered += agree(index, eco, name, v);
                }
            }
        }
        answered
    }

    #[test]
    fn table_agrees_with_every_advisory_on_random_advisories() {
        let mut rng = StdRng::seed_from_u64(2026);
        let mut answered = 0;
        for round in 0..200 {
            let advisories: Vec<Advisory> = (0..rng.gen_range(1..12))
                .map(|n| random_advisory(&mut rng, n))
                .collect();
            let mut index = VulnIndex::from_advisories(advisories);
            answered += agree_everywhere(&index);
            // Incremental changes rebuild the tables on the next query.
            index.replace(random_advisory(&mut rng, 0));
            index.remove("R-1");
            index.insert(random_advisory(&mut rng, 100 + round));
            answered += agree_everywhere(&index);
        }
        assert!(answered > 1_000, "only {answered} matches or notes");
    }
}
