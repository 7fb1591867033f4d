//! Integration tests of plaza-policy: the bundle fixtures, the seed policy, both Rego
//! syntaxes, METADATA, errors, limits and the unit-test runner.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use plaza_policy::{
    bundle, Limits, PolicyError, PolicySet, PolicySource, Severity, Syntax, TestOutcome,
};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn builtin() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(|| PolicySet::builtin().expect("bundle loads"))
}

fn only(files: &[(&str, &str)]) -> Result<PolicySet, PolicyError> {
    files
        .iter()
        .fold(PolicySet::builder().builtin(false), |b, (p, s)| {
            b.file(*p, *s)
        })
        .build()
}

fn seed_input(yaml: &[u8]) -> Value {
    let v = plaza_manifest::load("micro-app.yaml", yaml);
    assert!(v.is_valid(), "{:?}", v.diagnostics);
    serde_json::to_value(v.manifest.unwrap()).unwrap()
}

fn seed_yaml() -> Vec<u8> {
    std::fs::read(fixtures().join("seed-micro-app.yaml")).unwrap()
}

fn messages(set: &PolicySet, input: &Value) -> Vec<(Severity, String)> {
    set.evaluate(input, &Value::Null)
        .unwrap()
        .findings
        .into_iter()
        .map(|f| (f.severity, f.message))
        .collect()
}

// ---------------------------------------------------------------- bundle fixtures

