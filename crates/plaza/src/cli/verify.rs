//! `plaza verify --artifact PATH|REF (--key PUB | --publisher NAME)`: checks a DSSE signature
//! over the artifact. With `--key`, the signature must verify with that public key. With
//! `--publisher`, it must verify with one of the publisher's keys registered with the
//! marketplace, valid (window, revocation) when the signature was made: at the time a
//! marketplace timestamp (`--timestamp`) proves, else now.

use super::artifact_source;
use super::key_material::public_key;
use super::remote::RemoteArgs;
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
        (Some(key), _) => verify_artifact(&envelope, &artifact.bytes, &[public_key(key)?]),
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

/// The publisher's registered keys and the marketplace's keys, from the server.
async fn registered_keys(
    remote: &RemoteArgs,
    publisher: &str,
) -> anyhow::Result<(Vec<TrustedKey>, Vec<PublicKey>)> {
    let server = remote.connect().await?;
    let path = format!(
        "/api/orgs/{}/publishers/{}/keys",
        server.org,
        utf8_percent_encode(publisher)
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

/// Percent-encodes a path segment (publisher names hold `:` and may hold `/`).
pub fn utf8_percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
