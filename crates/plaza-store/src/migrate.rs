//! The embedded, forward-only schema migrations of each backend, run on connect.
//!
//! Each backend has its own SQL files under `migrations/<backend>/`, compiled into the binary.
//! They are applied in version order by sqlx's migrator, which records each one with a checksum
//! in `_sqlx_migrations`. A database that has a migration applied which this build does not know
//! (made by a newer Plaza) or whose applied migration text changed is refused, never "fixed".

use crate::error::StoreSetupError;
use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// One embedded migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

/// The SQLite migrations, oldest first.
const SQLITE: &[Embedded] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "audit append-only",
        include_str!("../migrations/sqlite/0002_audit_append_only.sql"),
    ),
    (
        3,
        "policies",
        include_str!("../migrations/sqlite/0003_policies.sql"),
    ),
    (
        4,
        "registry",
        include_str!("../migrations/sqlite/0004_registry.sql"),
    ),
    (
        5,
        "registry uploads",
        include_str!("../migrations/sqlite/0005_registry_uploads.sql"),
    ),
    (
        6,
        "usage",
        include_str!("../migrations/sqlite/0006_usage.sql"),
    ),
    (
        7,
        "usage rollups",
        include_str!("../migrations/sqlite/0007_usage_rollups.sql"),
    ),
    (
        8,
        "installs",
        include_str!("../migrations/sqlite/0008_installs.sql"),
    ),
    (
        9,
        "usage versions",
        include_str!("../migrations/sqlite/0009_usage_versions.sql"),
    ),
    (
        10,
        "supply chain",
        include_str!("../migrations/sqlite/0010_supply.sql"),
    ),
    (
        11,
        "supply scans",
        include_str!("../migrations/sqlite/0011_supply_scans.sql"),
    ),
    (
        12,
        "vex statements",
        include_str!("../migrations/sqlite/0012_vex.sql"),
    ),
    (
        13,
        "team settings",
        include_str!("../migrations/sqlite/0013_team_settings.sql"),
    ),
];

/// The PostgreSQL migrations, oldest first.
const POSTGRES: &[Embedded] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "audit append-only",
        include_str!("../migrations/postgres/0002_audit_append_only.sql"),
    ),
    (
        3,
        "policies",
        include_str!("../migrations/postgres/0003_policies.sql"),
    ),
    (
        4,
        "registry",
        include_str!("../migrations/postgres/0004_registry.sql"),
    ),
    (
        5,
        "registry uploads",
        include_str!("../migrations/postgres/0005_registry_uploads.sql"),
    ),
    (
        6,
        "usage",
        include_str!("../migrations/postgres/0006_usage.sql"),
    ),
    (
        7,
        "usage rollups",
        include_str!("../migrations/postgres/0007_usage_rollups.sql"),
    ),
    (
        8,
        "installs",
        include_str!("../migrations/postgres/0008_installs.sql"),
    ),
    (
        9,
        "usage versions",
        include_str!("../migrations/postgres/0009_usage_versions.sql"),
    ),
    (
        10,
        "supply chain",
        include_str!("../migrations/postgres/0010_supply.sql"),
    ),
    (
        11,
        "supply scans",
        include_str!("../migrations/postgres/0011_supply_scans.sql"),
    ),
    (
        12,
        "vex statements",
        include_str!("../migrations/postgres/0012_vex.sql"),
    ),
    (
        13,
        "team settings",
        include_str!("../migrations/postgres/0013_team_settings.sql"),
    ),
];

/// A migration source over one backend's embedded list.
#[derive(Debug)]
struct EmbeddedSource(&'static [Embedded]);

impl<'s> MigrationSource<'s> for EmbeddedSource {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The newest migration version this build knows for `backend`.
pub fn latest_migration_version(backend: &str) -> i64 {
    list(backend).last().map(|m| m.0).unwrap_or(0)
}

fn list(backend: &str) -> &'static [Embedded] {
    if backend == "postgres" {
        POSTGRES
    } else {
        SQLITE
    }
}

/// Applies the pending migrations of `backend` to `pool`.
pub(crate) async fn run(pool: &AnyPool, backend: &'static str) -> Result<(), StoreSetupError> {
    let fail = |detail: String| StoreSetupError::Migration { backend, detail };
    let migrator = Migrator::new(EmbeddedSource(list(backend)))
        .await
        .map_err(|e| fail(e.to_string()))?;
    migrator
        .run(pool)
        .await
        .map_err(|e| fail(explain(e, backend)))
}

/// Turns a migrator error into a sentence an operator can act on.
fn explain(e: MigrateError, backend: &str) -> String {
    let known = latest_migration_version(backend);
    match e {
        MigrateError::VersionMissing(v) => format!(
            "the database has migration {v} applied, which this Plaza build does not know \
             (it knows migrations up to {known}): it was created or upgraded by a newer Plaza. \
             Migrations are forward-only; run that newer Plaza, or restore a backup taken \
             before the upgrade"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} applied to the database differs from the one in this Plaza build; \
             the database was migrated by a different build. Run the build that created it"
        ),
        MigrateError::Dirty(v) => {
            format!("migration {v} was only partly applied; restore a backup taken before it")
        }
        other => other.to_string(),
    }
}
