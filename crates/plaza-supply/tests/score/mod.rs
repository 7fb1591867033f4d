//! The security score: data-driven cases (`fixtures/score/CASE/input.json` → `expected.json`,
//! the full [`Score`] as pretty JSON; `PLAZA_BLESS=1` rewrites them) and the formula's
//! properties (bounds, determinism, monotonicity) over many generated inputs.

use std::fs;
use std::path::PathBuf;

use plaza_supply::osv::SeverityLevel;
use plaza_supply::score::{
    score, FreshnessFactor, SbomFactor, Score, ScoreInput, SignatureFactor, VulnFactor, FORMULA,
};

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/score")
}

fn blessing() -> bool {
    std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

fn read_input(case: &str) -> ScoreInput {
    let path = cases_dir().join(case).join("input.json");
    serde_json::from_str(&fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn score_fixtures() {
    let mut cases: Vec<_> = fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "expected at least 8 score cases");
    let mut failures = Vec::new();
    for dir in cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let actual = score(&read_input(&case));
        let json = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let path = dir.join("expected.json");
        if blessing() {
            fs::write(&path, &json).unwrap();
            continue;
        }
        let expected_text = fs::read_to_string(&path).unwrap_or_default();
        if expected_text != json {
            failures.push(format!("{case}: expected\n{expected_text}\ngot\n{json}"));
            continue;
        }
        // The expected file also reads back as the same value.
        let expected: Score = serde_json::from_str(&expected_text).unwrap();
        assert_eq!(expected, actual, "{case}");
    }
    assert!(
        failures.is_empty(),
        "regenerate with `PLAZA_BLESS=1 cargo test -p plaza-supply` and review\n{}",
        failures.join("\n")
    );
}

#[test]
fn admin_scopes_with_a_critical_vulnerability_score_worse_than_calendar_read() {
    let admin = score(&read_input("admin-scopes-critical-vuln"));
    let read = score(&read_input("calendar-read-critical-vuln"));
    assert!(
        admin.total < read.total,
        "{} vs {}",
        admin.total,
        read.total
    );
    let vulns = |s: &Score| {
        s.factors
            .iter()
            .find(|f| f.id == "vulnerabilities")
            .unwrap()
            .points
    };
    assert!(vulns(&admin) < vulns(&read));
}

// ---------------------------------------------------------------------------------------------
// Properties

/// xorshift64*, deterministic so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn u32_below(&mut self, n: u32) -> u32 {
        u32::try_from(self.below(u64::from(n))).unwrap()
    }
    fn flip(&mut self) -> bool {
        self.below(2) == 0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

const SEVERITIES: [SeverityLevel; 6] = [
    SeverityLevel::Unknown,
    SeverityLevel::None,
    SeverityLevel::Low,
    SeverityLevel::Medium,
    SeverityLevel::High,
    SeverityLevel::Critical,
];

const SCOPES: [&str; 10] = [
    "calendar.read",
    "openid",
    "calendar.events.create",
    "repo:status",
    "mail.send",
    "admin:org",
    "files:*",
    "write-all",
    "contacts.list",
    "Calendar.Read",
];

fn vuln(rng: &mut Rng) -> VulnFactor {
    VulnFactor {
        id: format!("GHSA-{:04}", rng.below(10_000)),
        severity: *rng.pick(&SEVERITIES),
        fix_available: rng.flip(),
    }
}

fn input(rng: &mut Rng) -> ScoreInput {
    let components = rng.u32_below(50);
    // Counts may exceed `components` (bad input): they must be clamped, not trusted.
    let mut part = || rng.u32_below(components + 5);
    let sbom = SbomFactor {
        components,
        with_purl: part(),
        with_license: part(),
        with_hash: part(),
        bound: false,
    };
    ScoreInput {
        signature: match rng.below(3) {
            0 => SignatureFactor::Verified,
            1 => SignatureFactor::Unsigned,
            _ => SignatureFactor::Invalid {
                reason: "bad".into(),
            },
        },
        provenance_level: if rng.flip() {
            Some(u8::try_from(rng.below(6)).unwrap())
        } else {
            None
        },
        sbom: if rng.below(4) == 0 {
            None
        } else {
            Some(SbomFactor {
                bound: rng.flip(),
                ..sbom
            })
        },
        vulnerabilities: (0..rng.below(6)).map(|_| vuln(rng)).collect(),
        secrets_found: if rng.below(3) == 0 {
            rng.u32_below(4)
        } else {
            0
        },
        dependencies: if rng.flip() {
            let total = rng.u32_below(30);
            Some(FreshnessFactor {
                total,
                outdated: rng.u32_below(total + 3),
            })
        } else {
            None
        },
        maintainers: rng.u32_below(4),
        contact_email: rng.flip(),
        scopes: (0..rng.below(4))
            .map(|_| rng.pick(&SCOPES).to_string())
            .collect(),
    }
}

const RUNS: u64 = 5_000;

fn for_each_input(mut check: impl FnMut(&mut Rng, ScoreInput)) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..RUNS {
        let i = input(&mut rng);
        check(&mut rng, i);
    }
}

fn total(i: &ScoreInput) -> u8 {
    score(i).total
}

