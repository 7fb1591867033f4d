//! `plaza push [SOURCE]`: puts an app version into the marketplace's registry and registers it.
//!
//! SOURCE is an app folder (packaged on the fly, as `plaza package` would), an OCI image layout
//! (`plaza package`'s output, or any layout holding the version's tag), or nothing: then the
//! image must already be in the registry at `<org>/<app-id>:<version>` (a container image pushed
//! with skopeo or docker). Every blob is streamed with a progress bar and skipped when the
//! registry has it; the manifest is tagged with the version. Then the Plaza manifest, and the
//! SBOM, signatures and provenance given, are attached as referrers (artifact types in
//! docs/registry.md), and the version is registered through the API, which runs the org's
//! policy gate and from then on keeps the tag immutable.

use super::oci_client::RegistryClient;
use super::package::{load_app, load_manifest, LoadError};
use super::remote::{problem_text, RemoteArgs};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::{bail, Context};
use clap::Args;
use plaza_registry::layout::{blob_path, find_entry, is_layout};
use plaza_registry::referrer::{self, Attachment, Subject};
use plaza_registry::{parse_manifest, Digest};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `plaza push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// An app folder, or an OCI image layout; leave out for an image already in the registry at
    /// <org>/<app-id>:<version>.
    #[arg(value_name = "SOURCE")]
    source: Option<PathBuf>,
    /// The Plaza manifest [default: SOURCE/micro-app.yaml for an app folder, else
    /// ./micro-app.yaml].
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The built component, for an app folder (as in `plaza package`).
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,
    /// An SBOM (CycloneDX or SPDX JSON) to attach.
    #[arg(long, value_name = "FILE")]
    sbom: Option<PathBuf>,
    /// A signature (DSSE envelope) to attach; repeatable.
    #[arg(long, value_name = "FILE")]
    signature: Vec<PathBuf>,
    /// Provenance (an in-toto statement, usually in a DSSE envelope) to attach.
    #[arg(long, value_name = "FILE")]
    provenance: Option<PathBuf>,
    /// Push and attach only; do not register the version (it stays a draft whose tag can move).
    #[arg(long)]
    no_register: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Where the artifact comes from.
enum Source {
    /// An OCI image layout on disk (possibly a temporary one packaged from an app folder).
    Layout(PathBuf),
    /// Already in the registry.
    Registry,
}

fn read_attachments(a: &PushArgs) -> anyhow::Result<Vec<(String, Attachment)>> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let located = |p: &Path, e: referrer::AttachmentError| anyhow::anyhow!("{}: {e}", p.display());
    let mut out = Vec::new();
    if let Some(p) = &a.sbom {
        out.push((
            "SBOM".to_owned(),
            referrer::sbom(read(p)?).map_err(|e| located(p, e))?,
        ));
    }
    for p in &a.signature {
        out.push((
            "signature".to_owned(),
            referrer::signature(read(p)?).map_err(|e| located(p, e))?,
        ));
    }
    if let Some(p) = &a.provenance {
        out.push((
            "provenance".to_owned(),
            referrer::provenance(read(p)?).map_err(|e| located(p, e))?,
        ));
    }
    Ok(out)
}

/// Pushes; exit 0 pushed (and registered), 1 invalid manifest or denied by policy, 2 usage, I/O
/// or registry error.
pub async fn run(a: PushArgs) -> anyhow::Result<ExitCode> {
    let app_dir = a.source.as_deref().filter(|s| !is_layout(s));
    let manifest_path = a.manifest.clone().unwrap_or_else(|| {
        app_dir.map_or_else(
            || PathBuf::from("micro-app.yaml"),
            |d| d.join("micro-app.yaml"),
        )
    });
    let (manifest, id, version) = match load_manifest(&manifest_path) {
        Ok(m) => m,
        Err(LoadError::Invalid) => return Ok(ExitCode::from(EXIT_INVALID)),
        Err(LoadError::Other(e)) => return Err(e),
    };
    let attachments = read_attachments(&a)?;
    let _packaged; // keeps a temporary layout alive until the push is done
    let source = match (&a.source, app_dir) {
        (None, _) => Source::Registry,
        (Some(dir), Some(_)) => {
            let app = match load_app(dir, Some(&manifest_path), a.component.as_deref()) {
                Ok(app) => app,
                Err(LoadError::Invalid) => return Ok(ExitCode::from(EXIT_INVALID)),
                Err(LoadError::Other(e)) => return Err(e),
            };
            let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            let layout = tmp.path().join("oci");
            match plaza_registry::package::write_layout(&layout, &app.manifest, &app.component) {
                Ok(_) => {}
                Err(plaza_registry::package::PackageError::NotAComponent(why)) => {
                    eprintln!("{}: {why}", app.component_path.display());
                    return Ok(ExitCode::from(EXIT_INVALID));
                }
                Err(e) => return Err(e.into()),
            }
            _packaged = tmp;
            Source::Layout(layout)
        }
        (Some(layout), None) => Source::Layout(layout.clone()),
    };

    let remote = a.remote.connect().await?;
    let registry = RegistryClient::new(remote.server(), remote.token());
    let repo = format!("{}/{id}", remote.org);
    let subject = match source {
        Source::Layout(dir) => push_layout(&registry, &dir, &repo, &version).await?,
        Source::Registry => {
            let Some(found) = registry.get_manifest(&repo, &version).await? else {
                eprintln!(
                    "error: {repo}:{version} is not in the registry; push the image first (e.g. `skopeo copy docker-archive:image.tar docker://<plaza-host>/{repo}:{version}`) or give an app folder or OCI layout as SOURCE"
                );
                return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
            };
            println!("found {repo}:{version} ({})", found.digest);
            Subject {
                media_type: found.media_type,
                size: found.bytes.len() as u64,
                digest: found.digest,
            }
        }
    };
    println!("pushed {repo}:{version} as {}", subject.digest);

    let mut all = vec![(
        "Plaza manifest".to_owned(),
        referrer::plaza_manifest(&manifest),
    )];
    all.extend(attachments);
    for (what, attachment) in &all {
        let digest = attach(&registry, &repo, &subject, attachment).await?;
        println!(
            "attached the {what} as {digest} ({})",
            attachment.artifact_type
        );
    }

    if a.no_register {
        println!("not registered (--no-register): {repo}:{version} stays a draft");
        return Ok(ExitCode::SUCCESS);
    }
    register(&remote, &id, &version, &manifest).await
}

