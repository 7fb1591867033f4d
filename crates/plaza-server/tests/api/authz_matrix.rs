//! The authorization matrix: every route × every role × own org / other org, plus no token.
//!
//! The expected rule of each route is written here, independently of the route table; a route
//! the server has but this table lacks fails the test, so no route ships without an entry.

use crate::support::{assert_problem, TestApp, SEED_MANIFEST};
use axum::http::Method;
use plaza_core::identity::Role;
use plaza_server::routes::route_specs;

#[derive(Clone, Copy, Debug)]
enum Rule {
    Public,
    /// Any signed-in user, any org (the route touches only the caller's own things).
    Auth,
    Member,
    Admin,
    Author,
    /// Admin or council.
    Auditor,
    Council,
    /// The OCI API base check: any signed-in user; 401 (with the OCI challenge) otherwise.
    RegistryBase,
    /// OCI reads: members of the repository's namespace org.
    RegistryPull,
    /// OCI writes: authors and admins of the repository's namespace org.
    RegistryPush,
    /// Authors or admins of the org (usage reporting).
    Publisher,
    /// Consumers or admins of the org (installing apps).
    Installer,
    /// Authors, reviewers or admins of the org (smoke tests).
    Tester,
    /// Public routes that check a credential of their own (token exchange, the mock calendar):
    /// no user token is refused with 403, and none answers 5xx.
    OwnCredential,
}

