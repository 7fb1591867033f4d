//! The command tree. Each subcommand's arguments and behaviour live in their own module.
//!
//! Exit codes: 0 success, 1 the thing checked is invalid (a manifest, a Cargo.lock, the audit
//! chain, usage events the server rejected), 2 usage or I/O error (clap also exits 2 on bad
//! arguments).

mod admin;
mod artifact_source;
mod attest;
mod audit;
mod consume;
mod deploy;
mod findings;
mod init;
mod install;
mod key_material;
mod keygen;
mod keys;
mod login;
mod oci_client;
mod package;
mod policy;
mod pull;
mod push;
mod remote;
mod sarif;
mod sbom;
mod scan;
mod serve;
mod sign;
mod store_args;
mod usage;
mod validate;
mod verify;
mod vulndb;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code for "checked and found invalid".
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage and I/O errors.
pub const EXIT_USAGE_OR_IO: u8 = 2;

/// Plaza: the governed marketplace for your organisation's micro-apps.
#[derive(Debug, Parser)]
#[command(name = "plaza", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Plaza server.
    Serve(serve::ServeArgs),
    /// Scale-out metering: write usage events from the NATS JetStream bus to the store
    /// (any number may run at once).
    ConsumeUsage(consume::ConsumeArgs),
    /// Check a manifest (micro-app.yaml) and report every problem with its location.
    Validate(validate::ValidateArgs),
    /// Create a new app folder from a template.
    Init(init::InitArgs),
    /// Package the app's WebAssembly component as an OCI artifact (image layout on disk).
    Package(package::PackageArgs),
    /// Push an app version (app folder, OCI layout or an image already pushed) with its
    /// manifest, SBOM, signatures and provenance as referrers, and register it.
    Push(push::PushArgs),
    /// Write a CycloneDX 1.6 JSON SBOM of a Rust app from its Cargo.lock.
    Sbom(sbom::SbomArgs),
    /// Match an SBOM's components against OSV advisories (and scan the artifact for secrets).
    Scan(scan::ScanArgs),
    /// The vulnerability database (OSV): import.
    #[command(subcommand)]
    Vulndb(vulndb::VulndbCommand),
    /// Make a signing key pair (PKCS#8 PEM private key, mode 0600; SPKI PEM public key).
    Keygen(keygen::KeygenArgs),
    /// Sign an artifact: a DSSE envelope over an in-toto statement of its sha256.
    Sign(sign::SignArgs),
    /// Verify an artifact's signature with a public key or a registered publisher's keys.
    Verify(verify::VerifyArgs),
    /// Attest how an artifact was built: signed SLSA Provenance v1.
    Attest(attest::AttestArgs),
    /// Publishers' public keys registered with the marketplace: register, list, revoke.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Pull an app version into an OCI image layout, verifying every digest.
    Pull(pull::PullArgs),
    /// Store a server URL and token for later commands.
    Login(login::LoginArgs),
    /// Show who the stored token belongs to.
    Whoami(login::WhoamiArgs),
    /// Administration: bootstrap the first org and admin.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Rego policies: test and evaluate offline; push, list and show the org's versions.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Install an app version for a team: shows what it asks for, then installs it (granted at
    /// once for an admin, waiting for an admin's consent otherwise).
    Install(install::InstallArgs),
    /// Deployment manifests for container apps.
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// Usage metering: send events, query aggregates, inspect and replay dead letters, check
    /// sequence gaps and mark periods complete.
    #[command(subcommand)]
    Usage(usage::UsageCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Init(a) => init::run(a),
        Command::Package(a) => package::run(a),
        Command::Sbom(a) => sbom::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Vulndb(c) => runtime()?.block_on(vulndb::run(c)),
        Command::Keygen(a) => keygen::run(a),
        Command::Sign(a) => runtime()?.block_on(sign::run(a)),
        Command::Verify(a) => runtime()?.block_on(verify::run(a)),
        Command::Attest(a) => runtime()?.block_on(attest::run(a)),
        Command::Keys(c) => runtime()?.block_on(keys::run(c)),
        Command::Serve(a) => runtime()?.block_on(serve::run(a)),
        Command::ConsumeUsage(a) => runtime()?.block_on(consume::run(a)),
        Command::Push(a) => runtime()?.block_on(push::run(a)),
        Command::Pull(a) => runtime()?.block_on(pull::run(a)),
        Command::Login(a) => runtime()?.block_on(login::login(a)),
        Command::Whoami(a) => runtime()?.block_on(login::whoami(a)),
        Command::Admin(c) => runtime()?.block_on(admin::run(c)),
        Command::Audit(c) => runtime()?.block_on(audit::run(c)),
        Command::Policy(c) => runtime()?.block_on(policy::run(c)),
        Command::Usage(c) => runtime()?.block_on(usage::run(c)),
        Command::Install(a) => runtime()?.block_on(install::run(a)),
        Command::Deploy(c) => runtime()?.block_on(deploy::run(c)),
    }
}

/// Whether `dir` may receive a new layout (absent or empty); says why not on stderr.
fn output_is_free(dir: &std::path::Path) -> bool {
    let taken = dir.exists()
        && dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if taken {
        eprintln!(
            "error: {} already exists and is not empty; choose another --output",
            dir.display()
        );
    }
    !taken
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
