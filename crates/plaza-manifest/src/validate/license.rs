//! SPDX license expressions (SPDX 2.3, Annex D).
//!
//! ```text
//! expression = and-expr *( "OR" and-expr )
//! and-expr   = with-expr *( "AND" with-expr )
//! with-expr  = simple [ "WITH" exception ] / "(" expression ")"
//! simple     = license-id [ "+" ] / [ "DocumentRef-" idstring ":" ] "LicenseRef-" idstring
//! idstring   = 1*( ALPHA / DIGIT / "-" / "." )
//! ```
//!
//! Operators are case-sensitive. Identifiers are matched case-insensitively against a list of
//! common SPDX identifiers; an identifier not on the list is a warning, not an error.

use crate::error::Invalid;

use super::suggest;

/// Common SPDX license identifiers (a subset of the SPDX list).
pub const COMMON_LICENSES: &[&str] = &[
    "0BSD",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-2.0",
    "Artistic-2.0",
    "BlueOak-1.0.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "EPL-2.0",
    "EUPL-1.2",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "ISC",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-0",
    "MPL-2.0",
    "OFL-1.1",
    "PostgreSQL",
    "Python-2.0",
    "Unicode-3.0",
    "Unlicense",
    "UPL-1.0",
    "WTFPL",
    "Zlib",
];

/// Common SPDX license exception identifiers.
pub const COMMON_EXCEPTIONS: &[&str] = &[
    "Classpath-exception-2.0",
    "GCC-exception-3.1",
    "LLVM-exception",
    "OpenJDK-assembly-exception-1.0",
    "Swift-exception",
];

/// An identifier that is syntactically fine but not on our lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownId {
    /// The identifier as written.
    pub id: String,
    /// A close known identifier, if any.
    pub suggestion: Option<&'static str>,
    /// Whether it was used as an exception (after `WITH`).
    pub exception: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Open,
    Close,
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push(Tok::Word(&s[st..i]));
            }
            match c {
                '(' => out.push(Tok::Open),
                ')' => out.push(Tok::Close),
                _ => {}
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(Tok::Word(&s[st..]));
    }
    out
}

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    i: usize,
    unknown: Vec<UnknownId>,
}

fn is_idstring(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.i)
    }

    fn expression(&mut self) -> Result<(), Invalid> {
        self.and_expr()?;
        while self.peek() == Some(&Tok::Word("OR")) {
            self.i += 1;
            self.and_expr()?;
        }
        Ok(())
    }

    fn and_expr(&mut self) -> Result<(), Invalid> {
        self.with_expr()?;
        while self.peek() == Some(&Tok::Word("AND")) {
            self.i += 1;
            self.with_expr()?;
        }
        Ok(())
    }

    fn with_expr(&mut self) -> Result<(), Invalid> {
        match self.peek().cloned() {
            Some(Tok::Open) => {
                self.i += 1;
                self.expression()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(Invalid::new("missing `)`").hint("close every `(` with `)`"));
                }
                self.i += 1;
                Ok(())
            }
            Some(Tok::Word(w)) => {
                self.i += 1;
                self.simple(w)?;
                if self.peek() == Some(&Tok::Word("WITH")) {
                    self.i += 1;
                    match self.peek().cloned() {
                        Some(Tok::Word(e)) if is_idstring(e) && !is_operator(e) => {
                            self.i += 1;
                            self.known(e, true);
                        }
                        _ => {
                            return Err(Invalid::new(
                                "`WITH` must be followed by an exception identifier",
                            )
                            .hint("e.g. `GPL-2.0-or-later WITH Classpath-exception-2.0`"))
                        }
                    }
                }
                Ok(())
            }
            Some(Tok::Close) => {
                Err(Invalid::new("unexpected `)`").hint("remove it or add the matching `(`"))
            }
            None => Err(Invalid::new(
                "the expression ends where a license identifier is expected",
            )),
        }
    }

    fn simple(&mut self, w: &'a str) -> Result<(), Invalid> {
        if is_operator(w) {
            return Err(Invalid::new(format!(
                "`{w}` appears where a license identifier is expected"
            )));
        }
        if let Some(lower) = ["and", "or", "with"].iter().find(|op| w == **op) {
            return Err(
                Invalid::new(format!("`{w}` is not an operator")).hint(format!(
                    "SPDX operators are uppercase: `{}`",
                    lower.to_uppercase()
                )),
            );
        }
        if w == "/" || w.contains('/') || w.contains(',') {
            return Err(Invalid::new(format!("`{w}` is not a license identifier"))
                .hint("combine licenses with `OR` or `AND`, e.g. `MIT OR Apache-2.0`"));
        }
        let reference = w.split_once(':').map_or(Some(w), |(doc, lic)| {
            doc.strip_prefix("DocumentRef-")
                .filter(|d| is_idstring(d))
                .map(|_| lic)
        });
        match reference {
            Some(r) if r.starts_with("LicenseRef-") => {
                if is_idstring(&r["LicenseRef-".len()..]) {
                    return Ok(());
                }
                return Err(
                    Invalid::new(format!("`{w}` is not a valid license reference"))
                        .hint("write `LicenseRef-` followed by letters, digits, `-` or `.`"),
                );
            }
            None => {
                return Err(
                    Invalid::new(format!("`{w}` is not a valid document reference"))
                        .hint("write `DocumentRef-<id>:LicenseRef-<id>`"),
                )
            }
            Some(_) => {}
        }
        let id = w.strip_suffix('+').unwrap_or(w);
        if !is_idstring(id) {
            return Err(Invalid::new(format!("`{w}` is not a valid license identifier"))
                .hint("license identifiers use letters, digits, `-` and `.`, optionally followed by `+`"));
        }
        self.known(id, false);
        Ok(())
    }

    fn known(&mut self, id: &str, exception: bool) {
        let list = if exception {
            COMMON_EXCEPTIONS
        } else {
            COMMON_LICENSES
        };
        if list.iter().any(|k| k.eq_ignore_ascii_case(id)) {
            return;
        }
        self.unknown.push(UnknownId {
            id: id.to_owned(),
            suggestion: suggest::did_you_mean(id, list.iter().copied()),
            exception,
        });
    }
}

