//! Guest SDK for Plaza micro-apps.
//!
//! A Plaza app is a WebAssembly component (target `wasm32-wasip2`) that exports
//! `wasi:http/incoming-handler`. Plaza starts a fresh instance for every request and gives it
//! four environment variables:
//!
//! | variable            | meaning                                                        |
//! |---------------------|----------------------------------------------------------------|
//! | `PLAZA_URL`         | base URL of Plaza's API as seen from the app (default `http://plaza.internal`) |
//! | `PLAZA_TOKEN`       | the installation's bearer token                                |
//! | `PLAZA_INSTANCE_ID` | the installation (instance) id                                 |
//! | `PLAZA_APP_ID`      | the app id from the manifest                                   |
//!
//! This crate wraps the few calls an app makes back to Plaza:
//!
//! - [`emit`] posts one usage event (`POST $PLAZA_URL/api/usage/events`);
//! - [`exchange_token`] trades the installation token for a downstream token with one scope
//!   (RFC 8693, `POST $PLAZA_URL/api/token/exchange`);
//!
//! and the wasi:http plumbing every app needs: [`http::respond`], [`http::fetch`],
//! [`http::path_and_query`]. The manifest must list `plaza.internal:80` under `egress` for the
//! calls to Plaza to be allowed.

pub mod http;
pub mod time;

use serde::Deserialize;

/// What can go wrong when talking to Plaza.
#[derive(Debug)]
pub enum Error {
    /// A required environment variable is missing.
    MissingEnv(&'static str),
    /// The request could not be sent or the response not read (the wasi:http error code).
    Transport(String),
    /// Plaza answered with a status other than 2xx; the body is kept for the detail.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The response body, as text.
        body: String,
    },
    /// The response was not the JSON expected.
    Decode(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::MissingEnv(name) => write!(f, "environment variable {name} is not set"),
            Error::Transport(e) => write!(f, "request failed: {e}"),
            Error::Status { status, body } => write!(f, "Plaza answered {status}: {body}"),
            Error::Decode(e) => write!(f, "unexpected response: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The default `PLAZA_URL`.
pub const DEFAULT_PLAZA_URL: &str = "http://plaza.internal";

/// `$PLAZA_URL` without a trailing slash, or [`DEFAULT_PLAZA_URL`].
pub fn plaza_url() -> String {
    std::env::var("PLAZA_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_PLAZA_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn env(name: &'static str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(Error::MissingEnv(name))
}

fn expect_success(response: http::Response) -> Result<http::Response, Error> {
    if (200..300).contains(&response.status) {
        Ok(response)
    } else {
        Err(Error::Status {
            status: response.status,
            body: String::from_utf8_lossy(&response.body).into_owned(),
        })
    }
}

/// Posts one usage event for this instance: `metric` += `value`.
///
/// The event carries a fresh random `eventId` (a UUID v4), `appId` = `$PLAZA_APP_ID`,
/// `instanceId` = `$PLAZA_INSTANCE_ID` and the current time as an RFC 3339 `timestamp`,
/// and is sent with `Authorization: Bearer $PLAZA_TOKEN`.
pub fn emit(metric: &str, value: f64) -> Result<(), Error> {
    let token = env("PLAZA_TOKEN")?;
    let event = serde_json::json!({
        "eventId": fresh_event_id(),
        "appId": env("PLAZA_APP_ID")?,
        "instanceId": env("PLAZA_INSTANCE_ID")?,
        "metric": metric,
        "value": json_number(value),
        "timestamp": time::now_rfc3339(),
    });
    let body = event.to_string();
    let auth = format!("Bearer {token}");
    let response = http::fetch(
        http::Method::Post,
        &format!("{}/api/usage/events", plaza_url()),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Some(body.as_bytes()),
    )
    .map_err(Error::Transport)?;
    expect_success(response).map(|_| ())
}

/// The answer to a token exchange (RFC 8693 §2.2.1).
#[derive(Debug, Clone, Deserialize)]
pub struct ExchangedToken {
    /// The downstream token, to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// The token type URI, e.g. `urn:ietf:params:oauth:token-type:access_token`.
    pub issued_token_type: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The scope actually granted.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Exchanges `$PLAZA_TOKEN` for a downstream token limited to `scope` (RFC 8693).
///
/// Sends `POST $PLAZA_URL/api/token/exchange` with an
/// `application/x-www-form-urlencoded` body: `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
/// `subject_token=$PLAZA_TOKEN`, `subject_token_type=urn:ietf:params:oauth:token-type:jwt`,
/// `scope=<scope>`.
pub fn exchange_token(scope: &str) -> Result<ExchangedToken, Error> {
    let token = env("PLAZA_TOKEN")?;
    let body = form_encode(&[
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", &token),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ("scope", scope),
    ]);
    let response = http::fetch(
        http::Method::Post,
        &format!("{}/api/token/exchange", plaza_url()),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
        ],
        Some(body.as_bytes()),
    )
    .map_err(Error::Transport)?;
    let response = expect_success(response)?;
    serde_json::from_slice(&response.body).map_err(|e| Error::Decode(e.to_string()))
}

/// `application/x-www-form-urlencoded` serialisation of name/value pairs.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3); space becomes `%20`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whole values are sent as JSON integers (`1`, as in the seed's event), others as decimals.
fn json_number(value: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() < EXACT {
        serde_json::Value::from(value as i64)
    } else {
        serde_json::Value::from(value)
    }
}

/// A random UUID v4 from `wasi:random`.
fn fresh_event_id() -> String {
    let mut b = wasi::random::random::get_random_bytes(16);
    b.resize(16, 0);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_are_integers() {
        assert_eq!(json_number(1.0).to_string(), "1");
        assert_eq!(json_number(0.25).to_string(), "0.25");
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_encode(&[("scope", "calendar.read x"), ("a", "b&c=d:/")]),
            "scope=calendar.read%20x&a=b%26c%3Dd%3A%2F"
        );
    }
}