#[rustfmt::skip] // one route per line
const EXPECTED: &[(&str, &str, Rule)] = &[
    ("GET", "/", Rule::Public),
    ("GET", "/healthz", Rule::Public),
    ("GET", "/readyz", Rule::Public),
    ("GET", "/metrics", Rule::Public),
    ("GET", "/api/openapi.json", Rule::Public),
    ("GET", "/api/schemas/manifest.json", Rule::Public),
    ("POST", "/api/manifests/validate", Rule::Auth),
    ("GET", "/api/me", Rule::Auth),
    ("GET", "/api/tokens", Rule::Auth),
    ("POST", "/api/tokens", Rule::Auth),
    ("DELETE", "/api/tokens/{id}", Rule::Auth),
    ("GET", "/api/audit", Rule::Auditor),
    ("GET", "/api/audit/verify", Rule::Admin),
    ("GET", "/api/orgs/{org}", Rule::Member),
    ("GET", "/api/orgs/{org}/teams", Rule::Member),
    ("POST", "/api/orgs/{org}/teams", Rule::Admin),
    ("GET", "/api/orgs/{org}/teams/{team}", Rule::Member),
    ("GET", "/api/orgs/{org}/teams/{team}/members", Rule::Member),
    ("GET", "/api/orgs/{org}/teams/{team}/settings", Rule::Member),
    ("PUT", "/api/orgs/{org}/teams/{team}/settings", Rule::Admin),
    (
        "PUT",
        "/api/orgs/{org}/teams/{team}/members/{user}",
        Rule::Admin,
    ),
    (
        "DELETE",
        "/api/orgs/{org}/teams/{team}/members/{user}",
        Rule::Admin,
    ),
    ("GET", "/api/orgs/{org}/users", Rule::Admin),
    ("POST", "/api/orgs/{org}/users", Rule::Admin),
    ("PUT", "/api/orgs/{org}/users/{user}/roles", Rule::Admin),
    ("GET", "/api/orgs/{org}/users/{user}/tokens", Rule::Admin),
    ("POST", "/api/orgs/{org}/users/{user}/tokens", Rule::Admin),
    ("GET", "/api/orgs/{org}/apps", Rule::Member),
    ("POST", "/api/orgs/{org}/apps", Rule::Author),
    ("GET", "/api/orgs/{org}/apps/{app}/versions/{version}", Rule::Member),
    ("POST", "/api/orgs/{org}/apps/{app}/versions/{version}/smoke-test", Rule::Tester),
    ("GET", "/api/orgs/{org}/apps/{app}/permissions", Rule::Member),
    ("POST", "/api/installs", Rule::Installer),
    ("GET", "/api/installs", Rule::Member),
    ("GET", "/api/installs/{id}", Rule::Member),
    ("DELETE", "/api/installs/{id}", Rule::Member),
    ("POST", "/api/installs/{id}/consent", Rule::Admin),
    ("POST", "/api/installs/{id}/upgrade", Rule::Member),
    ("POST", "/api/installs/{id}/rollback", Rule::Member),
    ("POST", "/api/installs/{id}/tokens", Rule::Member),
    ("GET", "/api/installs/{id}/unused-grants", Rule::Member),
    ("GET", "/.well-known/jwks.json", Rule::Public),
    ("POST", "/api/token/exchange", Rule::OwnCredential),
    ("GET", "/api/mock/calendar/events", Rule::OwnCredential),
    ("GET", "/api/orgs/{org}/publisher-keys", Rule::Member),
    ("POST", "/api/orgs/{org}/publisher-keys/{key}/revoke", Rule::Publisher),
    ("GET", "/api/orgs/{org}/publishers/{publisher}/keys", Rule::Member),
    ("POST", "/api/orgs/{org}/publishers/{publisher}/keys", Rule::Publisher),
    ("GET", "/api/marketplace-keys", Rule::Public),
    ("POST", "/api/timestamps", Rule::Auth),
    ("GET", "/api/orgs/{org}/supply-settings", Rule::Member),
    ("PUT", "/api/orgs/{org}/supply-settings", Rule::Admin),
    ("GET", "/api/orgs/{org}/apps/{app}/versions/{version}/scans", Rule::Member),
    ("GET", "/api/notifications", Rule::Auth),
    ("GET", "/api/orgs/{org}/apps/{app}/vex", Rule::Member),
    ("POST", "/api/orgs/{org}/apps/{app}/vex", Rule::Tester),
    ("DELETE", "/api/orgs/{org}/apps/{app}/vex/{id}", Rule::Tester),
    ("GET", "/api/orgs/{org}/policies", Rule::Member),
    ("POST", "/api/orgs/{org}/policies", Rule::Admin),
    ("POST", "/api/orgs/{org}/policies/preview", Rule::Admin),
    ("GET", "/api/orgs/{org}/policies/{version}", Rule::Member),
    ("GET", "/api/orgs/{org}/policy-mode", Rule::Member),
    ("PUT", "/api/orgs/{org}/policy-mode", Rule::Admin),
    ("GET", "/api/orgs/{org}/exceptions", Rule::Member),
    ("POST", "/api/orgs/{org}/exceptions", Rule::Council),
    ("DELETE", "/api/orgs/{org}/exceptions/{id}", Rule::Council),
    ("GET", "/api/orgs/{org}/decisions", Rule::Member),
    ("GET", "/api/orgs/{org}/usage-settings", Rule::Member),
    ("PUT", "/api/orgs/{org}/usage-settings", Rule::Admin),
    ("POST", "/api/usage/events", Rule::Publisher),
    ("GET", "/api/usage/dead-letters", Rule::Publisher),
    ("POST", "/api/usage/dead-letters/{id}/replay", Rule::Publisher),
    ("GET", "/api/usage/query", Rule::Publisher),
    ("GET", "/api/usage/gaps", Rule::Publisher),
    ("GET", "/api/usage/periods", Rule::Publisher),
    ("POST", "/api/usage/periods", Rule::Publisher),
    ("GET", "/api/usage/corrections", Rule::Publisher),
    ("GET", "/apps/{instance}", Rule::Auth),
    ("POST", "/apps/{instance}", Rule::Auth),
    ("GET", "/apps/{instance}/", Rule::Auth),
    ("POST", "/apps/{instance}/", Rule::Auth),
    ("GET", "/apps/{instance}/{*path}", Rule::Auth),
    ("POST", "/apps/{instance}/{*path}", Rule::Auth),
    ("PUT", "/apps/{instance}/{*path}", Rule::Auth),
    ("DELETE", "/apps/{instance}/{*path}", Rule::Auth),
    ("GET", "/v2/", Rule::RegistryBase),
    ("GET", "/v2/token", Rule::RegistryBase),
    ("GET", "/v2/{*path}", Rule::RegistryPull),
    ("HEAD", "/v2/{*path}", Rule::RegistryPull),
    ("POST", "/v2/{*path}", Rule::RegistryPush),
    ("PATCH", "/v2/{*path}", Rule::RegistryPush),
    ("PUT", "/v2/{*path}", Rule::RegistryPush),
    ("DELETE", "/v2/{*path}", Rule::RegistryPush),
];

/// Whether `role` may call a route with `rule`. `same_org` is whether the org the path names is the
/// caller's; a path that names no org acts on the caller's own org.
fn allowed(rule: Rule, role: Role, same_org: bool) -> bool {
    match rule {
        Rule::Public | Rule::Auth | Rule::OwnCredential => true,
        Rule::Installer => same_org && matches!(role, Role::Consumer | Role::Admin),
        Rule::Tester => same_org && matches!(role, Role::Author | Role::Reviewer | Role::Admin),
        Rule::Member => same_org,
        Rule::Admin => same_org && role == Role::Admin,
        Rule::Author => same_org && role == Role::Author,
        Rule::Auditor => same_org && matches!(role, Role::Admin | Role::Council),
        Rule::Council => same_org && role == Role::Council,
        Rule::RegistryBase => true,
        Rule::RegistryPull => same_org,
        Rule::RegistryPush | Rule::Publisher => {
            same_org && matches!(role, Role::Author | Role::Admin)
        }
    }
}

