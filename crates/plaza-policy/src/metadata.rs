//! A light scan of a policy's source for what the Rego AST of regorus does not expose: the
//! `package`, where each top-level rule is defined (name and line), the string literals in its
//! body (used to tell which `deny` body produced a message), and OPA `# METADATA` annotations.
//!
//! METADATA blocks are YAML in comments directly above a rule (or the package):
//!
//! ```rego
//! # METADATA
//! # title: No wildcard scopes
//! # description: Apps must name each scope they need.
//! # custom:
//! #   id: acme.scopes.no-wildcard
//! #   remediation: Replace `admin:*` with the scopes the app uses.
//! deny contains msg if { … }
//! ```
//!
//! Read fields: `title`, `description`, `scope` (`rule` or `document`), `custom.id` (also
//! `custom.rule_id`, `custom.rule`), `custom.remediation`. Others are ignored.

use yaml_rust2::{Yaml, YamlLoader};

use crate::syntax::strip_comment;

/// Annotations read from a `# METADATA` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `custom.id` (or `custom.rule_id`, `custom.rule`): the rule id findings carry.
    pub rule_id: Option<String>,
    /// `custom.remediation`.
    pub remediation: Option<String>,
    /// True for `scope: document`: applies to every body of the rule in the package.
    pub document_scope: bool,
}

/// One top-level rule definition (one body) found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDecl {
    /// The rule name (first segment of the head), e.g. `deny` or `test_admin_denied`.
    pub name: String,
    /// 1-based line of the head.
    pub line: u32,
    /// String literals in the head and body, unescaped.
    pub strings: Vec<String>,
    /// The METADATA block just above the rule, if any.
    pub annotations: Option<Annotations>,
}

/// What [`scan`] found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileScan {
    /// The package path as written after `package` (e.g. `marketplace.manifest`).
    pub package: String,
    /// Every top-level rule definition, in source order.
    pub rules: Vec<RuleDecl>,
    /// Problems with METADATA blocks (invalid YAML), as `line: message`.
    pub warnings: Vec<String>,
}

/// Scans a policy source.
pub fn scan(source: &str) -> FileScan {
    let mut out = FileScan::default();
    let lines: Vec<&str> = source.lines().collect();
    let mut pending: Option<Annotations> = None;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim();
        if trimmed == "# METADATA" {
            let start = i + 1;
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                let l = lines[i].trim_start();
                let l = l.strip_prefix("# ").unwrap_or(&l[1..]);
                yaml.push_str(l);
                yaml.push('\n');
                i += 1;
            }
            match parse_annotations(&yaml) {
                Ok(a) => pending = Some(a),
                Err(e) => out.warnings.push(format!("{start}: invalid METADATA: {e}")),
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        if raw.starts_with([' ', '\t', '}', ']', ')']) {
            i += 1;
            continue;
        }
        if let Some(p) = trimmed.strip_prefix("package ") {
            out.package = strip_comment(p).trim().to_owned();
            pending = None;
            i += 1;
            continue;
        }
        if trimmed.starts_with("import ") || trimmed.starts_with("default ") {
            pending = None;
            i += 1;
            continue;
        }
        let name: String = trimmed
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            i += 1;
            continue;
        }
        let head_line = i;
        let mut body = vec![raw];
        i += 1;
        while i < lines.len() {
            let l = lines[i];
            let t = l.trim();
            let top = !l.starts_with([' ', '\t', '}', ']', ')']) && !t.is_empty();
            if top && !t.starts_with('#') && !t.starts_with("else") {
                break;
            }
            if t == "# METADATA" {
                break;
            }
            body.push(l);
            i += 1;
        }
        out.rules.push(RuleDecl {
            name,
            line: u32::try_from(head_line + 1).unwrap_or(u32::MAX),
            strings: body.iter().flat_map(|l| string_literals(l)).collect(),
            annotations: pending.take(),
        });
    }
    out
}

