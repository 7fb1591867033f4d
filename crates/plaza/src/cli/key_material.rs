//! Where `--key` points, for the signing commands: a PEM file, the PEM itself (as a CI secret
//! expands to, e.g. `--key ${{ secrets.MKT_KEY }}`), or `env://VAR` naming an environment
//! variable that holds it. Encrypted private keys take their passphrase from
//! `--passphrase-file` or `PLAZA_KEY_PASSPHRASE`.

use anyhow::{bail, Context};
use plaza_supply::sign::keys::{PrivateKey, PublicKey};
use std::path::{Path, PathBuf};

/// The environment variable holding a private key's passphrase.
pub const PASSPHRASE_ENV: &str = "PLAZA_KEY_PASSPHRASE";

/// The PEM text behind a `--key` value, and where it came from (for messages).
fn pem_text(spec: &str) -> anyhow::Result<(String, String)> {
    if spec.trim_start().starts_with("-----BEGIN") {
        return Ok((spec.to_owned(), "the --key value".to_owned()));
    }
    if let Some(var) = spec.strip_prefix("env://") {
        let text = std::env::var(var).with_context(|| {
            format!("--key env://{var}: the environment variable {var} is not set")
        })?;
        return Ok((text, format!("${var}")));
    }
    if spec.is_empty() {
        bail!("--key is empty (a CI secret that is not set expands to nothing); give a PEM file, the PEM itself, or env://VAR");
    }
    let text = std::fs::read_to_string(spec)
        .with_context(|| format!("cannot read the key file {spec}"))?;
    Ok((text, spec.to_owned()))
}

/// The passphrase to use: the file's first line, else `PLAZA_KEY_PASSPHRASE` when set and not
/// empty, else none.
pub fn passphrase(file: Option<&Path>) -> anyhow::Result<Option<String>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the passphrase file {}", path.display()))?;
        let line = text.lines().next().unwrap_or_default().to_owned();
        if line.is_empty() {
            bail!("the passphrase file {} is empty", path.display());
        }
        return Ok(Some(line));
    }
    Ok(std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()))
}

/// A private key from a `--key` value.
pub fn private_key(spec: &str, passphrase_file: Option<&PathBuf>) -> anyhow::Result<PrivateKey> {
    let (text, from) = pem_text(spec)?;
    let pass = passphrase(passphrase_file.map(PathBuf::as_path))?;
    PrivateKey::from_pem(&text, pass.as_deref())
        .with_context(|| format!("{from}: not a usable private key"))
}

/// A public key from a `--key` value.
pub fn public_key(spec: &str) -> anyhow::Result<PublicKey> {
    let (text, from) = pem_text(spec)?;
    PublicKey::from_pem(&text).with_context(|| format!("{from}: not a usable public key"))
}
