//! The Rego unit-test runner behind `plaza policy test`: like `opa test`, every rule named
//! `test_*` in a loaded package is evaluated (no input; data is the bundle defaults under
//! `data.plaza.org`); `true` passes, `false` or undefined fails, an error is an error.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::engine::{eval_rule, PolicySet};
use crate::error::PolicyError;

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "message", rename_all = "lowercase")]
pub enum TestOutcome {
    /// The rule evaluated to `true`.
    Pass,
    /// The rule was `false` or undefined.
    Fail,
    /// Evaluation failed (builtin error, time limit…); the message says why.
    Error(String),
}

/// The result of one `test_*` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    /// Package of the test, e.g. `acme.scopes_test`.
    pub package: String,
    /// Rule name, e.g. `test_admin_denied`.
    pub name: String,
    /// File and line of its (first) definition.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Pass, fail or error.
    #[serde(flatten)]
    pub outcome: TestOutcome,
    /// Wall time.
    #[serde(skip)]
    pub duration: Duration,
}

impl TestResult {
    /// True when the test passed.
    pub fn passed(&self) -> bool {
        self.outcome == TestOutcome::Pass
    }
}

impl PolicySet {
    /// Runs every `test_*` rule of every loaded package, in package and name order.
    pub fn run_tests(&self) -> Vec<TestResult> {
        let engine = self.engine_for(&Value::Null).map(|(_, engine)| engine);
        let limits = self.limits();
        self.tests()
            .iter()
            .map(|t| {
                let start = Instant::now();
                let outcome = match &engine {
                    Err(e) => TestOutcome::Error(e.to_string()),
                    Ok(engine) => {
                        let mut engine = engine.clone();
                        match eval_rule(
                            &mut engine,
                            &format!("data.{}.{}", t.package, t.name),
                            &limits,
                            start,
                        ) {
                            Ok(regorus::Value::Bool(true)) => TestOutcome::Pass,
                            Ok(_) => TestOutcome::Fail,
                            Err(e @ PolicyError::Timeout { .. }) | Err(e) => {
                                TestOutcome::Error(e.to_string())
                            }
                        }
                    }
                };
                TestResult {
                    package: t.package.clone(),
                    name: t.name.clone(),
                    file: self.file_path(t.file).to_owned(),
                    line: t.line,
                    outcome,
                    duration: start.elapsed(),
                }
            })
            .collect()
    }
}
