//! OSV matching on the real advisories of ../shared/data/osv (Go and PyPI), data-driven:
//!
//! - `osv/oracle.tsv`: 6,000 queries whose expected ids come from an independent implementation
//!   (scripts/osv-oracle-queries.py: the OSV evaluation pseudocode with `packaging` 21.3 and
//!   `semver`). Regenerate with `"$(scripts/ensure-osv-oracle)" scripts/osv-oracle-queries.py`.
//! - `osv/cases.tsv`: hand-derived queries on specific records (full expected id sets).
//! - `osv/cvss.tsv`: 6,500 CVSS v3.0/v3.1/v4.0 vectors scored by Red Hat's `cvss` Python library
//!   (scripts/cvss-oracle.py).
//! - `osv/membership.tsv`: hand-derived "is advisory X in the result" checks at range bounds.
//!
//! Plus loading (directory and zip, zip-bomb limits), the incremental import plan, withdrawn
//! records, match details, purl queries and index maintenance.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plaza_supply::osv::{
    cvss3_base_score, cvss4_score, parse_advisory, plan_import, read_dir, read_zip, read_zip_with,
    Advisory, Hit, NotEvaluated, OsvError, SeverityLevel, Until, VulnIndex, ZipLimits,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv")
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/osv")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every record of both folders, parsed once per test binary.
fn all_advisories() -> &'static Vec<Advisory> {
    static ALL: OnceLock<Vec<Advisory>> = OnceLock::new();
    ALL.get_or_init(|| {
        let files = read_dir(&data_dir()).expect("../shared/data/osv must exist");
        files
            .into_iter()
            .map(|f| f.advisory.unwrap_or_else(|e| panic!("{}: {e}", f.name)))
            .collect()
    })
}

fn index() -> &'static VulnIndex {
    static INDEX: OnceLock<VulnIndex> = OnceLock::new();
    INDEX.get_or_init(|| VulnIndex::from_advisories(all_advisories().iter().cloned()))
}

fn ids(eco: &str, name: &str, version: &str) -> BTreeSet<String> {
    index()
        .query(eco, name, version)
        .matches
        .into_iter()
        .map(|m| m.id.to_string())
        .collect()
}

/// Rows of a tab-separated fixture, comments and blank lines skipped.
fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
}

