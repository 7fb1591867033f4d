//! What `--artifact` names, for `plaza sign|verify|attest`: a file; a folder holding one OCI
//! image layout (its one manifest is the artifact) or exactly one `.wasm` file; or a registry
//! reference `<org>/<app-id>:<version>` (or `@sha256:…`) on the Plaza server, whose manifest is the
//! artifact. A signature's subject is the sha256 of the artifact's bytes, so an image is signed
//! by its manifest digest, as cosign does.

use super::oci_client::RegistryClient;
use super::remote::RemoteArgs;
use anyhow::{bail, Context};
use plaza_registry::layout::{blob_path, is_layout};
use plaza_registry::Digest;
use std::path::{Path, PathBuf};

/// The artifact's bytes and names.
pub struct Artifact {
    /// The name a statement's subject carries (a file name or the reference).
    pub name: String,
    /// The bytes whose sha256 is the subject's digest.
    pub bytes: Vec<u8>,
    /// Where a signature or attestation is written by default: next to the artifact, or in the
    /// current folder for a registry reference.
    pub default_output: PathBuf,
    /// For a registry reference: the repository and the manifest digest.
    pub in_registry: Option<(String, Digest)>,
}

/// Resolves `spec`: a path when one exists there, else a registry reference (which needs the
/// server of `remote`).
pub async fn resolve(spec: &str, suffix: &str, remote: &RemoteArgs) -> anyhow::Result<Artifact> {
    let path = Path::new(spec);
    if path.is_file() {
        return from_file(path, suffix);
    }
    if path.is_dir() {
        return from_dir(path, suffix);
    }
    if let Some((repo, reference)) = split_reference(spec) {
        let server = remote.connect().await?;
        let client = RegistryClient::new(server.server(), server.token());
        let fetched = client
            .get_manifest(repo, reference)
            .await?
            .with_context(|| {
                format!(
                    "{spec}: no such manifest in the registry at {}",
                    server.server()
                )
            })?;
        let file = format!(
            "{}-{}{suffix}",
            repo.replace('/', "_"),
            reference.replace(':', "-")
        );
        return Ok(Artifact {
            name: format!("{repo}@{}", fetched.digest),
            bytes: fetched.bytes,
            default_output: PathBuf::from(file),
            in_registry: Some((repo.to_owned(), fetched.digest)),
        });
    }
    bail!(
        "--artifact {spec}: no such file or folder, and not a registry reference \
         (<org>/<app-id>:<version> or <org>/<app-id>@sha256:<hex>)"
    )
}

fn from_file(path: &Path, suffix: &str) -> anyhow::Result<Artifact> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut out = path.as_os_str().to_owned();
    out.push(suffix);
    Ok(Artifact {
        name,
        bytes,
        default_output: PathBuf::from(out),
        in_registry: None,
    })
}

fn from_dir(dir: &Path, suffix: &str) -> anyhow::Result<Artifact> {
    if is_layout(dir) {
        let index_path = dir.join("index.json");
        let index: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&index_path)
                .with_context(|| format!("cannot read {}", index_path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", index_path.display()))?;
        let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
        let [only] = manifests.as_slice() else {
            bail!(
                "{} holds {} manifests; sign one of them by reference (push it first) or package \
                 each version in its own layout",
                dir.display(),
                manifests.len()
            );
        };
        let digest = only["digest"]
            .as_str()
            .and_then(|d| Digest::parse(d).ok())
            .with_context(|| {
                format!(
                    "{}: /manifests/0/digest is not a digest",
                    index_path.display()
                )
            })?;
        let blob = blob_path(dir, &digest);
        let bytes =
            std::fs::read(&blob).with_context(|| format!("cannot read {}", blob.display()))?;
        if Digest::of(digest.algorithm(), &bytes) != digest {
            bail!(
                "{}: the manifest blob does not match its digest {digest}",
                dir.display()
            );
        }
        let mut out = dir.as_os_str().to_owned();
        out.push(suffix);
        return Ok(Artifact {
            name: format!("{}@{digest}", dir.display()),
            bytes,
            default_output: PathBuf::from(out),
            in_registry: None,
        });
    }
    let mut wasm: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    wasm.sort();
    match wasm.as_slice() {
        [one] => from_file(one, suffix),
        [] => bail!(
            "{} is a folder with no .wasm file and no OCI image layout; point --artifact at the \
             file to sign",
            dir.display()
        ),
        many => bail!(
            "{} holds {} .wasm files ({}); point --artifact at the one to sign",
            dir.display(),
            many.len(),
            many.iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `repo:tag` or `repo@digest`, with at least one `/` in the repository.
fn split_reference(spec: &str) -> Option<(&str, &str)> {
    let (repo, reference) = match spec.split_once('@') {
        Some((r, d)) => (r, d),
        None => spec.rsplit_once(':')?,
    };
    (repo.contains('/') && !repo.is_empty() && !reference.is_empty()).then_some((repo, reference))
}

#[cfg(test)]
mod tests {
    use super::split_reference;

    #[test]
    fn references_need_a_repository_path_and_a_tag_or_digest() {
        assert_eq!(
            split_reference("acme/com.example.app:1.0.0"),
            Some(("acme/com.example.app", "1.0.0"))
        );
        assert_eq!(
            split_reference("acme/app@sha256:abc"),
            Some(("acme/app", "sha256:abc"))
        );
        assert_eq!(split_reference("app:1.0.0"), None);
        assert_eq!(split_reference("./dist/wasm"), None);
    }
}