#[test]
fn bundle_fixtures() {
    let bless = std::env::var_os("PLAZA_BLESS").is_some();
    let root = fixtures().join("bundle");
    let mut failures = Vec::new();
    let mut cases = 0;
    for id in bundle::RULE_IDS {
        let dir = root.join(id);
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no fixtures for {id}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
            .collect();
        names.sort();
        let stem = |p: &Path| p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            names.iter().any(|p| stem(p).starts_with("pass-")),
            "{id}: no pass case"
        );
        assert!(
            names.iter().any(|p| stem(p).starts_with("fail-")),
            "{id}: no fail case"
        );
        for case in names {
            cases += 1;
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
            let data = doc.get("data").cloned().unwrap_or(Value::Null);
            let eval = builtin().evaluate(&doc["input"], &data).unwrap();
            let mine: Vec<_> = eval.findings.iter().filter(|f| f.rule_id == *id).collect();
            let name = stem(&case);
            if name.starts_with("pass-") && !mine.is_empty() {
                failures.push(format!("{name} ({id}): expected no finding, got {mine:#?}"));
            }
            if name.starts_with("fail-") && mine.is_empty() {
                failures.push(format!("{name} ({id}): expected findings, got none"));
            }
            let actual = serde_json::to_string_pretty(&mine).unwrap() + "\n";
            let expected_path = case.with_file_name(format!("{name}.expected.json"));
            if bless {
                std::fs::write(&expected_path, &actual).unwrap();
            } else {
                let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
                if expected != actual {
                    failures.push(format!(
                        "{} differs (PLAZA_BLESS=1 to rewrite):\n--- expected\n{expected}\n--- actual\n{actual}",
                        expected_path.display()
                    ));
                }
            }
        }
    }
    assert!(cases >= 2 * bundle::RULE_IDS.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every bundle fixture gives the same findings on regorus's VM (the default) as on its
/// interpreter, so the faster path changes no result.
#[test]
fn vm_and_interpreter_agree_on_every_bundle_fixture() {
    assert!(builtin().runs_on_vm());
    let interpreter = PolicySet::builder().vm(false).build().unwrap();
    assert!(!interpreter.runs_on_vm());
    let mut cases = 0;
    for id in bundle::RULE_IDS {
        for entry in std::fs::read_dir(fixtures().join("bundle").join(id)).unwrap() {
            let case = entry.unwrap().path();
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
            let data = doc.get("data").cloned().unwrap_or(Value::Null);
            let on_vm = builtin().evaluate(&doc["input"], &data).unwrap().findings;
            let on_interpreter = interpreter.evaluate(&doc["input"], &data).unwrap().findings;
            assert_eq!(on_vm, on_interpreter, "{}", case.display());
            cases += 1;
        }
    }
    let seed = seed_input(&seed_yaml());
    assert_eq!(
        builtin().evaluate(&seed, &Value::Null).unwrap().findings,
        interpreter.evaluate(&seed, &Value::Null).unwrap().findings
    );
    assert!(cases >= 2 * bundle::RULE_IDS.len());
}

/// The VM's instruction count is a limit like the others: a clear error, not a wrong result.
#[test]
fn vm_instruction_limit_is_a_clear_error() {
    let set = PolicySet::builder()
        .limits(Limits {
            max_instructions: 10,
            ..Limits::default()
        })
        .build()
        .unwrap();
    assert!(set.runs_on_vm());
    let err = set
        .evaluate(&seed_input(&seed_yaml()), &Value::Null)
        .unwrap_err();
    assert!(
        matches!(err, PolicyError::LimitExceeded { limit: 10, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("VM instructions"), "{err}");
}

/// A set with org or local files runs on the interpreter: the VM serves the bundle alone.
#[test]
fn sets_with_own_files_run_on_the_interpreter() {
    let src = "package acme.r\n\nimport rego.v1\n\ndeny contains \"x\" if count(numbers.range(1, 3)) == 3\n";
    let set = PolicySet::with_files([("r.rego", src)]).unwrap();
    assert!(!set.runs_on_vm());
    assert!(messages(&set, &json!({})).contains(&(Severity::Deny, "x".to_owned())));
}

#[test]
fn fixture_base_is_the_normalised_seed_manifest() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            fixtures().join("bundle/plaza.scopes.no-wildcard/pass-specific-scopes.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut input = doc["input"].clone();
    input.as_object_mut().unwrap().remove("license");
    assert_eq!(input, seed_input(&seed_yaml()));
}

#[test]
fn seed_manifest_against_the_bundle() {
    let eval = builtin()
        .evaluate(&seed_input(&seed_yaml()), &Value::Null)
        .unwrap();
    let got: Vec<_> = eval
        .findings
        .iter()
        .map(|f| (f.severity, f.rule_id.as_str()))
        .collect();
    // The seed manifest declares no license: the only finding is that warning.
    assert_eq!(got, vec![(Severity::Warn, "plaza.license.allowed")]);
    assert!(!eval.is_denied());
}

#[test]
fn bundle_findings_carry_metadata_and_source() {
    let mut input = seed_input(&seed_yaml());
    input["permissions"][0]["scopes"] = json!(["admin:*"]);
    let eval = builtin().evaluate(&input, &Value::Null).unwrap();
    let f = eval
        .findings
        .iter()
        .find(|f| f.rule_id == "plaza.scopes.no-wildcard")
        .unwrap();
    assert_eq!(f.severity, Severity::Deny);
    assert_eq!(
        f.message,
        "permission \"user_calendar\" asks for the wildcard scope \"admin:*\""
    );
    assert_eq!(f.title.as_deref(), Some("No wildcard scopes"));
    assert!(f
        .remediation
        .as_deref()
        .unwrap()
        .starts_with("Replace the wildcard"));
    assert!(matches!(&f.source, PolicySource::Builtin { file, .. } if file == "scopes.rego"));
}

#[test]
fn absent_facts_never_fire() {
    let input = seed_input(&seed_yaml());
    assert!(input.get("facts").is_none());
    let eval = builtin().evaluate(&input, &Value::Null).unwrap();
    assert!(!eval
        .findings
        .iter()
        .any(|f| f.rule_id.starts_with("plaza.vulnerabilities")));
}

// ---------------------------------------------------------------- the seed policy

#[test]
fn seed_policy_copy_is_byte_identical() {
    let shared = Path::new("/work/shared/seed/examples/manifest-policy.rego");
    let copy = std::fs::read(fixtures().join("seed-manifest-policy.rego")).unwrap();
    if let Ok(original) = std::fs::read(shared) {
        assert_eq!(
            original, copy,
            "tests/fixtures copy differs from the shared seed"
        );
    }
}

fn seed_policy_set() -> PolicySet {
    let shared = Path::new("/work/shared/seed/examples/manifest-policy.rego");
    let path = if shared.exists() {
        shared.to_path_buf()
    } else {
        fixtures().join("seed-manifest-policy.rego")
    };
    let src = std::fs::read_to_string(&path).unwrap();
    let set = only(&[(path.to_str().unwrap(), &src)]).unwrap();
    assert_eq!(set.files().next().unwrap().syntax, Syntax::V0);
    set
}

#[test]
fn seed_policy_passes_the_seed_manifest() {
    let set = seed_policy_set();
    assert_eq!(messages(&set, &seed_input(&seed_yaml())), vec![]);
}

#[test]
fn seed_policy_denies_admin_star() {
    let set = seed_policy_set();
    let yaml = String::from_utf8(seed_yaml())
        .unwrap()
        .replace("- calendar.read", "- admin:*");
    let eval = set
        .evaluate(&seed_input(yaml.as_bytes()), &Value::Null)
        .unwrap();
    assert_eq!(eval.findings.len(), 1);
    let f = &eval.findings[0];
    assert_eq!(f.severity, Severity::Deny);
    assert_eq!(
        f.message,
        "admin:* scope is forbidden in marketplace manifests"
    );
    assert_eq!(f.rule_id, "marketplace.manifest.deny");
    assert_eq!(f.package, "marketplace.manifest");
    // Attributed to the first deny body (line 4), not the SBOM one.
    assert!(
        matches!(&f.source, PolicySource::File { line: 4, .. }),
        "{:?}",
        f.source
    );
}

#[test]
fn seed_policy_requires_an_sbom() {
    let set = seed_policy_set();
    let yaml: String = String::from_utf8(seed_yaml())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("sbom:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let eval = set
        .evaluate(&seed_input(yaml.as_bytes()), &Value::Null)
        .unwrap();
    assert_eq!(eval.findings.len(), 1);
    assert_eq!(eval.findings[0].message, "SBOM required");
    assert!(matches!(
        &eval.findings[0].source,
        PolicySource::File { line: 12, .. }
    ));
}

#[test]
fn seed_policy_alongside_the_bundle() {
    let src = std::fs::read_to_string(fixtures().join("seed-manifest-policy.rego")).unwrap();
    let set = PolicySet::with_files([("org/manifest-policy.rego", src)]).unwrap();
    let mut input = seed_input(&seed_yaml());
    input.as_object_mut().unwrap().remove("sbom");
    let eval = set.evaluate(&input, &Value::Null).unwrap();
    let ids: Vec<_> = eval
        .with_severity(Severity::Deny)
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(
        ids,
        vec!["marketplace.manifest.deny", "plaza.sbom.required"]
    );
}

// ---------------------------------------------------------------- syntax versions

const V0: &str = r#"package acme.same

import future.keywords.in

deny[msg] {
	some p in input.permissions
	some s in p.scopes
	startswith(s, "admin")
	msg := {"msg": sprintf("%s asks for %s", [p.name, s]), "rule": "acme.no-admin", "remediation": "drop it"}
}

warn[msg] {
	not input.description
	msg := "no description"
}
"#;

const V1: &str = r#"package acme.same

deny contains msg if {
	some p in input.permissions
	some s in p.scopes
	startswith(s, "admin")
	msg := {"msg": sprintf("%s asks for %s", [p.name, s]), "rule": "acme.no-admin", "remediation": "drop it"}
}

warn contains "no description" if not input.description
"#;

#[test]
fn v0_and_v1_give_the_same_findings() {
    let input = json!({"permissions": [{"name": "p", "scopes": ["admin.read", "admin.write"]}]});
    let strip = |set: &PolicySet| -> Vec<Value> {
        set.evaluate(&input, &Value::Null)
            .unwrap()
            .findings
            .into_iter()
            .map(|f| {
                assert_eq!(
                    f.remediation
                        .as_deref()
                        .filter(|_| f.severity == Severity::Deny)
                        .is_some(),
                    f.severity == Severity::Deny
                );
                json!([f.severity, f.rule_id, f.message, f.remediation])
            })
            .collect()
    };
    let v0 = only(&[("v0.rego", V0)]).unwrap();
    let v1 = only(&[("v1.rego", V1)]).unwrap();
    assert_eq!(v0.files().next().unwrap().syntax, Syntax::V0);
    assert_eq!(v1.files().next().unwrap().syntax, Syntax::V1);
    let a = strip(&v0);
    assert_eq!(a, strip(&v1));
    assert_eq!(
        a,
        vec![
            json!(["deny", "acme.no-admin", "p asks for admin.read", "drop it"]),
            json!(["deny", "acme.no-admin", "p asks for admin.write", "drop it"]),
            json!(["warn", "acme.same.warn", "no description", null]),
        ]
    );
}

#[test]
fn import_rego_v1_and_violation_alias() {
    let src = "package acme.v\n\nimport rego.v1\n\nviolation contains {\"msg\": \"bad\", \"rule\": \"acme.bad\"} if input.bad\n\ninfo contains \"note\" if true\n";
    let set = only(&[("v.rego", src)]).unwrap();
    let f = set
        .evaluate(&json!({"bad": true}), &Value::Null)
        .unwrap()
        .findings;
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0].severity, f[0].rule_id.as_str()),
        (Severity::Deny, "acme.bad")
    );
    assert_eq!(
        (f[1].severity, f[1].message.as_str()),
        (Severity::Info, "note")
    );
}

#[test]
fn metadata_annotations_attach_to_their_rule() {
    let src = r#"package acme.meta

import rego.v1

# METADATA
# title: Contact required
# description: Owners must be reachable.
# custom:
#   id: acme.contact
#   remediation: Add contact.email.
deny contains "no contact e-mail" if not input.contact.email

# METADATA
# title: Maintainers
# custom:
#   remediation: Add a maintainer.
deny contains msg if {
	count(object.get(input, "maintainers", [])) == 0
	msg := sprintf("%s has no maintainer", [input.id])
}
"#;
    let set = only(&[("meta.rego", src)]).unwrap();
    let f = set
        .evaluate(&json!({"id": "a.b"}), &Value::Null)
        .unwrap()
        .findings;
    assert_eq!(f.len(), 2, "{f:#?}");
    let contact = f.iter().find(|f| f.rule_id == "acme.contact").unwrap();
    assert_eq!(contact.title.as_deref(), Some("Contact required"));
    assert_eq!(contact.remediation.as_deref(), Some("Add contact.email."));
    assert!(matches!(
        &contact.source,
        PolicySource::File { line: 11, .. }
    ));
    let maint = f
        .iter()
        .find(|f| f.message == "a.b has no maintainer")
        .unwrap();
    assert_eq!(maint.rule_id, "acme.meta.deny");
    assert_eq!(maint.title.as_deref(), Some("Maintainers"));
    assert_eq!(maint.remediation.as_deref(), Some("Add a maintainer."));
    assert!(matches!(&maint.source, PolicySource::File { line: 17, .. }));
}

// ---------------------------------------------------------------- bad policies

#[test]
fn syntax_error_has_a_location_and_hint() {
    let src = "package acme.bad\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \"x\" +\n}\n";
    let err = only(&[("org/bad.rego", src)]).unwrap_err();
    let PolicyError::Syntax {
        position,
        message,
        hint,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(position.file, "org/bad.rego");
    assert_eq!((position.line, position.column), (6, 9), "{err}");
    assert!(position.column >= 1);
    assert!(!message.is_empty() && hint.contains("Rego v1"), "{err}");
    assert!(err.to_string().starts_with("org/bad.rego:6:9: "), "{err}");
}

#[test]
fn v0_syntax_error_points_into_the_file() {
    let src = "package acme.bad\n\ndeny[msg] {\n  msg = \"x\"\n";
    let err = only(&[("bad0.rego", src)]).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Syntax { position, .. } if position.file == "bad0.rego"),
        "{err:?}"
    );
}

