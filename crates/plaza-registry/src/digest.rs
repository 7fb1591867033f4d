//! Content digests (`algorithm:encoded`) as the OCI image spec defines them, and a streaming
//! [`Hasher`] that computes one while bytes arrive.
//!
//! A string is first checked against the spec's grammar (`algorithm ::= component (separator
//! component)*`, `encoded ::= [a-zA-Z0-9=_-]+`); a string that passes the grammar but names an
//! algorithm Plaza cannot verify (anything but `sha256` and `sha512`) is refused with
//! [`DigestError::UnsupportedAlgorithm`], so callers can tell "malformed" from "not supported".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256, Sha512};
use thiserror::Error;

/// A hash algorithm Plaza verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, encoded as 64 lowercase hex digits (the default everywhere).
    Sha256,
    /// SHA-512, encoded as 128 lowercase hex digits.
    Sha512,
}

impl Algorithm {
    /// The identifier used in digest strings and blob paths (`sha256`, `sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Number of hex digits in the encoded part.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// The algorithm for an identifier, if Plaza supports it.
    pub fn from_id(id: &str) -> Option<Algorithm> {
        match id {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a digest string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    /// The string does not match `algorithm ":" encoded` at all.
    #[error("digest `{input}` is malformed: {reason} (expected `algorithm:encoded`, e.g. `sha256:` followed by 64 lowercase hex digits)")]
    Malformed {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The string is well formed but names an algorithm Plaza does not verify.
    #[error("digest algorithm `{algorithm}` is not supported (use sha256 or sha512)")]
    UnsupportedAlgorithm {
        /// The algorithm identifier found.
        algorithm: String,
    },
    /// The algorithm is supported but the encoded part does not fit it.
    #[error(
        "digest `{input}`: {algorithm} needs exactly {expected} lowercase hex digits ({reason})"
    )]
    BadEncoding {
        /// The string as given.
        input: String,
        /// The algorithm.
        algorithm: Algorithm,
        /// Required number of hex digits.
        expected: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// A validated digest of a supported algorithm; the encoded part is lowercase hex of the right
/// length. Ordering is by algorithm, then encoded text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses a digest string (see the module documentation for the rules).
    pub fn parse(input: &str) -> Result<Digest, DigestError> {
        let malformed = |reason: &str| DigestError::Malformed {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let (algorithm, encoded) = input
            .split_once(':')
            .ok_or_else(|| malformed("no `:` between algorithm and encoded part"))?;
        check_algorithm_grammar(algorithm).map_err(|r| malformed(&r))?;
        if encoded.is_empty() {
            return Err(malformed("the encoded part is empty"));
        }
        if let Some(c) = encoded
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-')))
        {
            return Err(malformed(&format!(
                "character {c:?} is not allowed in the encoded part"
            )));
        }
        let alg =
            Algorithm::from_id(algorithm).ok_or_else(|| DigestError::UnsupportedAlgorithm {
                algorithm: algorithm.to_owned(),
            })?;
        let bad = |reason: String| DigestError::BadEncoding {
            input: input.to_owned(),
            algorithm: alg,
            expected: alg.hex_len(),
            reason,
        };
        if encoded.len() != alg.hex_len() {
            return Err(bad(format!("found {} characters", encoded.len())));
        }
        if let Some(c) = encoded
            .chars()
            .find(|c| !matches!(c, '0'..='9' | 'a'..='f'))
        {
            return Err(bad(format!("character {c:?} is not lowercase hex")));
        }
        Ok(Digest {
            algorithm: alg,
            hex: encoded.to_owned(),
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(bytes);
        h.finish()
    }

    /// The digest of `bytes` under `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The encoded part: lowercase hex.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Whether `bytes` hash to this digest.
    pub fn verifies(&self, bytes: &[u8]) -> bool {
        Digest::of(self.algorithm, bytes) == *self
    }
}

/// Checks `algorithm ::= [a-z0-9]+ ([+._-] [a-z0-9]+)*`.
fn check_algorithm_grammar(algorithm: &str) -> Result<(), String> {
    if algorithm.is_empty() {
        return Err("the algorithm is empty".into());
    }
    let mut previous_was_separator = true; // a separator may not come first
    for c in algorithm.chars() {
        match c {
            'a'..='z' | '0'..='9' => previous_was_separator = false,
            '+' | '.' | '_' | '-' => {
                if previous_was_separator {
                    return Err(format!(
                        "separator {c:?} in algorithm `{algorithm}` must sit between lowercase alphanumerics"
                    ));
                }
                previous_was_separator = true;
            }
            _ => {
                return Err(format!(
                    "character {c:?} is not allowed in algorithm `{algorithm}` (only a-z, 0-9 and + . _ - as separators)"
                ))
            }
        }
    }
    if previous_was_separator {
        return Err(format!("algorithm `{algorithm}` ends with a separator"));
    }
    Ok(())
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A streaming hasher: feed chunks with [`Hasher::update`], then [`Hasher::finish`]. Also counts
/// the bytes it has seen.
#[derive(Clone)]
pub struct Hasher {
    state: HashState,
    len: u64,
}

#[derive(Clone)]
enum HashState {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Hasher {
        let state = match algorithm {
            Algorithm::Sha256 => HashState::Sha256(Sha256::new()),
            Algorithm::Sha512 => HashState::Sha512(Sha512::new()),
        };
        Hasher { state, len: 0 }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            HashState::Sha256(_) => Algorithm::Sha256,
            HashState::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        match &mut self.state {
            HashState::Sha256(h) => h.update(chunk),
            HashState::Sha512(h) => h.update(chunk),
        }
        self.len += chunk.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let algorithm = self.algorithm();
        let hex = match self.state {
            HashState::Sha256(h) => hex::encode(h.finalize()),
            HashState::Sha512(h) => hex::encode(h.finalize()),
        };
        Digest { algorithm, hex }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha256_of_empty_is_the_well_known_value() {
        assert_eq!(Digest::sha256_of(b"").to_string(), EMPTY_SHA256);
    }

    #[test]
    fn parse_display_round_trip_and_serde() {
        let d: Digest = EMPTY_SHA256.parse().unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.to_string(), EMPTY_SHA256);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{EMPTY_SHA256}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
    }

    #[test]
    fn sha512_is_supported() {
        let d = Digest::of(Algorithm::Sha512, b"abc");
        assert_eq!(d.hex().len(), 128);
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert!(d.verifies(b"abc"));
        assert!(!d.verifies(b"abd"));
    }

    #[test]
    fn grammar_violations_are_malformed() {
        for bad in [
            "",
            "sha256",
            ":abc",
            "sha256:",
            "SHA256:abc",
            "sha256+:abc",
            "+sha256:abc",
            "sha--256:abc",
            "sha256:abc def",
            "sha256:ab/cd",
        ] {
            assert!(
                matches!(Digest::parse(bad), Err(DigestError::Malformed { .. })),
                "{bad:?} should be malformed: {:?}",
                Digest::parse(bad)
            );
        }
    }

    #[test]
    fn well_formed_but_unknown_algorithms_are_unsupported() {
        for other in [
            "blake3:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        ] {
            let err = Digest::parse(other).unwrap_err();
            assert!(
                matches!(err, DigestError::UnsupportedAlgorithm { .. }),
                "{other}: {err:?}"
            );
            assert!(err.to_string().contains("not supported"));
        }
    }

    #[test]
    fn encoded_part_must_fit_the_algorithm() {
        let upper = EMPTY_SHA256.to_uppercase().replace("SHA256", "sha256");
        let err = Digest::parse(&upper).unwrap_err();
        assert!(matches!(err, DigestError::BadEncoding { .. }), "{err:?}");
        let short = &EMPTY_SHA256[..EMPTY_SHA256.len() - 1];
        let err = Digest::parse(short).unwrap_err();
        assert!(err.to_string().contains("64 lowercase hex"), "{err}");
        let not_hex = format!("sha256:{}", "g".repeat(64));
        assert!(matches!(
            Digest::parse(&not_hex),
            Err(DigestError::BadEncoding { .. })
        ));
    }

    #[test]
    fn streaming_hasher_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut h = Hasher::new(Algorithm::Sha256);
        for chunk in data.chunks(777) {
            h.update(chunk);
        }
        assert_eq!(h.len(), data.len() as u64);
        assert_eq!(h.finish(), Digest::sha256_of(&data));
    }
}
