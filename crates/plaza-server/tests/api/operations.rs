//! Operations: health, readiness, metrics, request ids, problem+json for unknown routes and
//! methods, the manifest schema, timeouts.

use crate::support::{assert_problem, TestApp};
use axum::http::Method;
use plaza_server::ServerConfig;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::new().await;
    let h = app.get("/healthz", None).await;
    assert_eq!(
        (h.status.as_u16(), h.body["status"].as_str()),
        (200, Some("ok"))
    );
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["store"], "sqlite");
}

#[tokio::test]
async fn metrics_count_requests_by_route_in_prometheus_text() {
    let app = TestApp::new().await;
    app.get("/healthz", None).await;
    app.get("/api/orgs/acme/teams", Some(&app.admin_token))
        .await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(m.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    assert!(
        m.text.contains(
            "plaza_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("route=\"/api/orgs/{org}/teams\",status=\"200\"} 1"),
        "{}",
        m.text
    );
    assert!(m
        .text
        .contains("# TYPE plaza_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn request_ids_are_generated_or_propagated() {
    let app = TestApp::new().await;
    let r = app.get("/healthz", None).await;
    assert!(!r.headers["x-request-id"].is_empty());
    let req = axum::http::Request::builder()
        .uri("/healthz")
        .header("x-request-id", "abc-123")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::new().await;
    assert_problem(&app.get("/api/nope", None).await, 404);
    assert_problem(&app.call(Method::DELETE, "/healthz", None, None).await, 405);
    // Which orgs exist is nobody's business but their members': no token is 401 before any
    // lookup, and a missing org looks exactly like someone else's.
    assert_problem(&app.get("/api/orgs/no-such-org/teams", None).await, 401);
    let missing = app
        .get("/api/orgs/no-such-org/teams", Some(&app.admin_token))
        .await;
    let foreign = app
        .get("/api/orgs/globex/teams", Some(&app.admin_token))
        .await;
    assert_problem(&missing, 403);
    assert_problem(&foreign, 403);
    assert_eq!(missing.body["detail"], foreign.body["detail"]);
}

#[tokio::test]
async fn the_manifest_schema_is_served() {
    let app = TestApp::new().await;
    let r = app.get("/api/schemas/manifest.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/schema+json");
    assert_eq!(r.body, plaza_manifest::json_schema());
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::with_config(ServerConfig {
        body_limit_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    let big = serde_json::json!({"name": "x".repeat(4096)});
    let r = app
        .send_json(Method::POST, "/api/tokens", Some(&app.admin_token), big)
        .await;
    assert_problem(&r, 413);
}

#[tokio::test]
async fn unknown_methods_do_not_create_metric_series() {
    let app = TestApp::new().await;
    for m in ["XA", "XB", "XC"] {
        app.call(
            Method::from_bytes(m.as_bytes()).unwrap(),
            "/healthz",
            None,
            None,
        )
        .await;
    }
    let m = app.get("/metrics", None).await;
    assert!(!m.text.contains("method=\"XA\""), "{}", m.text);
    assert!(
        m.text
            .contains("method=\"OTHER\",route=\"/healthz\",status=\"405\"} 3"),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn unsafe_request_ids_are_replaced() {
    let app = TestApp::new().await;
    for bad in ["evil<script>", &"x".repeat(200)] {
        let req = axum::http::Request::builder()
            .uri("/healthz")
            .header("x-request-id", bad)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
            .await
            .unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a generated UUID: {id}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_problem_answers_as_problem_json() {
    let app = TestApp::new().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let create = &doc["paths"]["/api/orgs/{org}/teams"]["post"]["responses"];
    for status in ["401", "403", "400", "413", "415", "422", "409"] {
        let content = &create[status]["content"];
        assert!(
            content["application/problem+json"].is_object(),
            "{status}: {content}"
        );
        assert!(content["application/json"].is_null(), "{status}: {content}");
    }
    let limit = doc["paths"]["/api/audit"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["maximum"], 1000, "{limit}");
}