#[test]
fn undefined_function_is_a_clear_error() {
    let src = "package acme.undef\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := no_such.helper(input.id)\n}\n";
    let err = only(&[("undef.rego", src)])
        .and_then(|set| set.evaluate(&json!({"id": "x"}), &Value::Null))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no_such.helper"), "{text}");
    assert!(text.contains("undef.rego:6:"), "{text}");
}

#[test]
fn ill_shaped_results_are_errors() {
    let set = only(&[(
        "shape.rego",
        "package acme.shape\n\nimport rego.v1\n\ndeny := 5\n",
    )])
    .unwrap();
    let err = set.evaluate(&json!({}), &Value::Null).unwrap_err();
    let PolicyError::IllShaped {
        rule,
        file,
        line,
        got,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (rule.as_str(), file.as_str(), *line),
        ("data.acme.shape.deny", "shape.rego", 5)
    );
    assert_eq!(got, "a number (5)");
    let set = only(&[(
        "shape2.rego",
        "package acme.shape2\n\nimport rego.v1\n\nwarn contains {\"message\": \"x\"} if true\n",
    )])
    .unwrap();
    assert!(matches!(
        set.evaluate(&json!({}), &Value::Null),
        Err(PolicyError::IllShaped { .. })
    ));
}

#[test]
fn runaway_range_is_refused_quickly() {
    let src = "package acme.loop\n\nimport rego.v1\n\ndeny contains \"big\" if {\n\tcount([x | some x in numbers.range(1, 100000000)]) > 0\n}\n";
    let set = only(&[("loop.rego", src)]).unwrap();
    let start = Instant::now();
    let err = set.evaluate(&json!({}), &Value::Null).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("exceeds Plaza's limit"), "{err}");
}

