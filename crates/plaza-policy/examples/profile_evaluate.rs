//! Evaluates the built-in bundle against the seed manifest N times (default 200), for
//! `valgrind --tool=callgrind` or `perf` when the benchmark's timings are too noisy to compare.
//! With `load` as the second argument it runs `plaza_manifest::load` of the same manifest N
//! times instead: the benchmark's other side, for the ratio in instructions.

// The engine is built once and warmed, as in benches/evaluate.rs.
use plaza_policy::PolicySet;
use serde_json::Value;

const SEED: &[u8] = include_bytes!("../tests/fixtures/seed-micro-app.yaml");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200);
    let manifest = plaza_manifest::load("micro-app.yaml", SEED)
        .manifest
        .ok_or("seed manifest is invalid")?;
    if std::env::args().nth(2).as_deref() == Some("load") {
        let start = std::time::Instant::now();
        let mut valid = 0;
        for _ in 0..n {
            valid += usize::from(
                plaza_manifest::load("micro-app.yaml", SEED)
                    .manifest
                    .is_some(),
            );
        }
        println!(
            "{n} loads, {:?} each, {valid} valid",
            start.elapsed() / n.max(1) as u32
        );
        return Ok(());
    }
    let input = serde_json::to_value(manifest)?;
    let set = PolicySet::builtin()?;
    let mut findings = set.evaluate(&input, &Value::Null)?.findings.len();
    let start = std::time::Instant::now();
    for _ in 0..n {
        findings += set.evaluate(&input, &Value::Null)?.findings.len();
    }
    println!(
        "{n} evaluations, {:?} each, {findings} findings",
        start.elapsed() / n.max(1) as u32
    );
    Ok(())
}
