//! Crash safety of usage ingest (issue 7): this test process is the client. It drives sustained
//! ingest into a `plaza serve --demo` child from several concurrent tasks, SIGKILLs the server
//! while requests are in flight (at random moments, and just after it is seen to commit a batch
//! whose answer has not arrived yet), restarts it on the same data directory, retries
//! every batch whose answer it did not get (or that was not a 2xx) until one is acknowledged,
//! and resends some acknowledged batches on purpose. At the end the stored count and exact sum
//! must equal the distinct events sent: nothing acknowledged is lost, nothing is counted twice.
//!
//! `USAGE_CRASH_SEED=N` changes the random choices (kill delays, values, resends); timing varies.

use crate::support::plaza;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP: &str = "com.example.where2eat";
/// The instance `serve --demo` installs for the app.
const INSTANCE: &str = "inst-9a3f";
const METRIC: &str = "api_calls";
/// Events per batch (one request).
const BATCH: usize = 200;
/// Concurrent client tasks, so kills land while several requests are in flight.
const WORKERS: usize = 3;
/// SIGKILLs per run.
const KILLS: usize = 8;
/// One batch in this many is a deliberate resend of an acknowledged batch.
const RESEND_ONE_IN: u32 = 8;
/// The whole run gives up (and fails) after this long rather than hang.
const GIVE_UP: Duration = Duration::from_secs(90);

/// One request's worth of events, sent byte for byte the same on every retry.
struct Batch {
    number: usize,
    body: String,
    events: u64,
}

/// Why a batch is being sent.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Its first delivery: the events are new.
    Fresh,
    /// A deliberate resend of a batch that was acknowledged before.
    Resend,
}

#[derive(Default)]
struct Tally {
    next_batch: usize,
    /// Acknowledged fresh batches, for deliberate resends.
    acked: Vec<Arc<Batch>>,
    /// Distinct events generated, and the exact sum of their values in thousandths.
    events: u64,
    sum_milli: u128,
    fresh_batches: usize,
    resends: usize,
    failed_attempts: usize,
    /// Batches acknowledged only after at least one unknown outcome.
    retried: usize,
    /// Of those, fresh batches whose earlier attempt had in fact committed (all `duplicate`)…
    retried_committed: usize,
    /// …and those whose earlier attempt had not (all `accepted`).
    retried_uncommitted: usize,
    errors: Vec<String>,
}

struct Shared {
    /// The live server's base URL; `None` while it is down.
    base: Mutex<Option<String>>,
    tally: Mutex<Tally>,
    /// No new batches once set; batches already started are still delivered.
    stop: AtomicBool,
    in_flight: AtomicUsize,
    /// Fresh batches whose first attempt is in flight, for kills aimed just after a commit.
    first_attempts: Mutex<BTreeSet<usize>>,
    token: String,
    started: Instant,
}

