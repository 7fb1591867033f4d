//! Issue 5's supply-chain benchmark, every figure measured in one run and printed as a Markdown
//! table for `docs/BENCHMARKS.md` (progress goes to stderr):
//!
//! 1. **OSV import** of a whole directory (default: the real Go + PyPI set at
//!    `../shared/data/osv` from the repository root): [`osv::read_dir`] (read, sha256, parse) and
//!    [`VulnIndex::from_advisories`] timed apart, records/s; then the incremental re-import of the
//!    unchanged directory (`read_dir` + [`osv::plan_import`] against the first import's digests).
//!    Each is the median of a few runs after one warm-up (so the page cache is warm for all).
//! 2. **SBOM scan**: a CycloneDX 1.6 JSON SBOM of 2,000 components generated from the advisories
//!    themselves — about half `pkg:golang/…` (versions `v`-prefixed, as Go modules are), half
//!    `pkg:pypi/…` (Go fills in what PyPI's 664 packages cannot supply) — with 30% of the components at a version the index says is affected
//!    (an `introduced`, `last_affected` or listed version) and the rest at a version it says is
//!    clean (a `fixed` version), each choice checked with [`VulnIndex::query_purl`]. Timed,
//!    interleaved (A B C A B C …, so machine noise hits all alike), median of N iterations after
//!    warm-up: A = [`parse_sbom`]; B = `parse_sbom` + [`match_sbom`]; C = `match_sbom` on the
//!    parsed SBOM. The goal: B / A ≤ 2 (matching costs no more than reading).
//! 3. **Secret scanning** of the synthetic 100 MB artifact of `secret-scan-throughput`
//!    (`common/artifact.rs`): [`Scanner::scan_bytes`] with the built-in rules, MB/s as the median
//!    of the runs (goal ≥ 100 MB/s).
//!
//! `cargo run --release -p plaza-supply --example supply-bench -- [OSV_DIR] [--iterations N]
//! [--secret-mb MB] [--secret-runs N] [--import-runs N] [--profile]`; `scripts/bench-supply`
//! runs it. `--profile` adds, to stderr, where matching spends its time: `VulnIndex::query` per
//! ecosystem and outcome (affected or clean), and the slowest packages.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plaza_supply::osv::{self, Event, VulnIndex};
use plaza_supply::parse_sbom;
use plaza_supply::scan::match_sbom;
use plaza_supply::secrets::{builtin_rules, AllowList, ScanConfig, Scanner};

#[path = "common/artifact.rs"]
mod artifact;

use artifact::Rng;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Components in the generated SBOM, per ecosystem.
const PER_ECOSYSTEM: usize = 1_000;
/// Share of components at an affected version, in tenths.
const AFFECTED_TENTHS: usize = 3;
/// Most components naming the same package (at different versions): PyPI has fewer than 1,000
/// packages in the data set.
const MAX_PER_PACKAGE: usize = 8;

struct Args {
    osv_dir: PathBuf,
    iterations: usize,
    secret_mb: usize,
    secret_runs: usize,
    import_runs: usize,
    profile: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        osv_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv"),
        iterations: 41,
        secret_mb: 100,
        secret_runs: 5,
        import_runs: 3,
        profile: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str, min: usize| -> Result<usize> {
            let value = it
                .next()
                .ok_or_else(|| format!("{name} needs a number after it"))?;
            let n: usize = value
                .parse()
                .map_err(|e| format!("{name} {value}: not a number ({e})"))?;
            if n < min {
                return Err(format!("{name} {n}: at least {min}, please").into());
            }
            Ok(n)
        };
        match arg.as_str() {
            "--iterations" => args.iterations = number("--iterations", 21)?,
            "--secret-mb" => args.secret_mb = number("--secret-mb", 1)?,
            "--secret-runs" => args.secret_runs = number("--secret-runs", 5)?,
            "--import-runs" => args.import_runs = number("--import-runs", 1)?,
            "--profile" => args.profile = true,
            "-h" | "--help" => {
                return Err(
                    "usage: supply-bench [OSV_DIR] [--iterations N≥21] [--secret-mb MB] \
                            [--secret-runs N≥5] [--import-runs N] [--profile]"
                        .into(),
                )
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other} (see --help)").into())
            }
            dir => args.osv_dir = PathBuf::from(dir),
        }
    }
    Ok(args)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Thousands separators, for the table.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Import {
    index: VulnIndex,
    files: usize,
    bytes: u64,
    read: Duration,
    build: Duration,
    reimport: Duration,
    unchanged: usize,
    touched: usize,
}

