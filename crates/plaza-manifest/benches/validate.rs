//! How much do located, all-at-once diagnostics cost? `plaza_manifest::load` (spanned tree, every
//! rule, normalisation) on the seed manifest as YAML and as JSON, side by side with a baseline that
//! only deserialises the same JSON into the typed `Manifest` with serde (no locations, no rules,
//! stops at the first error). Run with `cargo bench -p plaza-manifest`.

// criterion's macros generate undocumented items; this file is a benchmark, not an API.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};

const SEED_YAML: &[u8] = include_bytes!("../tests/fixtures/valid/seed-micro-app.yaml");

fn seed_json() -> Vec<u8> {
    let v = plaza_manifest::load("seed.yaml", SEED_YAML);
    serde_json::to_vec_pretty(&v.manifest.expect("the seed is valid")).expect("serialises")
}

fn broken_yaml() -> Vec<u8> {
    String::from_utf8_lossy(SEED_YAML)
        .replace("name: Where2Eat", "nmae: Where2Eat")
        .replace("version: 1.2.0", "version: one")
        .replace("unit: count", "unit: counts")
        .into_bytes()
}

fn benches(c: &mut Criterion) {
    let json = seed_json();
    let broken = broken_yaml();
    let mut g = c.benchmark_group("seed manifest");
    g.bench_function("plaza load (YAML)", |b| {
        b.iter(|| plaza_manifest::load("m.yaml", black_box(SEED_YAML)))
    });
    g.bench_function("plaza load (JSON)", |b| {
        b.iter(|| plaza_manifest::load("m.json", black_box(&json)))
    });
    g.bench_function("baseline serde_json -> Manifest", |b| {
        b.iter(|| {
            serde_json::from_slice::<plaza_manifest::Manifest>(black_box(&json)).expect("valid")
        })
    });
    g.bench_function("plaza load (YAML, 3 errors)", |b| {
        b.iter(|| plaza_manifest::load("m.yaml", black_box(&broken)))
    });
    g.finish();
}

criterion_group!(validate, benches);
criterion_main!(validate);
