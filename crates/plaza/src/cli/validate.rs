//! `plaza validate`: the same checks the server runs at submission, offline, for an author's CI:
//! the manifest schema, then the built-in policy bundle plus any local policies.

use super::findings::{self, sarif_level};
use super::sarif::{self, SarifItem};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::{Args, ValueEnum};
use plaza_manifest::Severity as DiagSeverity;
use plaza_policy::{PolicySet, Severity};
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
    /// Extra Rego policies to apply with the built-in bundle (a folder of .rego files, or one file);
    /// may be repeated.
    #[arg(long = "policy", value_name = "DIR")]
    policy: Vec<PathBuf>,
    /// Org settings for the built-in bundle (`data.plaza.org`), a JSON file.
    #[arg(long = "settings", value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Check the manifest schema only, without policies.
    #[arg(long)]
    no_policy: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
}

/// Builds the policy set: the built-in bundle plus each `--policy` folder or file.
pub fn policy_set(paths: &[PathBuf]) -> anyhow::Result<PolicySet> {
    let mut b = PolicySet::builder().builtin(true);
    for p in paths {
        b = if p.is_dir() {
            b.dir(p)?
        } else {
            let src = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            b.file(p.display().to_string(), src)
        };
    }
    Ok(b.build()?)
}

/// Reads `--settings FILE` into the data document policies see.
pub fn data_document(settings: Option<&PathBuf>) -> anyhow::Result<serde_json::Value> {
    let settings = match settings {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))?
        }
        None => serde_json::json!({}),
    };
    Ok(serde_json::json!({"plaza": {"org": settings}}))
}

/// Validates; exit 0 valid, 1 invalid (schema errors or policy denials), 2 usage or I/O error.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = args.manifest.or(args.file) else {
        eprintln!("error: name the manifest to check: `plaza validate --manifest micro-app.yaml`");
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    };
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let outcome = plaza_manifest::load(&name, &bytes);
    let mut policy_findings = Vec::new();
    if let (Some(m), false) = (&outcome.manifest, args.no_policy) {
        let set = policy_set(&args.policy)?;
        let data = data_document(args.settings.as_ref())?;
        let input = plaza_policy::input_document(&serde_json::to_value(m)?, None);
        policy_findings = set.evaluate(&input, &data)?.findings;
    }
    let located = findings::locate(&name, &bytes, &policy_findings);
    let denied = policy_findings.iter().any(|f| f.severity == Severity::Deny);
    let valid = outcome.is_valid() && !denied;
    match args.format {
        Format::Text => {
            let mut text = plaza_manifest::render_text(&outcome.diagnostics);
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&findings::render_text(&name, &located));
            eprint!("{text}");
            let errors = outcome.errors().count();
            let warnings = outcome.diagnostics.len() - errors;
            let count = |s: Severity| policy_findings.iter().filter(|f| f.severity == s).count();
            let policy = if outcome.manifest.is_some() && !args.no_policy {
                format!(
                    "; policies: {} deny, {} warn, {} info",
                    count(Severity::Deny),
                    count(Severity::Warn),
                    count(Severity::Info)
                )
            } else {
                String::new()
            };
            let verdict = if valid { "valid" } else { "invalid" };
            println!("{name}: {verdict} ({errors} error(s), {warnings} warning(s){policy})");
        }
        Format::Json => {
            let report = serde_json::json!({
                "file": name,
                "valid": valid,
                "diagnostics": outcome.diagnostics,
                "findings": policy_findings,
                "manifest": outcome.manifest,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Sarif => {
            let mut items: Vec<SarifItem> = outcome
                .diagnostics
                .iter()
                .map(|d| SarifItem {
                    rule_id: d.code.as_str().to_owned(),
                    level: if d.severity == DiagSeverity::Error {
                        "error"
                    } else {
                        "warning"
                    },
                    message: d.message.clone(),
                    help: d.hint.clone(),
                    line: d.location.line,
                    column: d.location.column,
                })
                .collect();
            items.extend(located.iter().map(|l| SarifItem {
                rule_id: l.finding.rule_id.clone(),
                level: sarif_level(l.finding.severity),
                message: l.finding.message.clone(),
                help: l.finding.remediation.clone(),
                line: l.line,
                column: l.column,
            }));
            println!(
                "{}",
                serde_json::to_string_pretty(&sarif::render(&name, &items))?
            );
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
