//! Usage events as they arrive ([`RawEvent`], decoded but not yet checked against anything)
//! and the kinds of event ([`EventKind`]).
//!
//! The wire shape is the seed's event — `eventId`, `appId`, `instanceId`, `metric`, `value`,
//! `timestamp` — plus the optional `sequence`, `tags`, `unit`, `dimensions`, `kind` and `ref`.
//! A CloudEvent decodes into the same [`RawEvent`]; [`RawEvent::pointer`] knows where each
//! field lives in either shape so that problems point into what the client sent.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an event does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Usage to bill (the default): `value` ≥ 0.
    #[default]
    Usage,
    /// Cancels the usage event named by `ref`; `value` is ignored.
    Void,
    /// Adds the signed delta `value` to the usage event named by `ref`.
    Adjust,
}

impl EventKind {
    /// Every kind.
    pub const ALL: &'static [EventKind] = &[EventKind::Usage, EventKind::Void, EventKind::Adjust];

    /// The wire name: `usage`, `void` or `adjust`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Usage => "usage",
            EventKind::Void => "void",
            EventKind::Adjust => "adjust",
        }
    }

    /// The CloudEvents `type` that carries this kind.
    pub fn cloudevents_type(self) -> &'static str {
        match self {
            EventKind::Usage => crate::parse::CE_TYPE_USAGE,
            EventKind::Void => crate::parse::CE_TYPE_VOID,
            EventKind::Adjust => crate::parse::CE_TYPE_ADJUST,
        }
    }

    /// True for `void` and `adjust`.
    pub fn is_correction(self) -> bool {
        self != EventKind::Usage
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Which wire shape an event arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EventFormat {
    /// Plaza's own shape (the seed event), in JSON or NDJSON.
    #[default]
    Plaza,
    /// A CloudEvents 1.0 structured-mode event.
    CloudEvents,
}

/// A field of an event, for pointing at it in either wire shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `eventId` (CloudEvents `id`).
    EventId,
    /// `appId` (CloudEvents `source`).
    AppId,
    /// `instanceId` (CloudEvents `subject`).
    InstanceId,
    /// `metric` (CloudEvents `data.metric`).
    Metric,
    /// `value` (CloudEvents `data.value`).
    Value,
    /// `unit` (CloudEvents `data.unit`).
    Unit,
    /// `timestamp` (CloudEvents `time`).
    Timestamp,
    /// `sequence` (CloudEvents `data.sequence`).
    Sequence,
    /// `tags` (CloudEvents `data.tags`).
    Tags,
    /// `dimensions` (CloudEvents `data.dimensions`).
    Dimensions,
    /// `kind` (CloudEvents `type`).
    Kind,
    /// `ref` (CloudEvents `data.ref`).
    Ref,
}

impl Field {
    /// The JSON pointer of this field inside an event of the given shape.
    pub fn pointer(self, format: EventFormat) -> &'static str {
        match (format, self) {
            (EventFormat::Plaza, Field::EventId) => "/eventId",
            (EventFormat::Plaza, Field::AppId) => "/appId",
            (EventFormat::Plaza, Field::InstanceId) => "/instanceId",
            (EventFormat::Plaza, Field::Metric) => "/metric",
            (EventFormat::Plaza, Field::Value) => "/value",
            (EventFormat::Plaza, Field::Unit) => "/unit",
            (EventFormat::Plaza, Field::Timestamp) => "/timestamp",
            (EventFormat::Plaza, Field::Sequence) => "/sequence",
            (EventFormat::Plaza, Field::Tags) => "/tags",
            (EventFormat::Plaza, Field::Dimensions) => "/dimensions",
            (EventFormat::Plaza, Field::Kind) => "/kind",
            (EventFormat::Plaza, Field::Ref) => "/ref",
            (EventFormat::CloudEvents, Field::EventId) => "/id",
            (EventFormat::CloudEvents, Field::AppId) => "/source",
            (EventFormat::CloudEvents, Field::InstanceId) => "/subject",
            (EventFormat::CloudEvents, Field::Metric) => "/data/metric",
            (EventFormat::CloudEvents, Field::Value) => "/data/value",
            (EventFormat::CloudEvents, Field::Unit) => "/data/unit",
            (EventFormat::CloudEvents, Field::Timestamp) => "/time",
            (EventFormat::CloudEvents, Field::Sequence) => "/data/sequence",
            (EventFormat::CloudEvents, Field::Tags) => "/data/tags",
            (EventFormat::CloudEvents, Field::Dimensions) => "/data/dimensions",
            (EventFormat::CloudEvents, Field::Kind) => "/type",
            (EventFormat::CloudEvents, Field::Ref) => "/data/ref",
        }
    }
}

/// A decoded usage event: every field has the right JSON type, nothing is checked against the
/// manifest, the clock or the unit registry yet (that is [`validate`](crate::validate())).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEvent {
    /// Client-chosen id, unique per app forever (`eventId`, CloudEvents `id`).
    pub event_id: String,
    /// The app the usage belongs to (`appId`, CloudEvents `source`).
    pub app_id: String,
    /// The instance that produced it (`instanceId`, CloudEvents `subject`).
    pub instance_id: String,
    /// Metric name, declared in the manifest or a host metric.
    pub metric: String,
    /// The amount, exactly as written in the JSON text; `None` when absent (allowed for
    /// `void` only).
    #[serde(
        default,
        with = "opt_decimal_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Decimal>,
    /// When the usage happened, as sent (RFC 3339 is checked by validation).
    pub timestamp: String,
    /// The unit `value` is expressed in, when it is not the metric's declared unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Per-instance sequence number, for gap detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Free-form labels for cost allocation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Labels that aggregations can group or count by.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// `usage`, `void` or `adjust`.
    #[serde(default)]
    pub kind: EventKind,
    /// The `eventId` a correction applies to (`ref` on the wire).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub correction_ref: Option<String>,
    /// The shape it arrived in (decides the pointers of problems).
    #[serde(default)]
    pub format: EventFormat,
}

impl RawEvent {
    /// The JSON pointer of `field` inside this event as the client wrote it.
    pub fn pointer(&self, field: Field) -> &'static str {
        field.pointer(self.format)
    }
}

mod opt_decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => crate::number::serde_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                crate::number::parse_json_number(&text).map_err(|p| {
                    serde::de::Error::custom(format!("`{text}` is not an exact decimal: {p:?}"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(*k));
            assert_eq!(k.is_correction(), *k != EventKind::Usage);
        }
        assert!("Usage".parse::<EventKind>().is_err());
        assert_eq!(EventKind::default(), EventKind::Usage);
    }

    #[test]
    fn pointers_follow_the_shape() {
        assert_eq!(Field::Value.pointer(EventFormat::Plaza), "/value");
        assert_eq!(
            Field::Value.pointer(EventFormat::CloudEvents),
            "/data/value"
        );
        assert_eq!(Field::Timestamp.pointer(EventFormat::CloudEvents), "/time");
        assert_eq!(Field::AppId.pointer(EventFormat::CloudEvents), "/source");
        assert_eq!(Field::Kind.pointer(EventFormat::CloudEvents), "/type");
    }
}
