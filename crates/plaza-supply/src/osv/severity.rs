//! Severity of an advisory: CVSS v3.0/v3.1 base scores computed from the vector exactly as the
//! FIRST specifications define them (v3.1 with its `Roundup` on integers, v3.0 with the plain
//! ceiling to one decimal), CVSS v4.0 scores ([`super::cvss4`]), levels
//! None/Low/Medium/High/Critical, and `database_specific.severity` (e.g. GitHub's `"HIGH"`) as
//! fallback. When a record has several vectors, a CVSS v4.0 one is preferred (the newest
//! standard), then the highest CVSS v3 score.

use serde::Serialize;
use serde_json::Value;

use super::cvss4::cvss4_score;
use super::error::OsvError;
use super::model::{Advisory, Severity};

/// A qualitative severity level (CVSS's rating scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SeverityLevel {
    /// No score could be established (see the reason).
    Unknown,
    /// 0.0.
    None,
    /// 0.1–3.9.
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9.
    High,
    /// 9.0–10.0.
    Critical,
}

impl SeverityLevel {
    /// The CVSS rating of a base score.
    pub fn from_score(score: f64) -> SeverityLevel {
        if score <= 0.0 {
            SeverityLevel::None
        } else if score < 4.0 {
            SeverityLevel::Low
        } else if score < 7.0 {
            SeverityLevel::Medium
        } else if score < 9.0 {
            SeverityLevel::High
        } else {
            SeverityLevel::Critical
        }
    }

    /// Reads a level name case-insensitively (`LOW`, `moderate` = Medium, `important` = High).
    pub fn from_name(name: &str) -> Option<SeverityLevel> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "none" => SeverityLevel::None,
            "low" => SeverityLevel::Low,
            "medium" | "moderate" => SeverityLevel::Medium,
            "high" | "important" => SeverityLevel::High,
            "critical" => SeverityLevel::Critical,
            _ => return None,
        })
    }
}

/// An advisory's severity as this module established it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityInfo {
    /// The level.
    pub level: SeverityLevel,
    /// The CVSS base score, when one was computed.
    pub score: Option<f64>,
    /// Where the level comes from: the CVSS vector, or `database_specific.severity`.
    pub source: Option<String>,
    /// Why the level is what it is when it is not a computed score (e.g. "CVSS v4 not scored").
    pub reason: Option<String>,
}

fn cvss_err(vector: &str, problem: impl Into<String>) -> OsvError {
    OsvError::Cvss {
        vector: vector.to_string(),
        problem: problem.into(),
    }
}

/// CVSS v3.1's `Roundup`: the smallest number with one decimal that is ≥ the input, computed on
/// integers to avoid floating-point artefacts.
pub fn roundup_v31(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

fn roundup_v30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// The base score of a CVSS v3.0 or v3.1 vector (`CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…`,
/// temporal and environmental metrics allowed and ignored).
pub fn cvss3_base_score(vector: &str) -> Result<f64, OsvError> {
    let mut parts = vector.trim().split('/');
    let v31 = match parts.next() {
        Some("CVSS:3.1") => true,
        Some("CVSS:3.0") => false,
        _ => {
            return Err(cvss_err(
                vector,
                "it does not start with CVSS:3.0/ or CVSS:3.1/",
            ))
        }
    };
    const KNOWN: [&str; 22] = [
        "AV", "AC", "PR", "UI", "S", "C", "I", "A", "E", "RL", "RC", "CR", "IR", "AR", "MAV",
        "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
    ];
    let mut seen: Vec<(&str, &str)> = Vec::with_capacity(11);
    for part in parts {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| cvss_err(vector, format!("`{part}` is not METRIC:VALUE")))?;
        if !KNOWN.contains(&k) {
            return Err(cvss_err(vector, format!("unknown metric `{k}`")));
        }
        if seen.iter().any(|(s, _)| *s == k) {
            return Err(cvss_err(vector, format!("metric `{k}` appears twice")));
        }
        seen.push((k, v));
    }
    let get = |k: &str| -> Result<&str, OsvError> {
        seen.iter()
            .find(|(s, _)| *s == k)
            .map(|(_, v)| *v)
            .ok_or_else(|| cvss_err(vector, format!("base metric `{k}` is missing")))
    };
    let bad = |k: &str, v: &str| cvss_err(vector, format!("`{k}:{v}` is not a valid value"));
    let scope_changed = match get("S")? {
        "U" => false,
        "C" => true,
        v => return Err(bad("S", v)),
    };
    let av = match get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        v => return Err(bad("AV", v)),
    };
    let ac = match get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        v => return Err(bad("AC", v)),
    };
    let pr = match (get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        (v, _) => return Err(bad("PR", v)),
    };
    let ui = match get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        v => return Err(bad("UI", v)),
    };
    let cia = |k: &str| -> Result<f64, OsvError> {
        match get(k)? {
            "H" => Ok(0.56),
            "L" => Ok(0.22),
            "N" => Ok(0.0),
            v => Err(bad(k, v)),
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - ((1.0 - c) * (1.0 - i) * (1.0 - a));
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let roundup = if v31 { roundup_v31 } else { roundup_v30 };
    Ok(if impact <= 0.0 {
        0.0
    } else if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    })
}

