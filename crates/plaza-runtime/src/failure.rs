//! Why an invocation failed, and the problem+json (RFC 9457) response the client gets for it.

use std::time::Duration;

use bytes::Bytes;

/// A failed invocation. The host and other invocations are never affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationFailure {
    /// The compute budget was spent (`limits.cpu_time`). 500.
    CpuLimit {
        /// The budget.
        limit: Duration,
    },
    /// The guest needed more linear memory than `limits.memory_bytes` and trapped. 500.
    MemoryLimit {
        /// The cap in bytes.
        limit_bytes: u64,
    },
    /// The invocation ran longer than `limits.wall_timeout`. 504.
    WallTimeout {
        /// The timeout.
        limit: Duration,
    },
    /// The guest trapped: stack overflow, panic, `unreachable`, a host call it misused… 500.
    Trap(String),
    /// The request body is larger than `limits.max_request_bytes`; the app was not started. 413.
    RequestTooLarge {
        /// The limit in bytes.
        limit_bytes: u64,
        /// The body's size.
        size: u64,
    },
    /// The response body grew beyond `limits.max_response_bytes`; reading stopped. 502.
    ResponseTooLarge {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// The app already runs `limits.max_concurrent` instances (or the pool is full). 503.
    Busy {
        /// The app's concurrency limit.
        max_concurrent: u32,
    },
    /// The guest returned without a response, or answered with a wasi:http error code. 502.
    NoResponse(String),
    /// The host could not instantiate the app (e.g. an import it cannot satisfy). 500.
    Instantiate(String),
}

impl InvocationFailure {
    /// The HTTP status of the error response.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            InvocationFailure::CpuLimit { .. }
            | InvocationFailure::MemoryLimit { .. }
            | InvocationFailure::Trap(_)
            | InvocationFailure::Instantiate(_) => S::INTERNAL_SERVER_ERROR,
            InvocationFailure::WallTimeout { .. } => S::GATEWAY_TIMEOUT,
            InvocationFailure::RequestTooLarge { .. } => S::PAYLOAD_TOO_LARGE,
            InvocationFailure::ResponseTooLarge { .. } | InvocationFailure::NoResponse(_) => {
                S::BAD_GATEWAY
            }
            InvocationFailure::Busy { .. } => S::SERVICE_UNAVAILABLE,
        }
    }

    /// A short stable name, also the last segment of the problem type URI.
    pub fn slug(&self) -> &'static str {
        match self {
            InvocationFailure::CpuLimit { .. } => "app-cpu-limit",
            InvocationFailure::MemoryLimit { .. } => "app-memory-limit",
            InvocationFailure::WallTimeout { .. } => "app-timeout",
            InvocationFailure::Trap(_) => "app-trap",
            InvocationFailure::RequestTooLarge { .. } => "app-request-too-large",
            InvocationFailure::ResponseTooLarge { .. } => "app-response-too-large",
            InvocationFailure::Busy { .. } => "app-busy",
            InvocationFailure::NoResponse(_) => "app-no-response",
            InvocationFailure::Instantiate(_) => "app-start-failed",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            InvocationFailure::CpuLimit { .. } => "App exceeded its CPU time limit",
            InvocationFailure::MemoryLimit { .. } => "App exceeded its memory limit",
            InvocationFailure::WallTimeout { .. } => "App did not answer in time",
            InvocationFailure::Trap(_) => "App crashed",
            InvocationFailure::RequestTooLarge { .. } => "Request body too large for this app",
            InvocationFailure::ResponseTooLarge { .. } => "App response too large",
            InvocationFailure::Busy { .. } => "App is busy",
            InvocationFailure::NoResponse(_) => "App gave no response",
            InvocationFailure::Instantiate(_) => "App could not be started",
        }
    }

    /// The human-readable detail, naming the limit involved.
    pub fn detail(&self) -> String {
        match self {
            InvocationFailure::CpuLimit { limit } => {
                format!("the app used more than its CPU time limit of {} ms", limit.as_millis())
            }
            InvocationFailure::MemoryLimit { limit_bytes } => {
                format!("the app needed more than its memory limit of {limit_bytes} bytes")
            }
            InvocationFailure::WallTimeout { limit } => {
                format!("the app did not finish within its wall-clock limit of {} ms", limit.as_millis())
            }
            InvocationFailure::Trap(why) => format!("the app trapped: {why}"),
            InvocationFailure::RequestTooLarge { limit_bytes, size } => {
                format!("the request body has {size} bytes; this app accepts at most {limit_bytes}")
            }
            InvocationFailure::ResponseTooLarge { limit_bytes } => {
                format!("the app's response body exceeded the limit of {limit_bytes} bytes")
            }
            InvocationFailure::Busy { max_concurrent } => format!(
                "the app is already handling its limit of {max_concurrent} concurrent requests; retry shortly"
            ),
            InvocationFailure::NoResponse(why) => format!("the app gave no response: {why}"),
            InvocationFailure::Instantiate(why) => format!("the app could not be started: {why}"),
        }
    }

    /// The problem+json response for this failure.
    pub fn problem_response(&self) -> http::Response<Bytes> {
        let status = self.status();
        let body = serde_json::json!({
            "type": format!("https://plaza.dev/problems/{}", self.slug()),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        let mut response = http::Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, InvocationFailure::Busy { .. }) {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

impl std::fmt::Display for InvocationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_responses_name_the_limit() {
        let cases = [
            (
                InvocationFailure::CpuLimit {
                    limit: Duration::from_millis(250),
                },
                500,
                "250 ms",
            ),
            (
                InvocationFailure::MemoryLimit { limit_bytes: 1024 },
                500,
                "1024 bytes",
            ),
            (
                InvocationFailure::WallTimeout {
                    limit: Duration::from_secs(2),
                },
                504,
                "2000 ms",
            ),
            (
                InvocationFailure::Trap("stack overflow".into()),
                500,
                "stack overflow",
            ),
            (
                InvocationFailure::RequestTooLarge {
                    limit_bytes: 10,
                    size: 11,
                },
                413,
                "at most 10",
            ),
            (
                InvocationFailure::ResponseTooLarge { limit_bytes: 5 },
                502,
                "5 bytes",
            ),
            (
                InvocationFailure::Busy { max_concurrent: 3 },
                503,
                "3 concurrent",
            ),
        ];
        for (failure, status, needle) in cases {
            let response = failure.problem_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers()[http::header::CONTENT_TYPE],
                "application/problem+json"
            );
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(body["status"], status);
            assert_eq!(
                body["type"],
                format!("https://plaza.dev/problems/{}", failure.slug())
            );
            assert!(body["detail"].as_str().unwrap().contains(needle), "{body}");
        }
    }
}
