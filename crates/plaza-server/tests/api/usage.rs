//! Usage ingest in-process: the seed's event accepted as written and then a duplicate, a reused
//! event id with other content reported as a conflict, a mixed batch partly accepted with the
//! rejected events dead-lettered, NDJSON and CloudEvents, unit conversion, and whole-body errors.

use crate::support::{TestApp, SEED_MANIFEST};
use axum::http::Method;
use chrono::TimeZone;
use futures_util::StreamExt;
use plaza_core::identity::Role;
use plaza_core::ManualClock;
use std::sync::Arc;

const SEED_EVENT: &str = include_str!("../../../../../shared/seed/examples/usage-event.json");

/// A server whose clock reads 2026-01-10T15:00Z (an hour after the seed event), with the seed
/// app registered.
pub async fn app_with_seed() -> (TestApp, String) {
    let at = chrono::Utc.with_ymd_and_hms(2026, 1, 10, 15, 0, 0).unwrap();
    let app = TestApp::build(
        plaza_server::ServerConfig::default(),
        Arc::new(ManualClock::new(at)),
    )
    .await;
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&app.admin_token),
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    install_instances(&app, &["inst-9a3f", "inst-1", "inst-2"]).await;
    let author = app.role_tokens[&Role::Author].clone();
    (app, author)
}

