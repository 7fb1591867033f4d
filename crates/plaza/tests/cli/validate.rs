//! `plaza validate` and `plaza init`.

use crate::support::{run, text, SEED_MANIFEST};

#[test]
fn the_seed_manifest_validates_in_the_seed_ci_jobs_exact_form() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(SEED_MANIFEST, dir.path().join("micro-app.yaml")).unwrap();
    let out = run(&["validate", "--manifest", "micro-app.yaml"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("valid"));
    let out = run(&["validate", "micro-app.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_invalid_manifest_exits_1_with_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(SEED_MANIFEST)
        .unwrap()
        .replace("name: Where2Eat", "nmae: Where2Eat")
        .replace("version: 1.2.0", "version: one");
    std::fs::write(dir.path().join("micro-app.yaml"), broken).unwrap();
    let out = run(&["validate", "--manifest", "micro-app.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("micro-app.yaml:2:10"), "{err}");
    assert!(err.contains("micro-app.yaml:3:1"), "{err}");
    assert!(err.contains("did you mean"), "{err}");

    let out = run(
        &[
            "validate",
            "--manifest",
            "micro-app.yaml",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(report["diagnostics"].as_array().unwrap().len() >= 2);
    assert!(report["diagnostics"][0]["location"]["line"].is_number());
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["validate", "--manifest", "missing.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.yaml"));
    let out = run(&["validate"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["validate", "--format", "xml", "x.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_init_template_writes_an_app_whose_manifest_validates() {
    for template in ["wasm-http", "container", "function"] {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join(format!("hello-{template}"));
        let out = run(
            &["init", "--template", template, app.to_str().unwrap()],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let out = run(&["validate", "--manifest", "micro-app.yaml"], &app);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{template}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        // A second init into the same folder refuses to overwrite.
        let out = run(
            &["init", "--template", template, app.to_str().unwrap()],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["init", "--template", "cobol", "x"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("wasm-http"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_wasm_http_template_builds_into_a_webassembly_component() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("hello");
    let out = run(
        &["init", "--template", "wasm-http", app.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A target dir that outlives the test, so reruns reuse the compiled wasi bindings.
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("template-wasm-http");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the template does not build (is the target installed? `rustup target add wasm32-wasip2`):\n{}",
        text(&out.stderr)
    );
    let wasm = std::fs::read(target.join("wasm32-wasip2/release/hello.wasm")).unwrap();
    // A component, not a core module: magic, then version 0x0d and layer 1.
    assert_eq!(
        &wasm[..8],
        b"\0asm\x0d\x00\x01\x00",
        "not a WebAssembly component"
    );
}
