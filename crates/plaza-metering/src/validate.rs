//! Validating a [`RawEvent`] against what the installed app declares and the clock, and
//! normalising it to the metric's declared unit: the result is a [`ValidatedEvent`] or every
//! [`Problem`] found at once.
//!
//! Rules, in the order they are checked (all are checked; problems are reported together):
//!
//! 1. `eventId`, `appId`, `instanceId` and `ref` are non-empty, at most [`MAX_ID_BYTES`] bytes,
//!    without control characters (`invalid_id`).
//! 2. `usage` has no `ref` (`unexpected_ref`); `void` and `adjust` have one (`missing_ref`) that
//!    is not their own `eventId` (`self_reference`).
//! 3. The metric is declared in [`MeteringContext::metrics`] (the installed manifest's
//!    `billing.metrics`) or is a host metric ([`HOST_METRICS`]) (`unknown_metric`).
//! 4. `usage` and `adjust` have a value (`missing_value`); a `usage` value is ≥ 0
//!    (`negative_value`); an `adjust` value is a signed delta; a `void`'s value is ignored (it
//!    cancels the whole referenced event) and normalises to 0.
//! 5. A stated `unit` is a registry symbol (`unknown_unit`) of the declared unit's dimension
//!    (`unit_mismatch`); the value is converted exactly to the declared unit
//!    (`inexact_conversion` when the result is not a decimal of at most 28 places,
//!    `value_out_of_range` when it is too large). No unit means the declared unit.
//! 6. `timestamp` is RFC 3339 with an offset (`invalid_timestamp`), at most
//!    [`MeteringContext::max_future_skew`] ahead of [`MeteringContext::now`]
//!    (`timestamp_in_future`) and not older than [`MeteringContext::late_window`]
//!    (`timestamp_too_old`).
//! 7. At most [`MAX_LABELS`] tags and dimensions each; keys non-empty and at most
//!    [`MAX_LABEL_KEY_BYTES`], values at most [`MAX_LABEL_VALUE_BYTES`], no control characters
//!    (`invalid_tag`, `invalid_dimension`).
//!
//! # Content hash
//!
//! [`ValidatedEvent::content_hash`] is the lowercase hex SHA-256 of the compact JSON array
//!
//! ```text
//! ["plaza.usage.v1", appId, instanceId, eventId, kind, metric, value, unit, timestamp,
//!  sequence, ref, tags, dimensions]
//! ```
//!
//! where `value` is the normalised value (in the declared unit) as a JSON string of its
//! canonical decimal text (no exponent, no trailing fractional zeros: `42`, `1.5`; `0` for a
//! `void`), `unit` the declared unit, `timestamp` the instant in UTC as RFC 3339 with `Z` and
//! 0, 3, 6 or 9 fractional digits (as few as represent it exactly), `sequence` a JSON integer or
//! `null`, `ref` a string or `null`, and `tags`/`dimensions` JSON objects with keys in
//! byte-wise sorted order. Strings are escaped as serde_json writes them. So the hash does not
//! depend on field order, number spelling (`42`, `42.0`, `4.2e1`), the unit the client chose
//! (1500 `ms` and 1.5 `s` for a metric declared in `s`), the timestamp's offset, the wire shape
//! (Plaza JSON, NDJSON or CloudEvents) or CloudEvents extension attributes; it changes with
//! anything that changes what is billed or how it is allocated.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use plaza_manifest::units::{conversion, lookup, UNITS};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::{EventKind, Field, RawEvent};
use crate::number::{canonical, canonical_text, convert_exact, ConversionProblem};
use crate::problem::{did_you_mean, escape_pointer_token, Code, Problem};

/// A metric the Plaza host emits for every app, whatever its manifest declares. The manifest
/// reserves the `plaza_` prefix for these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMetric {
    /// Metric name.
    pub name: &'static str,
    /// Its unit (a registry symbol).
    pub unit: &'static str,
    /// What it measures.
    pub description: &'static str,
}

/// The host metrics.
pub const HOST_METRICS: &[HostMetric] = &[
    HostMetric {
        name: "plaza_calls",
        unit: "count",
        description: "invocations of the instance (one per request or handler call)",
    },
    HostMetric {
        name: "plaza_compute_time",
        unit: "ms",
        description: "CPU time spent running the instance",
    },
    HostMetric {
        name: "plaza_egress_bytes",
        unit: "bytes",
        description: "bytes the instance sent over the network",
    },
    HostMetric {
        name: "plaza_memory",
        unit: "MiB-s",
        description: "memory held by the instance over time",
    },
];

