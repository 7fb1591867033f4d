//! The events of a benchmark run, decided lazily batch by batch.
//!
//! A run is `events` events cut into batches of `batch`. Event number `g` (0-based, over the
//! whole run) is either *fresh* — a new event id — or a *resend*: an exact copy (same id, same
//! content) of an earlier fresh event, which the server must answer `duplicate`. Exactly
//! `floor(n × duplicates)` of the first `n` events up to any batch boundary are resends, spread
//! evenly through each batch, and the first event of a batch is fresh unless the batch has a
//! single event.
//!
//! Fresh events are numbered `k = 0, 1, 2, …` in order, and everything about one (its id,
//! value, timestamp and sequence number) is a function of `k` and the run's parameters, so a
//! resend is simply "fresh event `k` again" and nothing is remembered between batches.
//!
//! Which event a resend repeats matters when requests run concurrently: the original must have
//! been acknowledged before its resend is sent, or the server would count the resend and call
//! the original the duplicate. So a resend in batch `j` repeats a random fresh event from the
//! batches `≤ j − resend_lag` (and [`BatchPlan::needs_acked_through`] says which batches must
//! be acknowledged first); in the first `resend_lag` batches it repeats a random earlier fresh
//! event of its own batch, which the server handles in order within one transaction.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{bail, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The app of the demo org's seed event.
pub const DEFAULT_APP: &str = "com.example.where2eat";
/// The instance of the seed event.
pub const DEFAULT_INSTANCE: &str = "inst-9a3f";
/// The metric of the seed event (declared in `count` by the demo manifest).
pub const DEFAULT_METRIC: &str = "api_calls";
/// The unit the demo manifest declares for [`DEFAULT_METRIC`].
pub const DEFAULT_UNIT: &str = "count";
/// How many batches back a resend reaches by default (see the module documentation).
pub const DEFAULT_RESEND_LAG: u64 = 64;
/// How far back the timestamps of a run reach: three days.
pub const DEFAULT_SPAN_MS: i64 = 3 * 24 * 3_600_000;

/// Largest duplicate fraction: above one half, a batch could start with a resend of nothing.
const MAX_DUPLICATE_PPM: u64 = 500_000;

/// The parameters of a run; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Events in the run, resends included.
    pub events: u64,
    /// Events per batch (the last batch may be shorter).
    pub batch: u64,
    /// Resends per million events.
    pub duplicate_ppm: u64,
    /// A resend in batch `j ≥ resend_lag` repeats an event of a batch `≤ j − resend_lag`.
    pub resend_lag: u64,
    /// `appId` of every event.
    pub app_id: String,
    /// `instanceId` of every event.
    pub instance_id: String,
    /// `metric` of every event.
    pub metric: String,
    /// Part of every event id, so that runs against the same server do not collide.
    pub run_id: String,
    /// The newest timestamp of the run (unix milliseconds; keep it at or before now).
    pub newest_ms: i64,
    /// Timestamps run from `newest_ms − span_ms` (first events) to `newest_ms` (last events),
    /// each jittered by up to a minute either way and clamped into that range.
    pub span_ms: i64,
    /// Seeds the values, the jitter and the choice of resent events.
    pub seed: u64,
}

/// One event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The fresh event number this event carries.
    pub fresh: u64,
    /// True when this is a resend of fresh event `fresh` (which came earlier).
    pub resend: bool,
}

/// The events of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    /// The batch number (0-based).
    pub index: u64,
    /// Its events, in order.
    pub slots: Vec<Slot>,
    /// How many of them are resends.
    pub duplicates: u64,
    /// Every batch up to and including this one must have been acknowledged before this batch
    /// is sent (`None`: no other batch is repeated).
    pub needs_acked_through: Option<u64>,
}

/// One fresh event's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Its fresh number.
    pub fresh: u64,
    /// `value`: a whole number from 1 to 100.
    pub value: u64,
    /// `timestamp`, unix milliseconds.
    pub occurred_ms: i64,
    /// `sequence`: the fresh number plus one.
    pub sequence: u64,
}

/// One `usage_events` row as Plaza's store writes it for an event of the workload (the columns
/// that vary; the floor fills in the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `event_id`.
    pub event_id: String,
    /// `value` and `original_value`: the canonical decimal text.
    pub value: String,
    /// `occurred_at`, unix milliseconds.
    pub occurred_ms: i64,
    /// `sequence`.
    pub sequence: i64,
    /// `content_hash`: lowercase hex SHA-256 of the canonical content, computed as
    /// `plaza_metering::ValidatedEvent::compute_content_hash` does.
    pub content_hash: String,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Salts that keep the hashes for different purposes independent.
