//! SBOM parsing: data-driven fixtures, binding, size and depth bounds, and (in [`interop`]) the
//! SBOMs real tools write.
//!
//! - `fixtures/sbom/CASE/input.json` must give `CASE/expected.txt` ([`Sbom::summary`]) or, for the
//!   cases named `err-*` (and only those), the error and its JSON pointer in `CASE/expected.error`.
//!   `PLAZA_BLESS=1` rewrites the expected files; review them before committing.

mod interop;

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use plaza_supply::sbom::{License, SbomFormat, MAX_COMPONENT_DEPTH};
use plaza_supply::{binding, parse_sbom, Binding, Sbom, SbomError};

use super::{blessing, check_file, crate_dir};

fn fixture_dir() -> PathBuf {
    crate_dir().join("tests/fixtures/sbom")
}

fn parse_fixture(case: &str) -> Sbom {
    let bytes = fs::read(fixture_dir().join(case).join("input.json")).unwrap();
    parse_sbom(&bytes, case).unwrap()
}

#[test]
fn sbom_parse_fixtures() {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "fixture cases went missing: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(case.join("input.json")).unwrap();
        let (ok, err) = (case.join("expected.txt"), case.join("expected.error"));
        let want_error = name.starts_with("err-");
        match parse_sbom(&bytes, "input.json") {
            Ok(sbom) => {
                if want_error {
                    failures.push(format!("{name}: expected an error, got an SBOM"));
                } else {
                    failures.extend(check_file(&ok, &sbom.summary()));
                }
            }
            Err(e) => {
                if want_error {
                    let text = format!("{e}\npointer: {}\n", e.pointer());
                    failures.extend(check_file(&err, &text));
                } else {
                    failures.push(format!("{name}: expected an SBOM, got: {e}"));
                }
            }
        }
        if !blessing() && !ok.exists() && !err.exists() {
            failures.push(format!("{name}: no expected.txt or expected.error"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn errors_point_at_the_offending_value() {
    // The pointers the fixtures' expected files hold, checked here against the documents
    // themselves: each one resolves, to the value the error is about.
    for (case, pointer, value) in [
        (
            "err-cdx-name-array",
            "/components/1/name",
            serde_json::json!(["itoa"]),
        ),
        (
            "err-cdx-dangling-dependson",
            "/dependencies/0/dependsOn/2",
            serde_json::json!("pkg:cargo/missing@1.0.0"),
        ),
        (
            "err-spdx-dangling-relationship",
            "/relationships/2/relatedSpdxElement",
            serde_json::json!("SPDXRef-Package-serd"),
        ),
        (
            "err-spdx-duplicate-spdxid",
            "/packages/3/SPDXID",
            serde_json::json!("SPDXRef-Package-serde"),
        ),
    ] {
        let bytes = fs::read(fixture_dir().join(case).join("input.json")).unwrap();
        let e = parse_sbom(&bytes, case).unwrap_err();
        assert_eq!(e.pointer(), pointer, "{case}: {e}");
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc.pointer(pointer), Some(&value), "{case}");
    }
}

#[test]
fn nested_components_are_flattened_parent_first_with_their_parents() {
    let sbom = parse_fixture("cdx-1.5-nested");
    let names: Vec<&str> = sbom.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "framework",
            "fw-core",
            "fw-core-shaded-guava",
            "fw-util",
            "left-pad",
            "app.wasm"
        ]
    );
    let guava = &sbom.components[2];
    assert_eq!(guava.parent.as_deref(), Some("fw-core"));
    assert_eq!(guava.ref_id, "#/components/0/components/0/components/0");
    // The subject's nested components come after the top-level tree.
    assert_eq!(
        sbom.components[5].parent,
        sbom.subject.as_ref().map(|s| s.ref_id.clone())
    );
    assert_eq!(
        sbom.components[0].licenses,
        [License::Name("Framework Commercial License".into())]
    );
}

#[test]
fn components_may_nest_up_to_the_limit() {
    let mut leaf =
        serde_json::json!({"type": "library", "name": format!("level-{MAX_COMPONENT_DEPTH}")});
    for i in (1..MAX_COMPONENT_DEPTH).rev() {
        leaf = serde_json::json!({"type": "library", "name": format!("level-{i}"), "components": [leaf]});
    }
    let doc =
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [leaf]});
    let sbom = parse_sbom(doc.to_string().as_bytes(), "deep").unwrap();
    assert_eq!(sbom.components.len(), MAX_COMPONENT_DEPTH);
    // One more level is refused (the fixture err-cdx-nesting-too-deep has 33).
    let e = parse_sbom(
        &fs::read(fixture_dir().join("err-cdx-nesting-too-deep/input.json")).unwrap(),
        "deeper",
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            SbomError::NestingTooDeep {
                limit: MAX_COMPONENT_DEPTH,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn hostile_nesting_fails_cleanly_without_overflowing_the_stack() {
    // Deep nesting in a streamed array (components, relationships), in another member
    // (metadata), and as the whole document.
    for depth in [129, 10_000, 1_000_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for doc in [
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{deep}]}}"#),
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{deep}}}"#),
            format!(r#"{{"spdxVersion":"SPDX-2.3","relationships":{deep}}}"#),
        ] {
            let e = parse_sbom(doc.as_bytes(), "deep.json").unwrap_err();
            assert!(
                matches!(e, SbomError::TooDeep { line: 1, .. }),
                "{depth}: {e}"
            );
        }
        let e = parse_sbom(deep.as_bytes(), "deep.json").unwrap_err();
        assert!(e.to_string().contains("not an object"), "{depth}: {e}");
    }
    let e = parse_sbom(
        &vec![b' '; plaza_supply::sbom::MAX_SBOM_BYTES + 1],
        "big.json",
    )
    .unwrap_err();
    assert!(matches!(e, SbomError::TooLarge { .. }), "{e}");
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fs::read(fixture_dir().join("cdx-1.4-basic/input.json")).unwrap());
    assert_eq!(
        parse_sbom(&bytes, "bom").unwrap(),
        parse_fixture("cdx-1.4-basic")
    );
}

