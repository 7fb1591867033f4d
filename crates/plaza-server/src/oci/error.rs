//! Errors of the `/v2/` API in the distribution spec's shape: `{"errors":[{code,message,detail}]}`
//! with the status the spec gives each code. Internal failures are logged and answered without
//! their text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaza_registry::{ErrorBody, ErrorCode, RegistryError};

/// An error answered to a registry client.
#[derive(Debug)]
pub struct OciError {
    status: StatusCode,
    body: ErrorBody,
    headers: Vec<(&'static str, String)>,
}

impl OciError {
    /// An error with `code`, its usual status, and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            body: ErrorBody::single(code, message, None),
            headers: Vec::new(),
        }
    }
    /// 401 UNAUTHORIZED. The challenge is set by the caller that knows the host
    /// ([`OciError::challenge`]).
    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "authentication required: log in with a Plaza API token as the password (or send it as a Bearer token)")
    }
    /// Whether this is a 401, which needs a challenge.
    pub fn is_unauthorized(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }
    /// Adds the Docker token-flow challenge: clients fetch a token from `realm` with their
    /// credentials, then retry with it as a Bearer token.
    pub fn challenge(self, realm: &str, scope: Option<&str>) -> Self {
        let mut value = format!("Bearer realm=\"{realm}\",service=\"plaza\"");
        if let Some(scope) = scope {
            value.push_str(&format!(",scope=\"{scope}\""));
        }
        self.with_header("www-authenticate", value)
    }
    /// 403 DENIED.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Denied, message)
    }
    /// UNSUPPORTED (405).
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unsupported, message)
    }
    /// 500, logged; the client learns nothing of the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "registry internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: ErrorBody::default(),
            headers: Vec::new(),
        }
    }
    /// Answers with `status` instead of the code's usual one.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    /// Adds a header to the answer.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<RegistryError> for OciError {
    fn from(e: RegistryError) -> Self {
        let range = match &e {
            RegistryError::RangeMismatch { current_size, .. } => {
                Some(format!("0-{}", current_size.saturating_sub(1)))
            }
            _ => None,
        };
        let unsatisfiable = match &e {
            RegistryError::RangeNotSatisfiable { size, .. } => Some(format!("bytes */{size}")),
            _ => None,
        };
        match e.body() {
            None => OciError::internal(e),
            Some(body) => {
                let mut err = OciError {
                    status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                    body,
                    headers: Vec::new(),
                };
                if let Some(r) = range {
                    err = err.with_header("range", r);
                }
                if let Some(c) = unsatisfiable {
                    err = err.with_header("content-range", c);
                }
                err
            }
        }
    }
}

impl From<plaza_core::StoreError> for OciError {
    fn from(e: plaza_core::StoreError) -> Self {
        match e {
            plaza_core::StoreError::NotFound {
                entity: "repository",
                key,
            } => OciError::new(
                ErrorCode::NameUnknown,
                format!("repository `{key}` is not known to this registry"),
            ),
            plaza_core::StoreError::NotFound {
                entity: "manifest",
                key,
            }
            | plaza_core::StoreError::NotFound { entity: "tag", key } => OciError::new(
                ErrorCode::ManifestUnknown,
                format!("manifest `{key}` is not known"),
            ),
            plaza_core::StoreError::NotFound {
                entity: "blob",
                key,
            } => OciError::new(ErrorCode::BlobUnknown, format!("blob `{key}` is not known")),
            other => OciError::internal(other),
        }
    }
}

impl From<plaza_core::CoreError> for OciError {
    fn from(e: plaza_core::CoreError) -> Self {
        match e {
            plaza_core::CoreError::Unauthenticated(_) => OciError::unauthorized(),
            plaza_core::CoreError::Forbidden(m) => OciError::denied(m),
            plaza_core::CoreError::Invalid(m) => OciError::unsupported(m),
            plaza_core::CoreError::Metering(m) => OciError::unsupported(m.to_string()),
            plaza_core::CoreError::Store(s) => s.into(),
            plaza_core::CoreError::Bus(b) => OciError::internal(b),
        }
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body.to_json()).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }
}