const SALT_VALUE: u64 = 0x5641_4C55_4500_0001;
const SALT_JITTER: u64 = 0x4A49_5454_4552_0002;
const SALT_TARGET: u64 = 0x5441_5247_4554_0003;

impl Workload {
    /// A run with the demo's app, instance and metric, timestamps over the last three days
    /// ending a minute ago, and a run id taken from the clock.
    pub fn new(events: u64, batch: u64, duplicates: f64) -> Result<Workload> {
        if !(0.0..=0.5).contains(&duplicates) {
            bail!("--duplicates must be a fraction from 0 to 0.5, not {duplicates}");
        }
        let now = Utc::now().timestamp_millis();
        let workload = Workload {
            events,
            batch,
            duplicate_ppm: (duplicates * 1_000_000.0).round() as u64,
            resend_lag: DEFAULT_RESEND_LAG,
            app_id: DEFAULT_APP.to_owned(),
            instance_id: DEFAULT_INSTANCE.to_owned(),
            metric: DEFAULT_METRIC.to_owned(),
            run_id: format!("{now:x}"),
            newest_ms: now - 60_000,
            span_ms: DEFAULT_SPAN_MS,
            seed: 1,
        };
        workload.check()?;
        Ok(workload)
    }

    /// Checks the parameters make sense together.
    pub fn check(&self) -> Result<()> {
        if self.events == 0 {
            bail!("--events must be at least 1");
        }
        if self.batch == 0 {
            bail!("--batch must be at least 1");
        }
        if self.duplicate_ppm > MAX_DUPLICATE_PPM {
            bail!("the duplicate fraction must be at most 0.5");
        }
        if self.resend_lag == 0 {
            bail!("--resend-lag must be at least 1 batch");
        }
        if self.span_ms < 0 {
            bail!("the timestamp span must not be negative");
        }
        for (name, text) in [
            ("app", &self.app_id),
            ("instance", &self.instance_id),
            ("metric", &self.metric),
            ("run id", &self.run_id),
        ] {
            if text.is_empty() || text.chars().any(char::is_control) {
                bail!("the {name} must be non-empty text without control characters");
            }
        }
        Ok(())
    }

    /// How many batches the run has.
    pub fn batches(&self) -> u64 {
        self.events.div_ceil(self.batch)
    }

    /// Resends among the first `n` events, for `n` at a batch boundary.
    fn resends_before(&self, n: u64) -> u64 {
        (u128::from(n) * u128::from(self.duplicate_ppm) / 1_000_000) as u64
    }

    /// Resends in the whole run.
    pub fn total_duplicates(&self) -> u64 {
        self.resends_before(self.events)
    }

    /// Fresh events before batch `j`.
    fn fresh_before_batch(&self, j: u64) -> u64 {
        let start = (j * self.batch).min(self.events);
        start - self.resends_before(start)
    }

    /// Which events batch `j` (0-based, `< batches()`) holds.
    pub fn plan(&self, j: u64) -> BatchPlan {
        let start = j * self.batch;
        let end = (start + self.batch).min(self.events);
        let len = end - start;
        let resends = self.resends_before(end) - self.resends_before(start);
        let first_fresh = start - self.resends_before(start);
        let mut next_fresh = first_fresh;
        let mut needs_acked_through = None;
        let mut slots = Vec::with_capacity(len as usize);
        for i in 0..len {
            // Spread the batch's resends evenly; slot 0 is a resend only when resends == len,
            // which the ≤ 0.5 fraction allows only for a one-event batch.
            let resend = (i + 1) * resends / len > i * resends / len;
            if !resend {
                slots.push(Slot {
                    fresh: next_fresh,
                    resend: false,
                });
                next_fresh += 1;
                continue;
            }
            let r = mix(self.seed ^ mix((start + i) ^ SALT_TARGET));
            let fresh = if j >= self.resend_lag {
                let through = j - self.resend_lag;
                needs_acked_through = Some(through);
                r % self.fresh_before_batch(through + 1)
            } else if next_fresh > first_fresh {
                first_fresh + r % (next_fresh - first_fresh)
            } else {
                // A one-event batch that is a resend, early in the run: repeat an earlier
                // batch's event, and wait for every earlier batch to be acknowledged.
                needs_acked_through = Some(j - 1);
                r % first_fresh
            };
            slots.push(Slot {
                fresh,
                resend: true,
            });
        }
        BatchPlan {
            index: j,
            slots,
            duplicates: resends,
            needs_acked_through,
        }
    }

