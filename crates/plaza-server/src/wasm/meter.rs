//! Host metrics of wasm invocations, counted in memory and flushed to metering about once a
//! second as one usage event per instance and metric (`plaza_calls`, `plaza_compute_time`,
//! `plaza_egress_bytes`, `plaza_memory`), through the same ingest as any other usage, so they
//! are deduplicated, rolled up and queryable like the app's own metrics.
//!
//! Summing before writing keeps the store out of the request path. The price: a server killed
//! with SIGKILL loses the host metrics of its last unflushed second (a clean shutdown flushes).
//! A flush that fails keeps its counts for the next one, with the same event ids, so a retry
//! after a partial failure is a duplicate, never a second count.

use chrono::{DateTime, SecondsFormat, Utc};
use plaza_core::ids::OrgId;
use plaza_core::install::InstanceId;
use plaza_core::service::Services;
use plaza_runtime::InvocationUsage;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// What one instance used since the last flush.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Tally {
    calls: u64,
    compute_ns: u128,
    egress_bytes: u64,
    /// Peak memory times wall time, in byte-nanoseconds.
    memory_byte_ns: u128,
    egress_used: BTreeSet<String>,
}

/// A flush that has not been written yet: its id (for event ids) and counts.
#[derive(Clone, Debug)]
struct Pending {
    id: String,
    at: DateTime<Utc>,
    tallies: BTreeMap<(OrgId, String, InstanceId), Tally>,
}

/// Counts invocations per instance until the next flush.
#[derive(Default)]
pub struct HostMeter {
    open: Mutex<BTreeMap<(OrgId, String, InstanceId), Tally>>,
    retry: Mutex<Vec<Pending>>,
}

impl HostMeter {
    /// Counts one invocation of `instance` (of `app_id` in `org`).
    pub fn record(
        &self,
        org: &OrgId,
        app_id: &str,
        instance: &InstanceId,
        usage: &InvocationUsage,
    ) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        let t = open
            .entry((org.clone(), app_id.to_owned(), instance.clone()))
            .or_default();
        t.calls += 1;
        t.compute_ns += usage.compute.as_nanos();
        t.egress_bytes += usage.egress_bytes;
        t.memory_byte_ns += u128::from(usage.peak_memory_bytes) * usage.wall.as_nanos();
        t.egress_used
            .extend(usage.egress_hosts_used.iter().cloned());
    }

    /// Writes what was counted (and any earlier flush that failed) as usage events. Returns how
    /// many events were written; counts that could not be written are kept for the next flush.
    pub async fn flush(&self, services: &Services, late_window: chrono::TimeDelta) -> usize {
        let taken = self
            .open
            .lock()
            .map(|mut o| std::mem::take(&mut *o))
            .unwrap_or_default();
        let mut batches = self
            .retry
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        if !taken.is_empty() {
            batches.push(Pending {
                id: uuid::Uuid::now_v7().simple().to_string(),
                at: services.now(),
                tallies: taken,
            });
        }
        let mut written = 0;
        for batch in batches {
            match write(services, &batch, late_window).await {
                Ok(n) => written += n,
                Err(e) => {
                    tracing::warn!(error = %e, flush = %batch.id, "host metrics not written yet; will retry");
                    if let Ok(mut r) = self.retry.lock() {
                        r.push(batch);
                    }
                }
            }
        }
        written
    }
}

/// Writes one flush: per org, one ingest of its instances' events.
async fn write(
    services: &Services,
    batch: &Pending,
    late_window: chrono::TimeDelta,
) -> Result<usize, plaza_core::CoreError> {
    let at = batch.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut by_org: BTreeMap<&OrgId, Vec<serde_json::Value>> = BTreeMap::new();
    for ((org, app, instance), t) in &batch.tallies {
        let event = |metric: &str, value: String| {
            serde_json::json!({
                "eventId": format!("plaza-host-{}-{instance}-{metric}", batch.id),
                "appId": app, "instanceId": instance.as_str(), "metric": metric,
                "value": serde_json::Value::Number(value.parse().unwrap_or(serde_json::Number::from(0))),
                "timestamp": at,
            })
        };
        let events = by_org.entry(org).or_default();
        events.push(event("plaza_calls", t.calls.to_string()));
        events.push(event("plaza_compute_time", fixed(t.compute_ns, 1_000_000)));
        if t.egress_bytes > 0 {
            events.push(event("plaza_egress_bytes", t.egress_bytes.to_string()));
        }
        events.push(event(
            "plaza_memory",
            fixed(t.memory_byte_ns, 1_048_576 * 1_000_000_000),
        ));
        for entry in &t.egress_used {
            services.record_egress_use(instance, entry).await?;
        }
    }
    let mut written = 0;
    for (org_id, events) in by_org {
        let org = services.store().get_org(org_id).await?;
        let body = serde_json::to_vec(&events).unwrap_or_default();
        let report = services
            .ingest_usage(
                &org,
                "system:runtime",
                None,
                &body,
                "application/json",
                &plaza_metering::ParseOptions::default(),
                late_window,
            )
            .await?;
        if report.rejected > 0 {
            tracing::warn!(
                rejected = report.rejected,
                "host metrics rejected; see the dead letters"
            );
        }
        written += report.accepted + report.duplicates;
    }
    Ok(written)
}

/// `numerator / denominator` as a decimal with six places (exact to a millionth).
fn fixed(numerator: u128, denominator: u128) -> String {
    let micros = numerator.saturating_mul(1_000_000) / denominator.max(1);
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn fixed_point_values_are_exact_to_a_millionth() {
        assert_eq!(fixed(1_500_000, 1_000_000), "1.500000");
        assert_eq!(fixed(1, 1_000_000), "0.000001");
        assert_eq!(fixed(0, 7), "0.000000");
        assert_eq!(
            fixed(2 * 1_048_576 * 1_000_000_000, 1_048_576 * 1_000_000_000),
            "2.000000"
        );
    }
}
