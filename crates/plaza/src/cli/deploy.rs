//! `plaza deploy render INSTANCE`: the Kubernetes YAML for a container app's instance
//! (`plaza-deploy` renders it; docs/deploy.md). The instance, its grant and the app version come
//! from the API; the image is pinned to the digest the registry holds for the version's tag;
//! granted egress hosts are resolved now, because a NetworkPolicy can only name addresses.
//! Exit 0 written, 1 the instance cannot be rendered (not a container app, not active), 2 usage,
//! I/O or server error.

use super::remote::{problem_text, RemoteArgs};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::{Args, Subcommand};
use plaza_deploy::{EgressTarget, RenderInput};
use reqwest::Method;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// Subcommands of `plaza deploy`.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Write the Kubernetes objects (ServiceAccount, token Secret, Deployment, NetworkPolicy)
    /// of a container app's instance.
    Render(RenderArgs),
}

/// Arguments of `plaza deploy render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The instance id.
    instance: String,
    /// The namespace [default: plaza-<team>].
    #[arg(long)]
    namespace: Option<String>,
    /// The container port [default: 8080].
    #[arg(long)]
    port: Option<u16>,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Runs `plaza deploy …`.
pub async fn run(c: DeployCommand) -> anyhow::Result<ExitCode> {
    match c {
        DeployCommand::Render(a) => render(a).await,
    }
}

async fn render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let remote = a.remote.connect().await?;
    let get = |path: String| {
        let remote = &remote;
        async move {
            let (status, body) = remote.try_call(Method::GET, &path, None).await?;
            if status.is_success() {
                Ok(Ok(body))
            } else {
                Ok::<_, anyhow::Error>(Err(problem_text(&remote.url(&path), status, &body)))
            }
        }
    };
    let instance = match get(format!("/api/installs/{}", a.instance)).await? {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let (app, version) = (text(&instance, "appId"), text(&instance, "version"));
    if text(&instance, "status") != "active" {
        eprintln!(
            "instance {} is {}: only an active instance is deployed",
            a.instance,
            text(&instance, "status")
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let app_version = match get(format!(
        "/api/orgs/{}/apps/{app}/versions/{version}",
        remote.org
    ))
    .await?
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    };
    let runtime = app_version["manifest"]["runtime"].as_str().unwrap_or("");
    if runtime != "container" {
        eprintln!(
            "{app} {version} is a `{runtime}` app: Plaza runs wasm apps and functions itself \
             (at /apps/{}/); only container apps are rendered for Kubernetes",
            a.instance
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let image = pinned_image(&remote, &app, &version).await?;
    let spiffe = text(&instance, "spiffeId");
    let team = spiffe
        .split("/team/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let grant = &instance["grant"];
    let mut egress = Vec::new();
    for entry in grant["egress"].as_array().into_iter().flatten() {
        egress.push(resolve(entry.as_str().unwrap_or_default()).await?);
    }
    let input = RenderInput {
        instance_id: a.instance.clone(),
        spiffe_id: spiffe,
        org: remote.org.clone(),
        team,
        app_id: app,
        version,
        image,
        namespace: a.namespace,
        memory: plaza_manifest::quantity::format_memory(
            grant["resources"]["memoryBytes"]
                .as_u64()
                .unwrap_or(128 << 20),
        ),
        cpu_millis: u32::try_from(grant["resources"]["cpuMillis"].as_u64().unwrap_or(500))
            .unwrap_or(500),
        port: a.port,
        egress,
        tags: serde_json::from_value(instance["tags"].clone()).unwrap_or_default(),
        token_secret_name: None,
    };
    let yaml = match plaza_deploy::render(&input) {
        Ok(y) => y,
        Err(e) => {
            eprintln!("cannot render instance {}: {e}", a.instance);
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    match &a.output {
        Some(path) => {
            std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `<registry host>/<org>/<app>@sha256:…`: the digest the registry holds for the version's tag.
async fn pinned_image(
    remote: &super::remote::Remote,
    app: &str,
    version: &str,
) -> anyhow::Result<String> {
    let path = format!("/v2/{}/{app}/manifests/{version}", remote.org);
    let resp = reqwest::Client::new()
        .head(remote.url(&path))
        .bearer_auth(remote.token())
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
             application/vnd.docker.distribution.manifest.v2+json, \
             application/vnd.docker.distribution.manifest.list.v2+json",
        )
        .send()
        .await
        .with_context(|| format!("cannot reach {}", remote.url(&path)))?;
    let digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|d| d.to_str().ok())
        .map(str::to_owned);
    let Some(digest) = digest.filter(|_| resp.status().is_success()) else {
        anyhow::bail!(
            "the registry holds no image for {app}:{version} ({} answered {}); push it first \
             (`skopeo copy … docker://…/{}/{app}:{version}`)",
            remote.url(&path),
            resp.status(),
            remote.org
        );
    };
    let host = remote
        .server()
        .trim_end_matches('/')
        .split("://")
        .nth(1)
        .unwrap_or(remote.server())
        .to_owned();
    Ok(format!("{host}/{}/{app}@{digest}", remote.org))
}

/// A granted `host[:port]` entry (the manifest's egress grammar, `plaza_manifest::egress`) with
/// the addresses its name resolves to now (none for a wildcard, or when it does not resolve).
async fn resolve(entry: &str) -> anyhow::Result<EgressTarget> {
    use plaza_manifest::egress::{EgressRule, HostPattern};
    let rule = EgressRule::parse(entry)
        .map_err(|e| anyhow::anyhow!("granted egress entry `{entry}`: {e}"))?;
    let port = rule.effective_port();
    let (host, addresses) = match &rule.host {
        HostPattern::Subdomains(domain) => (format!("*.{domain}"), Vec::new()),
        HostPattern::Exact(host) => {
            let addresses = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    let mut found: Vec<std::net::IpAddr> =
                        tokio::net::lookup_host((host.as_str(), port))
                            .await
                            .map(|addrs| addrs.map(|a| a.ip()).collect())
                            .unwrap_or_default();
                    found.sort();
                    found.dedup();
                    found
                }
            };
            (host.clone(), addresses)
        }
    };
    Ok(EgressTarget {
        host,
        port,
        addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[tokio::test]
    async fn granted_entries_are_read_with_the_manifest_egress_grammar() {
        let ip = resolve("10.0.0.5:8443").await.unwrap();
        assert_eq!((ip.host.as_str(), ip.port), ("10.0.0.5", 8443));
        assert_eq!(
            ip.addresses,
            ["10.0.0.5".parse::<std::net::IpAddr>().unwrap()]
        );
        let wildcard = resolve("*.example.com").await.unwrap();
        assert_eq!(
            (wildcard.host.as_str(), wildcard.port),
            ("*.example.com", 443)
        );
        assert!(wildcard.addresses.is_empty());
        assert!(resolve("*").await.is_err());
    }
}
