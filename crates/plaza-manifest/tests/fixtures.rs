//! Data-driven manifest tests.
//!
//! - `fixtures/valid/NAME.{yaml,yml,json}` must validate; the normalised manifest must equal
//!   `NAME.expected.json`.
//! - `fixtures/warnings/NAME.*` must validate with diagnostics; the rendered text must equal
//!   `NAME.expected`.
//! - `fixtures/invalid/NAME.*` must not validate; the rendered text must equal `NAME.expected`.
//! - Generated cases (too big to commit) are built in code; their expected output lives in
//!   `fixtures/invalid/generated-*.expected`.
//!
//! `PLAZA_BLESS=1 cargo test -p plaza-manifest` rewrites every expected file (and
//! `docs/manifest.schema.json`). Review the changes by eye before committing them.

use std::fs;
use std::path::{Path, PathBuf};

use plaza_manifest::{json_schema, load, render_text, Code};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Inputs of a fixture directory, sorted: every file that is not an expected output.
fn inputs(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(crate_dir().join("tests/fixtures").join(dir))
        .unwrap_or_else(|e| panic!("reading fixtures/{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            !name.contains(".expected") && !name.starts_with('.')
        })
        .collect();
    out.sort();
    let mut stems: Vec<String> = out
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    stems.dedup();
    assert_eq!(
        stems.len(),
        out.len(),
        "fixtures/{dir}: two inputs share a file stem"
    );
    out
}

fn expected_path(input: &Path, suffix: &str) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name.rsplit_once('.').map_or(&*name, |(s, _)| s);
    input.with_file_name(format!("{stem}{suffix}"))
}

/// A small line diff (longest common subsequence) for readable failures.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", a[i]);
            i += 1;
        }
    }
    out
}

/// Compares `actual` with the file at `path` (or writes it when blessing). Returns a failure
/// description instead of panicking, so that one run reports every mismatch.
fn check_file(path: &Path, actual: &str) -> Option<String> {
    if blessing() {
        fs::write(path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{} differs (- expected, + actual; PLAZA_BLESS=1 to update):\n{}",
            path.display(),
            diff(&expected, actual)
        )
    })
}

fn finish(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn valid_fixtures() {
    let mut failures = Vec::new();
    let files = inputs("valid");
    assert!(files.len() >= 5, "expected valid fixtures");
    for input in files {
        let name = name_of(&input);
        let v = load(&name, &fs::read(&input).unwrap());
        if !v.is_valid() {
            failures.push(format!(
                "{name} should be valid:\n{}",
                render_text(&v.diagnostics)
            ));
            continue;
        }
        let manifest = v.manifest.expect("valid manifest");
        let json = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
        // The normalised form must read back as the same manifest.
        let back: plaza_manifest::Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, manifest, "{name}: serde round trip");
        failures.extend(check_file(&expected_path(&input, ".expected.json"), &json));
    }
    finish(failures);
}

#[test]
fn warning_fixtures() {
    let mut failures = Vec::new();
    for input in inputs("warnings") {
        let name = name_of(&input);
        let v = load(&name, &fs::read(&input).unwrap());
        let text = render_text(&v.diagnostics);
        if !v.is_valid() || v.diagnostics.is_empty() {
            failures.push(format!("{name} should be valid with warnings:\n{text}"));
        }
        failures.extend(check_file(&expected_path(&input, ".expected"), &text));
    }
    finish(failures);
}

#[test]
fn invalid_fixtures() {
    let mut failures = Vec::new();
    let files = inputs("invalid");
    assert!(files.len() >= 45, "only {} invalid fixtures", files.len());
    for input in files {
        let name = name_of(&input);
        let v = load(&name, &fs::read(&input).unwrap());
        let text = render_text(&v.diagnostics);
        if v.is_valid() || v.manifest.is_some() {
            failures.push(format!("{name} should be invalid:\n{text}"));
        }
        failures.extend(check_file(&expected_path(&input, ".expected"), &text));
    }
    finish(failures);
}

/// Inputs too large or too repetitive to commit.
fn generated() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let seed = fs::read(crate_dir().join("tests/fixtures/valid/seed-micro-app.yaml")).unwrap();
    // Just over 1 MiB: the seed followed by a long comment.
    let mut huge = seed.clone();
    huge.extend(b"# ");
    huge.resize(1024 * 1024 + 1, b'x');
    huge.push(b'\n');
    let mut deep = String::from("id: com.example.deep\nnested: ");
    deep.push_str(&"[".repeat(200));
    deep.push_str(&"]".repeat(200));
    deep.push('\n');
    let mut wide = String::from("{\"id\": \"com.example.wide\", \"tags\": [");
    wide.push_str(
        &(0..100)
            .map(|i| format!("\"t{i}\""))
            .collect::<Vec<_>>()
            .join(", "),
    );
    wide.push_str("]}");
    vec![
        ("generated-huge", "huge.yaml", huge),
        ("generated-deep", "deep.yaml", deep.into_bytes()),
        ("generated-wide", "wide.json", wide.into_bytes()),
    ]
}

