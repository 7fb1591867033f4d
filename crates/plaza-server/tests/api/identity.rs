//! Identity over the API: tokens (shown once, hashed, expiring, revocable), teams, users, roles,
//! apps from manifests, and the audit trail each change leaves.

use crate::support::{assert_problem, TestApp, SEED_MANIFEST};
use axum::http::Method;
use plaza_core::identity::Role;
use serde_json::json;

#[tokio::test]
async fn a_token_is_shown_once_works_and_stops_working_when_revoked() {
    let app = TestApp::new().await;
    let created = app
        .send_json(
            Method::POST,
            "/api/tokens",
            Some(&app.admin_token),
            json!({"name": "ci", "expiresInDays": 7}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("plz_"));
    let id = created.body["id"].as_str().unwrap().to_owned();

    let me = app.get("/api/me", Some(&secret)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["handle"], "root");
    assert_eq!(me.body["authMethod"], "token");

    let listed = app.get("/api/tokens", Some(&secret)).await;
    assert!(listed.text.contains(&id));
    assert!(
        !listed.text.contains(&secret),
        "a listing must never show secrets"
    );

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let after = app.get("/api/me", Some(&secret)).await;
    assert_problem(&after, 401);
    assert!(after.body["detail"].as_str().unwrap().contains("revoked"));
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_problem(&again, 409);
}

#[tokio::test]
async fn a_token_stops_working_when_it_expires() {
    let clock = std::sync::Arc::new(plaza_core::ManualClock::new(chrono::Utc::now()));
    let app = TestApp::build(plaza_server::ServerConfig::default(), clock.clone()).await;
    let created = app
        .send_json(
            Method::POST,
            "/api/tokens",
            Some(&app.admin_token),
            json!({"name": "short", "expiresInDays": 1}),
        )
        .await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/me", Some(&secret)).await.status, 200);
    clock.advance(chrono::Duration::hours(23));
    assert_eq!(app.get("/api/me", Some(&secret)).await.status, 200);
    clock.advance(chrono::Duration::hours(2));
    let r = app.get("/api/me", Some(&secret)).await;
    assert_problem(&r, 401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.text
    );
    let too_long = app
        .send_json(
            Method::POST,
            "/api/tokens",
            Some(&app.admin_token),
            json!({"name": "x", "expiresInDays": 400}),
        )
        .await;
    assert_problem(&too_long, 422);
}

#[tokio::test]
async fn forged_missing_and_malformed_credentials_are_401_problems() {
    let app = TestApp::new().await;
    for auth in [
        None,
        Some("plz_forged-token-aaaaaaaaaaaaaaaaaaaaaaaa"),
        Some("not-a-token"),
        Some("a.b.c"),
    ] {
        let r = app.get("/api/me", auth).await;
        assert_problem(&r, 401);
    }
    let r = app.router.clone();
    let req = axum::http::Request::builder()
        .uri("/api/me")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(r, req).await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked_by_a_non_admin() {
    let app = TestApp::new().await;
    let created = app
        .send_json(
            Method::POST,
            "/api/tokens",
            Some(&app.admin_token),
            json!({"name": "mine"}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            Some(&app.role_tokens[&Role::Author]),
            None,
        )
        .await;
    assert_problem(&r, 403);
    let other_org_admin = app
        .call(
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            Some(&app.other_role_tokens[&Role::Admin]),
            None,
        )
        .await;
    assert_problem(&other_org_admin, 404);
}

#[tokio::test]
async fn teams_members_and_roles_round_trip_and_are_audited() {
    let app = TestApp::new().await;
    let t = Some(app.admin_token.as_str());
    let r = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            t,
            json!({"slug": "payments", "name": "Payments"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let dup = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            t,
            json!({"slug": "payments"}),
        )
        .await;
    assert_problem(&dup, 409);
    let bad = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            t,
            json!({"slug": "Bad Slug"}),
        )
        .await;
    assert_problem(&bad, 422);

    let u = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users",
            t,
            json!({"handle": "zoe", "email": "zoe@acme.example", "roles": ["author", "finance"]}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    assert_eq!(u.body["roles"], json!(["author", "finance"]));
    let bad_role = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users",
            t,
            json!({"handle": "yan", "roles": ["author", "root"]}),
        )
        .await;
    assert_problem(&bad_role, 422);
    assert_eq!(bad_role.body["errors"][0]["pointer"], "/roles/1");

    let add = app
        .call(
            Method::PUT,
            "/api/orgs/acme/teams/payments/members/zoe",
            t,
            None,
        )
        .await;
    assert_eq!(add.status, 200, "{}", add.text);
    let members = app.get("/api/orgs/acme/teams/payments/members", t).await;
    assert_eq!(members.body.as_array().unwrap().len(), 1);
    assert_eq!(members.body[0]["handle"], "zoe");
    let rm = app
        .call(
            Method::DELETE,
            "/api/orgs/acme/teams/payments/members/zoe",
            t,
            None,
        )
        .await;
    assert_eq!(rm.status, 204);
    let rm_again = app
        .call(
            Method::DELETE,
            "/api/orgs/acme/teams/payments/members/zoe",
            t,
            None,
        )
        .await;
    assert_problem(&rm_again, 404);

    let roles = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/users/zoe/roles",
            t,
            json!({"roles": ["reviewer"]}),
        )
        .await;
    assert_eq!(roles.body["roles"], json!(["reviewer"]));

    let audit = app.get("/api/audit?action=team.", t).await;
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["team.create", "team.member.add", "team.member.remove"]
    );
    let verify = app.get("/api/audit/verify", t).await;
    assert_eq!(verify.body["intact"], true, "{}", verify.text);
}

#[tokio::test]
async fn an_admin_cannot_drop_their_own_admin_role() {
    let app = TestApp::new().await;
    let r = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/users/root/roles",
            Some(&app.admin_token),
            json!({"roles": ["author"]}),
        )
        .await;
    assert_problem(&r, 422);
}

