//! `plaza scan --sbom FILE`: the SBOM's components matched against OSV advisories
//! (docs/vulnerabilities.md), optionally the artifact scanned for secrets. The seed CI job's
//! form, `plaza scan --sbom sbom.json`, works offline: the advisories come from `--vulndb` (an
//! OSV folder or zip), else `PLAZA_VULNDB`, else the local Plaza store `plaza vulndb import`
//! filled. With no advisories at all the scan says so, checks the SBOM, and does not pretend.
//!
//! Exit codes: 0 nothing at or above `--fail-on` (or no `--fail-on`), 1 the SBOM is invalid, a
//! finding reaches `--fail-on`, or a secret is found; 2 usage or I/O error.

use super::sarif::{self, SarifItem};
use super::store_args::{printable_store_url, StoreArgs};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::{Args, ValueEnum};
use plaza_supply::osv::{parse_advisory, read_dir, read_zip, LoadedFile, SeverityLevel, VulnIndex};
use plaza_supply::scan::{level_name, match_sbom, parse_level, SbomScan};
use plaza_supply::secrets::{ScanReport, Scanner};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
}

/// Arguments of `plaza scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The SBOM: CycloneDX JSON 1.4–1.6 or SPDX 2.3 JSON.
    #[arg(long, value_name = "FILE")]
    sbom: PathBuf,
    /// OSV advisories: a folder of OSV JSON files or a zip of them (as osv.dev publishes)
    /// [env: PLAZA_VULNDB] [default: the local store's, see `plaza vulndb import`].
    #[arg(long, value_name = "DIR|ZIP", env = "PLAZA_VULNDB")]
    vulndb: Option<PathBuf>,
    /// Exit 1 when a vulnerability at or above this severity is found: critical, high,
    /// medium, low, or any.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<String>,
    /// The artifact the SBOM describes (a .wasm component or any file): checked against the
    /// SBOM's subject digest, and scanned for secrets.
    #[arg(long, value_name = "FILE")]
    artifact: Option<PathBuf>,
    /// OpenVEX documents whose `not_affected` / `fixed` statements suppress findings (shown as
    /// suppressed, not counted); repeatable.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where the advisories came from, and how many.
struct Advisories {
    index: VulnIndex,
    source: Option<String>,
}

