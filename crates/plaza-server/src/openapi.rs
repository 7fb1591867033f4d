//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::api::*;
use crate::problem::{Problem, ProblemItem};
use crate::routes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Plaza API", description = "The governed marketplace for an enterprise's micro-apps. Errors are RFC 9457 problem+json."),
    paths(
        routes::apps::smoke_test, routes::installs::permissions, routes::installs::install, routes::installs::list,
        routes::installs::show, routes::installs::uninstall, routes::installs::consent,
        routes::installs::upgrade, routes::installs::rollback, routes::installs::issue_token,
        routes::installs::unused_grants, routes::installs::jwks, routes::installs::exchange,
        routes::installs::calendar_events,
        routes::supply::list_all, routes::supply::list, routes::supply::register, routes::supply::revoke,
        routes::supply::marketplace_keys, routes::supply::timestamp, routes::supply::settings,
        routes::supply::set_settings, routes::supply::scans, routes::supply::notifications,
        routes::supply::list_vex, routes::supply::add_vex, routes::supply::remove_vex,
        routes::meta::index, routes::meta::openapi, routes::meta::manifest_schema,
        routes::health::healthz, routes::health::readyz, routes::health::metrics,
        routes::manifests::validate, routes::me::show, routes::me::org,
        routes::tokens::list, routes::tokens::create, routes::tokens::revoke,
        routes::audit::list, routes::audit::verify,
        routes::teams::list, routes::teams::create, routes::teams::show, routes::teams::members,
        routes::teams::add_member, routes::teams::remove_member, routes::teams::settings, routes::teams::set_settings,
        routes::users::list, routes::users::create, routes::users::set_roles, routes::users::list_tokens, routes::users::issue_token,
        routes::apps::list, routes::apps::register, routes::apps::show,
        routes::policies::list, routes::policies::push, routes::policies::show, routes::policies::preview,
        routes::policies::mode, routes::policies::set_mode, routes::policies::exceptions, routes::policies::grant,
        routes::policies::revoke, routes::policies::decisions,
        routes::usage::ingest, routes::usage::dead_letters, routes::usage::replay,
        routes::usage::query, routes::usage::gaps, routes::usage::periods, routes::usage::mark_period,
        routes::usage::corrections, routes::usage::settings, routes::usage::set_settings,
    ),
    components(schemas(crate::wasm::smoke::SmokeReport, ResourcesView, RequestedCredentialView, PermissionRequestView, GrantView,
        ResourceChangeView, PermissionDeltaView, PendingUpgradeView, InstanceView, InstallRequestBody,
        ConsentBody, UpgradeBody, UpgradeView, CapabilityView, ExchangeView, OAuthErrorView,
        GrantUseView, UnusedGrantsView, Problem, ProblemItem, OrgView, TeamView, UserView, MeView, TokenView, CreatedTokenView,
        NewTokenRequest, NewTeamRequest, RoleName, NewUserRequest, SetRolesRequest, AuditRecordView, AuditVerifyView,
        AppVersionView, ValidationView, HealthView, PolicyFileView, PolicyPushRequest, PolicyVersionView,
        PolicyModeView, NewExceptionRequest, ExceptionView, DecisionView, PreviewRowView,
        IngestReportView, EventReportView, EventProblemView, DeadLetterView,
        UsageAnswerView, UsageRowView, InstanceGapsView, PeriodMarkRequest, PeriodStatusView, CorrectionView, UsageSettingsView, UsageSettingsRequest,
        PublisherKeyView, RegisterKeyBody, RevokeKeyBody, MarketplaceKeyView, TimestampBody,
        ScanView, BlockView, VersionScansView, NotificationView, TrustedBuilderView, SupplySettingsView, VexBody, VexView, TeamSettingsView)),
    modifiers(&BearerAuth, &ProblemResponses),
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

/// Documents the error answers every operation can give, uniformly: 401 and 403 where a token
/// is required, 400/413/415/422 where a body is read, 400 where a query string is parsed, 404
/// where the path names something, 503 for timeouts; and gives every 4xx/5xx answer the
/// `application/problem+json` media type, which is what the server sends.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            // Token exchange answers OAuth clients in RFC 6749's error format, as documented
            // on the route itself.
            let oauth = path == "/api/token/exchange";
            for op in ops.into_iter().flatten() {
                if oauth {
                    op.responses
                        .responses
                        .entry("503".to_owned())
                        .or_insert_with(|| problem_response("The request timed out").into());
                    continue;
                }
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_query = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, ParameterIn::Query))
                });
                let mut wanted: Vec<(&str, &str)> =
                    vec![("503", "The request timed out or a dependency is down")];
                if secured {
                    wanted.push(("401", "Missing, malformed, expired or revoked credentials"));
                    wanted.push(("403", "Authenticated, but not allowed"));
                }
                if has_body {
                    wanted.push(("400", "The body is not well-formed"));
                    wanted.push(("413", "The body is larger than the server accepts"));
                    wanted.push(("415", "The body's media type is not accepted"));
                    wanted.push((
                        "422",
                        "The body is well-formed but invalid; `errors` says where",
                    ));
                }
                if has_query {
                    wanted.push(("400", "The query string is malformed"));
                    wanted.push(("422", "A query parameter is out of range"));
                }
                if path.contains('{') {
                    wanted.push(("404", "What the path names does not exist"));
                }
                for (status, description) in wanted {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem_response(description).into());
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(r) = response {
                        if status.starts_with('4') || status.starts_with('5') {
                            let description = r.description.clone();
                            *r = problem_response(&description);
                        }
                    }
                }
            }
        }
    }
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            crate::problem::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}