fn parse_annotations(yaml: &str) -> Result<Annotations, String> {
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| e.to_string())?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
    let s = |y: &Yaml| y.as_str().map(|s| s.trim().to_owned());
    let custom = &doc["custom"];
    Ok(Annotations {
        title: s(&doc["title"]),
        description: s(&doc["description"]),
        rule_id: s(&custom["id"])
            .or_else(|| s(&custom["rule_id"]))
            .or_else(|| s(&custom["rule"])),
        remediation: s(&custom["remediation"]),
        document_scope: doc["scope"].as_str() == Some("document"),
    })
}

/// The string literals of one line (comments skipped), unescaped.
fn string_literals(line: &str) -> Vec<String> {
    let code = strip_comment(line);
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut s = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        _ if escaped => {
                            s.push(match c {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                            escaped = false;
                        }
                        '\\' => escaped = true,
                        '"' => break,
                        other => s.push(other),
                    }
                }
                out.push(s);
            }
            '`' => out.push(chars.by_ref().take_while(|c| *c != '`').collect()),
            _ => {}
        }
    }
    out
}

/// True when `message` could come from the literal or `sprintf` format `lit`: equal, or the
/// pieces of the format around its `%` verbs appear in order (first as prefix, last as suffix).
pub(crate) fn literal_matches(lit: &str, message: &str) -> bool {
    if lit == message {
        return true;
    }
    if !lit.contains('%') {
        return false;
    }
    let pieces = format_pieces(lit);
    if pieces.iter().all(String::is_empty) {
        return false;
    }
    let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
    if !message.starts_with(first.as_str()) || !message.ends_with(last.as_str()) {
        return false;
    }
    let mut rest = &message[first.len()..];
    for piece in &pieces[1..] {
        match rest.find(piece.as_str()) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

fn format_pieces(format: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            if let Some(p) = pieces.last_mut() {
                p.push(c);
            }
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            if let Some(p) = pieces.last_mut() {
                p.push('%');
            }
            continue;
        }
        // Flags, width, precision, then the verb letter.
        while matches!(chars.peek(), Some(c) if !c.is_ascii_alphabetic()) {
            chars.next();
        }
        chars.next();
        pieces.push(String::new());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"package acme.scopes

import rego.v1

# METADATA
# title: No wildcards
# custom:
#   id: acme.no-wildcard
#   remediation: Name the scopes.
deny contains msg if {
  some s in input.permissions[_].scopes
  endswith(s, "*") # "ignored"
  msg := sprintf("scope %q is a wildcard", [s])
}

warn contains "plain" if input.x
"#;

    #[test]
    fn scans_rules_metadata_and_strings() {
        let s = scan(SRC);
        assert_eq!(s.package, "acme.scopes");
        assert_eq!(s.rules.len(), 2);
        let deny = &s.rules[0];
        assert_eq!((deny.name.as_str(), deny.line), ("deny", 10));
        assert_eq!(deny.strings, vec!["*", "scope %q is a wildcard"]);
        let a = deny.annotations.as_ref().unwrap();
        assert_eq!(a.title.as_deref(), Some("No wildcards"));
        assert_eq!(a.rule_id.as_deref(), Some("acme.no-wildcard"));
        assert_eq!(a.remediation.as_deref(), Some("Name the scopes."));
        assert_eq!(s.rules[1].name, "warn");
        assert!(s.rules[1].annotations.is_none());
    }

    #[test]
    fn matches_sprintf_formats() {
        assert!(literal_matches(
            "scope %q is a wildcard",
            "scope \"a:*\" is a wildcard"
        ));
        assert!(literal_matches("SBOM required", "SBOM required"));
        assert!(!literal_matches("SBOM required", "SBOM missing"));
        assert!(literal_matches("%v of %v", "1 of 2"));
        assert!(!literal_matches("%v", "anything")); // too vague
        assert!(!literal_matches("a %s b", "a x c"));
    }
}
