//! Building domain values for the cases: orgs, teams, users, tokens, app versions, instances,
//! grants, downstream credentials and audit entries at fixed, millisecond-precise instants, plus
//! seeding helpers that go through the ports.

use chrono::{DateTime, Duration, TimeZone, Utc};
use plaza_core::apps::AppVersion;
use plaza_core::audit::AuditEntry;
use plaza_core::identity::{Org, Role, RoleSet, Team, User};
use plaza_core::ids::{OrgId, TeamId, TokenId, UserId};
use plaza_core::install::{
    new_downstream_secret, spiffe_id, BillingMode, DownstreamCredential, Grant, Instance,
    InstanceId, InstanceStatus, ResourceLimits, DEFAULT_TRUST_DOMAIN,
};
use plaza_core::ports::Store;
use plaza_core::token::{ApiToken, TokenHash, TokenSecret};
use serde_json::json;
use std::collections::BTreeMap;

/// A fixed instant plus `ms` milliseconds.
pub fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_000_123).unwrap() + Duration::milliseconds(ms)
}

/// An audit entry for `org` by `actor`.
pub fn entry(org: Option<&Org>, action: &str, target: &str) -> AuditEntry {
    AuditEntry::new(
        at(0),
        org.map(|o| o.id.clone()),
        "user:tester",
        action,
        target,
        json!({"note": "conformance", "n": 1}),
    )
}

pub fn org(slug: &str) -> Org {
    Org {
        id: OrgId::generate(),
        slug: slug.to_owned(),
        name: format!("{slug} Inc."),
        created_at: at(1),
    }
}

pub fn team(org: &Org, slug: &str) -> Team {
    Team {
        id: TeamId::generate(),
        org_id: org.id.clone(),
        slug: slug.to_owned(),
        name: format!("Team {slug}"),
        created_at: at(2),
    }
}

pub fn user(org: &Org, handle: &str, roles: &[Role]) -> User {
    User {
        id: UserId::generate(),
        org_id: org.id.clone(),
        handle: handle.to_owned(),
        display_name: format!("{handle} Example"),
        email: Some(format!("{handle}@example.com")),
        external_subject: None,
        roles: RoleSet::new(roles.iter().copied()),
        created_at: at(3),
    }
}

pub fn token(user: &User, name: &str, created_ms: i64) -> ApiToken {
    ApiToken {
        id: TokenId::generate(),
        user_id: user.id.clone(),
        org_id: user.org_id.clone(),
        name: name.to_owned(),
        hash: TokenSecret::generate().hash(),
        created_at: at(created_ms),
        expires_at: None,
        revoked_at: None,
    }
}

pub fn app(org: &Org, by: &User, app_id: &str, version: &str) -> AppVersion {
    AppVersion {
        org_id: org.id.clone(),
        app_id: app_id.to_owned(),
        version: version.to_owned(),
        name: "Where to eat".to_owned(),
        description: Some("Picks a place for lunch".to_owned()),
        manifest: json!({
            "id": app_id,
            "version": version,
            "name": "Where to eat",
            "runtime": "wasm",
            "permissions": [{"name": "net", "type": "egress", "scopes": ["api.example.com"]}],
            "billing": {"plan": "metered", "metrics": [
                {"name": "calls", "unit": "call", "pricePerUnitCents": 0.25}
            ]},
            "zeta": "keys out of alphabetical order stay where they were",
            "alpha": "ünïcödé ✓",
        }),
        created_by: by.id.clone(),
        created_at: at(4),
    }
}

/// What an admin granted for `version` of an app: scopes (one optional refused), egress and
/// resources; `by` is `None` for a grant nobody had to consent to.
pub fn grant(version: &str, by: Option<&User>, granted_ms: i64) -> Grant {
    Grant {
        version: version.to_owned(),
        scopes: vec!["calendar.read".to_owned(), "calendar.write".to_owned()],
        refused_scopes: vec!["contacts.read".to_owned()],
        egress: vec![
            "api.example.com".to_owned(),
            "maps.example.com:8443".to_owned(),
        ],
        resources: ResourceLimits {
            memory_bytes: 128 * 1024 * 1024,
            cpu_millis: 500,
            timeout_ms: 30_000,
        },
        runtime: "wasm/wasi-1.0".to_owned(),
        granted_by: by.map(|u| u.id.clone()),
        granted_at: at(granted_ms),
    }
}

