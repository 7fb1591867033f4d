//! Plaza's Wasm host: runs `wasi:http/proxy` components (WASI 0.2) with wasmtime.
//!
//! The server calls three things:
//!
//! 1. [`Runtime::new`] once, with a [`RuntimeConfig`] (cache directory, internal hosts, pool
//!    sizes);
//! 2. [`Runtime::prepare`] once per artifact digest: compiles the component (or loads the
//!    precompiled code from the disk cache) and pre-links it into a [`PreparedApp`];
//! 3. [`Runtime::invoke`] per HTTP request: a fresh instance from the pooling allocator runs the
//!    request under the [`Limits`] and [`EgressGrant`] of the [`Invocation`], and the answer is an
//!    [`Invoked`]: the response (bytes in, bytes out), an [`InvocationUsage`] report and, when
//!    something went wrong, an [`InvocationFailure`] (the response is then a problem+json error).
//!
//! Nothing a guest does can panic the host or affect another invocation. See `docs/runtime.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use plaza_runtime::{EgressGrant, InternalHost, Invocation, Limits, Runtime, RuntimeConfig};
//!
//! # async fn serve(component: Vec<u8>, digest: String) -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeConfig {
//!     cache_dir: Some("/var/lib/plaza/wasm-cache".into()),
//!     internal_hosts: vec![InternalHost {
//!         authority: "plaza.internal:80".into(),
//!         address: "127.0.0.1:8080".parse()?,
//!     }],
//!     ..RuntimeConfig::default()
//! })?;
//! // Once per app version (compiling is CPU-heavy: keep it off the async workers).
//! let app = {
//!     let runtime = runtime.clone();
//!     tokio::task::spawn_blocking(move || runtime.prepare(&digest, &component)).await??
//! };
//! // Per request.
//! let invocation = Invocation {
//!     instance_id: "inst-9a3f".into(),
//!     env: vec![
//!         ("PLAZA_INSTANCE_ID".into(), "inst-9a3f".into()),
//!         ("PLAZA_APP_ID".into(), "com.example.where2eat".into()),
//!         ("PLAZA_TOKEN".into(), "<installation token>".into()),
//!         ("PLAZA_URL".into(), "http://plaza.internal".into()),
//!     ],
//!     limits: Limits { cpu_time: Duration::from_millis(500), ..Limits::default() },
//!     egress: EgressGrant { hosts: vec!["plaza.internal:80".into()], ..EgressGrant::default() },
//! };
//! let request = http::Request::get("/?date=2026-01-10").body(bytes::Bytes::new())?;
//! let invoked = runtime.invoke(&app, invocation, request).await;
//! // invoked.response is what the client gets (problem+json when invoked.failure is set);
//! // invoked.usage feeds metering (compute, memory, egress).
//! # let _ = invoked;
//! # Ok(())
//! # }
//! ```
//!
//! Modules, one job each: `engine` (wasmtime configuration, pooling allocator, epoch ticker,
//! linker), [`cache`] (precompiled code on disk), `limits` (CPU, memory, concurrency),
//! [`egress`] (the outgoing-request policy and the address rules), `outbound` (the checked
//! connection that sends an allowed request), `invoke` (one request through one instance),
//! `usage` (the usage report), `failure` (failure kinds and their problem+json), `stdio`
//! (bounded capture of guest stdout/stderr), `runtime` (the `Runtime` and preparation).

pub mod cache;
pub mod egress;
mod engine;
mod error;
mod failure;
mod invoke;
mod limits;
mod outbound;
mod runtime;
mod stdio;
mod usage;

pub use egress::EgressGrant;
pub use error::RuntimeError;
pub use failure::InvocationFailure;
pub use invoke::{Invocation, Invoked};
pub use limits::Limits;
pub use runtime::{
    digest_of, CodeSource, InternalHost, PoolConfig, PreparedApp, Runtime, RuntimeConfig,
};
pub use usage::{DenialReason, EgressDenial, InvocationUsage};
