//! [`VulnIndex`]: advisories indexed by (ecosystem, normalised package name), with their ranges
//! compiled at insert time so that a query only parses the queried version once per ordering.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

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
    severity: SeverityInfo,
    /// Parallel to `advisory.affected`; `None` for entries without a package. The `usize` is the
    /// entry's package in `keys`.
    compiled: Vec<Option<(usize, CompiledAffected)>>,
    /// (canonical ecosystem, normalised name) of every entry with a package, deduplicated.
    keys: Vec<(String, String)>,
}

/// An in-memory OSV index.
#[derive(Debug, Default)]
pub struct VulnIndex {
    by_id: HashMap<String, Arc<Stored>>,
    /// ecosystem → name → advisories with an entry for that package.
    by_package: HashMap<String, HashMap<String, Vec<Arc<Stored>>>>,
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
                if let Some(list) = names.get_mut(name) {
                    list.retain(|s| !Arc::ptr_eq(s, &stored));
                    if list.is_empty() {
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
        let stored = Arc::new(Stored {
            advisory,
            severity,
            compiled,
            keys,
        });
        for (eco, name) in &stored.keys {
            self.by_package
                .entry(eco.clone())
                .or_default()
                .entry(name.clone())
                .or_default()
                .push(Arc::clone(&stored));
        }
        self.by_id.insert(stored.advisory.id.clone(), stored);
    }

    /// The advisories affecting `name` at `version` in `ecosystem` (OSV spelling; known names are
    /// also accepted in any case, and PyPI names in any PEP 503 spelling). Withdrawn advisories
    /// never match.
    pub fn query(&self, ecosystem: &str, name: &str, version: &str) -> QueryResult<'_> {
        let eco = canonical_ecosystem(ecosystem);
        let name = normalize_name(&eco, name);
        let mut result = QueryResult::default();
        let Some(list) = self.by_package.get(&*eco).and_then(|n| n.get(&*name)) else {
            return result;
        };
        let parsed = ParsedQuery::new(version, &eco);
        let mut notes: Vec<(usize, NotEvaluated)> = Vec::new();
        for stored in list {
            let advisory = &stored.advisory;
            if advisory.is_withdrawn() {
                continue;
            }
            let Some(key) = stored
                .keys
                .iter()
                .position(|(e, n)| *e == *eco && *n == *name)
            else {
                continue;
            };
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
                if let Some(hit) = compiled.evaluate(&parsed, &mut notes) {
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
                    let fixed_versions = compiled.fixes_above(&parsed);
                    result.matches.push(Match {
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
