//! The scale-out metering mode against a real NATS JetStream (`PLAZA_TEST_NATS_URL`, default
//! `nats://127.0.0.1:4222`) and PostgreSQL (`PLAZA_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test has its own stream and schema.
//! `scripts/test` starts both services when they are stopped; these tests fail (never skip)
//! when a service is unreachable.

use chrono::{TimeZone, Utc};
use plaza_bus::{BusConfig, JetStreamBus, UsageConsumer};
use plaza_core::audit::AuditEntry;
use plaza_core::identity::Org;
use plaza_core::ids::OrgId;
use plaza_core::ports::{Store, UsageBus};
use plaza_core::service::Services;
use plaza_core::usage::BusOutcome;
use plaza_core::SystemClock;
use plaza_metering::{parse, validate, MeteringContext, ParseOptions, ValidatedEvent};
use std::sync::Arc;
use std::time::Duration;

const APP: &str = "com.example.where2eat";

fn nats_url() -> String {
    std::env::var("PLAZA_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn pg_url() -> String {
    std::env::var("PLAZA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn at(h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, h, 0, 0).unwrap()
}

/// The `api_calls` event `e<i>` with value `i`.
fn event(i: usize) -> ValidatedEvent {
    let body = format!(
        r#"{{"eventId":"e{i}","appId":"{APP}","instanceId":"inst-1","metric":"api_calls","value":{i},"timestamp":"{}"}}"#,
        at(1).to_rfc3339()
    );
    let raw = parse(
        body.as_bytes(),
        "application/json",
        &ParseOptions::default(),
    )
    .unwrap()
    .remove(0)
    .unwrap();
    validate(
        &raw,
        &MeteringContext::new(at(23)).with_metric("api_calls", "count"),
    )
    .unwrap()
}

/// A test's world: its schema, its stream and durable, an org.
struct World {
    schema: String,
    store: Arc<dyn Store>,
    services: Services,
    org: Org,
    config: BusConfig,
}

impl World {
    async fn new(name: &str) -> World {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let schema = format!("bus_{name}_{}", &tag[tag.len() - 12..]);
        let store = plaza_store::connect_postgres_in_schema(&pg_url(), &schema)
            .await
            .expect("PostgreSQL must answer (scripts/ensure-postgres)");
        let org = Org {
            id: OrgId::generate(),
            slug: "acme".into(),
            name: "Acme".into(),
            created_at: at(0),
        };
        store
            .create_org(
                &org,
                &AuditEntry::new(
                    at(0),
                    Some(org.id.clone()),
                    "user:tester",
                    "org.create",
                    format!("org:{}", org.id),
                    serde_json::json!({}),
                ),
            )
            .await
            .unwrap();
        let services = Services::new(store.clone(), Arc::new(SystemClock));
        let mut config = BusConfig::new(nats_url());
        config.stream = format!("T_{}_{}", name.to_uppercase(), &tag[tag.len() - 12..]);
        config.durable = "test-consumer".into();
        config.batch = 200;
        config.ack_wait = Duration::from_secs(3);
        World {
            schema,
            store,
            services,
            org,
            config,
        }
    }

    async fn total(&self) -> (String, u64) {
        self.store
            .usage_total(&self.org.id, APP, "api_calls", at(0), at(23))
            .await
            .unwrap()
    }

    /// Drops the schema and the stream.
    async fn cleanup(self) {
        let client = async_nats::connect(nats_url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let _ = js.delete_stream(&self.config.stream).await;
        let _ = plaza_store::drop_postgres_schema(&pg_url(), &self.schema).await;
    }
}

/// The sum 0 + 1 + … + (n - 1), as the store writes it.
fn sum_below(n: usize) -> String {
    (n * (n - 1) / 2).to_string()
}

/// Runs `consumer` until the store holds `n` events or `limit` passes.
async fn drain(world: &World, consumers: Vec<UsageConsumer>, n: u64, limit: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + limit;
    let mut tasks = Vec::new();
    for consumer in consumers {
        let services = world.services.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            loop {
                match consumer.run_once(&services).await {
                    Ok(r) if r.messages == 0 => return accepted,
                    Ok(r) => accepted += r.accepted,
                    Err(e) => panic!("consumer failed: {e}"),
                }
            }
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    while world.total().await.1 < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    accepted
}

#[tokio::test]
async fn two_servers_publishing_the_same_events_store_them_once() {
    let world = World::new("twice").await;
    let server_a = JetStreamBus::connect(world.config.clone()).await.unwrap();
    let server_b = JetStreamBus::connect(world.config.clone()).await.unwrap();
    let events: Vec<ValidatedEvent> = (0..500).map(event).collect();
    let a = server_a
        .publish_usage(&world.org.id, "user:a", at(2), &events)
        .await
        .unwrap();
    assert!(a.iter().all(|o| *o == BusOutcome::Stored), "{a:?}");
    // A fast retry through another server: JetStream's dedup window answers duplicate.
    let b = server_b
        .publish_usage(&world.org.id, "user:a", at(2), &events)
        .await
        .unwrap();
    assert!(b.iter().all(|o| *o == BusOutcome::Duplicate), "{b:?}");

    let consumer = UsageConsumer::connect(world.config.clone()).await.unwrap();
    let accepted = drain(&world, vec![consumer], 500, Duration::from_secs(20)).await;
    assert_eq!(accepted, 500);
    assert_eq!(world.total().await, (sum_below(500), 500));
    world.cleanup().await;
}

#[tokio::test]
async fn two_consumers_on_one_durable_count_each_event_once() {
    let world = World::new("pair").await;
    let server = JetStreamBus::connect(world.config.clone()).await.unwrap();
    let n = 3000;
    let events: Vec<ValidatedEvent> = (0..n).map(event).collect();
    // Many small requests, so the consumers' batches mix groups.
    for chunk in events.chunks(100) {
        server
            .publish_usage(&world.org.id, "user:a", Utc::now(), chunk)
            .await
            .unwrap();
    }
    let c1 = UsageConsumer::connect(world.config.clone()).await.unwrap();
    let c2 = UsageConsumer::connect(world.config.clone()).await.unwrap();
    let accepted = drain(&world, vec![c1, c2], n as u64, Duration::from_secs(30)).await;
    assert_eq!(accepted, n, "each event counted by exactly one consumer");
    assert_eq!(world.total().await, (sum_below(n), n as u64));
    world.cleanup().await;
}

#[tokio::test]
async fn a_consumer_dropped_mid_batch_loses_nothing_and_counts_nothing_twice() {
    let world = World::new("abort").await;
    let server = JetStreamBus::connect(world.config.clone()).await.unwrap();
    let n = 4000;
    let events: Vec<ValidatedEvent> = (0..n).map(event).collect();
    for chunk in events.chunks(50) {
        server
            .publish_usage(&world.org.id, "user:a", Utc::now(), chunk)
            .await
            .unwrap();
    }
    // The first consumer is cut off wherever it is (fetching, mid-transaction, or between a
    // commit and its acks) once some events are stored.
    let first = UsageConsumer::connect(world.config.clone()).await.unwrap();
    let services = world.services.clone();
    let task = tokio::spawn(async move {
        loop {
            let _ = first.run_once(&services).await;
        }
    });
    while world.total().await.1 < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let _ = task.await;
    let stored_then = world.total().await.1;
    assert!(
        stored_then < n as u64,
        "the first consumer was cut off too late"
    );
    // Its unacked messages come back after the ack wait, to the next consumer.
    let second = UsageConsumer::connect(world.config.clone()).await.unwrap();
    tokio::time::sleep(world.config.ack_wait).await;
    drain(&world, vec![second], n as u64, Duration::from_secs(30)).await;
    assert_eq!(world.total().await, (sum_below(n), n as u64));
    world.cleanup().await;
}

#[tokio::test]
async fn the_app_version_travels_through_the_stream_and_old_messages_still_decode() {
    let world = World::new("versions").await;
    let server = JetStreamBus::connect(world.config.clone()).await.unwrap();
    // Even events carry the version their instance ran; odd ones are published as a server
    // from before versions were kept did (no `appVersion` in the message).
    let events: Vec<ValidatedEvent> = (0..40usize)
        .map(|i| ValidatedEvent {
            app_version: i.is_multiple_of(2).then(|| "1.3.0".to_owned()),
            ..event(i)
        })
        .collect();
    let published = server
        .publish_usage(&world.org.id, "user:a", at(2), &events)
        .await
        .unwrap();
    assert!(published.iter().all(|o| *o == BusOutcome::Stored));
    let consumer = UsageConsumer::connect(world.config.clone()).await.unwrap();
    assert_eq!(
        drain(&world, vec![consumer], 40, Duration::from_secs(20)).await,
        40
    );
    for (version, want) in [("1.3.0", 20), ("", 20), ("1.2.0", 0)] {
        let scope = plaza_core::usage::UsageScope {
            metric: "api_calls".into(),
            version: Some(version.into()),
            from: at(0),
            until: at(23),
            ..Default::default()
        };
        let stored = world
            .store
            .usage_events(&world.org.id, &scope)
            .await
            .unwrap();
        assert_eq!(stored.len(), want, "version `{version}`");
        let buckets = world
            .store
            .rollup_buckets(&world.org.id, &scope)
            .await
            .unwrap();
        let counted: u64 = buckets.iter().map(|b| b.count).sum();
        assert_eq!(counted, want as u64, "rollups of version `{version}`");
    }
    world.cleanup().await;
}
