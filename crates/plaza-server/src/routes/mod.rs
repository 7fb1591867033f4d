//! The route table: every route with its method, path and [`Access`] rule, in one list. The
//! router is built from this list, the OpenAPI document must cover it, and the authorization
//! matrix test walks it, so a route cannot be added without declaring who may call it.

pub(crate) mod apps;
pub(crate) mod audit;
pub(crate) mod health;
pub(crate) mod installs;
pub(crate) mod manifests;
pub(crate) mod me;
pub(crate) mod meta;
pub(crate) mod policies;
pub(crate) mod run;
pub(crate) mod supply;
pub(crate) mod teams;
pub(crate) mod tokens;
pub(crate) mod usage;
pub(crate) mod users;

use crate::auth::guard;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, head, patch, post, put, MethodRouter};
use axum::Router;
use plaza_core::access::Access;
use plaza_core::identity::Role;

/// One route and its rule.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path, in axum/OpenAPI template syntax (`/api/orgs/{org}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

const ADMIN: Access = Access::OrgRole(&[Role::Admin]);
const AUTHOR: Access = Access::OrgRole(&[Role::Author]);
const COUNCIL: Access = Access::OrgRole(&[Role::Council]);
const AUDITOR: Access = Access::OrgRole(&[Role::Admin, Role::Council]);
/// Who reports an app's usage: its publisher's authors, or an admin.
const PUBLISHER: Access = Access::OrgRole(&[Role::Author, Role::Admin]);
/// Who sends usage events: a publisher, or an instance with its capability token.
const REPORTER: Access = Access::InstanceOrRole(&[Role::Author, Role::Admin]);
/// Who smoke-tests an app version: its authors, reviewers, admins.
const TESTER: Access = Access::OrgRole(&[Role::Author, Role::Reviewer, Role::Admin]);
/// Who installs apps for a team: its consumers (pending an admin's consent) or an admin.
const INSTALLER: Access = Access::OrgRole(&[Role::Consumer, Role::Admin]);

