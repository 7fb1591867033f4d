//! Software composition analysis: every component of an SBOM looked up in the OSV index, with
//! what could not be checked said out loud. `plaza scan` and the server's submission gate call
//! [`match_sbom`], so they never disagree.

use crate::osv::{parse_purl, SeverityLevel, VulnIndex};
use crate::sbom::Sbom;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One vulnerability of one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VulnFinding {
    /// The advisory id (e.g. `GO-2024-2687`, `PYSEC-2021-66`).
    pub id: Arc<str>,
    /// Its aliases (CVE, GHSA, …).
    pub aliases: Arc<[String]>,
    /// Its summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Arc<str>>,
    /// Severity level.
    pub severity: SeverityLevel,
    /// CVSS base score, when one was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The component's purl as the SBOM wrote it (shared by the component's findings).
    pub purl: Arc<str>,
    /// OSV ecosystem.
    pub ecosystem: Arc<str>,
    /// Package name as OSV writes it.
    pub name: Arc<str>,
    /// The component's version.
    pub version: Arc<str>,
    /// Versions that fix it (above the component's version).
    pub fixed_versions: Vec<String>,
    /// Whether a fixed version exists.
    pub fix_available: bool,
    /// The component's reference in the SBOM (`bom-ref`, `SPDXID`, or a JSON pointer).
    pub component: Arc<str>,
}

/// A component that could not be looked up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotChecked {
    /// The component's reference in the SBOM.
    pub component: String,
    /// Its name.
    pub name: String,
    /// Why it was not checked.
    pub reason: String,
}

/// An advisory range that applied to a component's package but could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UncheckedRange {
    /// The advisory id.
    pub id: String,
    /// The component's purl.
    pub purl: String,
    /// Why (e.g. the ecosystem has no version ordering here).
    pub reason: String,
}

/// The result of matching an SBOM.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SbomScan {
    /// Components in the SBOM (the subject not counted).
    pub components: usize,
    /// Components looked up (with a purl and a version).
    pub checked: usize,
    /// Vulnerabilities found, most severe first, then by purl and id.
    pub findings: Vec<VulnFinding>,
    /// Components not looked up.
    pub not_checked: Vec<NotChecked>,
    /// Ranges that could not be evaluated.
    pub unchecked_ranges: Vec<UncheckedRange>,
    /// Findings a VEX statement covers (see [`crate::vex::apply`]): kept visible, not counted.
    pub suppressed: Vec<crate::vex::SuppressedFinding>,
}

impl SbomScan {
    /// Findings per severity, by lowercase level name (`critical`, `high`, `medium`, `low`,
    /// `none`, `unknown`), every level present.
    pub fn counts(&self) -> BTreeMap<&'static str, u32> {
        let mut counts: BTreeMap<&'static str, u32> =
            ["critical", "high", "medium", "low", "none", "unknown"]
                .into_iter()
                .map(|l| (l, 0))
                .collect();
        for f in &self.findings {
            *counts.entry(level_name(f.severity)).or_default() += 1;
        }
        counts
    }

    /// Findings at `level` or above.
    pub fn at_or_above(&self, level: SeverityLevel) -> usize {
        self.findings.iter().filter(|f| f.severity >= level).count()
    }
}

/// The lowercase name of a level.
pub fn level_name(level: SeverityLevel) -> &'static str {
    match level {
        SeverityLevel::Critical => "critical",
        SeverityLevel::High => "high",
        SeverityLevel::Medium => "medium",
        SeverityLevel::Low => "low",
        SeverityLevel::None => "none",
        SeverityLevel::Unknown => "unknown",
    }
}

/// The level with this (case-insensitive) name.
pub fn parse_level(name: &str) -> Option<SeverityLevel> {
    match name.to_ascii_lowercase().as_str() {
        "critical" => Some(SeverityLevel::Critical),
        "high" => Some(SeverityLevel::High),
        "medium" | "moderate" => Some(SeverityLevel::Medium),
        "low" => Some(SeverityLevel::Low),
        "none" => Some(SeverityLevel::None),
        "unknown" => Some(SeverityLevel::Unknown),
        _ => None,
    }
}

