//! `plaza validate`: the same manifest checks the server runs, for an author's CI.

use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The manifest to check (YAML or JSON).
    #[arg(long = "manifest", value_name = "FILE", conflicts_with = "file")]
    manifest: Option<PathBuf>,
    /// The manifest to check, as a positional argument.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Validates; exit 0 valid, 1 invalid, 2 usage or I/O error.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = args.manifest.or(args.file) else {
        eprintln!("error: name the manifest to check: `plaza validate --manifest micro-app.yaml`");
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    };
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let outcome = plaza_manifest::load(&name, &bytes);
    let valid = outcome.is_valid();
    match args.format {
        Format::Text => {
            let text = plaza_manifest::render_text(&outcome.diagnostics);
            if !text.is_empty() {
                eprint!("{text}");
                if !text.ends_with('\n') {
                    eprintln!();
                }
            }
            let errors = outcome
                .diagnostics
                .iter()
                .filter(|d| d.severity == plaza_manifest::Severity::Error)
                .count();
            let warnings = outcome.diagnostics.len() - errors;
            if valid {
                println!("{name}: valid ({warnings} warning(s))");
            } else {
                println!("{name}: invalid ({errors} error(s), {warnings} warning(s))");
            }
        }
        Format::Json => {
            let report = serde_json::json!({
                "file": name,
                "valid": valid,
                "diagnostics": outcome.diagnostics,
                "manifest": outcome.manifest,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