/// An active instance `id` of the app version `app`, installed by `by` for `team` at
/// `created_ms` (revision 1, no previous grant, no pending upgrade, one tag).
pub fn instance(team: &Team, app: &AppVersion, by: &User, id: &str, created_ms: i64) -> Instance {
    let id = InstanceId::from(id);
    let mut tags = BTreeMap::new();
    tags.insert("cost-center".to_owned(), "CC-1234".to_owned());
    Instance {
        spiffe_id: spiffe_id(
            DEFAULT_TRUST_DOMAIN,
            team.org_id.as_str(),
            &team.slug,
            &app.app_id,
            &id,
        ),
        id,
        org_id: team.org_id.clone(),
        team_id: team.id.clone(),
        app_id: app.app_id.clone(),
        version: app.version.clone(),
        tags,
        billing_mode: BillingMode::Normal,
        auto_upgrade: true,
        status: InstanceStatus::Active,
        grant: grant(&app.version, Some(by), created_ms),
        previous: None,
        pending_upgrade: None,
        created_by: by.id.clone(),
        created_at: at(created_ms),
        updated_at: at(created_ms),
        revision: 1,
    }
}

/// A fresh downstream credential of `instance` for one scope, issued at `issued_ms` for an hour.
pub fn downstream(instance: &Instance, scope: &str, issued_ms: i64) -> DownstreamCredential {
    DownstreamCredential {
        hash: TokenHash::of(&new_downstream_secret()),
        org_id: instance.org_id.clone(),
        instance_id: instance.id.clone(),
        scope: scope.to_owned(),
        provider: "calendar".to_owned(),
        issued_at: at(issued_ms),
        expires_at: at(issued_ms + 3_600_000),
        revoked_at: None,
    }
}

/// Creates an org through the port.
pub async fn seed_org(store: &dyn Store, slug: &str) -> Org {
    let org = org(slug);
    store
        .create_org(
            &org,
            &entry(Some(&org), "org.create", &format!("org:{}", org.id)),
        )
        .await
        .expect("create org");
    org
}

/// Creates a team through the port.
pub async fn seed_team(store: &dyn Store, org: &Org, slug: &str) -> Team {
    let team = team(org, slug);
    store
        .create_team(
            &team,
            &entry(Some(org), "team.create", &format!("team:{}", team.id)),
        )
        .await
        .expect("create team");
    team
}

/// Creates a user through the port.
pub async fn seed_user(store: &dyn Store, org: &Org, handle: &str, roles: &[Role]) -> User {
    let user = user(org, handle, roles);
    store
        .create_user(
            &user,
            &entry(Some(org), "user.create", &format!("user:{}", user.id)),
        )
        .await
        .expect("create user");
    user
}

/// Registers an app version through the port.
pub async fn seed_app(
    store: &dyn Store,
    org: &Org,
    by: &User,
    app_id: &str,
    version: &str,
) -> AppVersion {
    let app = app(org, by, app_id, version);
    store
        .create_app_version(
            &app,
            &entry(
                Some(org),
                "app.version.register",
                &format!("app:{app_id}@{version}"),
            ),
        )
        .await
        .expect("create app version");
    app
}

/// Creates an instance through the port.
pub async fn seed_instance(store: &dyn Store, instance: &Instance) {
    store
        .create_instance(
            instance,
            &entry_in(&instance.org_id, "instance.create", &instance.id.0),
        )
        .await
        .expect("create instance");
}

/// An audit entry for the org with id `org` about the instance `id`.
pub fn entry_in(org: &OrgId, action: &str, id: &str) -> AuditEntry {
    AuditEntry::new(
        at(0),
        Some(org.clone()),
        "user:tester",
        action,
        format!("instance:{id}"),
        json!({"note": "conformance"}),
    )
}

/// Asserts `result` is a `Conflict` about `entity` whose detail contains `detail`.
#[track_caller]
pub fn expect_conflict<T: std::fmt::Debug>(
    result: Result<T, plaza_core::StoreError>,
    entity: &str,
    detail: &str,
) {
    match result {
        Err(plaza_core::StoreError::Conflict {
            entity: e,
            detail: d,
        }) => {
            assert_eq!(e, entity, "conflict entity (detail: {d})");
            assert!(
                d.contains(detail),
                "conflict detail `{d}` should mention `{detail}`"
            );
            assert!(!d.to_lowercase().contains("constraint"), "SQL leaked: {d}");
        }
        other => panic!("expected a {entity} conflict mentioning `{detail}`, got {other:?}"),
    }
}

/// Asserts `result` is a `NotFound` for `entity`.
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(
    result: Result<T, plaza_core::StoreError>,
    entity: &str,
) {
    match result {
        Err(plaza_core::StoreError::NotFound { entity: e, .. }) => assert_eq!(e, entity),
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}