#[test]
fn every_score_is_bounded_explained_and_deterministic() {
    for_each_input(|rng, i| {
        let s = score(&i);
        assert!(s.total <= 100, "{i:?}");
        assert_eq!(s.formula, FORMULA);
        assert_eq!(s.grade, plaza_supply::score::grade(s.total));
        let regular: Vec<_> = s.factors.iter().filter(|f| f.id != "cap").collect();
        assert_eq!(regular.len(), 8);
        assert_eq!(regular.iter().map(|f| f.max).sum::<i32>(), 100);
        for f in &regular {
            assert!((0..=f.max).contains(&f.points), "{f:?} for {i:?}");
            assert!(!f.detail.is_empty());
        }
        // The total is the factors' sum, caps included.
        let sum: i32 = s.factors.iter().map(|f| f.points).sum();
        assert_eq!(sum, i32::from(s.total), "{s:#?}");
        // Same input, same score; the order of vulnerabilities and scopes does not matter.
        assert_eq!(score(&i.clone()), s);
        let mut shuffled = i.clone();
        shuffled.vulnerabilities.reverse();
        shuffled.scopes.reverse();
        if !shuffled.vulnerabilities.is_empty() {
            let k = usize::try_from(rng.below(shuffled.vulnerabilities.len() as u64)).unwrap();
            shuffled.vulnerabilities.rotate_left(k);
        }
        assert_eq!(score(&shuffled).total, s.total, "{i:?}");
    });
}

#[test]
fn adding_a_vulnerability_never_raises_the_score() {
    for_each_input(|rng, i| {
        let mut worse = i.clone();
        worse.vulnerabilities.push(vuln(rng));
        assert!(
            total(&worse) <= total(&i),
            "{i:?} + {:?}",
            worse.vulnerabilities.last()
        );
    });
}

#[test]
fn a_more_severe_vulnerability_never_raises_the_score_and_a_fix_never_lowers_the_penalty() {
    for_each_input(|_, i| {
        for (k, v) in i.vulnerabilities.iter().enumerate() {
            // Severity order for penalties: None < Low < Medium = Unknown < High < Critical.
            for more in [SeverityLevel::High, SeverityLevel::Critical] {
                if more > v.severity {
                    let mut worse = i.clone();
                    worse.vulnerabilities[k].severity = more;
                    assert!(total(&worse) <= total(&i), "{i:?}");
                }
            }
            // Documented choice: a vulnerability with a fix available weighs more.
            if !v.fix_available {
                let mut fixable = i.clone();
                fixable.vulnerabilities[k].fix_available = true;
                assert!(total(&fixable) <= total(&i), "{i:?}");
            }
        }
    });
}

#[test]
fn verifying_a_signature_never_lowers_the_score() {
    for_each_input(|_, i| {
        let mut verified = i.clone();
        verified.signature = SignatureFactor::Verified;
        let mut unsigned = i.clone();
        unsigned.signature = SignatureFactor::Unsigned;
        let mut invalid = i.clone();
        invalid.signature = SignatureFactor::Invalid { reason: "x".into() };
        assert!(total(&verified) >= total(&unsigned), "{i:?}");
        assert!(total(&unsigned) >= total(&invalid), "{i:?}");
    });
}

#[test]
fn broader_scopes_secrets_and_staler_dependencies_never_raise_the_score() {
    for_each_input(|rng, i| {
        let mut broader = i.clone();
        broader.scopes.push(rng.pick(&SCOPES).to_string());
        assert!(
            total(&broader) <= total(&i),
            "{i:?} + {:?}",
            broader.scopes.last()
        );

        let mut secret = i.clone();
        secret.secrets_found += 1;
        assert!(total(&secret) <= total(&i), "{i:?}");

        if let Some(d) = &i.dependencies {
            let mut staler = i.clone();
            staler.dependencies = Some(FreshnessFactor {
                total: d.total,
                outdated: d.outdated + 1,
            });
            assert!(total(&staler) <= total(&i), "{i:?}");
        }
    });
}

#[test]
fn measuring_or_improving_a_factor_never_lowers_the_score() {
    for_each_input(|_, i| {
        // Provenance: not checked < level 0 ≤ 1 ≤ 2 ≤ 3.
        let mut last = {
            let mut none = i.clone();
            none.provenance_level = None;
            total(&none)
        };
        for level in 0..=3 {
            let mut p = i.clone();
            p.provenance_level = Some(level);
            assert!(total(&p) >= last, "{i:?} at level {level}");
            last = total(&p);
        }
        // An unmeasured factor earns nothing: measuring it never lowers the total.
        let mut unmeasured = i.clone();
        unmeasured.dependencies = None;
        assert!(total(&i) >= total(&unmeasured), "{i:?}");
        let mut no_sbom = i.clone();
        no_sbom.sbom = None;
        assert!(total(&i) >= total(&no_sbom), "{i:?}");
        if let Some(s) = &i.sbom {
            let mut better = i.clone();
            better.sbom = Some(SbomFactor {
                with_purl: s.with_purl + 1,
                with_hash: s.with_hash + 1,
                with_license: s.with_license + 1,
                bound: true,
                ..s.clone()
            });
            assert!(total(&better) >= total(&i), "{i:?}");
        }
        let mut contact = i.clone();
        contact.contact_email = true;
        contact.maintainers += 1;
        assert!(total(&contact) >= total(&i), "{i:?}");
    });
}
