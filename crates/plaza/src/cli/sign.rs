//! `plaza sign --artifact PATH|REF --key KEY`: a DSSE envelope over an in-toto Statement v1 whose
//! one subject is the artifact's sha256 (docs/signing.md). The seed CI job's form,
//! `plaza sign --artifact ./dist/wasm --key ${{ secrets.MKT_KEY }}`, works as written.

use super::artifact_source;
use super::key_material::private_key;
use super::remote::RemoteArgs;
use anyhow::Context;
use clap::Args;
use plaza_supply::sign::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use plaza_supply::sign::intoto::artifact_signature_statement;
use std::path::PathBuf;
use std::process::ExitCode;

/// The suffix of a signature written next to its artifact.
pub const SIGNATURE_SUFFIX: &str = ".dsse.json";

/// Arguments of `plaza sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// What to sign: a file, a folder with one .wasm file or one OCI image layout, or a registry
    /// reference <org>/<app-id>:<version>.
    #[arg(long, value_name = "PATH|REF")]
    artifact: String,
    /// The private key: a PEM file, the PEM text itself, or env://VAR.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    key: String,
    /// Passphrase file for an encrypted key [default: PLAZA_KEY_PASSPHRASE].
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Where to write the envelope [default: the artifact's path + .dsse.json].
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The `keyid` written in the envelope: `plaza` (hex SHA-256 of the public key's SPKI DER)
    /// or `securesystemslib` (the id securesystemslib's verifiers look for).
    #[arg(long, default_value = "plaza", value_parser = ["plaza", "securesystemslib"])]
    keyid: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Signs; exit 0 written, 2 usage or I/O error.
pub async fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let key = private_key(&args.key, args.passphrase_file.as_ref())?;
    let artifact = artifact_source::resolve(&args.artifact, SIGNATURE_SUFFIX, &args.remote).await?;
    let statement = artifact_signature_statement(&artifact.name, &artifact.bytes);
    let public = key.public_key();
    let keyid = if args.keyid == "securesystemslib" {
        public.securesystemslib_keyid()?
    } else {
        public.key_id()
    };
    let mut envelope = Envelope {
        payload_type: INTOTO_PAYLOAD_TYPE.to_owned(),
        payload: statement.to_json(),
        signatures: Vec::new(),
    };
    envelope.add_signature(&key, keyid.clone());
    let out = args.output.unwrap_or(artifact.default_output);
    let mut text = envelope.to_json();
    text.push('\n');
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    let subject = statement
        .subject
        .first()
        .and_then(|s| s.digest.get("sha256"))
        .cloned()
        .unwrap_or_default();
    eprintln!(
        "signed {} (sha256:{subject}) with key {keyid}\nwrote {}",
        artifact.name,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
