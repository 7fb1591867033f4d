//! The security score (`plaza-score/v1`): 0–100 from eight factors, each shown with its points,
//! its maximum and a sentence saying why.
//!
//! | factor | max |
//! |---|---|
//! | `signature` | 15 |
//! | `provenance` | 15 |
//! | `sbom` | 15 |
//! | `vulnerabilities` | 30 |
//! | `secrets` | 10 |
//! | `dependencies` | 5 |
//! | `maintainers` | 5 |
//! | `scopes` | 5 |
//!
//! Pure and deterministic: the same [`ScoreInput`] always gives the same [`Score`], whatever the
//! order of its vulnerabilities or scopes. All arithmetic is on integers (vulnerability
//! penalties in 1/64 points), so no rounding differs between machines. Monotone: a worse input
//! (one more vulnerability, a broader scope, a secret, a weaker signature, a lower provenance
//! level) never scores higher. Unmeasured factors (`None`) earn 0 points and keep their maximum:
//! the score only credits what was verified. The full formula is in `docs/score.md`.

use serde::{Deserialize, Deserializer, Serialize};

use crate::osv::SeverityLevel;

/// The formula's identifier, carried by every [`Score`]; bump it when the formula changes.
pub const FORMULA: &str = "plaza-score/v1";

/// Whether the artifact's signature verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SignatureFactor {
    /// Signed by a registered, valid publisher key, and the signature verified.
    Verified,
    /// No signature.
    Unsigned,
    /// A signature is present but does not verify (tampering, wrong key, revoked key, ...).
    Invalid {
        /// Why it did not verify, as the verifier said.
        reason: String,
    },
}

/// Everything the score looks at; the submission gate fills it from its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreInput {
    /// The signature check's outcome.
    pub signature: SignatureFactor,
    /// SLSA build level 0..=3 from verified provenance; `None` = not checked.
    pub provenance_level: Option<u8>,
    /// The SBOM's completeness; `None` = no SBOM.
    pub sbom: Option<SbomFactor>,
    /// One per (advisory, component) match.
    pub vulnerabilities: Vec<VulnFactor>,
    /// Secrets found in the artifact.
    pub secrets_found: u32,
    /// Dependency freshness; `None` = not measured.
    pub dependencies: Option<FreshnessFactor>,
    /// Number of maintainers the manifest lists.
    pub maintainers: u32,
    /// Whether the manifest gives a contact e-mail.
    pub contact_email: bool,
    /// Every scope the manifest requests.
    pub scopes: Vec<String>,
}

/// What an SBOM says about its components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SbomFactor {
    /// Components listed.
    pub components: u32,
    /// Components with a package URL.
    pub with_purl: u32,
    /// Components with at least one license.
    pub with_license: u32,
    /// Components with at least one hash.
    pub with_hash: u32,
    /// Whether the SBOM is bound to the artifact (referrer subject or manifest digest).
    pub bound: bool,
}

/// One vulnerability affecting one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VulnFactor {
    /// The advisory id (e.g. `GHSA-...`, `CVE-...`).
    pub id: String,
    /// The advisory's severity.
    #[serde(deserialize_with = "severity_level")]
    pub severity: SeverityLevel,
    /// Whether a fixed version is known.
    pub fix_available: bool,
}

/// How up to date the dependencies are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreshnessFactor {
    /// Dependencies measured.
    pub total: u32,
    /// Of those, how many have a newer release known (values above `total` count as `total`).
    pub outdated: u32,
}

/// `&'static str`, spelled so that serde's derive does not tie deserialization to `'static`
/// input (the strings are looked up in a fixed table instead, see `known_str`).
pub type StaticStr = &'static str;

/// The score, with every factor that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    /// 0..=100.
    pub total: u8,
    /// `A` (≥ 85), `B` (≥ 70), `C` (≥ 55), `D` (≥ 40) or `F`.
    pub grade: char,
    /// The factors, in a fixed order; the caps, when one applies, come last as a factor with
    /// `max` 0 and negative points.
    pub factors: Vec<Factor>,
    /// The formula's identifier ([`FORMULA`]).
    #[serde(deserialize_with = "known_str")]
    pub formula: StaticStr,
}