fn is_operator(w: &str) -> bool {
    matches!(w, "AND" | "OR" | "WITH")
}

/// Checks the expression's syntax; returns the identifiers that are not on our lists.
pub fn check(s: &str) -> Result<Vec<UnknownId>, Invalid> {
    let mut p = Parser {
        toks: tokenize(s),
        i: 0,
        unknown: Vec::new(),
    };
    if p.toks.is_empty() {
        return Err(Invalid::new("license expression is empty"));
    }
    p.expression()?;
    if let Some(t) = p.peek() {
        let what = match t {
            Tok::Open => "`(`".to_owned(),
            Tok::Close => "`)`".to_owned(),
            Tok::Word(w) => format!("`{w}`"),
        };
        let hint = match t {
            Tok::Close => "remove it or add the matching `(`".to_owned(),
            Tok::Word(w @ ("and" | "or" | "with")) => {
                format!("SPDX operators are uppercase: `{}`", w.to_uppercase())
            }
            _ => "join licenses with `AND` or `OR`, e.g. `MIT OR Apache-2.0`".to_owned(),
        };
        return Err(Invalid::new(format!("unexpected {what} in license expression")).hint(hint));
    }
    Ok(p.unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions() {
        for s in [
            "MIT",
            "MIT OR Apache-2.0",
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "LicenseRef-Proprietary",
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            "Apache-2.0+",
            "mit",
        ] {
            assert_eq!(check(s), Ok(vec![]), "{s}");
        }
    }

    #[test]
    fn unknown_ids_are_reported_not_rejected() {
        let u = check("Apache2 OR Foo-1.0").unwrap();
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].suggestion, Some("Apache-2.0"));
        assert_eq!(u[1].suggestion, None);
    }

    #[test]
    fn syntax_errors() {
        for s in [
            "",
            "MIT OR",
            "(MIT",
            "MIT)",
            "MIT and Apache-2.0",
            "MIT Apache-2.0",
            "MIT/Apache-2.0",
            "MIT WITH",
            "LicenseRef-",
            "AND MIT",
            "MIT OR OR Apache-2.0",
            "Foo_Bar",
        ] {
            assert!(check(s).is_err(), "{s}");
        }
        assert_eq!(
            check("MIT and Apache-2.0").unwrap_err().message,
            "unexpected `and` in license expression"
        );
    }
}