/// The host metric called `name`, if any.
pub fn host_metric(name: &str) -> Option<&'static HostMetric> {
    HOST_METRICS.iter().find(|m| m.name == name)
}

/// Default late-arrival window: 35 days.
pub const DEFAULT_LATE_WINDOW: TimeDelta = TimeDelta::days(35);
/// Default tolerated clock skew into the future: 5 minutes.
pub const DEFAULT_MAX_FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);
/// Longest id (`eventId`, `appId`, `instanceId`, `ref`), in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Most tags, and most dimensions, on one event.
pub const MAX_LABELS: usize = 50;
/// Longest tag or dimension key, in bytes.
pub const MAX_LABEL_KEY_BYTES: usize = 128;
/// Longest tag or dimension value, in bytes.
pub const MAX_LABEL_VALUE_BYTES: usize = 256;

/// What validation needs to know about the app and the moment. The caller fills it from the
/// installed version's manifest and the organisation's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteringContext {
    /// Declared metrics, name → unit symbol (the manifest's `billing.metrics`).
    pub metrics: BTreeMap<String, String>,
    /// The server's current time.
    pub now: DateTime<Utc>,
    /// How old an event may be (the organisation's late-arrival window; default 35 days).
    pub late_window: TimeDelta,
    /// How far ahead of `now` an event may be (default 5 minutes).
    pub max_future_skew: TimeDelta,
    /// The app version the event's instance runs now, recorded on the validated event
    /// ([`ValidatedEvent::app_version`]); `None` when the caller does not know it.
    pub app_version: Option<String>,
}

impl MeteringContext {
    /// A context with no declared metrics (host metrics only) and the default windows.
    pub fn new(now: DateTime<Utc>) -> MeteringContext {
        MeteringContext {
            metrics: BTreeMap::new(),
            now,
            late_window: DEFAULT_LATE_WINDOW,
            max_future_skew: DEFAULT_MAX_FUTURE_SKEW,
            app_version: None,
        }
    }

    /// The context for an installed manifest: its `billing.metrics` and the default windows.
    pub fn from_manifest(
        manifest: &plaza_manifest::Manifest,
        now: DateTime<Utc>,
    ) -> MeteringContext {
        let mut cx = MeteringContext::new(now);
        if let Some(billing) = &manifest.billing {
            for m in &billing.metrics {
                cx.metrics.insert(m.name.clone(), m.unit.clone());
            }
        }
        cx
    }

    /// Adds a declared metric.
    pub fn with_metric(mut self, name: impl Into<String>, unit: impl Into<String>) -> Self {
        self.metrics.insert(name.into(), unit.into());
        self
    }

    /// Records `version` (the version the instance runs) on every event validated with this
    /// context.
    pub fn with_app_version(mut self, version: impl Into<String>) -> Self {
        self.app_version = Some(version.into());
        self
    }

    /// The unit of a declared or host metric.
    pub fn unit_of(&self, metric: &str) -> Option<&str> {
        self.metrics
            .get(metric)
            .map(String::as_str)
            .or_else(|| host_metric(metric).map(|m| m.unit))
    }
}

/// An event that passed validation, normalised to its metric's declared unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatedEvent {
    /// The app.
    pub app_id: String,
    /// The instance.
    pub instance_id: String,
    /// The client's event id (unique per app forever).
    pub event_id: String,
    /// The metric.
    pub metric: String,
    /// The value in the declared unit (0 for `void`; a signed delta for `adjust`).
    #[serde(with = "crate::number::serde_text")]
    pub value: Decimal,
    /// The declared unit of the metric.
    pub unit: String,
    /// The value as sent (0 for a `void` without one).
    #[serde(with = "crate::number::serde_text")]
    pub original_value: Decimal,
    /// The unit as sent (the declared unit when the event stated none).
    pub original_unit: String,
    /// When the usage happened.
    pub timestamp: DateTime<Utc>,
    /// Per-instance sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Allocation labels.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Aggregation labels.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// `usage`, `void` or `adjust`.
    pub kind: EventKind,
    /// The event a correction applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_ref: Option<String>,
    /// SHA-256 (hex) of the canonical content; see the module documentation.
    pub content_hash: String,
    /// The app version the instance ran when the event was accepted (`None`: not known, e.g.
    /// recorded before versions were kept). What the ingest knew, not what the client sent: it
    /// is not part of the content hash, so resending an event after an upgrade is still a
    /// duplicate. Absent from the JSON when `None`, so messages without it still decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
}

