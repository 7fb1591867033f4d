//! `usage-load`: drives Plaza's usage ingest (`POST /api/usage/events`) over HTTP from a
//! process of its own, and reports the sustained rate and the acknowledgement latency.
//!
//! A producer thread writes the request bodies (JSON arrays of events, see
//! `plaza_loadgen::workload`) a few batches ahead; the sender keeps `--concurrency` requests in
//! flight over keep-alive connections and checks every answer: each event must be `accepted`
//! or, for the resends, `duplicate`, in exactly the numbers sent — anything else (a rejected or
//! conflicting event, a non-200 status, a miscount) stops the run with a non-zero exit.
//!
//! Progress goes to stderr every few seconds; the last line on stdout is one JSON object:
//! `{"tool":"usage-load","events":…,"seconds":…,"events_per_s":…,"p50_ms":…,"p99_ms":…,…}`.
//! The rate is the events divided by the time from the first request sent to the last answer
//! received; latency is per request, from sending it to having read the whole answer.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use plaza_loadgen::stats::{percentile_ms, round3, Progress};
use plaza_loadgen::workload::{self, Workload};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Drive POST /api/usage/events with batches of generated events and report events/s and
/// p50/p99 acknowledgement latency.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The server's base URL, e.g. http://127.0.0.1:18181
    #[arg(long)]
    url: String,
    /// Bearer token of a user of the org the app is registered in
    #[arg(long, env = "PLAZA_TOKEN", hide_env_values = true)]
    token: String,
    /// Events to send, resends included
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Events per request
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Fraction of the events that are exact resends of earlier ones (0 to 0.5)
    #[arg(long, default_value_t = 0.05)]
    duplicates: f64,
    /// Requests in flight at once
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// appId of the events (registered in the org)
    #[arg(long, default_value = workload::DEFAULT_APP)]
    app: String,
    /// instanceId of the events
    #[arg(long, default_value = workload::DEFAULT_INSTANCE)]
    instance: String,
    /// metric of the events (declared by the app)
    #[arg(long, default_value = workload::DEFAULT_METRIC)]
    metric: String,
    /// Part of every event id; defaults to the current time in hex, so runs do not collide
    #[arg(long)]
    run_id: Option<String>,
    /// A resend repeats an event at least this many batches back (later than the first
    /// batches), so the original has been acknowledged
    #[arg(long, default_value_t = workload::DEFAULT_RESEND_LAG)]
    resend_lag: u64,
    /// Seed of the values, timestamps' jitter and resent events
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds between progress lines on stderr
    #[arg(long, default_value_t = 5)]
    progress_secs: u64,
    /// Seconds a request may take before the run fails
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// The server queues events (scale-out mode, `--metering-bus`): a resend older than the
    /// bus's dedup window may be answered `accepted` (consumers drop it later against the
    /// store), so a resend may count as accepted; everything else is checked as usual
    #[arg(long)]
    queued: bool,
}

/// The counts of an ingest answer (the per-event list is only read when they are wrong).
#[derive(Debug, Deserialize)]
struct Counts {
    accepted: u64,
    duplicates: u64,
    conflicts: u64,
    rejected: u64,
}

/// A batch ready to send.
struct Prepared {
    index: u64,
    events: u64,
    duplicates: u64,
    needs_acked_through: Option<u64>,
    body: Vec<u8>,
}

/// A batch's answer.
struct Answered {
    index: u64,
    events: u64,
    duplicates: u64,
    latency: Duration,
    counts: Counts,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let mut w = Workload::new(args.events, args.batch, args.duplicates)?;
    w.app_id = args.app.clone();
    w.instance_id = args.instance.clone();
    w.metric = args.metric.clone();
    w.resend_lag = args.resend_lag;
    w.seed = args.seed;
    if let Some(run) = &args.run_id {
        w.run_id = run.clone();
    }
    w.check()?;
    // One thread does all the HTTP work; the producer thread writes bodies. The rest of the
    // machine is left to the server.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(args, Arc::new(w)))
}

