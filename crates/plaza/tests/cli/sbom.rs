//! `plaza sbom`.

use crate::support::{run, text};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_hello_app_gets_its_own_dependencies_from_the_shared_lock() {
    let out = run(&["sbom", "examples/apps/hello"], &repo());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(
        bom["metadata"]["component"]["purl"],
        "pkg:cargo/hello@0.1.0"
    );
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(
        purls.contains(&"pkg:cargo/wasi@0.14.7%2Bwasi-0.2.4"),
        "{purls:?}"
    );
    // The lock is shared with where2eat and the test guests: none of theirs is listed.
    let names: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"plaza-guest"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("test-") || *n == "where2eat"),
        "{names:?}"
    );
    // Written to a file, the bytes are the committed SBOM's.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    let out = run(
        &["sbom", "examples/apps/hello", "-o", file.to_str().unwrap()],
        &repo(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(repo().join("examples/apps/hello/sbom.cdx.json")).unwrap()
    );
}

#[test]
fn a_broken_lock_exits_1_with_its_location_and_a_missing_folder_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    // Cargo.lock one folder up, as for a workspace member.
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"1.0.0\"\ndependencies = [\n \"util\"\n \"itoa\",\n]\n",
    )
    .unwrap();
    let out = run(&["sbom", "app"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Cargo.lock:8:2: invalid array"), "{err}");
    assert!(err.contains("cargo generate-lockfile"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(&["sbom", "nowhere"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nowhere"));
}
