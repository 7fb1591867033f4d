//! The one error envelope of the HTTP edge: RFC 9457 `application/problem+json`.
//!
//! Every failure a client can see goes through [`ApiError`]. Internal errors are logged with the
//! request id and answered with a generic text, so no SQL, path or stack ever leaks.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaza_core::{CoreError, StoreError};
use serde::Serialize;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document (RFC 9457), with Plaza's extension members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` for plain HTTP statuses.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, and how to fix it.
    pub detail: String,
    /// Individual problems, each with where it is (JSON pointer or file:line:column).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
}

/// One located problem inside a [`Problem`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemItem {
    /// Where: a JSON pointer into the request body, or `line:column`.
    pub pointer: String,
    /// What is wrong there.
    pub detail: String,
}

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<ProblemItem>,
    www_authenticate: bool,
}

impl ApiError {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            slug,
            title,
            detail: cap(detail.into()),
            errors: Vec::new(),
            www_authenticate: false,
        }
    }
    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }
    /// 422: well-formed but invalid, with located problems.
    pub fn invalid(detail: impl Into<String>, errors: Vec<ProblemItem>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "Validation failed",
            detail,
        );
        e.errors = errors;
        e
    }
    /// 401: missing or bad credentials.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            detail,
        );
        e.www_authenticate = true;
        e
    }
    /// 403: authenticated, not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }
    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this route does not accept this HTTP method; see /api/openapi.json",
        )
    }
    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }
    /// 413.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large", "the request body exceeds the server's limit (setting `server.body_limit_bytes`, default 4 MiB); send less")
    }
    /// 415.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }
    /// 503: the request took longer than the server allows.
    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
            "the server gave up on this request after its time limit; retry later",
        )
    }
    /// 503: a dependency is down.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
    /// 500: logged in full, answered generically.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "the server failed to handle this request; the error was logged with this request's id",
        )
    }
    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("https://plaza.dev/problems/{}", self.slug),
            title: self.title.into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

/// Longest detail answered: details may echo input, which must not balloon the answer.
const MAX_DETAIL_CHARS: usize = 1000;

fn cap(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_DETAIL_CHARS) {
        s.truncate(i);
        s.push('…');
    }
    s
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Unauthenticated(d) => ApiError::unauthenticated(d),
            CoreError::Forbidden(d) => ApiError::forbidden(d),
            CoreError::Invalid(d) => ApiError::invalid(d, Vec::new()),
            CoreError::Store(s) => s.into(),
            CoreError::Metering(m) => metering_error(m),
            CoreError::Bus(b) => {
                tracing::error!(error = %b, "usage bus unavailable");
                ApiError::unavailable(
                    "the usage bus did not confirm storing the events; nothing is promised: retry the same events (their ids make the retry safe)",
                )
            }
        }
    }
}

/// A usage body that cannot be read as a whole: 415 for its content type or charset, 413 for
/// its size, 400 otherwise, the detail saying where (line and column) and how to fix it.
fn metering_error(e: plaza_metering::Error) -> ApiError {
    use plaza_metering::Error as E;
    let detail = match e.hint() {
        Some(h) => format!("{e}; {h}"),
        None => e.to_string(),
    };
    match e {
        E::UnsupportedContentType { .. } | E::UnsupportedCharset { .. } => {
            ApiError::unsupported_media_type(detail)
        }
        E::BodyTooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            detail,
        ),
        _ => ApiError::bad_request(detail),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::Conflict { .. } => ApiError::conflict(e.to_string()),
            StoreError::Backend(_) | StoreError::Corrupt { .. } => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"plaza\""),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_that_echo_huge_input_are_capped() {
        let e = ApiError::not_found(format!("token `{}` not found", "x".repeat(5000)));
        let d = e.problem().detail;
        assert_eq!(d.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(d.ends_with('…'));
    }
}
