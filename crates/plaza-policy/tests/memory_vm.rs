//! The memory budget of an execution on regorus's VM, which serves the built-in bundle alone: a
//! runaway on the VM itself (measured as the growth of the process's peak resident set,
//! `VmHWM`), and Plaza's built-in-bundle path pushed over a small budget. A test binary of its
//! own, with one test, so that no other test allocates in the same process meanwhile.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plaza_policy::{Limits, PolicyError, PolicySet};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::vm::VmError;
use regorus::rvm::RegoVM;
use regorus::{Engine, MemoryBudgetConfig};
use serde_json::{json, Value};

const MIB: u64 = 1 << 20;

/// Peak resident set of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("VmHWM value");
    kib * 1024
}

/// A rule that doubles a one-byte string 30 times with chained `concat` (1 GiB if unbounded).
fn doubling_rule() -> String {
    let mut body = String::from("\ts0 := \"x\"\n");
    for i in 1..=30 {
        body.push_str(&format!(
            "\ts{i} := concat(\"\", [s{p}, s{p}])\n",
            p = i - 1
        ));
    }
    body.push_str("\tn := count(s30)\n");
    format!("package runaway\n\nimport rego.v1\n\nbig := n if {{\n{body}}}\n")
}

/// Many permissions with many scopes: a few hundred KiB of input for the bundle to walk.
fn large_manifest() -> Value {
    let permissions: Vec<Value> = (0..200)
        .map(|i| {
            // One sensitive scope per permission: 200 findings for the VM to build.
            let scopes: Vec<String> = (0..20)
                .map(|j| match j {
                    0 => format!("secrets.res{i}"),
                    _ => format!("res{i}.scope{j}:read"),
                })
                .collect();
            json!({"name": format!("perm{i}"), "type": "platform", "scopes": scopes})
        })
        .collect();
    json!({
        "id": "com.example.big", "version": "1.0.0", "name": "Big",
        "entry": "/app/index.wasm", "runtime": "wasm", "runtimeVersion": "wasip2",
        "permissions": permissions,
    })
}

#[test]
fn vm_executions_stop_at_their_memory_budget() {
    // 1. The runaway on the VM itself, with the budget Plaza sets (the default limit).
    let limit = Limits::default().max_memory_bytes;
    let mut engine = Engine::new();
    engine
        .add_policy("runaway.rego".to_owned(), doubling_rule())
        .expect("policy loads");
    let entry: regorus::Rc<str> = regorus::Rc::from("data.runaway.big");
    let compiled = engine
        .compile_with_entrypoint(&entry)
        .expect("policy compiles");
    let program =
        Compiler::compile_from_policy(&compiled, &["data.runaway.big"]).expect("VM program");
    let mut vm = RegoVM::new();
    vm.load_program(Arc::clone(&program));
    vm.set_memory_budget_config(Some(MemoryBudgetConfig {
        limit: NonZeroU64::new(limit).expect("non-zero"),
    }));
    let before = peak_rss();
    let start = Instant::now();
    let out = vm.execute_entry_point_by_name("data.runaway.big");
    let took = start.elapsed();
    let grew = peak_rss().saturating_sub(before);
    eprintln!(
        "concat doubling (VM): stopped after {took:?}, peak RSS grew {} MiB: {out:?}",
        grew / MIB
    );
    assert!(
        matches!(out, Err(VmError::MemoryBudgetExceeded { budget, .. }) if budget == limit),
        "{out:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(
        grew <= 4 * limit,
        "VM doubling: peak RSS grew {} MiB with a budget of {} MiB",
        grew / MIB,
        limit / MIB
    );

    // 2. Plaza's built-in-bundle path, on the VM, over a small budget: a clear limit error,
    //    neither a crash nor a fallback to the interpreter.
    let input = large_manifest();
    let small = PolicySet::builder()
        .limits(Limits {
            max_memory_bytes: 16 << 10,
            ..Limits::default()
        })
        .build()
        .expect("bundle loads");
    assert!(small.runs_on_vm());
    let err = small.evaluate(&input, &Value::Null).unwrap_err();
    assert!(
        matches!(err, PolicyError::LimitExceeded { limit: 16384, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("more than 16384 bytes of memory"),
        "{err}"
    );
    // The VM's budget is its own: regorus's process-wide limit stays unset.
    assert_eq!(regorus::global_memory_limit(), None);

    // 3. The same input under the default budget evaluates, on the VM.
    let normal = PolicySet::builtin().expect("bundle loads");
    assert!(normal.runs_on_vm());
    let start = Instant::now();
    let evaluation = normal.evaluate(&input, &Value::Null).expect("evaluates");
    eprintln!(
        "large manifest under the default budget: {} findings in {:?}",
        evaluation.findings.len(),
        start.elapsed()
    );
}
