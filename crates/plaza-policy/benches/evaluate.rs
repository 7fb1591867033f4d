//! Evaluating the built-in bundle against the seed manifest (engine prepared once, as the
//! server does), measured in the same run as `plaza_manifest::load` of the same manifest, plus
//! the time to load and compile the bundle.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, Criterion};
use plaza_policy::PolicySet;
use serde_json::Value;

const SEED: &[u8] = include_bytes!("../tests/fixtures/seed-micro-app.yaml");

/// The seed manifest as the policy input, and the bundle compiled with its prepared-engine cache
/// warmed, as a server has them after its first evaluation.
fn prepared() -> (Value, PolicySet) {
    let manifest = plaza_manifest::load("micro-app.yaml", SEED)
        .manifest
        .expect("seed manifest is valid");
    let input = serde_json::to_value(manifest).expect("manifest serialises");
    let set = PolicySet::builtin().expect("bundle loads");
    set.evaluate(&input, &Value::Null).expect("evaluates");
    (input, set)
}

fn benches(c: &mut Criterion) {
    let (input, set) = prepared();

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

/// Per-evaluation latency percentiles, which criterion does not report: 5,000 evaluations timed
/// one by one on this thread, printed before criterion's own figures.
fn latency_report() {
    let (input, set) = prepared();
    let mut times: Vec<std::time::Duration> = (0..5000)
        .map(|_| {
            let t = std::time::Instant::now();
            black_box(set.evaluate(black_box(&input), &Value::Null).unwrap());
            t.elapsed()
        })
        .collect();
    times.sort();
    let total: std::time::Duration = times.iter().sum();
    println!(
        "policy/evaluate latency over 5000: p50 {:?}, p99 {:?}, {:.0} evaluations/s on one core",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times.len() as f64 / total.as_secs_f64()
    );
}

criterion_group!(policy, benches);

fn main() {
    latency_report();
    policy();
    Criterion::default().configure_from_args().final_summary();
}