    /// The content of fresh event `k`.
    pub fn event(&self, k: u64) -> Event {
        let oldest = self.newest_ms - self.span_ms;
        let along = (i128::from(self.span_ms) * i128::from(k) / i128::from(self.events)) as i64;
        let jitter = (mix(self.seed ^ mix(k ^ SALT_JITTER)) % 120_001) as i64 - 60_000;
        Event {
            fresh: k,
            value: 1 + mix(self.seed ^ mix(k ^ SALT_VALUE)) % 100,
            occurred_ms: (oldest + along + jitter).clamp(oldest, self.newest_ms),
            sequence: k + 1,
        }
    }

    /// The `eventId` of fresh event `k`.
    pub fn event_id(&self, k: u64) -> String {
        format!("evt-{}-{k:010}", self.run_id)
    }

    /// The JSON text of fresh event `k` as the client sends it.
    fn write_event(&self, k: u64, quoted: &Quoted, out: &mut Vec<u8>) {
        let e = self.event(k);
        let ts = timestamp(e.occurred_ms);
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{{\"eventId\":\"evt-{}-{k:010}\",\"appId\":{},\"instanceId\":{},\"metric\":{},\
             \"value\":{},\"timestamp\":\"{}\",\"sequence\":{}}}",
            quoted.run_id,
            quoted.app,
            quoted.instance,
            quoted.metric,
            e.value,
            ts.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            e.sequence,
        );
    }

    /// Writes the request body of `plan` (a JSON array of its events) into `out`, replacing
    /// what it held.
    pub fn write_body(&self, plan: &BatchPlan, out: &mut Vec<u8>) {
        let quoted = Quoted::of(self);
        out.clear();
        out.push(b'[');
        for (i, slot) in plan.slots.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write_event(slot.fresh, &quoted, out);
        }
        out.push(b']');
    }

    /// The row Plaza's store writes for fresh event `k` when `unit` is the metric's declared
    /// unit (the events carry no unit of their own, so no conversion happens).
    pub fn row(&self, k: u64, unit: &str) -> Row {
        let e = self.event(k);
        let event_id = self.event_id(k);
        let value = e.value.to_string();
        let empty: BTreeMap<String, String> = BTreeMap::new();
        let content = (
            "plaza.usage.v1",
            &self.app_id,
            &self.instance_id,
            &event_id,
            "usage",
            &self.metric,
            &value,
            unit,
            timestamp(e.occurred_ms).to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Some(e.sequence),
            None::<String>,
            &empty,
            &empty,
        );
        let bytes = serde_json::to_vec(&content).unwrap_or_default();
        Row {
            event_id,
            value,
            occurred_ms: e.occurred_ms,
            sequence: e.sequence as i64,
            content_hash: hex::encode(Sha256::digest(&bytes)),
        }
    }
}