#[test]
fn binding_compares_the_subjects_sha256_with_the_artifact_digest() {
    let cdx = parse_fixture("cdx-1.4-basic");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let bound = Binding::Bound {
        subject: "pkg:cargo/hello@0.1.0".into(),
    };
    assert_eq!(binding(&cdx, &digest), bound);
    assert_eq!(binding(&cdx, &"AB".repeat(32)), bound);

    let other = format!("sha256:{}", "cd".repeat(32));
    let Binding::Unbound { reason } = binding(&cdx, &other) else {
        panic!("bound to another digest")
    };
    assert!(
        reason.contains(&"ab".repeat(32)) && reason.contains(&"cd".repeat(32)),
        "{reason}"
    );

    for bad in ["sha512:abcd", "sha256:xyz", ""] {
        let Binding::Unbound { reason } = binding(&cdx, bad) else {
            panic!("bound to {bad}")
        };
        assert!(reason.contains("not a SHA-256 digest"), "{reason}");
    }

    let spdx = parse_fixture("spdx-2.3-basic");
    assert_eq!(
        binding(&spdx, &digest),
        Binding::Bound {
            subject: "SPDXRef-Package-hello".into()
        }
    );
    // A subject without a SHA-256 (only other algorithms) and a document with no single subject.
    let Binding::Unbound { reason } = binding(&parse_fixture("cdx-1.5-nested"), &digest) else {
        panic!("bound without a hash")
    };
    assert!(reason.contains("carries no SHA-256"), "{reason}");
    let Binding::Unbound { reason } = binding(&parse_fixture("spdx-2.3-two-described"), &digest)
    else {
        panic!("bound without a subject")
    };
    assert!(reason.contains("no subject"), "{reason}");
}

