//! Per-event problems: a stable [`Code`], a JSON pointer, a message and a fix hint. Decoding
//! ([`parse`](crate::parse())) and validation ([`validate`](crate::validate())) share one code list
//! so that a batch response can report either with the same envelope.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $stage:literal, $summary:literal; )*) => {
        /// Why an event was not accepted. The string form ([`Code::as_str`]) is stable API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable string form, e.g. `unknown_metric`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// `decode` for problems found while reading the body, `validate` for problems
            /// found against the manifest, the clock and the unit registry, `ingest` for
            /// problems only the server and its store can find.
            pub fn stage(self) -> &'static str {
                match self { $(Code::$variant => $stage,)* }
            }

            /// One line on what the code means (used in docs).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }
        }
    };
}

codes! {
    /// An NDJSON line is not well-formed JSON (including `NaN` and `Infinity`).
    MalformedJson = "malformed_json", "decode", "an NDJSON line is not well-formed JSON (NaN and Infinity included)";
    /// An event is not a JSON object.
    NotAnObject = "not_an_object", "decode", "an element of the batch or an NDJSON line is not a JSON object";
    /// A field the format does not define.
    UnknownField = "unknown_field", "decode", "a field the event format does not define";
    /// A known field in the wrong place (e.g. `metric` outside a CloudEvent's `data`).
    MisplacedField = "misplaced_field", "decode", "a Plaza field at the top level of a CloudEvent (it belongs in `data`, or has a CloudEvents name)";
    /// The same field twice in one object.
    DuplicateField = "duplicate_field", "decode", "the same field appears twice in one object";
    /// A required field is absent.
    MissingField = "missing_field", "decode", "a required field is absent";
    /// A field has the wrong JSON type.
    InvalidType = "invalid_type", "decode", "a field has the wrong JSON type (e.g. a number in quotes, an epoch number as timestamp)";
    /// A field has a value outside its allowed set.
    InvalidValue = "invalid_value", "decode", "a field's value is not one of those allowed (kind, CloudEvents specversion/type/datacontenttype, sequence)";
    /// A number whose magnitude exceeds the decimal range.
    NumberOutOfRange = "number_out_of_range", "decode", "a number's magnitude exceeds 79228162514264337593543950335 (e.g. 1e400)";
    /// A number with more precision than the decimal type keeps.
    NumberTooPrecise = "number_too_precise", "decode", "a number has more than 28 decimal places or 29 significant digits";
    /// An id is empty, too long or holds control characters.
    InvalidId = "invalid_id", "validate", "eventId, appId, instanceId or ref is empty, longer than 256 bytes, or holds control characters";
    /// The metric is neither declared nor a host metric.
    UnknownMetric = "unknown_metric", "validate", "the metric is neither declared in the installed manifest's billing.metrics nor a host metric";
    /// `usage` and `adjust` need a value.
    MissingValue = "missing_value", "validate", "a usage or adjust event has no value";
    /// A usage value below zero.
    NegativeValue = "negative_value", "validate", "a usage event's value is below zero (negative amounts only in adjust corrections)";
    /// A correction without `ref`.
    MissingRef = "missing_ref", "validate", "a void or adjust correction has no ref";
    /// `ref` on a plain usage event.
    UnexpectedRef = "unexpected_ref", "validate", "a usage event carries ref (only corrections do)";
    /// A correction that refers to itself.
    SelfReference = "self_reference", "validate", "a correction's ref is its own eventId";
    /// The timestamp is not RFC 3339.
    InvalidTimestamp = "invalid_timestamp", "validate", "the timestamp is not an RFC 3339 date-time with an offset";
    /// The timestamp is beyond the allowed clock skew.
    TimestampInFuture = "timestamp_in_future", "validate", "the timestamp is more than the allowed skew (5 minutes) ahead of the server clock";
    /// The timestamp is older than the late-arrival window.
    TimestampTooOld = "timestamp_too_old", "validate", "the timestamp is older than the organisation's late-arrival window (35 days by default)";
    /// The unit is not in the registry.
    UnknownUnit = "unknown_unit", "validate", "the unit is not a symbol of the unit registry (symbols are case-sensitive)";
    /// The unit measures another dimension than the metric's.
    UnitMismatch = "unit_mismatch", "validate", "the unit measures another dimension than the metric's declared unit (e.g. bytes for a time metric)";
    /// The converted value needs more than 28 decimal places.
    InexactConversion = "inexact_conversion", "validate", "converting to the declared unit does not give an exact decimal (e.g. 1 ms in minutes)";
    /// The converted value is beyond the decimal range.
    ValueOutOfRange = "value_out_of_range", "validate", "converting to the declared unit gives a value beyond the decimal range";
    /// A tag key or value breaks the limits.
    InvalidTag = "invalid_tag", "validate", "too many tags, or a tag key or value that is empty, too long or holds control characters";
    /// A dimension key or value breaks the limits.
    InvalidDimension = "invalid_dimension", "validate", "too many dimensions, or a dimension key or value that is empty, too long or holds control characters";
    /// The app is not one the caller's org registered (found by the server at ingest).
    UnknownApp = "unknown_app", "ingest", "the appId is not an app the caller's org has registered";
    /// The instance is not an installed instance of the app (found by the server at ingest).
    UnknownInstance = "unknown_instance", "ingest", "the instanceId is not an instance of the app installed in the caller's org, was never granted, or was uninstalled before the event's timestamp";
    /// A capability token reported another instance or app than its own.
    NotOwner = "not_owner", "ingest", "the caller's capability token is for another instance or app than the event names";
    /// The event id was counted before with other content (found by the store at ingest).
    EventIdConflict = "event_id_conflict", "ingest", "the eventId was already counted with other content: recorded as a conflict, not counted";
    /// A correction refers to no counted usage event of its app (found by the store at ingest).
    UnknownRef = "unknown_ref", "ingest", "a void or adjust refers to no counted usage event of the app (it may come later: replay the dead letter then)";
    /// A correction names another metric or instance than the event it corrects.
    RefMismatch = "ref_mismatch", "ingest", "a void or adjust names another metric or instance than the usage event it corrects";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem.
    pub code: Code,
    /// Where: a JSON pointer (RFC 6901). For decoding problems it is relative to the request
    /// body's JSON document (`/3/value` for the fourth event of an array; for NDJSON relative
    /// to the line's object); for validation problems it is relative to the event.
    pub pointer: String,
    /// What is wrong, naming the field and the offending value.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// 1-based line in the body, when known (decoding problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in bytes, when known (decoding problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Problem {
    /// A problem without a body location (validation).
    pub fn new(
        code: Code,
        pointer: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        Problem {
            code,
            pointer: pointer.into(),
            message: message.into(),
            hint: hint.into(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] ", self.code)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, "{l}:{c} ")?;
        }
        let at = if self.pointer.is_empty() {
            "(event)"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

/// Escapes one reference token of a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A suggestion for a misspelt name: same letters ignoring case, `_` and `-`, or within edit
/// distance 2.
pub(crate) fn did_you_mean<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let n = norm(input);
    if let Some(k) = known.iter().find(|k| norm(k) == n) {
        return Some(k);
    }
    let limit = if n.chars().count() <= 3 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (levenshtein(&n, &norm(k)), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert!(Code::ALL[i + 1..].iter().all(|d| d.as_str() != c.as_str()));
            assert!(c
                .as_str()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert!(matches!(c.stage(), "decode" | "validate" | "ingest"));
        }
    }

    #[test]
    fn suggestions() {
        let known = ["eventId", "appId", "instanceId", "timestamp"];
        assert_eq!(did_you_mean("event_id", &known), Some("eventId"));
        assert_eq!(did_you_mean("EVENTID", &known), Some("eventId"));
        assert_eq!(did_you_mean("timestmp", &known), Some("timestamp"));
        assert_eq!(did_you_mean("colour", &known), None);
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn display() {
        let mut p = Problem::new(
            Code::UnknownMetric,
            "/metric",
            "unknown metric `x`",
            "declare it",
        );
        assert_eq!(
            p.to_string(),
            "[unknown_metric] /metric: unknown metric `x` (hint: declare it)"
        );
        p.line = Some(3);
        p.column = Some(7);
        assert!(p.to_string().starts_with("[unknown_metric] 3:7 /metric"));
    }
}
