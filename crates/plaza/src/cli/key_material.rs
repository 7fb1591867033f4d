//! Where `--key` points, for the signing commands: a PEM file; the PEM itself, or the PEM
//! base64-encoded on one line (what a CI secret expands to, e.g. `--key ${{ secrets.MKT_KEY }}`:
//! an unquoted multi-line secret would break the shell line, a one-line one does not); or
//! `env://VAR` naming an environment variable that holds any of those. Encrypted private keys take their passphrase from
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
        let text = resolve_env(spec)?;
        if let Some(decoded) = from_one_line(&text) {
            return Ok((decoded, format!("${var} (base64)")));
        }
        return Ok((text, format!("${var}")));
    }
    if spec.is_empty() {
        bail!("--key is empty (a CI secret that is not set expands to nothing); give a PEM file, the PEM itself, or env://VAR");
    }
    if Path::new(spec).exists() {
        let text = std::fs::read_to_string(spec)
            .with_context(|| format!("cannot read the key file {spec}"))?;
        return Ok((text, spec.to_owned()));
    }
    if let Some(text) = from_one_line(spec) {
        return Ok((text, "the --key value (base64)".to_owned()));
    }
    bail!("cannot read the key file {spec}: no such file (and not a PEM, nor a PEM in base64)")
}

/// A PEM given as one base64 line (`base64 -w0 key.pem`), decoded.
fn from_one_line(spec: &str) -> Option<String> {
    use base64::Engine;
    let compact: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.trim_start().starts_with("-----BEGIN").then_some(text)
}

/// Resolves an `env://VAR` value to the variable's text (anything else unchanged).
fn resolve_env(spec: &str) -> anyhow::Result<String> {
    match spec.strip_prefix("env://") {
        Some(var) => std::env::var(var).with_context(|| {
            format!("--key env://{var}: the environment variable {var} is not set")
        }),
        None => Ok(spec.to_owned()),
    }
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
