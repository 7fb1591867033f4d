//! `serve --demo`: a demo org with teams, users of every role and a few registered apps, so a
//! newcomer sees something real. Seeding runs once; later starts only hand out a fresh admin
//! token (or honour `PLAZA_DEMO_TOKEN`).

use anyhow::Context;
use plaza_core::access::AuthMethod;
use plaza_core::identity::{Role, RoleSet};
use plaza_core::ids::TokenId;
use plaza_core::registry::StoredManifest;
use plaza_core::service::{Services, MAX_TOKEN_DAYS, UNKNOWN_TOKEN};
use plaza_core::token::TokenSecret;
use plaza_core::CoreError;
use plaza_registry::manifest::media_type;
use plaza_registry::{BlobStore, Digest};

/// The demo org's slug.
pub const DEMO_ORG: &str = "demo";
/// The demo admin's handle.
pub const DEMO_ADMIN: &str = "demo-admin";

/// The example apps (examples/apps), published as real artifacts and installed: the hello app
/// as `inst-hello` and the seed's where2eat as `inst-9a3f` (the instance the seed's usage
/// event names), both for the platform team.
/// Each is signed with the demo publisher key and carries signed provenance and its committed
/// SBOM as referrers (`demo_supply`), and goes through the supply gate.
const DEMO_COMPONENTS: [(&str, &str, &[u8], &[u8]); 2] = [
    (
        "hello/micro-app.yaml",
        include_str!("../../../examples/apps/hello/micro-app.yaml"),
        include_bytes!("../../../examples/apps/hello/hello.wasm"),
        include_bytes!("../../../examples/apps/hello/sbom.cdx.json"),
    ),
    (
        "where2eat/micro-app.yaml",
        include_str!("../../../examples/apps/where2eat/micro-app.yaml"),
        include_bytes!("../../../examples/apps/where2eat/where2eat.wasm"),
        include_bytes!("../../../examples/apps/where2eat/sbom.cdx.json"),
    ),
];

