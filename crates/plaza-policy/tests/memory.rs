//! Memory bounds of one evaluation on the interpreter, measured as the growth of this process's
//! peak resident set (`VmHWM` in /proc/self/status). A test binary of its own, with one test, so
//! that no other test allocates in the same process meanwhile (and none sets regorus's
//! process-wide memory limit, see `plaza_policy::memory`). The VM's budget is in
//! `memory_vm.rs`.

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
    // 0. The allocator's process-wide counter, which the interpreter's ceiling is set from,
    //    sees an allocation (here, where no other test runs alongside).
    let before = regorus_mimalloc::global_allocation_stats_snapshot().allocated;
    let block = vec![1u8; 32 << 20];
    let during = regorus_mimalloc::global_allocation_stats_snapshot().allocated;
    assert!(during >= before + (31 << 20), "{before} -> {during}");
    drop(block);

    // 1. A string doubled 30 times by chained `concat` (1 GiB, and as much again for the
    //    intermediate strings, if unbounded): a few builtin calls, too few steps for the time
    //    limit to matter, stopped by the memory limit (default 64 MiB). First, so that no
    //    earlier phase has raised the peak already.
    let limit = Limits::default().max_memory_bytes;
    let doubling = set(&doubling_policy(30), Limits::default());
    let (out, took, grew) = measured(|| doubling.evaluate(&json!({"double": true}), &Value::Null));
    let err = out.unwrap_err();
    assert!(
        matches!(err, PolicyError::LimitExceeded { limit: l, .. } if l == limit),
        "{err:?}"
    );
    assert!(err.to_string().contains("bytes of memory"), "{err}");
    eprintln!(
        "concat doubling (interpreter): stopped after {took:?}, peak RSS grew {} MiB: {err}",
        grew / MIB
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The last string is built before the limit is checked: its own size, at most twice
    // the limit, on top of up to the limit.
    assert!(
        grew <= 4 * limit,
        "doubling: peak RSS grew {} MiB with a limit of {} MiB",
        grew / MIB,
        limit / MIB
    );
    // The limit is lifted once no evaluation is in flight, and the set evaluates normally
    // again (the engine stopped midway was dropped, not pooled).
    assert_eq!(regorus::global_memory_limit(), None);
    let fine = doubling.evaluate(&json!({}), &Value::Null).unwrap();
    assert!(fine.findings.is_empty(), "{:?}", fine.findings);
    let short = set(&doubling_policy(10), Limits::default());
    assert_eq!(
        short
            .evaluate(&json!({"double": true}), &Value::Null)
            .unwrap()
            .findings
            .len(),
        1
    );
    assert_eq!(regorus::global_memory_limit(), None);

    // 2. A comprehension over a huge range: refused by the range guard before allocating.
    let range = set(
        "package acme.range\n\nimport rego.v1\n\ndeny contains \"big\" if {\n\tx := [y | some y in numbers.range(1, 100000000)]\n\tcount(x) > 0\n}\n",
        Limits::default(),
    );
    let (out, took, grew) = measured(|| range.evaluate(&json!({}), &Value::Null));
    let err = out.unwrap_err();
    assert!(err.to_string().contains("exceeds Plaza's limit"), "{err}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(grew < 64 * MIB, "range: peak RSS grew {} MiB", grew / MIB);

    // 3. A cross product of the input with itself (25 million pairs), element by element:
    //    stopped by the time or the memory limit, whichever comes first.
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

    // 4. An oversized input is refused before any evaluation, without a copy of it.
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

    // 4. Engines and VMs go back to their pools after an evaluation; they must not keep the
    //    last input alive (up to the input limit each, times the pool).
    let permissions: Vec<Value> = (0..150)
        .map(|i| {
            let scopes: Vec<String> = (0..20).map(|j| format!("res{i}.scope{j}:read")).collect();
            json!({"name": format!("perm{i}"), "type": "platform", "scopes": scopes})
        })
        .collect();
    let large = json!({"id": "com.example.big", "runtime": "wasm", "runtimeVersion": "wasip2",
        "permissions": permissions});
    let tiny = json!({"id": "com.example.tiny", "runtime": "wasm", "runtimeVersion": "wasip2"});
    let on_vm = PolicySet::builtin().expect("bundle loads");
    let on_interpreter = PolicySet::builder()
        .vm(false)
        .build()
        .expect("bundle loads");
    for (path, policies) in [("VM", on_vm), ("interpreter", on_interpreter)] {
        // Warm: the pools and the prepared program exist before measuring.
        policies.evaluate(&tiny, &Value::Null).expect("evaluates");
        regorus::flush_thread_memory_counters();
        let before = regorus_mimalloc::global_allocation_stats_snapshot().allocated;
        policies.evaluate(&large, &Value::Null).expect("evaluates");
        regorus::flush_thread_memory_counters();
        let after = regorus_mimalloc::global_allocation_stats_snapshot().allocated;
        assert!(
            after < before + (64 << 10),
            "{path}: {} bytes still allocated after evaluating a {} byte input",
            after.saturating_sub(before),
            serde_json::to_vec(&large).unwrap().len()
        );
    }
}

/// A policy whose `deny` doubles a one-byte string `n` times when `input.double` is true.
fn doubling_policy(n: usize) -> String {
    let mut body = String::from("\tinput.double == true\n\ts0 := \"x\"\n");
    for i in 1..=n {
        body.push_str(&format!(
            "\ts{i} := concat(\"\", [s{p}, s{p}])\n",
            p = i - 1
        ));
    }
    body.push_str(&format!("\tcount(s{n}) > 0\n"));
    format!("package acme.double\n\nimport rego.v1\n\ndeny contains \"big\" if {{\n{body}}}\n")
}
