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
        jwks_url: None,
        jwks_file: Some(idp.jwks_file.clone()),
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
