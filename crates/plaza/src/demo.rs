//! `serve --demo`: a demo org with teams, users of every role and a few registered apps, so a
//! newcomer sees something real. Seeding runs once; later starts only hand out a fresh admin
//! token (or honour `PLAZA_DEMO_TOKEN`).

use anyhow::Context;
use plaza_core::access::AuthMethod;
use plaza_core::identity::{Role, RoleSet};
use plaza_core::ids::TokenId;
use plaza_core::service::Services;
use plaza_core::token::TokenSecret;

/// The demo org's slug.
pub const DEMO_ORG: &str = "demo";
/// The demo admin's handle.
pub const DEMO_ADMIN: &str = "demo-admin";

/// Manifests of the demo apps: the seed article's example and two more.
const DEMO_MANIFESTS: [(&str, &str); 3] = [
    ("where2eat.yaml", include_str!("../demo/where2eat.yaml")),
    (
        "expense-lens.yaml",
        include_str!("../demo/expense-lens.yaml"),
    ),
    (
        "standup-digest.json",
        include_str!("../demo/standup-digest.json"),
    ),
];

/// Seeds the demo org if it does not exist, and returns a working token for the demo admin.
pub async fn seed(services: &Services, fixed: Option<String>) -> anyhow::Result<TokenSecret> {
    let fixed = match fixed {
        Some(t) => Some(
            TokenSecret::from_operator(&t).map_err(|e| anyhow::anyhow!("PLAZA_DEMO_TOKEN: {e}"))?,
        ),
        None => None,
    };
    if services.store().find_org_by_slug(DEMO_ORG).await?.is_none() {
        let boot = services
            .bootstrap(DEMO_ORG, "Demo Org", DEMO_ADMIN, fixed)
            .await?;
        populate(services).await.context("seeding the demo org")?;
        return Ok(boot.token);
    }
    if let Some(t) = &fixed {
        if services.authenticate_token(t.expose()).await.is_ok() {
            return Ok(t.clone());
        }
    }
    let admin = admin_principal(services).await?;
    let new = services
        .issue_token(&admin, "demo start-up", Some(30), fixed)
        .await?;
    Ok(new.secret)
}

async fn admin_principal(services: &Services) -> anyhow::Result<plaza_core::access::Principal> {
    let org = services.org_by_slug(DEMO_ORG).await?;
    let admin = services.user_by_handle(&org.id, DEMO_ADMIN).await?;
    let method = AuthMethod::Token {
        token_id: TokenId::from("demo-seed"),
    };
    Ok(services.principal_for(admin, method).await?)
}

async fn populate(services: &Services) -> anyhow::Result<()> {
    let admin = admin_principal(services).await?;
    let org = services.org_by_slug(DEMO_ORG).await?;
    for (slug, name) in [
        ("platform", "Platform Engineering"),
        ("payments", "Payments"),
        ("data", "Data Science"),
    ] {
        services.create_team(&admin, &org, slug, name).await?;
    }
    let people: [(&str, &str, &[Role], &str); 5] = [
        (
            "alice",
            "Alice Author",
            &[Role::Author, Role::Consumer],
            "platform",
        ),
        ("bob", "Bob Consumer", &[Role::Consumer], "payments"),
        ("carol", "Carol Reviewer", &[Role::Reviewer], "platform"),
        ("dave", "Dave Finance", &[Role::Finance], "payments"),
        (
            "erin",
            "Erin Council",
            &[Role::Council, Role::Reviewer],
            "data",
        ),
    ];
    for (handle, name, roles, team) in people {
        let email = format!("{handle}@demo.example");
        services
            .create_user(
                &admin,
                &org,
                handle,
                Some(name),
                Some(&email),
                RoleSet::new(roles.iter().copied()),
            )
            .await?;
        let team = services.team(&org, team).await?;
        services.add_team_member(&admin, &team, handle).await?;
    }
    let alice = services.user_by_handle(&org.id, "alice").await?;
    let alice = services
        .principal_for(
            alice,
            AuthMethod::Token {
                token_id: TokenId::from("demo-seed"),
            },
        )
        .await?;
    for (name, text) in DEMO_MANIFESTS {
        let outcome = plaza_manifest::load(name, text.as_bytes());
        let manifest = outcome.manifest.with_context(|| {
            format!(
                "demo manifest {name} is invalid:\n{}",
                plaza_manifest::render_text(&outcome.diagnostics)
            )
        })?;
        services
            .register_app_version(&alice, &org, serde_json::to_value(&manifest)?)
            .await?;
    }
    Ok(())
}
