//! A memory ceiling per interpreter evaluation, built on the only memory limit regorus's
//! tree-walking interpreter knows: ONE process-wide limit ([`regorus::set_global_memory_limit`])
//! on the bytes the whole process has allocated, as regorus's mimalloc allocator (the global
//! allocator once regorus's `allocator-memory-limits` feature is on) counts them. The
//! interpreter compares that count with the limit at throttled points (loop iterations, rule and
//! builtin calls, value construction) and stops with
//! [`regorus::LimitError::MemoryLimitExceeded`].
//!
//! Each interpreter evaluation in flight holds a `Reservation` whose ceiling is the process's
//! allocated bytes when it started plus its budget ([`crate::Limits::max_memory_bytes`]). The
//! process-wide limit is the highest ceiling in flight, and no limit when nothing is in flight;
//! dropping a reservation (the evaluation returned, failed or panicked) recomputes it. So:
//!
//! * while one evaluation alone is in flight, the process as a whole may grow by its budget:
//!   what other threads allocate meanwhile is taken from the evaluation's budget, what they
//!   free is added to it;
//! * concurrent evaluations each keep at least their own budget: the limit is the highest
//!   ceiling, never lower than any one's; an evaluation that started earlier may use more
//!   than its budget while a later one is in flight;
//! * while an evaluation is in flight, whatever else in the process regorus checks (another
//!   thread's VM execution, preparing a settings document) also fails once the process is over
//!   that ceiling: a runaway evaluation can take a concurrent one down with it.
//!
//! The allocator publishes each thread's count in steps of up to 1 MiB, so a ceiling is exact
//! to within about 1 MiB per thread. The VM has a real per-execution budget and does not use
//! this module.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::PolicyError;

/// The ceilings of the evaluations in flight, and where the highest is applied.
pub(crate) struct Ceilings {
    /// Ceiling → how many evaluations in flight have it.
    in_flight: Mutex<BTreeMap<u64, usize>>,
    /// Applies the highest ceiling (`None`: no evaluation in flight).
    apply: fn(Option<u64>),
}

/// The process's ceilings, applied to regorus's process-wide memory limit.
static PROCESS: Ceilings = Ceilings::new(regorus::set_global_memory_limit);

impl Ceilings {
    pub(crate) const fn new(apply: fn(Option<u64>)) -> Self {
        Ceilings {
            in_flight: Mutex::new(BTreeMap::new()),
            apply,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, usize>> {
        // The map is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records an evaluation that starts with the process at `allocated` bytes and may grow it
    /// by `budget`, and applies the new highest ceiling. The returned guard ends it.
    pub(crate) fn reserve(&self, allocated: u64, budget: u64) -> Reservation<'_> {
        let ceiling = allocated.saturating_add(budget);
        let mut in_flight = self.lock();
        *in_flight.entry(ceiling).or_insert(0) += 1;
        // Applied under the lock, so the last applied value is always the current highest.
        (self.apply)(highest(&in_flight));
        Reservation {
            ceilings: self,
            ceiling,
        }
    }

    fn release(&self, ceiling: u64) {
        let mut in_flight = self.lock();
        if let Some(n) = in_flight.get_mut(&ceiling) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&ceiling);
            }
        }
        (self.apply)(highest(&in_flight));
    }

    /// The highest ceiling in flight: the limit currently applied.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> Option<u64> {
        highest(&self.lock())
    }
}

fn highest(in_flight: &BTreeMap<u64, usize>) -> Option<u64> {
    in_flight.keys().next_back().copied()
}

/// One evaluation's ceiling; dropping it (on return, error or unwinding) ends the evaluation.
#[must_use = "the ceiling holds only while the reservation lives"]
pub(crate) struct Reservation<'a> {
    ceilings: &'a Ceilings,
    ceiling: u64,
}

impl Reservation<'_> {
    /// The process's allocated bytes above which the evaluation is stopped, unless a higher
    /// ceiling is in flight.
    #[cfg(test)]
    pub(crate) fn ceiling(&self) -> u64 {
        self.ceiling
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.ceilings.release(self.ceiling);
    }
}

/// Bytes the whole process has allocated and not freed, as regorus's allocator counts them
/// (this thread's pending count is published first).
pub(crate) fn allocated_bytes() -> u64 {
    regorus_mimalloc::global_allocation_stats_snapshot().allocated
}

/// Bounds the interpreter evaluation about to start on this thread to `budget` more bytes.
pub(crate) fn reserve(budget: u64) -> Reservation<'static> {
    PROCESS.reserve(allocated_bytes(), budget)
}

