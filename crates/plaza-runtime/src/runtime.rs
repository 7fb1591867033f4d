//! [`Runtime`]: configuration, preparation (compile once per digest, disk cache) and the
//! [`PreparedApp`] handle the server keeps per app version.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256, Sha512};
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::cache::{DiskCache, Miss};
use crate::engine::{build_engine, build_linker, EpochTicker};
use crate::invoke::HostState;
use crate::limits::Gate;
use crate::outbound::Connector;
use crate::RuntimeError;

/// How the runtime is set up. Every field has a default that works on a laptop.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where precompiled code is kept across restarts; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Operator-configured hosts apps may reach at a fixed address, private or not (Plaza's own
    /// API as `plaza.internal:80`). An app still needs the authority in its egress grant.
    pub internal_hosts: Vec<InternalHost>,
    /// Sizes of the pooling allocator.
    pub pool: PoolConfig,
    /// The epoch tick: the granularity of the CPU limit (default 10 ms).
    pub epoch_tick: Duration,
    /// How long an invocation waits for a free slot when its app is at `max_concurrent` before
    /// it is answered `Busy` (default 100 ms; zero means answer `Busy` at once).
    pub busy_wait: Duration,
    /// Bytes of guest stdout and of stderr kept per invocation and logged (default 16 KiB each;
    /// the rest is dropped, the guest never blocks or fails on output).
    pub max_stdio_bytes: usize,
    /// Timeout for connecting (and the TLS handshake) to an egress host (default 10 s).
    pub connect_timeout: Duration,
    /// Timeout for the first byte of an egress response (default 30 s; the invocation's wall
    /// timeout bounds everything anyway).
    pub first_byte_timeout: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            internal_hosts: Vec::new(),
            pool: PoolConfig::default(),
            epoch_tick: Duration::from_millis(10),
            busy_wait: Duration::from_millis(100),
            max_stdio_bytes: 16 * 1024,
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(30),
        }
    }
}

/// Pooling allocator sizes. The pool reserves address space for `total_instances` instances up
/// front (virtual memory, not RAM).
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Instances alive at once across all apps; beyond it an invocation is answered `Busy`.
    pub total_instances: u32,
    /// Core module instances per component (a Rust `wasm32-wasip2` component needs 2–4).
    pub core_instances_per_component: u32,
    /// Linear memories per component.
    pub memories_per_component: u32,
    /// Tables per component.
    pub tables_per_component: u32,
    /// The largest linear memory any app may have; [`crate::Limits::memory_bytes`] above it is
    /// capped here.
    pub max_memory_bytes: u64,
    /// Wasm stack per instance; deeper recursion traps with "stack overflow".
    pub max_wasm_stack: usize,
    /// Bytes of each linear memory kept resident and reset in place between instances.
    pub linear_memory_keep_resident: usize,
    /// Bytes of each table kept resident between instances.
    pub table_keep_resident: usize,
    /// Use Linux's PAGEMAP_SCAN ioctl (kernel ≥ 6.7) to reset only touched pages; silently off
    /// where unsupported.
    pub pagemap_scan: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            total_instances: 1000,
            core_instances_per_component: 8,
            memories_per_component: 2,
            tables_per_component: 8,
            max_memory_bytes: 256 * 1024 * 1024,
            max_wasm_stack: 512 * 1024,
            linear_memory_keep_resident: 1024 * 1024,
            table_keep_resident: 64 * 1024,
            pagemap_scan: true,
        }
    }
}

/// A host apps reach at a fixed address chosen by the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalHost {
    /// `host:port` as the app writes it, e.g. `plaza.internal:80`.
    pub authority: String,
    /// Where to connect.
    pub address: SocketAddr,
}

/// Where a [`PreparedApp`]'s code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Compiled now.
    Compiled,
    /// Loaded from the disk cache.
    DiskCache,
    /// Already prepared by this runtime (same digest).
    Memory,
}

