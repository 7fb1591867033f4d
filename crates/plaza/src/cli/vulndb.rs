//! `plaza vulndb import PATH`: loads an OSV database (a folder of OSV JSON files, searched
//! recursively, or a zip of them as osv.dev publishes) into the Plaza store, incrementally: files
//! unchanged since the last import are skipped, advisories no longer present are removed, and
//! the versions the changes affect are queued for a re-scan. Nothing is imported when any file
//! is unreadable (every problem is listed).

use super::store_args::{printable_store_url, StoreArgs};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use clap::{Args, Subcommand};
use plaza_supply::osv::{read_dir, read_zip};
use std::path::PathBuf;
use std::process::ExitCode;

/// `plaza vulndb …`.
#[derive(Debug, Subcommand)]
pub enum VulndbCommand {
    /// Import OSV advisories (the whole database: what is not in PATH is removed).
    Import(ImportArgs),
}

/// Arguments of `plaza vulndb import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A folder of OSV JSON files (searched recursively) or a zip of them.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs the subcommand; exit 0 imported, 1 some file is not valid OSV (nothing imported), 2 usage
/// or I/O error.
pub async fn run(command: VulndbCommand) -> anyhow::Result<ExitCode> {
    let VulndbCommand::Import(args) = command;
    let started = std::time::Instant::now();
    let files = if args.path.is_dir() {
        read_dir(&args.path)
    } else if args.path.is_file() {
        read_zip(&args.path)
    } else {
        eprintln!(
            "error: {} is neither a folder nor a zip file of OSV JSON records",
            args.path.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    };
    let files = match files {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    eprintln!(
        "read {} OSV files from {}",
        files.len(),
        args.path.display()
    );
    let config = args.store.config()?;
    let services = StoreArgs::open(&config).await?;
    match services.import_vulndb("cli:vulndb-import", files).await {
        Ok(c) => {
            let rescan = if c.added + c.changed + c.removed > 0 {
                "; the versions the changes affect are queued for a re-scan"
            } else {
                "; nothing changed"
            };
            println!(
                "imported into {}: {} added, {} changed, {} unchanged, {} removed ({:.1}s){rescan}",
                printable_store_url(&config),
                c.added,
                c.changed,
                c.unchanged,
                c.removed,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(plaza_core::CoreError::Invalid(problems)) => {
            eprintln!("error: nothing imported: {problems}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => Err(e.into()),
    }
}
