//! The OSV record model ([`Advisory`]) and its parser [`parse_advisory`].
//!
//! Lenient on unknown fields (OSV grows; `details`, `references`, `credits` … are not kept),
//! strict where meaning would be lost: an event object must carry exactly one of `introduced`,
//! `fixed`, `last_affected`, `limit`; `id`, `modified`, `package.ecosystem` and `package.name`
//! must be non-empty strings. Unknown range types are kept as [`RangeType::Unknown`]: they match
//! nothing and the query result says so.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::OsvError;

/// One OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The record's id, e.g. `GO-2022-0969` or `PYSEC-2021-371`.
    #[serde(deserialize_with = "non_empty")]
    pub id: String,
    /// RFC 3339 time of the last change, as written.
    #[serde(deserialize_with = "non_empty")]
    pub modified: String,
    /// RFC 3339 publication time, as written.
    #[serde(default)]
    pub published: Option<String>,
    /// RFC 3339 withdrawal time; a withdrawn advisory matches nothing.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability (CVE, GHSA, …).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// The affected packages and versions.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Record-level severities.
    #[serde(default)]
    pub severity: Vec<Severity>,
    /// Database-specific data (e.g. GitHub's `{"severity": "HIGH"}`).
    #[serde(default)]
    pub database_specific: Option<Value>,
}

impl Advisory {
    /// Whether the record carries a `withdrawn` time (it then matches nothing).
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }
}

