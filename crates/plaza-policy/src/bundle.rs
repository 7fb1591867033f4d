//! The built-in policy bundle, compiled into the binary from `crates/plaza-policy/bundle/`,
//! and its org-overridable settings.
//!
//! Rules read their settings from `data.plaza.org`. Before evaluating, Plaza deep-merges the
//! organisation's `data.plaza.org` over [`defaults`] (objects merge key by key; any other
//! value, arrays included, replaces the default), so an org sets only what it changes.
//!
//! From the merged settings Plaza also computes `data.plaza.derived` ([`derived`]): values
//! the rules would otherwise rebuild from the settings on every evaluation, made once per
//! settings document instead.

use serde_json::Value;

/// The bundle's Rego files: `(file name, source)`.
pub const FILES: &[(&str, &str)] = &[
    ("lib.rego", include_str!("../bundle/lib.rego")),
    ("scopes.rego", include_str!("../bundle/scopes.rego")),
    ("supply.rego", include_str!("../bundle/supply.rego")),
    ("runtime.rego", include_str!("../bundle/runtime.rego")),
    ("listing.rego", include_str!("../bundle/listing.rego")),
];

/// The default org settings, `bundle/defaults.json`, as published in docs/policy.md.
pub const DEFAULTS_JSON: &str = include_str!("../bundle/defaults.json");

/// Every rule id the bundle reports, in documentation order.
pub const RULE_IDS: &[&str] = &[
    "plaza.scopes.no-wildcard",
    "plaza.scopes.sensitive",
    "plaza.sbom.required",
    "plaza.provenance.min-level",
    "plaza.runtime.allowed",
    "plaza.resources.within-caps",
    "plaza.egress.explicit",
    "plaza.contact.email-required",
    "plaza.maintainers.required",
    "plaza.billing.required-for-public",
    "plaza.license.allowed",
    "plaza.vulnerabilities.fixable-critical",
];

/// A name for the bundle's version, recorded with decisions: the crate version plus a digest
/// of the bundle's files, so a changed bundle has a different version.
pub fn version() -> String {
    // FNV-1a: stable across builds and platforms, no extra dependency.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, src) in FILES
        .iter()
        .copied()
        .chain([("defaults.json", DEFAULTS_JSON)])
    {
        for b in name.bytes().chain([0]).chain(src.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{}+{h:016x}", env!("CARGO_PKG_VERSION"))
}

/// The default org settings (parsed [`DEFAULTS_JSON`]).
pub fn defaults() -> Value {
    serde_json::from_str(DEFAULTS_JSON).unwrap_or_else(|_| Value::Object(Default::default()))
}

/// Deep-merges `over` onto `base`: objects merge key by key; anything else replaces.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// What the bundle's rules read from `data.plaza.derived`, computed from the merged org
/// settings: `sensitive_scopes` split into `exact` names, `prefixes` (an entry ending in `*`,
/// the `*` dropped) and `suffixes` (an entry starting with `*`, the `*` dropped); an entry that
/// is only `*` is both the prefix and the suffix `""`, which match every scope, and one with
/// `*` only inside is in none of them. Entries that are not strings are ignored. On the VM,
/// splitting the list with three comprehensions on every evaluation cost about a fifth of an
/// evaluation of the whole bundle.
pub fn derived(org: &Value) -> Value {
    let entries = org
        .get("sensitive_scopes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    let exact: Vec<&str> = entries
        .iter()
        .copied()
        .filter(|e| !e.contains('*'))
        .collect();
    let prefixes: Vec<&str> = entries.iter().filter_map(|e| e.strip_suffix('*')).collect();
    let suffixes: Vec<&str> = entries.iter().filter_map(|e| e.strip_prefix('*')).collect();
    serde_json::json!({
        "sensitive_scopes": {"exact": exact, "prefixes": prefixes, "suffixes": suffixes}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_parse_and_merge() {
        let mut d = defaults();
        assert!(d["licenses"].is_array());
        merge(
            &mut d,
            &json!({"slsa_min_level": 3, "resource_caps": {"memory": "2Gi"}, "licenses": ["MIT"]}),
        );
        assert_eq!(d["slsa_min_level"], 3);
        assert_eq!(d["resource_caps"]["memory"], "2Gi");
        assert_eq!(d["resource_caps"]["cpu"], "2000m");
        assert_eq!(d["licenses"], json!(["MIT"]));
    }

    #[test]
    fn sensitive_scopes_split_into_exact_prefixes_and_suffixes() {
        let d = derived(
            &json!({"sensitive_scopes": ["mail.send", "secrets.*", "*.admin", "*", "a*b", 7]}),
        );
        assert_eq!(
            d["sensitive_scopes"],
            json!({"exact": ["mail.send"], "prefixes": ["secrets.", ""], "suffixes": [".admin", ""]})
        );
        assert_eq!(
            derived(&json!({}))["sensitive_scopes"],
            json!({"exact": [], "prefixes": [], "suffixes": []})
        );
    }

    /// The batch rule references the bundle's rule sets directly, which is only sound for
    /// partial set rules (see `engine::add_batch_module`).
    #[test]
    fn every_bundle_rule_set_is_a_partial_set() {
        for (file, src) in FILES {
            for (n, line) in src.lines().enumerate() {
                for name in ["deny", "violation", "warn", "info"] {
                    let Some(rest) = line.strip_prefix(name) else {
                        continue;
                    };
                    if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    assert!(
                        rest.starts_with(" contains "),
                        "{file}:{}: `{name}` must be a partial set rule (`{name} contains …`)",
                        n + 1
                    );
                }
            }
        }
    }

    #[test]
    fn every_rule_id_appears_in_the_bundle() {
        for id in RULE_IDS {
            assert!(
                FILES
                    .iter()
                    .any(|(_, src)| src.contains(&format!("id: {id}"))),
                "{id} has no METADATA block"
            );
        }
    }
}
