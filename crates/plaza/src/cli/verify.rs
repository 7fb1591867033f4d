//! `plaza verify --artifact PATH|REF (--key PUB | --publisher NAME)`: checks a signature over
//! the artifact. With `--key`, the signature must verify with that public key; besides Plaza's
//! DSSE envelopes, cosign's key-pair formats are recognised (docs/provenance.md): a
//! `cosign sign-blob` signature (base64), a cosign or Sigstore bundle, and a
//! `cosign attest-blob` envelope. With `--publisher`, a DSSE signature must verify with one of the
//! publisher's keys registered with the marketplace, valid (window, revocation) when the
//! signature was made: at the time a marketplace timestamp (`--timestamp`) proves, else now.

use super::artifact_source;
use super::key_material::public_key;
use super::remote::{path_segment, RemoteArgs};
use super::sign::SIGNATURE_SUFFIX;
use super::EXIT_INVALID;
use anyhow::Context;
use clap::Args;
use plaza_supply::sign::artifact::{verify_artifact, verify_artifact_trusted, VerifiedArtifact};
use plaza_supply::sign::dsse::Envelope;
use plaza_supply::sign::keys::PublicKey;
use plaza_supply::sign::trust::TrustedKey;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What was signed: a file, a folder with one .wasm file or one OCI image layout, or a
    /// registry reference <org>/<app-id>:<version>.
    #[arg(long, value_name = "PATH|REF")]
    artifact: String,
    /// A public key (PEM file, PEM text, or env://VAR) the signature must verify with.
    #[arg(
        long,
        value_name = "PUB",
        conflicts_with = "publisher",
        required_unless_present = "publisher"
    )]
    key: Option<String>,
    /// A publisher registered with the marketplace (a manifest's provenance.signedBy): the
    /// signature must verify with one of its keys, valid when the signature was made.
    #[arg(long, value_name = "NAME")]
    publisher: Option<String>,
    /// The DSSE envelope [default: the artifact's path + .dsse.json].
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// A marketplace timestamp (DSSE envelope) proving when the signature was made; repeatable.
    #[arg(long, value_name = "FILE")]
    timestamp: Vec<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Verifies; exit 0 verified, 1 not verified, 2 usage or I/O error.
pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let artifact = artifact_source::resolve(&args.artifact, SIGNATURE_SUFFIX, &args.remote).await?;
    // An image in the registry with no signature file at hand: cosign's image signatures,
    // under its `sha256-<hex>.sig` tag or as OCI 1.1 referrers.
    if let (None, Some((repo, digest)), Some(key)) =
        (&args.signature, &artifact.in_registry, &args.key)
    {
        if !artifact.default_output.exists() {
            let key = public_key(key)?;
            return cosign_image(&args.remote, repo, digest, &key).await;
        }
    }
    let sig_path = args
        .signature
        .clone()
        .unwrap_or(artifact.default_output.clone());
    let envelope = std::fs::read(&sig_path).with_context(|| {
        format!(
            "cannot read the signature {}; pass --signature FILE",
            sig_path.display()
        )
    })?;
    let result = match (&args.key, &args.publisher) {
        (Some(key), _) => {
            let key = public_key(key)?;
            match cosign_form(&envelope) {
                Some(form) => {
                    return Ok(report_cosign(
                        &artifact.name,
                        &sig_path,
                        form,
                        cosign_verify(form, &envelope, &artifact.bytes, &key),
                    ))
                }
                None => {
                    let plaza =
                        verify_artifact(&envelope, &artifact.bytes, std::slice::from_ref(&key));
                    if plaza.is_err() {
                        // A `cosign attest-blob` envelope (in-toto v0.1, any predicate type).
                        if let Ok(st) = plaza_supply::sign::cosign::verify_attestation(
                            &envelope,
                            &artifact.bytes,
                            &key,
                        ) {
                            println!(
                                "verified: {} is attested ({}, a cosign attest-blob envelope) \
                                 ({})",
                                artifact.name,
                                st.predicate_type,
                                sig_path.display()
                            );
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                    plaza
                }
            }
        }
        (None, Some(publisher)) => {
            let (keys, marketplace) = registered_keys(&args.remote, publisher).await?;
            let mut timestamps = Vec::new();
            for p in &args.timestamp {
                let bytes =
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
                timestamps.push(
                    Envelope::from_json(&bytes)
                        .with_context(|| format!("{}: not a DSSE envelope", p.display()))?,
                );
            }
            verify_artifact_trusted(
                &envelope,
                &artifact.bytes,
                &keys,
                &timestamps,
                &marketplace,
                chrono::Utc::now(),
            )
        }
        (None, None) => anyhow::bail!("give --key PUB or --publisher NAME"),
    };
    Ok(report(&artifact.name, &sig_path, result))
}

fn report(
    name: &str,
    sig_path: &std::path::Path,
    result: Result<VerifiedArtifact, plaza_supply::sign::SignError>,
) -> ExitCode {
    match result {
        Ok(v) => {
            let when = v
                .signed_at
                .map(|t| format!(", timestamped {}", t.to_rfc3339()))
                .unwrap_or_default();
            println!(
                "verified: {name} is signed by key {} ({}){when}",
                v.key_id,
                sig_path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("not verified: {}: {e}", sig_path.display());
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// A cosign format recognised in a signature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CosignForm {
    /// `cosign sign-blob --key`: the base64 signature alone.
    BlobSignature,
    /// A cosign (`base64Signature`) or Sigstore (`messageSignature` / `dsseEnvelope`) bundle.
    Bundle,
}

/// Which cosign format `bytes` is in, if any (a DSSE envelope is Plaza's or `attest-blob`'s and
/// is tried as Plaza's first).
fn cosign_form(bytes: &[u8]) -> Option<CosignForm> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v)
            if v.get("base64Signature").is_some()
                || v.get("messageSignature").is_some()
                || v.get("dsseEnvelope").is_some() =>
        {
            Some(CosignForm::Bundle)
        }
        Ok(_) => None,
        Err(_) => std::str::from_utf8(bytes)
            .ok()
            .filter(|t| !t.trim().is_empty() && !t.trim_start().starts_with('{'))
            .map(|_| CosignForm::BlobSignature),
    }
}

fn cosign_verify(
    form: CosignForm,
    bytes: &[u8],
    artifact: &[u8],
    key: &PublicKey,
) -> Result<String, plaza_supply::sign::SignError> {
    use plaza_supply::sign::cosign;
    match form {
        CosignForm::BlobSignature => {
            let text = String::from_utf8_lossy(bytes);
            cosign::verify_blob_signature(artifact, text.trim(), key)
                .map(|()| "a cosign blob signature".to_owned())
        }
        CosignForm::Bundle => cosign::verify_blob_bundle(artifact, bytes, key).map(|b| {
            if b.not_checked.is_empty() {
                format!("a cosign bundle ({:?})", b.kind)
            } else {
                format!(
                    "a cosign bundle ({:?}; not checked offline: {})",
                    b.kind,
                    b.not_checked.join("; ")
                )
            }
        }),
    }
}

fn report_cosign(
    name: &str,
    sig_path: &std::path::Path,
    form: CosignForm,
    result: Result<String, plaza_supply::sign::SignError>,
) -> ExitCode {
    match result {
        Ok(what) => {
            println!(
                "verified: {name} is signed, {what} ({})",
                sig_path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("not verified ({form:?}): {}: {e}", sig_path.display());
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// Verifies cosign signatures of the image `repo@digest` found in the registry.
async fn cosign_image(
    remote: &RemoteArgs,
    repo: &str,
    digest: &plaza_registry::Digest,
    key: &PublicKey,
) -> anyhow::Result<ExitCode> {
    use plaza_supply::sign::cosign;
    let server = remote.connect().await?;
    let client = super::oci_client::RegistryClient::new(server.server(), server.token());
    let image = digest.to_string();
    let mut manifests: Vec<(String, Vec<u8>)> = Vec::new();
    let tag = cosign::signature_tag(&image)?;
    if let Some(m) = client.get_manifest(repo, &tag).await? {
        manifests.push((format!("tag {tag}"), m.bytes));
    }
    let index = client.referrers(repo, digest).await?;
    for r in index["manifests"].as_array().into_iter().flatten() {
        let (Some(d), true) = (
            r["digest"].as_str(),
            r["artifactType"] == cosign::SIGNATURE_ARTIFACT_TYPE,
        ) else {
            continue;
        };
        if let Some(m) = client.get_manifest(repo, d).await? {
            manifests.push((format!("referrer {d}"), m.bytes));
        }
    }
    if manifests.is_empty() {
        eprintln!(
            "not verified: {repo}@{image} has no signature file here (pass --signature FILE) and \
             no cosign signature in the registry (tag {tag} or a referrer)"
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let mut problems = Vec::new();
    for (where_, bytes) in &manifests {
        let manifest: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
        let mut blobs = std::collections::HashMap::new();
        for l in manifest["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .take(cosign::MAX_SIGNATURE_LAYERS)
        {
            if let Some(d) = l["digest"]
                .as_str()
                .and_then(|d| plaza_registry::Digest::parse(d).ok())
            {
                let bytes = client.get_blob(repo, &d).await?;
                blobs.insert(d.to_string(), bytes);
            }
        }
        let fetch = |d: &str| blobs.get(d).cloned().ok_or("not in the signature manifest");
        match cosign::verify_cosign_image_signature(bytes, fetch, &image, key) {
            Ok(v) => {
                println!(
                    "verified: {repo}@{image} has a cosign signature ({where_}, layer {}{})",
                    v.layer_index,
                    v.docker_reference
                        .map(|r| format!(", reference {r}"))
                        .unwrap_or_default()
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => problems.push(format!("{where_}: {e}")),
        }
    }
    eprintln!("not verified: {}", problems.join("; "));
    Ok(ExitCode::from(EXIT_INVALID))
}

/// The publisher's registered keys and the marketplace's keys, from the server.
async fn registered_keys(
    remote: &RemoteArgs,
    publisher: &str,
) -> anyhow::Result<(Vec<TrustedKey>, Vec<PublicKey>)> {
    let server = remote.connect().await?;
    let path = format!(
        "/api/orgs/{}/publishers/{}/keys",
        server.org,
        path_segment(publisher)
    );
    let listed = server.call(reqwest::Method::GET, &path, None).await?;
    let mut keys = Vec::new();
    for (i, k) in listed.as_array().into_iter().flatten().enumerate() {
        let field = |name: &str| k.get(name).and_then(|v| v.as_str());
        let time = |name: &str| -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
            field(name)
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .with_context(|| format!("key {i}: `{name}` is not a time"))
                })
                .transpose()
        };
        keys.push(TrustedKey {
            key: PublicKey::from_pem(field("publicKey").unwrap_or_default())
                .with_context(|| format!("key {i} of {publisher} from the server"))?,
            owner: publisher.to_owned(),
            valid_from: time("notBefore")?.unwrap_or_default(),
            valid_until: time("notAfter")?,
            revoked_at: time("revokedAt")?,
        });
    }
    if keys.is_empty() {
        anyhow::bail!(
            "publisher `{publisher}` has no keys registered in org {}; register one with \
             `plaza keys register --publisher {publisher} --public-key FILE`",
            server.org
        );
    }
    let listed = server
        .call(reqwest::Method::GET, "/api/marketplace-keys", None)
        .await?;
    let marketplace = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.get("publicKey").and_then(|v| v.as_str()))
        .filter_map(|pem| PublicKey::from_pem(pem).ok())
        .collect();
    Ok((keys, marketplace))
}
