//! `plaza install APP[@VERSION] --team T`: shows what the version asks for in plain words, then
//! installs it for the team. An admin's install is granted at once (optional scopes named with
//! `--refuse` are left out); anyone else's waits for an admin's consent. Exit 0 installed or
//! pending, 1 refused (e.g. a required scope refused), 2 usage, I/O or server error.

use super::remote::RemoteArgs;
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use clap::Args;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Arguments of `plaza install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The app, optionally with a version: `com.example.where2eat@1.2.0` [default: latest].
    app: String,
    /// The team (slug) that installs it and is charged for it.
    #[arg(long)]
    team: String,
    /// An optional scope to refuse (repeatable); required scopes cannot be refused.
    #[arg(long = "refuse", value_name = "SCOPE")]
    refuse: Vec<String>,
    /// An attribution tag `key=value` (repeatable), e.g. `cost-center=CC-1001`.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    tags: Vec<(String, String)>,
    /// Meter usage without charging it (billing mode `sandbox`).
    #[arg(long)]
    sandbox: bool,
    /// The instance's id [default: generated].
    #[arg(long)]
    instance_id: Option<String>,
    /// Do not take newer versions automatically, even when they widen nothing.
    #[arg(long)]
    no_auto_upgrade: bool,
    /// Print the server's answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// Runs `plaza install`.
pub async fn run(a: InstallArgs) -> anyhow::Result<ExitCode> {
    let (app, version) = match a.app.split_once('@') {
        Some((app, v)) => (app.to_owned(), Some(v.to_owned())),
        None => (a.app.clone(), None),
    };
    let remote = a.remote.connect().await?;
    let mut path = format!("/api/orgs/{}/apps/{app}/permissions", remote.org);
    if let Some(v) = &version {
        path.push_str(&format!("?version={v}"));
    }
    let (status, request) = remote.try_call(Method::GET, &path, None).await?;
    if !status.is_success() {
        eprintln!(
            "{}",
            super::remote::problem_text(&remote.url(&path), status, &request)
        );
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    if !a.json {
        println!(
            "{} {} asks to:",
            request["appId"].as_str().unwrap_or(&app),
            request["version"].as_str().unwrap_or("")
        );
        for line in request["summary"].as_array().into_iter().flatten() {
            println!("  - {}", line.as_str().unwrap_or(""));
        }
        if !a.refuse.is_empty() {
            println!("Refusing: {}", a.refuse.join(", "));
        }
    }
    let tags: BTreeMap<String, String> = a.tags.into_iter().collect();
    let mut body = json!({
        "appId": app, "version": version, "team": a.team, "instanceId": a.instance_id,
        "tags": tags, "billingMode": if a.sandbox { "sandbox" } else { "normal" },
        "refuseScopes": a.refuse,
    });
    // Without the flag the team's setting decides (docs/installs.md).
    if a.no_auto_upgrade {
        body["autoUpgrade"] = json!(false);
    }
    let (status, answer) = remote
        .try_call(Method::POST, "/api/installs", Some(&body))
        .await?;
    if !status.is_success() {
        eprintln!(
            "{}",
            super::remote::problem_text(&remote.url("/api/installs"), status, &answer)
        );
        let refused = status == reqwest::StatusCode::UNPROCESSABLE_ENTITY
            || status == reqwest::StatusCode::FORBIDDEN;
        return Ok(ExitCode::from(if refused {
            EXIT_INVALID
        } else {
            EXIT_USAGE_OR_IO
        }));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print_instance(&answer);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_instance(i: &Value) {
    let text = |k: &str| i[k].as_str().unwrap_or("").to_owned();
    match text("status").as_str() {
        "active" => println!(
            "installed {} {} as {} ({})",
            text("appId"),
            text("version"),
            text("id"),
            text("spiffeId")
        ),
        _ => println!(
            "requested {} {} as {}: it waits for an admin's consent \
             (POST /api/installs/{}/consent)",
            text("appId"),
            text("version"),
            text("id"),
            text("id")
        ),
    }
    let scopes: Vec<&str> = i["grant"]["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "granted scopes: {}",
        if scopes.is_empty() {
            "none".to_owned()
        } else {
            scopes.join(", ")
        }
    );
}
