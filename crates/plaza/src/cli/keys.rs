//! `plaza keys register|list|revoke`: publishers' public keys registered with the marketplace,
//! which `plaza verify --publisher` and the submission gate trust.

use super::remote::{path_segment, RemoteArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// `plaza keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Register a publisher's public key (SPKI PEM, as `plaza keygen` writes it).
    Register(RegisterArgs),
    /// List the org's publisher keys.
    List(ListArgs),
    /// Revoke a key: its signatures stop verifying unless a marketplace timestamp proves they
    /// were made earlier.
    Revoke(RevokeArgs),
}

/// Arguments of `plaza keys register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The publisher (a manifest's provenance.signedBy, e.g. did:example:maintainer).
    #[arg(long)]
    publisher: String,
    /// The public key file.
    #[arg(long, value_name = "FILE")]
    public_key: PathBuf,
    /// Rotation: the publisher's other keys stop being valid this many days from now.
    #[arg(long, value_name = "DAYS")]
    rotate_grace_days: Option<i64>,
    /// Valid until (RFC 3339) [default: open-ended].
    #[arg(long, value_name = "TIME")]
    not_after: Option<String>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Arguments of `plaza keys list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this publisher's keys.
    #[arg(long)]
    publisher: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Arguments of `plaza keys revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The key id (hex SHA-256 of the public key's SPKI DER).
    key_id: String,
    /// Why it is revoked (shown to everyone whose signature stops verifying).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Runs the subcommand; exit 0 done, 2 refused or failed (with the server's reason).
pub async fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Register(a) => {
            let pem = std::fs::read_to_string(&a.public_key)
                .with_context(|| format!("cannot read {}", a.public_key.display()))?;
            let remote = a.remote.connect().await?;
            let mut body = json!({"publicKey": pem});
            if let Some(d) = a.rotate_grace_days {
                body["rotateGraceDays"] = json!(d);
            }
            if let Some(t) = a.not_after {
                body["notAfter"] = json!(t);
            }
            let path = format!(
                "/api/orgs/{}/publishers/{}/keys",
                remote.org,
                path_segment(&a.publisher)
            );
            let key = remote
                .call(reqwest::Method::POST, &path, Some(&body))
                .await?;
            println!(
                "registered key {} for {} ({})",
                key["keyId"].as_str().unwrap_or_default(),
                a.publisher,
                key["algorithm"].as_str().unwrap_or_default()
            );
        }
        KeysCommand::List(a) => {
            let remote = a.remote.connect().await?;
            let path = match &a.publisher {
                Some(p) => format!(
                    "/api/orgs/{}/publishers/{}/keys",
                    remote.org,
                    path_segment(p)
                ),
                None => format!("/api/orgs/{}/publisher-keys", remote.org),
            };
            let keys = remote.call(reqwest::Method::GET, &path, None).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                for k in keys.as_array().into_iter().flatten() {
                    let s = |f: &str| k[f].as_str().unwrap_or("").to_owned();
                    let state = if k["revokedAt"].is_string() {
                        format!("revoked {} ({})", s("revokedAt"), s("revocationReason"))
                    } else if k["notAfter"].is_string() {
                        format!("valid {} until {}", s("notBefore"), s("notAfter"))
                    } else {
                        format!("valid from {}", s("notBefore"))
                    };
                    println!(
                        "{}  {}  {}  {state}",
                        s("keyId"),
                        s("publisher"),
                        s("algorithm")
                    );
                }
            }
        }
        KeysCommand::Revoke(a) => {
            let remote = a.remote.connect().await?;
            let path = format!(
                "/api/orgs/{}/publisher-keys/{}/revoke",
                remote.org, a.key_id
            );
            let key = remote
                .call(
                    reqwest::Method::POST,
                    &path,
                    Some(&json!({"reason": a.reason})),
                )
                .await?;
            println!(
                "revoked key {} at {}",
                a.key_id,
                key["revokedAt"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
