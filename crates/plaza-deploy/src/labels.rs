//! The labels and annotations every object of an instance carries.
//!
//! Labels are for selecting and grouping (cost tools read them from pods); their values must
//! follow the label grammar, so values made from free text (app id, version, tags) are
//! sanitised with [`sanitise_label_value`] and kept as given in annotations.
//!
//! | label | value |
//! |---|---|
//! | `app.kubernetes.io/name` | the app id (sanitised) |
//! | `app.kubernetes.io/instance` | the object name |
//! | `app.kubernetes.io/version` | the version (sanitised: `+` becomes `-`) |
//! | `app.kubernetes.io/managed-by` | `plaza` |
//! | `plaza.dev/instance` | the instance id, exactly (the selector of the Deployment and NetworkPolicy) |
//! | `plaza.dev/org`, `plaza.dev/team` | the slugs |
//! | `tag.plaza.dev/<key>` | each tag's value (key and value sanitised) |
//!
//! Annotations: `plaza.dev/app-id`, `plaza.dev/version`, `plaza.dev/spiffe-id` and, when there
//! are tags, `plaza.dev/tags` (a JSON object of the tags as given).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::check::Plan;
use crate::names::{sanitise_label_value, short_hash, MAX_LABEL};

/// The label that selects an instance's pods.
pub const INSTANCE_LABEL: &str = "plaza.dev/instance";
/// Prefix of the labels made from tags.
pub const TAG_PREFIX: &str = "tag.plaza.dev/";

/// The labels of every object of the instance.
pub(crate) fn labels(plan: &Plan<'_>) -> Map<String, Value> {
    let i = plan.input;
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), Value::String(v));
    };
    put("app.kubernetes.io/name", sanitise_label_value(&i.app_id));
    put("app.kubernetes.io/instance", plan.name.clone());
    put(
        "app.kubernetes.io/version",
        sanitise_label_value(&i.version),
    );
    put("app.kubernetes.io/managed-by", "plaza".into());
    put(INSTANCE_LABEL, i.instance_id.clone());
    put("plaza.dev/org", i.org.clone());
    put("plaza.dev/team", i.team.clone());
    for (key, value) in tag_labels(&i.tags) {
        put(&key, value);
    }
    m
}

/// The annotations of every object of the instance.
pub(crate) fn annotations(plan: &Plan<'_>) -> Map<String, Value> {
    let i = plan.input;
    let mut m = Map::new();
    m.insert("plaza.dev/app-id".into(), i.app_id.clone().into());
    m.insert("plaza.dev/version".into(), i.version.clone().into());
    m.insert("plaza.dev/spiffe-id".into(), i.spiffe_id.clone().into());
    if !i.tags.is_empty() {
        let json = serde_json::to_string(&i.tags).unwrap_or_default();
        m.insert("plaza.dev/tags".into(), json.into());
    }
    m
}

/// One label per tag: `tag.plaza.dev/<key>` → value, both sanitised, in key order.
///
/// Two keys that sanitise alike (`cost center`, `cost-center`) must not collide: a key that had
/// to be changed and whose result another key shares gets a hash of the key as given appended.
pub fn tag_labels(tags: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let name_of = |k: &str| {
        let s = sanitise_label_value(k);
        if s.is_empty() {
            "tag".to_owned()
        } else {
            s
        }
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for k in tags.keys() {
        *count.entry(name_of(k)).or_default() += 1;
    }
    let mut out: Vec<(String, String)> = tags
        .iter()
        .map(|(k, v)| {
            let mut name = name_of(k);
            if name != *k && count[&name] > 1 {
                let keep = &name[..name.len().min(MAX_LABEL - 9)];
                name = format!(
                    "{}-{}",
                    keep.trim_end_matches(['-', '_', '.']),
                    short_hash(k)
                );
            }
            (format!("{TAG_PREFIX}{name}"), sanitise_label_value(v))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::is_label_value;

    #[test]
    fn tag_keys_and_values_are_sanitised_without_collisions() {
        let tags: BTreeMap<String, String> = [
            ("cost-center", "CC-1234"),
            ("cost center", "R&D / Paris"),
            ("Product", "Where 2 Eat 🍜"),
            ("€", "yes"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let got = tag_labels(&tags);
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "tag.plaza.dev/Product",
                "tag.plaza.dev/cost-center",
                format!("tag.plaza.dev/cost-center-{}", short_hash("cost center")).as_str(),
                "tag.plaza.dev/tag",
            ]
        );
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["Where-2-Eat", "CC-1234", "R-D-Paris", "yes"]);
        for (k, v) in &got {
            let name = k.strip_prefix(TAG_PREFIX).unwrap();
            assert!(
                is_label_value(name) && !name.is_empty() && name.len() <= 63,
                "{k}"
            );
            assert!(is_label_value(v), "{v}");
        }
    }
}