/// One factor's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    /// Stable identifier (`signature`, `provenance`, ...).
    #[serde(deserialize_with = "known_str")]
    pub id: StaticStr,
    /// Human label.
    #[serde(deserialize_with = "known_str")]
    pub label: StaticStr,
    /// Points earned, 0..=max (negative only for the `cap` adjustment).
    pub points: i32,
    /// Points available.
    pub max: i32,
    /// Why the factor got its points.
    pub detail: String,
}

/// How much a set of requested scopes lets an app do; the class multiplies vulnerability
/// penalties and sets the `scopes` factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScopeBreadth {
    /// No scopes, or only read-only / identity scopes (`calendar.read`, `openid`).
    Narrow,
    /// Scopes that can change data (`calendar.events.create`) or whose meaning is unknown.
    Standard,
    /// Wildcards or administrative scopes (`admin:org`, `files:*`, `write-all`).
    Broad,
}

impl ScopeBreadth {
    /// The breadth of one scope (case-insensitive).
    pub fn of_scope(scope: &str) -> ScopeBreadth {
        let scope = scope.trim().to_ascii_lowercase();
        let segments: Vec<&str> = scope.split(['.', ':', '/']).collect();
        let broad = scope == "*"
            || scope.ends_with('*')
            || segments
                .iter()
                .any(|s| BROAD_SEGMENTS.contains(s) || s.starts_with("admin"));
        if broad {
            return ScopeBreadth::Broad;
        }
        let last = segments.last().copied().unwrap_or_default();
        if IDENTITY_SCOPES.contains(&scope.as_str()) || READ_SEGMENTS.contains(&last) {
            ScopeBreadth::Narrow
        } else {
            ScopeBreadth::Standard
        }
    }

    /// The breadth of a set of scopes: the broadest one, with the scope that made it so.
    pub fn of_scopes(scopes: &[String]) -> (ScopeBreadth, Option<&str>) {
        let mut best = (ScopeBreadth::Narrow, None);
        for s in scopes {
            let b = ScopeBreadth::of_scope(s);
            if b > best.0 {
                best = (b, Some(s.as_str()));
            }
        }
        best
    }

    /// The vulnerability penalty multiplier, in quarters (4 = ×1).
    fn multiplier_quarters(self) -> i64 {
        match self {
            ScopeBreadth::Narrow => 4,
            ScopeBreadth::Standard => 5,
            ScopeBreadth::Broad => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ScopeBreadth::Narrow => "narrow",
            ScopeBreadth::Standard => "standard",
            ScopeBreadth::Broad => "broad",
        }
    }
}

/// Segments that make a scope broad wherever they appear.
const BROAD_SEGMENTS: &[&str] = &[
    "*",
    "all",
    "full",
    "full-access",
    "full_access",
    "manage",
    "owner",
    "read-all",
    "root",
    "sudo",
    "superuser",
    "write-all",
];
/// Last segments that make a scope read-only.
const READ_SEGMENTS: &[&str] = &[
    "get",
    "list",
    "read",
    "read-only",
    "read_only",
    "readonly",
    "view",
];
/// Whole scopes that only identify the user.
const IDENTITY_SCOPES: &[&str] = &["openid", "profile", "email"];

const MAX_SIGNATURE: i32 = 15;
const MAX_PROVENANCE: i32 = 15;
const MAX_SBOM: i32 = 15;
const MAX_VULNS: i32 = 30;
const MAX_SECRETS: i32 = 10;
const MAX_DEPENDENCIES: i32 = 5;
const MAX_MAINTAINERS: i32 = 5;
const MAX_SCOPES: i32 = 5;

/// Highest total with an invalid signature (grade F).
const CAP_INVALID_SIGNATURE: i32 = 39;
/// Highest total when a secret was found (grade D at best).
const CAP_SECRETS: i32 = 54;

