//! The error type of [`crate::sign`]: keys, DSSE envelopes, in-toto statements, timestamps,
//! VSAs and cosign material. Every variant says what was wrong, where, and how to fix it.

/// What can go wrong loading keys, signing, or verifying signed supply-chain statements.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The PEM text is cut short or damaged (missing END line, bad base64, bad DER).
    #[error("{what}: the PEM text is truncated or damaged ({detail}); copy the whole file again, from `-----BEGIN` to the `-----END ...-----` line")]
    PemDamaged {
        /// Which key (e.g. "private key", "public key").
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// A well-formed key of a kind Plaza does not sign or verify with.
    #[error("{what}: unsupported key type ({found}); Plaza uses Ed25519 or ECDSA P-256 keys, generate one with `plaza keygen --algorithm ed25519|ecdsa-p256`")]
    UnsupportedKey {
        /// Which key.
        what: &'static str,
        /// What was found (PEM label or algorithm OID).
        found: String,
    },
    /// The key is of the other supported algorithm than the one asked for.
    #[error("{what}: expected a {expected} key but found a {found} key; pass the matching key")]
    WrongKeyType {
        /// Which key.
        what: &'static str,
        /// The algorithm expected.
        expected: &'static str,
        /// The algorithm found.
        found: &'static str,
    },
    /// The private key is encrypted and no passphrase was given.
    #[error("the private key is encrypted (`-----BEGIN ENCRYPTED PRIVATE KEY-----`); give its passphrase")]
    PassphraseRequired,
    /// The passphrase does not decrypt the private key.
    #[error("the passphrase does not decrypt the private key; check the passphrase (it is case-sensitive)")]
    WrongPassphrase,
    /// The encrypted key asks for key-derivation work beyond Plaza's bounds.
    #[error("the encrypted private key uses {detail}, beyond the bounds Plaza accepts ({limit}); re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt`")]
    KdfTooExpensive {
        /// The KDF and parameters found.
        detail: String,
        /// The bound.
        limit: &'static str,
    },
    /// Encoding a key failed (should not happen for keys Plaza generated).
    #[error("could not encode the {what}: {detail}")]
    KeyEncoding {
        /// Which key.
        what: &'static str,
        /// The encoder's message.
        detail: String,
    },
    /// Writing a key file failed.
    #[error("{path}: {detail}; check the directory exists and is writable, and that the file does not exist yet")]
    KeyFile {
        /// The file.
        path: String,
        /// The I/O error.
        detail: String,
    },
    /// A JSON document is not JSON or does not have the expected shape.
    #[error("{what}: {line}:{column}: {detail}")]
    Json {
        /// Which document (e.g. "DSSE envelope").
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message, naming the field.
        detail: String,
    },
    /// A field is present but its value is wrong.
    #[error("{what} at {pointer}: {detail}")]
    Field {
        /// Which document.
        what: &'static str,
        /// JSON pointer of the field.
        pointer: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// A base64 field does not decode in either the standard or the URL-safe alphabet.
    #[error("{what} at {pointer}: not base64 (standard or URL-safe, padded or not): {detail}")]
    Base64 {
        /// Which document.
        what: &'static str,
        /// JSON pointer of the field.
        pointer: String,
        /// The decoder's message.
        detail: String,
    },
    /// No signature of the envelope verifies with any of the keys given.
    #[error("{what}: none of its {signatures} signature(s) verifies with the {keys} key(s) given{extra}; the payload was changed after signing, or it was signed with another key")]
    NoValidSignature {
        /// Which document.
        what: &'static str,
        /// Number of signatures in the envelope.
        signatures: usize,
        /// Number of keys tried.
        keys: usize,
        /// Extra detail (e.g. why keys that did verify were rejected), starting with "; ".
        extra: String,
    },
    /// The statement has more or fewer than one subject.
    #[error("in-toto statement at /subject: Plaza artifacts are signed one per statement, but this statement has {count} subjects; sign each artifact separately")]
    SubjectCount {
        /// Number of subjects found.
        count: usize,
    },
    /// The statement's subject digest is not the artifact's digest.
    #[error("in-toto statement at /subject/0/digest/sha256: the statement is about sha256:{signed} but the artifact is sha256:{artifact}; this signature is for another artifact (or the artifact was changed): sign the artifact again")]
    DigestMismatch {
        /// The digest in the statement.
        signed: String,
        /// The artifact's digest.
        artifact: String,
    },
    /// The statement's predicateType is not one this verifier knows.
    #[error("in-toto statement at /predicateType: `{found}` is not a predicate type Plaza knows (expected one of: {expected})")]
    UnknownPredicateType {
        /// The predicate type found.
        found: String,
        /// The accepted ones.
        expected: String,
    },
    /// The envelope's payloadType is not the one expected.
    #[error("DSSE envelope at /payloadType: expected `{expected}` but found `{found}`")]
    PayloadType {
        /// The expected type.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// A key was found but is not valid at the time that matters.
    #[error("key {key_id}: {detail}")]
    KeyNotValid {
        /// The key id (sha256 of its SPKI DER, hex).
        key_id: String,
        /// Why (expired, not yet valid, revoked) and how to fix it.
        detail: String,
    },
    /// A cosign signature manifest or blob failed a check.
    #[error("cosign {what}: {detail}")]
    Cosign {
        /// What was checked.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl SignError {
    /// A [`SignError::Json`] from a serde_json error.
    pub(crate) fn json(what: &'static str, e: &serde_json::Error) -> Self {
        SignError::Json {
            what,
            line: e.line(),
            column: e.column(),
            detail: e.to_string(),
        }
    }

    /// A [`SignError::Field`].
    pub(crate) fn field(
        what: &'static str,
        pointer: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        SignError::Field {
            what,
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}
