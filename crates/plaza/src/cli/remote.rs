//! Talking to a Plaza server from the CLI: the credentials `plaza login` stores (in
//! `$XDG_CONFIG_HOME/plaza/credentials.toml`, owner-only), overridable per command with
//! `--server`/`--token` or `PLAZA_SERVER`/`PLAZA_TOKEN`, and JSON calls whose problem+json
//! errors become readable messages.

use anyhow::{bail, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Stored credentials.
#[derive(Debug, Serialize, Deserialize)]
pub struct Credentials {
    /// Server base URL.
    pub server: String,
    /// API token.
    pub token: String,
}

/// Where `plaza login` keeps the credentials.
pub fn credentials_path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            PathBuf::from(std::env::var_os("HOME").context("HOME is not set; set XDG_CONFIG_HOME")?)
                .join(".config")
        }
    };
    Ok(base.join("plaza").join("credentials.toml"))
}

/// Flags naming the server and token for one command.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Server URL [env: PLAZA_SERVER] [default: the one `plaza login` stored].
    #[arg(long, env = "PLAZA_SERVER")]
    server: Option<String>,
    /// API token [env: PLAZA_TOKEN] [default: the one `plaza login` stored].
    #[arg(long, env = "PLAZA_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Flags naming the server, token and org for one command.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    #[command(flatten)]
    target: ServerArgs,
    /// Org slug [default: the token owner's org].
    #[arg(long)]
    org: Option<String>,
}

/// A client bound to one server, token and org.
pub struct Remote {
    http: reqwest::Client,
    server: String,
    token: String,
    /// The org the calls act on.
    pub org: String,
}

impl ServerArgs {
    /// Resolves server and token (flags, environment, then the stored login), for APIs that act
    /// on the token owner's org; no call is made yet.
    pub fn connect(&self) -> anyhow::Result<Remote> {
        let stored = match (&self.server, &self.token) {
            (Some(_), Some(_)) => None,
            _ => {
                let path = credentials_path()?;
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "not logged in ({} missing): run `plaza login --server URL --token T`",
                        path.display()
                    )
                })?;
                Some(toml::from_str::<Credentials>(&text).with_context(|| {
                    format!("{} is damaged; run `plaza login` again", path.display())
                })?)
            }
        };
        let server = self
            .server
            .clone()
            .or_else(|| stored.as_ref().map(|c| c.server.clone()))
            .unwrap_or_default();
        let token = self
            .token
            .clone()
            .or_else(|| stored.as_ref().map(|c| c.token.clone()))
            .unwrap_or_default();
        Ok(Remote {
            http: reqwest::Client::new(),
            server,
            token,
            org: String::new(),
        })
    }
}

impl RemoteArgs {
    /// Resolves server, token and org (asking the server who the token belongs to when no
    /// `--org` is given).
    pub async fn connect(&self) -> anyhow::Result<Remote> {
        let mut remote = self.target.connect()?;
        remote.org = match &self.org {
            Some(o) => o.clone(),
            None => {
                let me = remote.call(reqwest::Method::GET, "/api/me", None).await?;
                me.pointer("/org/slug")
                    .and_then(|s| s.as_str())
                    .unwrap_or_default()
                    .to_owned()
            }
        };
        Ok(remote)
    }
}

impl Remote {
    /// A server that answers `GET /api/me` for `token`.
    pub fn new(server: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            server: server.into(),
            token: token.into(),
            org: String::new(),
        }
    }

    /// Calls `path` (relative to the server) with an optional JSON body; an error answer
    /// becomes an error carrying the problem's detail and located items.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let (status, body) = self.try_call(method, path, body).await?;
        if !status.is_success() {
            let url = format!("{}{path}", self.server.trim_end_matches('/'));
            bail!(problem_text(&url, status, &body));
        }
        Ok(body)
    }

    /// Like [`Remote::call`], but hands back any answer with its status, for callers that
    /// expect some errors (a 404 or a 409); only an unreachable server is an error.
    pub async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let url = format!("{}{path}", self.server.trim_end_matches('/'));
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        Ok((status, resp.json().await.unwrap_or_default()))
    }

    /// Sends `body` as is with `content_type` (for bodies that are not one JSON value, or whose
    /// line numbers must survive); answers like [`Remote::try_call`].
    pub async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let url = self.url(path);
        let resp = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        Ok((status, resp.json().await.unwrap_or_default()))
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.trim_end_matches('/'))
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The token the calls present.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A problem+json answer as readable lines: the detail, then each located item.
pub fn problem_text(url: &str, status: reqwest::StatusCode, body: &serde_json::Value) -> String {
    let detail = body
        .get("detail")
        .and_then(|d| d.as_str())
        .unwrap_or("no detail");
    let mut msg = format!("{url} answered {status}: {detail}");
    for item in body
        .get("errors")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let at = item.get("pointer").and_then(|p| p.as_str()).unwrap_or("");
        let what = item.get("detail").and_then(|p| p.as_str()).unwrap_or("");
        msg.push_str(&format!("\n  {at}: {what}"));
    }
    msg
}

/// Percent-encodes a path segment (publisher names hold `:` and may hold `/`).
pub fn path_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