/// Every `&'static str` a [`Score`] can hold, so that scores read back from JSON keep them.
const KNOWN: &[&str] = &[
    FORMULA,
    "signature",
    "Signature",
    "provenance",
    "Provenance (SLSA build level)",
    "sbom",
    "SBOM completeness",
    "vulnerabilities",
    "Vulnerabilities",
    "secrets",
    "Secrets",
    "dependencies",
    "Dependency freshness",
    "maintainers",
    "Maintainers and contact",
    "scopes",
    "Requested scope breadth",
    "cap",
    "Cap",
];

fn known_str<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    KNOWN.iter().copied().find(|k| *k == s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{s}` is not a factor id, label or formula of {FORMULA}; a score written by a different formula version cannot be read as this one"
        ))
    })
}

fn severity_level<'de, D: Deserializer<'de>>(d: D) -> Result<SeverityLevel, D::Error> {
    let s = String::deserialize(d)?;
    if s.eq_ignore_ascii_case("unknown") {
        return Ok(SeverityLevel::Unknown);
    }
    SeverityLevel::from_name(&s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{s}` is not a severity; use one of Unknown, None, Low, Medium, High, Critical"
        ))
    })
}

/// Computes the score. Never panics; any input gives a total in 0..=100.
pub fn score(input: &ScoreInput) -> Score {
    let (breadth, broadest) = ScopeBreadth::of_scopes(&input.scopes);
    let mut factors = vec![
        signature_factor(&input.signature),
        provenance_factor(input.provenance_level),
        sbom_factor(input.sbom.as_ref()),
        vulnerabilities_factor(&input.vulnerabilities, breadth, broadest),
        secrets_factor(input.secrets_found),
        dependencies_factor(input.dependencies.as_ref()),
        maintainers_factor(input.maintainers, input.contact_email),
        scopes_factor(input.scopes.len(), breadth, broadest),
    ];
    let sum: i32 = factors.iter().map(|f| f.points).sum();
    let mut caps = Vec::new();
    if matches!(input.signature, SignatureFactor::Invalid { .. }) {
        caps.push((CAP_INVALID_SIGNATURE, "an invalid signature"));
    }
    if input.secrets_found > 0 {
        caps.push((CAP_SECRETS, "secrets found in the artifact"));
    }
    let mut total = sum.clamp(0, 100);
    if let Some(&(cap, why)) = caps.iter().min_by_key(|(c, _)| *c) {
        if total > cap {
            factors.push(Factor {
                id: "cap",
                label: "Cap",
                points: cap - total,
                max: 0,
                detail: format!("total capped at {cap} because of {why} (factors sum to {total})"),
            });
            total = cap;
        }
    }
    let total = u8::try_from(total).unwrap_or(0);
    Score {
        total,
        grade: grade(total),
        factors,
        formula: FORMULA,
    }
}

/// The letter grade of a total.
pub fn grade(total: u8) -> char {
    match total {
        85.. => 'A',
        70..=84 => 'B',
        55..=69 => 'C',
        40..=54 => 'D',
        _ => 'F',
    }
}

fn signature_factor(sig: &SignatureFactor) -> Factor {
    let (points, detail) = match sig {
        SignatureFactor::Verified => (MAX_SIGNATURE, "signature verified".to_string()),
        SignatureFactor::Unsigned => (0, "the artifact is not signed".to_string()),
        SignatureFactor::Invalid { reason } => (
            0,
            format!("the signature does not verify ({reason}); the total is capped at {CAP_INVALID_SIGNATURE}"),
        ),
    };
    Factor {
        id: "signature",
        label: "Signature",
        points,
        max: MAX_SIGNATURE,
        detail,
    }
}

fn provenance_factor(level: Option<u8>) -> Factor {
    let (points, detail) = match level {
        None => (
            0,
            "not measured: provenance was not checked, so it earns nothing".to_string(),
        ),
        Some(l) => {
            let l = l.min(3);
            (
                i32::from(l) * 5,
                format!("verified provenance at SLSA build level {l} (5 points per level)"),
            )
        }
    };
    Factor {
        id: "provenance",
        label: "Provenance (SLSA build level)",
        points,
        max: MAX_PROVENANCE,
        detail,
    }
}

