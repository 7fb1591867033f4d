//! The published JSON Schema of manifest v1, generated from the types in [`crate::schema`].

use schemars::generate::SchemaSettings;

use crate::schema::Manifest;

/// The `$id` of the manifest v1 schema.
pub const SCHEMA_ID: &str = "https://plaza.dev/schemas/manifest/v1.json";

/// The JSON Schema (draft 2020-12) of manifest v1. It checks structure and types; `plaza
/// validate` (this crate's [`crate::load`]) checks every rule.
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Manifest>();
    let mut value = schema.to_value();
    strip_null(&mut value);
    if let Some(obj) = value.as_object_mut() {
        let mut out = serde_json::Map::new();
        out.insert("$schema".into(), obj.remove("$schema").unwrap_or_default());
        out.insert("$id".into(), SCHEMA_ID.into());
        out.extend(std::mem::take(obj));
        value = serde_json::Value::Object(out);
    }
    value
}

/// Optional fields are omitted, never `null`: remove the `null` alternative schemars adds for
/// `Option` fields, so the schema agrees with the validator.
fn strip_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(obj) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(strip_null);
        }
        return;
    };
    if let Some(Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            obj.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any)) = obj.get("anyOf") {
        let kept: Vec<Value> = any
            .iter()
            .filter(|s| s.get("type").is_none_or(|t| t != "null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            obj.remove("anyOf");
            if let Value::Object(inner) = &kept[0] {
                for (k, v) in inner {
                    obj.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        } else {
            obj.insert("anyOf".into(), Value::Array(kept));
        }
    }
    obj.values_mut().for_each(strip_null);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_nulls_in_schema() {
        let text = json_schema().to_string();
        assert!(!text.contains("\"null\""), "{text}");
    }
}
