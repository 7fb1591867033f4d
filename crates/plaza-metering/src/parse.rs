//! Decoding a request body into [`RawEvent`]s, given its content type.
//!
//! | content type | body |
//! |---|---|
//! | `application/json` | one event object, or an array of them (a batch) |
//! | `application/x-ndjson` (also `application/ndjson`) | one event object per line; blank lines are skipped |
//! | `application/cloudevents+json` | one CloudEvents 1.0 event in structured mode |
//! | `application/cloudevents-batch+json` | an array of CloudEvents 1.0 structured events |
//!
//! Media types are matched case-insensitively; a `charset` parameter, if present, must be
//! `utf-8`. A UTF-8 byte order mark at the start of the body is ignored.
//!
//! # Whole-body and per-event failures
//!
//! A body that cannot be read at all — wrong content type, not UTF-8, empty, malformed JSON
//! (JSON and CloudEvents types: the body must be one JSON document), not an object/array, more
//! events than [`ParseOptions::max_batch`], larger than [`ParseOptions::max_body_bytes`] —
//! fails as a whole with an [`Error`] carrying serde_json's line and column where there is one.
//! Otherwise every event gets its own `Result`, in body order: an event that cannot be decoded
//! is an [`EventError`] (its index, the line it starts on, and every problem found in it, each
//! with a JSON pointer, line, column, message and hint) and never affects its neighbours. In
//! NDJSON each line is its own JSON document, so a malformed line (including `NaN`) is a
//! per-event error too.
//!
//! # Numbers
//!
//! `value` must be a JSON number. It is read from the JSON text itself (via
//! `serde_json::value::RawValue`), never through `f64`, so `0.1` is exactly one tenth and
//! `42`, `42.0` and `4.2e1` are the same value. `NaN` and `Infinity` are not JSON; magnitudes
//! beyond 79228162514264337593543950335 (`1e400`) and more than 28 decimal places are errors,
//! not rounded values. A number in quotes (`"42"`) is a type error.
//!
//! # Plaza event fields
//!
//! `eventId`, `appId`, `instanceId`, `metric`, `timestamp` (strings, required), `value`
//! (number; required except for `void`), `unit` (string), `sequence` (integer
//! 0..=18446744073709551615), `tags`, `dimensions` (objects of string values), `kind`
//! (`usage` — the default — `void` or `adjust`), `ref` (string). `null` for an optional field
//! means absent. Any other field is an `unknown_field` error naming the field and its pointer.
//!
//! # CloudEvents mapping
//!
//! | CloudEvents attribute | Plaza field | rule |
//! |---|---|---|
//! | `specversion` | — | required, exactly `"1.0"` |
//! | `id` | `eventId` | required |
//! | `source` | `appId` | required; either the app id itself (`com.example.where2eat`) or `plaza:app/<appId>` |
//! | `type` | `kind` | required: `dev.plaza.usage.v1` (usage), `dev.plaza.usage.void.v1` (void), `dev.plaza.usage.adjust.v1` (adjust) |
//! | `subject` | `instanceId` | required by Plaza (optional in CloudEvents) |
//! | `time` | `timestamp` | required by Plaza (optional in CloudEvents) |
//! | `datacontenttype` | — | optional; if present `application/json` (a `charset=utf-8` parameter is allowed) |
//! | `dataschema` | — | optional, ignored |
//! | `data` | — | required object holding `metric`, `value`, and optionally `unit`, `sequence`, `tags`, `dimensions`, `ref` |
//! | `data_base64` | — | not supported (`invalid_value`) |
//! | other lowercase alphanumeric names | — | extension attributes, accepted and ignored (not part of the content hash) |
//!
//! A Plaza field name at the top level of a CloudEvent (`metric`, `value`, `unit`, `sequence`,
//! `tags`, `dimensions`, `ref`, `kind`, `eventId`, `appId`, `instanceId`, `timestamp`) is a
//! `misplaced_field` error that says where it belongs; an attribute name that is not lowercase
//! letters and digits is an `unknown_field`. Inside `data`, unknown fields are errors as in the
//! Plaza shape.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use thiserror::Error as ThisError;

use crate::event::{EventFormat, EventKind, RawEvent};
use crate::number::{parse_json_number, NumberProblem};
use crate::problem::{did_you_mean, escape_pointer_token, Code, Problem};
use crate::Error;

/// CloudEvents `type` of a usage event.
pub const CE_TYPE_USAGE: &str = "dev.plaza.usage.v1";
/// CloudEvents `type` of a `void` correction.
pub const CE_TYPE_VOID: &str = "dev.plaza.usage.void.v1";
/// CloudEvents `type` of an `adjust` correction.
pub const CE_TYPE_ADJUST: &str = "dev.plaza.usage.adjust.v1";
/// Optional prefix of a CloudEvents `source`: `plaza:app/<appId>`.
pub const CE_SOURCE_PREFIX: &str = "plaza:app/";

/// Default of [`ParseOptions::max_batch`].
pub const DEFAULT_MAX_BATCH: usize = 10_000;
/// Default of [`ParseOptions::max_body_bytes`] (16 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Fields of the Plaza event shape.
pub const PLAZA_FIELDS: &[&str] = &[
    "eventId",
    "appId",
    "instanceId",
    "metric",
    "value",
    "timestamp",
    "unit",
    "sequence",
    "tags",
    "dimensions",
    "kind",
    "ref",
];
/// Fields of a CloudEvent's `data` object.
pub const CE_DATA_FIELDS: &[&str] = &[
    "metric",
    "value",
    "unit",
    "sequence",
    "tags",
    "dimensions",
    "ref",
];
/// CloudEvents context attributes Plaza reads.
pub const CE_ATTRIBUTES: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
];

/// The supported body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `application/json`: one event or an array.
    Json,
    /// `application/x-ndjson`: one event per line.
    Ndjson,
    /// `application/cloudevents+json`: one structured CloudEvent.
    CloudEvent,
    /// `application/cloudevents-batch+json`: an array of structured CloudEvents.
    CloudEventsBatch,
}