/// Pushes one referrer: the empty config, the document, then the referrer manifest by digest.
async fn attach(
    registry: &RegistryClient,
    repo: &str,
    subject: &Subject,
    attachment: &Attachment,
) -> anyhow::Result<Digest> {
    registry
        .push_bytes(
            repo,
            &Digest::sha256_of(referrer::EMPTY_CONFIG),
            referrer::EMPTY_CONFIG,
        )
        .await?;
    registry
        .push_bytes(
            repo,
            &Digest::sha256_of(&attachment.bytes),
            &attachment.bytes,
        )
        .await?;
    let manifest = referrer::referrer_manifest(subject, attachment);
    let digest = Digest::sha256_of(&manifest);
    registry
        .put_manifest(
            repo,
            &digest.to_string(),
            plaza_registry::manifest::media_type::OCI_MANIFEST,
            &manifest,
        )
        .await
}

/// Registers the version through the API (the policy gate runs there).
async fn register(
    remote: &super::remote::Remote,
    id: &str,
    version: &str,
    manifest: &serde_json::Value,
) -> anyhow::Result<ExitCode> {
    let existing = format!("/api/orgs/{}/apps/{id}/versions/{version}", remote.org);
    let (status, _) = remote
        .try_call(reqwest::Method::GET, &existing, None)
        .await?;
    if status.is_success() {
        println!("{id} {version} was already registered");
        return Ok(ExitCode::SUCCESS);
    }
    let path = format!("/api/orgs/{}/apps", remote.org);
    let (status, body) = remote
        .try_call(reqwest::Method::POST, &path, Some(manifest))
        .await?;
    if status.is_success() {
        let outcome = body
            .pointer("/decision/outcome")
            .and_then(|o| o.as_str())
            .unwrap_or("allow");
        println!("registered {id} {version} (policy decision: {outcome})");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{}",
        problem_text(&format!("{}{path}", remote.server()), status, &body)
    );
    if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        eprintln!("the artifact is pushed as a draft; fix the findings and push again");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    Ok(ExitCode::from(EXIT_USAGE_OR_IO))
}

/// Pushes the layout's manifest for `version` with everything it references, tagged `version`.
async fn push_layout(
    registry: &RegistryClient,
    dir: &Path,
    repo: &str,
    version: &str,
) -> anyhow::Result<Subject> {
    let (media_type, digest) = find_entry(dir, version)?;
    let bytes = push_tree(registry, dir, repo, &media_type, &digest).await?;
    registry
        .put_manifest(repo, version, &media_type, &bytes)
        .await?;
    Ok(Subject {
        media_type,
        size: bytes.len() as u64,
        digest,
    })
}

/// Pushes the blobs and child manifests of the manifest `digest` (by digest), and returns its
/// bytes for the caller to tag.
async fn push_tree(
    registry: &RegistryClient,
    dir: &Path,
    repo: &str,
    media_type: &str,
    digest: &Digest,
) -> anyhow::Result<Vec<u8>> {
    let path = blob_path(dir, digest);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if !digest.verifies(&bytes) {
        bail!(
            "{}: the layout is damaged (its bytes do not hash to {digest})",
            path.display()
        );
    }
    let parsed = parse_manifest(&bytes, Some(media_type))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for child in &parsed.manifests {
        let child_bytes = Box::pin(push_tree(
            registry,
            dir,
            repo,
            &child.media_type,
            &child.digest,
        ))
        .await?;
        registry
            .put_manifest(
                repo,
                &child.digest.to_string(),
                &child.media_type,
                &child_bytes,
            )
            .await?;
    }
    for blob in parsed.required_blob_digests() {
        // The registry verifies each upload against its digest, so a damaged blob is refused
        // there (`DIGEST_INVALID`) without hashing it here first.
        let file = blob_path(dir, blob);
        let short = blob.hex().get(..12).unwrap_or(blob.hex()).to_owned();
        if registry.push_file(repo, blob, &file, &short).await? {
            println!("  uploaded {blob}");
        }
    }
    Ok(bytes)
}
