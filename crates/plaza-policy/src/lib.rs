//! Plaza's policy engine: Rego policies, as OPA and conftest read them, evaluated in-process
//! with [regorus](https://github.com/microsoft/regorus), plus Plaza's built-in policy bundle.
//!
//! ```
//! use plaza_policy::{PolicySet, Severity};
//! let policies = PolicySet::builtin().unwrap(); // once, at start-up
//! let input = serde_json::json!({
//!     "id": "com.example.hello", "version": "1.0.0", "name": "Hello",
//!     "entry": "/app/index.wasm", "runtime": "wasm", "runtimeVersion": "wasip2",
//!     "permissions": [{"name": "admin", "type": "platform", "scopes": ["admin:*"]}],
//! });
//! let evaluation = policies.evaluate(&input, &serde_json::Value::Null).unwrap();
//! assert!(evaluation.findings.iter().any(|f| f.severity == Severity::Deny
//!     && f.rule_id == "plaza.scopes.no-wildcard"));
//! ```
//!
//! * [`syntax`]: Rego v0 / v1 detection per file;
//! * [`metadata`]: rule locations and `# METADATA` annotations;
//! * [`findings`]: [`Finding`], [`Severity`], [`Evaluation`];
//! * [`engine`]: [`PolicySet`], loading and evaluation;
//! * [`limits`]: time, memory and output bounds;
//! * [`memory`]: the interpreter's per-evaluation memory ceiling;
//! * `input`: the input document converted for regorus and measured in one walk;
//! * [`bundle`]: the built-in rules and their org settings;
//! * [`facts`]: [`Facts`], what other gates add to the input;
//! * [`tests_runner`]: `test_*` rules, like `opa test`.

pub mod bundle;
pub mod engine;
pub mod error;
pub mod facts;
pub mod findings;
mod input;
pub mod limits;
pub mod memory;
pub mod metadata;
pub mod syntax;
pub mod tests_runner;

pub use engine::{PolicyFile, PolicySet, PolicySetBuilder};
pub use error::{PolicyError, Position};
pub use facts::{
    facts_schema, input_document, Facts, SbomFacts, Vulnerability, VulnerabilityFacts,
};
pub use findings::{Evaluation, Finding, PolicySource, Severity};
pub use limits::Limits;
pub use syntax::Syntax;
pub use tests_runner::{TestOutcome, TestResult};
