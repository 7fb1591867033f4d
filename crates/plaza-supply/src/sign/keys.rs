//! Signing keys: Ed25519 and ECDSA P-256 key pairs as PEM.
//!
//! - Private keys are PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), optionally encrypted with a
//!   passphrase (`-----BEGIN ENCRYPTED PRIVATE KEY-----`: PKCS#5 PBES2, scrypt log₂N=15 r=8 p=1,
//!   AES-256-CBC, what OpenSSL and the `pkcs8` crate call the recommended scheme). An ECDSA P-256
//!   key in SEC1 PEM (`-----BEGIN EC PRIVATE KEY-----`, what `openssl ecparam -genkey` writes) is
//!   read too.
//! - Public keys are SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form cosign, OpenSSL and
//!   securesystemslib write.
//! - A key's **key id** is the lowercase hex SHA-256 of its SubjectPublicKeyInfo DER encoding
//!   (the bytes inside the public-key PEM). It names the key in DSSE signatures and registries;
//!   it is a hint only, verification always tries the key itself.
//! - Signatures: Ed25519 signs the message itself (64 bytes); ECDSA P-256 signs SHA-256 of the
//!   message, written as an ASN.1 DER `ECDSA-Sig-Value` (what securesystemslib and cosign
//!   write). Verification also accepts the raw 64-byte `r || s` form and high-S signatures.

use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use pkcs8::der::Decode as _;
use pkcs8::LineEnding;
use sha2::{Digest as _, Sha256};

use super::SignError;

/// A signature algorithm Plaza signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032).
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA on NIST P-256 with SHA-256.
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl Algorithm {
    /// The name used on the command line and in JSON: `ed25519` or `ecdsa-p256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = SignError;
    fn from_str(s: &str) -> Result<Self, SignError> {
        match s {
            "ed25519" => Ok(Algorithm::Ed25519),
            "ecdsa-p256" | "ecdsa" | "p256" => Ok(Algorithm::EcdsaP256),
            other => Err(SignError::UnsupportedKey {
                what: "algorithm",
                found: other.to_owned(),
            }),
        }
    }
}

/// A freshly generated key pair, as the PEM texts `plaza keygen` writes.
#[derive(Clone)]
pub struct GeneratedKeyPair {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// PKCS#8 PEM private key, encrypted when a passphrase was given. Secret: write it with
    /// [`write_private_key`] (mode 0600), never log it.
    pub private_pem: String,
    /// SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub public_pem: String,
    /// The key id: hex SHA-256 of the SPKI DER.
    pub key_id: String,
}

impl std::fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("algorithm", &self.algorithm)
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// Generates a key pair; with `passphrase`, the private key PEM is encrypted with it.
pub fn generate(
    algorithm: Algorithm,
    passphrase: Option<&str>,
) -> Result<GeneratedKeyPair, SignError> {
    let key = match algorithm {
        Algorithm::Ed25519 => {
            PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
        }
        Algorithm::EcdsaP256 => {
            PrivateKey::EcdsaP256(p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng))
        }
    };
    let public = key.public_key();
    Ok(GeneratedKeyPair {
        algorithm,
        private_pem: key.to_pem(passphrase)?,
        public_pem: public.to_pem()?,
        key_id: public.key_id(),
    })
}

/// A private key that signs.
#[derive(Clone)]
pub enum PrivateKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA P-256.
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PrivateKey({}, {})",
            self.algorithm(),
            self.public_key().key_id()
        )
    }
}

const PRIVATE: &str = "private key";
const PUBLIC: &str = "public key";

/// Finds the PEM block in a text (text around it, such as OpenSSL's "Bag Attributes", is
/// ignored) and returns its label and the block from `-----BEGIN` to the end of `-----END`.
fn pem_block<'a>(what: &'static str, pem: &'a str) -> Result<(&'a str, &'a str), SignError> {
    let start = pem
        .find("-----BEGIN ")
        .ok_or_else(|| SignError::PemDamaged {
            what,
            detail: "no `-----BEGIN ...-----` line".into(),
        })?;
    let rest = pem.get(start + 11..).unwrap_or_default();
    let end = rest.find("-----").ok_or_else(|| SignError::PemDamaged {
        what,
        detail: "the BEGIN line is cut short".into(),
    })?;
    let label = rest.get(..end).unwrap_or_default();
    let end_marker = format!("-----END {label}-----");
    let end_at = pem
        .get(start..)
        .and_then(|from_begin| from_begin.find(&end_marker))
        .ok_or_else(|| SignError::PemDamaged {
            what,
            detail: format!("no `{end_marker}` line"),
        })?;
    let block = pem
        .get(start..start + end_at + end_marker.len())
        .unwrap_or_default();
    Ok((label, block))
}

