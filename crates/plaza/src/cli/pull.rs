//! `plaza pull REF [-o DIR]`: fetches an app version from the marketplace's registry into an
//! OCI image layout (which skopeo, oras and `plaza push` read), verifying every manifest and
//! blob against its digest before keeping it, with a progress bar for large blobs. REF is
//! `[ORG/]APP[:TAG|@DIGEST]`; the org defaults to the token owner's, the tag to `latest`.
//! The artifact's referrers (Plaza manifest, SBOM, signatures, provenance) are listed.

use super::oci_client::RegistryClient;
use super::remote::RemoteArgs;
use super::EXIT_USAGE_OR_IO;
use anyhow::Context;
use clap::Args;
use plaza_registry::layout::{blob_path, write_index};
use plaza_registry::{parse_manifest, Digest};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// What to pull: `[ORG/]APP[:TAG|@DIGEST]`, e.g. `com.example.where2eat:1.2.0`.
    #[arg(value_name = "REF")]
    reference: String,
    /// Where to write the OCI image layout [default: ./<app>-<tag or digest>].
    #[arg(short = 'o', long, value_name = "DIR")]
    output: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// A parsed REF.
#[derive(Debug, PartialEq, Eq)]
struct Ref {
    org: Option<String>,
    app: String,
    reference: String,
    tag: Option<String>,
}

fn parse_ref(text: &str) -> anyhow::Result<Ref> {
    let (name, reference, tag) = if let Some((name, digest)) = text.split_once('@') {
        Digest::parse(digest).with_context(|| format!("`{text}`: `{digest}` is not a digest"))?;
        (name, digest.to_owned(), None)
    } else {
        match text.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag.to_owned(), Some(tag.to_owned())),
            _ => (text, "latest".to_owned(), Some("latest".to_owned())),
        }
    };
    let (org, app) = match name.split_once('/') {
        Some((org, app)) => (Some(org.to_owned()), app.to_owned()),
        None => (None, name.to_owned()),
    };
    if app.is_empty() || app.contains('/') {
        anyhow::bail!("`{text}` is not `[ORG/]APP[:TAG|@DIGEST]`");
    }
    Ok(Ref {
        org,
        app,
        reference,
        tag,
    })
}

/// Pulls; exit 0 written, 2 not found, usage, I/O or verification error.
pub async fn run(a: PullArgs) -> anyhow::Result<ExitCode> {
    let r = parse_ref(&a.reference)?;
    let remote = a.remote.connect().await?;
    let org = r.org.clone().unwrap_or_else(|| remote.org.clone());
    let repo = format!("{org}/{}", r.app);
    let registry = RegistryClient::new(remote.server(), remote.token());
    let Some(top) = registry.get_manifest(&repo, &r.reference).await? else {
        eprintln!("error: {repo}:{} is not in the registry", r.reference);
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    };
    let output = a.output.unwrap_or_else(|| {
        let label = r
            .tag
            .clone()
            .unwrap_or_else(|| top.digest.hex()[..12].to_owned());
        PathBuf::from(format!("{}-{label}", r.app))
    });
    if !super::output_is_free(&output) {
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let mut pending = vec![(
        top.media_type.clone(),
        top.bytes.clone(),
        top.digest.clone(),
    )];
    while let Some((media_type, bytes, digest)) = pending.pop() {
        // Kept under the digest it was fetched by (sha512 included), as the layout names it.
        let path = blob_path(&output, &digest);
        std::fs::create_dir_all(path.parent().unwrap_or(&output))
            .with_context(|| format!("cannot create {}", output.display()))?;
        std::fs::write(&path, &bytes)?;
        let parsed = parse_manifest(&bytes, Some(&media_type))
            .map_err(|e| anyhow::anyhow!("{repo}@{digest}: {e}"))?;
        for child in &parsed.manifests {
            let fetched = registry
                .get_manifest(&repo, &child.digest.to_string())
                .await?
                .with_context(|| format!("{repo}@{}: listed but missing", child.digest))?;
            pending.push((child.media_type.clone(), fetched.bytes, fetched.digest));
        }
        for d in parsed.config.iter().chain(&parsed.layers) {
            if d.is_foreign() {
                continue;
            }
            let dest = blob_path(&output, &d.digest);
            if dest.exists() {
                continue;
            }
            std::fs::create_dir_all(dest.parent().unwrap_or(&output))?;
            let short = d
                .digest
                .hex()
                .get(..12)
                .unwrap_or(d.digest.hex())
                .to_owned();
            registry
                .pull_blob(&repo, &d.digest, d.size, &dest, &short)
                .await?;
        }
    }
    write_index(
        &output,
        &top.media_type,
        &top.digest,
        top.bytes.len() as u64,
        r.tag.as_deref(),
    )?;
    println!("pulled {repo}@{} into {}", top.digest, output.display());
    let referrers = registry.referrers(&repo, &top.digest).await?;
    for m in referrers
        .get("manifests")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        println!(
            "  referrer {} {}",
            m.get("artifactType")
                .and_then(|t| t.as_str())
                .unwrap_or("-"),
            m.get("digest").and_then(|t| t.as_str()).unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_parsed() {
        let r = parse_ref("acme/com.example.a:1.0.0").unwrap();
        assert_eq!(
            (r.org.as_deref(), r.app.as_str(), r.reference.as_str()),
            (Some("acme"), "com.example.a", "1.0.0")
        );
        let r = parse_ref("com.example.a").unwrap();
        assert_eq!((r.org, r.reference.as_str()), (None, "latest"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse_ref(&format!("com.example.a@{d}")).unwrap();
        assert_eq!((r.reference, r.tag), (d, None));
        assert!(parse_ref("com.example.a@sha256:zz").is_err());
        assert!(parse_ref("a/b/c:1").is_err());
    }
}