/// `weight × part / whole`, rounded down, with `part` clamped to `whole`; 0 when `whole` is 0.
fn share(weight: i32, part: u32, whole: u32) -> i32 {
    if whole == 0 {
        return 0;
    }
    let part = i64::from(part.min(whole));
    i32::try_from(i64::from(weight) * part / i64::from(whole)).unwrap_or(0)
}

fn sbom_factor(sbom: Option<&SbomFactor>) -> Factor {
    let (points, detail) = match sbom {
        None => (0, "no SBOM".to_string()),
        Some(s) => {
            let bound = if s.bound { 3 } else { 0 };
            let purl = share(4, s.with_purl, s.components);
            let hash = share(3, s.with_hash, s.components);
            let license = share(2, s.with_license, s.components);
            let n = s.components;
            let pct = |k: u32| share(100, k, n);
            let detail = if n == 0 {
                format!(
                    "SBOM present (3) but lists no components; {}",
                    if s.bound {
                        "bound to the artifact (3)"
                    } else {
                        "not bound to the artifact (0)"
                    }
                )
            } else {
                format!(
                    "SBOM present (3), {} ({bound}); of {n} components {}% have a purl ({purl}/4), {}% a hash ({hash}/3), {}% a license ({license}/2)",
                    if s.bound { "bound to the artifact" } else { "not bound to the artifact" },
                    pct(s.with_purl),
                    pct(s.with_hash),
                    pct(s.with_license),
                )
            };
            (3 + bound + purl + hash + license, detail)
        }
    };
    Factor {
        id: "sbom",
        label: "SBOM completeness",
        points,
        max: MAX_SBOM,
        detail,
    }
}

/// A vulnerability's base penalty in quarter points.
fn severity_quarters(level: SeverityLevel) -> i64 {
    match level {
        SeverityLevel::Critical => 80,
        SeverityLevel::High => 40,
        SeverityLevel::Medium | SeverityLevel::Unknown => 16,
        SeverityLevel::Low => 4,
        SeverityLevel::None => 0,
    }
}

const LEVELS: [(SeverityLevel, &str); 6] = [
    (SeverityLevel::Critical, "critical"),
    (SeverityLevel::High, "high"),
    (SeverityLevel::Medium, "medium"),
    (SeverityLevel::Low, "low"),
    (SeverityLevel::Unknown, "of unknown severity"),
    (SeverityLevel::None, "of severity none"),
];

fn vulnerabilities_factor(
    vulns: &[VulnFactor],
    breadth: ScopeBreadth,
    broadest: Option<&str>,
) -> Factor {
    // Penalty in 1/64 points: base (quarters) × fix (quarters: 4 with a fix, 3 without) ×
    // breadth (quarters).
    let mut penalty64: i64 = 0;
    for v in vulns {
        let fix = if v.fix_available { 4 } else { 3 };
        penalty64 = penalty64
            .saturating_add(severity_quarters(v.severity) * fix * breadth.multiplier_quarters());
    }
    // Round the penalty up, so that any penalty costs at least one point.
    let penalty = penalty64.saturating_add(63) / 64;
    let points = i32::try_from((i64::from(MAX_VULNS) - penalty).max(0)).unwrap_or(0);
    let detail = if vulns.is_empty() {
        "no known vulnerabilities".to_string()
    } else {
        let mut parts = Vec::new();
        for (level, name) in LEVELS {
            let n = vulns.iter().filter(|v| v.severity == level).count();
            if n > 0 {
                let fixed = vulns
                    .iter()
                    .filter(|v| v.severity == level && v.fix_available)
                    .count();
                parts.push(format!("{n} {name} ({fixed} with a fix)"));
            }
        }
        let scope = match (breadth, broadest) {
            (ScopeBreadth::Narrow, _) | (_, None) => {
                "scope breadth ×1 (no scope broader than read-only is requested)".to_string()
            }
            (b, Some(s)) => format!(
                "scope breadth ×{} because `{s}` is requested ({} scope)",
                match b {
                    ScopeBreadth::Standard => "1.25",
                    _ => "2",
                },
                b.name()
            ),
        };
        let counted = if penalty > i64::from(MAX_VULNS) {
            format!("penalty {penalty} points, of which {MAX_VULNS} count")
        } else {
            format!("penalty {penalty} points")
        };
        format!("{}; {scope}; {counted}", parts.join(", "))
    };
    Factor {
        id: "vulnerabilities",
        label: "Vulnerabilities",
        points,
        max: MAX_VULNS,
        detail,
    }
}

