//! `plaza sbom DIR`: a CycloneDX 1.6 JSON SBOM of a Rust app from its `Cargo.lock`
//! (see docs/sbom.md). The generation itself is `plaza_supply::cyclonedx_from_cargo_lock`.

use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::Args;
use plaza_supply::SupplyError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `plaza sbom`.
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The app's folder (the one holding its Cargo.toml). Cargo.lock is looked for there, then in
    /// each parent folder, as cargo does for a workspace member.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Write the SBOM to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Writes the SBOM; exit 0 written, 1 invalid Cargo.toml/Cargo.lock, 2 usage or I/O error.
pub fn run(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let manifest_path = args.dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let Some(lock_dir) = find_lock_dir(&args.dir) else {
        eprintln!(
            "error: no Cargo.lock in {} or any parent folder; run `cargo generate-lockfile` first",
            args.dir.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    };
    let lock_path = lock_dir.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    // The workspace root's Cargo.toml, for `x.workspace = true` fields (none when the app is
    // its own workspace).
    let ws_path = lock_dir.join("Cargo.toml");
    let workspace = if same_dir(&lock_dir, &args.dir) {
        None
    } else {
        std::fs::read_to_string(&ws_path).ok()
    };
    let root = match plaza_supply::root_info_from_cargo_toml(&manifest, workspace.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(invalid(&manifest_path, &e)),
    };
    let bom = match plaza_supply::cyclonedx_from_cargo_lock(&lock, root) {
        Ok(b) => b,
        Err(e) => return Ok(invalid(&lock_path, &e)),
    };
    let mut text = serde_json::to_string_pretty(&bom)?;
    text.push('\n');
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn invalid(path: &Path, e: &SupplyError) -> ExitCode {
    match e {
        // "path:line:column: message", the form editors jump to.
        SupplyError::LockSyntax { .. } => eprintln!("error: {}:{e}", path.display()),
        SupplyError::Manifest(m) => eprintln!("error: {}: {m}", path.display()),
        _ => eprintln!("error: {}: {e}", path.display()),
    }
    ExitCode::from(EXIT_INVALID)
}

fn find_lock_dir(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
