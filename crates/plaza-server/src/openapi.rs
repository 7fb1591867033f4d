//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::api::*;
use crate::problem::{Problem, ProblemItem};
use crate::routes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Plaza API", description = "The governed marketplace for an enterprise's micro-apps. Errors are RFC 9457 problem+json."),
    paths(
        routes::meta::index, routes::meta::openapi, routes::meta::manifest_schema,
        routes::health::healthz, routes::health::readyz, routes::health::metrics,
        routes::manifests::validate, routes::me::show, routes::me::org,
        routes::tokens::list, routes::tokens::create, routes::tokens::revoke,
        routes::audit::list, routes::audit::verify,
        routes::teams::list, routes::teams::create, routes::teams::show, routes::teams::members,
        routes::teams::add_member, routes::teams::remove_member,
        routes::users::list, routes::users::create, routes::users::set_roles,
        routes::apps::list, routes::apps::register, routes::apps::show,
    ),
    components(schemas(Problem, ProblemItem, OrgView, TeamView, UserView, MeView, TokenView, CreatedTokenView,
        NewTokenRequest, NewTeamRequest, NewUserRequest, SetRolesRequest, AuditRecordView, AuditVerifyView,
        AppVersionView, ValidationView, HealthView)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("A Plaza API token (`plz_…`) or an OIDC JWT from the configured identity provider")).build()),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}
