//! What an invocation used: the [`InvocationUsage`] report, and the `Recorder` the pieces of an
//! invocation (the CPU meter, the memory limiter, the egress hooks) write into while it runs.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The usage report of one invocation (also on failure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationUsage {
    /// On-CPU time of the invocation: time spent inside polls of the task that instantiates and
    /// runs the guest — guest code and the host functions it calls synchronously, including
    /// instantiation. Time the guest spends waiting (outgoing HTTP, clocks) is not counted.
    pub compute: Duration,
    /// Wall-clock time from the start of `invoke` to the end of the response.
    pub wall: Duration,
    /// The largest total linear memory the instance had, in bytes.
    pub peak_memory_bytes: u64,
    /// Egress bytes: request bodies sent plus response bodies received.
    pub egress_bytes: u64,
    /// Every refused outgoing request.
    pub egress_denials: Vec<EgressDenial>,
    /// Authorities (`host:port`) the guest connected to, in first-use order.
    pub egress_hosts_used: Vec<String>,
}

/// One refused outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressDenial {
    /// The authority the guest asked for (`host:port`, as written).
    pub authority: String,
    /// Why it was refused.
    pub reason: DenialReason,
}

/// Why an outgoing request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenialReason {
    /// No granted egress entry matches the host and port.
    NotGranted,
    /// The request has no usable authority or an unsupported scheme.
    BadRequest(String),
    /// The host is (or resolves to) an address apps may not reach: loopback, private,
    /// link-local (incl. 169.254.169.254), unspecified, CGNAT, multicast…
    PrivateAddress(IpAddr),
    /// The invocation already opened `max_connections` connections.
    ConnectionQuota {
        /// The quota.
        limit: u32,
    },
    /// Request plus response bodies would exceed `max_bytes`.
    ByteQuota {
        /// The quota.
        limit: u64,
    },
}

impl std::fmt::Display for DenialReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenialReason::NotGranted => write!(f, "not in the app's granted egress list"),
            DenialReason::BadRequest(why) => write!(f, "bad request: {why}"),
            DenialReason::PrivateAddress(ip) => write!(f, "address {ip} is not public"),
            DenialReason::ConnectionQuota { limit } => {
                write!(f, "connection quota of {limit} per invocation used up")
            }
            DenialReason::ByteQuota { limit } => {
                write!(f, "egress byte quota of {limit} per invocation exceeded")
            }
        }
    }
}

/// Egress accounting of one invocation.
#[derive(Debug, Default)]
pub(crate) struct EgressTally {
    pub(crate) bytes: u64,
    pub(crate) connections: u32,
    pub(crate) denials: Vec<EgressDenial>,
    pub(crate) hosts: Vec<String>,
}

/// Shared, thread-safe accounting of one invocation. It outlives the store, so the report is
/// complete even when the guest is stopped.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) instance_id: String,
    base: Instant,
    compute_nanos: AtomicU64,
    /// Nanoseconds after `base` (+1) at which the current poll of the guest started; 0 when the
    /// guest is not being polled.
    running_since: AtomicU64,
    peak_memory: AtomicU64,
    pub(crate) memory_limit_hit: AtomicBool,
    pub(crate) cpu_limit_hit: AtomicBool,
    egress: Mutex<EgressTally>,
}

impl Recorder {
    pub(crate) fn new(instance_id: &str) -> Self {
        Recorder {
            instance_id: instance_id.to_owned(),
            base: Instant::now(),
            compute_nanos: AtomicU64::new(0),
            running_since: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            memory_limit_hit: AtomicBool::new(false),
            cpu_limit_hit: AtomicBool::new(false),
            egress: Mutex::new(EgressTally::default()),
        }
    }

    fn now_nanos(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Marks the start of a poll of the guest task.
    pub(crate) fn poll_started(&self) {
        self.running_since
            .store(self.now_nanos().saturating_add(1), Ordering::Relaxed);
    }

    /// Marks the end of a poll of the guest task and adds its duration to the compute time.
    pub(crate) fn poll_ended(&self) {
        let since = self.running_since.swap(0, Ordering::Relaxed);
        if since > 0 {
            let spent = self.now_nanos().saturating_sub(since - 1);
            self.compute_nanos.fetch_add(spent, Ordering::Relaxed);
        }
    }

    /// Compute time so far, including the poll in progress.
    pub(crate) fn compute(&self) -> Duration {
        let mut nanos = self.compute_nanos.load(Ordering::Relaxed);
        let since = self.running_since.load(Ordering::Relaxed);
        if since > 0 {
            nanos = nanos.saturating_add(self.now_nanos().saturating_sub(since - 1));
        }
        Duration::from_nanos(nanos)
    }

    pub(crate) fn note_memory(&self, total: u64) {
        self.peak_memory.fetch_max(total, Ordering::Relaxed);
    }

    pub(crate) fn egress(&self) -> MutexGuard<'_, EgressTally> {
        // Only counters and appends happen under this lock; a poisoned tally is still usable.
        self.egress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a refused outgoing request and logs it.
    pub(crate) fn deny(&self, authority: &str, reason: DenialReason) {
        tracing::warn!(
            instance = %self.instance_id,
            authority,
            reason = %reason,
            "egress denied"
        );
        self.egress().denials.push(EgressDenial {
            authority: authority.to_owned(),
            reason,
        });
    }

    /// The report, with the wall time measured by the caller.
    pub(crate) fn report(&self, wall: Duration) -> InvocationUsage {
        let egress = self.egress();
        InvocationUsage {
            compute: self.compute(),
            wall,
            peak_memory_bytes: self.peak_memory.load(Ordering::Relaxed),
            egress_bytes: egress.bytes,
            egress_denials: egress.denials.clone(),
            egress_hosts_used: egress.hosts.clone(),
        }
    }
}
