//! SBOMs written by real tools parse with every component and purl kept.
//!
//! Each test runs a generator on a fixture under `fixtures/sbom-tools/` (a requirements file, a
//! tiny Cargo project, an npm package with its lock file), copied to a temporary directory, and
//! checks the parsed [`Sbom`] against an independent reading of the same JSON with
//! `serde_json::Value`: the number of components (nested ones included), the subject, the multiset
//! of purls, the number of hashes, and the dependency edges.
//!
//! The tools are installed by `scripts/ensure-sbom-tools` (CI runs it). Each is found as
//! `kubernetes_validate()` in plaza-deploy's tests finds its tool: an environment variable
//! (`PLAZA_CYCLONEDX_PY`, `PLAZA_CARGO_CYCLONEDX`, `PLAZA_CARGO_SBOM`, `PLAZA_CYCLONEDX_NPM`,
//! `PLAZA_NPM`), then the cache under `~/.cache/plaza/`, then `PATH`. A missing tool fails the
//! test: these tests never skip.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use plaza_supply::{parse_sbom, Sbom};
use serde_json::Value;

const INSTALL: &str = "scripts/ensure-sbom-tools";

fn home_cache(rel: &str) -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/plaza").join(rel))
}

/// The first candidate that runs `ARGS --version` successfully, or a panic naming the installer.
fn find_tool(name: &str, env: &str, cached: Option<PathBuf>, args: &[&str]) -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os(env) {
        candidates.push(p.into());
    }
    candidates.extend(cached);
    candidates.push(name.into());
    let mut tried = Vec::new();
    for c in candidates {
        match Command::new(&c).args(args).arg("--version").output() {
            Ok(o) if o.status.success() => return c,
            Ok(o) => tried.push(format!("{}: exit {}", c.display(), o.status)),
            Err(e) => tried.push(format!("{}: {e}", c.display())),
        }
    }
    panic!(
        "{name} is not installed (tried {}). Run `{INSTALL}` (CI runs it); this test never skips.",
        tried.join("; ")
    )
}

fn cyclonedx_py() -> PathBuf {
    let venv = std::env::var_os("PLAZA_TOOLS_VENV")
        .map(PathBuf::from)
        .or_else(|| home_cache("tools-venv"));
    find_tool(
        "cyclonedx-py",
        "PLAZA_CYCLONEDX_PY",
        venv.map(|v| v.join("bin/cyclonedx-py")),
        &[],
    )
}

fn cargo_tool(name: &str, env: &str, subcommand: &str) -> PathBuf {
    let root = std::env::var_os("PLAZA_CARGO_TOOLS")
        .map(PathBuf::from)
        .or_else(|| home_cache("cargo-tools"));
    find_tool(
        name,
        env,
        root.map(|r| r.join("bin").join(name)),
        &[subcommand],
    )
}

fn cyclonedx_npm() -> PathBuf {
    let root = std::env::var_os("PLAZA_NPM_TOOLS")
        .map(PathBuf::from)
        .or_else(|| home_cache("npm-tools"));
    find_tool(
        "cyclonedx-npm",
        "PLAZA_CYCLONEDX_NPM",
        root.map(|r| r.join("node_modules/.bin/cyclonedx-npm")),
        &[],
    )
}

fn npm() -> PathBuf {
    let npm = find_tool("npm", "PLAZA_NPM", None, &[]);
    let help = Command::new(&npm)
        .args(["sbom", "--help"])
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "this npm has no `npm sbom` (npm 9.5 and later have it); install npm 11"
    );
    npm
}

/// Runs a tool; its stdout, or a panic with everything it said.
fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A copy of `fixtures/sbom-tools/NAME` in a fresh temporary directory (tools write beside their
/// input, and the fixtures stay clean), as its subdirectory `plaza-sbom-fixture` (npm and
/// cargo-sbom name the root package after its directory). The directory and the copy's path.
fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("plaza-sbom-fixture");
    copy(
        &super::crate_dir()
            .join("tests/fixtures/sbom-tools")
            .join(name),
        &project,
    );
    (dir, project)
}

/// What the JSON holds, read without the parser.
#[derive(Debug, PartialEq, Eq)]
struct Reading {
    components: usize,
    subject: bool,
    purls: Vec<String>,
    hashes: usize,
    edges: BTreeSet<(String, String)>,
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn independent_cyclonedx(doc: &Value) -> Reading {
    fn walk<'v>(list: Option<&'v Value>, all: &mut Vec<&'v Value>) {
        for c in list.and_then(Value::as_array).into_iter().flatten() {
            all.push(c);
            walk(c.get("components"), all);
        }
    }
    let mut all = Vec::new();
    let subject = doc.pointer("/metadata/component");
    if let Some(s) = subject {
        all.push(s);
        walk(s.get("components"), &mut all);
    }
    walk(doc.get("components"), &mut all);
    let mut purls: Vec<String> = all
        .iter()
        .filter_map(|c| str_of(c, "purl").map(str::to_owned))
        .collect();
    purls.sort();
    let hashes = all
        .iter()
        .filter_map(|c| c["hashes"].as_array())
        .map(Vec::len)
        .sum();
    let mut edges = BTreeSet::new();
    for d in doc["dependencies"].as_array().into_iter().flatten() {
        for to in d["dependsOn"].as_array().into_iter().flatten() {
            edges.insert((
                d["ref"].as_str().unwrap().to_owned(),
                to.as_str().unwrap().to_owned(),
            ));
        }
    }
    Reading {
        components: all.len(),
        subject: subject.is_some(),
        purls,
        hashes,
        edges,
    }
}