/// Looks every component of `sbom` up in `index`. A component is looked up by its purl; the
/// purl's version, else the component's own `version`, is the version queried.
pub fn match_sbom(sbom: &Sbom, index: &VulnIndex) -> SbomScan {
    let mut scan = SbomScan {
        components: sbom.components.len(),
        ..SbomScan::default()
    };
    for c in &sbom.components {
        let not_checked = |reason: String| NotChecked {
            component: c.ref_id.clone(),
            name: c.name.clone(),
            reason,
        };
        let Some(purl) = c.purl.as_deref() else {
            scan.not_checked.push(not_checked(
                "no purl: the SBOM does not say which package it is".into(),
            ));
            continue;
        };
        let package = match parse_purl(purl) {
            Ok(p) => p,
            Err(e) => {
                scan.not_checked.push(not_checked(e.to_string()));
                continue;
            }
        };
        let Some(version) = package.version.clone().or_else(|| c.version.clone()) else {
            scan.not_checked.push(not_checked(format!(
                "{purl} has no version, nor has the component"
            )));
            continue;
        };
        scan.checked += 1;
        let result = index.query(&package.ecosystem, &package.name, &version);
        if !result.matches.is_empty() {
            // The component's strings are made once, the advisory's at index time: findings
            // share them.
            let shared_purl: Arc<str> = Arc::from(purl);
            let ecosystem: Arc<str> = Arc::from(package.ecosystem.as_str());
            let name: Arc<str> = Arc::from(package.name.as_str());
            let version: Arc<str> = Arc::from(version.as_str());
            let component: Arc<str> = Arc::from(c.ref_id.as_str());
            for m in &result.matches {
                scan.findings.push(VulnFinding {
                    id: Arc::clone(&m.text.id),
                    aliases: Arc::clone(&m.text.aliases),
                    summary: m.text.summary.clone(),
                    severity: m.severity.level,
                    score: m.severity.score,
                    purl: Arc::clone(&shared_purl),
                    ecosystem: Arc::clone(&ecosystem),
                    name: Arc::clone(&name),
                    version: Arc::clone(&version),
                    fixed_versions: m.fixed_versions.iter().map(|v| (*v).to_owned()).collect(),
                    fix_available: m.fix_available,
                    component: Arc::clone(&component),
                });
            }
        }
        for u in &result.unevaluated {
            scan.unchecked_ranges.push(UncheckedRange {
                id: u.id.clone(),
                purl: purl.to_owned(),
                reason: u.reason.to_string(),
            });
        }
    }
    // Sorted through a permutation of small keys: findings are large, moving them is not free.
    let mut order: Vec<(SeverityLevel, &str, &str, usize)> = scan
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.severity, &*f.purl, &*f.id, i))
        .collect();
    order.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cmp(b.1))
            .then_with(|| a.2.cmp(b.2))
            .then(a.3.cmp(&b.3))
    });
    let order: Vec<usize> = order.into_iter().map(|(.., i)| i).collect();
    let mut slots: Vec<Option<VulnFinding>> = std::mem::take(&mut scan.findings)
        .into_iter()
        .map(Some)
        .collect();
    scan.findings = order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect();
    scan.findings
        .dedup_by(|a, b| a.id == b.id && a.purl == b.purl && a.component == b.component);
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::parse_advisory;
    use crate::sbom::parse_sbom;

    const ADVISORY: &str = r#"{
        "id": "PYSEC-TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.11.3"}]}]}],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    }"#;

    fn sbom(components: &str) -> Sbom {
        let doc = format!(
            r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{components}]}}"#
        );
        match parse_sbom(doc.as_bytes(), "test.json") {
            Ok(s) => s,
            Err(e) => panic!("test SBOM: {e}"),
        }
    }

    fn index() -> VulnIndex {
        match parse_advisory(ADVISORY.as_bytes(), "a.json") {
            Ok(a) => VulnIndex::from_advisories([a]),
            Err(e) => panic!("test advisory: {e}"),
        }
    }

    #[test]
    fn components_are_matched_by_purl_and_the_rest_is_said() {
        let s = sbom(
            r#"{"type": "library", "bom-ref": "a", "name": "Jinja2", "purl": "pkg:pypi/Jinja2@2.10"},
               {"type": "library", "bom-ref": "b", "name": "jinja2", "purl": "pkg:pypi/jinja2@2.11.3"},
               {"type": "library", "bom-ref": "c", "name": "jinja2", "version": "2.0", "purl": "pkg:pypi/jinja2"},
               {"type": "library", "bom-ref": "d", "name": "mystery"}"#,
        );
        let scan = match_sbom(&s, &index());
        assert_eq!(scan.components, 4);
        assert_eq!(scan.checked, 3);
        let hits: Vec<(&str, &str)> = scan
            .findings
            .iter()
            .map(|f| (&*f.component, &*f.version))
            .collect();
        assert_eq!(hits, [("a", "2.10"), ("c", "2.0")], "2.11.3 is the fix");
        let f = &scan.findings[0];
        assert_eq!(f.severity, SeverityLevel::Critical);
        assert_eq!(f.fixed_versions, ["2.11.3"]);
        assert!(f.fix_available);
        assert_eq!(&*f.aliases, ["CVE-2024-0001"]);
        assert_eq!(scan.not_checked.len(), 1);
        assert!(scan.not_checked[0].reason.contains("no purl"));
        assert_eq!(scan.counts()["critical"], 2);
        assert_eq!(scan.at_or_above(SeverityLevel::High), 2);
        assert_eq!(scan.at_or_above(SeverityLevel::Critical), 2);
    }

    #[test]
    fn level_names_round_trip() {
        for l in [
            SeverityLevel::Critical,
            SeverityLevel::High,
            SeverityLevel::Medium,
            SeverityLevel::Low,
            SeverityLevel::None,
            SeverityLevel::Unknown,
        ] {
            assert_eq!(parse_level(level_name(l)), Some(l));
        }
        assert_eq!(parse_level("Moderate"), Some(SeverityLevel::Medium));
        assert_eq!(parse_level("severe"), None);
    }
}