#[test]
fn runaway_comprehension_times_out() {
    let src = "package acme.loop2\n\nimport rego.v1\n\ndeny contains \"big\" if {\n\tn := count([x | some a in numbers.range(1, 50000); some b in numbers.range(1, 50000); x := a * b])\n\tn > 0\n}\n";
    let limits = Limits {
        time: Duration::from_millis(300),
        ..Limits::default()
    };
    let set = PolicySet::builder()
        .builtin(false)
        .limits(limits)
        .file("loop2.rego", src)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = set.evaluate(&json!({}), &Value::Null).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, PolicyError::Timeout { .. }), "{err:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(err.to_string().contains("time limit"));
}

#[test]
fn recursion_is_a_clear_error() {
    let src =
        "package acme.rec\n\nimport rego.v1\n\na if b\n\nb if a\n\ndeny contains \"x\" if a\n";
    let start = Instant::now();
    let err = only(&[("rec.rego", src)])
        .and_then(|set| set.evaluate(&json!({}), &Value::Null))
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(3));
    eprintln!("recursion: {err}");
    assert!(
        matches!(err, PolicyError::Compile { .. } | PolicyError::Eval { .. }),
        "{err:?}"
    );
}

#[test]
fn ten_thousand_rules_load_and_evaluate_in_bounded_time() {
    let mut src = String::from("package acme.big\n\nimport rego.v1\n\n");
    for i in 0..10_000 {
        src.push_str(&format!(
            "deny contains \"rule {i} fired\" if input.n == {i}\n"
        ));
    }
    let start = Instant::now();
    let set = PolicySet::builder()
        .builtin(false)
        .file("big.rego", src)
        .build()
        .unwrap();
    let loaded = start.elapsed();
    let start = Instant::now();
    let eval = set.evaluate(&json!({"n": 4242}), &Value::Null).unwrap();
    let evaluated = start.elapsed();
    assert_eq!(eval.findings.len(), 1);
    assert_eq!(eval.findings[0].message, "rule 4242 fired");
    assert!(matches!(
        &eval.findings[0].source,
        PolicySource::File { line: 4247, .. }
    ));
    assert!(loaded < Duration::from_secs(30), "load {loaded:?}");
    assert!(evaluated < Duration::from_secs(10), "eval {evaluated:?}");
    eprintln!("10,000 rules: load {loaded:?}, evaluate {evaluated:?}");
}