#[tokio::test]
async fn the_audit_log_shows_only_the_callers_org_and_filters() {
    let app = TestApp::new().await;
    let ours = app
        .get("/api/audit?limit=1000", Some(&app.admin_token))
        .await;
    let theirs = app
        .get(
            "/api/audit?limit=1000",
            Some(&app.other_role_tokens[&Role::Admin]),
        )
        .await;
    let ours_ids: Vec<i64> = ours
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    let theirs_ids: Vec<i64> = theirs
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert!(!ours_ids.is_empty() && !theirs_ids.is_empty());
    assert!(ours_ids.iter().all(|s| !theirs_ids.contains(s)));
    let page = app
        .get(
            &format!("/api/audit?limit=2&after={}", ours_ids[0]),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(page.body.as_array().unwrap().len(), 2);
    assert_eq!(page.body[0]["seq"], ours_ids[1]);
    let bad = app.get("/api/audit?limit=0", Some(&app.admin_token)).await;
    assert_problem(&bad, 422);
    let bad = app
        .get("/api/audit?since=yesterday", Some(&app.admin_token))
        .await;
    assert_problem(&bad, 400);
}

#[tokio::test]
async fn apps_register_from_a_valid_manifest_and_refuse_an_invalid_one() {
    let app = TestApp::new().await;
    let author = Some(app.role_tokens[&Role::Author].as_str());
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            author,
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["appId"], "com.example.where2eat");
    let again = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            author,
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_problem(&again, 409);
    let shown = app
        .get(
            "/api/orgs/acme/apps/com.example.where2eat/versions/1.2.0",
            author,
        )
        .await;
    assert_eq!(
        shown.body["manifest"]["billing"]["metrics"][0]["name"],
        "api_calls"
    );

    let broken = SEED_MANIFEST.replace("name: Where2Eat", "nmae: Where2Eat");
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            author,
            Some(("application/yaml", broken.into_bytes())),
        )
        .await;
    assert_problem(&r, 422);
    assert!(r.text.contains("nmae"), "{}", r.text);

    let v = app
        .call(
            Method::POST,
            "/api/manifests/validate",
            author,
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["valid"], true, "{}", v.text);
}