fn concrete(path: &str, org: &str, n: usize) -> String {
    if path == "/v2/{*path}" {
        return format!("/v2/{org}/com.example.where2eat/tags/list");
    }
    path.replace("{org}", org)
        .replace("{instance}", "inst-missing")
        .replace("{*path}", "healthz")
        .replace("{team}", "platform")
        .replace("{user}", "consumer")
        .replace("{app}", "com.example.where2eat")
        .replace("{publisher}", "did:example:maintainer")
        .replace("{key}", &format!("key-missing{n}"))
        .replace(
            "{version}",
            if path.contains("/policies/") {
                "1"
            } else {
                "1.2.0"
            },
        )
        .replace("{id}", &format!("tok_missing{n}"))
}

fn body_for(method: &Method, path: &str, n: usize) -> Option<(&'static str, Vec<u8>)> {
    let json = |v: serde_json::Value| Some(("application/json", v.to_string().into_bytes()));
    match (method.as_str(), path) {
        ("POST", "/api/orgs/{org}/teams") => json(serde_json::json!({"slug": format!("team-{n}")})),
        ("POST", "/api/orgs/{org}/users") => {
            json(serde_json::json!({"handle": format!("user-{n}")}))
        }
        ("PUT", "/api/orgs/{org}/users/{user}/roles") => {
            json(serde_json::json!({"roles": ["consumer"]}))
        }
        ("POST", "/api/tokens") | ("POST", "/api/orgs/{org}/users/{user}/tokens") => {
            json(serde_json::json!({"name": "matrix"}))
        }
        ("POST", "/api/orgs/{org}/policies") | ("POST", "/api/orgs/{org}/policies/preview") => {
            json(serde_json::json!({"files": [], "settings": {}}))
        }
        ("PUT", "/api/orgs/{org}/teams/{team}/settings") => {
            json(serde_json::json!({"autoUpgrade": true}))
        }
        ("PUT", "/api/orgs/{org}/policy-mode") => json(serde_json::json!({"mode": "enforce"})),
        ("POST", "/api/orgs/{org}/exceptions") => json(serde_json::json!({
            "appId": "com.example.where2eat", "ruleId": "plaza.sbom.required", "reason": "matrix",
            "expiresAt": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
        })),
        ("POST", "/api/usage/events") => json(serde_json::json!({
            "eventId": format!("evt-matrix-{n}"), "appId": "com.example.where2eat",
            "instanceId": "inst-9a3f", "metric": "api_calls", "value": 1,
            "timestamp": chrono::Utc::now().to_rfc3339(),
        })),
        ("PUT", "/api/orgs/{org}/usage-settings") => {
            json(serde_json::json!({"lateArrivalDays": 40}))
        }
        ("POST", "/api/usage/periods") => json(serde_json::json!({
            "appId": "com.example.where2eat", "instanceId": "inst-9a3f",
            "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z",
            "firstSequence": 1, "lastSequence": n,
        })),
        // A team no one is in: the route's rule is what is tested here, not team membership.
        ("POST", "/api/installs") => json(serde_json::json!({
            "appId": "com.example.where2eat", "team": format!("no-such-team-{n}"),
        })),
        ("POST", "/api/installs/{id}/consent") => json(serde_json::json!({})),
        ("POST", "/api/orgs/{org}/publishers/{publisher}/keys") => {
            json(serde_json::json!({"publicKey": "not a key"}))
        }
        ("POST", "/api/orgs/{org}/publisher-keys/{key}/revoke") => {
            json(serde_json::json!({"reason": "matrix"}))
        }
        ("POST", "/api/timestamps") => json(serde_json::json!({"signature": "AAAA"})),
        ("POST", "/api/orgs/{org}/apps/{app}/vex") => json(serde_json::json!({
            "vulnerability": "CVE-2024-0001", "status": "not_affected",
            "justification": "component_not_present",
        })),
        ("PUT", "/api/orgs/{org}/supply-settings") => json(serde_json::json!({
            "trustedBuilders": [{"id": "https://github.com/actions/runner", "level": 2}],
            "blockOnRescan": true,
        })),
        ("POST", "/api/installs/{id}/upgrade") => json(serde_json::json!({"version": "1.2.0"})),
        ("POST", "/api/token/exchange") => Some((
            "application/x-www-form-urlencoded",
            b"grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=x&scope=calendar.read".to_vec(),
        )),
        ("POST", "/api/orgs/{org}/apps") | ("POST", "/api/manifests/validate") => {
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec()))
        }
        _ => None,
    }
}