fn damaged(what: &'static str, e: impl std::fmt::Display) -> SignError {
    SignError::PemDamaged {
        what,
        detail: e.to_string(),
    }
}

/// Bounds the work an encrypted key's KDF parameters ask for (a hostile file must not make the
/// loader allocate gigabytes or spin for minutes).
fn check_kdf(info: &pkcs8::EncryptedPrivateKeyInfo<'_>) -> Result<(), SignError> {
    let Some(pbes2) = info.encryption_algorithm.pbes2() else {
        return Err(SignError::UnsupportedKey {
            what: PRIVATE,
            found: "PBES1 encryption (only PBES2 is read)".into(),
        });
    };
    if let Some(s) = pbes2.kdf.scrypt() {
        let mem = 128u128
            * u128::from(s.block_size)
            * u128::from(s.cost_parameter)
            * u128::from(s.parallelization.max(1));
        if mem > 256 * 1024 * 1024 || s.cost_parameter > (1 << 20) {
            return Err(SignError::KdfTooExpensive {
                detail: format!(
                    "scrypt N={} r={} p={}",
                    s.cost_parameter, s.block_size, s.parallelization
                ),
                limit: "at most 256 MiB of scrypt memory, N ≤ 2^20",
            });
        }
    }
    if let Some(p) = pbes2.kdf.pbkdf2() {
        if p.iteration_count > 10_000_000 {
            return Err(SignError::KdfTooExpensive {
                detail: format!("PBKDF2 with {} iterations", p.iteration_count),
                limit: "at most 10,000,000 PBKDF2 iterations",
            });
        }
    }
    Ok(())
}

impl PrivateKey {
    /// Reads a private key PEM: PKCS#8 (plain or encrypted with `passphrase`) or SEC1 EC.
    pub fn from_pem(pem: &str, passphrase: Option<&str>) -> Result<Self, SignError> {
        let (label, pem) = pem_block(PRIVATE, pem)?;
        match label {
            "PRIVATE KEY" => {
                let (_, doc) = pkcs8::SecretDocument::from_pem(pem).map_err(|e| damaged(PRIVATE, e))?;
                Self::from_pkcs8_der(doc.as_bytes())
            }
            "ENCRYPTED PRIVATE KEY" => {
                let Some(pass) = passphrase else {
                    return Err(SignError::PassphraseRequired);
                };
                let (_, doc) = pkcs8::SecretDocument::from_pem(pem).map_err(|e| damaged(PRIVATE, e))?;
                let info = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes()).map_err(|e| damaged(PRIVATE, e))?;
                check_kdf(&info)?;
                // A wrong passphrase shows as a padding error or as garbage that is not DER.
                let plain = info.decrypt(pass).map_err(|_| SignError::WrongPassphrase)?;
                Self::from_pkcs8_der(plain.as_bytes()).map_err(|e| match e {
                    SignError::PemDamaged { .. } => SignError::WrongPassphrase,
                    other => other,
                })
            }
            "EC PRIVATE KEY" => {
                let secret = p256::SecretKey::from_sec1_pem(pem).map_err(|e| SignError::UnsupportedKey {
                    what: PRIVATE,
                    found: format!("an EC private key that is not a valid P-256 key ({e})"),
                })?;
                Ok(PrivateKey::EcdsaP256(secret.into()))
            }
            other => Err(SignError::UnsupportedKey {
                what: PRIVATE,
                found: format!("PEM label `{other}` (expected PRIVATE KEY, ENCRYPTED PRIVATE KEY or EC PRIVATE KEY)"),
            }),
        }
    }

    /// A private key from unencrypted PKCS#8 DER (Ed25519 or ECDSA P-256).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| damaged(PRIVATE, e))?;
        let oid = info.algorithm.oid;
        if oid == ED25519_OID {
            let key =
                ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| damaged(PRIVATE, e))?;
            return Ok(PrivateKey::Ed25519(key));
        }
        if oid == EC_OID {
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| {
                SignError::UnsupportedKey {
                    what: PRIVATE,
                    found: format!("an EC key that is not on P-256 ({e})"),
                }
            })?;
            return Ok(PrivateKey::EcdsaP256(key));
        }
        Err(SignError::UnsupportedKey {
            what: PRIVATE,
            found: oid_name(oid),
        })
    }

    /// The PKCS#8 PEM text, encrypted with `passphrase` when given.
    pub fn to_pem(&self, passphrase: Option<&str>) -> Result<String, SignError> {
        let enc = |e: pkcs8::Error| SignError::KeyEncoding {
            what: PRIVATE,
            detail: e.to_string(),
        };
        // Ed25519 as PKCS#8 v1 (RFC 8410 without the optional public key): ed25519-dalek's own
        // encoder writes the v2 form with the public key, which pyca/cryptography (and so
        // securesystemslib) refuses with "extra data".
        let ed = |k: &ed25519_dalek::SigningKey| ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: k.to_bytes(),
            public_key: None,
        };
        let pem = match (self, passphrase) {
            (PrivateKey::Ed25519(k), None) => ed(k).to_pkcs8_pem(LineEnding::LF).map_err(enc)?,
            (PrivateKey::Ed25519(k), Some(p)) => ed(k)
                .to_pkcs8_encrypted_pem(rand::rngs::OsRng, p, LineEnding::LF)
                .map_err(enc)?,
            (PrivateKey::EcdsaP256(k), None) => k.to_pkcs8_pem(LineEnding::LF).map_err(enc)?,
            (PrivateKey::EcdsaP256(k), Some(p)) => k
                .to_pkcs8_encrypted_pem(rand::rngs::OsRng, p, LineEnding::LF)
                .map_err(enc)?,
        };
        Ok(pem.as_str().to_owned())
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Ed25519(_) => Algorithm::Ed25519,
            PrivateKey::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
        }
    }

    /// Signs `message`: Ed25519 over the message, ECDSA P-256 over its SHA-256 (DER signature).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateKey::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

