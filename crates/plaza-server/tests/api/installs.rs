//! Installs over the API: the consent screen, a team member's install waiting for an admin,
//! required scopes that cannot be refused, upgrades that widen waiting for consent while
//! narrower ones apply on publish, rollback, capability tokens verified against the JWKS,
//! token exchange with the mock calendar, usage only for the token's own instance, the
//! unused-grant report, and uninstall revoking every credential at once.

use crate::support::{Reply, TestApp, SEED_MANIFEST};
use axum::http::Method;
use base64::Engine;
use plaza_core::identity::Role;
use serde_json::json;

/// The seed manifest at another version, with an optional scope and an egress host added
/// (which widens what it may do).
fn wider(version: &str) -> String {
    SEED_MANIFEST
        .replace("version: 1.2.0", &format!("version: {version}"))
        .replace(
            "      - calendar.events.create\n",
            "      - calendar.events.create\n    optionalScopes:\n      - calendar.freebusy.read\n",
        )
        .replace("sbom:", "egress:\n  - api.example.com\nsbom:")
}

async fn register(app: &TestApp, yaml: &str) {
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&app.admin_token),
            Some(("application/yaml", yaml.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn post(app: &TestApp, path: &str, token: &str, body: serde_json::Value) -> Reply {
    app.send_json(Method::POST, path, Some(token), body).await
}

async fn exchange(app: &TestApp, token: &str, scope: &str) -> Reply {
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
         &subject_token={token}&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
         &scope={scope}"
    );
    app.call(
        Method::POST,
        "/api/token/exchange",
        None,
        Some(("application/x-www-form-urlencoded", form.into_bytes())),
    )
    .await
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.get("/api/audit?limit=1000", Some(&app.admin_token))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

/// A server with the seed app registered, the team `lunch` holding the consumer user.
async fn setup() -> (TestApp, String) {
    let app = TestApp::new().await;
    register(&app, SEED_MANIFEST).await;
    let r = post(
        &app,
        "/api/orgs/acme/teams",
        &app.admin_token,
        json!({"slug": "lunch"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .call(
            Method::PUT,
            "/api/orgs/acme/teams/lunch/members/consumer",
            Some(&app.admin_token),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let consumer = app.role_tokens[&Role::Consumer].clone();
    (app, consumer)
}

#[tokio::test]
async fn a_members_install_waits_for_an_admins_consent_and_required_scopes_cannot_be_refused() {
    let (app, consumer) = setup().await;
    let screen = app
        .get(
            "/api/orgs/acme/apps/com.example.where2eat/permissions",
            Some(&consumer),
        )
        .await;
    assert_eq!(screen.status, 200, "{}", screen.text);
    let summary = screen.body["summary"].to_string();
    assert!(
        summary.contains("read calendar (`calendar.read`, required)"),
        "{summary}"
    );
    assert!(
        summary.contains("Make no outbound network connections."),
        "{summary}"
    );

    let body = json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": "inst-a",
        "tags": {"cost-center": "CC-7"}});
    let r = post(&app, "/api/installs", &consumer, body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["status"], "pending_consent");
    assert_eq!(
        r.body["spiffeId"],
        "spiffe://plaza.local/org/acme/team/lunch/app/com.example.where2eat/instance/inst-a"
    );
    // Not active yet: no token.
    let r = post(&app, "/api/installs/inst-a/tokens", &consumer, json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    // Only an admin consents, and not to less than the required scopes.
    let r = post(&app, "/api/installs/inst-a/consent", &consumer, json!({})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post(
        &app,
        "/api/installs/inst-a/consent",
        &app.admin_token,
        json!({"refuseScopes": ["calendar.read"]}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("required scopes cannot be refused"),
        "{}",
        r.text
    );
    let r = post(
        &app,
        "/api/installs/inst-a/consent",
        &app.admin_token,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(
        r.body["grant"]["scopes"],
        json!(["calendar.events.create", "calendar.read"])
    );
    // Someone outside the team may neither install for it nor change its instances.
    let author = app.role_tokens[&Role::Author].clone();
    let r = post(
        &app,
        "/api/installs",
        &app.role_tokens[&Role::Consumer],
        json!({"appId": "com.example.where2eat", "team": "nobody"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = post(&app, "/api/installs/inst-a/rollback", &author, json!({})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Another org does not see it at all.
    let r = app
        .get(
            "/api/installs/inst-a",
            Some(&app.other_role_tokens[&Role::Admin]),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"instance.install".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"instance.consent".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_widening_version_waits_for_consent_a_narrower_one_applies_and_rollback_is_one_call() {
    let (app, _) = setup().await;
    let install = |id: &str, auto: bool| json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": id, "autoUpgrade": auto});
    assert_eq!(
        post(
            &app,
            "/api/installs",
            &app.admin_token,
            install("inst-auto", true)
        )
        .await
        .status,
        201
    );
    assert_eq!(
        post(
            &app,
            "/api/installs",
            &app.admin_token,
            install("inst-pinned", false)
        )
        .await
        .status,
        201
    );

    // Publishing a version that widens: offered to inst-auto, which stays on 1.2.0.
    register(&app, &wider("1.3.0")).await;
    let auto = app
        .get("/api/installs/inst-auto", Some(&app.admin_token))
        .await;
    assert_eq!(auto.body["version"], "1.2.0", "{}", auto.text);
    let pending = &auto.body["pendingUpgrade"];
    assert_eq!(pending["version"], "1.3.0");
    assert_eq!(pending["delta"]["widens"], true);
    assert_eq!(pending["delta"]["addedEgress"], json!(["api.example.com"]));
    assert_eq!(
        pending["delta"]["addedScopes"],
        json!(["calendar.freebusy.read"])
    );
    let pinned = app
        .get("/api/installs/inst-pinned", Some(&app.admin_token))
        .await;
    assert_eq!(pinned.body["pendingUpgrade"], serde_json::Value::Null);

    // A member's upgrade of the pinned instance to the wider version waits too.
    let consumer = app.role_tokens[&Role::Consumer].clone();
    let r = post(
        &app,
        "/api/installs/inst-pinned/upgrade",
        &consumer,
        json!({"version": "1.3.0"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["applied"], false);
    assert_eq!(r.body["instance"]["version"], "1.2.0");
    let r = post(
        &app,
        "/api/installs/inst-pinned/upgrade",
        &consumer,
        json!({"version": "1.3.0", "consent": true}),
    )
    .await;
    assert_eq!(r.status, 403, "a consumer cannot consent: {}", r.text);

    // The admin consents, refusing the new optional scope.
    let r = post(
        &app,
        "/api/installs/inst-auto/consent",
        &app.admin_token,
        json!({"refuseScopes": ["calendar.freebusy.read"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], "1.3.0");
    assert_eq!(
        r.body["grant"]["refusedScopes"],
        json!(["calendar.freebusy.read"])
    );
    assert_eq!(r.body["grant"]["egress"], json!(["api.example.com"]));
    assert_eq!(r.body["previousVersion"], "1.2.0");

    // A newer version asking for no more than what was granted applies on publish.
    register(&app, &wider("1.3.1")).await;
    let auto = app
        .get("/api/installs/inst-auto", Some(&app.admin_token))
        .await;
    assert_eq!(auto.body["version"], "1.3.1", "{}", auto.text);
    assert_eq!(
        auto.body["grant"]["refusedScopes"],
        json!(["calendar.freebusy.read"])
    );
    assert_eq!(auto.body["grant"]["grantedBy"], serde_json::Value::Null);

    // Rollback is one call, back to the previous version and its grant.
    let r = post(
        &app,
        "/api/installs/inst-auto/rollback",
        &consumer,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], "1.3.0");
    let actions = audit_actions(&app).await;
    for action in [
        "instance.upgrade.pending",
        "instance.upgrade",
        "instance.rollback",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn tokens_verify_with_the_jwks_exchange_only_granted_scopes_and_die_with_the_uninstall() {
    let (app, consumer) = setup().await;
    for id in ["inst-a", "inst-b"] {
        let r = post(
            &app,
            "/api/installs",
            &app.admin_token,
            json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": id}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = post(&app, "/api/installs/inst-a/tokens", &consumer, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(r.body["scope"], "calendar.events.create calendar.read");
    assert_eq!(
        r.body["audience"],
        "spiffe://plaza.local/org/acme/team/lunch/app/com.example.where2eat/instance/inst-a"
    );

    // The token's key is in the JWKS, and the signature verifies with it.
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let jwk = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's key is published")
        .clone();
    let x: [u8; 32] = b64
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&b64.decode(parts[2]).unwrap()).unwrap();
    use ed25519_dalek::Verifier;
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies with the published key");

    // Exchange for a granted scope, then read the mock calendar with it.
    let r = exchange(&app, &token, "calendar.read").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(
        r.body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let downstream = r.body["access_token"].as_str().unwrap().to_owned();
    let events = app
        .get(
            "/api/mock/calendar/events?date=2026-12-01",
            Some(&downstream),
        )
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(events.body["events"][1]["start"], "2026-12-01T11:00:00Z");
    // A scope not granted is refused and audited.
    let r = exchange(&app, &token, "calendar.admin").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_scope");
    assert!(audit_actions(&app)
        .await
        .contains(&"token.exchange.refused".to_owned()));
    // A forged token is an invalid grant.
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64.encode([7u8; 64]));
    assert_eq!(
        exchange(&app, &forged, "calendar.read").await.body["error"],
        "invalid_grant"
    );

    // The token reports its own instance's usage, and no other's.
    let event = |id: &str, instance: &str| {
        json!({"eventId": id, "appId": "com.example.where2eat",
        "instanceId": instance, "metric": "api_calls", "value": 1,
        "timestamp": chrono::Utc::now().to_rfc3339()})
    };
    let r = post(
        &app,
        "/api/usage/events",
        &token,
        json!([event("u1", "inst-a"), event("u2", "inst-b")]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["events"][0]["status"], "accepted", "{}", r.text);
    assert_eq!(
        r.body["events"][1]["problems"][0]["code"], "not_owner",
        "{}",
        r.text
    );
    // An event naming an instance that does not exist is refused for a person too.
    let r = post(
        &app,
        "/api/usage/events",
        &app.admin_token,
        event("u3", "inst-zz"),
    )
    .await;
    assert_eq!(
        r.body["events"][0]["problems"][0]["code"], "unknown_instance",
        "{}",
        r.text
    );

    // What inst-a used: calendar.read; not calendar.events.create.
    let r = app
        .get("/api/installs/inst-a/unused-grants?days=7", Some(&consumer))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["used"][0]["name"], "calendar.read");
    assert_eq!(r.body["unused"][0]["name"], "calendar.events.create");

    // Uninstall revokes every credential at once.
    let r = app
        .call(
            Method::DELETE,
            "/api/installs/inst-a",
            Some(&consumer),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "uninstalled");
    assert_eq!(
        exchange(&app, &token, "calendar.read").await.body["error"],
        "invalid_grant"
    );
    let events = app
        .get("/api/mock/calendar/events", Some(&downstream))
        .await;
    assert_eq!(events.status, 401, "{}", events.text);
    let r = post(&app, "/api/usage/events", &token, event("u4", "inst-a")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // The other instance's token is unaffected.
    let r = post(&app, "/api/installs/inst-b/tokens", &consumer, json!({})).await;
    let other = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(exchange(&app, &other, "calendar.read").await.status, 200);
}

#[tokio::test]
async fn invocations_share_a_token_until_the_instance_changes() {
    let (app, consumer) = setup().await;
    let r = post(
        &app,
        "/api/installs",
        &app.admin_token,
        json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": "inst-a"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let admin = app
        .services
        .authenticate_token(&app.admin_token)
        .await
        .unwrap();
    let instance = app
        .services
        .running_instance(&admin, "inst-a")
        .await
        .unwrap();
    let first = app.services.invocation_capability(&instance).await.unwrap();
    let again = app.services.invocation_capability(&instance).await.unwrap();
    assert_eq!(
        first.token, again.token,
        "a burst of invocations shares one token"
    );
    // A token issued on request is always new.
    let issued = app
        .services
        .issue_capability(&admin, "inst-a")
        .await
        .unwrap();
    assert_ne!(issued.token, first.token);
    // A change to the instance (here: an upgrade, a new revision) means a new token.
    register(&app, &wider("1.3.0")).await;
    let r = post(
        &app,
        "/api/installs/inst-a/consent",
        &app.admin_token,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let upgraded = app
        .services
        .running_instance(&admin, "inst-a")
        .await
        .unwrap();
    assert_eq!(upgraded.version, "1.3.0");
    let after = app.services.invocation_capability(&upgraded).await.unwrap();
    assert_ne!(after.token, first.token);
    assert!(
        after.claims.scope.contains("calendar.freebusy.read"),
        "{}",
        after.claims.scope
    );
    // Uninstalled: no token at all.
    let r = app
        .call(
            Method::DELETE,
            "/api/installs/inst-a",
            Some(&consumer),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let gone = app.services.instance(&admin, "inst-a").await.unwrap();
    assert!(app.services.invocation_capability(&gone).await.is_err());
}

#[tokio::test]
async fn usage_is_checked_against_the_metrics_of_the_version_the_instance_runs() {
    let (app, _) = setup().await;
    let r = post(
        &app,
        "/api/installs",
        &app.admin_token,
        json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": "inst-a",
               "autoUpgrade": false}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // 1.3.0 adds a metric; the instance stays on 1.2.0 (it does not take upgrades by itself).
    let v130 = SEED_MANIFEST.replace("version: 1.2.0", "version: 1.3.0").replace(
        "      pricePerUnitCents: 1\n",
        "      pricePerUnitCents: 1\n    - name: lunches_booked\n      unit: count\n      pricePerUnitCents: 5\n",
    );
    register(&app, &v130).await;
    let event = |id: &str| {
        json!({"eventId": id, "appId": "com.example.where2eat",
        "instanceId": "inst-a", "metric": "lunches_booked", "value": 1,
        "timestamp": chrono::Utc::now().to_rfc3339()})
    };
    let r = post(&app, "/api/usage/events", &app.admin_token, event("b1")).await;
    assert_eq!(
        r.body["events"][0]["problems"][0]["code"], "unknown_metric",
        "{}",
        r.text
    );
    // After the upgrade the instance runs 1.3.0, whose manifest declares the metric.
    let r = post(
        &app,
        "/api/installs/inst-a/upgrade",
        &app.admin_token,
        json!({"version": "1.3.0"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post(&app, "/api/usage/events", &app.admin_token, event("b2")).await;
    assert_eq!(r.body["events"][0]["status"], "accepted", "{}", r.text);
}

#[tokio::test]
async fn a_team_that_does_not_allow_automatic_upgrades_keeps_its_instances_where_they_are() {
    let (app, _) = setup().await;
    let r = app
        .get(
            "/api/orgs/acme/teams/lunch/settings",
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(r.body, json!({"autoUpgrade": true}), "the default");
    let r = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/teams/lunch/settings",
            Some(&app.admin_token),
            json!({"autoUpgrade": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A new install takes the team's setting as its default; one asking for upgrades keeps
    // asking, but the team's "no" wins.
    let r = post(
        &app,
        "/api/installs",
        &app.admin_token,
        json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": "inst-default"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["autoUpgrade"], false);
    let r = post(
        &app,
        "/api/installs",
        &app.admin_token,
        json!({"appId": "com.example.where2eat", "team": "lunch", "instanceId": "inst-eager", "autoUpgrade": true}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A narrower version (same permissions, new number) is published: nobody moves.
    register(
        &app,
        &SEED_MANIFEST.replace("version: 1.2.0", "version: 1.2.1"),
    )
    .await;
    for id in ["inst-default", "inst-eager"] {
        let r = app
            .get(&format!("/api/installs/{id}"), Some(&app.admin_token))
            .await;
        assert_eq!(r.body["version"], "1.2.0", "{id}: {}", r.text);
        assert_eq!(r.body["pendingUpgrade"], serde_json::Value::Null);
    }
    // The team allows it again: the next version reaches the instance that asks for it.
    let r = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/teams/lunch/settings",
            Some(&app.admin_token),
            json!({"autoUpgrade": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    register(
        &app,
        &SEED_MANIFEST.replace("version: 1.2.0", "version: 1.2.2"),
    )
    .await;
    let eager = app
        .get("/api/installs/inst-eager", Some(&app.admin_token))
        .await;
    assert_eq!(eager.body["version"], "1.2.2", "{}", eager.text);
    let default = app
        .get("/api/installs/inst-default", Some(&app.admin_token))
        .await;
    assert_eq!(
        default.body["version"], "1.2.0",
        "its own autoUpgrade is false"
    );
    assert!(audit_actions(&app)
        .await
        .contains(&"team.settings.set".to_owned()));
}