#[test]
fn generated_fixtures() {
    let mut failures = Vec::new();
    for (stem, file, bytes) in generated() {
        let v = load(file, &bytes);
        assert!(!v.is_valid(), "{stem} should be invalid");
        let text = render_text(&v.diagnostics);
        let path = crate_dir().join(format!("tests/fixtures/invalid/{stem}.expected"));
        failures.extend(check_file(&path, &text));
    }
    finish(failures);
}

#[test]
fn seed_manifest_from_shared_folder() {
    let committed = fs::read(crate_dir().join("tests/fixtures/valid/seed-micro-app.yaml")).unwrap();
    let shared = crate_dir().join("../../../shared/seed/examples/micro-app.yaml");
    // The project's shared/ folder sits beside the repository (as in CI); the seed there is the
    // reference, so its absence is a failure, not a skip.
    let bytes = fs::read(&shared).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the seed examples must be checked as written",
            shared.display()
        )
    });
    assert_eq!(
        bytes,
        committed,
        "the committed seed copy differs from {}",
        shared.display()
    );
    let v = load("micro-app.yaml", &bytes);
    assert!(v.is_valid(), "{}", render_text(&v.diagnostics));
    let m = v.manifest.unwrap();
    assert_eq!(m.id, "com.example.where2eat");
    assert_eq!(m.version, "1.2.0");
    assert_eq!(m.manifest_version, "v1");
    assert_eq!(
        m.permissions[0].scopes,
        ["calendar.read", "calendar.events.create"]
    );
    assert_eq!(m.billing.unwrap().metrics[0].price_per_unit_cents, 1);
}

#[test]
fn docs_schema_is_fresh() {
    let path = crate_dir().join("../../docs/manifest.schema.json");
    let actual = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
    if let Some(f) = check_file(&path, &actual) {
        panic!("docs/manifest.schema.json is stale versus json_schema():\n{f}");
    }
}

#[test]
fn schema_has_title_and_description_on_every_field() {
    fn walk(v: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, p) in props {
                for key in ["title", "description"] {
                    if p.get(key)
                        .and_then(|t| t.as_str())
                        .is_none_or(str::is_empty)
                    {
                        missing.push(format!("{at}/{k}: {key}"));
                    }
                }
            }
        }
        if let Some(obj) = v.as_object() {
            for (k, child) in obj {
                walk(child, &format!("{at}/{k}"), missing);
            }
        }
    }
    let schema = json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$id"], plaza_manifest::SCHEMA_ID);
    let mut missing = Vec::new();
    walk(&schema, "", &mut missing);
    assert!(
        missing.is_empty(),
        "fields without title/description: {missing:#?}"
    );
}

#[test]
fn docs_cover_every_code_and_unit() {
    let doc = fs::read_to_string(crate_dir().join("../../docs/manifest.md")).unwrap();
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "docs/manifest.md lacks a row for `{code}`"
        );
    }
    for unit in plaza_manifest::units::UNITS {
        assert!(
            doc.contains(&format!("| `{}` |", unit.symbol)),
            "docs/manifest.md lacks unit `{}`",
            unit.symbol
        );
    }
    for c in <plaza_manifest::Category as plaza_manifest::Keyword>::ALL {
        assert!(
            doc.contains(&format!("`{}`", plaza_manifest::Keyword::as_str(*c))),
            "docs lack category {c}"
        );
    }
}

#[test]
fn every_code_is_exercised_by_a_fixture() {
    let mut all = String::new();
    for dir in ["invalid", "warnings"] {
        for e in fs::read_dir(crate_dir().join("tests/fixtures").join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with(".expected") {
                all += &fs::read_to_string(p).unwrap();
            }
        }
    }
    for code in Code::ALL {
        assert!(
            all.contains(&format!("[{code}]")),
            "no fixture produces `{code}`"
        );
    }
}

#[test]
fn template_manifests_validate() {
    use plaza_manifest::template::{files, Template};
    for t in Template::ALL {
        let files = files(*t, "com.example.starter", "Starter");
        let m = files.iter().find(|f| f.path == "micro-app.yaml").unwrap();
        let v = load("micro-app.yaml", m.contents.as_bytes());
        assert!(v.is_valid(), "{t}: {}", render_text(&v.diagnostics));
    }
}