const ED25519_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

fn oid_name(oid: pkcs8::ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.2.840.10040.4.1" => "DSA",
        _ => "unknown algorithm",
    };
    format!("{name} (OID {oid})")
}

/// A public key that verifies.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA P-256.
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, {})", self.algorithm(), self.key_id())
    }
}

impl PublicKey {
    /// Reads an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, SignError> {
        let (label, pem) = pem_block(PUBLIC, pem)?;
        if label != "PUBLIC KEY" {
            let hint = if label.contains("PRIVATE") {
                " — this is a private key; pass the .pub file"
            } else {
                ""
            };
            return Err(SignError::UnsupportedKey {
                what: PUBLIC,
                found: format!("PEM label `{label}` (expected PUBLIC KEY){hint}"),
            });
        }
        let (_, doc) = pkcs8::Document::from_pem(pem).map_err(|e| damaged(PUBLIC, e))?;
        Self::from_spki_der(doc.as_bytes())
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SignError> {
        let info =
            pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| damaged(PUBLIC, e))?;
        let oid = info.algorithm.oid;
        if oid == ED25519_OID {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map_err(|e| damaged(PUBLIC, e))?;
            return Ok(PublicKey::Ed25519(key));
        }
        if oid == EC_OID {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| {
                SignError::UnsupportedKey {
                    what: PUBLIC,
                    found: format!("an EC key that is not on P-256 ({e})"),
                }
            })?;
            return Ok(PublicKey::EcdsaP256(key));
        }
        Err(SignError::UnsupportedKey {
            what: PUBLIC,
            found: oid_name(oid),
        })
    }

    /// The SPKI DER encoding.
    pub fn spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::EcdsaP256(k) => k.to_public_key_der(),
        };
        // Encoding a valid in-memory key into a Vec cannot fail; an empty result would give a
        // key id no one registered, never a false match.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The SPKI PEM text (`-----BEGIN PUBLIC KEY-----`, LF line endings).
    pub fn to_pem(&self) -> Result<String, SignError> {
        let pem = match self {
            PublicKey::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::EcdsaP256(k) => k.to_public_key_pem(LineEnding::LF),
        };
        pem.map_err(|e| SignError::KeyEncoding {
            what: PUBLIC,
            detail: e.to_string(),
        })
    }

    /// Plaza's key id: lowercase hex SHA-256 of the SPKI DER.
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(self.spki_der()))
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// The key id securesystemslib (in-toto, TUF) computes by default and requires in a DSSE
    /// signature's `keyid`: hex SHA-256 of the canonical JSON `{"keytype", "keyval": {"public"},
    /// "scheme"}` — Ed25519: `ed25519`/`ed25519`, public key as raw hex; ECDSA P-256:
    /// `ecdsa`/`ecdsa-sha2-nistp256`, public key as SPKI PEM text. Sign with
    /// [`crate::sign::dsse::Envelope::add_signature`] under this id for securesystemslib's
    /// verifier, which skips signatures whose keyid differs from its key's.
    pub fn securesystemslib_keyid(&self) -> Result<String, SignError> {
        let (keytype, scheme, public) = match self {
            PublicKey::Ed25519(k) => ("ed25519", "ed25519", hex::encode(k.as_bytes())),
            PublicKey::EcdsaP256(_) => ("ecdsa", "ecdsa-sha2-nistp256", self.to_pem()?),
        };
        // OLPC canonical JSON as securesystemslib writes it: sorted keys, no whitespace, only
        // `\` and `"` escaped in strings.
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let canonical = format!(
            "{{\"keytype\":\"{}\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"{}\"}}",
            esc(keytype),
            esc(&public),
            esc(scheme)
        );
        Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
    }

    /// Whether `signature` is this key's signature of `message` (see the module doc for the
    /// encodings accepted).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .map(|s| k.verify_strict(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::EcdsaP256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
                match sig {
                    Ok(s) => {
                        let s = s.normalize_s().unwrap_or(s);
                        k.verify(message, &s).is_ok()
                    }
                    Err(_) => false,
                }
            }
        }
    }
}

