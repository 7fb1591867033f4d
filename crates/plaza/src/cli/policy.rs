//! `plaza policy`: Rego policies. `test` and `eval` run offline with the same engine the server
//! uses; `push`, `list`, `show` manage the org's versions on the server.

use super::findings;
use super::remote::RemoteArgs;
use super::validate::{data_document, policy_set};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use plaza_policy::{Severity, TestOutcome};
use reqwest::Method;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Subcommands of `plaza policy`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run the Rego unit tests (`test_*` rules) in a folder, like `opa test`; exit 1 on a failure.
    Test {
        /// Folder (or file) of policies and their tests.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Evaluate the built-in bundle (plus `--policy`) against an input and show every finding.
    Eval(EvalArgs),
    /// Push a folder of .rego files as the org's next policy version (compiled first).
    Push {
        /// Folder of .rego files (test files, `*_test.rego`, are left out).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Settings of the built-in bundle (`data.plaza.org`), a JSON file.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List the org's policy versions.
    List {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Show one policy version (default: the active one).
    Show {
        /// Version number.
        version: Option<i64>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

/// Arguments of `plaza policy eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A manifest (YAML or JSON, normalised first) or a whole policy input document (JSON).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Extra policies (folder or file); may be repeated.
    #[arg(long = "policy", value_name = "DIR")]
    policy: Vec<PathBuf>,
    /// Org settings (`data.plaza.org`), a JSON file.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a policy subcommand.
pub async fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Test { dir } => test(&dir),
        PolicyCommand::Eval(a) => eval(a),
        PolicyCommand::Push {
            dir,
            settings,
            remote,
        } => push(&dir, settings.as_deref(), &remote).await,
        PolicyCommand::List { remote } => list(&remote).await,
        PolicyCommand::Show { version, remote } => show(version, &remote).await,
    }
}

fn test(dir: &Path) -> anyhow::Result<ExitCode> {
    let set = plaza_policy::PolicySet::builder().builtin(true);
    let set = if dir.is_dir() {
        set.dir(dir)?
    } else {
        let src = std::fs::read_to_string(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?;
        set.file(dir.display().to_string(), src)
    };
    let results = set.build()?.run_tests();
    if results.is_empty() {
        eprintln!("error: no `test_*` rules found under {}", dir.display());
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let (mut passed, mut failed) = (0, 0);
    for r in &results {
        let at = format!("{}:{}", r.file, r.line);
        match &r.outcome {
            TestOutcome::Pass => {
                passed += 1;
                println!("PASS {}.{} ({at}, {:?})", r.package, r.name, r.duration);
            }
            TestOutcome::Fail => {
                failed += 1;
                println!("FAIL {}.{} ({at})", r.package, r.name);
            }
            TestOutcome::Error(e) => {
                failed += 1;
                println!("ERROR {}.{} ({at}): {e}", r.package, r.name);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

fn eval(a: EvalArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    let name = a.input.display().to_string();
    let loaded = plaza_manifest::load(&name, &bytes);
    let input = match &loaded.manifest {
        Some(m) => plaza_policy::input_document(&serde_json::to_value(m)?, None),
        None => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) if v.is_object() => v,
            _ => bail!(
                "{name} is neither a valid manifest nor a JSON object:\n{}",
                plaza_manifest::render_text(&loaded.diagnostics)
            ),
        },
    };
    let set = policy_set(&a.policy)?;
    let ev = set.evaluate(&input, &data_document(a.settings.as_ref())?)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ev)?);
    } else {
        let located = findings::locate(&name, &bytes, &ev.findings);
        print!("{}", findings::render_text(&name, &located));
        println!("{} finding(s) in {:?}", ev.findings.len(), ev.duration);
    }
    let denied = ev.findings.iter().any(|f| f.severity == Severity::Deny);
    Ok(if denied {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// The .rego files under `dir` (tests excluded), as `{path, content}` with paths relative to it.
fn policy_files(dir: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<serde_json::Value>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if p.extension().is_some_and(|x| x == "rego")
                && !p.to_string_lossy().ends_with("_test.rego")
            {
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let content = std::fs::read_to_string(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                out.push(serde_json::json!({"path": rel, "content": content}));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

async fn push(
    dir: &Path,
    settings: Option<&Path>,
    remote: &RemoteArgs,
) -> anyhow::Result<ExitCode> {
    let files = policy_files(dir)?;
    let settings = match settings {
        Some(p) => serde_json::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("{} is not JSON", p.display()))?,
        None => serde_json::json!({}),
    };
    let r = remote.connect().await?;
    let body = serde_json::json!({"files": files, "settings": settings});
    let v = r
        .call(
            Method::POST,
            &format!("/api/orgs/{}/policies", r.org),
            Some(&body),
        )
        .await?;
    println!(
        "pushed policy version {} ({} file(s), {}); it is now active",
        v["version"],
        files.len(),
        v["digest"].as_str().unwrap_or("")
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(remote: &RemoteArgs) -> anyhow::Result<ExitCode> {
    let r = remote.connect().await?;
    let versions = r
        .call(Method::GET, &format!("/api/orgs/{}/policies", r.org), None)
        .await?;
    for v in versions.as_array().into_iter().flatten() {
        println!(
            "{}{}\t{}\t{} file(s)\t{}",
            v["version"],
            if v["active"] == true { " (active)" } else { "" },
            v["createdAt"].as_str().unwrap_or(""),
            v["files"].as_array().map_or(0, Vec::len),
            v["digest"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(version: Option<i64>, remote: &RemoteArgs) -> anyhow::Result<ExitCode> {
    let r = remote.connect().await?;
    let v = match version {
        Some(n) => {
            r.call(
                Method::GET,
                &format!("/api/orgs/{}/policies/{n}", r.org),
                None,
            )
            .await?
        }
        None => {
            let all = r
                .call(Method::GET, &format!("/api/orgs/{}/policies", r.org), None)
                .await?;
            match all.as_array().and_then(|a| a.first()) {
                Some(v) => v.clone(),
                None => bail!(
                    "org `{}` has no policy version yet; push one with `plaza policy push DIR`",
                    r.org
                ),
            }
        }
    };
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(ExitCode::SUCCESS)
}