/// One `affected[]` entry: a package and its affected ranges and versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The package; OSV 1.5+ allows entries without one (they match no package query).
    #[serde(default)]
    pub package: Option<Package>,
    /// Per-package severities (used when the record has no top-level `severity`).
    #[serde(default)]
    pub severity: Vec<Severity>,
    /// Affected version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Ecosystem-specific data, kept as written.
    #[serde(default)]
    pub ecosystem_specific: Option<Value>,
    /// Database-specific data, kept as written.
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// `affected[].package`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Ecosystem as OSV spells it (`Go`, `PyPI`, `crates.io`, `npm`, `Maven`, …).
    #[serde(deserialize_with = "non_empty")]
    pub ecosystem: String,
    /// Package name within the ecosystem.
    #[serde(deserialize_with = "non_empty")]
    pub name: String,
    /// Package URL without version, when given.
    #[serde(default)]
    pub purl: Option<String>,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM`, `GIT` or something else (kept, flagged, never matching).
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// Repository URL (GIT ranges).
    #[serde(default)]
    pub repo: Option<String>,
    /// The range's timeline of events, as written (evaluation sorts them).
    pub events: Vec<Event>,
}

/// The type of a range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeType {
    /// SemVer 2.0 precedence.
    Semver,
    /// The ecosystem's own ordering.
    Ecosystem,
    /// Git commits: not usable for version queries.
    Git,
    /// A type this implementation does not know, as written.
    Unknown(String),
}

impl RangeType {
    /// The type as OSV spells it.
    pub fn as_str(&self) -> &str {
        match self {
            RangeType::Semver => "SEMVER",
            RangeType::Ecosystem => "ECOSYSTEM",
            RangeType::Git => "GIT",
            RangeType::Unknown(s) => s,
        }
    }
}

impl Serialize for RangeType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RangeType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "SEMVER" => RangeType::Semver,
            "ECOSYSTEM" => RangeType::Ecosystem,
            "GIT" => RangeType::Git,
            _ => RangeType::Unknown(s),
        })
    }
}

/// One event of a range's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEvent", rename_all = "snake_case")]
pub enum Event {
    /// The vulnerability starts at this version (`"0"`: before every version).
    Introduced(String),
    /// This version no longer has it.
    Fixed(String),
    /// The last version known to have it.
    LastAffected(String),
    /// Upper limit of the range (`"*"`: infinity).
    Limit(String),
}

impl Event {
    /// The event's version string.
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

impl TryFrom<RawEvent> for Event {
    type Error = String;
    fn try_from(raw: RawEvent) -> Result<Self, String> {
        let mut found = Vec::with_capacity(1);
        if let Some(v) = raw.introduced {
            found.push(Event::Introduced(v));
        }
        if let Some(v) = raw.fixed {
            found.push(Event::Fixed(v));
        }
        if let Some(v) = raw.last_affected {
            found.push(Event::LastAffected(v));
        }
        if let Some(v) = raw.limit {
            found.push(Event::Limit(v));
        }
        if found.len() > 1 {
            return Err("an event must have exactly one of introduced, fixed, last_affected, limit; this one has several (write one event object per version)".into());
        }
        let event = found.pop().ok_or_else(|| {
            "an event must have one of introduced, fixed, last_affected, limit; this one has none"
                .to_string()
        })?;
        if event.version().is_empty() {
            return Err("the event's version is an empty string".into());
        }
        Ok(event)
    }
}

/// A severity entry: a scoring `type` (`CVSS_V3`, `CVSS_V4`, …) and its `score` string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    /// The scoring method.
    #[serde(rename = "type")]
    pub kind: String,
    /// The score string, e.g. a CVSS vector.
    pub score: String,
}

fn non_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom("must be a non-empty string"));
    }
    Ok(s)
}

/// Parses one OSV JSON record. `source` names where it came from (file name, zip entry) and
/// appears in every error together with the JSON pointer of the problem.
pub fn parse_advisory(bytes: &[u8], source: &str) -> Result<Advisory, OsvError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<Advisory, _> = serde_path_to_error::deserialize(&mut de);
    let advisory = match parsed {
        Ok(a) => a,
        Err(e) => {
            let pointer = pointer_of(e.path());
            let inner = e.into_inner();
            let message = inner.to_string();
            if message.contains("recursion limit exceeded") {
                return Err(OsvError::TooDeep {
                    source_name: source.to_string(),
                    pointer,
                });
            }
            return Err(OsvError::Json {
                source_name: source.to_string(),
                pointer,
                message,
            });
        }
    };
    de.end().map_err(|e| OsvError::Json {
        source_name: source.to_string(),
        pointer: String::new(),
        message: e.to_string(),
    })?;
    Ok(advisory)
}

/// Turns serde_path_to_error's path into an RFC 6901 JSON pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_record_and_keeps_unknown_range_types() {
        let json = br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":"ignored",
          "affected":[{"package":{"ecosystem":"PyPI","name":"a"},
            "ranges":[{"type":"FANCY","events":[{"introduced":"0"}]}]}]}"#;
        let a = parse_advisory(json, "x.json").unwrap();
        assert_eq!(a.id, "X-1");
        assert_eq!(
            a.affected[0].ranges[0].kind,
            RangeType::Unknown("FANCY".into())
        );
        assert!(!a.is_withdrawn());
    }

    #[test]
    fn event_with_two_kinds_is_an_error_with_pointer() {
        let json = br#"{"id":"X-1","modified":"m","affected":[{"package":{"ecosystem":"PyPI","name":"a"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"introduced":"1","fixed":"2"}]}]}]}"#;
        let e = parse_advisory(json, "x.json").unwrap_err();
        match &e {
            OsvError::Json {
                pointer,
                source_name,
                message,
            } => {
                assert_eq!(pointer, "/affected/0/ranges/0/events/1");
                assert_eq!(source_name, "x.json");
                assert!(message.contains("exactly one"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_id_and_empty_name_are_errors() {
        let e = parse_advisory(br#"{"modified":"m"}"#, "s").unwrap_err();
        assert!(e.to_string().contains("id"), "{e}");
        let e = parse_advisory(
            br#"{"id":"a","modified":"m","affected":[{"package":{"ecosystem":"Go","name":""}}]}"#,
            "s",
        )
        .unwrap_err();
        assert!(e.to_string().contains("/affected/0/package/name"), "{e}");
    }

    #[test]
    fn deep_nesting_is_a_clear_error_not_a_stack_overflow() {
        let mut json = String::from(r#"{"id":"a","modified":"m","database_specific":"#);
        json.push_str(&"[".repeat(100_000));
        json.push_str(&"]".repeat(100_000));
        json.push('}');
        let e = parse_advisory(json.as_bytes(), "deep.json").unwrap_err();
        assert!(matches!(e, OsvError::TooDeep { .. }), "{e:?}");
        assert!(e.to_string().contains("deep.json"));
    }

    #[test]
    fn trailing_garbage_and_non_json_are_errors() {
        assert!(parse_advisory(br#"{"id":"a","modified":"m"} x"#, "s").is_err());
        assert!(parse_advisory(b"\xff", "s").is_err());
    }
}
