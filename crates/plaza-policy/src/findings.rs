//! Findings: what an evaluation reports, one per message a `deny`/`warn`/`info`/`violation`
//! rule produced, and how a rule's raw value becomes messages.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the submission (`deny` and `violation` rules).
    Deny,
    /// Sends the submission to review, or passes in warn-only mode (`warn` rules).
    Warn,
    /// Informational (`info` rules).
    Info,
}

impl Severity {
    /// The severity of a conftest rule name, if it is one: `deny`/`violation`, `warn`, `info`.
    pub fn of_rule(name: &str) -> Option<Severity> {
        match name {
            "deny" | "violation" => Some(Severity::Deny),
            "warn" => Some(Severity::Warn),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    /// `deny`, `warn` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Deny => "deny",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// Where the rule that produced a finding is defined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PolicySource {
    /// A rule of Plaza's built-in bundle; `file` is the bundle file (e.g. `scopes.rego`).
    Builtin {
        /// File inside `crates/plaza-policy/bundle/`.
        file: String,
        /// 1-based line of the rule head.
        line: u32,
    },
    /// A rule of an org or local policy file.
    File {
        /// The path the file was loaded from (as given).
        path: String,
        /// 1-based line of the rule head.
        line: u32,
    },
}

impl std::fmt::Display for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicySource::Builtin { file, line } => write!(f, "builtin:{file}:{line}"),
            PolicySource::File { path, line } => write!(f, "{path}:{line}"),
        }
    }
}

/// One problem (or note) a policy reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `deny`, `warn` or `info`.
    pub severity: Severity,
    /// Stable id: the message's `rule`, else the rule's METADATA `custom.id`, else
    /// `<package>.<rule name>` (e.g. `marketplace.manifest.deny`).
    pub rule_id: String,
    /// The message (`msg` of an object message).
    pub message: String,
    /// How to fix it: the message's `remediation`, else METADATA `custom.remediation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// The rule's METADATA `title` (or the message's `title`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The message's `details`, as the policy produced them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The package of the rule, e.g. `marketplace.manifest`.
    pub package: String,
    /// Where the rule is defined.
    pub source: PolicySource,
}

impl Finding {
    fn sort_key(&self) -> impl Ord + '_ {
        (
            self.severity,
            &self.rule_id,
            &self.message,
            &self.package,
            &self.source,
        )
    }
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Every finding, sorted by severity (deny first), rule id, message, package, source.
    pub findings: Vec<Finding>,
    /// Wall time of the evaluation (excluding the one-off preparation for a new data document).
    #[serde(serialize_with = "ser_duration_us", rename = "durationUs")]
    pub duration: Duration,
}

fn ser_duration_us<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Evaluation {
    /// True when some finding has deny severity.
    pub fn is_denied(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Deny)
    }

    /// Findings of one severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }

    pub(crate) fn sort(findings: &mut [Finding]) {
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
}

/// A message as a rule produced it, before attribution to a rule definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMessage {
    pub msg: String,
    pub rule: Option<String>,
    pub remediation: Option<String>,
    pub title: Option<String>,
    pub details: Option<Value>,
}

/// Turns a rule's value into messages. `Err` describes an ill-shaped value.
///
/// Accepted shapes (as conftest accepts them): a set or array of messages; a single message;
/// `true` (a boolean rule that fired: one message naming the rule) or `false`/undefined (none).
/// A message is a string or an object with a string `msg` and optional string `rule` (or
/// `id`), `remediation`, `title` and any `details`.
pub(crate) fn messages(value: &Value, rule_path: &str) -> Result<Vec<RawMessage>, String> {
    match value {
        Value::Null => Ok(vec![]),
        Value::Bool(false) => Ok(vec![]),
        Value::Bool(true) => Ok(vec![RawMessage {
            msg: format!("{rule_path} is true"),
            rule: None,
            remediation: None,
            title: None,
            details: None,
        }]),
        Value::Array(items) => items.iter().map(message).collect(),
        other => Ok(vec![message(other)?]),
    }
}

fn message(value: &Value) -> Result<RawMessage, String> {
    match value {
        Value::String(s) => Ok(RawMessage {
            msg: s.clone(),
            rule: None,
            remediation: None,
            title: None,
            details: None,
        }),
        Value::Object(o) => {
            let msg = match o.get("msg") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => return Err(format!("an object whose `msg` is {}", describe(other))),
                None => return Err("an object without `msg`".to_owned()),
            };
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            Ok(RawMessage {
                msg,
                rule: text("rule").or_else(|| text("id")),
                remediation: text("remediation"),
                title: text("title"),
                details: o.get("details").cloned(),
            })
        }
        other => Err(describe(other)),
    }
}

/// A short description of a JSON value's kind, for error messages.
pub(crate) fn describe(v: &Value) -> String {
    let shown = v.to_string();
    let shown = if shown.chars().count() > 40 {
        format!("{}…", shown.chars().take(40).collect::<String>())
    } else {
        shown
    };
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{kind} ({shown})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_conftest_shapes() {
        let m = messages(
            &json!(["a", {"msg": "b", "rule": "r", "remediation": "fix"}]),
            "x",
        )
        .unwrap();
        assert_eq!(m[0].msg, "a");
        assert_eq!(m[1].rule.as_deref(), Some("r"));
        assert_eq!(m[1].remediation.as_deref(), Some("fix"));
        assert_eq!(
            messages(&json!(true), "data.a.deny").unwrap()[0].msg,
            "data.a.deny is true"
        );
        assert!(messages(&json!(false), "x").unwrap().is_empty());
        assert!(messages(&json!("one"), "x").unwrap().len() == 1);
    }

    #[test]
    fn rejects_ill_shaped() {
        assert_eq!(messages(&json!(5), "x").unwrap_err(), "a number (5)");
        assert!(messages(&json!([{"message": "x"}]), "x")
            .unwrap_err()
            .contains("without `msg`"));
        assert!(messages(&json!([{"msg": 1}]), "x").is_err());
    }
}
