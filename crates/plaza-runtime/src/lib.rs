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
//! Modules, one job each: [`engine`] (wasmtime configuration, pooling allocator, epoch ticker,
//! linker), [`cache`] (precompiled code on disk), [`limits`] (CPU, memory, concurrency),
//! [`egress`] (the outgoing-request policy and the address rules), [`outbound`] (the checked
//! connection that sends an allowed request), [`invoke`] (one request through one instance),
//! [`usage`] (the usage report), [`failure`] (failure kinds and their problem+json),
//! [`stdio`] (bounded capture of guest stdout/stderr).

pub mod cache;
pub mod egress;
pub mod engine;
mod error;
pub mod failure;
pub mod invoke;
pub mod limits;
pub mod outbound;
mod runtime;
pub mod stdio;
pub mod usage;

pub use egress::EgressGrant;
pub use error::RuntimeError;
pub use failure::InvocationFailure;
pub use invoke::{Invocation, Invoked};
pub use limits::Limits;
pub use runtime::{
    digest_of, CodeSource, InternalHost, PoolConfig, PreparedApp, Runtime, RuntimeConfig,
};
pub use usage::{DenialReason, EgressDenial, InvocationUsage};