fn check_id_sets(file: &str) -> usize {
    let text = fixture(file);
    let mut failures = Vec::new();
    let mut count = 0;
    for (line, cols) in rows(&text) {
        let [eco, name, version, expected] = cols[..] else {
            panic!("{file}:{line}: expected 4 tab-separated columns");
        };
        count += 1;
        let want: BTreeSet<String> = expected
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let got = ids(eco, name, version);
        if got != want {
            failures.push(format!(
                "{file}:{line}: {eco} {name} {version}: expected {want:?}, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} queries differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    count
}

#[test]
fn real_data_parses_with_the_expected_counts() {
    let go = read_dir(&data_dir().join("go")).unwrap();
    let pypi = read_dir(&data_dir().join("pypi")).unwrap();
    assert_eq!(go.len(), 4291);
    assert_eq!(pypi.len(), 2661);
    for f in go.iter().chain(&pypi) {
        assert!(f.advisory.is_ok(), "{}: {:?}", f.name, f.advisory);
        assert_eq!(f.sha256.len(), 64);
    }
    let all = all_advisories();
    assert_eq!(all.len(), 6952);
    assert_eq!(all.iter().filter(|a| a.is_withdrawn()).count(), 27);
    assert_eq!(index().len(), 6952);
}

#[test]
fn oracle_queries_agree() {
    assert_eq!(check_id_sets("oracle.tsv"), 6000);
}

#[test]
fn hand_derived_cases() {
    assert!(check_id_sets("cases.tsv") >= 25);
}

/// PEP 440 ordering (and legacy ordering of invalid strings) equals packaging 21.3's on every
/// PyPI version string of the data plus respellings: `osv/pypi-order.txt` is sorted by packaging.
#[test]
fn pypi_ordering_agrees_with_packaging() {
    use plaza_supply::osv::version::Scheme;
    use std::cmp::Ordering;
    let text = fixture("pypi-order.txt");
    let mut prev: Option<(String, plaza_supply::osv::version::Version)> = None;
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (equal, v) = match line.strip_prefix("= ") {
            Some(v) => (true, v),
            None => (false, line),
        };
        let parsed = Scheme::Pep440.parse(v).unwrap();
        if let Some((pv, p)) = &prev {
            let want = if equal {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            let got = p.compare(&parsed);
            if got != Some(want) {
                failures.push(format!("`{pv}` vs `{v}`: expected {want:?}, got {got:?}"));
            }
        }
        prev = Some((v.to_string(), parsed));
        count += 1;
    }
    assert!(count > 20_000, "{count}");
    assert!(
        failures.is_empty(),
        "{} of {count} adjacent pairs differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn hand_derived_membership() {
    let text = fixture("membership.tsv");
    let mut failures = Vec::new();
    for (line, cols) in rows(&text) {
        let [eco, name, version, id, yes] = cols[..] else {
            panic!("membership.tsv:{line}: expected 5 columns");
        };
        let got = ids(eco, name, version).contains(id);
        if got != (yes == "yes") {
            failures.push(format!(
                "membership.tsv:{line}: {eco} {name} {version} {id}: expected {yes}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Versions worth trying for an affected entry: listed versions and range bounds.
fn probe_versions(a: &Advisory) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for aff in &a.affected {
        let Some(p) = &aff.package else { continue };
        let mut vs: Vec<String> = aff.versions.clone();
        for r in &aff.ranges {
            for e in &r.events {
                if e.version() != "0" {
                    vs.push(e.version().to_string());
                }
            }
        }
        vs.push("0.0.1".into());
        for v in vs {
            out.push((p.ecosystem.clone(), p.name.clone(), v));
        }
    }
    out
}

#[test]
fn withdrawn_records_match_nothing() {
    let withdrawn: Vec<&Advisory> = all_advisories()
        .iter()
        .filter(|a| a.is_withdrawn())
        .collect();
    assert_eq!(withdrawn.len(), 27);
    let mut proven = 0;
    for w in withdrawn {
        // A few withdrawn records keep no ranges or versions at all (e.g. PYSEC-2022-15): they
        // could not match anyway.
        let has_data = w
            .affected
            .iter()
            .any(|a| !a.versions.is_empty() || !a.ranges.is_empty());
        if !has_data {
            continue;
        }
        proven += 1;
        // Without its `withdrawn` field the record matches somewhere ...
        let mut revived = w.clone();
        revived.withdrawn = None;
        let alone = VulnIndex::from_advisories([revived]);
        let probes = probe_versions(w);
        let matching: Vec<_> = probes
            .iter()
            .filter(|(e, n, v)| !alone.query(e, n, v).matches.is_empty())
            .collect();
        assert!(
            !matching.is_empty(),
            "{}: no probe matches even unwithdrawn",
            w.id
        );
        // ... and with it, nowhere, neither alone nor in the full index.
        let as_is = VulnIndex::from_advisories([w.clone()]);
        for (e, n, v) in &matching {
            assert!(
                as_is.query(e, n, v).matches.is_empty(),
                "{} matched {n} {v}",
                w.id
            );
            assert!(!ids(e, n, v).contains(&w.id), "{} matched {n} {v}", w.id);
        }
    }
    assert!(
        proven >= 20,
        "only {proven} withdrawn records could be checked"
    );
}

#[test]
fn match_details_on_real_records() {
    let r = index().query("PyPI", "py", "1.9.0");
    let m92 = r.matches.iter().find(|m| m.id == "PYSEC-2020-92").unwrap();
    assert_eq!(m92.hit, Hit::Listed { listed: "1.9.0" });
    assert!(m92.fix_available);
    assert_eq!(m92.fixed_versions, ["1.10.0"]);
    // `1.11.0.0` is not written in the list, but equals `1.11.0` under PEP 440.
    let r = index().query("PyPI", "py", "1.11.0.0");
    let m = r
        .matches
        .iter()
        .find(|m| m.id == "PYSEC-2022-42969")
        .unwrap();
    assert_eq!(m.hit, Hit::Listed { listed: "1.11.0" });
    assert!(!m.fix_available, "last_affected is no fix");
    // A version only the range covers.
    let r = index().query("PyPI", "py", "1.11.0rc1");
    let m = &r.matches[0];
    assert_eq!(m.id, "PYSEC-2022-42969");
    assert_eq!(
        m.hit,
        Hit::InRange {
            range_index: 0,
            range_type: "ECOSYSTEM",
            introduced: "0",
            until: Some(Until::LastAffected("1.11.0")),
        }
    );
    // Go: which interval matched, and the fixes above the version.
    let r = index().query("Go", "github.com/coder/coder/v2", "v2.29.0");
    let m = r.matches.iter().find(|m| m.id == "GO-2026-5196").unwrap();
    assert_eq!(
        m.hit,
        Hit::InRange {
            range_index: 0,
            range_type: "SEMVER",
            introduced: "2.29.0",
            until: Some(Until::Fixed("2.29.13")),
        }
    );
    assert_eq!(
        m.fixed_versions,
        ["2.29.13", "2.30.8", "2.31.12", "2.32.2", "2.33.3"]
    );
    assert!(m
        .aliases
        .iter()
        .any(|a| a.starts_with("CVE-") || a.starts_with("GHSA-")));
    // Severity from a CVSS 3.0 vector (AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N = 7.5).
    let r = index().query("PyPI", "apache-atlas", "0.0.1");
    let m = r.matches.iter().find(|m| m.id == "PYSEC-2017-105").unwrap();
    assert_eq!(m.severity.score, Some(7.5));
    assert_eq!(m.severity.level, SeverityLevel::High);
}

#[test]
fn purl_queries_on_real_data() {
    let r = index().query_purl("pkg:pypi/JW.Util@2.2").unwrap();
    assert_eq!(
        r.matches.iter().map(|m| m.id).collect::<Vec<_>>(),
        ["PYSEC-2020-341"]
    );
    let r = index()
        .query_purl("pkg:golang/github.com/coder/coder/v2@v2.29.0")
        .unwrap();
    assert!(r.matches.iter().any(|m| m.id == "GO-2026-5196"));
    let e = index().query_purl("pkg:pypi/py").unwrap_err();
    assert!(e.to_string().contains("no @version"), "{e}");
}

#[test]
fn unknown_range_types_and_unordered_ecosystems_are_reported() {
    let json = br#"{"id":"TEST-1","modified":"2024-01-01T00:00:00Z",
      "affected":[
        {"package":{"ecosystem":"PyPI","name":"demo"},"ranges":[{"type":"CALVER","events":[{"introduced":"0"}]}]},
        {"package":{"ecosystem":"Debian:12","name":"demo"},"versions":["1.0-1"],
         "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0-2"}]}]}]}"#;
    let idx = VulnIndex::from_advisories([parse_advisory(json, "test.json").unwrap()]);
    let r = idx.query("PyPI", "demo", "1.0");
    assert!(r.matches.is_empty());
    assert_eq!(r.unevaluated.len(), 1);
    assert_eq!(
        r.unevaluated[0].reason,
        NotEvaluated::UnknownRangeType("CALVER".into())
    );
    let r = idx.query("Debian:12", "demo", "1.0-1");
    assert_eq!(r.matches.len(), 1, "exact versions entries still match");
    let r = idx.query("Debian:12", "demo", "0.9-1");
    assert!(r.matches.is_empty());
    assert!(r.unevaluated[0]
        .reason
        .to_string()
        .contains("ecosystem Debian:12 has no version ordering here"));
}

#[test]
fn index_insert_replace_remove() {
    let mut idx = VulnIndex::new();
    let a = all_advisories()
        .iter()
        .find(|a| a.id == "PYSEC-2020-341")
        .unwrap()
        .clone();
    assert!(idx.insert(a.clone()));
    assert!(!idx.insert(a.clone()), "same id twice");
    assert_eq!(idx.query("PyPI", "jw.util", "2.2").matches.len(), 1);
    let mut changed = a.clone();
    changed.affected[0].versions.clear();
    changed.affected[0].ranges.clear();
    assert!(idx.replace(changed).is_some());
    assert!(idx.query("PyPI", "jw.util", "2.2").matches.is_empty());
    assert!(idx.remove("PYSEC-2020-341").is_some());
    assert!(idx.is_empty());
    assert!(idx.remove("PYSEC-2020-341").is_none());
}

#[test]
fn incremental_import_plan() {
    let files = read_dir(&data_dir().join("go")).unwrap();
    let empty = HashMap::new();
    let first = plan_import(&empty, files.clone()).unwrap();
    assert_eq!(first.added.len(), 4291);
    let digests = first.digests_after(&empty);
    assert_eq!(digests.len(), 4291);

    let again = plan_import(&digests, files.clone()).unwrap();
    assert_eq!(
        (
            again.added.len(),
            again.changed.len(),
            again.unchanged.len(),
            again.removed.len()
        ),
        (0, 0, 4291, 0)
    );

    let mut previous = digests.clone();
    previous.insert("GO-2020-0001".into(), "0".repeat(64));
    previous.insert("GO-9999-0000".into(), "1".repeat(64));
    let mut fewer = files.clone();
    fewer.retain(|f| f.name != "GO-2020-0003.json");
    let plan = plan_import(&previous, fewer).unwrap();
    assert_eq!(plan.changed.len(), 1);
    assert_eq!(plan.changed[0].0.id, "GO-2020-0001");
    assert_eq!(plan.removed, ["GO-2020-0003", "GO-9999-0000"]);
    assert_eq!(plan.unchanged.len(), 4289);

    // Any bad file aborts the whole import, listing every problem.
    let mut broken = files.clone();
    broken[0].advisory = parse_advisory(b"{", "bad-1.json");
    broken[1].advisory = parse_advisory(br#"{"id":"x"}"#, "bad-2.json");
    let dup = broken[2].clone();
    broken.push(dup);
    match plan_import(&digests, broken) {
        Err(OsvError::Import(errors)) => {
            assert_eq!(errors.len(), 3, "{errors:?}");
            let text = OsvError::Import(errors).to_string();
            assert!(
                text.contains("bad-1.json") && text.contains("bad-2.json"),
                "{text}"
            );
            assert!(text.contains("appears in both"), "{text}");
        }
        other => panic!("expected an import error, got {other:?}"),
    }
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        if name.ends_with('/') {
            zip.add_directory(*name, opts).unwrap();
        } else {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(bytes).unwrap();
        }
    }
    zip.finish().unwrap();
}

#[test]
fn zip_import_reads_like_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let from_dir = read_dir(&data_dir().join("pypi")).unwrap();
    let some: Vec<_> = from_dir.iter().take(200).collect();
    let bytes: Vec<(String, Vec<u8>)> = some
        .iter()
        .map(|f| {
            (
                format!("pypi/{}", f.name),
                std::fs::read(data_dir().join("pypi").join(&f.name)).unwrap(),
            )
        })
        .collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("pypi/", b""), ("README.md", b"not json")];
    entries.extend(bytes.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let path = dir.path().join("osv.zip");
    write_zip(&path, &entries);
    let from_zip = read_zip(&path).unwrap();
    assert_eq!(from_zip.len(), 200);
    for (z, d) in from_zip.iter().zip(&some) {
        assert_eq!(z.name, format!("pypi/{}", d.name));
        assert_eq!(z.sha256, d.sha256);
        assert_eq!(z.advisory.as_ref().unwrap(), d.advisory.as_ref().unwrap());
    }

    let not_zip = dir.path().join("not.zip");
    std::fs::write(&not_zip, b"hello").unwrap();
    assert!(matches!(read_zip(&not_zip), Err(OsvError::Zip { .. })));
}

#[test]
fn zip_bombs_are_refused_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let record = std::fs::read(data_dir().join("go/GO-2020-0001.json")).unwrap();
    // 8 MiB of spaces inflate from a few kB: ratio far above 100.
    let bomb = vec![b' '; 8 * 1024 * 1024];
    let path = dir.path().join("bomb.zip");
    write_zip(&path, &[("ok.json", &record), ("bomb.json", &bomb)]);
    let e = read_zip(&path).unwrap_err();
    match &e {
        OsvError::Zip { entry, problem, .. } => {
            assert_eq!(entry, "bomb.json");
            assert!(problem.contains("compression ratio"), "{problem}");
        }
        other => panic!("unexpected {other:?}"),
    }

    let small = ZipLimits {
        max_entry_bytes: 1024,
        ..ZipLimits::default()
    };
    let e = read_zip_with(&path, small).unwrap_err().to_string();
    assert!(
        e.contains("ok.json") && e.contains("per-entry limit"),
        "{e}"
    );

    let total = ZipLimits {
        max_total_bytes: record.len() as u64 + 10,
        max_ratio: u64::MAX,
        ..ZipLimits::default()
    };
    let e = read_zip_with(&path, total).unwrap_err().to_string();
    assert!(e.contains("bomb.json") && e.contains("total limit"), "{e}");

    let few = ZipLimits {
        max_entries: 1,
        ..ZipLimits::default()
    };
    let e = read_zip_with(&path, few).unwrap_err().to_string();
    assert!(e.contains("more than the limit of 1"), "{e}");

    // Within every limit, the same archive minus the bomb reads fine.
    let fine = dir.path().join("fine.zip");
    write_zip(&fine, &[("ok.json", &record)]);
    assert_eq!(read_zip(&fine).unwrap().len(), 1);
}

/// Ecosystems without real data here (Maven, crates.io, npm): records shaped like GitHub's and
/// RustSec's, queried through purls.
#[test]
fn maven_crates_and_npm_records() {
    let log4j = br#"{"id":"GHSA-jfh8-c2jp-5v3q","modified":"2024-01-01T00:00:00Z",
      "aliases":["CVE-2021-44228"],
      "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
      "affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.13.0"},{"fixed":"2.15.0"},
                                                 {"introduced":"2.0-beta9"},{"fixed":"2.12.2"}]}]}]}"#;
    let rustsec = br#"{"id":"RUSTSEC-2020-0071","modified":"2024-01-01T00:00:00Z",
      "affected":[{"package":{"ecosystem":"crates.io","name":"time"},
        "ranges":[{"type":"SEMVER","events":[{"introduced":"0.0.0-0"},{"fixed":"0.2.23"}]}]}]}"#;
    let npm = br#"{"id":"GHSA-npm-1","modified":"2024-01-01T00:00:00Z",
      "database_specific":{"severity":"MODERATE"},
      "affected":[{"package":{"ecosystem":"npm","name":"@angular/core"},
        "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"last_affected":"11.0.4"}]}]}]}"#;
    let idx = VulnIndex::from_advisories(
        [&log4j[..], &rustsec[..], &npm[..]]
            .iter()
            .map(|b| parse_advisory(b, "inline").unwrap()),
    );
    let hits = |purl: &str| -> Vec<String> {
        idx.query_purl(purl)
            .unwrap()
            .matches
            .iter()
            .map(|m| m.id.to_string())
            .collect()
    };
    let log4j_id = ["GHSA-jfh8-c2jp-5v3q"];
    for (v, affected) in [
        ("2.0-beta8", false),
        ("2.0-beta9", true),
        ("2.0-rc1", true),
        ("2.0", true),
        ("2.12.1", true),
        ("2.12.2", false),
        ("2.12.4", false),
        ("2.13.0", true),
        ("2.14.1", true),
        ("2.15.0-rc1", true),
        ("2.15.0", false),
        ("2.17.1", false),
    ] {
        let purl = format!("pkg:maven/org.apache.logging.log4j/log4j-core@{v}");
        assert_eq!(hits(&purl) == log4j_id, affected, "{purl}");
    }
    let m = idx
        .query("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1")
        .matches;
    assert_eq!(m[0].severity.level, SeverityLevel::Critical);
    assert_eq!(m[0].severity.score, Some(10.0));
    assert_eq!(m[0].fixed_versions, ["2.15.0"]);

    assert_eq!(hits("pkg:cargo/time@0.1.44"), ["RUSTSEC-2020-0071"]);
    assert_eq!(hits("pkg:cargo/time@0.2.23-alpha.1"), ["RUSTSEC-2020-0071"]);
    assert!(hits("pkg:cargo/time@0.2.23").is_empty());
    assert!(
        hits("pkg:cargo/Time@0.1.44").is_empty(),
        "crate names are exact"
    );

    assert_eq!(hits("pkg:npm/%40angular/core@11.0.4"), ["GHSA-npm-1"]);
    assert!(hits("pkg:npm/@angular/core@11.0.5").is_empty());
    let m = idx.query("npm", "@angular/core", "10.0.0").matches;
    assert_eq!(m[0].severity.level, SeverityLevel::Medium);
    assert!(!m[0].fix_available);
}

#[test]
fn cvss_scores_agree_with_the_cvss_library() {
    let text = fixture("cvss.tsv");
    let mut failures = Vec::new();
    let mut counts = (0, 0);
    for (line, cols) in rows(&text) {
        let [vector, score] = cols[..] else {
            panic!("cvss.tsv:{line}: expected 2 columns");
        };
        let want: f64 = score.parse().unwrap();
        let got = if vector.starts_with("CVSS:4.0/") {
            counts.1 += 1;
            cvss4_score(vector)
        } else {
            counts.0 += 1;
            cvss3_base_score(vector)
        };
        if got.as_ref().ok() != Some(&want) {
            failures.push(format!(
                "cvss.tsv:{line}: {vector}: expected {want}, got {got:?}"
            ));
        }
    }
    assert_eq!(counts, (2500, 4000));
    assert!(
        failures.is_empty(),
        "{} vectors differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
