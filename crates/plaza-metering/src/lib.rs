//! Plaza's metering domain: everything between a request body full of usage events and the
//! numbers billing reads, with no HTTP, SQL, async runtime or Wasm in sight.
//!
//! ```
//! use plaza_metering::{parse, validate, MeteringContext, ParseOptions};
//! use chrono::{TimeZone, Utc};
//!
//! let body = br#"{"eventId": "evt_0001", "appId": "com.example.where2eat", "instanceId": "inst-9a3f",
//!   "metric": "api_calls", "value": 42, "timestamp": "2026-01-10T14:23:00Z"}"#;
//! let events = parse(body, "application/json", &ParseOptions::default()).unwrap();
//! let cx = MeteringContext::new(Utc.with_ymd_and_hms(2026, 1, 10, 15, 0, 0).unwrap())
//!     .with_metric("api_calls", "count");
//! let event = validate(events[0].as_ref().unwrap(), &cx).unwrap();
//! assert_eq!(event.value.to_string(), "42");
//! ```
//!
//! The pipeline is [`parse()`] (body → one `Result<RawEvent, EventError>` per event; whole-body
//! failures are an [`Error`]) → [`validate()`] (raw event + [`MeteringContext`] →
//! [`ValidatedEvent`] normalised to the declared unit, or every [`Problem`]) → the store
//! (dedup by app + event id, comparing [`ValidatedEvent::content_hash`]; [`SequenceTracker`]
//! for gaps) → rollups per [`window`](window::window_start) with an [`Aggregation`], whose
//! reference implementation is [`Accumulator`] / [`aggregate`]. See `docs/metering.md`.

pub mod error;
pub mod event;
pub mod gaps;
pub mod number;
pub mod parse;
pub mod problem;
pub mod validate;
pub mod window;

pub use error::Error;
pub use event::{EventFormat, EventKind, Field, RawEvent};
pub use gaps::{GapTracker, SequenceTracker};
pub use parse::{parse, parse_as, ContentType, Decoded, EventError, ParseOptions};
pub use problem::{Code, Problem};
pub use validate::{
    host_metric, validate, HostMetric, MeteringContext, ValidatedEvent, HOST_METRICS,
};
pub use window::{
    aggregate, next_window_start, parse_time_zone, resolve_corrections, window_start, Accumulator,
    Aggregation, Granularity, Resolved, UniqueOf,
};

/// Re-exported so callers name the same decimal and time zone types.
pub use chrono_tz::Tz;
/// Re-exported so callers name the same decimal type.
pub use rust_decimal::Decimal;