/// Part 1: the full import, then the incremental re-import with nothing changed.
fn bench_import(dir: &Path, runs: usize) -> Result<Import> {
    let read_all = || -> Result<Vec<osv::LoadedFile>> {
        let files = osv::read_dir(dir).map_err(|e| {
            format!(
                "{}: {e} (pass the OSV directory as the first argument)",
                dir.display()
            )
        })?;
        if files.is_empty() {
            return Err(format!("{}: no *.json OSV file in it", dir.display()).into());
        }
        Ok(files)
    };
    let bytes = total_json_bytes(dir)?;
    // Warm-up: the page cache, and the digests a previous import would have stored.
    let first = osv::plan_import(&HashMap::new(), read_all()?)
        .map_err(|e| format!("{}: the data set does not import: {e}", dir.display()))?;
    let digests = first.digests_after(&HashMap::new());
    drop(first);

    let (mut reads, mut builds, mut reimports) = (Vec::new(), Vec::new(), Vec::new());
    let mut index = VulnIndex::new();
    let mut files = 0;
    let (mut unchanged, mut touched) = (0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let loaded = read_all()?;
        reads.push(start.elapsed());
        files = loaded.len();
        let advisories: Vec<osv::Advisory> =
            loaded.into_iter().filter_map(|f| f.advisory.ok()).collect();
        let start = Instant::now();
        index = VulnIndex::from_advisories(advisories);
        builds.push(start.elapsed());

        let start = Instant::now();
        let plan = osv::plan_import(&digests, read_all()?)
            .map_err(|e| format!("{}: re-import failed: {e}", dir.display()))?;
        reimports.push(start.elapsed());
        unchanged = plan.unchanged.len();
        touched = plan.added.len() + plan.changed.len() + plan.removed.len();
    }
    Ok(Import {
        index,
        files,
        bytes,
        read: median(reads),
        build: median(builds),
        reimport: median(reimports),
        unchanged,
        touched,
    })
}