/// Scans; see the module doc for the exit codes.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let fail_on = match args.fail_on.as_deref() {
        None => None,
        Some("any") => Some(SeverityLevel::Unknown),
        Some(name) => match parse_level(name) {
            Some(l) => Some(l),
            None => {
                eprintln!(
                    "error: --fail-on {name}: not a severity; use critical, high, medium, low or any"
                );
                return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
            }
        },
    };
    let bytes = std::fs::read(&args.sbom)
        .with_context(|| format!("cannot read {}", args.sbom.display()))?;
    let sbom_name = args.sbom.display().to_string();
    let sbom = match plaza_supply::parse_sbom(&bytes, &sbom_name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    let advisories = match load_advisories(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    if advisories.source.is_none() && fail_on.is_some() {
        eprintln!(
            "error: --fail-on needs vulnerability data: pass --vulndb DIR|ZIP (OSV JSON), or \
             import advisories with `plaza vulndb import PATH`"
        );
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let mut suppressions = Vec::new();
    for path in &args.vex {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match plaza_supply::vex::parse_openvex(&bytes, &path.display().to_string()) {
            Ok(s) => suppressions.extend(s),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
            }
        }
    }
    let mut scan = match_sbom(&sbom, &advisories.index);
    plaza_supply::vex::apply(&mut scan, &suppressions, chrono::Utc::now());
    let artifact = match &args.artifact {
        Some(p) => Some(check_artifact(p, &sbom)?),
        None => None,
    };
    let text = String::from_utf8_lossy(&bytes);
    match args.format {
        Format::Text => print_text(&sbom, &scan, &advisories, artifact.as_ref()),
        Format::Json => {
            let doc = json!({
                "sbom": {
                    "file": sbom_name,
                    "format": sbom.format.to_string(),
                    "components": scan.components,
                    "checked": scan.checked,
                    "warnings": sbom.warnings.iter().map(|w| json!({"pointer": w.pointer, "message": w.message})).collect::<Vec<_>>(),
                },
                "vulndb": {"source": advisories.source, "advisories": advisories.index.len()},
                "counts": scan.counts(),
                "vulnerabilities": scan.findings,
                "suppressed": scan.suppressed,
                "notChecked": scan.not_checked,
                "uncheckedRanges": scan.unchecked_ranges,
                "artifact": artifact.as_ref().map(|a| json!({
                    "file": a.file,
                    "binding": a.binding,
                    "secrets": a.secrets,
                })),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Sarif => {
            let items: Vec<SarifItem> = scan
                .findings
                .iter()
                .map(|f| {
                    let (line, column) = position_of(&text, &f.purl);
                    let fix = if f.fixed_versions.is_empty() {
                        "no fixed version is known".to_owned()
                    } else {
                        format!("upgrade to {}", f.fixed_versions.join(" or "))
                    };
                    SarifItem {
                        rule_id: f.id.to_string(),
                        level: match f.severity {
                            SeverityLevel::Critical | SeverityLevel::High => "error",
                            SeverityLevel::Medium | SeverityLevel::Unknown => "warning",
                            SeverityLevel::Low | SeverityLevel::None => "note",
                        },
                        message: format!(
                            "{} {} is affected by {} ({}){}",
                            f.name,
                            f.version,
                            f.id,
                            level_name(f.severity),
                            f.summary
                                .as_deref()
                                .map(|s| format!(": {s}"))
                                .unwrap_or_default()
                        ),
                        help: Some(fix),
                        line,
                        column,
                    }
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&sarif::render(&sbom_name, &items))?
            );
        }
    }
    let secrets_found = artifact.as_ref().map_or(0, |a| a.secrets.findings.len());
    let failed = fail_on.is_some_and(|level| scan.at_or_above(level) > 0);
    Ok(if failed || secrets_found > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// The advisories: `--vulndb`, else the local store's. No store (no SQLite file where the
/// configuration points) means no advisories; a store that exists but cannot be read is an
/// error, not a silent "no advisories".
fn load_advisories(args: &ScanArgs) -> anyhow::Result<Advisories> {
    if let Some(path) = &args.vulndb {
        let files = if path.is_dir() {
            read_dir(path)?
        } else {
            read_zip(path)?
        };
        let index = index_of(files, path)?;
        return Ok(Advisories {
            index,
            source: Some(path.display().to_string()),
        });
    }
    let config = args.store.config()?;
    let no_store = StoreArgs::database_file(&config).is_some_and(|file| !file.exists());
    if no_store {
        return Ok(Advisories {
            index: VulnIndex::new(),
            source: None,
        });
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        anyhow::bail!("cannot start the async runtime");
    };
    let stored = runtime
        .block_on(async {
            let services = StoreArgs::open_existing(&config).await?;
            anyhow::Ok(services.store().list_advisories().await?)
        })
        .with_context(|| {
            format!(
                "cannot read the advisories of the Plaza store at {}; fix --data/--database, or \
                 pass --vulndb DIR|ZIP to scan with OSV files instead",
                printable_store_url(&config)
            )
        })?;
    if stored.is_empty() {
        return Ok(Advisories {
            index: VulnIndex::new(),
            source: None,
        });
    }
    let mut advisories = Vec::with_capacity(stored.len());
    for a in stored {
        advisories.push(
            parse_advisory(a.body.as_bytes(), &a.id)
                .with_context(|| format!("stored advisory {} is damaged; import again", a.id))?,
        );
    }
    Ok(Advisories {
        index: VulnIndex::from_advisories(advisories),
        source: Some(format!(
            "the Plaza store at {}",
            printable_store_url(&config)
        )),
    })
}

/// The index of loaded files; every unreadable file is reported (and none is used).
fn index_of(files: Vec<LoadedFile>, from: &Path) -> anyhow::Result<VulnIndex> {
    let mut advisories = Vec::with_capacity(files.len());
    let mut problems = Vec::new();
    for f in files {
        match f.advisory {
            Ok(a) => advisories.push(a),
            Err(e) => problems.push(format!("  {}: {e}", f.name)),
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "{} of the OSV files in {} cannot be read:\n{}",
            problems.len(),
            from.display(),
            problems.join("\n")
        );
    }
    Ok(VulnIndex::from_advisories(advisories))
}

/// What was found about the artifact.
struct ArtifactCheck {
    file: String,
    binding: serde_json::Value,
    secrets: ScanReport,
}

fn check_artifact(path: &Path, sbom: &plaza_supply::Sbom) -> anyhow::Result<ArtifactCheck> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let digest = plaza_supply::sign::intoto::sha256_hex(&bytes);
    let binding = match plaza_supply::binding(sbom, &digest) {
        plaza_supply::Binding::Bound { subject } => json!({"bound": true, "subject": subject}),
        plaza_supply::Binding::Unbound { reason } => json!({"bound": false, "reason": reason}),
    };
    let scanner = Scanner::with_defaults()?;
    let label = path.display().to_string();
    let secrets = if bytes.starts_with(b"\0asm") {
        scanner.scan_wasm(&label, &bytes)?
    } else {
        scanner.scan_bytes(&label, &bytes)
    };
    Ok(ArtifactCheck {
        file: label,
        binding,
        secrets,
    })
}

fn print_text(
    sbom: &plaza_supply::Sbom,
    scan: &SbomScan,
    advisories: &Advisories,
    artifact: Option<&ArtifactCheck>,
) {
    for w in &sbom.warnings {
        eprintln!("warning: {}: {}", w.pointer, w.message);
    }
    match &advisories.source {
        Some(source) => println!(
            "{} SBOM, {} components ({} checked) against {} advisories from {source}",
            sbom.format,
            scan.components,
            scan.checked,
            advisories.index.len()
        ),
        None => {
            println!(
                "{} SBOM, {} components; vulnerabilities NOT checked: no advisories (pass \
                 --vulndb DIR|ZIP, or run `plaza vulndb import PATH`)",
                sbom.format, scan.components
            );
        }
    }
    for f in &scan.findings {
        let fix = if f.fixed_versions.is_empty() {
            "no fix known".to_owned()
        } else {
            format!("fixed in {}", f.fixed_versions.join(", "))
        };
        let aliases = if f.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", f.aliases.join(", "))
        };
        println!(
            "{:<8} {}{aliases}  {}  {fix}{}",
            level_name(f.severity).to_uppercase(),
            f.id,
            f.purl,
            f.summary
                .as_deref()
                .map(|s| format!("  {s}"))
                .unwrap_or_default()
        );
    }
    if advisories.source.is_some() {
        let counts = scan.counts();
        println!(
            "{} vulnerabilities: {} critical, {} high, {} medium, {} low, {} unknown",
            scan.findings.len(),
            counts["critical"],
            counts["high"],
            counts["medium"],
            counts["low"],
            counts["unknown"] + counts["none"]
        );
    }
    for s in &scan.suppressed {
        let why =
            s.by.justification
                .as_deref()
                .or(s.by.impact_statement.as_deref())
                .unwrap_or("fixed");
        println!(
            "suppressed {} for {} by VEX{}: {why}",
            s.finding.id,
            s.finding.purl,
            s.by.author
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        );
    }
    if !scan.not_checked.is_empty() {
        println!(
            "{} component{} not checked:",
            scan.not_checked.len(),
            if scan.not_checked.len() == 1 { "" } else { "s" }
        );
        for n in &scan.not_checked {
            println!("  {} ({}): {}", n.name, n.component, n.reason);
        }
    }
    for u in &scan.unchecked_ranges {
        println!("note: {} for {}: {}", u.id, u.purl, u.reason);
    }
    if let Some(a) = artifact {
        match a.binding["bound"].as_bool() {
            Some(true) => println!("{}: bound to the SBOM's subject", a.file),
            _ => println!(
                "{}: NOT bound to the SBOM: {}",
                a.file,
                a.binding["reason"].as_str().unwrap_or_default()
            ),
        }
        if a.secrets.findings.is_empty() {
            println!("{}: no secrets found", a.file);
        } else {
            for f in &a.secrets.findings {
                println!(
                    "SECRET   {} at {}: {} ({})",
                    f.rule_id, f.location, f.description, f.redacted
                );
            }
        }
    }
}

/// 1-based line and column of the first `"needle"` JSON string in `text`, else 1:1.
fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let quoted = format!("\"{needle}\"");
    let Some(at) = text.find(&quoted) else {
        return (1, 1);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::position_of;

    #[test]
    fn positions_are_of_the_quoted_string() {
        let text = "{\n  \"components\": [\n    {\"purl\": \"pkg:pypi/a@1\"}\n  ]\n}";
        assert_eq!(position_of(text, "pkg:pypi/a@1"), (3, 14));
        assert_eq!(position_of(text, "pkg:pypi/missing@1"), (1, 1));
    }
}
