//! The scale-out metering mode end to end, as real processes: `plaza serve --metering-bus`
//! (embedded consumer off) takes usage over HTTP and appends it to NATS JetStream; a
//! `plaza consume-usage` process is SIGKILLed while it works through the backlog; two more
//! finish the work side by side. The stored count and exact sum must equal what the server
//! answered `accepted`: nothing lost, nothing twice.
//!
//! Needs NATS with JetStream on `PLAZA_TEST_NATS_URL` (default `nats://127.0.0.1:4222`) and
//! PostgreSQL on `PLAZA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! `scripts/test` starts both when stopped. The test uses its own database and stream.

use crate::support::plaza;
use sqlx::Connection;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const APP: &str = "com.example.where2eat";
const TOKEN: &str = "plz_demo-bus-test-token-0123456789";
const EVENTS: usize = 12_000;
const PER_REQUEST: usize = 1000;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nats_url() -> String {
    std::env::var("PLAZA_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The test database's URL, and the URL of the maintenance database beside it.
fn database_urls(name: &str) -> (String, String) {
    let base = std::env::var("PLAZA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (server, _) = base
        .rsplit_once('/')
        .expect("a postgres URL with a database");
    (format!("{server}/{name}"), base)
}

/// Starts a `plaza` process with the bus settings and waits for its line starting `ready`.
fn start(dir: &Path, args: &[&str], stream: &str, ready: &str, log: &str) -> (Proc, String) {
    start_with(dir, args, stream, ready, log, false)
}

/// [`start`], with or without the consumer a server runs in-process.
fn start_with(
    dir: &Path,
    args: &[&str],
    stream: &str,
    ready: &str,
    log: &str,
    embedded_consumer: bool,
) -> (Proc, String) {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let mut child = plaza()
        .args(args)
        .env("PLAZA_METERING_STREAM", stream)
        .env(
            "PLAZA_METERING_EMBEDDED_CONSUMER",
            embedded_consumer.to_string(),
        )
        .env("PLAZA_METERING_ACK_WAIT_SECS", "3")
        .env("PLAZA_DEMO_TOKEN", TOKEN)
        .env("PLAZA_LOG", "info,sqlx=warn,async_nats=warn")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let mut said = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix(ready) {
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return (proc, rest.trim().to_owned());
        }
        said.push(line);
    }
    panic!("{args:?} never printed `{ready}`; it said: {said:?}");
}

async fn stored(url: &str) -> (i64, String) {
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_as::<_, (i64, String)>(
        "SELECT COUNT(*), COALESCE(SUM(value::numeric), 0)::text FROM usage_events WHERE app_id = $1",
    )
    .bind(APP)
    .fetch_one(&mut db)
    .await
    .unwrap()
}

/// A test's own PostgreSQL database and JetStream stream, dropped with it.
struct BusWorld {
    tag: String,
    db_url: String,
    admin_url: String,
    stream: String,
    nats: String,
}

impl BusWorld {
    fn new(stream_prefix: &str, rt: &tokio::runtime::Runtime) -> BusWorld {
        let tag = format!("{:x}", rand::random::<u64>());
        let (db_url, admin_url) = database_urls(&format!("plaza_bus_{tag}"));
        rt.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE plaza_bus_{tag}"))
                .execute(&mut admin)
                .await
                .unwrap();
        });
        BusWorld {
            stream: format!("{stream_prefix}_{tag}"),
            tag,
            db_url,
            admin_url,
            nats: nats_url(),
        }
    }

    /// `plaza serve --demo` on this world's database and bus.
    fn serve_args(&self) -> Vec<&str> {
        vec![
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "data",
            "--database",
            &self.db_url,
            "--metering-bus",
            &self.nats,
        ]
    }
}

impl Drop for BusWorld {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        rt.block_on(async {
            if let Ok(client) = async_nats::connect(&self.nats).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&self.stream)
                    .await;
            }
            if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
                let _ = sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS plaza_bus_{} WITH (FORCE)",
                    self.tag
                ))
                .execute(&mut admin)
                .await;
            }
        });
    }
}