async fn run(args: Args, w: Arc<Workload>) -> Result<()> {
    let endpoint = format!("{}/api/usage/events", args.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()?;
    let auth = format!("Bearer {}", args.token);

    // The producer stays a few batches ahead of the sender.
    let (tx, mut rx) = mpsc::channel::<Prepared>(2 * args.concurrency);
    let producer = {
        let w = Arc::clone(&w);
        std::thread::spawn(move || {
            for j in 0..w.batches() {
                let plan = w.plan(j);
                let mut body = Vec::with_capacity(plan.slots.len() * 200 + 2);
                w.write_body(&plan, &mut body);
                let prepared = Prepared {
                    index: j,
                    events: plan.slots.len() as u64,
                    duplicates: plan.duplicates,
                    needs_acked_through: plan.needs_acked_through,
                    body,
                };
                if tx.blocking_send(prepared).is_err() {
                    return; // the sender gave up
                }
            }
        })
    };

    eprintln!(
        "usage-load: {} events in {} batches of {} ({} resends) to {endpoint}, {} in flight",
        w.events,
        w.batches(),
        w.batch,
        w.total_duplicates(),
        args.concurrency
    );
    let mut in_flight: JoinSet<Result<Answered>> = JoinSet::new();
    let mut tally = Tally::new(w.events, Duration::from_secs(args.progress_secs));
    let start = Instant::now();
    while let Some(batch) = rx.recv().await {
        // Resends repeat events of earlier batches, which must have been counted first.
        if let Some(through) = batch.needs_acked_through {
            while tally.acked_prefix <= through {
                let done = in_flight.join_next().await.ok_or_else(|| {
                    anyhow!(
                        "batch {} waits for batch {through}, which was never sent",
                        batch.index
                    )
                })?;
                tally.record(done??)?;
            }
        }
        while in_flight.len() >= args.concurrency {
            if let Some(done) = in_flight.join_next().await {
                tally.record(done??)?;
            }
        }
        let request = client
            .post(&endpoint)
            .header(reqwest::header::AUTHORIZATION, &auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(batch.body);
        let queued = args.queued;
        in_flight.spawn(async move {
            let sent = Instant::now();
            let response = request
                .send()
                .await
                .with_context(|| format!("sending batch {}", batch.index))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .with_context(|| format!("reading the answer to batch {}", batch.index))?;
            let latency = sent.elapsed();
            if status != reqwest::StatusCode::OK {
                bail!(
                    "batch {} was answered {status}: {}",
                    batch.index,
                    excerpt(&body)
                );
            }
            let counts: Counts = serde_json::from_slice(&body).with_context(|| {
                format!(
                    "the answer to batch {} is not an ingest report: {}",
                    batch.index,
                    excerpt(&body)
                )
            })?;
            let duplicates_as_sent = if queued {
                counts.duplicates <= batch.duplicates
                    && counts.accepted + counts.duplicates == batch.events
            } else {
                counts.duplicates == batch.duplicates
                    && counts.accepted == batch.events - batch.duplicates
            };
            if counts.rejected != 0 || counts.conflicts != 0 || !duplicates_as_sent {
                bail!(
                    "batch {} of {} events ({} resends) was answered {counts:?}; the events \
                     neither accepted nor duplicates: {}",
                    batch.index,
                    batch.events,
                    batch.duplicates,
                    not_accepted(&body)
                );
            }
            Ok(Answered {
                index: batch.index,
                events: batch.events,
                duplicates: batch.duplicates,
                latency,
                counts,
            })
        });
    }
    while let Some(done) = in_flight.join_next().await {
        tally.record(done??)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    producer
        .join()
        .map_err(|_| anyhow!("the body producer panicked"))?;
    if tally.events != w.events {
        bail!(
            "only {} of {} events were acknowledged",
            tally.events,
            w.events
        );
    }

    let mut latencies = tally.latencies;
    latencies.sort_unstable();
    let summary = serde_json::json!({
        "tool": "usage-load",
        "events": tally.events,
        "batches": latencies.len(),
        "batch": w.batch,
        "concurrency": args.concurrency,
        "seconds": round3(seconds),
        "events_per_s": (tally.events as f64 / seconds).round(),
        "p50_ms": round3(percentile_ms(&latencies, 0.50)),
        "p99_ms": round3(percentile_ms(&latencies, 0.99)),
        "max_ms": round3(percentile_ms(&latencies, 1.0)),
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "distinct": tally.events - tally.resends,
        "run_id": w.run_id,
    });
    println!("{summary}");
    Ok(())
}

/// What has been acknowledged so far.
struct Tally {
    events: u64,
    /// Resends sent (exact repeats of earlier events).
    resends: u64,
    accepted: u64,
    duplicates: u64,
    latencies: Vec<Duration>,
    /// Every batch below this one has been acknowledged.
    acked_prefix: u64,
    /// Acknowledged batches at or above `acked_prefix`.
    acked_ahead: BTreeSet<u64>,
    progress: Progress,
}

impl Tally {
    fn new(total: u64, every: Duration) -> Tally {
        Tally {
            events: 0,
            resends: 0,
            accepted: 0,
            duplicates: 0,
            latencies: Vec::new(),
            acked_prefix: 0,
            acked_ahead: BTreeSet::new(),
            progress: Progress::new("usage-load", total, every),
        }
    }

    fn record(&mut self, a: Answered) -> Result<()> {
        self.events += a.events;
        self.resends += a.duplicates;
        self.accepted += a.counts.accepted;
        self.duplicates += a.counts.duplicates;
        self.latencies.push(a.latency);
        if !self.acked_ahead.insert(a.index) || a.index < self.acked_prefix {
            bail!("batch {} was acknowledged twice", a.index);
        }
        while self.acked_ahead.remove(&self.acked_prefix) {
            self.acked_prefix += 1;
        }
        self.progress.update(self.events);
        Ok(())
    }
}

/// The start of a body, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(2_000) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// The first few events of an ingest report that were neither accepted nor duplicates.
fn not_accepted(body: &[u8]) -> String {
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(body) else {
        return excerpt(body);
    };
    let events = report["events"].as_array().cloned().unwrap_or_default();
    let odd: Vec<String> = events
        .iter()
        .filter(|e| e["status"] != "accepted" && e["status"] != "duplicate")
        .take(5)
        .map(|e| e.to_string())
        .collect();
    if odd.is_empty() {
        "none was rejected or conflicting, but the duplicates are not the resends sent".to_owned()
    } else {
        odd.join("; ")
    }
}
