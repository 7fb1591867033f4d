//! Descriptors (`mediaType`, `digest`, `size`, optional `urls`, `annotations`, `data`,
//! `artifactType`, `platform`) as the image spec defines them, read from JSON with every problem
//! recorded at its pointer.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::media_type::check_media_type;
use super::problems::{child, kind, Problems};
use crate::digest::Digest;

/// A validated descriptor. Serialises in the spec's field names (empty optional fields left out),
/// which is what a referrers index lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size in bytes of the referenced content.
    pub size: u64,
    /// Where else the content may be downloaded from (a "foreign" or non-distributable layer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The artifact type, when the descriptor points to an artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The platform of an index entry, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Value>,
}

impl Descriptor {
    /// Whether the content is to be fetched from `urls` rather than the registry, so a manifest
    /// may reference it without the blob being pushed.
    pub fn is_foreign(&self) -> bool {
        !self.urls.is_empty()
    }
}

/// Reads the descriptor at `pointer`; `None` (with problems recorded) when it is unusable.
pub(crate) fn read_descriptor(
    p: &mut Problems,
    value: &Value,
    pointer: &str,
) -> Option<Descriptor> {
    let Value::Object(obj) = value else {
        p.add(
            pointer,
            format!("a descriptor must be an object, found {}", kind(value)),
        );
        return None;
    };
    let before = p.0.len();

    let media_type = p.string(obj, pointer, "mediaType", true);
    if let Some(mt) = media_type {
        if let Err(why) = check_media_type(mt) {
            p.add(child(pointer, "mediaType"), why);
        }
    }

    let digest = p.string(obj, pointer, "digest", true).and_then(|d| {
        Digest::parse(d)
            .map_err(|e| p.add(child(pointer, "digest"), e.to_string()))
            .ok()
    });

    let size = match obj.get("size") {
        None => {
            p.add(child(pointer, "size"), "`size` is required");
            None
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(s) if s >= 0 => Some(s as u64),
            _ => {
                p.add(
                    child(pointer, "size"),
                    format!("`size` must be a non-negative 64-bit integer, found {n}"),
                );
                None
            }
        },
        Some(other) => {
            p.add(
                child(pointer, "size"),
                format!("`size` must be an integer, found {}", kind(other)),
            );
            None
        }
    };

    let urls = read_urls(p, obj.get("urls"), &child(pointer, "urls"));
    let annotations = p.annotations(obj, pointer);

    let artifact_type = p
        .string(obj, pointer, "artifactType", false)
        .map(str::to_owned);
    if let Some(at) = &artifact_type {
        if let Err(why) = check_media_type(at) {
            p.add(child(pointer, "artifactType"), why);
        }
    }

    let platform = obj.get("platform").cloned();
    if let Some(platform) = &platform {
        check_platform(p, platform, &child(pointer, "platform"));
    }

    if let (Some(data), Some(digest), Some(size)) =
        (p.string(obj, pointer, "data", false), &digest, size)
    {
        check_embedded_data(p, data, digest, size, &child(pointer, "data"));
    }

    if p.0.len() > before {
        return None;
    }
    Some(Descriptor {
        media_type: media_type?.to_owned(),
        digest: digest?,
        size: size?,
        urls,
        annotations,
        artifact_type,
        platform,
    })
}

fn read_urls(p: &mut Problems, value: Option<&Value>, pointer: &str) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::String(s) if !s.is_empty() && !s.chars().any(char::is_whitespace) => {
                    Some(s.clone())
                }
                _ => {
                    p.add(
                        format!("{pointer}/{i}"),
                        "each URL must be a non-empty string without spaces",
                    );
                    None
                }
            })
            .collect(),
        Some(other) => {
            p.add(
                pointer,
                format!("`urls` must be an array of strings, found {}", kind(other)),
            );
            Vec::new()
        }
    }
}

fn check_platform(p: &mut Problems, platform: &Value, pointer: &str) {
    let Value::Object(obj) = platform else {
        p.add(
            pointer,
            format!("`platform` must be an object, found {}", kind(platform)),
        );
        return;
    };
    p.string(obj, pointer, "architecture", true);
    p.string(obj, pointer, "os", true);
}

/// The spec: the decoded `data` must be identical to the referenced content.
fn check_embedded_data(p: &mut Problems, data: &str, digest: &Digest, size: u64, pointer: &str) {
    match base64::engine::general_purpose::STANDARD.decode(data) {
        Err(e) => p.add(pointer, format!("`data` is not valid base64: {e}")),
        Ok(bytes) if bytes.len() as u64 != size => p.add(
            pointer,
            format!(
                "`data` decodes to {} bytes but `size` says {size}",
                bytes.len()
            ),
        ),
        Ok(bytes) if !digest.verifies(&bytes) => p.add(
            pointer,
            format!("`data` does not hash to `digest` {digest}"),
        ),
        Ok(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> (Option<Descriptor>, Vec<String>) {
        let mut p = Problems::default();
        let d = read_descriptor(&mut p, &v, "/config");
        (d, p.0.into_iter().map(|x| format!("{x}")).collect())
    }

    #[test]
    fn a_full_descriptor() {
        let digest = Digest::sha256_of(b"{}");
        let (d, problems) = read(json!({
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": digest.to_string(),
            "size": 2,
            "data": "e30=",
            "annotations": {"a": "b"},
            "artifactType": "application/x.test",
            "urls": ["https://example.com/x"],
        }));
        assert!(problems.is_empty(), "{problems:?}");
        let d = d.unwrap();
        assert!(d.is_foreign());
        assert_eq!(d.size, 2);
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back["mediaType"], "application/vnd.oci.empty.v1+json");
        assert_eq!(back["artifactType"], "application/x.test");
        assert!(back.get("platform").is_none());
    }

    #[test]
    fn every_problem_at_its_pointer() {
        let (d, problems) = read(json!({
            "mediaType": "not a type",
            "digest": "sha256:XYZ",
            "size": -1,
            "annotations": {"k": 1},
            "urls": "x",
        }));
        assert!(d.is_none());
        let joined = problems.join("\n");
        for ptr in [
            "/config/mediaType",
            "/config/digest",
            "/config/size",
            "/config/annotations/k",
            "/config/urls",
        ] {
            assert!(
                joined.contains(&format!("{ptr}:")),
                "{ptr} missing in\n{joined}"
            );
        }
    }

    #[test]
    fn missing_fields_and_bad_data() {
        let (_, problems) = read(json!({}));
        assert_eq!(problems.len(), 3, "{problems:?}");
        let (_, problems) = read(json!({
            "mediaType": "a/b", "digest": Digest::sha256_of(b"x").to_string(), "size": 1, "data": "eQ=="
        }));
        assert!(problems[0].contains("does not hash"), "{problems:?}");
        let (_, problems) = read(json!({
            "mediaType": "a/b", "digest": Digest::sha256_of(b"x").to_string(), "size": 1.5
        }));
        assert!(problems[0].starts_with("/config/size"), "{problems:?}");
        let (_, problems) = read(json!("x"));
        assert!(problems[0].contains("must be an object"));
    }
}