fn independent_spdx(doc: &Value) -> Reading {
    let packages = doc["packages"].as_array().unwrap();
    let ids: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let mut purls: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            p["externalRefs"]
                .as_array()?
                .iter()
                .find(|r| r["referenceType"] == "purl")
                .and_then(|r| str_of(r, "referenceLocator"))
                .map(str::to_owned)
        })
        .collect();
    purls.sort();
    let mut edges = BTreeSet::new();
    let mut generated_from = Vec::new();
    let mut described = BTreeSet::new();
    for id in doc["documentDescribes"].as_array().into_iter().flatten() {
        described.insert(id.as_str().unwrap());
    }
    for r in doc["relationships"].as_array().into_iter().flatten() {
        let (a, kind, b) = (
            r["spdxElementId"].as_str().unwrap(),
            r["relationshipType"].as_str().unwrap(),
            r["relatedSpdxElement"].as_str().unwrap(),
        );
        if kind == "DESCRIBES" && a == "SPDXRef-DOCUMENT" {
            described.insert(b);
        }
        if kind == "GENERATED_FROM" && ids.contains(b) {
            generated_from.push((a, b));
        }
        if !(ids.contains(a) && ids.contains(b)) {
            continue;
        }
        if kind == "DEPENDS_ON" || kind == "CONTAINS" {
            edges.insert((a.to_owned(), b.to_owned()));
        } else if kind.ends_with("DEPENDENCY_OF") || kind == "CONTAINED_BY" {
            edges.insert((b.to_owned(), a.to_owned()));
        }
    }
    Reading {
        hashes: packages
            .iter()
            .filter_map(|p| p["checksums"].as_array())
            .map(Vec::len)
            .sum(),
        components: packages.len(),
        // One described package, or one described file generated from one package.
        subject: described.len() == 1
            && described.iter().all(|d| {
                ids.contains(d) || generated_from.iter().filter(|(f, _)| f == d).count() == 1
            }),
        purls,
        edges,
    }
}

fn reading_of(sbom: &Sbom) -> Reading {
    let mut purls: Vec<String> = sbom
        .all_components()
        .filter_map(|c| c.purl.clone())
        .collect();
    purls.sort();
    Reading {
        components: sbom.all_components().count(),
        subject: sbom.subject.is_some(),
        purls,
        hashes: sbom.all_components().map(|c| c.hashes.len()).sum(),
        edges: sbom
            .dependencies
            .iter()
            .flat_map(|(a, bs)| bs.iter().map(move |b| (a.clone(), b.clone())))
            .collect(),
    }
}

/// Parses a tool's output and checks it against the independent reading; at least
/// `min_components` components (the subject included) and every purl in `must_have`.
fn check(label: &str, bytes: &[u8], min_components: usize, must_have: &[&str]) -> Sbom {
    let sbom = parse_sbom(bytes, label).unwrap_or_else(|e| panic!("{label}: {e}"));
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    let expected = if doc.get("bomFormat").is_some() {
        independent_cyclonedx(&doc)
    } else {
        independent_spdx(&doc)
    };
    assert_eq!(reading_of(&sbom), expected, "{label}");
    assert!(
        expected.components >= min_components,
        "{label}: only {} components",
        expected.components
    );
    for purl in must_have {
        assert!(
            expected.purls.iter().any(|p| p == purl),
            "{label}: no {purl} in {:?}",
            expected.purls
        );
    }
    // The tools' quirks that the parser accepted, for the record (`--nocapture`).
    println!(
        "{label}: {} ({} components, {} purls, {} hashes, {} edges), {} warnings",
        sbom.format,
        expected.components,
        expected.purls.len(),
        expected.hashes,
        expected.edges.len(),
        sbom.warnings.len()
    );
    for w in sbom.warnings.iter().take(5) {
        println!("  {}: {}", w.pointer, w.message);
    }
    sbom
}

