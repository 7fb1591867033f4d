//! Findings and their redaction. A [`Finding`] never holds the secret: the scanner turns the
//! matched bytes into a [`redact`]ed preview (at most the first four characters, and never more
//! than a quarter of the secret, then `…` and the length) and a [`fingerprint`] (SHA-256 of the
//! rule id and the secret) before the finding is built, so no `Debug`, `Display` or serde output
//! can leak it. The fingerprint lets an allow-list name one secret without writing it down;
//! note that a fingerprint of a short, guessable secret can be brute-forced, like any hash.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// What was scanned: a file name, or `artifact!inner/path` for a region inside an artifact
    /// (`hello.wasm!module[0]/data segment[1]`, `sha256:ab…!etc/app.env`).
    pub label: String,
    /// Byte offset of the secret in the labelled content.
    pub offset: u64,
    /// 1-based line, for text content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column in characters, for text content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// Byte offset in the enclosing file when the label names a region inside it (Wasm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_offset: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}", self.label)?,
            _ => write!(f, "{}+0x{:x}", self.label, self.offset)?,
        }
        if let Some(file_offset) = self.file_offset {
            write!(f, " (file offset 0x{file_offset:x})")?;
        }
        Ok(())
    }
}

/// One secret found (and not allow-listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's description.
    pub description: String,
    /// Where the secret is.
    pub location: Location,
    /// The redacted secret, e.g. `ghp_…(40 bytes)`.
    pub redacted: String,
    /// Hex SHA-256 of `rule_id`, a NUL byte and the secret: stable id for allow-listing.
    pub fingerprint: String,
    /// Set when the file holding the secret was deleted by a whiteout in a later layer (the
    /// secret is still in the image's history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_by_whiteout_in_layer: Option<usize>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}): {} [fingerprint {}]",
            self.location, self.description, self.rule_id, self.redacted, self.fingerprint
        )?;
        if let Some(layer) = self.deleted_by_whiteout_in_layer {
            write!(f, " (deleted by whiteout in layer {layer})")?;
        }
        Ok(())
    }
}

/// The preview of a secret that is safe to show: up to four leading characters (never more
/// than a quarter of the secret; non-printable ones as `?`), `…`, and the length in bytes.
pub fn redact(secret: &[u8]) -> String {
    let shown = (secret.len() / 4).min(4);
    let prefix: String = secret
        .iter()
        .take(shown)
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    format!("{prefix}…({} bytes)", secret.len())
}

/// Hex SHA-256 of the rule id, a NUL byte and the secret.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(secret);
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_at_most_four_characters_and_a_quarter() {
        let token = b"ghp_0123456789abcdef0123456789abcdef0123"; // plaza:allow-secret (made up)
        assert_eq!(redact(token), "ghp_…(40 bytes)");
        assert_eq!(redact(b"hunter2hunter"), "hun…(13 bytes)");
        assert_eq!(redact(b"abc"), "…(3 bytes)");
        assert_eq!(redact(b"\x00\x01\x02\x03\x04\x05\x06\x07"), "??…(8 bytes)");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret() {
        let a = fingerprint("github-pat", b"secret-one");
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint("github-pat", b"secret-two"));
        assert_ne!(a, fingerprint("npm-access-token", b"secret-one"));
        assert_eq!(a, fingerprint("github-pat", b"secret-one"));
    }

    #[test]
    fn location_display_uses_line_and_column_for_text_and_offset_otherwise() {
        let mut location = Location {
            label: "app.env".into(),
            offset: 42,
            line: Some(3),
            column: Some(7),
            file_offset: None,
        };
        assert_eq!(location.to_string(), "app.env:3:7");
        location.line = None;
        location.column = None;
        location.label = "hello.wasm!module[1]/data segment[0]".into();
        location.file_offset = Some(0x2f10);
        assert_eq!(
            location.to_string(),
            "hello.wasm!module[1]/data segment[0]+0x2a (file offset 0x2f10)"
        );
    }
}
