//! Rego v0 / v1 detection, per file.
//!
//! OPA 1.x reads Rego v1 (`deny contains msg if { … }`); OPA 0.x and conftest before 0.56 read
//! v0 (`deny[msg] { … }`), where `import future.keywords…` or `import rego.v1` opt into the new
//! keywords. Plaza accepts both without edits. For each file, [`detect`] picks the syntax to try
//! first:
//!
//! 1. `import rego.v1` → v1 (the file is valid in both OPA versions when it has that import);
//! 2. `import future.keywords…` → v0 (v0 with the new keywords, which is what the import means);
//! 3. otherwise, a rule head that uses `contains` or `if` → v1; else v0.
//!
//! The loader ([`crate::engine`]) parses with that syntax and, if the parse fails, with the
//! other one; only when both fail is the file rejected, with the error of the first attempt
//! (the syntax the file most likely meant). Both parses produce the same AST, so a policy has
//! the same meaning whichever syntax it is written in.

/// A Rego language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    /// Rego v0 (OPA 0.x): `deny[msg] { … }`; `if`/`contains`/`in`/`every` need a
    /// `future.keywords` import.
    V0,
    /// Rego v1 (OPA 1.x): `deny contains msg if { … }`.
    V1,
}

impl Syntax {
    /// The other version.
    pub fn other(self) -> Syntax {
        match self {
            Syntax::V0 => Syntax::V1,
            Syntax::V1 => Syntax::V0,
        }
    }
}

impl std::fmt::Display for Syntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Syntax::V0 => "Rego v0",
            Syntax::V1 => "Rego v1",
        })
    }
}

/// The syntax to try first for `source` (see the module documentation).
pub fn detect(source: &str) -> Syntax {
    let mut uses_v1_heads = false;
    for raw in source.lines() {
        let line = strip_comment(raw).trim();
        if let Some(import) = line.strip_prefix("import ") {
            let import = import.trim();
            if import == "rego.v1" {
                return Syntax::V1;
            }
            if import.starts_with("future.keywords") {
                return Syntax::V0;
            }
        }
        // A rule head starts at column 0 in idiomatic Rego.
        if !raw.starts_with([' ', '\t', '}', '#']) && is_v1_head(line) {
            uses_v1_heads = true;
        }
    }
    if uses_v1_heads {
        Syntax::V1
    } else {
        Syntax::V0
    }
}

fn is_v1_head(line: &str) -> bool {
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words.len() > 1 && words[1..].iter().any(|w| *w == "contains" || *w == "if")
}

/// The line without a trailing `#` comment (a `#` inside a string literal is kept).
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut in_raw = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' if !in_raw => in_str = !in_str,
            '`' if !in_str => in_raw = !in_raw,
            '#' if !in_str && !in_raw => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_per_file() {
        assert_eq!(
            detect("package a\ndeny[msg] {\n  msg := \"x\"\n}\n"),
            Syntax::V0
        );
        assert_eq!(
            detect("package a\ndeny contains msg if {\n msg := \"x\"\n}\n"),
            Syntax::V1
        );
        assert_eq!(detect("package a\nimport rego.v1\nx := 1\n"), Syntax::V1);
        assert_eq!(
            detect("package a\nimport future.keywords.if\nallow if true\n"),
            Syntax::V0
        );
        assert_eq!(
            detect("package a\n# deny contains x if\nx := 1\n"),
            Syntax::V0
        );
        assert_eq!(detect("package a\nallow if input.x == \"#\"\n"), Syntax::V1);
    }

    #[test]
    fn strips_comments_outside_strings() {
        assert_eq!(strip_comment("x := \"a#b\" # c"), "x := \"a#b\" ");
        assert_eq!(strip_comment("x := `a#b`"), "x := `a#b`");
    }
}
