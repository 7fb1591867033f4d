//! The crate's error type, [`PolicyError`]: every variant carries the context a person needs
//! to find and fix the problem (file, line, column, rule, limit).

use std::path::PathBuf;
use std::time::Duration;

/// A position in a policy file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// File name as the policy was loaded (`builtin:plaza/scopes.rego` for the bundle).
    pub file: String,
    /// Line, 1-based.
    pub line: u32,
    /// Column, 1-based.
    pub column: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Everything that can go wrong loading or evaluating policies.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy file or directory could not be read.
    #[error("cannot read policy {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A policy file is not valid Rego (in either syntax version).
    #[error("{position}: {message} (hint: {hint})")]
    Syntax {
        /// Where the parser stopped.
        position: Position,
        /// The parser's message.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The policies parse but cannot be compiled together (e.g. a rule defined twice with
    /// conflicting kinds, recursion, an unsafe variable).
    #[error("{}{message} (hint: {hint})", position.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
    Compile {
        /// Where, when regorus reports a position.
        position: Option<Position>,
        /// regorus's message.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// Evaluation failed: an undefined function, a builtin error, a conflicting complete rule.
    #[error("{}{message}", position.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
    Eval {
        /// Where, when regorus reports a position.
        position: Option<Position>,
        /// regorus's message.
        message: String,
    },
    /// Evaluation ran longer than the configured limit and was stopped.
    #[error("policy evaluation exceeded its time limit of {limit:?} (stopped after {elapsed:?}); a rule loops over too much data")]
    Timeout {
        /// The configured limit.
        limit: Duration,
        /// How long it ran.
        elapsed: Duration,
    },
    /// An evaluation asked for more than a configured bound (input size, range size, VM
    /// instructions, findings, output bytes).
    #[error("policy evaluation exceeds a limit: {what} (limit {limit})")]
    LimitExceeded {
        /// What was too large.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// A `deny`/`warn`/`info`/`violation` rule produced a value that is not a message.
    #[error("{rule} (defined at {file}:{line}) produced {got}; expected a set of strings or of objects with a string `msg` (hint: {hint})")]
    IllShaped {
        /// The rule path, e.g. `data.acme.deny`.
        rule: String,
        /// File of the rule's first definition.
        file: String,
        /// Line of the rule's first definition.
        line: u32,
        /// A short description of the value produced.
        got: String,
        /// How to fix it.
        hint: String,
    },
    /// The input or data document has the wrong shape (e.g. `data` is not an object).
    #[error("invalid {what}: {message}")]
    InvalidDocument {
        /// `input` or `data`.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Reads the first `--> file:line:col` position out of a regorus error message.
pub(crate) fn position_in(message: &str) -> Option<Position> {
    let rest = &message[message.find("--> ")? + 4..];
    let loc = rest.lines().next()?.trim();
    let mut parts = loc.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_owned();
    Some(Position { file, line, column })
}

/// The last `error: …` line of a regorus error message, or the whole message.
pub(crate) fn core_message(message: &str) -> String {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| message.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regorus_positions() {
        let m = "\n--> a/b.rego:3:7\n  |\n3 | deny[x {\n  |       ^\nerror: expecting `]`";
        let p = position_in(m).unwrap();
        assert_eq!((p.file.as_str(), p.line, p.column), ("a/b.rego", 3, 7));
        assert_eq!(core_message(m), "expecting `]`");
        assert!(position_in("no position").is_none());
    }
}
