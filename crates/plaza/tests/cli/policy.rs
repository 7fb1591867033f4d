//! `plaza validate` with policies (text and SARIF), `plaza policy test` and `plaza policy eval`.

use crate::support::{run, text, SEED_MANIFEST};

const SEED_POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed/examples/manifest-policy.rego"
);
const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../plaza-policy/tests/fixtures/suite"
);

fn admin_star(dir: &std::path::Path) {
    let m = std::fs::read_to_string(SEED_MANIFEST)
        .unwrap()
        .replace("      - calendar.read\n", "      - admin:*\n");
    std::fs::write(dir.join("micro-app.yaml"), m).unwrap();
}

#[test]
fn the_seed_manifest_passes_the_bundle_and_the_seed_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(SEED_MANIFEST, dir.path().join("micro-app.yaml")).unwrap();
    let out = run(
        &[
            "validate",
            "--manifest",
            "micro-app.yaml",
            "--policy",
            SEED_POLICY,
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("0 deny"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_wildcard_scope_is_denied_at_its_line_by_the_bundle_and_the_seed_policy() {
    let dir = tempfile::tempdir().unwrap();
    admin_star(dir.path());
    let out = run(
        &[
            "validate",
            "--manifest",
            "micro-app.yaml",
            "--policy",
            SEED_POLICY,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("micro-app.yaml:11:9: deny[plaza.scopes.no-wildcard]"),
        "{err}"
    );
    assert!(
        err.contains(
            "deny[marketplace.manifest.deny]: admin:* scope is forbidden in marketplace manifests"
        ),
        "{err}"
    );
    // Schema-only checking does not run policies.
    let out = run(
        &["validate", "--manifest", "micro-app.yaml", "--no-policy"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn sarif_results_carry_rule_ids_and_manifest_positions() {
    let dir = tempfile::tempdir().unwrap();
    admin_star(dir.path());
    let out = run(
        &[
            "validate",
            "--manifest",
            "micro-app.yaml",
            "--format",
            "sarif",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let wildcard = results
        .iter()
        .find(|r| r["ruleId"] == "plaza.scopes.no-wildcard")
        .unwrap();
    assert_eq!(wildcard["level"], "error");
    let region = &wildcard["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(11), Some(9))
    );
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "missing-recommended-field" && r["level"] == "warning"));
}

#[test]
fn policy_test_reports_each_test_and_fails_on_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["policy", "test", SUITE], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.contains("PASS acme.scopes_test.test_admin_scope_denied"),
        "{o}"
    );
    assert!(
        o.contains("FAIL acme.scopes_test.test_fails_on_purpose"),
        "{o}"
    );
    assert!(o.contains("4 passed, 1 failed"), "{o}");
    // A suite without the failing test passes.
    let only = dir.path().join("ok");
    std::fs::create_dir(&only).unwrap();
    std::fs::copy(
        format!("{SUITE}/legacy_test.rego"),
        only.join("legacy_test.rego"),
    )
    .unwrap();
    let out = run(&["policy", "test", only.to_str().unwrap()], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn policy_eval_shows_every_finding_for_a_manifest_or_an_input_document() {
    let dir = tempfile::tempdir().unwrap();
    admin_star(dir.path());
    let out = run(
        &[
            "policy",
            "eval",
            "--input",
            "micro-app.yaml",
            "--policy",
            SEED_POLICY,
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let ev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = ev["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ruleId"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"plaza.scopes.no-wildcard") && rules.contains(&"marketplace.manifest.deny"),
        "{rules:?}"
    );
    // A raw input document, judged under default and then relaxed org settings.
    std::fs::write(dir.path().join("input.json"), r#"{"id":"com.example.x","runtime":"wasm","runtimeVersion":"wasi-1.0","permissions":[],"sbom":"s3://b/s.json","license":"MIT","contact":{"email":"a@b.example"},"maintainers":["github:x"],"visibility":"org","resources":{"memory":"64Mi","cpu":"100m","timeoutMs":1000},"egress":[]}"#).unwrap();
    let out = run(&["policy", "eval", "--input", "input.json"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "no provenance is below the default SLSA level 1"
    );
    assert!(
        text(&out.stdout).contains("deny[plaza.provenance.min-level]"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(dir.path().join("settings.json"), r#"{"slsa_min_level": 0}"#).unwrap();
    let out = run(
        &[
            "policy",
            "eval",
            "--input",
            "input.json",
            "--settings",
            "settings.json",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("0 finding(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_broken_local_policy_is_a_usage_error_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(SEED_MANIFEST, dir.path().join("micro-app.yaml")).unwrap();
    std::fs::write(
        dir.path().join("bad.rego"),
        "package acme\n\ndeny[msg] {\n  msg := \n}\n",
    )
    .unwrap();
    let out = run(
        &[
            "validate",
            "--manifest",
            "micro-app.yaml",
            "--policy",
            "bad.rego",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.rego:"),
        "{}",
        text(&out.stderr)
    );
}
