//! Bounds on one evaluation, so a runaway policy yields an error instead of a hung request or
//! an exhausted server.
//!
//! * **Input**: the input document is measured (the length of its compact JSON) while it is
//!   converted for regorus, and conversion stops as soon as it passes
//!   [`Limits::max_input_bytes`]: a [`crate::PolicyError::LimitExceeded`] before any policy runs.
//! * **Time**: regorus's cooperative execution timer ([`regorus::utils::limits::ExecutionTimerConfig`])
//!   is armed with what is left of [`Limits::time`] for the whole evaluation, on the
//!   interpreter and on the VM alike; it is read every 64 steps (loop iterations, rules,
//!   function calls) and stops the evaluation with a [`crate::PolicyError::Timeout`]. No worker
//!   thread is needed: the evaluation stops itself.
//! * **VM instructions**: on regorus's VM (the built-in bundle alone, see
//!   [`crate::PolicySetBuilder::vm`]), at most [`Limits::max_instructions`].
//! * **Builtins that allocate up front**: `numbers.range` and `numbers.range_step` build their
//!   whole array before the timer can look; Plaza replaces them (same semantics) with versions
//!   that refuse more than [`Limits::max_range`] elements.
//! * **Output**: at most [`Limits::max_findings`] findings and [`Limits::max_output_bytes`] bytes
//!   of messages and details per evaluation.
//! * **Memory**: at most [`Limits::max_memory_bytes`] allocated and held at once by one
//!   evaluation, counted by regorus's mimalloc allocator, which regorus's
//!   `allocator-memory-limits` feature installs as the global allocator of every binary that
//!   links this crate. On the VM, regorus's per-execution budget counts the live bytes the
//!   evaluating thread gained since the execution began. The interpreter has only a
//!   process-wide limit on the bytes the whole process has allocated; [`crate::memory`] sets
//!   it to the highest "allocated at start + budget" of the interpreter evaluations in
//!   flight, so concurrent evaluations share it (each keeps at least its own budget; what
//!   other threads allocate meanwhile counts against it, what they free for it). Either way a runaway stops with a
//!   [`crate::PolicyError::LimitExceeded`] naming the bytes; the check runs at throttled
//!   points, after an allocation, so the peak is about the budget plus the last value built
//!   (chained `concat` doubling peaks near twice the budget, measured in `tests/memory.rs`
//!   and `tests/memory_vm.rs`). docs/policy.md ("Bounds and errors") states exactly what
//!   holds.

use std::time::Duration;

use regorus::Value;

/// Bounds applied to every evaluation of a [`crate::PolicySet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for one whole evaluation (all rules). Default 2 s.
    pub time: Duration,
    /// Largest array `numbers.range`/`numbers.range_step` may build. Default 100 000.
    pub max_range: u64,
    /// Most findings one evaluation may report. Default 1 000.
    pub max_findings: usize,
    /// Most bytes of messages and details one evaluation may report. Default 1 MiB.
    pub max_output_bytes: usize,
    /// Largest input document accepted, in bytes of compact JSON. Default 1 MiB (a manifest
    /// with its facts is a few KiB). Checked before evaluation starts.
    pub max_input_bytes: usize,
    /// Most instructions one evaluation may execute on regorus's VM. Default 100 000 000
    /// (the built-in bundle needs a few thousand); a backstop under the time limit that does
    /// not depend on the machine's speed.
    pub max_instructions: usize,
    /// Most bytes of memory one evaluation may allocate and hold at once, beyond what was
    /// allocated when it started. Default 64 MiB: the built-in bundle needs under 64 KiB for an
    /// ordinary manifest and 8 to 16 MiB for a manifest of 1 MiB (`max_input_bytes`; measured
    /// on the VM and the interpreter alike), so real policies have four times what the largest
    /// accepted input needs, while a server whose evaluations all run away at once (one per
    /// worker thread) stays within a few hundred MiB. Enforced by regorus's allocator: per
    /// execution on the VM, through a process-wide ceiling on the interpreter (see
    /// [`crate::memory`] and this module's doc). A budget of 0 is as good as 1 byte: every
    /// evaluation fails.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(2),
            max_range: 100_000,
            max_findings: 1_000,
            max_output_bytes: 1 << 20,
            max_input_bytes: 1 << 20,
            max_instructions: 100_000_000,
            max_memory_bytes: 64 << 20,
        }
    }
}

fn integer(v: &Value, name: &str, which: &str) -> anyhow::Result<Option<i64>> {
    match v {
        Value::Number(n) => Ok(n.as_i64()),
        _ => Err(anyhow::anyhow!("{name}: {which} operand must be a number")),
    }
}

fn too_large(name: &str, n: u64, max: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "{name}: a range of {n} elements exceeds Plaza's limit of {max} (a policy must not build huge collections)"
    )
}

/// Registers the bounded `numbers.range` and `numbers.range_step` on `engine`.
pub(crate) fn install_guards(engine: &mut regorus::Engine, max_range: u64) -> anyhow::Result<()> {
    engine.add_extension(
        "numbers.range".to_owned(),
        2,
        Box::new(move |args: Vec<Value>| {
            let name = "numbers.range";
            let (Some(a), Some(b)) = (
                integer(&args[0], name, "first")?,
                integer(&args[1], name, "second")?,
            ) else {
                return Ok(Value::Undefined);
            };
            let n = a.abs_diff(b).saturating_add(1);
            if n > max_range {
                return Err(too_large(name, n, max_range));
            }
            let items: Vec<Value> = if a <= b {
                (a..=b).map(Value::from).collect()
            } else {
                (b..=a).rev().map(Value::from).collect()
            };
            Ok(Value::from(items))
        }),
    )?;
    engine.add_extension(
        "numbers.range_step".to_owned(),
        3,
        Box::new(move |args: Vec<Value>| {
            let name = "numbers.range_step";
            let (Some(a), Some(b), Some(step)) = (
                integer(&args[0], name, "first")?,
                integer(&args[1], name, "second")?,
                integer(&args[2], name, "step")?,
            ) else {
                return Ok(Value::Undefined);
            };
            if step <= 0 {
                return Err(anyhow::anyhow!("{name}: step must be a positive integer"));
            }
            let n = a.abs_diff(b) / step.unsigned_abs() + 1;
            if n > max_range {
                return Err(too_large(name, n, max_range));
            }
            let items: Vec<Value> = if a <= b {
                (a..=b).step_by(step as usize).map(Value::from).collect()
            } else {
                let mut v = Vec::new();
                let mut x = a;
                while x >= b {
                    v.push(Value::from(x));
                    x -= step;
                }
                v
            };
            Ok(Value::from(items))
        }),
    )?;
    Ok(())
}