#[rustfmt::skip] // a table reads best as one route per line
fn table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    let r = |method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>| {
        (RouteSpec { method, path, access }, handler)
    };
    use Access::{Authenticated, OrgMember, Public};
    vec![
        r(Method::GET, "/", Public, get(meta::index)),
        r(Method::GET, "/healthz", Public, get(health::healthz)),
        r(Method::GET, "/readyz", Public, get(health::readyz)),
        r(Method::GET, "/metrics", Public, get(health::metrics)),
        r(Method::GET, "/api/openapi.json", Public, get(meta::openapi)),
        r(Method::GET, "/api/schemas/manifest.json", Public, get(meta::manifest_schema)),
        r(Method::POST, "/api/manifests/validate", Authenticated, post(manifests::validate)),
        r(Method::GET, "/api/me", Authenticated, get(me::show)),
        r(Method::GET, "/api/tokens", Authenticated, get(tokens::list)),
        r(Method::POST, "/api/tokens", Authenticated, post(tokens::create)),
        r(Method::DELETE, "/api/tokens/{id}", Authenticated, delete(tokens::revoke)),
        r(Method::GET, "/api/audit", AUDITOR, get(audit::list)),
        r(Method::GET, "/api/audit/verify", ADMIN, get(audit::verify)),
        r(Method::GET, "/api/orgs/{org}", OrgMember, get(me::org)),
        r(Method::GET, "/api/orgs/{org}/teams", OrgMember, get(teams::list)),
        r(Method::POST, "/api/orgs/{org}/teams", ADMIN, post(teams::create)),
        r(Method::GET, "/api/orgs/{org}/teams/{team}", OrgMember, get(teams::show)),
        r(Method::GET, "/api/orgs/{org}/teams/{team}/members", OrgMember, get(teams::members)),
        r(Method::GET, "/api/orgs/{org}/teams/{team}/settings", OrgMember, get(teams::settings)),
        r(Method::PUT, "/api/orgs/{org}/teams/{team}/settings", ADMIN, put(teams::set_settings)),
        r(Method::PUT, "/api/orgs/{org}/teams/{team}/members/{user}", ADMIN, put(teams::add_member)),
        r(Method::DELETE, "/api/orgs/{org}/teams/{team}/members/{user}", ADMIN, delete(teams::remove_member)),
        r(Method::GET, "/api/orgs/{org}/users", ADMIN, get(users::list)),
        r(Method::POST, "/api/orgs/{org}/users", ADMIN, post(users::create)),
        r(Method::PUT, "/api/orgs/{org}/users/{user}/roles", ADMIN, put(users::set_roles)),
        r(Method::GET, "/api/orgs/{org}/users/{user}/tokens", ADMIN, get(users::list_tokens)),
        r(Method::POST, "/api/orgs/{org}/users/{user}/tokens", ADMIN, post(users::issue_token)),
        r(Method::GET, "/api/orgs/{org}/apps", OrgMember, get(apps::list)),
        r(Method::POST, "/api/orgs/{org}/apps", AUTHOR, post(apps::register)),
        r(Method::GET, "/api/orgs/{org}/apps/{app}/versions/{version}", OrgMember, get(apps::show)),
        r(Method::POST, "/api/orgs/{org}/apps/{app}/versions/{version}/smoke-test", TESTER, post(apps::smoke_test)),
        r(Method::GET, "/api/orgs/{org}/apps/{app}/permissions", OrgMember, get(installs::permissions)),
        r(Method::POST, "/api/installs", INSTALLER, post(installs::install)),
        r(Method::GET, "/api/installs", OrgMember, get(installs::list)),
        r(Method::GET, "/api/installs/{id}", OrgMember, get(installs::show)),
        r(Method::DELETE, "/api/installs/{id}", OrgMember, delete(installs::uninstall)),
        r(Method::POST, "/api/installs/{id}/consent", ADMIN, post(installs::consent)),
        r(Method::POST, "/api/installs/{id}/upgrade", OrgMember, post(installs::upgrade)),
        r(Method::POST, "/api/installs/{id}/rollback", OrgMember, post(installs::rollback)),
        r(Method::POST, "/api/installs/{id}/tokens", OrgMember, post(installs::issue_token)),
        r(Method::GET, "/api/installs/{id}/unused-grants", OrgMember, get(installs::unused_grants)),
        r(Method::GET, "/.well-known/jwks.json", Public, get(installs::jwks)),
        r(Method::POST, "/api/token/exchange", Public, post(installs::exchange)),
        r(Method::GET, "/api/mock/calendar/events", Public, get(installs::calendar_events)),
        r(Method::GET, "/api/orgs/{org}/publisher-keys", OrgMember, get(supply::list_all)),
        r(Method::POST, "/api/orgs/{org}/publisher-keys/{key}/revoke", PUBLISHER, post(supply::revoke)),
        r(Method::GET, "/api/orgs/{org}/publishers/{publisher}/keys", OrgMember, get(supply::list)),
        r(Method::POST, "/api/orgs/{org}/publishers/{publisher}/keys", PUBLISHER, post(supply::register)),
        r(Method::GET, "/api/marketplace-keys", Public, get(supply::marketplace_keys)),
        r(Method::POST, "/api/timestamps", Authenticated, post(supply::timestamp)),
        r(Method::GET, "/api/orgs/{org}/supply-settings", OrgMember, get(supply::settings)),
        r(Method::PUT, "/api/orgs/{org}/supply-settings", ADMIN, put(supply::set_settings)),
        r(Method::GET, "/api/orgs/{org}/apps/{app}/versions/{version}/scans", OrgMember, get(supply::scans)),
        r(Method::GET, "/api/notifications", Authenticated, get(supply::notifications)),
        r(Method::GET, "/api/orgs/{org}/apps/{app}/vex", OrgMember, get(supply::list_vex)),
        r(Method::POST, "/api/orgs/{org}/apps/{app}/vex", TESTER, post(supply::add_vex)),
        r(Method::DELETE, "/api/orgs/{org}/apps/{app}/vex/{id}", TESTER, delete(supply::remove_vex)),
        r(Method::GET, "/api/orgs/{org}/policies", OrgMember, get(policies::list)),
        r(Method::POST, "/api/orgs/{org}/policies", ADMIN, post(policies::push)),
        r(Method::POST, "/api/orgs/{org}/policies/preview", ADMIN, post(policies::preview)),
        r(Method::GET, "/api/orgs/{org}/policies/{version}", OrgMember, get(policies::show)),
        r(Method::GET, "/api/orgs/{org}/policy-mode", OrgMember, get(policies::mode)),
        r(Method::PUT, "/api/orgs/{org}/policy-mode", ADMIN, put(policies::set_mode)),
        r(Method::GET, "/api/orgs/{org}/exceptions", OrgMember, get(policies::exceptions)),
        r(Method::POST, "/api/orgs/{org}/exceptions", COUNCIL, post(policies::grant)),
        r(Method::DELETE, "/api/orgs/{org}/exceptions/{id}", COUNCIL, delete(policies::revoke)),
        r(Method::GET, "/api/orgs/{org}/decisions", OrgMember, get(policies::decisions)),
        r(Method::GET, "/api/orgs/{org}/usage-settings", OrgMember, get(usage::settings)),
        r(Method::PUT, "/api/orgs/{org}/usage-settings", ADMIN, put(usage::set_settings)),
        r(Method::POST, "/api/usage/events", REPORTER, post(usage::ingest)),
        r(Method::GET, "/api/usage/dead-letters", PUBLISHER, get(usage::dead_letters)),
        r(Method::POST, "/api/usage/dead-letters/{id}/replay", PUBLISHER, post(usage::replay)),
        r(Method::GET, "/api/usage/query", PUBLISHER, get(usage::query)),
        r(Method::GET, "/api/usage/gaps", PUBLISHER, get(usage::gaps)),
        r(Method::GET, "/api/usage/periods", PUBLISHER, get(usage::periods)),
        r(Method::POST, "/api/usage/periods", PUBLISHER, post(usage::mark_period)),
        r(Method::GET, "/api/usage/corrections", PUBLISHER, get(usage::corrections)),
        // Wasm apps: any signed-in member of the instance's org (checked by the handler).
        r(Method::GET, "/apps/{instance}", Authenticated, get(run::invoke)),
        r(Method::POST, "/apps/{instance}", Authenticated, post(run::invoke)),
        r(Method::GET, "/apps/{instance}/", Authenticated, get(run::invoke)),
        r(Method::POST, "/apps/{instance}/", Authenticated, post(run::invoke)),
        r(Method::GET, "/apps/{instance}/{*path}", Authenticated, get(run::invoke)),
        r(Method::POST, "/apps/{instance}/{*path}", Authenticated, post(run::invoke)),
        r(Method::PUT, "/apps/{instance}/{*path}", Authenticated, put(run::invoke)),
        r(Method::DELETE, "/apps/{instance}/{*path}", Authenticated, delete(run::invoke)),
        // The OCI Distribution API authenticates and authorizes inside (`oci::access`), so that
        // registry clients get the spec's error bodies and challenges.
        r(Method::GET, "/v2/", Public, get(crate::oci::base)),
        r(Method::GET, "/v2/token", Public, get(crate::oci::token)),
        r(Method::GET, "/v2/{*path}", Public, get(crate::oci::dispatch)),
        r(Method::HEAD, "/v2/{*path}", Public, head(crate::oci::dispatch)),
        r(Method::POST, "/v2/{*path}", Public, post(crate::oci::dispatch)),
        r(Method::PATCH, "/v2/{*path}", Public, patch(crate::oci::dispatch)),
        r(Method::PUT, "/v2/{*path}", Public, put(crate::oci::dispatch)),
        r(Method::DELETE, "/v2/{*path}", Public, delete(crate::oci::dispatch)),
    ]
}

/// Every route and its rule.
pub fn route_specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}

/// The router: each route behind its guard, unknown paths and methods answered as problem+json.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in table() {
        let guarded = handler.layer(from_fn_with_state((state.clone(), spec.access), guard));
        router = router.route(spec.path, guarded);
    }
    router
        .fallback(|| async { ApiError::not_found("no such route; see /api/openapi.json") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}