/// Writes a private key PEM to a new file created with mode 0600 (never overwriting: an
/// existing file is an error). The text is written to a temporary file in the same directory
/// first and then linked into place, so the key file is complete or absent.
pub fn write_private_key(path: &Path, pem: &str) -> Result<(), SignError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let err = |e: std::io::Error| SignError::KeyFile {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(pem.as_bytes())?;
        f.sync_all()?;
        // hard_link fails when `path` exists: no silent overwrite of an existing key.
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_each_algorithm_plain_and_encrypted() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            for pass in [None, Some("correct horse")] {
                let pair = generate(alg, pass).unwrap();
                assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
                let label = if pass.is_some() {
                    "-----BEGIN ENCRYPTED PRIVATE KEY-----"
                } else {
                    "-----BEGIN PRIVATE KEY-----"
                };
                assert!(pair.private_pem.starts_with(label), "{alg} {pass:?}");
                let private = PrivateKey::from_pem(&pair.private_pem, pass).unwrap();
                let public = PublicKey::from_pem(&pair.public_pem).unwrap();
                assert_eq!(private.public_key(), public);
                assert_eq!(private.algorithm(), alg);
                assert_eq!(public.key_id(), pair.key_id);
                assert_eq!(pair.key_id, hex::encode(Sha256::digest(public.spki_der())));
                let sig = private.sign(b"hello");
                assert!(public.verifies(b"hello", &sig));
                assert!(!public.verifies(b"hellp", &sig));
            }
        }
    }

    #[test]
    fn crlf_and_surrounding_text_are_accepted() {
        for pass in [None, Some("p")] {
            let pair = generate(Algorithm::EcdsaP256, pass).unwrap();
            let crlf = format!(
                "Bag Attributes\r\n    friendlyName: plaza\r\n{}\r\n",
                pair.private_pem.replace('\n', "\r\n")
            );
            let key = PrivateKey::from_pem(&crlf, pass).unwrap();
            let public = PublicKey::from_pem(&format!(
                "\n\n{}trailing text\n",
                pair.public_pem.replace('\n', "\r\n")
            ))
            .unwrap();
            assert_eq!(key.public_key(), public);
        }
    }

    #[test]
    fn wrong_or_missing_passphrase() {
        let pair = generate(Algorithm::Ed25519, Some("right")).unwrap();
        assert!(matches!(
            PrivateKey::from_pem(&pair.private_pem, Some("wrong")),
            Err(SignError::WrongPassphrase)
        ));
        assert!(matches!(
            PrivateKey::from_pem(&pair.private_pem, None),
            Err(SignError::PassphraseRequired)
        ));
    }

    #[test]
    fn truncated_pem_is_a_clear_error() {
        let pair = generate(Algorithm::EcdsaP256, None).unwrap();
        let half = pair.private_pem.get(..pair.private_pem.len() / 2).unwrap();
        let e = PrivateKey::from_pem(half, None).unwrap_err();
        assert!(matches!(e, SignError::PemDamaged { .. }), "{e}");
        assert!(e.to_string().contains("truncated"), "{e}");
        // Lines dropped from the middle, END line kept: the DER is cut short.
        let lines: Vec<&str> = pair.public_pem.lines().collect();
        let cut = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[lines.len() - 1]);
        let e = PublicKey::from_pem(&cut).unwrap_err();
        assert!(matches!(e, SignError::PemDamaged { .. }), "{e}");
    }

    #[test]
    fn private_key_passed_as_public_key_and_foreign_labels() {
        let pair = generate(Algorithm::Ed25519, None).unwrap();
        let e = PublicKey::from_pem(&pair.private_pem).unwrap_err();
        assert!(
            e.to_string().contains("private key; pass the .pub file"),
            "{e}"
        );
        let e = PrivateKey::from_pem(&pair.public_pem, None).unwrap_err();
        assert!(matches!(e, SignError::UnsupportedKey { .. }), "{e}");
    }

    #[test]
    fn raw_and_der_ecdsa_signatures_both_verify() {
        let pair = generate(Algorithm::EcdsaP256, None).unwrap();
        let PrivateKey::EcdsaP256(k) = PrivateKey::from_pem(&pair.private_pem, None).unwrap()
        else {
            panic!("not ecdsa")
        };
        let sig: p256::ecdsa::Signature = k.sign(b"m");
        let public = PublicKey::from_pem(&pair.public_pem).unwrap();
        assert!(public.verifies(b"m", &sig.to_bytes()));
        assert!(public.verifies(b"m", sig.to_der().as_bytes()));
        assert!(!public.verifies(b"m", &sig.to_bytes()[..63]));
    }

    #[test]
    fn sec1_ec_private_key_is_read() {
        use p256::pkcs8::EncodePrivateKey as _;
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap();
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let key = PrivateKey::from_pem(&sec1, None).unwrap();
        let via_pkcs8 =
            PrivateKey::from_pem(&secret.to_pkcs8_pem(LineEnding::LF).unwrap(), None).unwrap();
        assert_eq!(key.public_key(), via_pkcs8.public_key());
    }

    /// An encrypted key whose KDF parameters are `kdf`, with junk ciphertext.
    fn encrypted_pem(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> String {
        use pkcs8::der::Encode as _;
        let iv = [7u8; 16];
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: pkcs8::pkcs5::EncryptionScheme::Pbes2(
                pkcs8::pkcs5::pbes2::Parameters {
                    kdf,
                    encryption: pkcs8::pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
                },
            ),
            encrypted_data: &[0u8; 48],
        };
        pkcs8::der::pem::encode_string(
            "ENCRYPTED PRIVATE KEY",
            LineEnding::LF,
            &info.to_der().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn hostile_kdf_parameters_are_refused_before_any_work() {
        use pkcs8::pkcs5::pbes2::{Pbkdf2Params, Pbkdf2Prf, ScryptParams};
        let salt = [1u8; 16];
        let scrypt = ScryptParams {
            salt: &salt,
            cost_parameter: 1 << 30,
            block_size: 8,
            parallelization: 1,
            key_length: Some(32),
        };
        let start = std::time::Instant::now();
        let e = PrivateKey::from_pem(&encrypted_pem(scrypt.into()), Some("x")).unwrap_err();
        assert!(matches!(e, SignError::KdfTooExpensive { .. }), "{e}");
        assert!(e.to_string().contains("N=1073741824"), "{e}");
        let pbkdf2 = Pbkdf2Params {
            salt: &salt,
            iteration_count: 2_000_000_000,
            key_length: Some(32),
            prf: Pbkdf2Prf::HmacWithSha256,
        };
        let e = PrivateKey::from_pem(&encrypted_pem(pbkdf2.into()), Some("x")).unwrap_err();
        assert!(matches!(e, SignError::KdfTooExpensive { .. }), "{e}");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        // Within bounds, junk ciphertext reads as a wrong passphrase.
        let cheap = Pbkdf2Params {
            salt: &salt,
            iteration_count: 1000,
            key_length: Some(32),
            prf: Pbkdf2Prf::HmacWithSha256,
        };
        let e = PrivateKey::from_pem(&encrypted_pem(cheap.into()), Some("x")).unwrap_err();
        assert!(matches!(e, SignError::WrongPassphrase), "{e}");
    }

    #[test]
    fn write_private_key_is_0600_and_never_overwrites() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plaza.key");
        write_private_key(&path, "secret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "secret");
        assert!(write_private_key(&path, "other").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "secret");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left behind"
        );
    }
}
