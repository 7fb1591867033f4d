//! The crate's error type: failures that concern a whole request body or a whole operation,
//! as opposed to the per-event [`Problem`](crate::Problem)s that leave the rest of a batch
//! intact.

use thiserror::Error;

/// A failure of a whole operation. Per-event problems are reported as
/// [`EventError`](crate::EventError) (decoding) or [`Problem`](crate::Problem) lists
/// (validation) instead, so that valid events in the same batch are kept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The `Content-Type` is not one the ingest understands.
    #[error("unsupported content type `{content_type}`: expected one of application/json, application/x-ndjson, application/cloudevents+json, application/cloudevents-batch+json")]
    UnsupportedContentType {
        /// The media type as received.
        content_type: String,
    },
    /// The `charset` parameter names an encoding other than UTF-8.
    #[error("unsupported charset `{charset}`: usage events must be UTF-8")]
    UnsupportedCharset {
        /// The charset as received.
        charset: String,
    },
    /// The body is larger than [`ParseOptions::max_body_bytes`](crate::ParseOptions).
    #[error("the body is {size} bytes, more than the limit of {max} bytes; split it into several requests")]
    BodyTooLarge {
        /// Size of the body in bytes.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The body is not valid UTF-8.
    #[error("the body is not valid UTF-8 at line {line}, column {column} (byte {offset})")]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in bytes) of the first invalid byte.
        column: usize,
        /// 0-based byte offset of the first invalid byte.
        offset: usize,
    },
    /// The body is empty or only whitespace.
    #[error("the body is empty: send one event, an array of events or NDJSON lines")]
    EmptyBody,
    /// The body is not well-formed JSON (JSON and CloudEvents content types).
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line, as serde_json reports it.
        line: usize,
        /// 1-based column (in bytes), as serde_json reports it.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The JSON body is neither an object nor an array, or is the wrong one of the two for its
    /// content type.
    #[error("expected {expected}, found {found}")]
    WrongShape {
        /// What the content type calls for.
        expected: &'static str,
        /// What the body holds.
        found: &'static str,
        /// How to fix it.
        hint: String,
    },
    /// More events than [`ParseOptions::max_batch`](crate::ParseOptions).
    #[error("the batch holds {found} events, more than the limit of {max}; split it into several requests")]
    BatchTooLarge {
        /// Number of events in the body.
        found: usize,
        /// The configured limit.
        max: usize,
    },
    /// A time zone name that is not in the IANA database.
    #[error("unknown time zone `{name}`: use an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`")]
    UnknownTimeZone {
        /// The name as given.
        name: String,
    },
    /// An aggregation name other than `sum`, `count`, `max`, `unique_count`, `latest`.
    #[error("unknown aggregation `{name}`: expected sum, count, max, unique_count or latest")]
    UnknownAggregation {
        /// The name as given.
        name: String,
    },
    /// A granularity name other than `hour`, `day`, `month`.
    #[error("unknown granularity `{name}`: expected hour, day or month")]
    UnknownGranularity {
        /// The name as given.
        name: String,
    },
    /// A window boundary fell outside the range of representable instants.
    #[error("the {granularity} window around {timestamp} cannot be represented")]
    WindowOutOfRange {
        /// The granularity asked for.
        granularity: &'static str,
        /// The instant, RFC 3339.
        timestamp: String,
    },
    /// An aggregate no longer fits the decimal range (about 7.9e28).
    #[error("the {aggregation} of metric `{metric}` overflows the decimal range")]
    Overflow {
        /// The aggregation.
        aggregation: &'static str,
        /// The metric being aggregated.
        metric: String,
    },
    /// A correction event was fed to an [`Accumulator`](crate::Accumulator); resolve
    /// corrections first with [`resolve_corrections`](crate::resolve_corrections).
    #[error("event `{event_id}` is a {kind} correction: resolve corrections before folding")]
    UnresolvedCorrection {
        /// The correction's event id.
        event_id: String,
        /// `void` or `adjust`.
        kind: &'static str,
    },
    /// Events of different metrics were folded into one accumulator.
    #[error("cannot aggregate metric `{other}` together with metric `{first}`")]
    MixedMetrics {
        /// The first metric folded.
        first: String,
        /// The different metric.
        other: String,
    },
    /// A persisted sequence range is malformed (start after end, or ranges overlap or touch).
    #[error("invalid sequence ranges: {reason}")]
    InvalidRanges {
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// A stable snake_case code for the error, for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedContentType { .. } => "unsupported_content_type",
            Error::UnsupportedCharset { .. } => "unsupported_charset",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::NotUtf8 { .. } => "not_utf8",
            Error::EmptyBody => "empty_body",
            Error::Syntax { .. } => "malformed_json",
            Error::WrongShape { .. } => "wrong_shape",
            Error::BatchTooLarge { .. } => "batch_too_large",
            Error::UnknownTimeZone { .. } => "unknown_time_zone",
            Error::UnknownAggregation { .. } => "unknown_aggregation",
            Error::UnknownGranularity { .. } => "unknown_granularity",
            Error::WindowOutOfRange { .. } => "window_out_of_range",
            Error::Overflow { .. } => "overflow",
            Error::UnresolvedCorrection { .. } => "unresolved_correction",
            Error::MixedMetrics { .. } => "mixed_metrics",
            Error::InvalidRanges { .. } => "invalid_ranges",
        }
    }

    /// How to fix it, where there is more to say than the message.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Syntax { hint, .. } | Error::WrongShape { hint, .. } => Some(hint),
            Error::NotUtf8 { .. } | Error::UnsupportedCharset { .. } => {
                Some("encode the body as UTF-8")
            }
            Error::BatchTooLarge { .. } | Error::BodyTooLarge { .. } => Some(
                "split the events over several requests; each is accepted or refused on its own",
            ),
            _ => None,
        }
    }
}
