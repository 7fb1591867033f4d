//! Repository names and tags, validated exactly as the distribution spec writes them:
//!
//! - name: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`;
//! - tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`;
//! - `<tag-or-digest>`: a [`Reference`], either a tag or a [`Digest`].
//!
//! The spec puts no hard limit on a name's length but notes that many clients limit
//! `host[:port]/name` to 255 characters; [`RepoName::parse`] refuses names that could never fit
//! (over 255) and [`RepoName::parse_for_host`] applies the limit for the registry's own host.
//! Matching is hand-written (no regex) so each error can say exactly what is wrong and where.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::digest::{Digest, DigestError};

/// The limit many clients put on `host[:port]` + `/` + name.
pub const MAX_REFERENCE_LEN: usize = 255;
/// The longest tag the spec allows.
pub const MAX_TAG_LEN: usize = 128;

/// Why a repository name or tag was refused. `position` is a 0-based byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// The name is empty.
    #[error("repository name is empty")]
    Empty,
    /// The name is longer than clients accept.
    #[error("repository name is {len} characters long; at most {max} fit (clients limit `host/name` to 255 characters)")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit that applied.
        max: usize,
    },
    /// A path component is empty (leading, trailing or doubled `/`).
    #[error("repository name `{name}` has an empty path component at position {position} (no leading, trailing or double `/`)")]
    EmptyComponent {
        /// The name.
        name: String,
        /// Where the empty component starts.
        position: usize,
    },
    /// An upper-case letter (names are lower case only).
    #[error("repository name `{name}` has upper-case {ch:?} at position {position}; names are lower case")]
    UpperCase {
        /// The name.
        name: String,
        /// The character.
        ch: char,
        /// Where.
        position: usize,
    },
    /// A character outside `a-z 0-9 . _ - /`.
    #[error("repository name `{name}` has {ch:?} at position {position}; only a-z, 0-9, `/` and the separators `.`, `_`, `__`, `-` are allowed")]
    InvalidChar {
        /// The name.
        name: String,
        /// The character.
        ch: char,
        /// Where.
        position: usize,
    },
    /// A separator run that is not `.`, `_`, `__` or one or more `-`, or that does not sit
    /// between alphanumerics.
    #[error("repository name `{name}` has separator `{separator}` at position {position}; a separator must be `.`, `_`, `__` or dashes, between lower-case letters or digits")]
    BadSeparator {
        /// The name.
        name: String,
        /// The separator run found.
        separator: String,
        /// Where it starts.
        position: usize,
    },
    /// A tag that is empty, too long or has a character the grammar forbids.
    #[error("tag `{tag}` is invalid: {reason} (tags match `[a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}`)")]
    InvalidTag {
        /// The tag as given.
        tag: String,
        /// What is wrong.
        reason: String,
    },
}

/// A validated repository name, e.g. `acme/hello-wasm`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RepoName(String);

impl RepoName {
    /// Validates `name` against the spec grammar and the 255-character client limit.
    pub fn parse(name: &str) -> Result<RepoName, NameError> {
        Self::parse_with_max(name, MAX_REFERENCE_LEN)
    }

    /// Validates `name` so that `host/name` stays within 255 characters, as the spec advises
    /// (`host` includes the port, e.g. `registry.example.org:5000`).
    pub fn parse_for_host(name: &str, host: &str) -> Result<RepoName, NameError> {
        Self::parse_with_max(name, MAX_REFERENCE_LEN.saturating_sub(host.len() + 1))
    }