impl ContentType {
    /// Every content type.
    pub const ALL: &'static [ContentType] = &[
        ContentType::Json,
        ContentType::Ndjson,
        ContentType::CloudEvent,
        ContentType::CloudEventsBatch,
    ];

    /// The canonical media type.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => "application/json",
            ContentType::Ndjson => "application/x-ndjson",
            ContentType::CloudEvent => "application/cloudevents+json",
            ContentType::CloudEventsBatch => "application/cloudevents-batch+json",
        }
    }

    /// Reads a `Content-Type` header value: the media type (case-insensitive) and an optional
    /// `charset` parameter, which must be UTF-8. Other parameters are ignored.
    pub fn parse(header: &str) -> Result<ContentType, Error> {
        let mut parts = header.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let ct = match media.as_str() {
            "application/json" => ContentType::Json,
            "application/x-ndjson" | "application/ndjson" => ContentType::Ndjson,
            "application/cloudevents+json" => ContentType::CloudEvent,
            "application/cloudevents-batch+json" => ContentType::CloudEventsBatch,
            _ => {
                return Err(Error::UnsupportedContentType {
                    content_type: header.trim().to_string(),
                })
            }
        };
        for param in parts {
            if let Some((name, value)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("charset") {
                    let v = value.trim().trim_matches('"');
                    if !v.eq_ignore_ascii_case("utf-8") && !v.eq_ignore_ascii_case("utf8") {
                        return Err(Error::UnsupportedCharset {
                            charset: v.to_string(),
                        });
                    }
                }
            }
        }
        Ok(ct)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits for [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Most events in one body (array elements or non-blank NDJSON lines); default 10,000.
    pub max_batch: usize,
    /// Largest body in bytes; default 16 MiB. The HTTP edge should refuse larger bodies before
    /// reading them; this is the backstop.
    pub max_body_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_batch: DEFAULT_MAX_BATCH,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// An event of the body that could not be decoded. Its neighbours are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, ThisError, serde::Serialize, serde::Deserialize)]
#[error("event {index} (line {line}): {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct EventError {
    /// 0-based position of the event in the body (array element or non-blank NDJSON line).
    pub index: usize,
    /// 1-based line of the body where the event starts.
    pub line: usize,
    /// Every problem found in the event (at least one).
    pub problems: Vec<Problem>,
}

/// What [`parse`] returns for a readable body: one result per event, in body order.
pub type Decoded = Vec<Result<RawEvent, EventError>>;

/// Decodes `body` according to the `Content-Type` header value `content_type`.
pub fn parse(body: &[u8], content_type: &str, options: &ParseOptions) -> Result<Decoded, Error> {
    parse_as(body, ContentType::parse(content_type)?, options)
}

/// Decodes `body` in the given format.
pub fn parse_as(
    body: &[u8],
    content_type: ContentType,
    options: &ParseOptions,
) -> Result<Decoded, Error> {
    if body.len() > options.max_body_bytes {
        return Err(Error::BodyTooLarge {
            size: body.len(),
            max: options.max_body_bytes,
        });
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.valid_up_to();
            let (line, column) = line_col_bytes(&body[..offset]);
            return Err(Error::NotUtf8 {
                line,
                column,
                offset,
            });
        }
    };
    // A BOM is replaced by a space rather than cut, so columns still match the body.
    let owned;
    let text = if let Some(rest) = text.strip_prefix('\u{feff}') {
        owned = format!("   {rest}");
        owned.as_str()
    } else {
        text
    };
    if text.trim().is_empty() {
        return Err(Error::EmptyBody);
    }
    let doc = Doc::new(text);
    match content_type {
        ContentType::Ndjson => parse_ndjson(&doc, options),
        ContentType::Json => parse_json(&doc, options, EventFormat::Plaza, Shape::Either),
        ContentType::CloudEvent => {
            parse_json(&doc, options, EventFormat::CloudEvents, Shape::Object)
        }
        ContentType::CloudEventsBatch => {
            parse_json(&doc, options, EventFormat::CloudEvents, Shape::Array)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Either,
    Object,
    Array,
}

fn parse_json(
    doc: &Doc<'_>,
    options: &ParseOptions,
    format: EventFormat,
    shape: Shape,
) -> Result<Decoded, Error> {
    // The first byte decides the shape, so the body is parsed once.
    let found = json_type_of(doc.text);
    if found == "an array" && shape != Shape::Object {
        let elements: Vec<&RawValue> = match serde_json::from_str(doc.text) {
            Ok(v) => v,
            Err(e) => return Err(syntax_error(doc.text, &e)),
        };
        if elements.len() > options.max_batch {
            return Err(Error::BatchTooLarge {
                found: elements.len(),
                max: options.max_batch,
            });
        }
        return Ok(elements
            .into_iter()
            .enumerate()
            .map(|(i, raw)| decode_event(doc, raw, i, format!("/{i}"), format))
            .collect());
    }
    let root: &RawValue = match serde_json::from_str(doc.text) {
        Ok(r) => r,
        Err(e) => return Err(syntax_error(doc.text, &e)),
    };
    let wrong = |expected: &'static str, hint: &str| Error::WrongShape {
        expected,
        found,
        hint: hint.to_string(),
    };
    match (found, shape) {
        ("an object", Shape::Either | Shape::Object) => {
            let one = decode_event(doc, root, 0, String::new(), format);
            Ok(vec![one])
        }
        ("an array", Shape::Object) => Err(wrong(
            "one CloudEvent (a JSON object)",
            "send several CloudEvents as application/cloudevents-batch+json",
        )),
        ("an object", Shape::Array) => Err(wrong(
            "an array of CloudEvents",
            "send a single CloudEvent as application/cloudevents+json, or wrap it in [ ]",
        )),
        _ => Err(wrong(
            match shape {
                Shape::Either => "an event object or an array of events",
                Shape::Object => "one CloudEvent (a JSON object)",
                Shape::Array => "an array of CloudEvents",
            },
            "wrap the event's fields in { }",
        )),
    }
}

fn parse_ndjson(doc: &Doc<'_>, options: &ParseOptions) -> Result<Decoded, Error> {
    let lines: Vec<(usize, &str)> = doc
        .text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    if lines.len() > options.max_batch {
        return Err(Error::BatchTooLarge {
            found: lines.len(),
            max: options.max_batch,
        });
    }
    Ok(lines
        .into_iter()
        .enumerate()
        .map(|(index, (line_no, line))| {
            let raw: &RawValue = match serde_json::from_str(line) {
                Ok(r) => r,
                Err(e) => {
                    let (message, hint) = describe_syntax(line, &e, true);
                    return Err(EventError {
                        index,
                        line: line_no,
                        problems: vec![Problem {
                            code: Code::MalformedJson,
                            pointer: String::new(),
                            message: format!("line {line_no} is not well-formed JSON: {message}"),
                            hint,
                            line: Some(line_no),
                            column: Some(e.column().max(1)),
                        }],
                    });
                }
            };
            decode_event(doc, raw, index, String::new(), EventFormat::Plaza)
        })
        .collect())
}

/// The body with its line starts, for turning byte offsets into line:column.
struct Doc<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Doc<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Doc { text, line_starts }
    }

    /// Byte offset of `part`, which must be a slice of the body (0 otherwise).
    fn offset_of(&self, part: &str) -> usize {
        (part.as_ptr() as usize)
            .checked_sub(self.text.as_ptr() as usize)
            .filter(|o| *o <= self.text.len())
            .unwrap_or(0)
    }

    /// 1-based line and byte column of `part`.
    fn line_col(&self, part: &str) -> (usize, usize) {
        let offset = self.offset_of(part);
        let line = self.line_starts.partition_point(|s| *s <= offset);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        (line.max(1), offset - start + 1)
    }
}

