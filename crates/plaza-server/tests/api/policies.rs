//! The policy gate through the API: org policy versions, the gate at registration, the decision
//! log, warn-only mode, exceptions that expire on their own, and the preview of a candidate.

use crate::support::{assert_problem, TestApp, SEED_MANIFEST};
use axum::http::Method;
use plaza_core::identity::Role;
use plaza_server::ServerConfig;
use serde_json::{json, Value};
use std::sync::Arc;

const NO_LEGACY: &str = r#"package acme.naming

import rego.v1

# METADATA
# title: No new legacy apps
# custom:
#   id: acme.naming.no-legacy
#   remediation: Rename the app; legacy apps are frozen.
deny contains {"rule": "acme.naming.no-legacy", "msg": "legacy apps are frozen", "details": {"path": "/name"}} if {
	contains(lower(input.name), "legacy")
}
"#;

fn manifest(name: &str, version: &str) -> Vec<u8> {
    SEED_MANIFEST
        .replace("name: Where2Eat", &format!("name: {name}"))
        .replace("version: 1.2.0", &format!("version: {version}"))
        .into_bytes()
}

async fn register(app: &TestApp, name: &str, version: &str) -> crate::support::Reply {
    let author = Some(app.role_tokens[&Role::Author].as_str());
    app.call(
        Method::POST,
        "/api/orgs/acme/apps",
        author,
        Some(("application/yaml", manifest(name, version))),
    )
    .await
}

async fn push(app: &TestApp, files: Value, settings: Value) -> crate::support::Reply {
    let body = json!({"files": files, "settings": settings});
    app.send_json(
        Method::POST,
        "/api/orgs/acme/policies",
        Some(&app.admin_token),
        body,
    )
    .await
}

