//! `plaza login` and `plaza whoami`: the server URL and token later CLI calls use, kept in
//! `$XDG_CONFIG_HOME/plaza/credentials.toml` (or `~/.config/plaza/…`), readable by the owner only.

use super::remote::{credentials_path, Credentials, Remote};
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `plaza login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// An API token (`plz_…`) [env: PLAZA_TOKEN].
    #[arg(long, env = "PLAZA_TOKEN", hide_env_values = true)]
    token: String,
}

/// Arguments of `plaza whoami`.
#[derive(Debug, Args)]
pub struct WhoamiArgs {}

async fn me(server: &str, token: &str) -> anyhow::Result<serde_json::Value> {
    Remote::new(server, token)
        .call(reqwest::Method::GET, "/api/me", None)
        .await
}

/// Checks the token against the server, then stores both.
pub async fn login(a: LoginArgs) -> anyhow::Result<ExitCode> {
    let body = me(&a.server, &a.token).await?;
    let path = credentials_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = toml::to_string(&Credentials {
        server: a.server.clone(),
        token: a.token,
    })?;
    write_private(&path, &text)?;
    let handle = body
        .pointer("/user/handle")
        .and_then(|h| h.as_str())
        .unwrap_or("?");
    let org = body
        .pointer("/org/slug")
        .and_then(|h| h.as_str())
        .unwrap_or("?");
    println!(
        "Logged in to {} as {handle} (org {org}); saved to {}",
        a.server,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Shows who the stored token belongs to.
pub async fn whoami(_: WhoamiArgs) -> anyhow::Result<ExitCode> {
    let path = credentials_path()?;
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "not logged in ({} missing): run `plaza login --server URL --token T`",
            path.display()
        )
    })?;
    let creds: Credentials = toml::from_str(&text)
        .with_context(|| format!("{} is damaged; run `plaza login` again", path.display()))?;
    let body = me(&creds.server, &creds.token).await?;
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    Ok(std::fs::write(path, text)?)
}
