//! The wasmtime engine Plaza runs every app on: pooling allocator, epoch interruption and the
//! ticker thread that drives it, and the linker with the WASI 0.2 host interfaces.
//!
//! **CPU limit: epoch interruption, not fuel.** Fuel costs a counter update in every basic block
//! of compiled code; epochs cost one load and compare at function entries and loop headers. A
//! background thread increments the engine's epoch every [`crate::RuntimeConfig::epoch_tick`]
//! (10 ms by default). Each store's deadline is one tick ahead; when it passes, wasmtime calls
//! the store's callback (`limits::cpu_deadline`, over the compute time `limits::CpuMeter` measures), which either traps (budget spent) or
//! yields to the async executor and extends the deadline by one tick. So a spinning guest is
//! stopped within about one tick of its budget, and never holds a tokio worker for more than a
//! tick.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::invoke::HostState;
use crate::{PoolConfig, RuntimeError};

/// Builds the engine: async support, epoch interruption, the pooling allocator sized by `pool`.
pub(crate) fn build_engine(pool: &PoolConfig) -> Result<Engine, RuntimeError> {
    let mut pooling = PoolingAllocationConfig::new();
    let instances = pool.total_instances.max(1);
    pooling
        .total_component_instances(instances)
        // A wasm32-wasip2 Rust component has one main module plus a few small shim modules.
        .total_core_instances(instances.saturating_mul(pool.core_instances_per_component))
        .max_core_instances_per_component(pool.core_instances_per_component)
        .total_memories(instances.saturating_mul(pool.memories_per_component))
        .max_memories_per_component(pool.memories_per_component)
        .total_tables(instances.saturating_mul(pool.tables_per_component))
        .max_tables_per_component(pool.tables_per_component)
        .total_stacks(instances)
        .max_memory_size(usize::try_from(pool.max_memory_bytes).unwrap_or(usize::MAX))
        // Keep the first pages of each linear memory resident between uses and reset them in
        // place; PAGEMAP_SCAN (Linux ≥ 6.7) lets wasmtime reset only the pages that were touched.
        .linear_memory_keep_resident(pool.linear_memory_keep_resident)
        .table_keep_resident(pool.table_keep_resident)
        .pagemap_scan(if pool.pagemap_scan {
            Enabled::Auto
        } else {
            Enabled::No
        });

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .max_wasm_stack(pool.max_wasm_stack)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// The WASI 0.2 host: every `wasi:*` 0.2 interface (so components built by `wasm32-wasip2`
/// toolchains, which import `wasi:cli`, `wasi:filesystem` and friends, link) plus `wasi:http`.
/// What a guest can actually *do* is decided per store by its `WasiCtx` (no preopens, no
/// sockets, only the given env) and by the egress hooks.
pub(crate) fn build_linker(engine: &Engine) -> Result<Linker<HostState>, RuntimeError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
    Ok(linker)
}

/// The thread that increments the engine's epoch every tick; stopped when dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine` every `tick`.
    pub(crate) fn start(engine: Engine, tick: Duration) -> Result<Self, RuntimeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("plaza-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(EpochTicker {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            // The thread wakes within one tick; a panic in it has nothing to tell us.
            let _ = handle.join();
        }
    }
}
