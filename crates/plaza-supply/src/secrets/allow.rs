//! The allow-list: findings that are known and accepted. A finding is allowed by its rule id, by a
//! glob over its location label, by its fingerprint, by a `plaza:allow-secret` marker on the same
//! line, or, unless switched off, because the value is a well-known documentation example (such
//! as AWS's `AKIAIOSFODNN7EXAMPLE`). Allowed findings are still reported, with the reason, so that
//! an allow-list can be audited.

use std::collections::BTreeSet;
use std::fmt;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::error::SecretsError;
use super::redaction::Finding;

/// The inline marker that allows every secret on its line.
pub const INLINE_MARKER: &[u8] = b"plaza:allow-secret";

/// Well-known example values published in vendor documentation, allowed by default.
pub const KNOWN_EXAMPLES: &[(&str, &str)] = &[
    ("AKIAIOSFODNN7EXAMPLE", "AWS documentation example access key id"),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS documentation example secret access key"),
    ("je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "AWS documentation example secret access key"),
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "jwt.io example token",
    ),
];

/// The allow-list as written in configuration (e.g. a `[secrets.allow]` TOML table).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllowListConfig {
    /// Rule ids whose findings are all allowed.
    pub rules: Vec<String>,
    /// Globs over location labels (`**/testdata/**`, `*.md`); `*` also matches `/`.
    pub locations: Vec<String>,
    /// Finding fingerprints (hex SHA-256).
    pub fingerprints: Vec<String>,
    /// Report documentation example values as findings too.
    pub disable_known_examples: bool,
}

/// Why a finding was allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum AllowReason {
    /// The rule id is allow-listed.
    Rule(String),
    /// The location matched this glob.
    Location(String),
    /// The fingerprint is allow-listed.
    Fingerprint,
    /// The line carries `plaza:allow-secret`.
    InlineMarker,
    /// The value is a well-known documentation example (which one).
    KnownExample(String),
}

impl fmt::Display for AllowReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(id) => write!(f, "rule `{id}` is allow-listed"),
            Self::Location(glob) => write!(f, "location matches allow-listed glob `{glob}`"),
            Self::Fingerprint => f.write_str("fingerprint is allow-listed"),
            Self::InlineMarker => f.write_str("line carries `plaza:allow-secret`"),
            Self::KnownExample(what) => {
                write!(f, "well-known example value ({what}), allowed by default")
            }
        }
    }
}

/// A finding that the allow-list accepted, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowedFinding {
    /// The finding (redacted like any other).
    pub finding: Finding,
    /// Why it is allowed.
    pub reason: AllowReason,
}

impl fmt::Display for AllowedFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — allowed: {}", self.finding, self.reason)
    }
}

/// The compiled allow-list.
#[derive(Clone, Debug)]
pub struct AllowList {
    rules: BTreeSet<String>,
    globs: Vec<String>,
    glob_set: GlobSet,
    fingerprints: BTreeSet<String>,
    known_examples: bool,
}

impl Default for AllowList {
    fn default() -> Self {
        Self {
            rules: BTreeSet::new(),
            globs: Vec::new(),
            glob_set: GlobSet::empty(),
            fingerprints: BTreeSet::new(),
            known_examples: true,
        }
    }
}

impl AllowList {
    /// The default allow-list: only the well-known examples (and inline markers).
    pub fn new() -> Self {
        Self::default()
    }

    /// Compiles a configured allow-list; a bad glob is an error naming it.
    pub fn from_config(config: &AllowListConfig) -> Result<Self, SecretsError> {
        let mut list = Self::new();
        for rule in &config.rules {
            list = list.allow_rule(rule);
        }
        for fingerprint in &config.fingerprints {
            list = list.allow_fingerprint(fingerprint);
        }
        for glob in &config.locations {
            list = list.allow_location(glob)?;
        }
        list.known_examples = !config.disable_known_examples;
        Ok(list)
    }

    /// Allows every finding of a rule.
    pub fn allow_rule(mut self, rule_id: &str) -> Self {
        self.rules.insert(rule_id.to_owned());
        self
    }

    /// Allows one finding by fingerprint (case-insensitive hex).
    pub fn allow_fingerprint(mut self, fingerprint: &str) -> Self {
        self.fingerprints
            .insert(fingerprint.trim().to_ascii_lowercase());
        self
    }

    /// Allows findings whose location label matches `glob`.
    pub fn allow_location(mut self, glob: &str) -> Result<Self, SecretsError> {
        self.globs.push(glob.to_owned());
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.globs {
            let compiled = Glob::new(pattern).map_err(|e| SecretsError::InvalidAllowGlob {
                pattern: pattern.clone(),
                problem: e.kind().to_string(),
            })?;
            builder.add(compiled);
        }
        self.glob_set = builder
            .build()
            .map_err(|e| SecretsError::InvalidAllowGlob {
                pattern: glob.to_owned(),
                problem: e.to_string(),
            })?;
        Ok(self)
    }

    /// Whether documentation example values are allowed (the default).
    pub fn with_known_examples(mut self, allowed: bool) -> Self {
        self.known_examples = allowed;
        self
    }

    /// Why `finding` (whose secret is `secret`, whose line carries the marker or not) is
    /// allowed, if it is.
    pub(crate) fn reason(
        &self,
        finding: &Finding,
        secret: &[u8],
        marker_on_line: bool,
    ) -> Option<AllowReason> {
        if self.rules.contains(&finding.rule_id) {
            return Some(AllowReason::Rule(finding.rule_id.clone()));
        }
        if self.fingerprints.contains(&finding.fingerprint) {
            return Some(AllowReason::Fingerprint);
        }
        if let Some(index) = self.glob_set.matches(&finding.location.label).first() {
            let glob = self.globs.get(*index).cloned().unwrap_or_default();
            return Some(AllowReason::Location(glob));
        }
        if marker_on_line {
            return Some(AllowReason::InlineMarker);
        }
        if self.known_examples {
            if let Some((_, what)) = KNOWN_EXAMPLES
                .iter()
                .find(|(value, _)| value.as_bytes() == secret)
            {
                return Some(AllowReason::KnownExample((*what).to_owned()));
            }
        }
        None
    }
}