/// Manifests of the other demo apps (registered without artifacts).
const DEMO_MANIFESTS: [(&str, &str); 2] = [
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
/// The example apps' artifacts go into the registry's `blobs`.
pub async fn seed(
    services: &Services,
    blobs: &dyn BlobStore,
    fixed: Option<String>,
) -> anyhow::Result<TokenSecret> {
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
        populate(services, blobs)
            .await
            .context("seeding the demo org")?;
        return Ok(boot.token);
    }
    // A first start stopped part-way (killed while seeding) finishes seeding now.
    populate(services, blobs)
        .await
        .context("completing the demo org")?;
    if let Some(t) = &fixed {
        match services.authenticate_token(t.expose()).await {
            Ok(_) => return Ok(t.clone()),
            Err(CoreError::Unauthenticated(why)) if why != UNKNOWN_TOKEN => anyhow::bail!(
                "PLAZA_DEMO_TOKEN names a demo token that can no longer be used ({why}); \
                 choose a new PLAZA_DEMO_TOKEN, or remove the data directory to start afresh"
            ),
            Err(CoreError::Unauthenticated(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let admin = admin_principal(services).await?;
    let new = services
        .issue_token(&admin, "demo start-up", Some(MAX_TOKEN_DAYS), fixed)
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

async fn populate(services: &Services, blobs: &dyn BlobStore) -> anyhow::Result<()> {
    let admin = admin_principal(services).await?;
    let org = services.org_by_slug(DEMO_ORG).await?;
    for (slug, name) in [
        ("platform", "Platform Engineering"),
        ("payments", "Payments"),
        ("data", "Data Science"),
    ] {
        if services.team(&org, slug).await.is_err() {
            services.create_team(&admin, &org, slug, name).await?;
        }
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
        if services.user_by_handle(&org.id, handle).await.is_err() {
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
        }
        let team = services.team(&org, team).await?;
        let members = services.team_members(&team).await?;
        if !members.iter().any(|m| m.handle == handle) {
            services.add_team_member(&admin, &team, handle).await?;
        }
    }
    let registered = services.list_app_versions(&org).await?;
    if registered.is_empty() {
        // A first start: the demo org runs its policies in warn-only mode, as the seed article
        // advises for a start, so pushes without signatures or provenance are registered with
        // warnings. `PUT /api/orgs/demo/policy-mode {"mode":"enforce"}` turns denials on.
        services
            .set_policy_mode(&admin, &org, plaza_core::policy::PolicyMode::WarnOnly)
            .await?;
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
        let json = serde_json::to_value(&manifest)?;
        let known = registered.iter().any(|v| {
            Some(v.app_id.as_str()) == json["id"].as_str()
                && Some(v.version.as_str()) == json["version"].as_str()
        });
        if known {
            continue;
        }
        // Through the policy gate, as a submission would go, so the decision log has entries.
        services.evaluate_app(&org, &json, None).await?;
        services.register_app_version(&alice, &org, json).await?;
    }
    for (name, text, component, sbom) in DEMO_COMPONENTS {
        let json = valid_manifest(name, text)?;
        let known = registered.iter().any(|v| {
            Some(v.app_id.as_str()) == json["id"].as_str()
                && Some(v.version.as_str()) == json["version"].as_str()
        });
        if known {
            continue;
        }
        let subject = publish(services, blobs, &alice, &org, &json, component)
            .await
            .with_context(|| format!("publishing the example app {name}"))?;
        let materials = crate::demo_supply::sign_and_attach(
            services, blobs, &alice, &org, &json, component, sbom, &subject,
        )
        .await
        .with_context(|| format!("signing the example app {name}"))?;
        let report = services.supply_gate(&org, &json, &materials).await?;
        services
            .evaluate_app(&org, &json, Some(&report.facts()))
            .await?;
        services.register_app_version(&alice, &org, json).await?;
    }
    install_demo_instances(services, &admin, &org).await
}

/// A demo manifest, validated and normalised.
fn valid_manifest(name: &str, text: &str) -> anyhow::Result<serde_json::Value> {
    let outcome = plaza_manifest::load(name, text.as_bytes());
    let manifest = outcome.manifest.with_context(|| {
        format!(
            "demo manifest {name} is invalid:\n{}",
            plaza_manifest::render_text(&outcome.diagnostics)
        )
    })?;
    Ok(serde_json::to_value(&manifest)?)
}

/// Pushes an example app's component into the registry as `plaza push` would: packaged in the
/// CNCF Wasm artifact format (`plaza_registry::package`), its blobs stored and linked, the
/// image manifest tagged with the version.
async fn publish(
    services: &Services,
    blobs: &dyn BlobStore,
    author: &plaza_core::access::Principal,
    org: &plaza_core::identity::Org,
    manifest: &serde_json::Value,
    component: &[u8],
) -> anyhow::Result<plaza_registry::referrer::Subject> {
    let app_id = manifest["id"].as_str().unwrap_or_default();
    let version = manifest["version"].as_str().unwrap_or_default();
    let repo = format!("{}/{app_id}", org.slug);
    let dir = tempfile::tempdir()?;
    let layout = dir.path().join("layout");
    let image_digest = plaza_registry::package::write_layout(&layout, manifest, component)?;
    let read = |d: &Digest| std::fs::read(layout.join("blobs").join("sha256").join(d.hex()));
    let image_digest = Digest::parse(&image_digest)?;
    let image = read(&image_digest)?;
    let parsed = plaza_registry::parse_manifest(&image, Some(media_type::OCI_MANIFEST))?;
    let store = services.store();
    let mut linked = Vec::new();
    for blob in parsed.blob_digests() {
        blobs.put(blob, &read(blob)?).await?;
        store.link_blob(&repo, &blob.to_string()).await?;
        linked.push(blob.to_string());
    }
    blobs.put(&image_digest, &image).await?;
    let now = services.now();
    let stored = StoredManifest {
        repository: repo.clone(),
        digest: image_digest.to_string(),
        media_type: media_type::OCI_MANIFEST.to_owned(),
        artifact_type: parsed.referrer_artifact_type().map(str::to_owned),
        subject: None,
        size: image.len() as i64,
        annotations: serde_json::to_value(&parsed.annotations)?,
        pushed_by: Some(author.user.id.clone()),
        pushed_at: now,
    };
    let audit = plaza_core::audit::AuditEntry::new(
        now,
        Some(org.id.clone()),
        author.actor(),
        "registry.manifest.push",
        format!("oci:{repo}@{image_digest}"),
        serde_json::json!({"tag": version, "mediaType": stored.media_type, "demo": true}),
    );
    store
        .put_manifest(&stored, &linked, Some(version), &audit)
        .await?;
    Ok(plaza_registry::referrer::Subject {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        digest: image_digest,
        size: image.len() as u64,
    })
}

/// The demo's installed instances: where2eat as `inst-9a3f` (the instance the seed's usage
/// event names), for the platform team.
async fn install_demo_instances(
    services: &Services,
    admin: &plaza_core::access::Principal,
    org: &plaza_core::identity::Org,
) -> anyhow::Result<()> {
    let installs = [
        ("com.example.where2eat", "inst-9a3f", "platform", "CC-1001"),
        ("com.example.hello", "inst-hello", "platform", "CC-1001"),
    ];
    for (app_id, id, team, cost_center) in installs {
        if services.instance(admin, id).await.is_ok() {
            continue;
        }
        let request = plaza_core::service::InstallRequest {
            app_id: app_id.to_owned(),
            team: team.to_owned(),
            instance_id: Some(id.to_owned()),
            tags: [("cost-center".to_owned(), cost_center.to_owned())].into(),
            ..Default::default()
        };
        services
            .install(admin, org, &request)
            .await
            .with_context(|| format!("installing {app_id} as {id}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const FIXED: &str = "plz_demo-fixed-token-0123456789";

    async fn blobs(dir: &std::path::Path) -> plaza_registry::FsBlobStore {
        plaza_registry::FsBlobStore::open(dir.join("registry"))
            .await
            .unwrap()
    }

    async fn services(dir: &std::path::Path) -> Services {
        let store = plaza_store::connect(&plaza_store::sqlite_url_for_data_dir(dir))
            .await
            .unwrap();
        Services::new(store, Arc::new(plaza_core::SystemClock))
    }

    #[tokio::test]
    async fn seeding_is_idempotent_and_keeps_the_fixed_token() {
        let dir = tempfile::tempdir().unwrap();
        let s = services(dir.path()).await;
        let b = blobs(dir.path()).await;
        assert_eq!(
            seed(&s, &b, Some(FIXED.into())).await.unwrap().expose(),
            FIXED
        );
        assert_eq!(
            seed(&s, &b, Some(FIXED.into())).await.unwrap().expose(),
            FIXED
        );
        let fresh = seed(&s, &b, None).await.unwrap();
        assert!(s.authenticate_token(fresh.expose()).await.is_ok());
        let org = s.org_by_slug(DEMO_ORG).await.unwrap();
        assert_eq!(s.list_app_versions(&org).await.unwrap().len(), 4);
        // The example apps are in the registry and installed.
        let admin = s.authenticate_token(fresh.expose()).await.unwrap();
        for (app, instance) in [
            ("com.example.hello", "inst-hello"),
            ("com.example.where2eat", "inst-9a3f"),
        ] {
            let tag = s
                .store()
                .resolve_tag(
                    &format!("demo/{app}"),
                    if app == "com.example.hello" {
                        "1.0.0"
                    } else {
                        "1.2.0"
                    },
                )
                .await
                .unwrap();
            let digest = Digest::parse(&tag.expect("the version is tagged")).unwrap();
            assert!(b.stat(&digest).await.unwrap().is_some());
            let i = s.instance(&admin, instance).await.unwrap();
            assert!(i.is_active());
            assert_eq!(i.app_id, app);
        }
    }

    #[tokio::test]
    async fn a_first_start_killed_while_seeding_is_completed_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let s = services(dir.path()).await;
        let b = blobs(dir.path()).await;
        // Killed right after the org and its admin were created, before anything else.
        s.bootstrap(DEMO_ORG, "Demo Org", DEMO_ADMIN, None)
            .await
            .unwrap();
        seed(&s, &b, None).await.unwrap();
        let org = s.org_by_slug(DEMO_ORG).await.unwrap();
        assert_eq!(s.list_app_versions(&org).await.unwrap().len(), 4);
        let payments = s.team(&org, "payments").await.unwrap();
        assert_eq!(s.team_members(&payments).await.unwrap().len(), 2);
        // And again: nothing doubles.
        seed(&s, &b, None).await.unwrap();
        assert_eq!(s.list_app_versions(&org).await.unwrap().len(), 4);
        assert_eq!(s.team_members(&payments).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_revoked_fixed_token_stops_start_up_with_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let s = services(dir.path()).await;
        let b = blobs(dir.path()).await;
        seed(&s, &b, Some(FIXED.into())).await.unwrap();
        let admin = s.authenticate_token(FIXED).await.unwrap();
        let AuthMethod::Token { token_id } = admin.method.clone() else {
            unreachable!()
        };
        s.revoke_token(&admin, &token_id).await.unwrap();
        let err = seed(&s, &b, Some(FIXED.into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose a new PLAZA_DEMO_TOKEN"), "{err}");
    }
}
