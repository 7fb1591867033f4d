//! `plaza keygen`: a signing key pair, PKCS#8 PEM private key (file mode 0600, optionally
//! encrypted with a passphrase) and SPKI PEM public key, Ed25519 or ECDSA P-256.

use super::key_material::{passphrase, PASSPHRASE_ENV};
use super::EXIT_USAGE_OR_IO;
use anyhow::Context;
use clap::Args;
use plaza_supply::sign::keys::{generate, write_private_key, Algorithm};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key algorithm: `ed25519` or `ecdsa-p256` (the one cosign uses).
    #[arg(long, default_value = "ed25519", value_parser = ["ed25519", "ecdsa-p256"])]
    algorithm: String,
    /// Write PREFIX.key (private) and PREFIX.pub (public).
    #[arg(long, value_name = "PREFIX", default_value = "plaza")]
    output: PathBuf,
    /// Encrypt the private key with the passphrase on this file's first line [default: the
    /// PLAZA_KEY_PASSPHRASE environment variable when set; otherwise unencrypted].
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
}

/// Writes the pair; exit 0 written, 2 when a file exists (without --force) or cannot be written.
pub fn run(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let algorithm: Algorithm = args
        .algorithm
        .parse()
        .map_err(|e| anyhow::anyhow!("--algorithm: {e}"))?;
    let private_path = with_suffix(&args.output, ".key");
    let public_path = with_suffix(&args.output, ".pub");
    for p in [&private_path, &public_path] {
        if p.exists() && !args.force {
            eprintln!(
                "error: {} already exists; choose another --output PREFIX, or pass --force to \
                 replace the key pair (signatures made with the old key will no longer verify \
                 against the new one)",
                p.display()
            );
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
    }
    let pass = passphrase(args.passphrase_file.as_deref())?;
    let pair = generate(algorithm, pass.as_deref())?;
    if args.force {
        for p in [&private_path, &public_path] {
            if p.exists() {
                std::fs::remove_file(p)
                    .with_context(|| format!("cannot replace {}", p.display()))?;
            }
        }
    }
    write_private_key(&private_path, &pair.private_pem)
        .with_context(|| format!("cannot write {}", private_path.display()))?;
    std::fs::write(&public_path, &pair.public_pem)
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    eprintln!(
        "wrote {} (private, mode 0600{}) and {} (public)\nkey id: {}\nregister the public key: \
         plaza keys register --publisher NAME --public-key {}",
        private_path.display(),
        if pass.is_some() {
            ", encrypted"
        } else if std::env::var_os(PASSPHRASE_ENV).is_some() {
            ", unencrypted: PLAZA_KEY_PASSPHRASE is empty"
        } else {
            ", unencrypted"
        },
        public_path.display(),
        pair.key_id,
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn with_suffix(prefix: &std::path::Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
