//! A small YAML emitter for JSON values: block style, two-space indentation, keys in the order
//! the value holds them, so the same value always gives the same text.
//!
//! A string is written plain only when every YAML reader (1.1 and 1.2 alike, e.g. PyYAML and
//! the Go readers kubectl uses) reads it back as the same string: it starts with an ASCII letter
//! or `/`, holds only `A–Z a–z 0–9 . _ / - : @ +`, does not end with `:` and is not a word that
//! YAML 1.1 reads as a boolean or null (`yes`, `No`, `on`, `y`, `null`, `~`, …). Everything
//! else is double-quoted (`"8080"`, `"128Mi"`, `"yes"`, `""`), with control characters and
//! the characters some readers take for line breaks escaped.

use serde_json::Value;

/// The YAML text of `value` (one document, without a `---` line).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => block(value, 0, false, &mut out),
        Value::Array(a) if !a.is_empty() => block(value, 0, false, &mut out),
        _ => {
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
    out
}

/// A value that fits on the line of its key or dash: a scalar or an empty collection.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

/// Writes a non-empty collection at `indent`. With `first_inline`, the first line continues a
/// `- ` already written.
fn block(value: &Value, indent: usize, first_inline: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    let mut first = true;
    let mut start = |out: &mut String| {
        if !(first && first_inline) {
            out.push_str(&pad);
        }
        first = false;
    };
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                start(out);
                out.push_str(&scalar(k));
                out.push(':');
                if is_block(v) {
                    out.push('\n');
                    block(v, indent + 2, false, out);
                } else {
                    out.push(' ');
                    out.push_str(&inline(v));
                    out.push('\n');
                }
            }
        }
        Value::Array(a) => {
            for v in a {
                start(out);
                out.push_str("- ");
                if is_block(v) {
                    block(v, indent + 2, true, out);
                } else {
                    out.push_str(&inline(v));
                    out.push('\n');
                }
            }
        }
        // Callers pass only collections; a scalar is still written, inline, rather than lost.
        scalar_value => {
            start(out);
            out.push_str(&inline(scalar_value));
            out.push('\n');
        }
    }
}

/// Words YAML 1.1 reads as booleans or null (compared case-insensitively).
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// Whether `s` can be written without quotes and read back as the same string.
pub fn is_plain_safe(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._/-:@+".contains(&b))
        && !s.ends_with(':')
        && !RESERVED.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// `s` as a YAML scalar: plain when [`is_plain_safe`], else double-quoted.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // C0 and C1 controls, DEL, and what YAML 1.1 readers take for line breaks (NEL is
            // C1) or a byte-order mark.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_yaml_would_read_as_something_else_are_quoted() {
        for s in [
            "",
            "8080",
            "1.2.0",
            "128Mi",
            "250m",
            "0x1F",
            "012",
            "1e3",
            "1_000",
            ".inf",
            ".NaN",
            "-1",
            "+1",
            "1:20",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "*.example.com",
            "&a",
            "!tag",
            "@x",
            "`x",
            "%x",
            "|",
            ">",
            "#c",
            "a #b",
            "a: b",
            "a:",
            "- a",
            "[a]",
            "{a}",
            "a,b",
            "a b",
            " a",
            "a ",
            "'a'",
            "\"a\"",
            "10.0.0.5/32",
            "2001:db8::1/128",
            "R&D",
            "café",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
            assert!(scalar(s).starts_with('"'), "{s:?}");
        }
    }

    #[test]
    fn ordinary_words_and_paths_stay_plain() {
        for s in [
            "ServiceAccount",
            "app.kubernetes.io/name",
            "PLAZA_TOKEN",
            "/tmp",
            "spiffe://plaza.local/org/acme/instance/inst-9a3f",
            "ghcr.io/acme/where2eat@sha256:0123abcd",
            "RuntimeDefault",
            "inst-9a3f",
            "yes-please",
            "nope",
        ] {
            assert!(is_plain_safe(s), "{s:?} should be plain");
            assert_eq!(scalar(s), s);
        }
    }

    #[test]
    fn quoted_strings_escape_what_must_be_escaped() {
        assert_eq!(scalar("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(scalar("l1\nl2\tx\r"), r#""l1\nl2\tx\r""#);
        assert_eq!(
            scalar("\u{0}\u{7f}\u{85}\u{2028}\u{feff}"),
            r#""\u0000\u007f\u0085\u2028\ufeff""#
        );
        assert_eq!(scalar("naïve 🚀"), "\"naïve 🚀\"");
    }

    #[test]
    fn block_layout() {
        let v = json!({
            "kind": "X",
            "meta": {"labels": {"a": "1"}, "empty": {}},
            "list": [
                {"name": "nm", "ports": [53, 80], "deep": [[1], []]},
                "s",
                true,
                null
            ],
            "none": []
        });
        let want = "\
kind: X
meta:
  labels:
    a: \"1\"
  empty: {}
list:
  - name: nm
    ports:
      - 53
      - 80
    deep:
      - - 1
      - []
  - s
  - true
  - null
none: []
";
        assert_eq!(to_yaml(&v), want);
        assert_eq!(to_yaml(&json!("yes")), "\"yes\"\n");
    }
}