/// A CycloneDX document of `n` components, each depending on the next, as a string (built
/// directly: faster than through `serde_json::Value`).
fn big_cyclonedx(n: usize) -> String {
    let mut s = String::with_capacity(n * 400);
    s.push_str(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"application","bom-ref":"root","name":"root"}},"components":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"type":"library","bom-ref":"c{i}","name":"pkg{i}","version":"1.{i}.0","purl":"pkg:npm/pkg{i}@1.{i}.0","licenses":[{{"license":{{"id":"MIT"}}}}],"hashes":[{{"alg":"SHA-256","content":"{i:064x}"}}]}}"#
        ));
    }
    s.push_str(r#"],"dependencies":[{"ref":"root","dependsOn":["c0"]}"#);
    for i in 0..n {
        let next = if i + 1 < n {
            format!(r#""c{}""#, i + 1)
        } else {
            String::new()
        };
        s.push_str(&format!(r#",{{"ref":"c{i}","dependsOn":[{next}]}}"#));
    }
    s.push_str("]}");
    s
}

fn big_spdx(n: usize) -> String {
    let mut s = String::with_capacity(n * 500);
    s.push_str(r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","documentNamespace":"https://x/big","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: test"]},"documentDescribes":["SPDXRef-root"],"packages":[{"SPDXID":"SPDXRef-root","name":"root","downloadLocation":"NOASSERTION"}"#);
    for i in 0..n {
        s.push_str(&format!(
            r#",{{"SPDXID":"SPDXRef-p{i}","name":"pkg{i}","versionInfo":"1.{i}.0","downloadLocation":"NOASSERTION","licenseConcluded":"MIT","checksums":[{{"algorithm":"SHA256","checksumValue":"{i:064x}"}}],"externalRefs":[{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/pkg{i}@1.{i}.0"}}]}}"#
        ));
    }
    s.push_str(r#"],"relationships":[{"spdxElementId":"SPDXRef-root","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-p0"}"#);
    for i in 1..n {
        s.push_str(&format!(
            r#",{{"spdxElementId":"SPDXRef-p{i}","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-p{}"}}"#,
            i - 1
        ));
    }
    s.push_str("]}");
    s
}

#[test]
fn a_hundred_thousand_components_parse_in_bounded_time() {
    const N: usize = 100_000;
    // Generous for an unoptimised test build on a shared machine; an optimised build takes a
    // fraction of it (see the report printed with --nocapture).
    const LIMIT_SECS: f64 = 60.0;
    for (format, doc) in [("CycloneDX", big_cyclonedx(N)), ("SPDX", big_spdx(N))] {
        let start = Instant::now();
        let sbom = parse_sbom(doc.as_bytes(), format).unwrap();
        let secs = start.elapsed().as_secs_f64();
        let peak = fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        });
        println!(
            "{format}: {N} components, {} MB, parsed in {secs:.2}s; process {}",
            doc.len() / 1_000_000,
            peak.unwrap_or_default()
        );
        assert!(secs < LIMIT_SECS, "{format}: {secs:.1}s");
        assert_eq!(sbom.components.len(), N, "{format}");
        assert!(
            sbom.warnings.is_empty(),
            "{format}: {:?}",
            &sbom.warnings[..1]
        );
        for (i, c) in sbom.components.iter().enumerate() {
            assert_eq!(c.name, format!("pkg{i}"));
            assert!(c
                .purl
                .as_deref()
                .is_some_and(|p| p.ends_with(&format!("/pkg{i}@1.{i}.0"))));
            assert_eq!(c.sha256(), Some(format!("{i:064x}").as_str()));
        }
        let edges: usize = sbom.dependencies.values().map(|d| d.len()).sum();
        assert_eq!(edges, N, "{format}");
        let root = sbom.subject.as_ref().unwrap();
        assert_eq!(sbom.dependencies[&root.ref_id].len(), 1, "{format}");
        match (format, &sbom.format) {
            ("CycloneDX", SbomFormat::CycloneDx { .. }) | ("SPDX", SbomFormat::Spdx { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
