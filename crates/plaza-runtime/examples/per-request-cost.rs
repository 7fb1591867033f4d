//! Per-request cost of the host with and without `pagemap_scan`: the `state` test guest is
//! invoked 2,000 times (after 100 warm-up calls) in a fresh instance each time, for three pool
//! settings, and the mean wall time per request is printed. A measurement, not a check:
//! `cargo run --release -p plaza-runtime --example per-request-cost` (docs/BENCHMARKS.md).

use bytes::Bytes;
use plaza_runtime::{digest_of, Invocation, PoolConfig, Runtime, RuntimeConfig};
use std::path::PathBuf;
use std::time::Instant;

const REQUESTS: u32 = 2_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/apps/testing/state/state.wasm");
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("{}: {e} (run scripts/build-example-apps)", path.display()))?;
    println!("| pagemap_scan | linear_memory_keep_resident | per request |");
    println!("|---|---:|---:|");
    for (pagemap_scan, keep_resident) in [(false, 0), (false, 1 << 20), (true, 1 << 20)] {
        let runtime = Runtime::new(RuntimeConfig {
            pool: PoolConfig {
                total_instances: 16,
                pagemap_scan,
                linear_memory_keep_resident: keep_resident,
                ..PoolConfig::default()
            },
            ..RuntimeConfig::default()
        })?;
        let app = runtime.prepare(&digest_of(&bytes), &bytes)?;
        let call = || {
            let request = http::Request::get("/").body(Bytes::new());
            let runtime = runtime.clone();
            let app = app.clone();
            async move {
                let invoked = runtime.invoke(&app, Invocation::default(), request?).await;
                match invoked.failure {
                    None => Ok(()),
                    Some(f) => Err(format!("the guest failed: {}", f.detail()).into()),
                }
            }
        };
        for _ in 0..100 {
            call().await.map_err(|e: Box<dyn std::error::Error>| e)?;
        }
        let started = Instant::now();
        for _ in 0..REQUESTS {
            call().await.map_err(|e: Box<dyn std::error::Error>| e)?;
        }
        let per = started.elapsed() / REQUESTS;
        println!("| {pagemap_scan} | {keep_resident} | {per:?} |");
    }
    Ok(())
}