fn line_col_bytes(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let col = prefix.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

fn syntax_error(text: &str, e: &serde_json::Error) -> Error {
    let (message, hint) = describe_syntax(text, e, false);
    Error::Syntax {
        line: e.line(),
        // serde_json says column 0 for "before the first byte of the line".
        column: e.column().max(1),
        message,
        hint,
    }
}

/// serde_json's message without its position suffix, sharpened for the usual mistakes.
fn describe_syntax(text: &str, e: &serde_json::Error, ndjson: bool) -> (String, String) {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    if let Some(token) = non_finite_at(text, e.line(), e.column()) {
        return (
            format!("`{token}` is not a JSON number: JSON has no NaN or Infinity"),
            "send a finite number (usage values are exact decimals), or leave the event out".into(),
        );
    }
    let hint = match e.classify() {
        serde_json::error::Category::Eof if ndjson => {
            "the line ends in the middle of a value: each NDJSON line holds one whole JSON object".into()
        }
        serde_json::error::Category::Eof => {
            "the body ends in the middle of a value: check that it was sent whole".into()
        }
        _ if message.contains("trailing characters") => {
            "a JSON body holds one document: put several events in an array, or send NDJSON (application/x-ndjson)".into()
        }
        _ if message.contains("key must be a string") => {
            "quote field names: {\"eventId\": …}".into()
        }
        _ if message.contains("trailing comma") => "remove the comma before the closing bracket".into(),
        _ => "check the JSON syntax at this position".into(),
    };
    (message, hint)
}

/// `NaN`, `Infinity` or `-Infinity` at (or right before) serde_json's error position.
fn non_finite_at(text: &str, line: usize, column: usize) -> Option<&'static str> {
    let line_text = text.split('\n').nth(line.checked_sub(1)?)?;
    let at = column.min(line_text.len());
    for start in [at.saturating_sub(2), at.saturating_sub(1), at] {
        let rest = line_text.get(start..)?;
        for token in ["-Infinity", "Infinity", "NaN", "-NaN", "-inf", "inf", "nan"] {
            if rest.starts_with(token) {
                return Some(match token {
                    "-Infinity" | "-inf" => "-Infinity",
                    "Infinity" | "inf" => "Infinity",
                    _ => "NaN",
                });
            }
        }
    }
    None
}

/// The JSON type of a value's text, as an article and noun for messages.
fn json_type_of(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't') | Some(b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}

/// An object's entries in order, values still raw (so numbers keep their text and each value
/// keeps its place in the body).
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Collects the problems of one event while it is decoded.
struct Ev<'d, 'a> {
    doc: &'d Doc<'a>,
    prefix: String,
    problems: Vec<Problem>,
}

impl Ev<'_, '_> {
    fn report(
        &mut self,
        code: Code,
        rel: &str,
        at: &str,
        message: String,
        hint: impl Into<String>,
    ) {
        let (line, column) = self.doc.line_col(at);
        self.problems.push(Problem {
            code,
            pointer: format!("{}{rel}", self.prefix),
            message,
            hint: hint.into(),
            line: Some(line),
            column: Some(column),
        });
    }

