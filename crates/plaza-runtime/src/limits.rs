//! The per-invocation limits and how each is enforced: CPU time (epoch callback over a measured
//! compute budget), linear memory (a `ResourceLimiter`), and concurrent instances per app (a
//! gate). Wall time and body sizes are enforced in [`crate::invoke`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Notify;
use wasmtime::{ResourceLimiter, UpdateDeadline};

use crate::usage::Recorder;

/// Limits for one invocation, usually derived from the app's manifest and plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total linear memory of the instance; growing beyond it fails (and the usual guest
    /// reaction, aborting, is reported as [`crate::InvocationFailure::MemoryLimit`]).
    pub memory_bytes: u64,
    /// Compute budget (see [`crate::InvocationUsage::compute`]); checked every epoch tick.
    pub cpu_time: Duration,
    /// Wall-clock budget for the whole invocation, response body included.
    pub wall_timeout: Duration,
    /// Largest request body accepted; larger requests are refused before instantiating.
    pub max_request_bytes: u64,
    /// Largest response body; reading stops and the invocation fails beyond it.
    pub max_response_bytes: u64,
    /// Instances of this app running at once; more wait up to
    /// [`crate::RuntimeConfig::busy_wait`] and are then answered `Busy`.
    pub max_concurrent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 * 1024 * 1024,
            cpu_time: Duration::from_secs(1),
            wall_timeout: Duration::from_secs(10),
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            max_concurrent: 32,
        }
    }
}

/// Caps the instance's total linear memory (and table sizes) and records its peak.
pub(crate) struct MemoryLimiter {
    cap: u64,
    total: u64,
    recorder: Arc<Recorder>,
}

/// Table elements an instance may have (funcref tables of Rust components are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl MemoryLimiter {
    pub(crate) fn new(cap: u64, recorder: Arc<Recorder>) -> Self {
        MemoryLimiter {
            cap,
            total: 0,
            recorder,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = (desired as u64).saturating_sub(current as u64);
        let total = self.total.saturating_add(grow);
        if total > self.cap {
            // Refuse the growth: `memory.grow` returns -1 and the guest decides (Rust aborts).
            self.recorder
                .memory_limit_hit
                .store(true, Ordering::Relaxed);
            tracing::debug!(instance = %self.recorder.instance_id, total, cap = self.cap, "memory growth refused");
            return Ok(false);
        }
        self.total = total;
        self.recorder.note_memory(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// The epoch-deadline callback: trap once the compute budget is spent, otherwise yield to the
/// executor and check again next tick.
pub(crate) fn cpu_deadline(recorder: &Recorder, budget: Duration) -> UpdateDeadline {
    if recorder.compute() > budget {
        recorder.cpu_limit_hit.store(true, Ordering::Relaxed);
        UpdateDeadline::Interrupt
    } else {
        UpdateDeadline::Yield(1)
    }
}

/// Wraps the guest task's future and adds the time spent in each poll to the compute time.
pub(crate) struct CpuMeter<F> {
    inner: Pin<Box<F>>,
    recorder: Arc<Recorder>,
}

impl<F> CpuMeter<F> {
    pub(crate) fn new(inner: F, recorder: Arc<Recorder>) -> Self {
        CpuMeter {
            inner: Box::pin(inner),
            recorder,
        }
    }
}

impl<F: Future> Future for CpuMeter<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.recorder.poll_started();
        let result = self.inner.as_mut().poll(cx);
        self.recorder.poll_ended();
        result
    }
}

/// Admits at most `max` concurrent invocations of one app.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    active: Mutex<u32>,
    released: Notify,
}

/// A slot in a [`Gate`], given back on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    gate: Arc<Gate>,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, u32> {
        self.active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn in_flight(&self) -> u32 {
        *self.lock()
    }

    /// Takes a slot if fewer than `max` are taken, waiting up to `wait` for one to free up.
    pub(crate) async fn acquire(self: &Arc<Self>, max: u32, wait: Duration) -> Option<Permit> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            // Register interest before checking, so a release in between is not missed.
            released.as_mut().enable();
            {
                let mut active = self.lock();
                if *active < max {
                    *active += 1;
                    return Some(Permit { gate: self.clone() });
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        *self.gate.lock() -= 1;
        self.gate.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_admits_up_to_max_and_waits_a_bounded_time() {
        let gate = Arc::new(Gate::default());
        let a = gate.acquire(2, Duration::ZERO).await.expect("first");
        let _b = gate.acquire(2, Duration::ZERO).await.expect("second");
        assert_eq!(gate.in_flight(), 2);
        let started = std::time::Instant::now();
        assert!(gate.acquire(2, Duration::from_millis(50)).await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(45));
        // A slot freed while waiting is taken.
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.acquire(2, Duration::from_secs(5)).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(a);
        assert!(waiter.await.unwrap());
        assert_eq!(gate.in_flight(), 1);
    }

    #[test]
    fn the_limiter_caps_total_memory_and_records_the_peak() {
        let recorder = Arc::new(Recorder::new("t"));
        let mut limiter = MemoryLimiter::new(10 << 20, recorder.clone());
        assert!(limiter.memory_growing(0, 4 << 20, None).unwrap());
        assert!(limiter.memory_growing(4 << 20, 8 << 20, None).unwrap());
        assert!(!limiter.memory_growing(8 << 20, 12 << 20, None).unwrap());
        assert!(recorder.memory_limit_hit.load(Ordering::Relaxed));
        assert_eq!(recorder.report(Duration::ZERO).peak_memory_bytes, 8 << 20);
    }
}
