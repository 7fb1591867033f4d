//! Reading a `serde_json::Value` tree with JSON pointers: typed field access that says where a
//! wrong type or a missing field is, and the pieces both SBOM formats share (digests, algorithm
//! names, warnings).

use super::error::SbomError;
use super::model::{Hash, SbomWarning};
use serde_json::{Map, Value};

/// The parse in progress: the input's name (for errors) and the warnings so far.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub warnings: Vec<SbomWarning>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str) -> Self {
        Ctx {
            file,
            warnings: Vec::new(),
        }
    }

    pub fn warn(&mut self, pointer: String, message: impl Into<String>) {
        self.warnings.push(SbomWarning {
            pointer,
            message: message.into(),
        });
    }

    pub fn invalid(
        &self,
        pointer: String,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> SbomError {
        SbomError::Invalid {
            file: self.file.to_owned(),
            pointer,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// `value` as an object, or an error naming what it should have been.
    pub fn object<'v>(
        &self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Result<&'v Map<String, Value>, SbomError> {
        value.as_object().ok_or_else(|| {
            self.invalid(
                pointer.to_owned(),
                format!("{what} must be an object, not {}", type_name(value)),
                format!("write {what} as a JSON object"),
            )
        })
    }

    /// An optional string field (`null` counts as absent); another type is an error.
    pub fn opt_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Result<Option<&'v str>, SbomError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.invalid(
                child(pointer, key),
                format!("`{key}` must be a string, not {}", type_name(other)),
                format!("write `{key}` as a JSON string (quote it)"),
            )),
        }
    }

    /// A required string field.
    pub fn req_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        pointer: &str,
        fix: &str,
    ) -> Result<&'v str, SbomError> {
        self.opt_str(obj, key, pointer)?.ok_or_else(|| {
            self.invalid(
                child(pointer, key),
                format!("`{key}` is missing"),
                fix.to_owned(),
            )
        })
    }

    /// An optional array field (absent or `null`: empty); another type is an error.
    pub fn opt_array<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Result<&'v [Value], SbomError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.invalid(
                child(pointer, key),
                format!("`{key}` must be an array, not {}", type_name(other)),
                format!("write `{key}` as a JSON array"),
            )),
        }
    }

    /// An optional object field (absent or `null`: none); another type is an error.
    pub fn opt_object<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Result<Option<&'v Map<String, Value>>, SbomError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self
                .object(v, &child(pointer, key), &format!("`{key}`"))
                .map(Some),
        }
    }

    /// A digest: the algorithm mapped to CycloneDX spelling, the value checked to be hex of the
    /// algorithm's length and lowercased. A digest that is not hex loses its meaning: an error.
    pub fn hash(&self, alg: &str, value: &str, pointer: String) -> Result<Hash, SbomError> {
        let alg = canonical_alg(alg);
        let hex_ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_ok {
            return Err(self.invalid(
                pointer,
                format!("the {alg} digest `{}` is not hexadecimal", shorten(value)),
                "write the digest in hexadecimal (base64 digests are not allowed here)",
            ));
        }
        if let Some(len) = hex_len(&alg) {
            if value.len() != len {
                return Err(self.invalid(
                    pointer,
                    format!(
                        "a {alg} digest has {len} hex digits, `{}` has {}",
                        shorten(value),
                        value.len()
                    ),
                    "write the whole digest, or the right algorithm",
                ));
            }
        }
        Ok(Hash {
            alg,
            hex: value.to_ascii_lowercase(),
        })
    }
}

/// The JSON pointer of `key` inside the value at `pointer` (RFC 6901 escaping).
pub(crate) fn child(pointer: &str, key: &str) -> String {
    let mut p = String::with_capacity(pointer.len() + key.len() + 1);
    p.push_str(pointer);
    p.push('/');
    for c in key.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
    p
}

/// The JSON pointer of element `i` of the array at `pointer`.
pub(crate) fn index(pointer: &str, i: usize) -> String {
    format!("{pointer}/{i}")
}

/// The JSON type of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 80 characters of `s`, for messages.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

/// The CycloneDX spelling of a hash algorithm named in CycloneDX or SPDX style (`SHA256`,
/// `sha-256`, `SHA3_256`); unknown names are kept as written.
pub(crate) fn canonical_alg(alg: &str) -> String {
    let squashed: String = alg
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let canonical = match squashed.as_str() {
        "MD2" => "MD2",
        "MD4" => "MD4",
        "MD5" => "MD5",
        "MD6" => "MD6",
        "SHA1" => "SHA-1",
        "SHA224" => "SHA-224",
        "SHA256" => "SHA-256",
        "SHA384" => "SHA-384",
        "SHA512" => "SHA-512",
        "SHA3224" => "SHA3-224",
        "SHA3256" => "SHA3-256",
        "SHA3384" => "SHA3-384",
        "SHA3512" => "SHA3-512",
        "BLAKE2B256" => "BLAKE2b-256",
        "BLAKE2B384" => "BLAKE2b-384",
        "BLAKE2B512" => "BLAKE2b-512",
        "BLAKE3" => "BLAKE3",
        "ADLER32" => "ADLER32",
        _ => return alg.to_owned(),
    };
    canonical.to_owned()
}

/// The number of hex digits of a digest of a fixed-length algorithm (CycloneDX spelling).
fn hex_len(alg: &str) -> Option<usize> {
    Some(match alg {
        "MD2" | "MD4" | "MD5" => 32,
        "SHA-1" => 40,
        "SHA-224" | "SHA3-224" => 56,
        "SHA-256" | "SHA3-256" | "BLAKE2b-256" => 64,
        "SHA-384" | "SHA3-384" | "BLAKE2b-384" => 96,
        "SHA-512" | "SHA3-512" | "BLAKE2b-512" => 128,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_tilde_and_slash() {
        assert_eq!(child("/a", "b/c~d"), "/a/b~1c~0d");
        assert_eq!(index("/components", 3), "/components/3");
    }

    #[test]
    fn algorithm_names_of_both_formats_meet() {
        assert_eq!(canonical_alg("SHA256"), "SHA-256");
        assert_eq!(canonical_alg("sha-256"), "SHA-256");
        assert_eq!(canonical_alg("SHA3-512"), "SHA3-512");
        assert_eq!(canonical_alg("BLAKE2b-256"), "BLAKE2b-256");
        assert_eq!(canonical_alg("Whirlpool"), "Whirlpool");
    }

    #[test]
    fn digests_must_be_hex_of_the_right_length() {
        let ctx = Ctx::new("t");
        let ok = ctx.hash("SHA256", &"AB".repeat(32), "/h".into()).unwrap();
        assert_eq!(ok.hex, "ab".repeat(32));
        let short = ctx.hash("SHA-256", "abcd", "/h".into()).unwrap_err();
        assert!(short.to_string().contains("64 hex digits"), "{short}");
        let b64 = ctx.hash("SHA-1", "q83v+w==", "/h".into()).unwrap_err();
        assert!(b64.to_string().contains("not hexadecimal"), "{b64}");
        assert_eq!(b64.pointer(), "/h");
    }

    #[test]
    fn shorten_cuts_on_a_char_boundary() {
        let long = "é".repeat(100);
        let s = shorten(&long);
        assert_eq!(s.chars().count(), 81);
        assert_eq!(shorten("abc"), "abc");
    }
}