fn secrets_factor(found: u32) -> Factor {
    let (points, detail) = match found {
        0 => (MAX_SECRETS, "no secrets found".to_string()),
        1 => (
            0,
            format!("1 secret found; the total is capped at {CAP_SECRETS}"),
        ),
        n => (
            0,
            format!("{n} secrets found; the total is capped at {CAP_SECRETS}"),
        ),
    };
    Factor {
        id: "secrets",
        label: "Secrets",
        points,
        max: MAX_SECRETS,
        detail,
    }
}

fn dependencies_factor(deps: Option<&FreshnessFactor>) -> Factor {
    let (points, detail) = match deps {
        None => (
            0,
            "not measured: dependency freshness was not checked, so it earns nothing".to_string(),
        ),
        Some(d) if d.total == 0 => (MAX_DEPENDENCIES, "no dependencies".to_string()),
        Some(d) => {
            let outdated = d.outdated.min(d.total);
            let current = d.total - outdated;
            (
                share(MAX_DEPENDENCIES, current, d.total),
                format!(
                    "{current} of {} dependencies up to date, {outdated} outdated",
                    d.total
                ),
            )
        }
    };
    Factor {
        id: "dependencies",
        label: "Dependency freshness",
        points,
        max: MAX_DEPENDENCIES,
        detail,
    }
}

