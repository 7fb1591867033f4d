//! A fresh Plaza (SQLite in a temp dir) with two orgs, a user per role in the first, and a
//! request helper that returns status, headers and parsed body.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use plaza_core::access::{AuthMethod, Principal};
use plaza_core::identity::{Role, RoleSet};
use plaza_core::ids::TokenId;
use plaza_core::service::Services;
use plaza_core::{Clock, SystemClock};
use plaza_server::{AppState, ServerConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const SEED_MANIFEST: &str =
    include_str!("../../../plaza-manifest/tests/fixtures/valid/seed-micro-app.yaml");

/// A running in-process server and the people in it.
pub struct TestApp {
    pub router: Router,
    /// Token of the first org's bootstrap admin (all roles).
    pub admin_token: String,
    /// Token per single role, users of the first org (`acme`).
    pub role_tokens: BTreeMap<Role, String>,
    /// Token per single role, users of the second org (`globex`).
    pub other_role_tokens: BTreeMap<Role, String>,
    /// The services behind the router, for tests of what the HTTP API does not expose.
    pub services: Services,
    /// The SQLite file behind the store, for tests that tamper with it.
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    pub async fn with_config(config: ServerConfig) -> Self {
        Self::build(config, Arc::new(SystemClock)).await
    }

    pub async fn build(config: ServerConfig, clock: Arc<dyn Clock>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plaza.db").display());
        let store = plaza_store::connect(&url).await.unwrap();
        let services = Services::new(store, clock);
        let acme = services
            .bootstrap("acme", "Acme", "root", None)
            .await
            .unwrap();
        let globex = services
            .bootstrap("globex", "Globex", "root", None)
            .await
            .unwrap();
        let role_tokens = role_users(&services, "acme").await;
        let other_role_tokens = role_users(&services, "globex").await;
        drop(globex);
        let blobs = plaza_registry::FsBlobStore::open(dir.path().join("registry"))
            .await
            .unwrap();
        let state = AppState::new(services.clone(), config, Arc::new(blobs)).unwrap();
        Self {
            router: plaza_server::app(state),
            admin_token: acme.token.expose().to_owned(),
            role_tokens,
            other_role_tokens,
            services: services.clone(),
            db_path: dir.path().join("plaza.db"),
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some((ct, bytes)) => {
                req = req.header("content-type", ct);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Reply {
        self.call(
            method,
            path,
            token,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }
}

/// One user per role (handle = role name) in `org`, each with a token; returns the tokens.
async fn role_users(services: &Services, org_slug: &str) -> BTreeMap<Role, String> {
    let org = services.org_by_slug(org_slug).await.unwrap();
    let root = services.user_by_handle(&org.id, "root").await.unwrap();
    let root = services
        .principal_for(
            root,
            AuthMethod::Token {
                token_id: TokenId::from("t"),
            },
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for role in Role::ALL {
        let user = services
            .create_user(&root, &org, role.as_str(), None, None, RoleSet::new([role]))
            .await
            .unwrap();
        let p = principal(services, user).await;
        let t = services.issue_token(&p, "test", None, None).await.unwrap();
        out.insert(role, t.secret.expose().to_owned());
    }
    out
}

pub async fn principal(services: &Services, user: plaza_core::identity::User) -> Principal {
    services
        .principal_for(
            user,
            AuthMethod::Token {
                token_id: TokenId::from("t"),
            },
        )
        .await
        .unwrap()
}

/// Asserts a reply is an RFC 9457 problem with `status`.
pub fn assert_problem(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.text);
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(ct, "application/problem+json", "body: {}", r.text);
    assert_eq!(r.body["status"], status);
    assert!(
        r.body["title"].is_string() && r.body["detail"].is_string() && r.body["type"].is_string(),
        "{}",
        r.text
    );
}