    fn entries<'r>(
        &mut self,
        rel: &str,
        raw: &'r RawValue,
        what: &str,
    ) -> Option<Vec<(String, &'r RawValue)>> {
        let text = raw.get();
        if json_type_of(text) != "an object" {
            self.report(
                if rel.is_empty() {
                    Code::NotAnObject
                } else {
                    Code::InvalidType
                },
                rel,
                text,
                format!("{what} must be a JSON object, found {}", json_type_of(text)),
                "write it as { \"name\": value, … }",
            );
            return None;
        }
        match serde_json::from_str::<Entries<'r>>(text) {
            Ok(Entries(entries)) => {
                let mut seen = std::collections::HashSet::with_capacity(entries.len());
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    if !seen.insert(k.clone()) {
                        self.report(
                            Code::DuplicateField,
                            &format!("{rel}/{}", escape_pointer_token(&k)),
                            v.get(),
                            format!("field `{k}` appears more than once"),
                            "keep one occurrence: which one counts would otherwise be a guess",
                        );
                        continue;
                    }
                    out.push((k, v));
                }
                Some(out)
            }
            Err(e) => {
                self.report(
                    Code::InvalidType,
                    rel,
                    text,
                    format!("{what} could not be read: {e}"),
                    "write it as { \"name\": value, … }",
                );
                None
            }
        }
    }

    fn string(&mut self, rel: &str, raw: &RawValue, field: &str) -> Option<String> {
        let text = raw.get();
        if json_type_of(text) != "a string" {
            let hint = if field == "timestamp" || field == "time" {
                "write an RFC 3339 date-time such as \"2026-01-10T14:23:00Z\"; Unix epoch numbers are not accepted".to_string()
            } else if json_type_of(text) == "a number" {
                format!("quote it: \"{field}\": \"{text}\"")
            } else {
                format!("`{field}` is text, e.g. \"{field}\": \"…\"")
            };
            self.report(
                Code::InvalidType,
                rel,
                text,
                format!("`{field}` must be a string, found {}", json_type_of(text)),
                hint,
            );
            return None;
        }
        match serde_json::from_str::<String>(text) {
            Ok(s) => Some(s),
            Err(e) => {
                self.report(
                    Code::InvalidValue,
                    rel,
                    text,
                    format!("`{field}` is not a valid string: {e}"),
                    "use valid UTF-8 text and JSON escapes",
                );
                None
            }
        }
    }

    /// A string, or `None` for `null` (absent).
    fn opt_string(&mut self, rel: &str, raw: &RawValue, field: &str) -> Option<Option<String>> {
        if raw.get() == "null" {
            return Some(None);
        }
        self.string(rel, raw, field).map(Some)
    }

    fn number(&mut self, rel: &str, raw: &RawValue, field: &str) -> Option<Option<Decimal>> {
        let text = raw.get();
        match json_type_of(text) {
            "null" => return Some(None),
            "a number" => {}
            "a string" => {
                let inner = serde_json::from_str::<String>(text).unwrap_or_default();
                let hint = if matches!(
                    inner.trim().to_ascii_lowercase().as_str(),
                    "nan" | "infinity" | "-infinity" | "inf" | "-inf"
                ) {
                    "NaN and Infinity are not amounts of usage: send a finite number".to_string()
                } else if parse_json_number(inner.trim()).is_ok() {
                    format!(
                        "write the number without quotes: \"{field}\": {}",
                        inner.trim()
                    )
                } else {
                    format!("`{field}` is a JSON number such as 42 or 1.5")
                };
                self.report(
                    Code::InvalidType,
                    rel,
                    text,
                    format!("`{field}` must be a JSON number, found the string {text}"),
                    hint,
                );
                return None;
            }
            other => {
                self.report(
                    Code::InvalidType,
                    rel,
                    text,
                    format!("`{field}` must be a JSON number, found {other}"),
                    format!("`{field}` is a JSON number such as 42 or 1.5"),
                );
                return None;
            }
        }
        match parse_json_number(text) {
            Ok(d) => Some(Some(d)),
            Err(NumberProblem::OutOfRange) => {
                self.report(
                    Code::NumberOutOfRange,
                    rel,
                    text,
                    format!("`{field}` {text} is beyond the supported range (magnitude at most 79228162514264337593543950335)"),
                    "report usage in a larger unit, or split it into several events",
                );
                None
            }
            Err(NumberProblem::TooPrecise) => {
                self.report(
                    Code::NumberTooPrecise,
                    rel,
                    text,
                    format!("`{field}` {text} has more precision than is kept exactly (at most 28 decimal places, 29 significant digits)"),
                    "round the value yourself, or report it in a smaller unit",
                );
                None
            }
            Err(NumberProblem::Syntax) => {
                self.report(
                    Code::InvalidValue,
                    rel,
                    text,
                    format!("`{field}` {text} is not a JSON number"),
                    "send a finite number such as 42 or 1.5",
                );
                None
            }
        }
    }

    fn sequence(&mut self, rel: &str, raw: &RawValue) -> Option<Option<u64>> {
        let text = raw.get();
        let d = self.number(rel, raw, "sequence")?;
        let Some(d) = d else { return Some(None) };
        let as_u64 = (d.scale() == 0)
            .then(|| u64::try_from(d.mantissa()).ok())
            .flatten();
        match as_u64 {
            Some(v) => Some(Some(v)),
            None => {
                self.report(
                    Code::InvalidValue,
                    rel,
                    text,
                    format!("`sequence` {text} is not an integer from 0 to 18446744073709551615"),
                    "number each instance's events 1, 2, 3, … without decimals",
                );
                None
            }
        }
    }

    fn labels(
        &mut self,
        rel: &str,
        raw: &RawValue,
        field: &str,
    ) -> Option<BTreeMap<String, String>> {
        if raw.get() == "null" {
            return Some(BTreeMap::new());
        }
        let entries = self.entries(rel, raw, &format!("`{field}`"))?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in entries {
            let p = format!("{rel}/{}", escape_pointer_token(&k));
            let text = v.get();
            if json_type_of(text) != "a string" {
                let quoted =
                    if json_type_of(text) == "a number" || json_type_of(text) == "a boolean" {
                        format!("quote it: \"{k}\": \"{text}\"")
                    } else {
                        format!("{field} map names to strings")
                    };
                self.report(
                    Code::InvalidType,
                    &p,
                    text,
                    format!(
                        "{field} value `{k}` must be a string, found {}",
                        json_type_of(text)
                    ),
                    quoted,
                );
                ok = false;
                continue;
            }
            match self.string(&p, v, &k) {
                Some(s) => {
                    out.insert(k, s);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

#[derive(Default)]
struct Fields {
    event_id: Option<String>,
    app_id: Option<String>,
    instance_id: Option<String>,
    metric: Option<String>,
    value: Option<Decimal>,
    timestamp: Option<String>,
    unit: Option<String>,
    sequence: Option<u64>,
    tags: BTreeMap<String, String>,
    dimensions: BTreeMap<String, String>,
    kind: EventKind,
    correction_ref: Option<String>,
}

fn decode_event(
    doc: &Doc<'_>,
    raw: &RawValue,
    index: usize,
    prefix: String,
    format: EventFormat,
) -> Result<RawEvent, EventError> {
    let (line, _) = doc.line_col(raw.get());
    let mut ev = Ev {
        doc,
        prefix,
        problems: Vec::new(),
    };
    let fields = match format {
        EventFormat::Plaza => decode_plaza(&mut ev, raw),
        EventFormat::CloudEvents => decode_cloudevent(&mut ev, raw),
    };
    match fields {
        Some(f) if ev.problems.is_empty() => Ok(RawEvent {
            event_id: f.event_id.unwrap_or_default(),
            app_id: f.app_id.unwrap_or_default(),
            instance_id: f.instance_id.unwrap_or_default(),
            metric: f.metric.unwrap_or_default(),
            value: f.value,
            timestamp: f.timestamp.unwrap_or_default(),
            unit: f.unit,
            sequence: f.sequence,
            tags: f.tags,
            dimensions: f.dimensions,
            kind: f.kind,
            correction_ref: f.correction_ref,
            format,
        }),
        _ => {
            if ev.problems.is_empty() {
                // Defensive: a decoder that failed must have said why.
                ev.report(
                    Code::InvalidValue,
                    "",
                    raw.get(),
                    "the event could not be decoded".into(),
                    "check the event against docs/metering.md",
                );
            }
            Err(EventError {
                index,
                line,
                problems: ev.problems,
            })
        }
    }
}

/// Reads the data fields shared by both shapes. Returns false when `key` is not one of them.
fn data_field(ev: &mut Ev<'_, '_>, f: &mut Fields, rel: &str, key: &str, v: &RawValue) -> bool {
    match key {
        "metric" => f.metric = ev.string(rel, v, key),
        "value" => f.value = ev.number(rel, v, key).flatten(),
        "unit" => f.unit = ev.opt_string(rel, v, key).flatten(),
        "sequence" => f.sequence = ev.sequence(rel, v).flatten(),
        "tags" => f.tags = ev.labels(rel, v, "tags").unwrap_or_default(),
        "dimensions" => f.dimensions = ev.labels(rel, v, "dimensions").unwrap_or_default(),
        "ref" => f.correction_ref = ev.opt_string(rel, v, key).flatten(),
        _ => return false,
    }
    true
}

/// Common other names for Plaza fields, for hints.
fn alias(key: &str) -> Option<&'static str> {
    Some(match key.to_ascii_lowercase().as_str() {
        "id" | "event" | "uuid" => "eventId",
        "app" | "application" | "source" | "appname" => "appId",
        "instance" | "subject" | "instid" => "instanceId",
        "time" | "ts" | "date" | "datetime" | "occurredat" | "created" => "timestamp",
        "amount" | "quantity" | "qty" | "count" | "val" => "value",
        "name" | "meter" | "metricname" => "metric",
        "labels" | "tag" => "tags",
        "dimension" | "dims" | "properties" | "attributes" => "dimensions",
        "type" => "kind",
        "seq" | "seqno" | "sequencenumber" => "sequence",
        "units" => "unit",
        "reference" | "refid" | "correctionof" => "ref",
        _ => return None,
    })
}

fn decode_plaza(ev: &mut Ev<'_, '_>, raw: &RawValue) -> Option<Fields> {
    let entries = ev.entries("", raw, "an event")?;
    let mut f = Fields::default();
    for (key, v) in &entries {
        let rel = format!("/{}", escape_pointer_token(key));
        if data_field(ev, &mut f, &rel, key, v) {
            continue;
        }
        match key.as_str() {
            "eventId" => f.event_id = ev.string(&rel, v, key),
            "appId" => f.app_id = ev.string(&rel, v, key),
            "instanceId" => f.instance_id = ev.string(&rel, v, key),
            "timestamp" => f.timestamp = ev.string(&rel, v, key),
            "kind" => {
                if let Some(Some(k)) = ev.opt_string(&rel, v, key) {
                    match k.parse::<EventKind>() {
                        Ok(kind) => f.kind = kind,
                        Err(()) => ev.report(
                            Code::InvalidValue,
                            &rel,
                            v.get(),
                            format!("`kind` {} is not one of usage, void, adjust", v.get()),
                            "omit kind for usage; use void to cancel an event and adjust for a signed delta, both with ref",
                        ),
                    }
                }
            }
            _ => {
                let hint = if key == "specversion" || key == "data" {
                    "this looks like a CloudEvent: send it with Content-Type application/cloudevents+json".to_string()
                } else if let Some(s) = did_you_mean(key, PLAZA_FIELDS).or_else(|| alias(key)) {
                    format!(
                        "did you mean `{s}`? Plaza event fields are {}",
                        PLAZA_FIELDS.join(", ")
                    )
                } else {
                    format!(
                        "remove it, or put free-form labels in `tags` or `dimensions`; Plaza event fields are {}",
                        PLAZA_FIELDS.join(", ")
                    )
                };
                let pointer = format!("{}{rel}", ev.prefix);
                ev.report(
                    Code::UnknownField,
                    &rel,
                    v.get(),
                    format!("unknown field `{key}` at {pointer}"),
                    hint,
                );
            }
        }
    }
    let present = |name: &str| entries.iter().any(|(k, _)| k == name);
    for (name, example) in [
        ("eventId", "\"evt_0001\""),
        ("appId", "\"com.example.where2eat\""),
        ("instanceId", "\"inst-9a3f\""),
        ("metric", "\"api_calls\""),
        ("timestamp", "\"2026-01-10T14:23:00Z\""),
    ] {
        if !present(name) {
            ev.report(
                Code::MissingField,
                "",
                raw.get(),
                format!("missing required field `{name}`"),
                format!("add \"{name}\": {example}"),
            );
        }
    }
    Some(f)
}

fn decode_cloudevent(ev: &mut Ev<'_, '_>, raw: &RawValue) -> Option<Fields> {
    let entries = ev.entries("", raw, "a CloudEvent")?;
    let mut f = Fields::default();
    let mut data_seen = false;
    for (key, v) in &entries {
        let rel = format!("/{}", escape_pointer_token(key));
        match key.as_str() {
            "specversion" => {
                if let Some(s) = ev.string(&rel, v, key) {
                    if s != "1.0" {
                        ev.report(
                            Code::InvalidValue,
                            &rel,
                            v.get(),
                            format!("CloudEvents specversion `{s}` is not supported"),
                            "send \"specversion\": \"1.0\"",
                        );
                    }
                }
            }
            "id" => f.event_id = ev.string(&rel, v, key),
            "source" => {
                if let Some(s) = ev.string(&rel, v, key) {
                    match s.strip_prefix(CE_SOURCE_PREFIX) {
                        Some(app) if !app.is_empty() => f.app_id = Some(app.to_string()),
                        Some(_) => ev.report(
                            Code::InvalidValue,
                            &rel,
                            v.get(),
                            "`source` names no app after `plaza:app/`".into(),
                            "send \"source\": \"plaza:app/<appId>\" or just the app id",
                        ),
                        None => f.app_id = Some(s),
                    }
                }
            }
            "type" => {
                if let Some(t) = ev.string(&rel, v, key) {
                    match EventKind::ALL.iter().find(|k| k.cloudevents_type() == t) {
                        Some(k) => f.kind = *k,
                        None => ev.report(
                            Code::InvalidValue,
                            &rel,
                            v.get(),
                            format!("CloudEvents type `{t}` is not a Plaza usage event type"),
                            format!("use {CE_TYPE_USAGE} for usage, {CE_TYPE_VOID} to cancel an event, {CE_TYPE_ADJUST} for a signed delta"),
                        ),
                    }
                }
            }
            "subject" => f.instance_id = ev.string(&rel, v, key),
            "time" => f.timestamp = ev.string(&rel, v, key),
            "datacontenttype" => {
                if let Some(Some(ct)) = ev.opt_string(&rel, v, key) {
                    let mut parts = ct.split(';');
                    let media = parts.next().unwrap_or("").trim();
                    let charset_ok = parts.all(|p| match p.split_once('=') {
                        Some((n, val)) if n.trim().eq_ignore_ascii_case("charset") => {
                            val.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                        }
                        _ => true,
                    });
                    if !media.eq_ignore_ascii_case("application/json") || !charset_ok {
                        ev.report(
                            Code::InvalidValue,
                            &rel,
                            v.get(),
                            format!("datacontenttype `{ct}` is not application/json"),
                            "usage data is a JSON object: send \"datacontenttype\": \"application/json\" or leave it out",
                        );
                    }
                }
            }
            "dataschema" => {
                let _ = ev.opt_string(&rel, v, key);
            }
            "data" => {
                data_seen = true;
                if let Some(data) = ev.entries(&rel, v, "`data`") {
                    for (dk, dv) in &data {
                        let drel = format!("/data/{}", escape_pointer_token(dk));
                        if data_field(ev, &mut f, &drel, dk, dv) {
                            continue;
                        }
                        let hint = match dk.as_str() {
                            "kind" => format!("the kind of a CloudEvent is its `type`: {CE_TYPE_USAGE}, {CE_TYPE_VOID} or {CE_TYPE_ADJUST}"),
                            "eventId" => "the event id of a CloudEvent is its `id` attribute".into(),
                            "appId" => "the app of a CloudEvent is its `source` attribute".into(),
                            "instanceId" => "the instance of a CloudEvent is its `subject` attribute".into(),
                            "timestamp" => "the timestamp of a CloudEvent is its `time` attribute".into(),
                            _ => match did_you_mean(dk, CE_DATA_FIELDS) {
                                Some(s) => format!("did you mean `{s}`? data fields are {}", CE_DATA_FIELDS.join(", ")),
                                None => format!("data fields are {}; put free-form labels in `tags` or `dimensions`", CE_DATA_FIELDS.join(", ")),
                            },
                        };
                        let pointer = format!("{}{drel}", ev.prefix);
                        ev.report(
                            Code::UnknownField,
                            &drel,
                            dv.get(),
                            format!("unknown field `{dk}` at {pointer}"),
                            hint,
                        );
                    }
                    if !data.iter().any(|(k, _)| k == "metric") {
                        ev.report(
                            Code::MissingField,
                            &rel,
                            v.get(),
                            "missing required field `metric` in `data`".into(),
                            "add \"metric\": \"api_calls\" to data",
                        );
                    }
                }
            }
            "data_base64" => ev.report(
                Code::InvalidValue,
                &rel,
                v.get(),
                "binary CloudEvents data (`data_base64`) is not supported".into(),
                "send the usage as a JSON object in `data`",
            ),
            _ => {
                let (code, hint) = match key.as_str() {
                    "metric" | "value" | "unit" | "sequence" | "tags" | "dimensions" | "ref" => (
                        Code::MisplacedField,
                        format!("move `{key}` inside `data`"),
                    ),
                    "kind" => (
                        Code::MisplacedField,
                        format!("a CloudEvent's kind is its `type`: {CE_TYPE_USAGE}, {CE_TYPE_VOID} or {CE_TYPE_ADJUST}"),
                    ),
                    "eventId" => (Code::MisplacedField, "a CloudEvent's event id is `id`".into()),
                    "appId" => (Code::MisplacedField, "a CloudEvent's app is `source`".into()),
                    "instanceId" => (Code::MisplacedField, "a CloudEvent's instance is `subject`".into()),
                    "timestamp" => (Code::MisplacedField, "a CloudEvent's timestamp is `time`".into()),
                    k if !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) => {
                        // An extension attribute: allowed by CloudEvents, ignored by Plaza.
                        continue;
                    }
                    k => (
                        Code::UnknownField,
                        match did_you_mean(k, CE_ATTRIBUTES) {
                            Some(s) => format!("did you mean `{s}`? CloudEvents attribute names are lowercase letters and digits"),
                            None => "CloudEvents attribute names are lowercase letters and digits; put usage fields in `data`".into(),
                        },
                    ),
                };
                let pointer = format!("{}{rel}", ev.prefix);
                let message = if code == Code::MisplacedField {
                    format!("field `{key}` at {pointer} is not a CloudEvents attribute")
                } else {
                    format!("unknown attribute `{key}` at {pointer}")
                };
                ev.report(code, &rel, v.get(), message, hint);
            }
        }
    }
    for (name, example) in [
        ("specversion", "\"1.0\""),
        ("id", "\"evt_0001\""),
        ("source", "\"plaza:app/com.example.where2eat\""),
        ("type", "\"dev.plaza.usage.v1\""),
        ("subject", "\"inst-9a3f\""),
        ("time", "\"2026-01-10T14:23:00Z\""),
    ] {
        if !entries.iter().any(|(k, _)| k == name) {
            ev.report(
                Code::MissingField,
                "",
                raw.get(),
                format!("missing required attribute `{name}`"),
                format!("add \"{name}\": {example}"),
            );
        }
    }
    if !data_seen {
        ev.report(
            Code::MissingField,
            "",
            raw.get(),
            "missing required attribute `data`".into(),
            "add \"data\": {\"metric\": \"api_calls\", \"value\": 1}",
        );
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
  "eventId": "evt_0001",
  "appId": "com.example.where2eat",
  "instanceId": "inst-9a3f",
  "metric": "api_calls",
  "value": 42,
  "timestamp": "2026-01-10T14:23:00Z"
}"#;

    fn one(body: &str, ct: &str) -> Result<RawEvent, EventError> {
        let mut v = parse(body.as_bytes(), ct, &ParseOptions::default()).unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    fn codes(e: &EventError) -> Vec<(&'static str, &str)> {
        e.problems
            .iter()
            .map(|p| (p.code.as_str(), p.pointer.as_str()))
            .collect()
    }

    #[test]
    fn seed_event() {
        let e = one(SEED, "application/json").unwrap();
        assert_eq!(e.event_id, "evt_0001");
        assert_eq!(e.app_id, "com.example.where2eat");
        assert_eq!(e.value, Some(Decimal::from(42)));
        assert_eq!(e.kind, EventKind::Usage);
        assert_eq!(e.format, EventFormat::Plaza);
    }

    #[test]
    fn content_types() {
        assert_eq!(
            ContentType::parse("Application/JSON; charset=UTF-8").unwrap(),
            ContentType::Json
        );
        assert_eq!(
            ContentType::parse("application/ndjson").unwrap(),
            ContentType::Ndjson
        );
        assert!(matches!(
            ContentType::parse("text/plain"),
            Err(Error::UnsupportedContentType { .. })
        ));
        assert!(matches!(
            ContentType::parse("application/json; charset=latin1"),
            Err(Error::UnsupportedCharset { .. })
        ));
        for ct in ContentType::ALL {
            assert_eq!(ContentType::parse(ct.as_str()).unwrap(), *ct);
        }
    }

    #[test]
    fn exact_numbers() {
        let e = one(&SEED.replace("42", "0.1"), "application/json").unwrap();
        assert_eq!(e.value.unwrap().to_string(), "0.1");
        let e = one(&SEED.replace("42", "4.20e1"), "application/json").unwrap();
        assert_eq!(e.value, Some(Decimal::from(42)));
    }

    #[test]
    fn whole_body_failures() {
        let opts = ParseOptions::default();
        assert_eq!(
            parse(b"  \n", "application/json", &opts),
            Err(Error::EmptyBody)
        );
        assert!(matches!(
            parse(b"\"x\"", "application/json", &opts),
            Err(Error::WrongShape {
                found: "a string",
                ..
            })
        ));
        let err = parse(b"{\"value\": NaN}", "application/json", &opts).unwrap_err();
        match err {
            Error::Syntax {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, 1);
                assert!((10..=12).contains(&column), "{column}");
                assert!(message.contains("`NaN`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = parse(b"[{\"value\":\n -Infinity}]", "application/json", &opts).unwrap_err();
        assert!(
            matches!(&err, Error::Syntax { line: 2, message, .. } if message.contains("-Infinity")),
            "{err:?}"
        );
        assert!(matches!(
            parse(b"{\"a\":1", "application/json", &opts),
            Err(Error::Syntax { .. })
        ));
        assert!(matches!(
            parse(b"\xff{}", "application/json", &opts),
            Err(Error::NotUtf8 {
                line: 1,
                column: 1,
                offset: 0
            })
        ));
        let small = ParseOptions {
            max_batch: 2,
            ..opts
        };
        assert_eq!(
            parse(b"[{},{},{}]", "application/json", &small),
            Err(Error::BatchTooLarge { found: 3, max: 2 })
        );
        assert_eq!(
            parse(b"{}\n\n{}\n{}\n", "application/x-ndjson", &small),
            Err(Error::BatchTooLarge { found: 3, max: 2 })
        );
        let tiny = ParseOptions {
            max_body_bytes: 4,
            ..opts
        };
        assert_eq!(
            parse(b"[{}, {}]", "application/json", &tiny),
            Err(Error::BodyTooLarge { size: 8, max: 4 })
        );
        assert!(matches!(
            parse(b"[]", "application/cloudevents+json", &opts),
            Err(Error::WrongShape { .. })
        ));
        assert!(matches!(
            parse(b"{}", "application/cloudevents-batch+json", &opts),
            Err(Error::WrongShape { .. })
        ));
    }

    #[test]
    fn bom_is_ignored() {
        let body = format!("\u{feff}{SEED}");
        assert!(parse(
            body.as_bytes(),
            "application/json",
            &ParseOptions::default()
        )
        .unwrap()[0]
            .is_ok());
    }

    #[test]
    fn every_problem_of_an_event_at_once() {
        let body = r#"[{"eventId": 7, "appId": "a", "instanceId": "i", "metric": "m",
  "value": "42", "timestamp": "t", "event_id": "x", "tags": {"env": 1}, "kind": "refund", "sequence": -1},
 {"eventId": "e2", "appId": "a", "instanceId": "i", "metric": "m", "value": 1, "timestamp": "t", "value": 2}]"#;
        let v = parse(
            body.as_bytes(),
            "application/json",
            &ParseOptions::default(),
        )
        .unwrap();
        let e = v[0].as_ref().unwrap_err();
        assert_eq!(e.index, 0);
        assert_eq!(e.line, 1);
        assert_eq!(
            codes(e),
            [
                ("invalid_type", "/0/eventId"),
                ("invalid_type", "/0/value"),
                ("unknown_field", "/0/event_id"),
                ("invalid_type", "/0/tags/env"),
                ("invalid_value", "/0/kind"),
                ("invalid_value", "/0/sequence"),
            ]
        );
        assert!(e.problems[1].hint.contains("without quotes"));
        assert!(e.problems[2].hint.contains("`eventId`"));
        assert_eq!(e.problems[1].line, Some(2));
        assert_eq!(e.problems[1].column, Some(12));
        let e = v[1].as_ref().unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(codes(e), [("duplicate_field", "/1/value")]);
    }

    #[test]
    fn missing_fields_and_non_objects() {
        let v = parse(
            b"[{\"eventId\": \"e\"}, 5, null]",
            "application/json",
            &ParseOptions::default(),
        )
        .unwrap();
        let e = v[0].as_ref().unwrap_err();
        assert_eq!(e.problems.len(), 4);
        assert!(e
            .problems
            .iter()
            .all(|p| p.code == Code::MissingField && p.pointer == "/0"));
        assert_eq!(codes(v[1].as_ref().unwrap_err()), [("not_an_object", "/1")]);
        assert_eq!(codes(v[2].as_ref().unwrap_err()), [("not_an_object", "/2")]);
    }

    #[test]
    fn huge_and_tiny_numbers() {
        let e = one(&SEED.replace("42", "1e400"), "application/json").unwrap_err();
        assert_eq!(codes(&e), [("number_out_of_range", "/value")]);
        let e = one(&SEED.replace("42", "1e-40"), "application/json").unwrap_err();
        assert_eq!(codes(&e), [("number_too_precise", "/value")]);
    }

    #[test]
    fn ndjson_keeps_good_lines() {
        let body = format!(
            "{}\n\r\n{{\"value\": NaN}}\n{}\r\n[1]\n",
            SEED.replace('\n', ""),
            SEED.replace('\n', "").replace("evt_0001", "evt_0002")
        );
        let v = parse(
            body.as_bytes(),
            "application/x-ndjson",
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].as_ref().unwrap().event_id, "evt_0001");
        let bad = v[1].as_ref().unwrap_err();
        assert_eq!((bad.index, bad.line), (1, 3));
        assert_eq!(bad.problems[0].code, Code::MalformedJson);
        assert!(bad.problems[0].message.contains("NaN"));
        assert_eq!(v[2].as_ref().unwrap().event_id, "evt_0002");
        let arr = v[3].as_ref().unwrap_err();
        assert_eq!((arr.index, arr.line), (3, 5));
        assert_eq!(arr.problems[0].code, Code::NotAnObject);
    }

    #[test]
    fn cloudevent_mapping() {
        let body = r#"{"specversion":"1.0","id":"ce-1","source":"plaza:app/com.example.where2eat",
"type":"dev.plaza.usage.adjust.v1","subject":"inst-9a3f","time":"2026-01-10T14:23:00Z",
"datacontenttype":"application/json","traceparent":"00-abc","data":{"metric":"api_calls","value":-2,"ref":"evt_0001","sequence":9}}"#;
        let e = one(body, "application/cloudevents+json").unwrap();
        assert_eq!(e.event_id, "ce-1");
        assert_eq!(e.app_id, "com.example.where2eat");
        assert_eq!(e.instance_id, "inst-9a3f");
        assert_eq!(e.kind, EventKind::Adjust);
        assert_eq!(e.value, Some(Decimal::from(-2)));
        assert_eq!(e.correction_ref.as_deref(), Some("evt_0001"));
        assert_eq!(e.sequence, Some(9));
        assert_eq!(e.format, EventFormat::CloudEvents);
        // A plain app id as source works too.
        let plain = body.replace("plaza:app/com.example.where2eat", "com.example.where2eat");
        assert_eq!(
            one(&plain, "application/cloudevents+json").unwrap().app_id,
            "com.example.where2eat"
        );
    }

    #[test]
    fn cloudevent_problems() {
        let body = r#"{"specversion":"0.3","id":"ce-1","source":"plaza:app/","type":"com.other",
"metric":"x","Data":1,"datacontenttype":"text/plain","data":{"value":"1","kind":"void"}}"#;
        let e = one(body, "application/cloudevents+json").unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("invalid_value", "/specversion"),
                ("invalid_value", "/source"),
                ("invalid_value", "/type"),
                ("misplaced_field", "/metric"),
                ("unknown_field", "/Data"),
                ("invalid_value", "/datacontenttype"),
                ("invalid_type", "/data/value"),
                ("unknown_field", "/data/kind"),
                ("missing_field", "/data"),
                ("missing_field", ""),
                ("missing_field", ""),
            ]
        );
    }

    #[test]
    fn cloudevent_sent_as_plain_json_gets_a_hint() {
        let e = one(r#"{"specversion":"1.0"}"#, "application/json").unwrap_err();
        assert!(e.problems[0].hint.contains("application/cloudevents+json"));
    }

    #[test]
    fn nulls_mean_absent_for_optional_fields() {
        let body = SEED.replace(
            "\"value\": 42",
            "\"value\": null, \"unit\": null, \"tags\": null, \"ref\": null",
        );
        let e = one(&body, "application/json").unwrap();
        assert_eq!(e.value, None);
        assert_eq!(e.unit, None);
        let body = SEED.replace("\"evt_0001\"", "null");
        assert_eq!(
            codes(&one(&body, "application/json").unwrap_err()),
            [("invalid_type", "/eventId")]
        );
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let body = SEED.replace("\"value\": 42", "\"value\": 42, \"a/b\": 1");
        assert_eq!(
            codes(&one(&body, "application/json").unwrap_err()),
            [("unknown_field", "/a~1b")]
        );
    }
}