/// An instant from unix milliseconds (the run's timestamps are all in chrono's range).
fn timestamp(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The run's constant strings, JSON-escaped once per body.
struct Quoted {
    app: String,
    instance: String,
    metric: String,
    /// Escaped but without the quotes: it sits inside the event id.
    run_id: String,
}

impl Quoted {
    fn of(w: &Workload) -> Quoted {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let run = quote(&w.run_id);
        Quoted {
            app: quote(&w.app_id),
            instance: quote(&w.instance_id),
            metric: quote(&w.metric),
            run_id: run[1..run.len() - 1].to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::HashMap;

    fn workload(events: u64, batch: u64, duplicates: f64) -> Workload {
        let mut w = Workload::new(events, batch, duplicates).unwrap();
        w.run_id = "test".into();
        w.newest_ms = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        w.resend_lag = 4;
        w
    }

    /// Every event of the run, as sent, with its batch and whether it is a resend.
    fn sent(w: &Workload) -> Vec<(u64, bool, Value)> {
        let mut out = Vec::new();
        let mut body = Vec::new();
        for j in 0..w.batches() {
            let plan = w.plan(j);
            w.write_body(&plan, &mut body);
            let events: Vec<Value> = serde_json::from_slice(&body).unwrap();
            assert_eq!(events.len(), plan.slots.len());
            for (slot, event) in plan.slots.iter().zip(events) {
                out.push((j, slot.resend, event));
            }
        }
        out
    }

    #[test]
    fn the_duplicate_fraction_is_exact() {
        let w = workload(100_000, 1_000, 0.05);
        let mut resends = 0;
        for j in 0..w.batches() {
            let plan = w.plan(j);
            assert_eq!(plan.slots.len(), 1_000);
            let counted = plan.slots.iter().filter(|s| s.resend).count() as u64;
            assert_eq!(counted, plan.duplicates);
            assert_eq!(plan.duplicates, 50, "batch {j}");
            assert!(!plan.slots[0].resend);
            resends += counted;
        }
        assert_eq!(resends, 5_000);
        assert_eq!(w.total_duplicates(), 5_000);

        // Uneven sizes still add up: floor(n × fraction) overall.
        let w = workload(12_345, 1_000, 0.05);
        let total: u64 = (0..w.batches()).map(|j| w.plan(j).duplicates).sum();
        assert_eq!(total, 617);
        assert_eq!(w.plan(12).slots.len(), 345);
    }

    #[test]
    fn resends_repeat_an_earlier_acknowledged_event_exactly() {
        for (events, batch, duplicates) in [(20_000, 500, 0.05), (300, 1, 0.5), (999, 7, 0.3)] {
            let w = workload(events, batch, duplicates);
            let mut first_seen: HashMap<String, (u64, Value)> = HashMap::new();
            let mut resends = 0;
            for (j, resend, event) in sent(&w) {
                let id = event["eventId"].as_str().unwrap().to_owned();
                match first_seen.get(&id) {
                    None => {
                        assert!(!resend, "{id} is a resend but was never sent before");
                        first_seen.insert(id, (j, event));
                    }
                    Some((original_batch, original)) => {
                        assert!(resend, "{id} is fresh but was sent before");
                        assert_eq!(&event, original, "a resend must repeat its content");
                        // The original is in this batch, or in one that must be acknowledged
                        // before this one is sent.
                        if *original_batch != j {
                            let through = w.plan(j).needs_acked_through.unwrap();
                            assert!(*original_batch <= through, "batch {j} repeats {id}");
                        }
                        resends += 1;
                    }
                }
            }
            assert_eq!(resends, w.total_duplicates());
            // Fresh events are numbered 0, 1, 2, … without gaps.
            assert_eq!(first_seen.len() as u64, events - w.total_duplicates());
            assert_eq!(first_seen.len() as u64, w.fresh_before_batch(w.batches()));
        }
    }

    #[test]
    fn events_look_like_the_seed_event_and_are_never_in_the_future() {
        let w = workload(5_000, 1_000, 0.05);
        for (_, _, event) in sent(&w) {
            let object = event.as_object().unwrap();
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "eventId",
                    "appId",
                    "instanceId",
                    "metric",
                    "value",
                    "timestamp",
                    "sequence"
                ]
            );
            assert_eq!(event["appId"], DEFAULT_APP);
            assert_eq!(event["instanceId"], DEFAULT_INSTANCE);
            assert_eq!(event["metric"], DEFAULT_METRIC);
            let value = event["value"].as_u64().unwrap();
            assert!((1..=100).contains(&value));
            let ts = DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap()).unwrap();
            let ms = ts.timestamp_millis();
            assert!(ms <= w.newest_ms && ms >= w.newest_ms - w.span_ms, "{ts}");
        }
    }

    #[test]
    fn rows_match_what_plaza_validates_and_stores() {
        let w = workload(2_000, 1_000, 0.05);
        let now = timestamp(w.newest_ms + 60_000);
        let cx =
            plaza_metering::MeteringContext::new(now).with_metric(DEFAULT_METRIC, DEFAULT_UNIT);
        let mut body = Vec::new();
        for j in 0..w.batches() {
            let plan = w.plan(j);
            w.write_body(&plan, &mut body);
            let decoded = plaza_metering::parse(
                &body,
                "application/json",
                &plaza_metering::ParseOptions::default(),
            )
            .unwrap();
            for (slot, raw) in plan.slots.iter().zip(decoded) {
                let validated = plaza_metering::validate(&raw.unwrap(), &cx).unwrap();
                let row = w.row(slot.fresh, DEFAULT_UNIT);
                assert_eq!(row.event_id, validated.event_id);
                assert_eq!(row.value, validated.value.to_string());
                assert_eq!(row.value, validated.original_value.to_string());
                assert_eq!(row.occurred_ms, validated.timestamp.timestamp_millis());
                assert_eq!(Some(row.sequence as u64), validated.sequence);
                assert_eq!(row.content_hash, validated.content_hash);
            }
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Workload::new(0, 1, 0.0).is_err());
        assert!(Workload::new(1, 0, 0.0).is_err());
        assert!(Workload::new(10, 1, 0.6).is_err());
        assert!(Workload::new(10, 1, -0.1).is_err());
    }
}
