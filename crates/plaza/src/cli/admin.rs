//! `plaza admin`: operator commands that work on the store directly.

use super::store_args::StoreArgs;
use clap::{Args, Subcommand};
use plaza_core::token::TokenSecret;
use std::process::ExitCode;

/// Subcommands of `plaza admin`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the first org and its admin, and print the admin's API token.
    Bootstrap(BootstrapArgs),
    /// Remove registry blobs no repository references (safe while pushes go on).
    Gc(GcArgs),
}

/// Arguments of `plaza admin gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Report what would be removed, remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Spare blobs stored less than this many seconds ago (an upload links its blob a moment
    /// after storing it).
    #[arg(long, default_value_t = 3600)]
    grace_secs: u64,
}

/// Arguments of `plaza admin bootstrap`.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Slug of the org to create.
    #[arg(long, default_value = "default")]
    org: String,
    /// Display name of the org (default: the slug).
    #[arg(long)]
    org_name: Option<String>,
    /// Handle of the admin user.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// Print only the token (for scripts).
    #[arg(long)]
    token_only: bool,
    /// Use this token secret instead of a generated one (must start with `plz_`).
    #[arg(long, env = "PLAZA_BOOTSTRAP_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Runs an admin subcommand.
pub async fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Bootstrap(a) => bootstrap(a).await,
        AdminCommand::Gc(a) => gc(a).await,
    }
}

async fn bootstrap(a: BootstrapArgs) -> anyhow::Result<ExitCode> {
    let config = a.store.config()?;
    let services = StoreArgs::open(&config).await?;
    let token = match &a.token {
        Some(t) => Some(TokenSecret::from_operator(t).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let name = a.org_name.clone().unwrap_or_else(|| a.org.clone());
    let done = services
        .bootstrap(&a.org, &name, &a.admin, token)
        .await
        .map_err(|e| match e {
            plaza_core::CoreError::Store(plaza_core::StoreError::Conflict { .. }) => {
                anyhow::anyhow!(
                    "org `{}` already exists; bootstrap creates a new org (choose another --org)",
                    a.org
                )
            }
            other => other.into(),
        })?;
    if a.token_only {
        println!("{}", done.token.expose());
    } else {
        println!(
            "Created org `{}` ({}) with admin `{}`.",
            done.org.slug, done.org.id, done.admin.handle
        );
        println!("Admin API token (shown once; store it now):");
        println!("{}", done.token.expose());
    }
    Ok(ExitCode::SUCCESS)
}

async fn gc(a: GcArgs) -> anyhow::Result<ExitCode> {
    let config = a.store.config()?;
    let services = StoreArgs::open_existing(&config).await?;
    let blobs = config.open_blobs().await?;
    let store = services.store().clone();
    let referenced = || {
        let store = store.clone();
        async move {
            store
                .referenced_digests()
                .await
                .map(|v| v.into_iter().collect::<std::collections::HashSet<_>>())
        }
    };
    let grace = std::time::Duration::from_secs(a.grace_secs);
    let report = plaza_registry::gc::collect(blobs.as_ref(), referenced, grace, a.dry_run).await?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    for d in &report.removed {
        println!("{verb} {d}");
    }
    println!(
        "{} blob(s) stored, {} referenced; {verb} {} ({} bytes); spared {} (younger than {}s or referenced meanwhile)",
        report.stored,
        report.referenced,
        report.removed.len(),
        report.removed_bytes,
        report.spared,
        a.grace_secs
    );
    Ok(ExitCode::SUCCESS)
}
