//! Memory bounds of one evaluation, measured as the growth of this process's peak resident set
//! (`VmHWM` in /proc/self/status). A test binary of its own, with one test, so that no other
//! test allocates in the same process meanwhile.

use std::time::{Duration, Instant};

use plaza_policy::{Limits, PolicyError, PolicySet};
use serde_json::{json, Value};

/// Peak resident set of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM value");
    kib * 1024
}

const MIB: u64 = 1 << 20;

fn set(src: &str, limits: Limits) -> PolicySet {
    PolicySet::builder()
        .builtin(false)
        .limits(limits)
        .file("runaway.rego", src)
        .build()
        .expect("policy loads")
}

/// Runs `f`, returning its result, how long it took and how much the peak RSS grew.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, u64) {
    let before = peak_rss();
    let start = Instant::now();
    let out = f();
    (out, start.elapsed(), peak_rss().saturating_sub(before))
}

#[test]
fn runaway_policies_stay_within_time_and_memory() {
    // 1. A comprehension over a huge range: refused by the range guard before allocating.
    let range = set(
        "package acme.range\n\nimport rego.v1\n\ndeny contains \"big\" if {\n\tx := [y | some y in numbers.range(1, 100000000)]\n\tcount(x) > 0\n}\n",
        Limits::default(),
    );
    let (out, took, grew) = measured(|| range.evaluate(&json!({}), &Value::Null));
    let err = out.unwrap_err();
    assert!(err.to_string().contains("exceeds Plaza's limit"), "{err}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(grew < 64 * MIB, "range: peak RSS grew {} MiB", grew / MIB);

    // 2. A cross product of the input with itself (25 million pairs), element by element:
    //    stopped by the time limit, having built only what fits in that time.
    let cross = set(
        "package acme.cross\n\nimport rego.v1\n\ndeny contains \"big\" if {\n\tpairs := [[a, b] | some a in input.xs; some b in input.xs]\n\tcount(pairs) > 0\n}\n",
        Limits {
            time: Duration::from_millis(300),
            ..Limits::default()
        },
    );
    let xs: Vec<u32> = (0..5000).collect();
    let input = json!({ "xs": xs });
    let (out, took, grew) = measured(|| cross.evaluate(&input, &Value::Null));
    let err = out.unwrap_err();
    assert!(
        matches!(
            err,
            PolicyError::Timeout { .. } | PolicyError::LimitExceeded { .. }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    eprintln!(
        "cross product: stopped after {took:?}, peak RSS grew {} MiB: {err}",
        grew / MIB
    );
    assert!(grew < 512 * MIB, "cross: peak RSS grew {} MiB", grew / MIB);

    // 3. An oversized input is refused before any evaluation, without a copy of it.
    let small = set(
        "package acme.small\n\nimport rego.v1\n\ndeny contains \"x\" if input.x\n",
        Limits {
            max_input_bytes: 1 << 16,
            ..Limits::default()
        },
    );
    let big = json!({ "x": "y".repeat(1 << 20) });
    let (out, took, _) = measured(|| small.evaluate(&big, &Value::Null));
    let err = out.unwrap_err();
    assert!(
        matches!(err, PolicyError::LimitExceeded { limit: 65536, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("input document"), "{err}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // Just under the limit is evaluated.
    let fits = json!({ "x": "y".repeat(1000) });
    assert_eq!(
        small.evaluate(&fits, &Value::Null).unwrap().findings.len(),
        1
    );
}