#[test]
fn cyclonedx_py_requirements_in_every_spec_version() {
    let tool = cyclonedx_py();
    let (_dir, project) = fixture_copy("python");
    for sv in ["1.4", "1.5", "1.6"] {
        let out = project.join(format!("bom-{sv}.json"));
        run(Command::new(&tool)
            .args(["requirements", "--of", "JSON", "--sv", sv, "-o"])
            .arg(&out)
            .arg(project.join("requirements.txt")));
        let sbom = check(
            &format!("cyclonedx-py requirements --sv {sv}"),
            &fs::read(&out).unwrap(),
            7,
            &["pkg:pypi/requests@2.32.3", "pkg:pypi/packaging"],
        );
        // The git requirement's purl keeps its percent-encoded qualifier exactly.
        assert!(
            sbom.components.iter().any(|c| c
                .purl
                .as_deref()
                .is_some_and(|p| p.contains("vcs_url=git%2Bhttps"))),
            "{sv}"
        );
    }
}

#[test]
fn cyclonedx_py_environment_of_the_tools_venv() {
    let tool = cyclonedx_py();
    let python = tool.with_file_name("python");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env.json");
    run(Command::new(&tool)
        .args(["environment", "--of", "JSON", "-o"])
        .arg(&out)
        .arg(&python));
    let sbom = check(
        "cyclonedx-py environment",
        &fs::read(&out).unwrap(),
        10,
        &[],
    );
    assert!(
        sbom.components.iter().any(|c| c.name == "cyclonedx-bom"),
        "the venv's own cyclonedx-bom is missing"
    );
    assert!(!sbom.dependencies.is_empty());
}

#[test]
fn cargo_cyclonedx_on_a_cargo_project() {
    let tool = cargo_tool("cargo-cyclonedx", "PLAZA_CARGO_CYCLONEDX", "cyclonedx");
    // cargo-cyclonedx writes 1.3 unless told otherwise; 1.3 is refused (see err-cdx-1.3).
    for sv in ["1.4", "1.5"] {
        let (_dir, project) = fixture_copy("cargo");
        run(Command::new(&tool)
            .args(["cyclonedx", "--format", "json", "--spec-version", sv])
            .current_dir(&project));
        let bytes = fs::read(project.join("plaza-sbom-fixture.cdx.json")).unwrap();
        let sbom = check(
            &format!("cargo-cyclonedx --spec-version {sv}"),
            &bytes,
            6,
            &["pkg:cargo/hex@0.4.3", "pkg:cargo/serde_json@1.0.154"],
        );
        assert_eq!(sbom.subject.as_ref().unwrap().name, "plaza-sbom-fixture");
    }
}

#[test]
fn cargo_sbom_in_each_output_format() {
    let tool = cargo_tool("cargo-sbom", "PLAZA_CARGO_SBOM", "sbom");
    let (_dir, project) = fixture_copy("cargo");
    for format in [
        "spdx_json_2_3",
        "cyclone_dx_json_1_4",
        "cyclone_dx_json_1_5",
        "cyclone_dx_json_1_6",
    ] {
        let bytes = run(Command::new(&tool)
            .args(["sbom", "--output-format", format, "--project-directory"])
            .arg(&project));
        let sbom = check(
            &format!("cargo-sbom {format}"),
            &bytes,
            10,
            &["pkg:cargo/hex@0.4.3", "pkg:cargo/itoa@1.0.19"],
        );
        assert_eq!(sbom.subject.as_ref().unwrap().name, "plaza-sbom-fixture");
    }
}

#[test]
fn npm_sbom_in_both_formats() {
    let npm = npm();
    let (_dir, project) = fixture_copy("npm");
    for format in ["cyclonedx", "spdx"] {
        let bytes = run(Command::new(&npm)
            .args(["sbom", "--sbom-format", format, "--package-lock-only"])
            .current_dir(&project));
        let sbom = check(
            &format!("npm sbom --sbom-format {format}"),
            &bytes,
            9,
            &[
                "pkg:npm/chalk@4.1.2",
                "pkg:npm/debug@4.3.5",
                "pkg:npm/%40tsconfig/node20@20.1.4",
            ],
        );
        assert_eq!(sbom.subject.as_ref().unwrap().name, "plaza-sbom-fixture");
    }
}

#[test]
fn cyclonedx_npm_on_a_lock_file() {
    let tool = cyclonedx_npm();
    let (_dir, project) = fixture_copy("npm");
    for sv in ["1.4", "1.5", "1.6"] {
        let out = project.join(format!("bom-{sv}.json"));
        run(Command::new(&tool)
            .args(["--package-lock-only", "--spec-version", sv, "--output-file"])
            .arg(&out)
            .current_dir(&project));
        let sbom = check(
            &format!("cyclonedx-npm --spec-version {sv}"),
            &fs::read(&out).unwrap(),
            9,
            &["pkg:npm/chalk@4.1.2", "pkg:npm/%40tsconfig/node20@20.1.4"],
        );
        assert_eq!(sbom.subject.as_ref().unwrap().name, "plaza-sbom-fixture");
    }
}
