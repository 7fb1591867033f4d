//! Single sign-on: JWTs signed by a key generated here, checked against a JWKS file; groups map
//! to teams and roles, and every rule of the JWT is enforced.

use crate::support::{assert_problem, TestApp};
use axum::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use plaza_core::identity::Role;
use plaza_server::oidc::{GroupGrant, OidcConfig};
use plaza_server::ServerConfig;
use serde_json::json;
use std::collections::BTreeMap;

const ISSUER: &str = "https://idp.acme.example";
const AUDIENCE: &str = "plaza";

struct Idp {
    key: SigningKey,
    _dir: tempfile::TempDir,
    jwks_file: std::path::PathBuf,
    jwks: serde_json::Value,
}

impl Idp {
    fn new() -> Self {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let dir = tempfile::tempdir().unwrap();
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        }]});
        let jwks_file = dir.path().join("jwks.json");
        std::fs::write(&jwks_file, jwks.to_string()).unwrap();
        Self {
            key,
            _dir: dir,
            jwks_file,
            jwks,
        }
    }

    fn sign(&self, header: serde_json::Value, claims: serde_json::Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let sig = self.key.sign(format!("{h}.{c}").as_bytes());
        format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn token(&self, claims: serde_json::Value) -> String {
        self.sign(json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"}), claims)
    }
}

fn claims(groups: &[&str]) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "00u1abcd", "email": "sam@acme.example", "name": "Sam SSO",
           "iat": now, "exp": now + 300, "groups": groups})
}

async fn app_with(idp: &Idp) -> TestApp {
    app_with_jwks(Some(idp.jwks_file.clone()), None).await
}

async fn app_with_jwks(jwks_file: Option<std::path::PathBuf>, jwks_url: Option<String>) -> TestApp {
    let mut groups = BTreeMap::new();
    groups.insert(
        "plaza-admins".to_owned(),
        GroupGrant {
            team: Some("platform".into()),
            roles: vec![Role::Admin],
        },
    );
    groups.insert(
        "authors".to_owned(),
        GroupGrant {
            team: None,
            roles: vec![Role::Author],
        },
    );
    let oidc = OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url,
        jwks_file,
        org: "acme".into(),
        groups_claim: "groups".into(),
        default_roles: vec![Role::Consumer],
        groups,
    };
    let app = TestApp::with_config(ServerConfig {
        oidc: Some(oidc),
        ..ServerConfig::default()
    })
    .await;
    let r = app
        .send_json(
            Method::POST,
            "/api/orgs/acme/teams",
            Some(&app.admin_token),
            json!({"slug": "platform"}),
        )
        .await;
    assert_eq!(r.status, 201);
    app
}

#[tokio::test]
async fn a_valid_jwt_signs_in_and_its_groups_become_teams_and_roles() {
    let idp = Idp::new();
    let app = app_with(&idp).await;
    let jwt = idp.token(claims(&["plaza-admins", "unmapped"]));
    let me = app.get("/api/me", Some(&jwt)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["authMethod"], "oidc");
    assert_eq!(me.body["user"]["email"], "sam@acme.example");
    assert_eq!(me.body["user"]["roles"], json!(["consumer", "admin"]));
    assert_eq!(me.body["teamIds"].as_array().unwrap().len(), 1);
    // The admin role from the group works.
    let users = app.get("/api/orgs/acme/users", Some(&jwt)).await;
    assert_eq!(users.status, 200);
    // An SSO user cannot mint an API token that would outlive the identity provider's control.
    let minted = app
        .send_json(
            Method::POST,
            "/api/tokens",
            Some(&jwt),
            json!({"name": "escape"}),
        )
        .await;
    assert_problem(&minted, 403);

    // Leaving the group at the identity provider takes effect on the next request.
    let jwt = idp.token(claims(&["authors"]));
    let me = app.get("/api/me", Some(&jwt)).await;
    assert_eq!(me.body["user"]["roles"], json!(["author", "consumer"]));
    assert_eq!(me.body["teamIds"], json!([]));
    let users = app.get("/api/orgs/acme/users", Some(&jwt)).await;
    assert_problem(&users, 403);
    // The same person, not a second user.
    let listed = app
        .get("/api/orgs/acme/users", Some(&app.admin_token))
        .await;
    assert_eq!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["email"] == "sam@acme.example")
            .count(),
        1
    );
    let audit = app
        .get("/api/audit?action=user.roles.set", Some(&app.admin_token))
        .await;
    assert_eq!(audit.body.as_array().unwrap().len(), 1, "{}", audit.text);
}

#[tokio::test]
async fn every_jwt_rule_is_enforced() {
    let idp = Idp::new();
    let app = app_with(&idp).await;
    let now = chrono::Utc::now().timestamp();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let with = |k: &str, v: serde_json::Value| {
        let mut c = claims(&[]);
        c[k] = v;
        c
    };
    cases.push(("wrong audience", idp.token(with("aud", json!("other")))));
    cases.push((
        "wrong issuer",
        idp.token(with("iss", json!("https://evil.example"))),
    ));
    cases.push(("expired", idp.token(with("exp", json!(now - 3600)))));
    let mut no_exp = claims(&[]);
    no_exp.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", idp.token(no_exp)));
    cases.push((
        "unknown kid",
        idp.sign(json!({"alg": "EdDSA", "kid": "k2"}), claims(&[])),
    ));
    cases.push((
        "symmetric alg",
        idp.sign(json!({"alg": "HS256", "kid": "k1"}), claims(&[])),
    ));
    cases.push((
        "alg none",
        idp.sign(json!({"alg": "none", "kid": "k1"}), claims(&[])),
    ));
    let other = Idp::new();
    cases.push(("signed by another key", other.token(claims(&[]))));
    let good = idp.token(claims(&[]));
    let (head, rest) = good.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged_claims = URL_SAFE_NO_PAD.encode(with("sub", json!("admin")).to_string());
    cases.push(("tampered claims", format!("{head}.{forged_claims}.{sig}")));
    for (what, jwt) in cases {
        let r = app.get("/api/me", Some(&jwt)).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        assert_problem(&r, 401);
    }
}

#[tokio::test]
async fn without_sso_configured_a_jwt_is_refused_clearly() {
    let idp = Idp::new();
    let app = TestApp::new().await;
    let r = app.get("/api/me", Some(&idp.token(claims(&[])))).await;
    assert_problem(&r, 401);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("single sign-on"));
}

/// Serves `jwks` over real HTTP on a loopback port, counting fetches.
async fn serve_jwks(
    jwks: serde_json::Value,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = jwks.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/jwks.json"), hits)
}

#[tokio::test]
async fn keys_are_fetched_from_a_jwks_url_once_and_cached() {
    let idp = Idp::new();
    let (url, hits) = serve_jwks(idp.jwks.clone()).await;
    let app = app_with_jwks(None, Some(url)).await;
    for _ in 0..3 {
        let r = app
            .get("/api/me", Some(&idp.token(claims(&["plaza-admins"]))))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_jwks_url_is_a_503_not_a_401() {
    let idp = Idp::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let app = app_with_jwks(None, Some(url)).await;
    let r = app.get("/api/me", Some(&idp.token(claims(&[])))).await;
    assert_problem(&r, 503);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("single sign-on is unavailable"),
        "{}",
        r.text
    );
}
