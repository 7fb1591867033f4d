//! The server's settings, as read from the `[server]` table of `plaza.toml` (and `PLAZA_*`
//! variables, which the binary folds in). Every field has a default that works on a laptop.

use crate::oidc::OidcConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Settings of the HTTP server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes (default 4 MiB).
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered 503, in seconds (default 30).
    pub request_timeout_secs: u64,
    /// Seconds to let in-flight requests finish on shutdown (default 10).
    pub shutdown_grace_secs: u64,
    /// Registry storage each org (publisher namespace) may use, in MiB; 0 means no limit
    /// (default 10240, 10 GiB).
    pub registry_quota_mib_per_org: u64,
    /// Most usage events one ingest request may carry (default 10,000).
    pub usage_max_batch: usize,
    /// How old a usage event may be when it arrives, in days (default 35).
    pub usage_late_arrival_days: u32,
    /// Enterprise single sign-on with OIDC bearer tokens; off when absent.
    pub oidc: Option<OidcConfig>,
    /// Most requests one wasm app version serves at once; more wait briefly, then get 503
    /// (default 64).
    pub app_max_concurrent: u32,
    /// Largest response a wasm app may send, in bytes (default 16 MiB).
    pub app_max_response_bytes: u64,
    /// Bytes one app invocation may send and receive over egress (default 64 MiB).
    pub app_egress_max_bytes: u64,
    /// Outgoing connections one app invocation may open (default 16).
    pub app_egress_max_connections: u32,
}

impl ServerConfig {
    /// Checks the values make sense together; the text names the setting and the fix.
    pub fn check(&self) -> Result<(), String> {
        if self.request_timeout_secs == 0 {
            return Err("server.request_timeout_secs must be at least 1 (seconds)".into());
        }
        if self.app_max_concurrent == 0 {
            return Err("server.app_max_concurrent must be at least 1".into());
        }
        if self.usage_max_batch == 0 {
            return Err("server.usage_max_batch must be at least 1 (events)".into());
        }
        if self.body_limit_bytes < 1024 {
            return Err(format!(
                "server.body_limit_bytes is {}; it must be at least 1024 bytes",
                self.body_limit_bytes
            ));
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 4 * 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
            registry_quota_mib_per_org: 10 * 1024,
            usage_max_batch: 10_000,
            usage_late_arrival_days: 35,
            oidc: None,
            app_max_concurrent: 64,
            app_max_response_bytes: 16 * 1024 * 1024,
            app_egress_max_bytes: 64 * 1024 * 1024,
            app_egress_max_connections: 16,
        }
    }
}
