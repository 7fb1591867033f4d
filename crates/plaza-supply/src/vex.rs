//! VEX suppressions: statements that a vulnerability does not affect a product (OpenVEX
//! `not_affected` with a justification, or `fixed`), by the publisher or a reviewer, optionally
//! expiring. [`apply`] moves the findings they cover out of a scan's findings into its
//! `suppressed` list, which stays visible: a suppression hides nothing from the report.
//!
//! Read from OpenVEX 0.2 JSON documents ([`parse_openvex`]); the server stores the same
//! [`Suppression`] records.

use crate::scan::{SbomScan, VulnFinding};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a VEX statement says of the vulnerability in the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// The product is not affected (needs a justification or an impact statement).
    NotAffected,
    /// The product contains a fix.
    Fixed,
    /// The product is affected (suppresses nothing).
    Affected,
    /// Not known yet (suppresses nothing).
    UnderInvestigation,
}

/// OpenVEX's justifications for `not_affected`.
pub const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// One suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    /// The advisory id or one of its aliases (e.g. `GHSA-…`, `CVE-…`, `PYSEC-…`).
    pub vulnerability: String,
    /// The components it is about, as purls (a purl without a version covers every version);
    /// empty: every component.
    #[serde(default)]
    pub products: Vec<String>,
    /// What it says.
    pub status: VexStatus,
    /// Why not affected (one of [`JUSTIFICATIONS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Free-text explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// Who said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// After this it no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A finding a suppression covers, with the suppression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedFinding {
    /// The finding.
    pub finding: VulnFinding,
    /// What suppressed it.
    pub by: Suppression,
}

