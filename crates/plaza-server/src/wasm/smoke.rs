//! The smoke test: start an app version in the sandbox, call its health check (the manifest's
//! `healthcheck.path`, else `/`), and report pass or fail with timings. The submission gate and
//! reviewers call it before a version is trusted; it needs no install and grants nothing (no
//! token, no egress).

use super::component;
use crate::problem::ApiError;
use crate::state::AppState;
use plaza_core::apps::AppVersion;
use plaza_runtime::{EgressGrant, Invocation, Limits};
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// What the smoke test found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmokeReport {
    /// Whether the health check answered 2xx in time.
    pub passed: bool,
    /// The path called.
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// Time to load and prepare the component (compile, or the cache), in milliseconds.
    pub prepare_ms: u64,
    /// Time of the call, in milliseconds.
    pub call_ms: u64,
    /// Why it failed (the sandbox's failure, or the answer's first bytes); absent on a pass.
    pub detail: Option<String>,
}

/// Runs the smoke test of `version` (of the org `org_slug`).
pub async fn run(
    state: &AppState,
    org_slug: &str,
    version: &AppVersion,
) -> Result<SmokeReport, ApiError> {
    if version.manifest["runtime"] != "wasm" {
        return Err(ApiError::conflict(format!(
            "{} {} is not a wasm app; only wasm apps are smoke-tested in the sandbox",
            version.app_id, version.version
        )));
    }
    let path = version.manifest["healthcheck"]["path"]
        .as_str()
        .unwrap_or("/")
        .to_owned();
    let timeout = Duration::from_secs(
        version.manifest["healthcheck"]["timeoutSeconds"]
            .as_u64()
            .unwrap_or(5),
    );
    let started = Instant::now();
    let (digest, bytes) =
        component::load(state, org_slug, &version.app_id, &version.version).await?;
    let Some(host) = state.wasm.clone() else {
        return Err(ApiError::unavailable(
            "this server runs no wasm apps (started without a wasm host)",
        ));
    };
    let runtime = host.runtime().clone();
    let prepared = tokio::task::spawn_blocking(move || runtime.prepare(&digest, &bytes))
        .await
        .map_err(ApiError::internal)?;
    let prepare_ms = started.elapsed().as_millis() as u64;
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            return Ok(SmokeReport {
                passed: false,
                path,
                status: 0,
                prepare_ms,
                call_ms: 0,
                detail: Some(format!("the component cannot run: {e}")),
            })
        }
    };
    let invocation = Invocation {
        instance_id: format!("smoke-{}-{}", version.app_id, version.version),
        env: vec![
            ("PLAZA_APP_ID".into(), version.app_id.clone()),
            ("PLAZA_APP_VERSION".into(), version.version.clone()),
        ],
        limits: Limits {
            wall_timeout: timeout,
            ..Limits::default()
        },
        egress: EgressGrant::default(),
    };
    let request = axum::http::Request::get(format!("http://smoke.plaza.internal{path}"))
        .body(axum::body::Bytes::new())
        .map_err(|e| ApiError::bad_request(format!("healthcheck path `{path}`: {e}")))?;
    let called = Instant::now();
    let invoked = host.runtime().invoke(&prepared, invocation, request).await;
    let call_ms = called.elapsed().as_millis() as u64;
    let status = invoked.response.status().as_u16();
    let passed = invoked.failure.is_none() && (200..300).contains(&status);
    let detail = match (&invoked.failure, passed) {
        (Some(f), _) => Some(f.detail()),
        (None, false) => Some(format!(
            "the health check answered {status}: {}",
            String::from_utf8_lossy(
                &invoked.response.body()[..invoked.response.body().len().min(200)]
            )
        )),
        (None, true) => None,
    };
    Ok(SmokeReport {
        passed,
        path,
        status,
        prepare_ms,
        call_ms,
        detail,
    })
}
