//! Request extractors whose rejections are problem+json with a location, instead of axum's plain
//! text: [`ApiJson`] for bodies (JSON pointer of the bad field, or line:column of a syntax error)
//! and [`ApiQuery`] for query strings.

use crate::problem::{ApiError, ProblemItem};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Whether a content type is JSON (`application/json` or any `+json` type).
pub fn is_json_content_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a body, mapping a too-large body to 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner)
            if inner.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::too_large()
        }
        other => ApiError::bad_request(format!(
            "could not read the request body: {}",
            other.body_text()
        )),
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json_content_type(ct) {
            return Err(ApiError::unsupported_media_type(format!(
                "send the body as JSON with `Content-Type: application/json` (got `{}`)",
                if ct.is_empty() { "none" } else { ct }
            )));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON into `T`, locating the problem: line:column for syntax, JSON pointer for data.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let pointer = json_pointer(err.path());
        let inner = err.into_inner();
        if inner.is_data() {
            let detail = strip_position(&inner.to_string());
            ApiError::invalid(
                format!(
                    "the body does not match the expected shape at `{}`: {detail}",
                    display_pointer(&pointer)
                ),
                vec![ProblemItem { pointer, detail }],
            )
        } else {
            syntax_error(&inner)
        }
    })?;
    de.end().map_err(|e| syntax_error(&e))?;
    Ok(value)
}

fn syntax_error(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "the body is not valid JSON at line {}, column {}: {}",
        e.line(),
        e.column(),
        strip_position(&e.to_string())
    ))
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "/"
    } else {
        p
    }
}

/// serde_json appends " at line L column C" to messages; the pointer says where instead.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Renders a serde path as an RFC 6901 JSON pointer.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// A query string of type `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn data_errors_carry_a_json_pointer() {
        let err = parse_json::<Body>(br#"{"name":"x","items":[{"n":1},{"n":-1}]}"#).unwrap_err();
        let p = err.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].pointer, "/items/1/n");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_json::<Body>(b"{\n  \"name\": \"x\",\n  oops\n}").unwrap_err();
        let p = err.problem();
        assert_eq!(p.status, 400);
        assert!(p.detail.contains("line 3, column 3"), "{}", p.detail);
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json_content_type("application/json; charset=utf-8"));
        assert!(is_json_content_type("application/merge-patch+json"));
        assert!(!is_json_content_type("text/plain"));
    }
}