fn total_json_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else if entry.path().extension().is_some_and(|e| e == "json") {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// Versions of one package seen in the advisories.
#[derive(Default)]
struct Candidates {
    /// `introduced` (not `0`), `last_affected` and listed versions.
    affected: BTreeSet<String>,
    /// `fixed` versions.
    fixed: BTreeSet<String>,
}

/// Percent-encodes a purl segment (keeps unreserved characters, and `/` when asked).
fn purl_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Pick {
    ecosystem: &'static str,
    name: String,
    version: String,
    purl: String,
}

/// The purl and SBOM version of `version` of package `name` in `ecosystem` (`Go` or `PyPI`).
fn purl_for(ecosystem: &str, name: &str, version: &str) -> (String, String) {
    if ecosystem == "Go" {
        let v = format!("v{version}");
        (
            format!(
                "pkg:golang/{}@{}",
                purl_encode(name, true),
                purl_encode(&v, false)
            ),
            v,
        )
    } else {
        let n = name.to_ascii_lowercase().replace('_', "-");
        (
            format!(
                "pkg:pypi/{}@{}",
                purl_encode(&n, false),
                purl_encode(version, false)
            ),
            version.to_owned(),
        )
    }
}

/// Part 2's input: 2,000 components, ~30% affected, each choice checked against the index.
/// Returns the CycloneDX JSON and how many components were picked at an affected version.
fn generate_sbom(index: &VulnIndex) -> Result<(Vec<u8>, usize)> {
    let mut advisories: Vec<&osv::Advisory> =
        index.advisories().filter(|a| !a.is_withdrawn()).collect();
    advisories.sort_by(|a, b| a.id.cmp(&b.id));
    let mut packages: BTreeMap<(&'static str, String), Candidates> = BTreeMap::new();
    for a in advisories {
        for affected in &a.affected {
            let Some(p) = &affected.package else { continue };
            let eco = match p.ecosystem.as_str() {
                "Go" => "Go",
                "PyPI" => "PyPI",
                _ => continue,
            };
            // The Go toolchain is not a module an application SBOM lists.
            if eco == "Go" && (p.name == "stdlib" || p.name == "toolchain") {
                continue;
            }
            let c = packages.entry((eco, p.name.clone())).or_default();
            c.affected.extend(affected.versions.iter().cloned());
            for range in &affected.ranges {
                for event in &range.events {
                    match event {
                        Event::Introduced(v) if v != "0" => {
                            c.affected.insert(v.clone());
                        }
                        Event::LastAffected(v) => {
                            c.affected.insert(v.clone());
                        }
                        Event::Fixed(v) => {
                            c.fixed.insert(v.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    let mut rng = Rng(0x5eed_0005_0005_0005);
    let mut picks: Vec<(Pick, bool)> = Vec::new();
    // What PyPI cannot supply (it has fewer clean versions than 700), Go makes up for.
    let (mut short_affected, mut short_clean) = (0, 0);
    for eco in ["PyPI", "Go"] {
        // Per package: versions the index confirms as affected, and as clean, shuffled.
        let mut pool: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for ((e, name), c) in &packages {
            if *e != eco {
                continue;
            }
            let check = |versions: &BTreeSet<String>, want_affected: bool| -> Vec<String> {
                versions
                    .iter()
                    .filter(|v| {
                        let (purl, _) = purl_for(eco, name, v);
                        index.query_purl(&purl).is_ok_and(|r| {
                            if want_affected {
                                !r.matches.is_empty()
                            } else {
                                r.matches.is_empty() && r.unevaluated.is_empty()
                            }
                        })
                    })
                    .cloned()
                    .collect()
            };
            let mut affected = check(&c.affected, true);
            let mut clean = check(&c.fixed, false);
            rng.shuffle(&mut affected);
            rng.shuffle(&mut clean);
            pool.push((name.clone(), affected, clean));
        }
        rng.shuffle(&mut pool);
        let affected_quota = PER_ECOSYSTEM * AFFECTED_TENTHS / 10 + short_affected;
        let clean_quota = PER_ECOSYSTEM - PER_ECOSYSTEM * AFFECTED_TENTHS / 10 + short_clean;
        let (mut n_affected, mut n_clean) = (0, 0);
        'rounds: for _ in 0..MAX_PER_PACKAGE {
            for (name, affected, clean) in &mut pool {
                if n_affected == affected_quota && n_clean == clean_quota {
                    break 'rounds;
                }
                let taken = n_affected + n_clean;
                let prefer_affected = n_affected * 10 < (taken + 1) * AFFECTED_TENTHS;
                let order = if prefer_affected {
                    [true, false]
                } else {
                    [false, true]
                };
                for want_affected in order {
                    let (list, count, quota) = if want_affected {
                        (&mut *affected, &mut n_affected, affected_quota)
                    } else {
                        (&mut *clean, &mut n_clean, clean_quota)
                    };
                    if *count == quota {
                        continue;
                    }
                    if let Some(version) = list.pop() {
                        let (purl, version) = purl_for(eco, name, &version);
                        picks.push((
                            Pick {
                                ecosystem: eco,
                                name: name.clone(),
                                version,
                                purl,
                            },
                            want_affected,
                        ));
                        *count += 1;
                        break;
                    }
                }
            }
        }
        short_affected = affected_quota - n_affected;
        short_clean = clean_quota - n_clean;
        if eco == "Go" && (short_affected > 0 || short_clean > 0) {
            return Err(format!(
                "{eco}: the data set gave only {n_affected} affected and {n_clean} clean \
                 components (wanted {affected_quota} and {clean_quota})"
            )
            .into());
        }
    }
    // Go and PyPI components interleaved, as a mixed application's SBOM would list them.
    rng.shuffle(&mut picks);
    let affected = picks.iter().filter(|(_, a)| *a).count();
    Ok((cyclonedx(&picks)?, affected))
}

fn cyclonedx(picks: &[(Pick, bool)]) -> Result<Vec<u8>> {
    use serde_json::{json, Value};
    let mut seen = BTreeSet::new();
    let components: Vec<Value> = picks
        .iter()
        .filter(|(p, _)| seen.insert(p.purl.clone()))
        .map(|(p, _)| {
            let digest = hex_digest(&p.purl);
            let mut c = json!({
                "type": "library",
                "bom-ref": p.purl,
                "name": p.name,
                "version": p.version,
                "purl": p.purl,
                "hashes": [{"alg": "SHA-256", "content": digest}],
            });
            if p.ecosystem == "PyPI" {
                if let Some(obj) = c.as_object_mut() {
                    obj.insert("licenses".into(), json!([{"license": {"id": "MIT"}}]));
                    obj.insert(
                        "externalReferences".into(),
                        json!([{"type": "distribution", "url": format!("https://pypi.org/project/{}/{}/", p.name, p.version)}]),
                    );
                }
            }
            c
        })
        .collect();
    if components.len() != picks.len() {
        return Err("two picked components share a purl".into());
    }
    let refs: Vec<&str> = picks.iter().map(|(p, _)| p.purl.as_str()).collect();
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-30T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "supply-bench"}]},
            "component": {"type": "application", "bom-ref": "app", "name": "bench-app", "version": "1.0.0"}
        },
        "components": components,
        "dependencies": [{"ref": "app", "dependsOn": refs}],
    });
    Ok(serde_json::to_vec_pretty(&doc)?)
}

/// A stable fake SHA-256 for a component (the parser checks the format, not the bytes).
fn hex_digest(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

struct ScanBench {
    sbom_bytes: usize,
    components: usize,
    picked_affected: usize,
    components_with_findings: usize,
    findings: usize,
    parse: Duration,
    parse_match: Duration,
    match_only: Duration,
    iterations: usize,
}

/// Part 2: parse vs parse + match, interleaved.
fn bench_scan(index: &VulnIndex, iterations: usize, profile: bool) -> Result<ScanBench> {
    let (doc, picked_affected) = generate_sbom(index)?;
    let sbom = parse_sbom(&doc, "bench.cdx.json").map_err(|e| format!("generated SBOM: {e}"))?;
    let scan = match_sbom(&sbom, index);
    let components_with_findings = scan
        .findings
        .iter()
        .map(|f| &*f.component)
        .collect::<BTreeSet<_>>()
        .len();
    if scan.checked != sbom.components.len() {
        return Err(format!(
            "only {} of {} components were checked: {:?}",
            scan.checked,
            sbom.components.len(),
            scan.not_checked.first()
        )
        .into());
    }
    if profile {
        profile_queries(&sbom, index)?;
    }
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..iterations + 5 {
        let start = Instant::now();
        let parsed = parse_sbom(black_box(&doc), "bench.cdx.json")?;
        black_box(&parsed);
        let t_a = start.elapsed();
        drop(parsed);

        let start = Instant::now();
        let parsed = parse_sbom(black_box(&doc), "bench.cdx.json")?;
        let result = match_sbom(&parsed, index);
        black_box(&result);
        let t_b = start.elapsed();
        drop((parsed, result));

        let start = Instant::now();
        let result = match_sbom(black_box(&sbom), index);
        black_box(&result);
        let t_c = start.elapsed();
        drop(result);

        if i >= 5 {
            a.push(t_a);
            b.push(t_b);
            c.push(t_c);
        }
    }
    Ok(ScanBench {
        sbom_bytes: doc.len(),
        components: sbom.components.len(),
        picked_affected,
        components_with_findings,
        findings: scan.findings.len(),
        parse: median(a),
        parse_match: median(b),
        match_only: median(c),
        iterations,
    })
}

/// `--profile`: each component's `VulnIndex::query` timed alone (median of 5), summed per
/// ecosystem and outcome, with the slowest packages; to stderr.
fn profile_queries(sbom: &plaza_supply::Sbom, index: &VulnIndex) -> Result<()> {
    let mut classes: BTreeMap<(String, &str), (Duration, usize, usize)> = BTreeMap::new();
    let mut slowest: Vec<(Duration, String, usize)> = Vec::new();
    let mut total = Duration::ZERO;
    // One cold pass first: the whole scan with the caches flushed by a 64 MB sweep, each query
    // timed alone, as `match_sbom` meets them after the SBOM parse evicted the index.
    let mut sweep = vec![1u8; 64 << 20];
    for (i, b) in sweep.iter_mut().enumerate() {
        *b = b.wrapping_add(i as u8);
    }
    black_box(&sweep);
    drop(sweep);
    let mut cold = Duration::ZERO;
    for component in &sbom.components {
        let Some(purl) = component.purl.as_deref() else {
            continue;
        };
        let package = osv::parse_purl(purl)?;
        let version = package.version.clone().unwrap_or_default();
        let start = Instant::now();
        black_box(index.query(&package.ecosystem, &package.name, &version));
        cold += start.elapsed();
    }
    eprintln!(
        "profile: VulnIndex::query over the SBOM, cold caches: {}",
        ms(cold)
    );
    for component in &sbom.components {
        let Some(purl) = component.purl.as_deref() else {
            continue;
        };
        let package = osv::parse_purl(purl)?;
        let version = package.version.clone().unwrap_or_default();
        let mut samples = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let result = index.query(&package.ecosystem, &package.name, &version);
            samples.push(start.elapsed());
            found = result.matches.len();
            black_box(result);
        }
        let t = median(samples);
        total += t;
        let outcome = if found > 0 { "affected" } else { "clean" };
        let class = classes
            .entry((package.ecosystem.clone(), outcome))
            .or_default();
        class.0 += t;
        class.1 += 1;
        class.2 += found;
        slowest.push((t, purl.to_owned(), found));
    }
    eprintln!(
        "profile: VulnIndex::query over the SBOM, hot caches (each query's median of 5): {}",
        ms(total)
    );
    for ((eco, outcome), (t, n, found)) in &classes {
        eprintln!(
            "  {eco} {outcome}: {} for {n} components ({:.1} µs each, {found} matches)",
            ms(*t),
            t.as_secs_f64() * 1e6 / (*n).max(1) as f64
        );
    }
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    eprintln!("  slowest:");
    for (t, purl, found) in slowest.iter().take(8) {
        let advisories = osv::parse_purl(purl)
            .map(|p| {
                index
                    .advisories()
                    .filter(|a| {
                        a.affected.iter().any(|x| {
                            x.package.as_ref().is_some_and(|q| {
                                q.ecosystem == p.ecosystem && q.name.eq_ignore_ascii_case(&p.name)
                            })
                        })
                    })
                    .count()
            })
            .unwrap_or_default();
        eprintln!(
            "    {:.0} µs {purl} ({found} matches; {advisories} advisories name the package)",
            t.as_secs_f64() * 1e6
        );
    }
    Ok(())
}

struct SecretBench {
    mb: f64,
    runs: usize,
    median_mb_s: f64,
    min_mb_s: f64,
    max_mb_s: f64,
    findings: usize,
    planted: usize,
}

/// Part 3: the secret scanner over the synthetic artifact.
fn bench_secrets(size_mb: usize, runs: usize) -> Result<SecretBench> {
    let size = size_mb * 1_000_000;
    let (data, planted) = artifact::synthetic_artifact(size);
    let config = ScanConfig {
        max_file_bytes: (size as u64) * 2,
        ..ScanConfig::default()
    };
    let scanner = Scanner::new(builtin_rules(), AllowList::new(), config)?;
    black_box(scanner.scan_bytes("warm-up", data.get(..1_000_000).unwrap_or(&data)));
    let mut rates = Vec::new();
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let report = scanner.scan_bytes("artifact.bin", black_box(&data));
        let seconds = start.elapsed().as_secs_f64().max(1e-9);
        findings = report.findings.len();
        rates.push(size as f64 / 1e6 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    Ok(SecretBench {
        mb: size as f64 / 1e6,
        runs,
        median_mb_s: rates.get(rates.len() / 2).copied().unwrap_or_default(),
        min_mb_s: rates.first().copied().unwrap_or_default(),
        max_mb_s: rates.last().copied().unwrap_or_default(),
        findings,
        planted,
    })
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    eprintln!("import: {}", args.osv_dir.display());
    let import = bench_import(&args.osv_dir, args.import_runs)?;
    eprintln!(
        "scan: generating the SBOM and timing {} iterations",
        args.iterations
    );
    let scan = bench_scan(&import.index, args.iterations, args.profile)?;
    eprintln!("secrets: {} MB × {} runs", args.secret_mb, args.secret_runs);
    let secrets = bench_secrets(args.secret_mb, args.secret_runs)?;

    let total = import.read + import.build;
    let per_s = |d: Duration| import.files as f64 / d.as_secs_f64().max(1e-9);
    let ratio = scan.parse_match.as_secs_f64() / scan.parse.as_secs_f64().max(1e-9);
    println!("| measure | median | rate / ratio | goal |\n|---|---:|---:|---|");
    println!(
        "| OSV import: `osv::read_dir` (read + sha256 + parse), {} files, {:.1} MB | {} | {} records/s | |",
        grouped(import.files),
        import.bytes as f64 / 1e6,
        ms(import.read),
        grouped(per_s(import.read) as usize)
    );
    println!(
        "| OSV import: `VulnIndex::from_advisories` ({} advisories) | {} | {} records/s | |",
        grouped(import.index.len()),
        ms(import.build),
        grouped(per_s(import.build) as usize)
    );
    println!(
        "| OSV import, whole set (parse + index) | {} | {} records/s | recorded |",
        ms(total),
        grouped(per_s(total) as usize)
    );
    println!(
        "| OSV re-import, nothing changed (`read_dir` + `plan_import`): {} unchanged, {} to apply | {} | {:.2}× the full import | |",
        grouped(import.unchanged),
        import.touched,
        ms(import.reimport),
        import.reimport.as_secs_f64() / total.as_secs_f64().max(1e-9)
    );
    println!(
        "| SBOM parse (`parse_sbom`), CycloneDX 1.6, {} components, {:.0} kB | {} | 1× | |",
        grouped(scan.components),
        scan.sbom_bytes as f64 / 1e3,
        ms(scan.parse)
    );
    println!(
        "| SBOM parse + `scan::match_sbom` | {} | {:.2}× parse | ≤ 2× parse: {} |",
        ms(scan.parse_match),
        ratio,
        verdict(ratio <= 2.0)
    );
    println!(
        "| `scan::match_sbom` alone (parsed SBOM) | {} | {:.2}× parse | |",
        ms(scan.match_only),
        scan.match_only.as_secs_f64() / scan.parse.as_secs_f64().max(1e-9)
    );
    println!(
        "| findings: {} on {} components ({} picked at an affected version) | | | |",
        grouped(scan.findings),
        grouped(scan.components_with_findings),
        grouped(scan.picked_affected)
    );
    println!(
        "| secret scan (`Scanner::scan_bytes`, built-in rules), {:.0} MB synthetic, {} runs (min–max {:.0}–{:.0} MB/s); {} findings, {} planted | | {:.0} MB/s | ≥ 100 MB/s: {} |",
        secrets.mb,
        secrets.runs,
        secrets.min_mb_s,
        secrets.max_mb_s,
        secrets.findings,
        secrets.planted,
        secrets.median_mb_s,
        verdict(secrets.median_mb_s >= 100.0)
    );
    println!(
        "\nScan timings: median of {} interleaved iterations after 5 warm-ups; import: median of {} runs after one warm-up.",
        scan.iterations, args.import_runs
    );
    Ok(())
}