/// The error for an evaluation stopped at its budget of `budget` bytes.
pub(crate) fn exceeded(budget: u64) -> PolicyError {
    PolicyError::LimitExceeded {
        what: format!("more than {budget} bytes of memory"),
        limit: budget,
    }
}

/// `e` as [`exceeded`] if it is regorus's process-wide memory limit, else `None`.
pub(crate) fn interpreter_error(e: &anyhow::Error, budget: u64) -> Option<PolicyError> {
    let by_type = e
        .chain()
        .filter_map(|c| c.downcast_ref::<regorus::LimitError>())
        .any(|l| matches!(l, regorus::LimitError::MemoryLimitExceeded { .. }));
    // Some paths re-wrap the error as text (as for the time limit, see `engine::eval_error`).
    let by_text = || format!("{e:#}").contains("exceeded memory limit");
    (by_type || by_text()).then(|| exceeded(budget))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// A fake process-wide limit per test (each test has its own static), `u64::MAX` for none.
    macro_rules! ceilings {
        ($c:ident, $applied:ident) => {
            static $applied: AtomicU64 = AtomicU64::new(0);
            fn apply(limit: Option<u64>) {
                $applied.store(limit.unwrap_or(u64::MAX), Ordering::SeqCst);
            }
            let $c = Ceilings::new(apply);
        };
    }

    #[test]
    fn one_evaluation_gets_its_ceiling_then_none() {
        ceilings!(c, APPLIED);
        {
            let r = c.reserve(1000, 64);
            assert_eq!(r.ceiling(), 1064);
            assert_eq!(APPLIED.load(Ordering::SeqCst), 1064);
            assert_eq!(c.limit(), Some(1064));
        }
        assert_eq!(c.limit(), None);
        assert_eq!(APPLIED.load(Ordering::SeqCst), u64::MAX);
    }

    #[test]
    fn overlapping_evaluations_keep_the_highest_ceiling() {
        ceilings!(c, APPLIED);
        let first = c.reserve(1000, 64);
        // Started later with the process larger: its ceiling is higher and applies.
        let second = c.reserve(1500, 64);
        assert_eq!(APPLIED.load(Ordering::SeqCst), 1564);
        // The earlier one ends first: the later one's ceiling stays.
        drop(first);
        assert_eq!(APPLIED.load(Ordering::SeqCst), 1564);
        // A third with a lower ceiling (memory was freed meanwhile) does not lower the limit
        // while the second is in flight, and takes over when it ends.
        let third = c.reserve(200, 64);
        assert_eq!(APPLIED.load(Ordering::SeqCst), 1564);
        drop(second);
        assert_eq!(APPLIED.load(Ordering::SeqCst), 264);
        drop(third);
        assert_eq!(APPLIED.load(Ordering::SeqCst), u64::MAX);
    }

    #[test]
    fn equal_ceilings_are_counted_not_merged() {
        ceilings!(c, APPLIED);
        let a = c.reserve(100, 10);
        let b = c.reserve(100, 10);
        drop(a);
        assert_eq!(c.limit(), Some(110));
        assert_eq!(APPLIED.load(Ordering::SeqCst), 110);
        drop(b);
        assert_eq!(c.limit(), None);
    }

    #[test]
    fn a_panicking_evaluation_releases_its_ceiling() {
        ceilings!(c, APPLIED);
        let outer = c.reserve(10, 5);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _inner = c.reserve(100, 50);
            assert_eq!(c.limit(), Some(150));
            panic!("evaluation panicked");
        }));
        assert!(result.is_err());
        assert_eq!(c.limit(), Some(15));
        assert_eq!(APPLIED.load(Ordering::SeqCst), 15);
        drop(outer);
        assert_eq!(APPLIED.load(Ordering::SeqCst), u64::MAX);
    }

    #[test]
    fn ceilings_saturate() {
        ceilings!(c, APPLIED);
        let _r = c.reserve(u64::MAX - 1, 64);
        assert_eq!(c.limit(), Some(u64::MAX));
    }

    #[test]
    fn memory_limit_errors_are_recognised() {
        let e = anyhow::Error::new(regorus::LimitError::MemoryLimitExceeded {
            usage: 10,
            limit: 5,
        });
        let err = interpreter_error(&e, 64).map(|p| p.to_string());
        assert_eq!(
            err.as_deref(),
            Some("policy evaluation exceeds a limit: more than 64 bytes of memory (limit 64)")
        );
        assert!(interpreter_error(&anyhow::anyhow!("undefined function"), 64).is_none());
    }
}