#[tokio::test]
async fn versions_are_compiled_before_they_are_stored_and_the_newest_is_active() {
    let app = TestApp::new().await;
    let v1 = push(
        &app,
        json!([{"path": "naming.rego", "content": NO_LEGACY}]),
        json!({}),
    )
    .await;
    assert_eq!(v1.status, 201, "{}", v1.text);
    assert_eq!(
        (v1.body["version"].as_i64(), v1.body["active"].as_bool()),
        (Some(1), Some(true))
    );

    let broken = push(
        &app,
        json!([{"path": "broken.rego", "content": "package acme\n\ndeny[msg] {\n  msg :=\n}\n"}]),
        json!({}),
    )
    .await;
    assert_problem(&broken, 422);
    assert!(
        broken.body["detail"]
            .as_str()
            .unwrap()
            .contains("broken.rego:"),
        "{}",
        broken.text
    );
    let bad_path = push(
        &app,
        json!([{"path": "../escape.rego", "content": NO_LEGACY}]),
        json!({}),
    )
    .await;
    assert_problem(&bad_path, 422);

    let list = app
        .get("/api/orgs/acme/policies", Some(&app.admin_token))
        .await;
    assert_eq!(
        list.body.as_array().unwrap().len(),
        1,
        "a rejected push stores nothing: {}",
        list.text
    );

    let v2 = push(&app, json!([]), json!({"slsa_min_level": 1})).await;
    assert_eq!(v2.body["version"], 2);
    let list = app
        .get(
            "/api/orgs/acme/policies",
            Some(&app.role_tokens[&Role::Consumer]),
        )
        .await;
    let active: Vec<(i64, bool)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(active, [(2, true), (1, false)]);
    let one = app
        .get("/api/orgs/acme/policies/1", Some(&app.admin_token))
        .await;
    assert_eq!(one.body["files"][0]["content"], NO_LEGACY);
    assert_problem(
        &app.get("/api/orgs/acme/policies/x", Some(&app.admin_token))
            .await,
        400,
    );
    assert_problem(
        &app.get("/api/orgs/acme/policies/9", Some(&app.admin_token))
            .await,
        404,
    );

    let audit = app
        .get("/api/audit?action=policy.push", Some(&app.admin_token))
        .await;
    assert_eq!(audit.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_gate_refuses_a_denied_version_and_logs_every_decision() {
    let app = TestApp::new().await;
    push(
        &app,
        json!([{"path": "naming.rego", "content": NO_LEGACY}]),
        json!({}),
    )
    .await;
    let denied = register(&app, "Legacy Lunch", "1.0.0").await;
    assert_problem(&denied, 422);
    assert!(
        denied.text.contains("acme.naming.no-legacy"),
        "{}",
        denied.text
    );
    assert_eq!(denied.body["errors"][0]["pointer"], "/name");
    let passed = register(&app, "Where2Eat", "1.2.0").await;
    assert_eq!(passed.status, 201, "{}", passed.text);
    assert_eq!(
        passed.body["decision"]["outcome"], "review",
        "the seed lacks a license: a warning"
    );
    assert_eq!(passed.body["decision"]["orgPolicyVersion"], 1);

    let log = app
        .get(
            "/api/orgs/acme/decisions?app=com.example.where2eat",
            Some(&app.role_tokens[&Role::Reviewer]),
        )
        .await;
    let outcomes: Vec<&str> = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["review", "deny"], "newest first");
    let d = &log.body[1];
    assert!(d["inputDigest"].as_str().unwrap().starts_with("sha256:"));
    assert!(d["bundleVersion"].as_str().unwrap().starts_with("0.1.0+"));
    assert!(d["durationUs"].as_i64().unwrap() > 0);
    let one = app
        .get(
            "/api/orgs/acme/decisions?app=com.example.where2eat&version=1.0.0",
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(one.body.as_array().unwrap().len(), 1);
    assert_problem(
        &app.get("/api/orgs/acme/decisions?limit=0", Some(&app.admin_token))
            .await,
        422,
    );
    // Another org sees none of it.
    let other = app
        .get(
            "/api/orgs/globex/decisions",
            Some(&app.other_role_tokens[&Role::Admin]),
        )
        .await;
    assert_eq!(other.body, json!([]));
}

#[tokio::test]
async fn warn_only_mode_sends_denials_to_review_instead_of_blocking() {
    let app = TestApp::new().await;
    push(
        &app,
        json!([{"path": "naming.rego", "content": NO_LEGACY}]),
        json!({}),
    )
    .await;
    let mode = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/policy-mode",
            Some(&app.admin_token),
            json!({"mode": "warn-only"}),
        )
        .await;
    assert_eq!(mode.body["mode"], "warn-only", "{}", mode.text);
    assert_eq!(
        app.get(
            "/api/orgs/acme/policy-mode",
            Some(&app.role_tokens[&Role::Author])
        )
        .await
        .body["mode"],
        "warn-only"
    );
    let r = register(&app, "Legacy Lunch", "1.0.0").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["decision"]["outcome"], "review");
    assert_eq!(r.body["decision"]["mode"], "warn-only");
    let bad = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/policy-mode",
            Some(&app.admin_token),
            json!({"mode": "lenient"}),
        )
        .await;
    assert_problem(&bad, 422);
    let audit = app
        .get("/api/audit?action=policy.mode.set", Some(&app.admin_token))
        .await;
    assert_eq!(audit.body[0]["details"]["to"], "warn-only");
}