#[test]
fn data_must_be_an_object() {
    let err = builtin().evaluate(&json!({}), &json!([1])).unwrap_err();
    assert!(matches!(
        err,
        PolicyError::InvalidDocument { what: "data", .. }
    ));
}

// ---------------------------------------------------------------- unit tests runner

#[test]
fn run_tests_reports_pass_fail_and_location() {
    let set = PolicySet::from_dir(&fixtures().join("suite")).unwrap();
    let results = set.run_tests();
    let got: Vec<_> = results
        .iter()
        .map(|r| (r.package.as_str(), r.name.as_str(), r.outcome.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "acme.legacy_test",
                "test_v0_syntax_test_passes",
                TestOutcome::Pass
            ),
            (
                "acme.scopes_test",
                "test_admin_scope_denied",
                TestOutcome::Pass
            ),
            (
                "acme.scopes_test",
                "test_bundle_sees_default_settings",
                TestOutcome::Pass
            ),
            (
                "acme.scopes_test",
                "test_calendar_scope_allowed",
                TestOutcome::Pass
            ),
            (
                "acme.scopes_test",
                "test_fails_on_purpose",
                TestOutcome::Fail
            ),
        ]
    );
    let failing = results.iter().find(|r| !r.passed()).unwrap();
    assert!(failing.file.ends_with("suite/scopes_test.rego"));
    assert_eq!(failing.line, 19);
}