/// The wasm runtime. Cheap to clone; all clones share the engine, the cache and the pool.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) config: RuntimeConfig,
    pub(crate) internal: Arc<HashMap<String, SocketAddr>>,
    pub(crate) connector: Connector,
    cache: Option<DiskCache>,
    components: Mutex<HashMap<String, Component>>,
    compilations: AtomicU64,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .field("compilations", &self.compilations())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Builds the engine, the pool, the linker and the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let engine = build_engine(&config.pool)?;
        let linker = build_linker(&engine)?;
        let cache = match &config.cache_dir {
            Some(dir) => {
                Some(
                    DiskCache::new(dir, &engine).map_err(|source| RuntimeError::CacheDir {
                        path: dir.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let mut internal = HashMap::new();
        for host in &config.internal_hosts {
            let key = crate::egress::normalize_authority(&host.authority, 80)
                .ok_or_else(|| RuntimeError::BadInternalHost(host.authority.clone()))?;
            internal.insert(key, host.address);
        }
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick)?;
        let connector = Connector::new(config.connect_timeout, config.first_byte_timeout);
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                config,
                internal: Arc::new(internal),
                connector,
                cache,
                components: Mutex::new(HashMap::new()),
                compilations: AtomicU64::new(0),
                _ticker: ticker,
            }),
        })
    }

    /// How many components this runtime has compiled (cache hits do not count).
    pub fn compilations(&self) -> u64 {
        self.inner.compilations.load(Ordering::Relaxed)
    }

    /// The configuration the runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Compiles `component` once per `artifact_digest` — the digest of these bytes, i.e. the
    /// `application/wasm` layer's digest, checked — from the disk
    /// cache when it holds code for this digest and engine, and pre-links it as a
    /// `wasi:http/proxy`.
    ///
    /// Compiling is CPU-heavy (tens of milliseconds to seconds): call it from
    /// `tokio::task::spawn_blocking` in async code.
    pub fn prepare(
        &self,
        artifact_digest: &str,
        component: &[u8],
    ) -> Result<PreparedApp, RuntimeError> {
        let digest = artifact_digest.to_ascii_lowercase();
        let actual = digest_like(&digest, component)?;
        if actual != digest {
            return Err(RuntimeError::DigestMismatch {
                expected: artifact_digest.to_owned(),
                actual,
            });
        }
        let (compiled, source) = self.component(&digest, component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&compiled)
            .and_then(ProxyPre::new)
            .map_err(|e| RuntimeError::NotProxy {
                digest: digest.clone(),
                message: format!("{e:#}"),
            })?;
        Ok(PreparedApp {
            inner: Arc::new(AppInner {
                digest,
                pre,
                gate: Arc::new(Gate::default()),
                source,
            }),
        })
    }

    fn component(
        &self,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(Component, CodeSource), RuntimeError> {
        if let Some(c) = self.lock_components().get(digest) {
            return Ok((c.clone(), CodeSource::Memory));
        }
        match bytes.get(4..8) {
            _ if !bytes.starts_with(b"\0asm") => {
                return Err(RuntimeError::NotWasm {
                    digest: digest.to_owned(),
                })
            }
            Some([1, 0, 0, 0]) => {
                return Err(RuntimeError::CoreModule {
                    digest: digest.to_owned(),
                })
            }
            _ => {}
        }
        let engine = &self.inner.engine;
        let mut source = CodeSource::Compiled;
        let loaded = match &self.inner.cache {
            Some(cache) => match cache.load(engine, digest) {
                Ok(c) => Some(c),
                Err(Miss::Absent) => None,
                Err(miss) => {
                    tracing::warn!(
                        digest,
                        ?miss,
                        "precompiled code in the cache is not usable; compiling again"
                    );
                    None
                }
            },
            None => None,
        };
        let component = match loaded {
            Some(c) => {
                source = CodeSource::DiskCache;
                c
            }
            None => {
                let started = std::time::Instant::now();
                let c = Component::new(engine, bytes).map_err(|e| RuntimeError::Compile {
                    digest: digest.to_owned(),
                    message: format!("{e:#}"),
                })?;
                self.inner.compilations.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    digest,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "compiled component"
                );
                if let Some(cache) = &self.inner.cache {
                    if let Err(e) = cache.store(digest, &c) {
                        tracing::warn!(digest, error = %e, "cannot write precompiled code to the cache");
                    }
                }
                c
            }
        };
        self.lock_components()
            .insert(digest.to_owned(), component.clone());
        Ok((component, source))
    }

    fn lock_components(&self) -> std::sync::MutexGuard<'_, HashMap<String, Component>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts).
        self.inner
            .components
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A component ready to serve requests: pre-linked, with its own concurrency gate. Clone it
/// freely; clones share the gate.
#[derive(Clone)]
pub struct PreparedApp {
    pub(crate) inner: Arc<AppInner>,
}

pub(crate) struct AppInner {
    pub(crate) digest: String,
    pub(crate) pre: ProxyPre<HostState>,
    pub(crate) gate: Arc<Gate>,
    source: CodeSource,
}

impl std::fmt::Debug for PreparedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedApp")
            .field("digest", &self.inner.digest)
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

impl PreparedApp {
    /// The artifact digest.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// Where the code came from: compiled, disk cache or memory.
    pub fn source(&self) -> CodeSource {
        self.inner.source
    }

    /// Invocations of this app running now.
    pub fn in_flight(&self) -> u32 {
        self.inner.gate.in_flight()
    }
}

/// The OCI digest (`sha256:<hex>`) of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The digest of `bytes` with the algorithm `digest` names.
fn digest_like(digest: &str, bytes: &[u8]) -> Result<String, RuntimeError> {
    let bad = || RuntimeError::BadDigest(digest.to_owned());
    let (algo, hex_part) = digest.split_once(':').ok_or_else(bad)?;
    let is_hex = |n: usize| hex_part.len() == n && hex_part.bytes().all(|b| b.is_ascii_hexdigit());
    match algo {
        "sha256" if is_hex(64) => Ok(digest_of(bytes)),
        "sha512" if is_hex(128) => Ok(format!("sha512:{}", hex::encode(Sha512::digest(bytes)))),
        _ => Err(bad()),
    }
}
