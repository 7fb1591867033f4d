//! [`Facts`]: what the other gates found out about a submission, given to policies as
//! `input.facts`.
//!
//! Every field is optional and **absent** (not `null`, not a default) when the gate that
//! produces it has not run, so a policy can tell "unknown" (`not input.facts.x`) from a
//! known value. The built-in bundle never fires on an absent fact.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Facts about a submission produced by Plaza's gates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Plaza policy input facts")]
pub struct Facts {
    /// # Signature verified
    ///
    /// True when the artifact's signature verified against a trusted, unexpired key; false when
    /// it was checked and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_verified: Option<bool>,
    /// # Provenance level
    ///
    /// The SLSA build level (0–4) the verified provenance establishes; 0 when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 4))]
    pub provenance_level: Option<u8>,
    /// # SBOM
    ///
    /// What the SBOM gate found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SbomFacts>,
    /// # Vulnerabilities
    ///
    /// Known vulnerabilities of the SBOM's components, by severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<VulnerabilityFacts>,
    /// # Secrets found
    ///
    /// Number of secrets the secret scanner found in the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_found: Option<u32>,
    /// # Publisher badge
    ///
    /// The publisher's badge, e.g. `verified` or `internal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_badge: Option<String>,
    /// # Previous permissions
    ///
    /// The `permissions` of the previously published version of the same app (same shape as
    /// `input.permissions`), for a scope delta; absent for a first version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_permissions: Option<Vec<serde_json::Value>>,
}

/// What the SBOM gate found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SbomFacts {
    /// # SBOM present
    ///
    /// True when an SBOM was found, parsed and bound to the artifact.
    pub present: bool,
    /// # Format
    ///
    /// `cyclonedx` or `spdx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// # Component count
    ///
    /// Number of components the SBOM lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_count: Option<u32>,
}

/// Known vulnerabilities, by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VulnerabilityFacts {
    /// # Counts
    ///
    /// Number of vulnerabilities per severity (`critical`, `high`, `medium`, `low`, `unknown`).
    #[serde(default)]
    pub counts: BTreeMap<String, u32>,
    /// # Items
    ///
    /// Each vulnerability found.
    #[serde(default)]
    pub items: Vec<Vulnerability>,
}

/// One vulnerability of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vulnerability {
    /// # Id
    ///
    /// OSV id or alias, e.g. `GHSA-xxxx-xxxx-xxxx` or `CVE-2024-1234`.
    pub id: String,
    /// # Severity
    ///
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    /// # Package
    ///
    /// The affected component's purl.
    pub package: String,
    /// # Installed version
    pub version: String,
    /// # Fixed in
    ///
    /// The first version that fixes it; absent when no fix is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
}

/// The JSON Schema of [`Facts`] (draft 2020-12), as published in docs/policy.md.
pub fn facts_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Facts)).unwrap_or_default()
}

/// Builds the policy `input` document: the normalised manifest (as JSON, at the top level)
/// plus `facts` (omitted when `None`).
pub fn input_document(manifest: &serde_json::Value, facts: Option<&Facts>) -> serde_json::Value {
    let mut input = manifest.clone();
    if let (Some(obj), Some(facts)) = (input.as_object_mut(), facts) {
        obj.insert(
            "facts".to_owned(),
            serde_json::to_value(facts).unwrap_or_default(),
        );
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_facts_are_absent() {
        let f = Facts {
            secrets_found: Some(0),
            ..Facts::default()
        };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"secretsFound":0}"#);
        let input = input_document(&serde_json::json!({"id": "a.b"}), Some(&f));
        assert_eq!(input["facts"]["secretsFound"], 0);
        assert!(input["facts"].get("vulnerabilities").is_none());
    }
}