#[tokio::test]
async fn an_admin_issues_and_lists_tokens_for_a_service_account() {
    let app = TestApp::new().await;
    let t = Some(app.admin_token.as_str());
    let u = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users",
            t,
            json!({"handle": "ci-bot", "roles": ["author"]}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    let issued = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users/ci-bot/tokens",
            t,
            json!({"name": "pipeline", "expiresInDays": 30}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let secret = issued.body["secret"].as_str().unwrap();
    let me = app.get("/api/me", Some(secret)).await;
    assert_eq!(me.body["user"]["handle"], "ci-bot");
    let listed = app.get("/api/orgs/acme/users/ci-bot/tokens", t).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(!listed.text.contains(secret));
    let audit = app.get("/api/audit?action=token.create", t).await;
    let last = audit.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["details"]["name"], "pipeline");
    let missing = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users/nobody/tokens",
            t,
            json!({"name": "x"}),
        )
        .await;
    assert_problem(&missing, 404);
}

#[tokio::test]
async fn names_with_control_or_bidi_characters_or_absurd_length_are_refused() {
    let app = TestApp::new().await;
    let t = Some(app.admin_token.as_str());
    for name in ["", "a\u{0}b", "evil\u{202E}txt.exe", &"n".repeat(100_000)] {
        let r = app
            .send_json(
                Method::POST,
                "/api/orgs/acme/teams",
                t,
                json!({"slug": "ok-team", "name": name}),
            )
            .await;
        assert_problem(&r, 422);
        let r = app
            .send_json(Method::POST, "/api/tokens", t, json!({"name": name}))
            .await;
        assert_problem(&r, 422);
    }
}

#[tokio::test]
async fn what_a_create_returns_is_what_a_read_returns() {
    let app = TestApp::new().await;
    let t = Some(app.admin_token.as_str());
    let created = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            t,
            json!({"slug": "same"}),
        )
        .await;
    let read = app.get("/api/orgs/acme/teams/same", t).await;
    assert_eq!(created.body, read.body);
    let created = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/users",
            t,
            json!({"handle": "same"}),
        )
        .await;
    let listed = app.get("/api/orgs/acme/users", t).await;
    let read = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["handle"] == "same")
        .unwrap()
        .clone();
    assert_eq!(created.body, read);
}

#[tokio::test]
async fn versions_equal_but_for_build_metadata_conflict() {
    let app = TestApp::new().await;
    let author = Some(app.role_tokens[&Role::Author].as_str());
    let with_build = |b: &str| {
        SEED_MANIFEST
            .replace("version: 1.2.0", &format!("version: 1.2.0+{b}"))
            .into_bytes()
    };
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            author,
            Some(("application/yaml", with_build("build.1"))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            author,
            Some(("application/yaml", with_build("build.2"))),
        )
        .await;
    assert_problem(&r, 409);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("build metadata"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::new().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let req = axum::http::Request::builder()
            .uri("/api/me")
            .header("authorization", format!("{scheme} {}", app.admin_token))
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn audit_verification_tells_each_org_only_about_itself() {
    use sqlx::Connection;
    let app = TestApp::new().await;
    let intact = app.get("/api/audit/verify", Some(&app.admin_token)).await;
    assert_eq!(intact.body["intact"], true, "{}", intact.text);
    assert!(intact.body["headHash"].is_string());
    // Someone with database access edits one of globex's records.
    let theirs = app
        .get(
            "/api/audit?limit=1",
            Some(&app.other_role_tokens[&Role::Admin]),
        )
        .await;
    let seq = theirs.body[0]["seq"].as_i64().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db_path.display()))
        .await
        .unwrap();
    sqlx::raw_sql("DROP TRIGGER audit_log_no_update")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'forged' WHERE seq = $1")
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();

    let acme = app.get("/api/audit/verify", Some(&app.admin_token)).await;
    assert_eq!(acme.body["intact"], false);
    assert!(
        acme.body["brokenAt"].is_null(),
        "acme is not told where globex's record is: {}",
        acme.text
    );
    assert!(acme.body["reason"]
        .as_str()
        .unwrap()
        .contains("outside your organisation"));
    let globex = app
        .get(
            "/api/audit/verify",
            Some(&app.other_role_tokens[&Role::Admin]),
        )
        .await;
    assert_eq!(globex.body["brokenAt"], seq, "{}", globex.text);
}