#[tokio::test]
async fn every_route_has_an_expected_rule_and_no_stale_entries() {
    let specs = route_specs();
    for s in &specs {
        assert!(
            EXPECTED
                .iter()
                .any(|(m, p, _)| *m == s.method.as_str() && *p == s.path),
            "route {} {} has no entry in the authorization matrix: add one to EXPECTED",
            s.method,
            s.path
        );
    }
    for (m, p, _) in EXPECTED {
        assert!(
            specs
                .iter()
                .any(|s| s.method.as_str() == *m && s.path == *p),
            "matrix entry {m} {p} names no route"
        );
    }
}

#[tokio::test]
async fn every_route_by_every_role_in_own_and_other_org() {
    let app = TestApp::new().await;
    // Fixtures the paths name, in both orgs.
    for token in [&app.admin_token, &app.other_role_tokens[&Role::Admin]] {
        let me = app.get("/api/me", Some(token)).await;
        let org = me.body["org"]["slug"].as_str().unwrap().to_owned();
        let r = app
            .send_json(
                Method::POST,
                &format!("/api/orgs/{org}/teams"),
                Some(token),
                serde_json::json!({"slug": "platform"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app
        .call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&app.admin_token),
            Some(("application/yaml", SEED_MANIFEST.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let mut n = 0;
    let mut failures = Vec::new();
    for spec in route_specs() {
        let (_, _, rule) = EXPECTED
            .iter()
            .find(|(m, p, _)| *m == spec.method.as_str() && *p == spec.path)
            .copied()
            .expect("checked by the other test");
        // No token.
        n += 1;
        let r = app
            .call(
                spec.method.clone(),
                &concrete(spec.path, "acme", n),
                None,
                body_for(&spec.method, spec.path, n),
            )
            .await;
        let ok = match rule {
            Rule::Public => r.status.is_success(),
            Rule::OwnCredential => r.status.is_client_error() && r.status != 403,
            _ => r.status == 401 && r.headers.contains_key("www-authenticate"),
        };
        if !ok {
            failures.push(format!(
                "{} {} without a token: got {}",
                spec.method, spec.path, r.status
            ));
        }
        // Each role, own org and other org.
        for role in Role::ALL {
            for (same_org, tokens) in [(true, &app.role_tokens), (false, &app.other_role_tokens)] {
                n += 1;
                let path = concrete(spec.path, "acme", n);
                let r = app
                    .call(
                        spec.method.clone(),
                        &path,
                        Some(&tokens[&role]),
                        body_for(&spec.method, spec.path, n),
                    )
                    .await;
                let expect_allowed = allowed(
                    rule,
                    role,
                    // A path that names no org acts on the caller's own; a registry path's
                    // namespace is the org it names.
                    same_org || !(spec.path.contains("{org}") || spec.path.starts_with("/v2/")),
                );
                let ok = if matches!(rule, Rule::OwnCredential) {
                    // A user token is not the route's credential: refused, never forbidden.
                    r.status.is_client_error() && r.status != 403
                } else if expect_allowed {
                    r.status != 401 && r.status != 403 && r.status.as_u16() < 500
                } else {
                    r.status == 403
                };
                if !ok {
                    failures.push(format!(
                        "{} {path} as {role} of {} org: expected {}, got {} {}",
                        spec.method,
                        if same_org { "the same" } else { "another" },
                        if expect_allowed { "allowed" } else { "403" },
                        r.status,
                        r.text.chars().take(300).collect::<String>()
                    ));
                } else if !expect_allowed {
                    if spec.method == Method::HEAD {
                        // No body to read.
                    } else if spec.path.starts_with("/v2/") {
                        // Registry clients read the OCI error body, not problem+json.
                        assert_eq!(r.body["errors"][0]["code"], "DENIED", "{}", r.text);
                    } else {
                        assert_problem(&r, 403);
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} authorization failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let app = TestApp::new().await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    for s in route_specs() {
        if s.path.starts_with("/v2/") || s.path.starts_with("/apps/") {
            // The OCI Distribution API is specified by the OCI distribution spec, and an app's
            // routes by the app, not here.
            continue;
        }
        let op = &doc.body["paths"][s.path][s.method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "OpenAPI lacks {} {}", s.method, s.path);
    }
}

#[test]
fn docs_api_md_lists_every_route() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    for s in route_specs() {
        let row = format!("| {} | `{}` |", s.method, s.path);
        assert!(
            doc.contains(&row),
            "docs/api.md has no row for {} {}",
            s.method,
            s.path
        );
    }
}
