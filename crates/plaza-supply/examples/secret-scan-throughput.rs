//! Secret-scanning throughput on a synthetic 100 MB artifact: mostly ordinary content (prose with
//! words such as "token" and "password", source code, JSON, URLs, and random binary blocks) with
//! a few planted synthetic secrets. Prints MB/s for the plain byte scan and for the same content
//! as a tar layer of 1 MiB files, and the findings (redacted). The artifact comes from
//! `common/artifact.rs`, which `supply-bench` shares.
//!
//! `cargo run --release -p plaza-supply --example secret-scan-throughput [SIZE_MB]`

use std::io::Cursor;
use std::time::Instant;

use plaza_supply::secrets::{builtin_rules, AllowList, LayerInput, ScanConfig, Scanner};

#[path = "common/artifact.rs"]
mod artifact;

fn main() {
    let size_mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let size = size_mb * 1_000_000;
    let (data, next_plant) = artifact::synthetic_artifact(size);

    let config = ScanConfig {
        max_file_bytes: (size as u64) * 2,
        ..ScanConfig::default()
    };
    let scanner = match Scanner::new(builtin_rules(), AllowList::new(), config) {
        Ok(scanner) => scanner,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("rules: {}", scanner.rules().count());
    println!(
        "artifact: {:.1} MB synthetic ({} secrets planted)",
        size as f64 / 1e6,
        next_plant
    );

    // Warm-up on a small slice (regex lazy DFAs), then the measured run.
    let _ = scanner.scan_bytes("warm-up", data.get(..1_000_000).unwrap_or(&data));
    let start = Instant::now();
    let report = scanner.scan_bytes("artifact.bin", &data);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "bytes: {:.3} s, {:.0} MB/s, {} findings, {} allowed",
        seconds,
        size as f64 / 1e6 / seconds,
        report.findings.len(),
        report.allowed.len()
    );
    for finding in &report.findings {
        println!("  {finding}");
    }

    // The same content as a tar layer of 1 MiB files.
    let mut builder = tar::Builder::new(Vec::with_capacity(size + size / 100));
    for (i, chunk) in data.chunks(1 << 20).enumerate() {
        let mut header = tar::Header::new_gnu();
        header.set_size(chunk.len() as u64);
        header.set_mode(0o644);
        if let Err(e) = builder.append_data(&mut header, format!("data/file-{i:04}"), chunk) {
            eprintln!("error: building the tar: {e}");
            std::process::exit(1);
        }
    }
    let tar = builder.into_inner().unwrap_or_default();
    let start = Instant::now();
    let layer = LayerInput {
        label: "layer".to_owned(),
        reader: Cursor::new(tar),
    };
    match scanner.scan_layers([layer]) {
        Ok(report) => {
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "tar layer: {:.3} s, {:.0} MB/s, {} findings",
                seconds,
                size as f64 / 1e6 / seconds,
                report.findings.len()
            );
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