/// Creates the team `lunch` and installs the seed app for it as each of `ids` (as the admin,
/// so the installs are granted at once).
pub async fn install_instances(app: &TestApp, ids: &[&str]) {
    let r = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            Some(&app.admin_token),
            serde_json::json!({"slug": "lunch", "name": "Lunch"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for id in ids {
        let r = app
            .send_json(
                Method::POST,
                "/api/installs",
                Some(&app.admin_token),
                serde_json::json!({"appId": "com.example.where2eat", "team": "lunch",
                    "instanceId": id, "tags": {"cost-center": "CC-42"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

pub async fn post(
    app: &TestApp,
    token: &str,
    content_type: &'static str,
    body: &str,
) -> crate::support::Reply {
    app.call(
        Method::POST,
        "/api/usage/events",
        Some(token),
        Some((content_type, body.as_bytes().to_vec())),
    )
    .await
}

pub fn statuses(r: &crate::support::Reply) -> Vec<String> {
    r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_seed_event_is_accepted_as_written_then_answered_duplicate() {
    let (app, author) = app_with_seed().await;
    let r = post(&app, &author, "application/json", SEED_EVENT).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(statuses(&r), ["accepted"]);
    assert_eq!(r.body["events"][0]["eventId"], "evt_0001");
    let r = post(&app, &author, "application/json", SEED_EVENT).await;
    assert_eq!(
        (r.body["accepted"].as_u64(), r.body["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    // Same id, other value: a conflict, not counted.
    let changed = SEED_EVENT.replace("\"value\": 42", "\"value\": 43");
    assert_ne!(changed, SEED_EVENT);
    let r = post(&app, &author, "application/json", &changed).await;
    assert_eq!(statuses(&r), ["conflict"]);
    assert_eq!(
        r.body["events"][0]["problems"][0]["code"],
        "event_id_conflict"
    );
    // Another org sending the same event id for its own (unregistered) app is its own business.
    let other = app.other_role_tokens[&Role::Author].clone();
    let r = post(&app, &other, "application/json", SEED_EVENT).await;
    assert_eq!(statuses(&r), ["rejected"]);
    assert_eq!(r.body["events"][0]["problems"][0]["code"], "unknown_app");
}

#[tokio::test]
async fn a_mixed_batch_is_partly_accepted_and_the_rest_dead_lettered() {
    let (app, author) = app_with_seed().await;
    let event = |id: &str, metric: &str, value: &str| {
        format!(
            r#"{{"eventId":"{id}","appId":"com.example.where2eat","instanceId":"inst-9a3f","metric":"{metric}","value":{value},"timestamp":"2026-01-10T14:00:00Z"}}"#
        )
    };
    let batch = format!(
        "[{},{},{},{}]",
        event("a", "api_calls", "1"),
        event("b", "no_such_metric", "1"),
        event("c", "api_calls", "-5"),
        event("a", "api_calls", "1"),
    );
    let r = post(&app, &author, "application/json", &batch).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        statuses(&r),
        ["accepted", "rejected", "rejected", "duplicate"]
    );
    assert_eq!(r.body["events"][1]["problems"][0]["code"], "unknown_metric");
    assert_eq!(r.body["events"][2]["problems"][0]["code"], "negative_value");
    let letters = app.get("/api/usage/dead-letters", Some(&author)).await;
    assert_eq!(letters.status, 200, "{}", letters.text);
    let letters = letters.body.as_array().unwrap().clone();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0]["index"], 1);
    assert_eq!(letters[0]["event"]["metric"], "no_such_metric");
    assert_eq!(letters[1]["problems"][0]["code"], "negative_value");

    // NDJSON: a broken line in the middle costs only itself; a host metric in another unit is
    // converted exactly.
    let ndjson = format!(
        "{}\n{{not json\n{}\n",
        event("n1", "api_calls", "2"),
        r#"{"eventId":"n2","appId":"com.example.where2eat","instanceId":"inst-9a3f","metric":"plaza_compute_time","value":1.5,"unit":"s","timestamp":"2026-01-10T14:00:00Z"}"#
    );
    let r = post(&app, &author, "application/x-ndjson", &ndjson).await;
    assert_eq!(
        statuses(&r),
        ["accepted", "rejected", "accepted"],
        "{}",
        r.text
    );
    assert_eq!(r.body["events"][1]["problems"][0]["code"], "malformed_json");

    // CloudEvents structured mode.
    let ce = r#"{"specversion":"1.0","id":"ce-1","source":"com.example.where2eat","subject":"inst-9a3f","type":"dev.plaza.usage.v1","time":"2026-01-10T14:00:00Z","data":{"metric":"api_calls","value":3}}"#;
    let r = post(&app, &author, "application/cloudevents+json", ce).await;
    assert_eq!(statuses(&r), ["accepted"], "{}", r.text);
}

#[tokio::test]
async fn bodies_that_cannot_be_read_are_refused_whole_with_where_and_why() {
    let (app, author) = app_with_seed().await;
    let r = post(
        &app,
        &author,
        "application/json",
        "{\"eventId\": \"x\",\n  \"value\": NaN}",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("line 2"),
        "{}",
        r.text
    );
    let r = post(&app, &author, "text/csv", "a,b").await;
    assert_eq!(r.status, 415, "{}", r.text);
    let r = post(&app, &author, "application/json", "").await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Consumers report no usage.
    let consumer = app.role_tokens[&Role::Consumer].clone();
    let r = post(&app, &consumer, "application/json", SEED_EVENT).await;
    assert_eq!(r.status, 403);
    // Nothing of the above was counted or dead-lettered.
    let letters = app.get("/api/usage/dead-letters", Some(&author)).await;
    assert_eq!(letters.body.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_slow_loris_upload_is_cut_off_by_the_request_timeout_and_nothing_is_counted() {
    use axum::body::Body;
    use tower::ServiceExt;
    let config = plaza_server::ServerConfig {
        request_timeout_secs: 1,
        ..plaza_server::ServerConfig::default()
    };
    let at = chrono::Utc.with_ymd_and_hms(2026, 1, 10, 15, 0, 0).unwrap();
    let app = TestApp::build(config, Arc::new(ManualClock::new(at))).await;
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&app.admin_token),
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    install_instances(&app, &["inst-9a3f"]).await;
    // The first event arrives, then the client stalls mid-array and never finishes.
    let first = format!("[{},", SEED_EVENT.trim());
    let stalled = futures_util::stream::once(async move {
        Ok::<_, std::io::Error>(axum::body::Bytes::from(first))
    })
    .chain(futures_util::stream::pending());
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/usage/events")
        .header("authorization", format!("Bearer {}", app.admin_token))
        .header("content-type", "application/json")
        .body(Body::from_stream(stalled))
        .unwrap();
    let started = std::time::Instant::now();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        app.router.clone().oneshot(request),
    )
    .await
    .expect("the server gave up on the stalled upload")
    .unwrap();
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Nothing of the half-sent batch was counted: the seed event is still new.
    let r = post(&app, &app.admin_token, "application/json", SEED_EVENT).await;
    assert_eq!(statuses(&r), ["accepted"], "{}", r.text);
}
