//! Diagnostics: what is wrong, where, and how to fix it.
//!
//! Every problem found while reading or validating a manifest becomes one [`Diagnostic`] with a
//! stable [`Code`]. Codes are part of Plaza's public contract (CI scripts match on them); they
//! are never renamed, only added.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::node::{Path, Pos};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifest is invalid; it cannot be published.
    Error,
    /// An advisory; the manifest is still valid.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $severity:ident; )*) => {
        /// The stable identifier of a kind of problem. Serialises as kebab-case (`unknown-field`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The kebab-case identifier, e.g. `unknown-field`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The severity diagnostics with this code have.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }
        }
    };
}

codes! {
    /// The file is larger than 1 MiB.
    FileTooLarge = "file-too-large", Error;
    /// The file is not valid UTF-8.
    InvalidUtf8 = "invalid-utf8", Error;
    /// The file contains no value.
    EmptyManifest = "empty-manifest", Error;
    /// The YAML is not well-formed.
    YamlSyntax = "yaml-syntax", Error;
    /// The JSON is not well-formed.
    JsonSyntax = "json-syntax", Error;
    /// Maps and lists are nested more than 64 levels deep.
    NestingTooDeep = "nesting-too-deep", Error;
    /// YAML aliases expand to too many nodes.
    AliasLimit = "alias-limit", Error;
    /// A YAML feature manifests do not support.
    UnsupportedYaml = "unsupported-yaml", Error;
    /// The same key appears twice in one map.
    DuplicateKey = "duplicate-key", Error;
    /// A field the schema does not define.
    UnknownField = "unknown-field", Error;
    /// A required field is absent.
    MissingField = "missing-field", Error;
    /// A value has the wrong type.
    WrongType = "wrong-type", Error;
    /// `manifestVersion` names a version this Plaza does not support.
    UnsupportedManifestVersion = "unsupported-manifest-version", Error;
    /// A string or list that must not be empty is empty.
    EmptyValue = "empty-value", Error;
    /// A string is longer than its limit.
    ValueTooLong = "value-too-long", Error;
    /// A list has more items than its limit.
    TooManyItems = "too-many-items", Error;
    /// The same item appears twice in a list that must hold distinct items.
    DuplicateEntry = "duplicate-entry", Error;
    /// A value outside a fixed set of allowed values.
    UnknownValue = "unknown-value", Error;
    /// A number outside its allowed range.
    OutOfRange = "out-of-range", Error;
    /// `id` is not a reverse-DNS identifier.
    InvalidId = "invalid-id", Error;
    /// `version` is not SemVer 2.0.
    InvalidVersion = "invalid-version", Error;
    /// `name` contains control characters or surrounding spaces.
    InvalidName = "invalid-name", Error;
    /// `entry` is not a safe path.
    InvalidEntry = "invalid-entry", Error;
    /// A permission or metric name is not a lowercase identifier.
    InvalidIdentifier = "invalid-identifier", Error;
    /// A scope does not follow the scope grammar.
    InvalidScope = "invalid-scope", Error;
    /// Two permissions have the same name.
    DuplicatePermission = "duplicate-permission", Error;
    /// Two metrics have the same name.
    DuplicateMetric = "duplicate-metric", Error;
    /// A metric unit that is not in the unit registry.
    UnknownUnit = "unknown-unit", Error;
    /// A `free` plan prices a metric.
    FreePlanPriced = "free-plan-priced", Error;
    /// An e-mail address is malformed.
    InvalidEmail = "invalid-email", Error;
    /// A URL is not an absolute http(s) URL.
    InvalidUrl = "invalid-url", Error;
    /// The `sbom` reference is neither a supported URI nor a relative path.
    InvalidReference = "invalid-reference", Error;
    /// A maintainer or signer identity is malformed.
    InvalidIdentity = "invalid-identity", Error;
    /// A tag is not lowercase words joined by hyphens.
    InvalidTag = "invalid-tag", Error;
    /// `license` is not a valid SPDX license expression.
    InvalidLicense = "invalid-license", Error;
    /// An egress rule is not `host[:port]`.
    InvalidEgress = "invalid-egress", Error;
    /// A memory or CPU quantity cannot be parsed.
    InvalidQuantity = "invalid-quantity", Error;
    /// The health check is inconsistent.
    InvalidHealthcheck = "invalid-healthcheck", Error;
    /// A field that listings and reviews rely on is absent.
    MissingRecommendedField = "missing-recommended-field", Warning;
    /// A license identifier that is not in Plaza's list of common SPDX identifiers.
    UnknownLicense = "unknown-license", Warning;
    /// A URL uses plain `http`.
    InsecureUrl = "insecure-url", Warning;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file name as given to [`crate::load`].
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// JSON pointer (RFC 6901) to the value, e.g. `/permissions/0/scopes/1`; empty for the root.
    pub pointer: String,
}

/// One problem found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// Stable kebab-case identifier of the kind of problem.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is.
    pub location: Location,
    /// How to fix it, when we can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Builds a diagnostic with the code's severity.
    pub fn new(code: Code, message: impl Into<String>, file: &str, pos: Pos, path: &Path) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            message: message.into(),
            location: Location {
                file: file.to_owned(),
                line: pos.line,
                column: pos.column,
                pointer: path.pointer(),
            },
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// True for error-severity diagnostics.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Renders diagnostics as compiler-style text, one per line, each followed by its hint:
///
/// ```text
/// micro-app.yaml:3:1: error[unknown-field]: unknown field `nmae` in manifest
///   = hint: did you mean `name`?
/// ```
pub fn render_text(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            d.location.file,
            d.location.line,
            d.location.column,
            d.severity.as_str(),
            d.code,
            d.message
        );
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic::new(
            Code::UnknownField,
            "unknown field `nmae` in manifest",
            "micro-app.yaml",
            Pos { line: 3, column: 1 },
            &Path::root().key("nmae"),
        )
        .with_hint(Some("did you mean `name`?".into()));
        assert_eq!(
            render_text(&[d]),
            "micro-app.yaml:3:1: error[unknown-field]: unknown field `nmae` in manifest\n  = hint: did you mean `name`?\n"
        );
    }

    #[test]
    fn serialises_lowercase_and_kebab() {
        let d = Diagnostic::new(
            Code::MissingRecommendedField,
            "m",
            "f.yaml",
            Pos::START,
            &Path::root(),
        );
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["severity"], "warning");
        assert_eq!(v["code"], "missing-recommended-field");
        assert_eq!(v["location"]["pointer"], "");
        assert!(v.get("hint").is_none());
    }

    #[test]
    fn code_names_match_serde() {
        for code in Code::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