#[test]
fn usage_bus_consumer_sigkilled_mid_batch_loses_nothing_and_counts_nothing_twice() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = BusWorld::new("T_CLI", &rt);
    let (db_url, stream, nats) = (&world.db_url, &world.stream, &world.nats);
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = start(
        dir.path(),
        &world.serve_args(),
        stream,
        "Plaza listening on ",
        "server.log",
    );

    // Every event answered `accepted` by the server, which now only writes to JetStream.
    rt.block_on(async {
        let http = reqwest::Client::new();
        for start in (0..EVENTS).step_by(PER_REQUEST) {
            let body: Vec<String> = (start..start + PER_REQUEST)
                .map(|i| format!(
                    r#"{{"eventId":"bus-{i}","appId":"{APP}","instanceId":"inst-9a3f","metric":"api_calls","value":{i},"timestamp":"2026-03-01T00:00:00Z"}}"#
                ))
                .collect();
            let report: serde_json::Value = http
                .post(format!("{base}/api/usage/events"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(format!("[{}]", body.join(",")))
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(report["accepted"], PER_REQUEST, "{report}");
        }
    });
    assert_eq!(
        rt.block_on(stored(db_url)).0,
        0,
        "the server wrote to the store itself"
    );

    let consume = [
        "consume-usage",
        "--data",
        "data",
        "--database",
        db_url,
        "--metering-bus",
        nats,
        "--batch",
        "500",
    ];
    let (mut first, _) = start(dir.path(), &consume, stream, "Consuming usage", "c1.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (n, _) = rt.block_on(stored(db_url));
        if n >= 1000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first consumer stored nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    first.0.kill().unwrap(); // SIGKILL, mid-backlog and most likely mid-batch
    first.0.wait().unwrap();
    let (at_kill, _) = rt.block_on(stored(db_url));
    assert!(
        (at_kill as usize) < EVENTS,
        "the consumer finished before the kill; nothing was tested"
    );

    let (_second, _) = start(dir.path(), &consume, stream, "Consuming usage", "c2.log");
    let (_third, _) = start(dir.path(), &consume, stream, "Consuming usage", "c3.log");
    let expected_sum = (EVENTS * (EVENTS - 1) / 2).to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (n, _) = rt.block_on(stored(db_url));
        if n as usize >= EVENTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of {EVENTS} events stored after the restart"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Past another ack wait, redeliveries have all been seen: still exact.
    std::thread::sleep(Duration::from_secs(4));
    let (n, sum) = rt.block_on(stored(db_url));
    assert_eq!(n as usize, EVENTS);
    assert_eq!(sum, expected_sum);
    eprintln!("usage bus test: consumer SIGKILLed with {at_kill} of {EVENTS} events stored; the rest stored exactly once by two more");

    drop(server);
    drop(_second);
    drop(_third);
}

#[test]
fn a_server_with_a_bus_counts_usage_through_its_own_consumer() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = BusWorld::new("T_EMB", &rt);
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = start_with(
        dir.path(),
        &world.serve_args(),
        &world.stream,
        "Plaza listening on ",
        "server.log",
        true,
    );
    let counted = rt.block_on(async {
        let http = reqwest::Client::new();
        let body: Vec<String> = (0..300)
            .map(|i| format!(
                r#"{{"eventId":"emb-{i}","appId":"{APP}","instanceId":"inst-9a3f","metric":"api_calls","value":{i}.5,"timestamp":"2026-03-01T00:00:00Z"}}"#
            ))
            .collect();
        let report: serde_json::Value = http
            .post(format!("{base}/api/usage/events"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(format!("[{}]", body.join(",")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report["accepted"], 300, "{report}");
        // The server's own consumer writes them; the query API sees them once it has.
        let query = format!(
            "{base}/api/usage/query?metric=api_calls&granularity=month&from=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let answer: serde_json::Value = http
                .get(&query)
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let row = &answer["rows"][0];
            if row["events"] == 300 || std::time::Instant::now() > deadline {
                break (row["events"].clone(), row["value"].clone());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // 0.5 + 1.5 + … + 299.5
    assert_eq!(
        counted,
        (serde_json::json!(300), serde_json::json!("45000"))
    );
    drop(server);
}