    fn parse_with_max(name: &str, max: usize) -> Result<RepoName, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > max {
            return Err(NameError::TooLong {
                len: name.len(),
                max,
            });
        }
        let mut start = 0;
        for component in name.split('/') {
            check_component(name, component, start)?;
            start += component.len() + 1;
        }
        Ok(RepoName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path components (`acme/hello` → `acme`, `hello`).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

/// Checks one component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`; `offset` is where it starts in
/// `name`.
fn check_component(name: &str, component: &str, offset: usize) -> Result<(), NameError> {
    if component.is_empty() {
        return Err(NameError::EmptyComponent {
            name: name.to_owned(),
            position: offset,
        });
    }
    let bytes = component.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            i += 1;
            continue;
        }
        if matches!(c, b'.' | b'_' | b'-') {
            let run_start = i;
            while i < bytes.len() && matches!(bytes[i], b'.' | b'_' | b'-') {
                i += 1;
            }
            let run = &component[run_start..i];
            let valid_run =
                run == "." || run == "_" || run == "__" || run.bytes().all(|b| b == b'-');
            let between_alnum = run_start > 0 && i < bytes.len();
            if !valid_run || !between_alnum {
                return Err(NameError::BadSeparator {
                    name: name.to_owned(),
                    separator: run.to_owned(),
                    position: offset + run_start,
                });
            }
            continue;
        }
        // Not ASCII alphanumeric-lower nor a separator: report the full character.
        let ch = component[i..].chars().next().unwrap_or('\u{fffd}');
        let position = offset + i;
        return Err(if ch.is_uppercase() {
            NameError::UpperCase {
                name: name.to_owned(),
                ch,
                position,
            }
        } else {
            NameError::InvalidChar {
                name: name.to_owned(),
                ch,
                position,
            }
        });
    }
    Ok(())
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RepoName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A validated tag, e.g. `1.0.0` or `latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    /// Validates `tag` against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    pub fn parse(tag: &str) -> Result<Tag, NameError> {
        let invalid = |reason: String| NameError::InvalidTag {
            tag: tag.to_owned(),
            reason,
        };
        let Some(first) = tag.chars().next() else {
            return Err(invalid("it is empty".into()));
        };
        if tag.len() > MAX_TAG_LEN {
            return Err(invalid(format!(
                "it is {} characters long, at most {MAX_TAG_LEN} are allowed",
                tag.len()
            )));
        }
        if !(first.is_ascii_alphanumeric() || first == '_') {
            return Err(invalid(format!(
                "it starts with {first:?}; the first character must be a letter, digit or `_`"
            )));
        }
        if let Some((pos, c)) = tag
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(invalid(format!(
                "character {c:?} at position {pos} is not a letter, digit, `.`, `_` or `-`"
            )));
        }
        Ok(Tag(tag.to_owned()))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The `<tag-or-digest>` of a manifest URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A tag.
    Tag(Tag),
    /// A digest.
    Digest(Digest),
}

/// Why a `<tag-or-digest>` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceError {
    /// It contains `:`, so it is meant as a digest, and is not a valid one.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// It is meant as a tag and is not a valid one.
    #[error(transparent)]
    Tag(#[from] NameError),
}

impl Reference {
    /// A string with `:` is a digest (tags cannot contain `:`), anything else a tag.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.contains(':') {
            Ok(Reference::Digest(Digest::parse(s)?))
        } else {
            Ok(Reference::Tag(Tag::parse(s)?))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for ok in [
            "a",
            "acme/hello",
            "acme/hello-wasm",
            "a--b",
            "a__b",
            "a_b.c-d",
            "library/ubuntu",
            "x0/y1/z2",
            "abc.def/g",
        ] {
            assert!(
                RepoName::parse(ok).is_ok(),
                "{ok}: {:?}",
                RepoName::parse(ok)
            );
        }
    }

    #[test]
    fn invalid_names_say_what_is_wrong() {
        type Check = fn(&NameError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, NameError::Empty)),
            ("/a", |e| {
                matches!(e, NameError::EmptyComponent { position: 0, .. })
            }),
            ("a/", |e| {
                matches!(e, NameError::EmptyComponent { position: 2, .. })
            }),
            ("a//b", |e| matches!(e, NameError::EmptyComponent { .. })),
            ("Acme/x", |e| {
                matches!(
                    e,
                    NameError::UpperCase {
                        ch: 'A',
                        position: 0,
                        ..
                    }
                )
            }),
            ("acme/../x", |e| {
                matches!(e, NameError::BadSeparator { position: 5, .. })
            }),
            ("a..b", |e| matches!(e, NameError::BadSeparator { .. })),
            ("a___b", |e| matches!(e, NameError::BadSeparator { .. })),
            ("a._b", |e| matches!(e, NameError::BadSeparator { .. })),
            ("a-_b", |e| matches!(e, NameError::BadSeparator { .. })),
            ("-a", |e| matches!(e, NameError::BadSeparator { .. })),
            ("a-", |e| matches!(e, NameError::BadSeparator { .. })),
            ("a/.b", |e| matches!(e, NameError::BadSeparator { .. })),
            ("acme/%2e%2e", |e| {
                matches!(
                    e,
                    NameError::InvalidChar {
                        ch: '%',
                        position: 5,
                        ..
                    }
                )
            }),
            ("a b", |e| {
                matches!(e, NameError::InvalidChar { ch: ' ', .. })
            }),
            ("a:b", |e| matches!(e, NameError::InvalidChar { .. })),
            ("é", |e| {
                matches!(e, NameError::InvalidChar { ch: 'é', .. })
            }),
        ];
        for (input, check) in cases {
            let err = RepoName::parse(input).unwrap_err();
            assert!(check(&err), "{input:?}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn length_limits() {
        let max = "a".repeat(255);
        assert!(RepoName::parse(&max).is_ok());
        assert!(matches!(
            RepoName::parse(&"a".repeat(256)),
            Err(NameError::TooLong { len: 256, max: 255 })
        ));
        // The spec's example: registry.example.org:5000 leaves 229 characters.
        let host = "registry.example.org:5000";
        assert!(RepoName::parse_for_host(&"a".repeat(229), host).is_ok());
        assert!(matches!(
            RepoName::parse_for_host(&"a".repeat(230), host),
            Err(NameError::TooLong { max: 229, .. })
        ));
    }

    #[test]
    fn tags() {
        for ok in ["latest", "1.0.0", "_x", "V1-rc.2_b", &"a".repeat(128)] {
            assert!(Tag::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a:b", "a/b", "a+b", &"a".repeat(129)] {
            let err = Tag::parse(bad).unwrap_err();
            assert!(matches!(err, NameError::InvalidTag { .. }), "{bad}");
        }
        assert!(Tag::parse("x+y").unwrap_err().to_string().contains('+'));
    }

    #[test]
    fn references() {
        assert!(matches!(Reference::parse("v1"), Ok(Reference::Tag(_))));
        let d = Digest::sha256_of(b"x").to_string();
        assert!(matches!(Reference::parse(&d), Ok(Reference::Digest(_))));
        assert!(matches!(
            Reference::parse("sha256:nothex"),
            Err(ReferenceError::Digest(_))
        ));
        assert!(matches!(
            Reference::parse("-bad"),
            Err(ReferenceError::Tag(_))
        ));
    }
}