impl Shared {
    fn fail(&self, message: String) {
        self.tally.lock().unwrap().errors.push(message);
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The server child; SIGKILLed on drop so a failing test leaves no process behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --demo` on a free port over `dir/data`, its log appended to `dir/server.log`.
/// The token is this run's own, so a request that reached another test's demo server (were it
/// to take over a killed server's port) would be refused, not counted there.
fn start(dir: &Path, token: &str) -> (Server, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let mut child = plaza()
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "data",
        ])
        .env("PLAZA_DEMO_TOKEN", token)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut said = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(url) = line.strip_prefix("Plaza listening on ") {
            return (server, url.trim().to_owned());
        }
        said.push(line);
    }
    panic!(
        "the server printed no address; it said: {said:?}\n{}",
        log_tail(dir)
    );
}

fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    format!(
        "server log (last lines):\n{}",
        lines[lines.len().saturating_sub(30)..].join("\n")
    )
}

/// `thousandths` / 1000 as canonical decimal text (no trailing fractional zeros).
fn decimal(thousandths: u128) -> String {
    let (int, frac) = (thousandths / 1000, thousandths % 1000);
    if frac == 0 {
        return int.to_string();
    }
    format!("{int}.{frac:03}").trim_end_matches('0').to_owned()
}

/// Timestamps start here: inside the demo's late-arrival window, in the past.
fn first_instant() -> chrono::DateTime<chrono::Utc> {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

fn new_batch(shared: &Shared, rng: &mut StdRng) -> Arc<Batch> {
    let mut tally = shared.tally.lock().unwrap();
    let number = tally.next_batch;
    tally.next_batch += 1;
    let mut sum_milli = 0u128;
    let mut events = Vec::with_capacity(BATCH);
    for i in 0..BATCH {
        // Whole values and values with one to three decimals, up to 5000.
        let milli: u64 = match rng.gen_range(0..4) {
            0 => rng.gen_range(0..=5000) * 1000,
            _ => rng.gen_range(0..=5_000_000),
        };
        sum_milli += u128::from(milli);
        let at = first_instant() + chrono::TimeDelta::seconds((number * BATCH + i) as i64);
        events.push(format!(
            r#"{{"eventId":"crash-{number}-{i}","appId":"{APP}","instanceId":"{INSTANCE}","metric":"{METRIC}","value":{},"timestamp":"{}"}}"#,
            decimal(u128::from(milli)),
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ));
    }
    tally.events += BATCH as u64;
    tally.sum_milli += sum_milli;
    tally.fresh_batches += 1;
    Arc::new(Batch {
        number,
        body: format!("[{}]", events.join(",")),
        events: BATCH as u64,
    })
}

/// Posts `batch` until a 2xx answer is read in full; returns the report and how many attempts
/// failed first (connection refused or reset, timeout, a non-2xx status, an unreadable body).
async fn deliver(
    shared: &Shared,
    http: &reqwest::Client,
    batch: &Batch,
    kind: Kind,
) -> Result<(serde_json::Value, usize), String> {
    let mut failed = 0;
    let mut last = String::from("never sent");
    loop {
        if shared.started.elapsed() > GIVE_UP {
            return Err(format!(
                "batch {} not acknowledged after {failed} failed attempts; last: {last}",
                batch.number
            ));
        }
        let base = shared.base.lock().unwrap().clone();
        let Some(base) = base else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let first = kind == Kind::Fresh && failed == 0;
        if first {
            shared.first_attempts.lock().unwrap().insert(batch.number);
        }
        let answer = async {
            let response = http
                .post(format!("{base}/api/usage/events"))
                .bearer_auth(&shared.token)
                .header("content-type", "application/json")
                .body(batch.body.clone())
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| format!("{e:?}"))?;
            if !status.is_success() {
                return Err(format!("{status}: {text}"));
            }
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("{e}: {text}"))
        }
        .await;
        if first {
            shared.first_attempts.lock().unwrap().remove(&batch.number);
        }
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        match answer {
            Ok(report) => return Ok((report, failed)),
            Err(why) => {
                failed += 1;
                last = why;
                shared.tally.lock().unwrap().failed_attempts += 1;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    }
}

/// Every event's status in `report`, checked against the batch's size and the summary counts.
fn statuses<'r>(batch: &Batch, report: &'r serde_json::Value) -> Result<Vec<&'r str>, String> {
    let events = report["events"]
        .as_array()
        .ok_or_else(|| format!("batch {}: no `events` in {report}", batch.number))?;
    if events.len() as u64 != batch.events {
        return Err(format!(
            "batch {}: {} statuses for {} events",
            batch.number,
            events.len(),
            batch.events
        ));
    }
    let all: Vec<&str> = events
        .iter()
        .map(|e| e["status"].as_str().unwrap_or("?"))
        .collect();
    for (key, status) in [
        ("accepted", "accepted"),
        ("duplicates", "duplicate"),
        ("conflicts", "conflict"),
        ("rejected", "rejected"),
    ] {
        let n = all.iter().filter(|s| **s == status).count() as u64;
        if report[key].as_u64() != Some(n) {
            return Err(format!(
                "batch {}: `{key}` is {} but {n} events say {status}",
                batch.number, report[key]
            ));
        }
    }
    Ok(all)
}

/// What a batch's acknowledged answer must say, given why it was sent and whether an earlier
/// attempt's outcome is unknown. Returns whether the events were counted by this answer.
fn check(
    batch: &Batch,
    kind: Kind,
    retried: bool,
    report: &serde_json::Value,
) -> Result<bool, String> {
    let all = statuses(batch, report)?;
    let uniform = |s: &str| all.iter().all(|x| *x == s);
    let problem = |expected: &str| {
        let odd = report["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e.get("problems").is_some()));
        format!(
            "batch {} ({}, {}): expected {expected}; got {} accepted, {} duplicates, {} \
             conflicts, {} rejected; e.g. {odd:?}",
            batch.number,
            if kind == Kind::Fresh {
                "fresh"
            } else {
                "deliberate resend"
            },
            if retried {
                "retried after an unknown outcome"
            } else {
                "first attempt"
            },
            report["accepted"],
            report["duplicates"],
            report["conflicts"],
            report["rejected"],
        )
    };
    match (kind, retried) {
        (Kind::Fresh, false) if uniform("accepted") => Ok(true),
        (Kind::Fresh, false) => Err(problem("accepted")),
        // Acknowledged before, so committed: anything but `duplicate` would mean it was lost.
        (Kind::Resend, _) if uniform("duplicate") => Ok(false),
        (Kind::Resend, _) => Err(problem("duplicate")),
        // One transaction per request: the lost attempt committed all of it or none of it.
        (Kind::Fresh, true) if uniform("accepted") => Ok(true),
        (Kind::Fresh, true) if uniform("duplicate") => Ok(false),
        (Kind::Fresh, true) => Err(problem("accepted (all) or duplicate (all)")),
    }
}

async fn worker(shared: Arc<Shared>, seed: u64) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    while !shared.stop.load(Ordering::SeqCst) {
        let resend = if rng.gen_ratio(1, RESEND_ONE_IN) {
            let tally = shared.tally.lock().unwrap();
            (!tally.acked.is_empty())
                .then(|| tally.acked[rng.gen_range(0..tally.acked.len())].clone())
        } else {
            None
        };
        let (batch, kind) = match resend {
            Some(b) => (b, Kind::Resend),
            None => (new_batch(&shared, &mut rng), Kind::Fresh),
        };
        let (report, failed) = match deliver(&shared, &http, &batch, kind).await {
            Ok(r) => r,
            Err(why) => return shared.fail(why),
        };
        let counted_now = match check(&batch, kind, failed > 0, &report) {
            Ok(c) => c,
            Err(why) => return shared.fail(why),
        };
        let mut tally = shared.tally.lock().unwrap();
        if kind == Kind::Resend {
            tally.resends += 1;
        }
        if failed > 0 {
            tally.retried += 1;
            if kind == Kind::Fresh {
                if counted_now {
                    tally.retried_uncommitted += 1;
                } else {
                    tally.retried_committed += 1;
                }
            }
        }
        if kind == Kind::Fresh {
            tally.acked.push(batch);
        }
    }
}

/// Polls the database (read-only, beside the server) until a fresh batch whose first attempt
/// is still in flight is committed; gives up after two seconds, or on any database error (the
/// kill then lands wherever it lands). Says whether it saw one.
async fn wait_for_a_commit(shared: &Shared, db: &Path) -> bool {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&url).await else {
        return false;
    };
    let give_up = Instant::now() + Duration::from_secs(2);
    let mut seen = false;
    'poll: while Instant::now() < give_up {
        let pending: Vec<usize> = shared
            .first_attempts
            .lock()
            .unwrap()
            .iter()
            .copied()
            .collect();
        if pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for n in pending {
            let committed: Result<(i64,), _> = sqlx::query_as(
                "SELECT COUNT(*) FROM usage_events WHERE org_id = \
                 (SELECT id FROM orgs WHERE slug = 'demo') AND app_id = $1 AND event_id = $2",
            )
            .bind(APP)
            .bind(format!("crash-{n}-{}", BATCH - 1))
            .fetch_one(&mut conn)
            .await;
            match committed {
                Err(_) => break 'poll,
                Ok((0,)) => {}
                Ok(_) if shared.first_attempts.lock().unwrap().contains(&n) => {
                    seen = true;
                    break 'poll;
                }
                Ok(_) => {}
            }
        }
    }
    let _ = conn.close().await;
    seen
}

#[test]
fn usage_crash_sigkilled_server_loses_nothing_acknowledged_and_counts_nothing_twice() {
    let seed: u64 = std::env::var("USAGE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7eed_2026_1130);
    let dir = tempfile::tempdir().unwrap();
    let dir_path: PathBuf = dir.path().to_owned();
    let shared = Arc::new(Shared {
        base: Mutex::new(None),
        tally: Mutex::new(Tally::default()),
        stop: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        first_attempts: Mutex::new(BTreeSet::new()),
        token: format!("plz_usage-crash-{seed:016x}-{:08x}", std::process::id()),
        started: Instant::now(),
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut kills, mut kills_mid_request, mut kills_after_commit) = (0, 0, 0);
    let db = dir_path.join("data/plaza.db");
    let mut server = rt.block_on(async {
        let launch =
            |dir: PathBuf, token: String| tokio::task::spawn_blocking(move || start(&dir, &token));
        let (mut server, base) = launch(dir_path.clone(), shared.token.clone())
            .await
            .unwrap();
        *shared.base.lock().unwrap() = Some(base);
        let workers: Vec<_> = (0..WORKERS)
            .map(|i| tokio::spawn(worker(shared.clone(), seed.wrapping_add(1 + i as u64))))
            .collect();
        for k in 0..KILLS {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1200))).await;
            if k % 2 == 1 {
                // Aimed: kill as soon as a batch's first attempt is seen committed, which is
                // usually before its answer reaches the client.
                kills_after_commit += usize::from(wait_for_a_commit(&shared, &db).await);
            } else {
                // Anywhere: kill while the client waits on an answer, not between requests.
                let wait_until = Instant::now() + Duration::from_secs(2);
                while shared.in_flight.load(Ordering::SeqCst) == 0 && Instant::now() < wait_until {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            if shared.in_flight.load(Ordering::SeqCst) > 0 {
                kills_mid_request += 1;
            }
            *shared.base.lock().unwrap() = None;
            server.0.kill().unwrap(); // SIGKILL
            server.0.wait().unwrap();
            kills += 1;
            // Down for a moment: the clients hold their unanswered batches until it is back.
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..300))).await;
            let (restarted, base) = launch(dir_path.clone(), shared.token.clone())
                .await
                .unwrap();
            server = restarted;
            *shared.base.lock().unwrap() = Some(base);
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        // Some traffic after the last restart, then drain: every started batch is acknowledged.
        tokio::time::sleep(Duration::from_millis(rng.gen_range(500..1000))).await;
        shared.stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.await.unwrap();
        }
        server
    });
    crate::serve::stop(&mut server.0);

    let tally = shared.tally.lock().unwrap();
    assert!(
        tally.errors.is_empty(),
        "{}\n{}",
        tally.errors.join("\n"),
        log_tail(&dir_path)
    );
    let (sum, count, dead_letters) = rt.block_on(async {
        let store = plaza_store::connect(&plaza_store::sqlite_url_for_data_dir(
            &dir_path.join("data"),
        ))
        .await
        .unwrap();
        let org = store.find_org_by_slug("demo").await.unwrap().unwrap();
        let (sum, count) = store
            .usage_total(
                &org.id,
                APP,
                METRIC,
                first_instant(),
                first_instant() + chrono::TimeDelta::days(30),
            )
            .await
            .unwrap();
        let dead = store
            .list_dead_letters(&org.id, 10, false)
            .await
            .unwrap()
            .len();
        (sum, count, dead)
    });
    eprintln!(
        "usage crash test (seed {seed}): {kills} SIGKILLs ({kills_mid_request} with requests in \
         flight, {kills_after_commit} aimed just after a commit), {} fresh batches of {BATCH} events ({} events), {} deliberate resends, {} \
         failed attempts, {} batches retried after an unknown outcome ({} had committed before \
         the kill, {} had not), {:.1} s",
        tally.fresh_batches,
        tally.events,
        tally.resends,
        tally.failed_attempts,
        tally.retried,
        tally.retried_committed,
        tally.retried_uncommitted,
        shared.started.elapsed().as_secs_f64(),
    );
    assert_eq!(count, tally.events, "stored events vs distinct events sent");
    assert_eq!(
        sum,
        decimal(tally.sum_milli),
        "stored sum vs exact sum of the distinct events sent"
    );
    assert_eq!(dead_letters, 0, "no event was rejected");
    assert!(
        tally.failed_attempts > 0,
        "no request ever failed: the kills tested nothing"
    );
}
