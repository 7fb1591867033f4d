//! The caller and their org.

use crate::api::{MeView, OrgView};
use axum::{Extension, Json};
use plaza_core::access::Principal;
use plaza_core::identity::Org;

/// Who the caller is.
#[utoipa::path(get, path = "/api/me", tag = "identity", security(("bearer" = [])), responses((status = 200, body = MeView), (status = 401, body = crate::problem::Problem)))]
pub async fn show(
    Extension(p): Extension<Principal>,
    Extension(org): Extension<Org>,
) -> Json<MeView> {
    Json(MeView::new(p, org))
}

/// An org the caller belongs to.
#[utoipa::path(get, path = "/api/orgs/{org}", tag = "identity", security(("bearer" = [])), params(("org" = String, Path, description = "Org slug")), responses((status = 200, body = OrgView), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn org(Extension(org): Extension<Org>) -> Json<OrgView> {
    Json(org.into())
}