/// Why a VEX document or statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VexError {
    /// Not JSON, or not the shape OpenVEX has.
    #[error("{source_name}: {pointer}: {message}; see https://github.com/openvex/spec")]
    Invalid {
        /// The document's name.
        source_name: String,
        /// JSON pointer of the problem.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

impl Suppression {
    /// Checks the rules OpenVEX sets: `not_affected` needs a justification (one of
    /// [`JUSTIFICATIONS`]) or an impact statement; the vulnerability is named.
    pub fn validate(&self) -> Result<(), String> {
        if self.vulnerability.trim().is_empty() {
            return Err("name the vulnerability (an advisory id or alias)".into());
        }
        if let Some(j) = &self.justification {
            if !JUSTIFICATIONS.contains(&j.as_str()) {
                return Err(format!(
                    "justification `{j}` is not one of OpenVEX's: {}",
                    JUSTIFICATIONS.join(", ")
                ));
            }
        }
        if self.status == VexStatus::NotAffected
            && self.justification.is_none()
            && self
                .impact_statement
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
        {
            return Err(
                "a `not_affected` statement needs a justification or an impact statement".into(),
            );
        }
        Ok(())
    }

    /// Whether it covers `finding` at `now`.
    pub fn covers(&self, finding: &VulnFinding, now: DateTime<Utc>) -> bool {
        self.covers_parts(&finding.id, &finding.aliases, &finding.purl, now)
    }

    /// Whether it covers the advisory `id` (with `aliases`) in the component `purl` at `now`:
    /// it suppresses (`not_affected` or `fixed`), has not expired, names the advisory or an
    /// alias, and names the component (or no component at all).
    pub fn covers_parts(
        &self,
        id: &str,
        aliases: &[String],
        purl: &str,
        now: DateTime<Utc>,
    ) -> bool {
        if !matches!(self.status, VexStatus::NotAffected | VexStatus::Fixed) {
            return false;
        }
        if self.expires_at.is_some_and(|t| t <= now) {
            return false;
        }
        let named = self.vulnerability == id || aliases.contains(&self.vulnerability);
        named && (self.products.is_empty() || self.products.iter().any(|p| purl_covers(p, purl)))
    }
}

/// Whether the product purl `product` names the component purl `component`: same type,
/// namespace and name; same version when the product gives one. Qualifiers and subpaths are
/// ignored.
fn purl_covers(product: &str, component: &str) -> bool {
    // `@` in a namespace is written `%40` by the spec, literally by some tools.
    let (product, component) = (product.replace("%40", "@"), component.replace("%40", "@"));
    let (p_base, p_version) = split_purl(&product);
    let (c_base, c_version) = split_purl(&component);
    p_base.eq_ignore_ascii_case(c_base) && p_version.is_none_or(|v| Some(v) == c_version)
}

fn split_purl(purl: &str) -> (&str, Option<&str>) {
    let no_extras = purl.split(['?', '#']).next().unwrap_or(purl);
    // The version follows the last `@` after the last `/` (scoped npm names hold an `@`).
    let slash = no_extras.rfind('/').unwrap_or(0);
    match no_extras[slash..].rfind('@') {
        Some(at) => (&no_extras[..slash + at], Some(&no_extras[slash + at + 1..])),
        None => (no_extras, None),
    }
}

/// Moves every finding of `scan` that a suppression covers at `now` into `scan.suppressed`.
pub fn apply(scan: &mut SbomScan, suppressions: &[Suppression], now: DateTime<Utc>) {
    let findings = std::mem::take(&mut scan.findings);
    for finding in findings {
        match suppressions.iter().find(|s| s.covers(&finding, now)) {
            Some(by) => scan.suppressed.push(SuppressedFinding {
                finding,
                by: by.clone(),
            }),
            None => scan.findings.push(finding),
        }
    }
}

/// The suppressions of an OpenVEX document (statements that affect or are under investigation
/// are read and kept out: they suppress nothing).
pub fn parse_openvex(bytes: &[u8], source: &str) -> Result<Vec<Suppression>, VexError> {
    let invalid = |pointer: String, message: String| VexError::Invalid {
        source_name: source.to_owned(),
        pointer,
        message,
    };
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| invalid(String::new(), format!("not JSON: {e}")))?;
    let context = doc["@context"].as_str().unwrap_or_default();
    if !context.starts_with("https://openvex.dev/ns") {
        return Err(invalid(
            "/@context".into(),
            "not an OpenVEX document (its @context must be https://openvex.dev/ns/…)".into(),
        ));
    }
    let author = doc["author"].as_str().map(str::to_owned);
    let statements = doc["statements"]
        .as_array()
        .ok_or_else(|| invalid("/statements".into(), "must be an array".into()))?;
    let mut out = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let at = |field: &str| format!("/statements/{i}/{field}");
        let vulnerability = st["vulnerability"]["name"]
            .as_str()
            .or_else(|| st["vulnerability"]["@id"].as_str())
            .or_else(|| st["vulnerability"].as_str())
            .ok_or_else(|| invalid(at("vulnerability"), "needs a `name`".into()))?
            .to_owned();
        let status: VexStatus = serde_json::from_value(st["status"].clone()).map_err(|_| {
            invalid(
                at("status"),
                "must be not_affected, affected, fixed or under_investigation".into(),
            )
        })?;
        let mut products = Vec::new();
        for (j, p) in st["products"].as_array().into_iter().flatten().enumerate() {
            let id = p["@id"].as_str().or_else(|| p.as_str()).ok_or_else(|| {
                invalid(
                    format!("/statements/{i}/products/{j}"),
                    "needs an `@id` purl".into(),
                )
            })?;
            let subs: Vec<&str> = p["subcomponents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["@id"].as_str())
                .collect();
            // A statement about a product's subcomponents is about those components.
            if subs.is_empty() {
                products.push(id.to_owned());
            } else {
                products.extend(subs.into_iter().map(str::to_owned));
            }
        }
        let suppression = Suppression {
            vulnerability,
            products,
            status,
            justification: st["justification"].as_str().map(str::to_owned),
            impact_statement: st["impact_statement"].as_str().map(str::to_owned),
            author: author.clone(),
            expires_at: None,
        };
        suppression
            .validate()
            .map_err(|m| invalid(format!("/statements/{i}"), m))?;
        if matches!(status, VexStatus::NotAffected | VexStatus::Fixed) {
            out.push(suppression);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::SeverityLevel;
    use chrono::TimeZone;

    fn finding(id: &str, aliases: &[&str], purl: &str) -> VulnFinding {
        VulnFinding {
            id: id.into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            summary: None,
            severity: SeverityLevel::High,
            score: None,
            purl: purl.into(),
            ecosystem: "PyPI".into(),
            name: "jinja2".into(),
            version: "2.10".into(),
            fixed_versions: vec![],
            fix_available: false,
            component: "c".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn openvex_statements_suppress_by_id_or_alias_and_product() {
        let doc = br#"{
          "@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "Where2Eat security",
          "timestamp": "2026-01-01T00:00:00Z", "version": 1,
          "statements": [
            {"vulnerability": {"name": "CVE-2020-28493"}, "products": [{"@id": "pkg:pypi/jinja2"}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
            {"vulnerability": {"name": "PYSEC-2019-217"}, "products": [{"@id": "pkg:pypi/jinja2@9.9"}],
             "status": "fixed"},
            {"vulnerability": {"name": "CVE-1"}, "status": "affected"}
          ]}"#;
        let s = match parse_openvex(doc, "vex.json") {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.len(), 2, "affected statements suppress nothing");
        let mut scan = SbomScan {
            findings: vec![
                finding("PYSEC-2021-66", &["CVE-2020-28493"], "pkg:pypi/jinja2@2.10"),
                finding("PYSEC-2019-217", &[], "pkg:pypi/jinja2@2.10"),
            ],
            ..SbomScan::default()
        };
        apply(&mut scan, &s, now());
        assert_eq!(
            scan.findings.len(),
            1,
            "the fixed statement names another version"
        );
        assert_eq!(&*scan.findings[0].id, "PYSEC-2019-217");
        assert_eq!(scan.suppressed.len(), 1);
        assert_eq!(
            scan.suppressed[0].by.author.as_deref(),
            Some("Where2Eat security")
        );
    }

    #[test]
    fn expired_suppressions_stop_applying() {
        let mut s = Suppression {
            vulnerability: "PYSEC-2021-66".into(),
            products: vec![],
            status: VexStatus::NotAffected,
            justification: Some("component_not_present".into()),
            impact_statement: None,
            author: None,
            expires_at: Some(now()),
        };
        let f = finding("PYSEC-2021-66", &[], "pkg:pypi/jinja2@2.10");
        assert!(!s.covers(&f, now()));
        s.expires_at = Some(now() + chrono::Duration::days(1));
        assert!(s.covers(&f, now()));
    }

    #[test]
    fn not_affected_needs_a_reason_and_known_justifications() {
        let bad = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "status": "not_affected"}]}"#;
        let Err(e) = parse_openvex(bad, "v.json") else {
            panic!("accepted a not_affected statement with no reason");
        };
        assert!(e.to_string().contains("/statements/0"), "{e}");
        let odd = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "status": "not_affected", "justification": "trust me"}]}"#;
        assert!(parse_openvex(odd, "v.json").is_err());
        let not_vex = br#"{"statements": []}"#;
        assert!(parse_openvex(not_vex, "v.json").is_err());
    }

    #[test]
    fn purls_cover_versions_and_scoped_names() {
        assert!(purl_covers(
            "pkg:npm/%40scope/a",
            "pkg:npm/%40scope/a@1.0.0"
        ));
        assert!(purl_covers("pkg:npm/%40scope/a", "pkg:npm/@scope/a@1.0.0"));
        assert!(purl_covers(
            "pkg:npm/@scope/a@1.0.0",
            "pkg:npm/@scope/a@1.0.0?x=y"
        ));
        assert!(!purl_covers(
            "pkg:npm/@scope/a@2.0.0",
            "pkg:npm/@scope/a@1.0.0"
        ));
        assert!(!purl_covers("pkg:npm/@scope/b", "pkg:npm/@scope/a@1.0.0"));
    }
}