impl ValidatedEvent {
    /// Recomputes the content hash from the fields (equal to `content_hash` for an event made
    /// by [`validate`]).
    pub fn compute_content_hash(&self) -> String {
        let value = if self.kind == EventKind::Void {
            "0".to_string()
        } else {
            canonical_text(self.value)
        };
        let content = (
            "plaza.usage.v1",
            &self.app_id,
            &self.instance_id,
            &self.event_id,
            self.kind.as_str(),
            &self.metric,
            value,
            &self.unit,
            self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.sequence,
            &self.correction_ref,
            &self.tags,
            &self.dimensions,
        );
        // Serialising strings, integers, options and BTreeMaps cannot fail.
        let bytes = serde_json::to_vec(&content).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Validates and normalises one event. Returns every problem at once; pointers are relative to
/// the event (`/value`, or `/data/value` for a CloudEvent).
pub fn validate(raw: &RawEvent, cx: &MeteringContext) -> Result<ValidatedEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let ptr = |f: Field| raw.pointer(f);

    // 1. Ids.
    for (field, name, value) in [
        (Field::EventId, "eventId", Some(&raw.event_id)),
        (Field::AppId, "appId", Some(&raw.app_id)),
        (Field::InstanceId, "instanceId", Some(&raw.instance_id)),
        (Field::Ref, "ref", raw.correction_ref.as_ref()),
    ] {
        if let Some(v) = value {
            if let Some(why) = bad_text(v, MAX_ID_BYTES, false) {
                problems.push(Problem::new(
                    Code::InvalidId,
                    ptr(field),
                    format!("`{name}` {why}"),
                    format!("use a non-empty id of at most {MAX_ID_BYTES} bytes without control characters"),
                ));
            }
        }
    }

    // 2. Corrections.
    match (raw.kind, &raw.correction_ref) {
        (EventKind::Usage, Some(r)) => problems.push(Problem::new(
            Code::UnexpectedRef,
            ptr(Field::Ref),
            format!("a usage event carries `ref` {r:?}"),
            "to correct an earlier event send kind `void` or `adjust` with ref; otherwise remove ref",
        )),
        (EventKind::Void | EventKind::Adjust, None) => problems.push(Problem::new(
            Code::MissingRef,
            ptr(Field::Ref),
            format!("{} {} correction has no `ref`", if raw.kind == EventKind::Adjust { "an" } else { "a" }, raw.kind),
            "set ref to the eventId of the usage event being corrected",
        )),
        (EventKind::Void | EventKind::Adjust, Some(r)) if *r == raw.event_id => {
            problems.push(Problem::new(
                Code::SelfReference,
                ptr(Field::Ref),
                format!("the correction `{r}` refers to itself"),
                "give the correction its own eventId and set ref to the event it corrects",
            ))
        }
        _ => {}
    }

    // 3. Metric.
    let declared = cx.unit_of(&raw.metric);
    if declared.is_none() {
        let mut known: Vec<&str> = cx.metrics.keys().map(String::as_str).collect();
        known.extend(HOST_METRICS.iter().map(|m| m.name));
        let hint = match did_you_mean(&raw.metric, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None if cx.metrics.is_empty() => format!(
                "the installed version declares no metrics; host metrics are {}",
                HOST_METRICS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
            ),
            None => format!(
                "declare it under billing.metrics in micro-app.yaml and install the new version; declared: {}",
                cx.metrics.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        problems.push(Problem::new(
            Code::UnknownMetric,
            ptr(Field::Metric),
            format!(
                "metric `{}` is not declared by the installed version of `{}` and is not a host metric",
                raw.metric, raw.app_id
            ),
            hint,
        ));
    }

    // 4. Value.
    let original_value = match (raw.kind, raw.value) {
        (EventKind::Void, v) => v.map(canonical).unwrap_or(Decimal::ZERO),
        (_, Some(v)) => canonical(v),
        (kind, None) => {
            problems.push(Problem::new(
                Code::MissingValue,
                ptr(Field::Value),
                format!("{} {kind} event has no `value`", if kind == EventKind::Adjust { "an" } else { "a" }),
                if kind == EventKind::Adjust {
                    "set value to the signed delta, e.g. -2 to take two units off the referenced event"
                } else {
                    "set value to the amount used, e.g. \"value\": 1"
                },
            ));
            Decimal::ZERO
        }
    };
    if raw.kind == EventKind::Usage
        && original_value.is_sign_negative()
        && !original_value.is_zero()
    {
        problems.push(Problem::new(
            Code::NegativeValue,
            ptr(Field::Value),
            format!("usage value {} is negative", canonical_text(original_value)),
            "usage is never negative; to take usage back send kind `adjust` with a negative delta (or `void`) and ref",
        ));
    }

    // 5. Unit.
    let original_unit = raw.unit.clone().or_else(|| declared.map(str::to_string));
    let mut value = if raw.kind == EventKind::Void {
        Decimal::ZERO
    } else {
        original_value
    };
    if let (Some(stated), Some(declared)) = (&raw.unit, declared) {
        if stated != declared {
            match lookup(stated) {
                None => {
                    let symbols: Vec<&str> = UNITS.iter().map(|u| u.symbol).collect();
                    let hint = match did_you_mean(stated, &symbols) {
                        Some(s) => format!("did you mean `{s}`? Unit symbols are case-sensitive"),
                        None => format!("use a symbol of the unit registry (docs/manifest.md), such as `{declared}`"),
                    };
                    problems.push(Problem::new(
                        Code::UnknownUnit,
                        ptr(Field::Unit),
                        format!("unit `{stated}` is not in the unit registry"),
                        hint,
                    ));
                }
                Some(from) => match lookup(declared) {
                    None => problems.push(Problem::new(
                        Code::UnitMismatch,
                        ptr(Field::Unit),
                        format!("metric `{}` is declared in `{declared}`, which has no conversions; the event says `{stated}`", raw.metric),
                        format!("send values in `{declared}` and leave unit out"),
                    )),
                    Some(to) => match conversion(from, to) {
                        None => problems.push(Problem::new(
                            Code::UnitMismatch,
                            ptr(Field::Unit),
                            format!(
                                "unit `{stated}` measures {} but metric `{}` is declared in `{declared}`, which measures {}",
                                from.dimension, raw.metric, to.dimension
                            ),
                            format!("send a unit of the {} dimension (base unit `{}`), or leave unit out to mean `{declared}`", to.dimension, to.dimension.base_unit()),
                        )),
                        Some(ratio) if raw.kind != EventKind::Void => {
                            match convert_exact(original_value, ratio) {
                                Ok(v) => value = v,
                                Err(ConversionProblem::Inexact) => problems.push(Problem::new(
                                    Code::InexactConversion,
                                    ptr(Field::Value),
                                    format!(
                                        "{} {stated} is not an exact decimal in `{declared}` (factor {ratio}, at most 28 decimal places)",
                                        canonical_text(original_value)
                                    ),
                                    format!("send the value in `{declared}` directly, rounded as your billing rules say"),
                                )),
                                Err(ConversionProblem::OutOfRange) => problems.push(Problem::new(
                                    Code::ValueOutOfRange,
                                    ptr(Field::Value),
                                    format!(
                                        "{} {stated} is beyond the decimal range once converted to `{declared}`",
                                        canonical_text(original_value)
                                    ),
                                    "split the usage into several events",
                                )),
                            }
                        }
                        Some(_) => {}
                    },
                },
            }
        }
    } else if let (Some(stated), None) = (&raw.unit, declared) {
        if lookup(stated).is_none() {
            problems.push(Problem::new(
                Code::UnknownUnit,
                ptr(Field::Unit),
                format!("unit `{stated}` is not in the unit registry"),
                "use a symbol of the unit registry (docs/manifest.md); symbols are case-sensitive",
            ));
        }
    }

    // 6. Timestamp.
    let timestamp = match DateTime::parse_from_rfc3339(&raw.timestamp) {
        Err(e) => {
            problems.push(Problem::new(
                Code::InvalidTimestamp,
                ptr(Field::Timestamp),
                format!("timestamp {:?} is not an RFC 3339 date-time: {e}", raw.timestamp),
                "write e.g. \"2026-01-10T14:23:00Z\" or \"2026-01-10T15:23:00+01:00\" (an offset is required)",
            ));
            None
        }
        Ok(t) => {
            let t = t.with_timezone(&Utc);
            let latest = cx.now.checked_add_signed(cx.max_future_skew);
            let earliest = cx.now.checked_sub_signed(cx.late_window);
            if latest.is_some_and(|l| t > l) {
                problems.push(Problem::new(
                    Code::TimestampInFuture,
                    ptr(Field::Timestamp),
                    format!(
                        "timestamp {} is {} ahead of the server clock ({}); at most {} is tolerated",
                        raw.timestamp,
                        human(t - cx.now),
                        cx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        human(cx.max_future_skew)
                    ),
                    "check the emitter's clock (NTP) and the timestamp's offset; usage is reported after it happens",
                ));
            } else if earliest.is_some_and(|e| t < e) {
                problems.push(Problem::new(
                    Code::TimestampTooOld,
                    ptr(Field::Timestamp),
                    format!(
                        "timestamp {} is {} old, beyond the late-arrival window of {}",
                        raw.timestamp,
                        human(cx.now - t),
                        human(cx.late_window)
                    ),
                    "late usage can no longer be billed; ask an org admin about the late-arrival window, or correct the period with an adjust event",
                ));
            }
            Some(t)
        }
    };

    // 7. Labels.
    for (field, map, code, name) in [
        (Field::Tags, &raw.tags, Code::InvalidTag, "tag"),
        (
            Field::Dimensions,
            &raw.dimensions,
            Code::InvalidDimension,
            "dimension",
        ),
    ] {
        if map.len() > MAX_LABELS {
            problems.push(Problem::new(
                code,
                ptr(field),
                format!("{} {name}s, more than the limit of {MAX_LABELS}", map.len()),
                format!("keep at most {MAX_LABELS} {name}s per event"),
            ));
        }
        for (k, v) in map {
            let at = format!("{}/{}", ptr(field), escape_pointer_token(k));
            if let Some(why) = bad_text(k, MAX_LABEL_KEY_BYTES, false) {
                problems.push(Problem::new(
                    code,
                    at.clone(),
                    format!("{name} key {k:?} {why}"),
                    format!(
                        "use keys of 1 to {MAX_LABEL_KEY_BYTES} bytes without control characters"
                    ),
                ));
            }
            if let Some(why) = bad_text(v, MAX_LABEL_VALUE_BYTES, true) {
                problems.push(Problem::new(
                    code,
                    at,
                    format!("{name} `{k}`'s value {why}"),
                    format!("use values of at most {MAX_LABEL_VALUE_BYTES} bytes without control characters"),
                ));
            }
        }
    }

    match (problems.is_empty(), timestamp, declared) {
        (true, Some(timestamp), Some(unit)) => {
            let mut event = ValidatedEvent {
                app_id: raw.app_id.clone(),
                instance_id: raw.instance_id.clone(),
                event_id: raw.event_id.clone(),
                metric: raw.metric.clone(),
                value: canonical(value),
                unit: unit.to_string(),
                original_value,
                original_unit: original_unit.unwrap_or_else(|| unit.to_string()),
                timestamp,
                sequence: raw.sequence,
                tags: raw.tags.clone(),
                dimensions: raw.dimensions.clone(),
                kind: raw.kind,
                correction_ref: raw.correction_ref.clone(),
                content_hash: String::new(),
                app_version: cx.app_version.clone(),
            };
            event.content_hash = event.compute_content_hash();
            Ok(event)
        }
        _ => Err(problems),
    }
}

/// Why a piece of text is not an acceptable id or label, if it is not.
fn bad_text(s: &str, max: usize, empty_ok: bool) -> Option<String> {
    if s.is_empty() && !empty_ok {
        Some("is empty".into())
    } else if s.len() > max {
        Some(format!("is {} bytes long, more than {max}", s.len()))
    } else if s.chars().any(char::is_control) {
        Some("holds control characters".into())
    } else {
        None
    }
}

/// A duration for messages: `2h 5m`, `40 days`, `5m`, `30s`.
fn human(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (days, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if days > 0 {
        if h == 0 {
            format!("{days} days")
        } else {
            format!("{days} days {h}h")
        }
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 && s == 0 {
        format!("{m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventFormat;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 10, 15, 0, 0).unwrap()
    }

    fn cx() -> MeteringContext {
        MeteringContext::new(now())
            .with_metric("api_calls", "count")
            .with_metric("cpu", "s")
            .with_metric("storage", "bytes")
            .with_metric("transfer", "KB")
            .with_metric("runtime_min", "min")
    }

    fn raw(metric: &str, value: &str) -> RawEvent {
        RawEvent {
            event_id: "evt_0001".into(),
            app_id: "com.example.where2eat".into(),
            instance_id: "inst-9a3f".into(),
            metric: metric.into(),
            value: Some(crate::number::parse_json_number(value).unwrap()),
            timestamp: "2026-01-10T14:23:00Z".into(),
            unit: None,
            sequence: None,
            tags: BTreeMap::new(),
            dimensions: BTreeMap::new(),
            kind: EventKind::Usage,
            correction_ref: None,
            format: EventFormat::Plaza,
        }
    }

    fn with_unit(metric: &str, value: &str, unit: &str) -> RawEvent {
        RawEvent {
            unit: Some(unit.into()),
            ..raw(metric, value)
        }
    }

    fn codes(r: Result<ValidatedEvent, Vec<Problem>>) -> Vec<(&'static str, String)> {
        r.unwrap_err()
            .into_iter()
            .map(|p| (p.code.as_str(), p.pointer))
            .collect()
    }

    fn normalised(e: RawEvent) -> (String, String) {
        let v = validate(&e, &cx()).unwrap();
        (canonical_text(v.value), v.unit)
    }

    #[test]
    fn seed_event_validates() {
        let v = validate(&raw("api_calls", "42"), &cx()).unwrap();
        assert_eq!(v.value, Decimal::from(42));
        assert_eq!(v.unit, "count");
        assert_eq!(v.original_unit, "count");
        assert_eq!(
            v.timestamp,
            Utc.with_ymd_and_hms(2026, 1, 10, 14, 23, 0).unwrap()
        );
        assert_eq!(v.content_hash.len(), 64);
        assert_eq!(v.content_hash, v.compute_content_hash());
    }

    #[test]
    fn unit_conversions() {
        assert_eq!(
            normalised(with_unit("cpu", "1500", "ms")),
            ("1.5".into(), "s".into())
        );
        assert_eq!(
            normalised(with_unit("storage", "1", "GiB")),
            ("1073741824".into(), "bytes".into())
        );
        assert_eq!(normalised(with_unit("storage", "1", "KB")).0, "1000");
        assert_eq!(normalised(with_unit("storage", "1", "KiB")).0, "1024");
        assert_eq!(normalised(with_unit("transfer", "1", "KiB")).0, "1.024");
        assert_eq!(
            normalised(with_unit("plaza_compute_time", "2", "s")),
            ("2000".into(), "ms".into())
        );
        let v = validate(&with_unit("cpu", "1500", "ms"), &cx()).unwrap();
        assert_eq!(v.original_value, Decimal::from(1500));
        assert_eq!(v.original_unit, "ms");
        assert_eq!(
            codes(validate(&with_unit("runtime_min", "1", "ms"), &cx())),
            [("inexact_conversion", "/value".into())]
        );
        assert_eq!(
            codes(validate(&with_unit("cpu", "1", "bytes"), &cx())),
            [("unit_mismatch", "/unit".into())]
        );
        let p = validate(&with_unit("storage", "1", "kb"), &cx()).unwrap_err();
        assert_eq!(p[0].code, Code::UnknownUnit);
        assert!(p[0].hint.contains("`KB`"), "{}", p[0].hint);
        assert_eq!(
            codes(validate(
                &with_unit("storage", "79228162514264337593543950335", "KiB"),
                &cx()
            )),
            [("value_out_of_range", "/value".into())]
        );
    }

    #[test]
    fn same_content_same_hash() {
        let a = validate(&raw("api_calls", "42"), &cx()).unwrap();
        let b = validate(&raw("api_calls", "42.000"), &cx()).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        let c = validate(
            &RawEvent {
                timestamp: "2026-01-10T15:23:00+01:00".into(),
                format: EventFormat::CloudEvents,
                ..raw("api_calls", "4.2e1")
            },
            &cx(),
        )
        .unwrap();
        assert_eq!(a.content_hash, c.content_hash);
        let s1 = validate(&with_unit("cpu", "1500", "ms"), &cx()).unwrap();
        let s2 = validate(&with_unit("cpu", "1.5", "s"), &cx()).unwrap();
        let s3 = validate(&raw("cpu", "1.5"), &cx()).unwrap();
        assert_eq!(s1.content_hash, s2.content_hash);
        assert_eq!(s2.content_hash, s3.content_hash);
        // Anything billed or allocated changes the hash.
        let d = validate(&raw("api_calls", "43"), &cx()).unwrap();
        assert_ne!(a.content_hash, d.content_hash);
        let mut tagged = raw("api_calls", "42");
        tagged.tags.insert("team".into(), "search".into());
        assert_ne!(
            a.content_hash,
            validate(&tagged, &cx()).unwrap().content_hash
        );
        let mut seq = raw("api_calls", "42");
        seq.sequence = Some(1);
        assert_ne!(a.content_hash, validate(&seq, &cx()).unwrap().content_hash);
    }

    #[test]
    fn hash_is_pinned() {
        // The encoding is part of the store's contract: changing it turns every retry of an
        // old event into a conflict. This pins it.
        let a = validate(&raw("api_calls", "42"), &cx()).unwrap();
        let expected = r#"["plaza.usage.v1","com.example.where2eat","inst-9a3f","evt_0001","usage","api_calls","42","count","2026-01-10T14:23:00Z",null,null,{},{}]"#;
        assert_eq!(
            a.content_hash,
            hex::encode(Sha256::digest(expected.as_bytes()))
        );
    }

    #[test]
    fn the_app_version_is_recorded_but_not_hashed_and_optional_on_the_wire() {
        let before = validate(&raw("api_calls", "42"), &cx()).unwrap();
        assert_eq!(before.app_version, None);
        let after = validate(&raw("api_calls", "42"), &cx().with_app_version("1.3.0")).unwrap();
        assert_eq!(after.app_version.as_deref(), Some("1.3.0"));
        // The same event resent after an upgrade is the same content: a duplicate.
        assert_eq!(before.content_hash, after.content_hash);
        // JSON (the bus payload) without `appVersion` still decodes, and one with it keeps it.
        let old = serde_json::to_value(&before).unwrap();
        assert!(old.get("appVersion").is_none(), "{old}");
        let decoded: ValidatedEvent = serde_json::from_value(old).unwrap();
        assert_eq!(decoded, before);
        let new = serde_json::to_value(&after).unwrap();
        assert_eq!(new["appVersion"], "1.3.0");
        let decoded: ValidatedEvent = serde_json::from_value(new).unwrap();
        assert_eq!(decoded, after);
    }

    #[test]
    fn values_and_corrections() {
        assert_eq!(
            codes(validate(&raw("api_calls", "-1"), &cx())),
            [("negative_value", "/value".into())]
        );
        assert!(validate(&raw("api_calls", "-0"), &cx()).is_ok());
        let missing = RawEvent {
            value: None,
            ..raw("api_calls", "1")
        };
        assert_eq!(
            codes(validate(&missing, &cx())),
            [("missing_value", "/value".into())]
        );

        let adjust = RawEvent {
            kind: EventKind::Adjust,
            event_id: "evt_0002".into(),
            correction_ref: Some("evt_0001".into()),
            ..raw("api_calls", "-2")
        };
        let v = validate(&adjust, &cx()).unwrap();
        assert_eq!(v.value, Decimal::from(-2));
        assert_eq!(v.correction_ref.as_deref(), Some("evt_0001"));

        let void = RawEvent {
            kind: EventKind::Void,
            value: None,
            event_id: "evt_0003".into(),
            correction_ref: Some("evt_0001".into()),
            ..raw("api_calls", "0")
        };
        let v = validate(&void, &cx()).unwrap();
        assert_eq!(v.value, Decimal::ZERO);
        // A void's value is ignored: sending one does not change what the void means.
        let void_with_value = RawEvent {
            value: Some(Decimal::from(42)),
            ..void.clone()
        };
        assert_eq!(
            validate(&void_with_value, &cx()).unwrap().content_hash,
            v.content_hash
        );

        let no_ref = RawEvent {
            correction_ref: None,
            ..void.clone()
        };
        assert_eq!(
            codes(validate(&no_ref, &cx())),
            [("missing_ref", "/ref".into())]
        );
        let self_ref = RawEvent {
            correction_ref: Some("evt_0003".into()),
            ..void
        };
        assert_eq!(
            codes(validate(&self_ref, &cx())),
            [("self_reference", "/ref".into())]
        );
        let usage_ref = RawEvent {
            correction_ref: Some("x".into()),
            ..raw("api_calls", "1")
        };
        assert_eq!(
            codes(validate(&usage_ref, &cx())),
            [("unexpected_ref", "/ref".into())]
        );
    }

    #[test]
    fn timestamps() {
        let at = |t: &str| RawEvent {
            timestamp: t.into(),
            ..raw("api_calls", "1")
        };
        assert!(validate(&at("2026-01-10T15:05:00Z"), &cx()).is_ok());
        assert_eq!(
            codes(validate(&at("2026-01-10T15:05:01Z"), &cx())),
            [("timestamp_in_future", "/timestamp".into())]
        );
        // 16:05+01:00 is 15:05Z: within the skew.
        assert!(validate(&at("2026-01-10T16:05:00+01:00"), &cx()).is_ok());
        assert!(validate(&at("2025-12-06T15:00:00Z"), &cx()).is_ok());
        let old = validate(&at("2025-12-06T14:59:59Z"), &cx()).unwrap_err();
        assert_eq!(old[0].code, Code::TimestampTooOld);
        assert!(old[0].message.contains("35 days"), "{}", old[0].message);
        for bad in [
            "2026-01-10",
            "2026-01-10T14:23:00",
            "yesterday",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(
                codes(validate(&at(bad), &cx())),
                [("invalid_timestamp", "/timestamp".into())],
                "{bad}"
            );
        }
        let mut wide = cx();
        wide.late_window = TimeDelta::days(400);
        assert!(validate(&at("2025-02-01T00:00:00Z"), &wide).is_ok());
    }

    #[test]
    fn metrics() {
        let p = validate(&raw("api_call", "1"), &cx()).unwrap_err();
        assert_eq!(p[0].code, Code::UnknownMetric);
        assert!(p[0].hint.contains("`api_calls`"));
        for m in HOST_METRICS {
            let v = validate(&raw(m.name, "1"), &MeteringContext::new(now())).unwrap();
            assert_eq!(v.unit, m.unit);
            assert!(lookup(m.unit).is_some(), "{}", m.unit);
        }
        let p = validate(&raw("api_calls", "1"), &MeteringContext::new(now())).unwrap_err();
        assert!(p[0].hint.contains("declares no metrics"));
    }

    #[test]
    fn every_problem_at_once_with_cloudevents_pointers() {
        let mut e = RawEvent {
            event_id: String::new(),
            timestamp: "soon".into(),
            unit: Some("parsecs".into()),
            format: EventFormat::CloudEvents,
            ..raw("nope", "-1")
        };
        e.tags.insert(String::new(), "x".into());
        e.dimensions.insert("k".into(), "a\u{7}b".into());
        assert_eq!(
            codes(validate(&e, &cx())),
            [
                ("invalid_id", "/id".into()),
                ("unknown_metric", "/data/metric".into()),
                ("negative_value", "/data/value".into()),
                ("unknown_unit", "/data/unit".into()),
                ("invalid_timestamp", "/time".into()),
                ("invalid_tag", "/data/tags/".into()),
                ("invalid_dimension", "/data/dimensions/k".into()),
            ]
        );
    }

    #[test]
    fn label_limits() {
        let mut e = raw("api_calls", "1");
        for i in 0..=MAX_LABELS {
            e.dimensions.insert(format!("d{i}"), "v".into());
        }
        e.tags
            .insert("k".repeat(MAX_LABEL_KEY_BYTES + 1), "v".into());
        let c = codes(validate(&e, &cx()));
        assert_eq!(
            c[0],
            (
                "invalid_tag",
                format!("/tags/{}", "k".repeat(MAX_LABEL_KEY_BYTES + 1))
            )
        );
        assert_eq!(c[1], ("invalid_dimension", "/dimensions".into()));
    }

    #[test]
    fn from_manifest_reads_billing_metrics() {
        let yaml = b"id: com.example.hello\nversion: 1.0.0\nname: Hello\nentry: /app/index.wasm\nruntime: wasm\nruntimeVersion: wasip2\nbilling:\n  plan: usage\n  metrics:\n    - name: api_calls\n      unit: count\n      pricePerUnitCents: 1\n    - name: cpu\n      unit: ms\n      pricePerUnitCents: 1\n";
        let m = plaza_manifest::load("m.yaml", yaml).manifest.unwrap();
        let c = MeteringContext::from_manifest(&m, now());
        assert_eq!(c.unit_of("api_calls"), Some("count"));
        assert_eq!(c.unit_of("cpu"), Some("ms"));
        assert_eq!(c.unit_of("plaza_memory"), Some("MiB-s"));
        assert_eq!(c.unit_of("other"), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(TimeDelta::minutes(5)), "5m");
        assert_eq!(human(TimeDelta::days(35)), "35 days");
        assert_eq!(human(TimeDelta::seconds(61)), "1m 1s");
        assert_eq!(human(TimeDelta::seconds(3700)), "1h 1m");
    }
}