/// The severity of a set of OSV severity entries plus an optional database-specific level:
/// a CVSS v4.0 score when there is one, else the highest CVSS v3 score, else the database's level,
/// else Unknown with the reason.
pub fn assess(entries: &[Severity], database_specific: Option<&Value>) -> SeverityInfo {
    let mut best_v4: Option<(f64, &str)> = None;
    let mut best_v3: Option<(f64, &str)> = None;
    let mut reasons: Vec<String> = Vec::new();
    for e in entries {
        let (scored, slot) = match e.kind.as_str() {
            "CVSS_V3" => (cvss3_base_score(&e.score), &mut best_v3),
            "CVSS_V4" => (cvss4_score(&e.score), &mut best_v4),
            other => {
                reasons.push(format!("severity type `{other}` is not scored here"));
                continue;
            }
        };
        match scored {
            Ok(s) => {
                if slot.is_none_or(|(b, _)| s > b) {
                    *slot = Some((s, e.score.as_str()));
                }
            }
            Err(err) => reasons.push(err.to_string()),
        }
    }
    if let Some((score, vector)) = best_v4.or(best_v3) {
        return SeverityInfo {
            level: SeverityLevel::from_score(score),
            score: Some(score),
            source: Some(vector.to_string()),
            reason: None,
        };
    }
    let db_level = database_specific
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str);
    if let Some(level) = db_level.and_then(SeverityLevel::from_name) {
        return SeverityInfo {
            level,
            score: None,
            source: Some("database_specific.severity".to_string()),
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        };
    }
    if reasons.is_empty() {
        reasons.push("the advisory has no severity".to_string());
    }
    SeverityInfo {
        level: SeverityLevel::Unknown,
        score: None,
        source: None,
        reason: Some(reasons.join("; ")),
    }
}

/// An advisory's severity: its top-level `severity`, else the entries of its `affected[]`
/// (the schema allows either, never both), with `database_specific.severity` as fallback.
pub fn advisory_severity(advisory: &Advisory) -> SeverityInfo {
    if !advisory.severity.is_empty() {
        return assess(&advisory.severity, advisory.database_specific.as_ref());
    }
    let per_package: Vec<Severity> = advisory
        .affected
        .iter()
        .flat_map(|a| a.severity.iter().cloned())
        .collect();
    let db = advisory.database_specific.as_ref().or_else(|| {
        advisory.affected.iter().find_map(|a| {
            a.database_specific
                .as_ref()
                .filter(|d| d.get("severity").is_some())
        })
    });
    assess(&per_package, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_spec_examples() {
        // Scores as the FIRST v3.1 calculator gives them.
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N/E:P/RL:O", 4.8),
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:N", 5.5),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ];
        for (v, want) in cases {
            assert_eq!(cvss3_base_score(v).unwrap(), want, "{v}");
        }
    }

    #[test]
    fn v31_roundup_avoids_float_artefacts() {
        assert_eq!(roundup_v31(4.000_000_1), 4.0);
        assert_eq!(roundup_v31(4.02), 4.1);
        assert_eq!(roundup_v31(4.0), 4.0);
    }

    #[test]
    fn bad_vectors_are_errors() {
        for v in [
            "AV:N/AC:L",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
        ] {
            assert!(cvss3_base_score(v).is_err(), "{v}");
        }
    }

    #[test]
    fn levels_and_fallbacks() {
        let v4 = Severity {
            kind: "CVSS_V4".into(),
            score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into(),
        };
        let v3 = Severity {
            kind: "CVSS_V3".into(),
            score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
        };
        let info = assess(&[v3.clone(), v4.clone()], None);
        assert_eq!(info.score, Some(9.3), "v4 preferred over a higher v3");
        assert_eq!(info.level, SeverityLevel::Critical);
        let bad = Severity {
            kind: "CVSS_V4".into(),
            score: "CVSS:4.0/AV:N".into(),
        };
        let info = assess(std::slice::from_ref(&bad), None);
        assert_eq!(info.level, SeverityLevel::Unknown);
        assert!(info.reason.unwrap().contains("base metric"));
        let db = serde_json::json!({"severity": "HIGH"});
        let info = assess(&[bad], Some(&db));
        assert_eq!(info.level, SeverityLevel::High);
        assert_eq!(info.source.as_deref(), Some("database_specific.severity"));
        let info = assess(&[], None);
        assert_eq!(info.reason.as_deref(), Some("the advisory has no severity"));
        assert_eq!(SeverityLevel::from_score(3.9), SeverityLevel::Low);
        assert_eq!(SeverityLevel::from_score(9.0), SeverityLevel::Critical);
        assert_eq!(SeverityLevel::from_score(0.0), SeverityLevel::None);
    }
}
