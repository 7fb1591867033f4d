//! Evaluating the built-in bundle against the seed manifest (engine prepared once, as the
//! server does), measured in the same run as `plaza_manifest::load` of the same manifest, plus
//! the time to load and compile the bundle.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use plaza_policy::PolicySet;
use serde_json::Value;

const SEED: &[u8] = include_bytes!("../tests/fixtures/seed-micro-app.yaml");

fn benches(c: &mut Criterion) {
    let manifest = plaza_manifest::load("micro-app.yaml", SEED)
        .manifest
        .expect("seed manifest is valid");
    let input = serde_json::to_value(manifest).expect("manifest serialises");
    let set = PolicySet::builtin().expect("bundle loads");
    // Warm the prepared-engine cache, as the first evaluation of a server does.
    set.evaluate(&input, &Value::Null).expect("evaluates");

    let mut g = c.benchmark_group("policy");
    g.bench_function("evaluate_bundle_seed_manifest", |b| {
        b.iter(|| {
            set.evaluate(black_box(&input), black_box(&Value::Null))
                .unwrap()
        })
    });
    g.bench_function("manifest_load_seed", |b| {
        b.iter(|| plaza_manifest::load(black_box("micro-app.yaml"), black_box(SEED)))
    });
    g.sample_size(20);
    g.bench_function("bundle_load_and_compile", |b| {
        b.iter(|| PolicySet::builtin().unwrap())
    });
    g.finish();
}

criterion_group!(policy, benches);
criterion_main!(policy);
