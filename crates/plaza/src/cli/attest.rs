//! `plaza attest --provenance --artifact PATH|REF --key KEY`: a signed SLSA Provenance v1
//! statement for a local build (docs/provenance.md). The source repository, ref and commit come
//! from the flags, else from the git checkout in the current folder.

use super::artifact_source;
use super::key_material::private_key;
use super::remote::RemoteArgs;
use super::EXIT_USAGE_OR_IO;
use anyhow::Context;
use clap::Args;
use plaza_supply::sign::intoto::sha256_hex;
use plaza_supply::sign::slsa::provenance::{
    local_build_provenance, LocalBuild, PLAZA_LOCAL_BUILDER_ID,
};
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The suffix of provenance written next to its artifact.
pub const PROVENANCE_SUFFIX: &str = ".provenance.dsse.json";

/// Arguments of `plaza attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Write SLSA Provenance v1 (the one kind of attestation so far; required).
    #[arg(long)]
    provenance: bool,
    /// The artifact built: a file, a folder with one .wasm file or one OCI image layout, or a
    /// registry reference <org>/<app-id>:<version>.
    #[arg(long, value_name = "PATH|REF")]
    artifact: String,
    /// The private key: a PEM file, the PEM text itself, or env://VAR.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    key: String,
    /// Passphrase file for an encrypted key [default: PLAZA_KEY_PASSPHRASE].
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Source repository URL [default: the git checkout's `origin` remote].
    #[arg(long, value_name = "URL")]
    repository: Option<String>,
    /// Git ref built [default: the checkout's current branch, as refs/heads/<name>].
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    /// Commit built [default: the checkout's HEAD].
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
    /// The build command, recorded in externalParameters.
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// Path of the Plaza manifest in the source, recorded in externalParameters.
    #[arg(long, value_name = "PATH")]
    manifest: Option<String>,
    /// builder.id (the org's trusted-builder list decides the level it earns).
    #[arg(long, value_name = "URI", default_value = PLAZA_LOCAL_BUILDER_ID)]
    builder_id: String,
    /// Where to write the envelope [default: the artifact's path + .provenance.dsse.json].
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Writes the signed provenance; exit 0 written, 2 usage or I/O error.
pub async fn run(args: AttestArgs) -> anyhow::Result<ExitCode> {
    if !args.provenance {
        eprintln!("error: say what to attest: --provenance (SLSA Provenance v1)");
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let started = chrono::Utc::now();
    let key = private_key(&args.key, args.passphrase_file.as_ref())?;
    let artifact =
        artifact_source::resolve(&args.artifact, PROVENANCE_SUFFIX, &args.remote).await?;
    let repository = match args
        .repository
        .or_else(|| git(&["remote", "get-url", "origin"]))
    {
        Some(r) => r,
        None => {
            eprintln!(
                "error: no source repository: pass --repository URL (no git checkout with an \
                 `origin` remote here)"
            );
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    let git_ref = match args
        .git_ref
        .or_else(|| git(&["symbolic-ref", "-q", "HEAD"]))
    {
        Some(r) => r,
        None => {
            eprintln!("error: no git ref: pass --ref (e.g. refs/heads/main or refs/tags/v1.0.0)");
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    let build = LocalBuild {
        artifact_name: artifact.name.clone(),
        artifact_sha256: sha256_hex(&artifact.bytes),
        repository,
        git_ref,
        commit: args.commit.or_else(|| git(&["rev-parse", "HEAD"])),
        command: args.command,
        manifest: args.manifest,
        builder_id: args.builder_id,
        internal_parameters: None,
        invocation_id: uuid::Uuid::new_v4().to_string(),
        started_on: started,
        finished_on: chrono::Utc::now(),
    };
    let envelope = local_build_provenance(&build).sign(&key);
    let out = args.output.unwrap_or(artifact.default_output);
    let mut text = envelope.to_json();
    text.push('\n');
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "attested {} (sha256:{}), built from {} at {}\nwrote {}",
        artifact.name,
        build.artifact_sha256,
        build.repository,
        build.git_ref,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A git answer in the current folder, trimmed; none when git fails or says nothing.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
