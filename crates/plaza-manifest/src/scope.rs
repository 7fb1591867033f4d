//! Permission scopes and their grammar.
//!
//! ```text
//! scope    = segment *( sep segment ) [ sep "*" ]
//! segment  = lower *( lower / digit / "_" / "-" )
//! sep      = "." / ":"
//! ```
//!
//! At most 128 characters. `calendar.read`, `calendar.events.create`, `repo:status`, `openid`
//! and `admin:*` are scopes; `*`, `Calendar.Read`, `calendar..read` and `calendar.*.read` are
//! not. Whether a scope may be *granted* (e.g. `admin:*`) is policy, decided later; here we
//! only check the syntax.

use crate::error::Invalid;

/// Longest accepted scope, in characters.
pub const MAX_SCOPE_LEN: usize = 128;

/// A syntactically valid scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    text: String,
}

impl Scope {
    /// Parses a scope, explaining what is wrong if it does not follow the grammar.
    pub fn parse(s: &str) -> Result<Scope, Invalid> {
        check(s)?;
        Ok(Scope { text: s.to_owned() })
    }

    /// The scope as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the scope ends in the wildcard segment `*`.
    pub fn is_wildcard(&self) -> bool {
        self.text.ends_with('*')
    }

    /// The segments, without separators (`admin:*` → `["admin", "*"]`).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split(['.', ':'])
    }
}

fn check(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::new("scope is empty"));
    }
    if s.chars().count() > MAX_SCOPE_LEN {
        return Err(Invalid::new(format!(
            "scope is longer than {MAX_SCOPE_LEN} characters"
        )));
    }
    if s == "*" {
        return Err(
            Invalid::new("`*` alone is not a scope: it would request everything")
                .hint("request the specific scopes the app needs, e.g. `calendar.read`"),
        );
    }
    if s.chars().any(|c| c.is_uppercase()) {
        let lower = s.to_lowercase();
        let err = Invalid::new(format!("scope `{s}` contains uppercase letters"));
        return Err(if check(&lower).is_ok() {
            err.hint(format!("scopes are lowercase: `{lower}`"))
        } else {
            err.hint("scopes are lowercase")
        });
    }
    let grammar = "scopes are lowercase segments (letters, digits, `_`, `-`) joined by `.` or `:`, e.g. `calendar.read`";
    let segments: Vec<&str> = s.split(['.', ':']).collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() {
            return Err(Invalid::new(format!("scope `{s}` has an empty segment"))
                .hint("join segments with a single `.` or `:` and do not start or end with one"));
        }
        if seg.contains('*') {
            if *seg != "*" {
                return Err(
                    Invalid::new(format!("in scope `{s}`, `*` must be a whole segment"))
                        .hint("write the wildcard as its own last segment, e.g. `files:*`"),
                );
            }
            if i != last {
                return Err(Invalid::new(format!(
                    "in scope `{s}`, the wildcard `*` is only allowed as the last segment"
                ))
                .hint("move `*` to the end, or list the scopes explicitly"));
            }
            continue;
        }
        if let Some(bad) = seg
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
        {
            return Err(Invalid::new(format!(
                "scope `{s}` contains `{bad}`, which is not allowed"
            ))
            .hint(grammar));
        }
        if !seg.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(Invalid::new(format!(
                "in scope `{s}`, segment `{seg}` must start with a lowercase letter"
            ))
            .hint(grammar));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_scopes() {
        for s in [
            "calendar.read",
            "calendar.events.create",
            "repo:status",
            "openid",
            "admin:*",
            "files.*",
            "a-b_c.d2",
            "repo:status.read",
        ] {
            assert!(Scope::parse(s).is_ok(), "{s}");
        }
        assert!(Scope::parse("admin:*").unwrap().is_wildcard());
        assert_eq!(
            Scope::parse("admin:*")
                .unwrap()
                .segments()
                .collect::<Vec<_>>(),
            ["admin", "*"]
        );
    }

    #[test]
    fn invalid_scopes() {
        for s in [
            "",
            "*",
            "Calendar.Read",
            "calendar..read",
            ".read",
            "read.",
            "calendar.*.read",
            "read*",
            "cal/read",
            "1cal.read",
            "cal read",
            "_x",
        ] {
            assert!(Scope::parse(s).is_err(), "{s}");
        }
        assert_eq!(
            Scope::parse("Calendar.Read").unwrap_err().hint.as_deref(),
            Some("scopes are lowercase: `calendar.read`")
        );
        assert!(Scope::parse(&"a".repeat(129)).is_err());
    }
}