#[tokio::test]
async fn an_exception_waives_one_rule_for_one_app_until_it_expires_by_itself() {
    let clock = Arc::new(plaza_core::ManualClock::new(chrono::Utc::now()));
    let app = TestApp::build(ServerConfig::default(), clock.clone()).await;
    push(
        &app,
        json!([{"path": "naming.rego", "content": NO_LEGACY}]),
        json!({}),
    )
    .await;
    let council = Some(app.role_tokens[&Role::Council].as_str());
    let expires = clock_now(&clock) + chrono::Duration::days(1);
    let grant = json!({"appId": "com.example.where2eat", "ruleId": "acme.naming.no-legacy", "reason": "rename lands in Q3", "expiresAt": expires});
    let e = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/exceptions",
            council,
            grant.clone(),
        )
        .await;
    assert_eq!(e.status, 201, "{}", e.text);
    assert_eq!(e.body["active"], true);

    let waived = register(&app, "Legacy Lunch", "1.0.0").await;
    assert_eq!(waived.status, 201, "{}", waived.text);
    let finding = waived.body["decision"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ruleId"] == "acme.naming.no-legacy")
        .unwrap()
        .clone();
    assert_eq!(finding["waivedBy"], e.body["id"]);

    clock.advance(chrono::Duration::days(2));
    let after = register(&app, "Legacy Lunch", "1.0.1").await;
    assert_problem(&after, 422);
    let list = app.get("/api/orgs/acme/exceptions", council).await;
    assert_eq!(list.body[0]["active"], false);
    assert!(list.body[0]["expiredAt"].is_string(), "{}", list.text);
    let audit = app
        .get(
            "/api/audit?action=policy.exception.",
            Some(&app.admin_token),
        )
        .await;
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["policy.exception.grant", "policy.exception.expire"]
    );

    // Past and too-distant expiries are refused; revocation is audited and final.
    let mut past = grant.clone();
    past["expiresAt"] = json!(clock_now(&clock) - chrono::Duration::hours(1));
    assert_problem(
        &app.send_json(Method::POST, "/api/orgs/acme/exceptions", council, past)
            .await,
        422,
    );
    let mut far = grant.clone();
    far["expiresAt"] = json!(clock_now(&clock) + chrono::Duration::days(400));
    assert_problem(
        &app.send_json(Method::POST, "/api/orgs/acme/exceptions", council, far)
            .await,
        422,
    );
    let mut fresh = grant;
    fresh["expiresAt"] = json!(clock_now(&clock) + chrono::Duration::days(3));
    let e2 = app
        .send_json(Method::POST, "/api/orgs/acme/exceptions", council, fresh)
        .await;
    let id = e2.body["id"].as_str().unwrap();
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/orgs/acme/exceptions/{id}"),
            council,
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert_problem(
        &app.call(
            Method::DELETE,
            &format!("/api/orgs/acme/exceptions/{id}"),
            council,
            None,
        )
        .await,
        409,
    );
    assert_problem(&register(&app, "Legacy Lunch", "1.0.2").await, 422);
}

fn clock_now(clock: &plaza_core::ManualClock) -> chrono::DateTime<chrono::Utc> {
    use plaza_core::Clock;
    clock.now()
}

#[tokio::test]
async fn a_preview_shows_which_judged_versions_a_candidate_would_change() {
    let app = TestApp::new().await;
    assert_eq!(register(&app, "Legacy Lunch", "1.0.0").await.status, 201);
    assert_eq!(register(&app, "Where2Eat", "1.2.0").await.status, 201);
    let body = json!({"files": [{"path": "naming.rego", "content": NO_LEGACY}], "settings": {}});
    let preview = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/policies/preview",
            Some(&app.admin_token),
            body,
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let rows = preview.body.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", preview.text);
    let legacy = rows.iter().find(|r| r["version"] == "1.0.0").unwrap();
    assert_eq!(
        (
            legacy["before"].as_str(),
            legacy["after"].as_str(),
            legacy["changed"].as_bool()
        ),
        (Some("review"), Some("deny"), Some(true))
    );
    assert_eq!(legacy["newRules"], json!(["acme.naming.no-legacy"]));
    let seed = rows.iter().find(|r| r["version"] == "1.2.0").unwrap();
    assert_eq!(seed["changed"], false);
    // Nothing was stored.
    assert_eq!(
        app.get("/api/orgs/acme/policies", Some(&app.admin_token))
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn org_settings_tune_the_built_in_bundle() {
    let app = TestApp::new().await;
    let v = push(
        &app,
        json!([]),
        json!({"licenses": ["MIT"], "sensitive_scopes": ["calendar.*"]}),
    )
    .await;
    assert_eq!(v.status, 201, "{}", v.text);
    let r = register(&app, "Where2Eat", "1.2.0").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let rules: Vec<&str> = r.body["decision"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"plaza.scopes.sensitive"), "{rules:?}");
    let bad = push(&app, json!([]), json!(["not", "an", "object"])).await;
    assert_problem(&bad, 422);
}