fn maintainers_factor(maintainers: u32, contact_email: bool) -> Factor {
    let m = match maintainers {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    let c = if contact_email { 2 } else { 0 };
    let who = match maintainers {
        0 => "no maintainer listed (0/3)".to_string(),
        1 => "1 maintainer (2/3; a second one gives 3)".to_string(),
        n => format!("{n} maintainers (3/3)"),
    };
    let contact = if contact_email {
        "a contact e-mail (2/2)"
    } else {
        "no contact e-mail (0/2)"
    };
    Factor {
        id: "maintainers",
        label: "Maintainers and contact",
        points: m + c,
        max: MAX_MAINTAINERS,
        detail: format!("{who}, {contact}"),
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn scopes_factor(count: usize, breadth: ScopeBreadth, broadest: Option<&str>) -> Factor {
    let points = match breadth {
        ScopeBreadth::Narrow => 5,
        ScopeBreadth::Standard => 3,
        ScopeBreadth::Broad => 0,
    };
    let detail = match (count, broadest) {
        (0, _) => "no scopes requested".to_string(),
        (n, None) => format!(
            "{} requested, all read-only or identity (narrow)",
            plural(n, "scope")
        ),
        (n, Some(s)) => format!(
            "{} requested; `{s}` makes the set {} (vulnerability penalties ×{})",
            plural(n, "scope"),
            breadth.name(),
            match breadth {
                ScopeBreadth::Standard => "1.25",
                ScopeBreadth::Broad => "2",
                ScopeBreadth::Narrow => "1",
            }
        ),
    };
    Factor {
        id: "scopes",
        label: "Requested scope breadth",
        points,
        max: MAX_SCOPES,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean() -> ScoreInput {
        ScoreInput {
            signature: SignatureFactor::Verified,
            provenance_level: Some(3),
            sbom: Some(SbomFactor {
                components: 10,
                with_purl: 10,
                with_license: 10,
                with_hash: 10,
                bound: true,
            }),
            vulnerabilities: vec![],
            secrets_found: 0,
            dependencies: Some(FreshnessFactor {
                total: 10,
                outdated: 0,
            }),
            maintainers: 2,
            contact_email: true,
            scopes: vec!["calendar.read".into()],
        }
    }

    #[test]
    fn maxima_sum_to_100_and_a_perfect_input_gets_them_all() {
        let s = score(&clean());
        assert_eq!(s.factors.iter().map(|f| f.max).sum::<i32>(), 100);
        assert_eq!(s.total, 100);
        assert_eq!(s.grade, 'A');
        assert!(s.factors.iter().all(|f| f.points == f.max), "{s:#?}");
    }

    #[test]
    fn scope_classification() {
        for (s, b) in [
            ("calendar.read", ScopeBreadth::Narrow),
            ("openid", ScopeBreadth::Narrow),
            ("repo:read-only", ScopeBreadth::Narrow),
            ("calendar.events.create", ScopeBreadth::Standard),
            ("repo:status", ScopeBreadth::Standard),
            ("admin:org", ScopeBreadth::Broad),
            ("Admin:Org", ScopeBreadth::Broad),
            ("files:*", ScopeBreadth::Broad),
            ("*", ScopeBreadth::Broad),
            ("write-all", ScopeBreadth::Broad),
            ("administrator", ScopeBreadth::Broad),
        ] {
            assert_eq!(ScopeBreadth::of_scope(s), b, "{s}");
        }
        let scopes = vec!["calendar.read".to_string(), "admin:org".to_string()];
        assert_eq!(
            ScopeBreadth::of_scopes(&scopes),
            (ScopeBreadth::Broad, Some("admin:org"))
        );
    }

    #[test]
    fn one_critical_with_a_fix_costs_20_points_when_narrow_and_all_30_when_broad() {
        let mut i = clean();
        i.vulnerabilities.push(VulnFactor {
            id: "GHSA-x".into(),
            severity: SeverityLevel::Critical,
            fix_available: true,
        });
        let narrow = score(&i);
        assert_eq!(narrow.factors[3].points, 10);
        i.scopes.push("admin:org".into());
        let broad = score(&i);
        assert_eq!(broad.factors[3].points, 0);
        assert!(broad.factors[3].detail.contains("×2 because `admin:org`"));
        assert_eq!(narrow.total - broad.total, 15);
    }

    #[test]
    fn caps_apply_and_are_shown() {
        let mut i = clean();
        i.signature = SignatureFactor::Invalid {
            reason: "digest mismatch".into(),
        };
        let s = score(&i);
        assert_eq!(s.total, 39);
        assert_eq!(s.grade, 'F');
        let cap = s.factors.last().unwrap();
        assert_eq!((cap.id, cap.points), ("cap", 39 - 85));
        let mut i = clean();
        i.secrets_found = 2;
        assert_eq!(score(&i).total, 54);
    }

    #[test]
    fn score_json_round_trips() {
        let mut i = clean();
        i.secrets_found = 1;
        let s = score(&i);
        let json = serde_json::to_string(&s).unwrap();
        let back: Score = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = json.replace("plaza-score/v1", "plaza-score/v0");
        let err = serde_json::from_str::<Score>(&bad).unwrap_err().to_string();
        assert!(err.contains("plaza-score/v0"), "{err}");
        let input = serde_json::to_string(&i).unwrap();
        assert_eq!(serde_json::from_str::<ScoreInput>(&input).unwrap(), i);
    }

    #[test]
    fn severity_reads_case_insensitively_and_rejects_unknown_names() {
        let v: VulnFactor =
            serde_json::from_str(r#"{"id":"X","severity":"critical","fixAvailable":false}"#)
                .unwrap();
        assert_eq!(v.severity, SeverityLevel::Critical);
        let e = serde_json::from_str::<VulnFactor>(
            r#"{"id":"X","severity":"severe","fixAvailable":false}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("`severe` is not a severity"), "{e}");
    }
}
