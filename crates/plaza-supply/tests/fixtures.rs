//! Data-driven SBOM tests, and the committed example SBOMs kept in step with the generator.
//!
//! - `fixtures/cargo/CASE/Cargo.lock` with `CASE/root.toml` (the app's `[package]`) must give
//!   `CASE/expected.cdx.json` (pretty JSON, as `plaza sbom` writes it), or, when generation
//!   fails, the error text in `CASE/expected.error`.
//! - `examples/apps/{hello,where2eat}/sbom.cdx.json` must be exactly what the generator writes
//!   today from `examples/apps/Cargo.lock`.
//!
//! `PLAZA_BLESS=1 cargo test -p plaza-supply` rewrites the expected files and the example SBOMs.
//! Review the changes by eye before committing them.

use std::fs;
use std::path::{Path, PathBuf};

use plaza_supply::{cyclonedx_from_cargo_lock, root_info_from_cargo_toml};

mod sbom_parse;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// `plaza sbom`'s output for a lock and a member manifest (plus the workspace root's manifest).
fn generate(lock: &str, member: &str, workspace: Option<&str>) -> Result<String, String> {
    let root = root_info_from_cargo_toml(member, workspace).map_err(|e| e.to_string())?;
    let bom = cyclonedx_from_cargo_lock(lock, root).map_err(|e| e.to_string())?;
    Ok(serde_json::to_string_pretty(&bom).unwrap() + "\n")
}

/// Compares `actual` with the file at `path` (or writes it when blessing); a failure description
/// instead of a panic, so that one run reports every mismatch.
fn check_file(path: &Path, actual: &str) -> Option<String> {
    if blessing() {
        fs::write(path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then(|| {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        format!(
            "{} differs from the generator's output from line {} on (PLAZA_BLESS=1 to update):\n--- expected\n{}\n+++ actual\n{}",
            path.display(),
            first + 1,
            expected.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
            actual.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
        )
    })
}

#[test]
fn cargo_lock_fixtures() {
    let dir = crate_dir().join("tests/fixtures/cargo");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "fixture cases went missing: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let lock = fs::read_to_string(case.join("Cargo.lock")).unwrap();
        let member = fs::read_to_string(case.join("root.toml")).unwrap();
        let (ok, err) = (case.join("expected.cdx.json"), case.join("expected.error"));
        let outcome = match generate(&lock, &member, None) {
            Ok(json) => {
                if !blessing() && err.exists() {
                    failures.push(format!(
                        "{}: expected an error, got an SBOM",
                        case.display()
                    ));
                }
                check_file(&ok, &json)
            }
            Err(e) => {
                if !blessing() && ok.exists() {
                    failures.push(format!("{}: expected an SBOM, got: {e}", case.display()));
                }
                check_file(&err, &(e + "\n"))
            }
        };
        failures.extend(outcome);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_committed_example_sboms_are_what_the_generator_writes() {
    let apps = crate_dir().join("../../examples/apps");
    let lock = fs::read_to_string(apps.join("Cargo.lock")).unwrap();
    let workspace = fs::read_to_string(apps.join("Cargo.toml")).unwrap();
    let mut failures = Vec::new();
    for app in ["hello", "where2eat"] {
        let member = fs::read_to_string(apps.join(app).join("Cargo.toml")).unwrap();
        let json = generate(&lock, &member, Some(&workspace)).unwrap();
        failures.extend(check_file(&apps.join(app).join("sbom.cdx.json"), &json));
    }
    assert!(
        failures.is_empty(),
        "regenerate with `PLAZA_BLESS=1 cargo test -p plaza-supply` or scripts/build-example-apps\n{}",
        failures.join("\n")
    );
}

mod score;
mod secrets;