#[test]
fn run_tests_reports_errors() {
    let src = "package acme.err_test\n\nimport rego.v1\n\ntest_errors if {\n\tx := to_number(\"abc\")\n\tx > 1\n}\n";
    let results = only(&[("err_test.rego", src)]).unwrap().run_tests();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(
            results[0].outcome,
            TestOutcome::Error(_) | TestOutcome::Fail
        ),
        "{results:?}"
    );
}

// ---------------------------------------------------------------- docs/policy.md

/// docs/policy.md documents every rule and carries the current Facts schema and defaults
/// (between markers; `PLAZA_BLESS=1` rewrites them).
#[test]
fn docs_policy_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy.md");
    let mut doc = std::fs::read_to_string(&path).expect("docs/policy.md exists");
    let sections = [
        (
            "facts-schema",
            format!(
                "```json\n{}\n```\n",
                serde_json::to_string_pretty(&plaza_policy::facts_schema()).unwrap()
            ),
        ),
        (
            "defaults",
            format!("```json\n{}```\n", bundle::DEFAULTS_JSON),
        ),
    ];
    for (name, body) in &sections {
        let begin = format!("<!-- {name}:begin -->\n");
        let end = format!("<!-- {name}:end -->");
        let b = doc.find(&begin).unwrap_or_else(|| panic!("no {begin}")) + begin.len();
        let e = doc[b..].find(&end).unwrap_or_else(|| panic!("no {end}")) + b;
        if std::env::var_os("PLAZA_BLESS").is_some() {
            doc.replace_range(b..e, body);
        } else {
            assert_eq!(
                &doc[b..e],
                body,
                "docs/policy.md {name} is stale (PLAZA_BLESS=1)"
            );
        }
    }
    if std::env::var_os("PLAZA_BLESS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    for id in bundle::RULE_IDS {
        assert!(
            doc.contains(&format!("### `{id}`")),
            "docs/policy.md has no section for {id}"
        );
    }
}

#[test]
fn an_org_can_switch_off_a_builtin_rule_but_not_its_own() {
    let seed = plaza_manifest::load("m.yaml", include_bytes!("fixtures/seed-micro-app.yaml"))
        .manifest
        .unwrap();
    let input = serde_json::to_value(seed).unwrap();
    let own = "package acme\n\nimport rego.v1\n\nwarn contains {\"rule\": \"plaza.license.allowed\", \"msg\": \"ours\"} if true\n";
    let set = PolicySet::builder()
        .builtin(true)
        .file("acme.rego", own)
        .build()
        .unwrap();
    let ids = |data: serde_json::Value| -> Vec<(String, String)> {
        set.evaluate(&input, &data)
            .unwrap()
            .findings
            .into_iter()
            .map(|f| (f.rule_id, f.message))
            .collect()
    };
    let before = ids(serde_json::Value::Null);
    assert_eq!(
        before
            .iter()
            .filter(|(id, _)| id == "plaza.license.allowed")
            .count(),
        2,
        "{before:?}"
    );
    let off = serde_json::json!({"plaza": {"org": {"disabled_rules": ["plaza.license.allowed"]}}});
    assert_eq!(
        ids(off),
        [("plaza.license.allowed".to_owned(), "ours".to_owned())]
    );
}
