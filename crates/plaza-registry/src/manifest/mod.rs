//! Manifests: OCI image manifests and indexes, and Docker schema 2 manifests and manifest lists,
//! parsed from the exact bytes a client pushed and validated in one pass. Every problem is
//! reported with the JSON pointer of the bad field ([`ManifestError`]).
//!
//! Which kind a document is comes from its `mediaType` field; when the field is present the
//! `Content-Type` the client sent (parameters ignored) must name the same type, because the spec
//! says clients MUST set it so. Without the field, the `Content-Type` decides. Docker schema 2
//! documents must carry `mediaType`, as Docker's format requires.

mod descriptor;
pub mod media_type;
mod problems;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

pub use descriptor::Descriptor;
pub use media_type::ManifestKind;
pub use problems::Problem;

use crate::digest::Digest;
use descriptor::read_descriptor;
use media_type::{check_media_type, essence, OCI_EMPTY, WASM_CONFIG, WASM_LAYER};
use problems::{child, kind, Problems};

/// The size a registry should accept at least (the spec: "at least 4 megabytes"); larger
/// manifests may be refused with `413`.
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

/// A manifest that failed validation: every problem found, each with its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The problems, in document order as far as possible; never empty.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("manifest invalid: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestError {}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedManifest {
    /// Which kind of manifest this is; `kind.media_type()` is its `Content-Type`.
    pub kind: ManifestKind,
    /// The sha256 digest of the exact bytes pushed.
    pub digest: Digest,
    /// The size of the bytes pushed.
    pub size: u64,
    /// The config descriptor (image manifests only).
    pub config: Option<Descriptor>,
    /// The layer descriptors (image manifests only), in order.
    pub layers: Vec<Descriptor>,
    /// The manifests listed (indexes and manifest lists only).
    pub manifests: Vec<Descriptor>,
    /// The `subject` (OCI kinds only): the manifest this one refers to, for the referrers API.
    pub subject: Option<Descriptor>,
    /// The `artifactType` field as written (OCI kinds only).
    pub artifact_type: Option<String>,
    /// The manifest's own annotations.
    pub annotations: BTreeMap<String, String>,
}

impl ParsedManifest {
    /// The digests of every blob the manifest references: config first, then layers.
    pub fn blob_digests(&self) -> Vec<&Digest> {
        self.config
            .iter()
            .chain(&self.layers)
            .map(|d| &d.digest)
            .collect()
    }

    /// The blobs that must already be in the registry for the push to succeed: all but foreign
    /// layers (those with `urls`, fetched from elsewhere).
    pub fn required_blob_digests(&self) -> Vec<&Digest> {
        self.config
            .iter()
            .chain(&self.layers)
            .filter(|d| !d.is_foreign())
            .map(|d| &d.digest)
            .collect()
    }

    /// The digests of the manifests an index lists.
    pub fn manifest_digests(&self) -> Vec<&Digest> {
        self.manifests.iter().map(|d| &d.digest).collect()
    }

    /// The artifact type the referrers API reports: `artifactType` if set and not empty, else
    /// for an image manifest the config's `mediaType`, else (an index) none.
    pub fn referrer_artifact_type(&self) -> Option<&str> {
        match self.artifact_type.as_deref() {
            Some(at) if !at.is_empty() => Some(at),
            _ => self.config.as_ref().map(|c| c.media_type.as_str()),
        }
    }

    /// The descriptor of this manifest as a referrers index lists it: media type, digest, size,
    /// the referrers artifact type, and the manifest's annotations.
    pub fn referrer_descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.kind.media_type().to_owned(),
            digest: self.digest.clone(),
            size: self.size,
            urls: Vec::new(),
            annotations: self.annotations.clone(),
            artifact_type: self.referrer_artifact_type().map(str::to_owned),
            platform: None,
        }
    }

    /// Whether this is a Wasm component in the CNCF Wasm OCI artifact format: an OCI image
    /// manifest with config `application/vnd.wasm.config.v0+json` and exactly one layer, of type
    /// `application/wasm`.
    pub fn is_wasm_component(&self) -> bool {
        self.kind == ManifestKind::OciManifest
            && self
                .config
                .as_ref()
                .is_some_and(|c| c.media_type == WASM_CONFIG)
            && self.layers.len() == 1
            && self.layers[0].media_type == WASM_LAYER
    }
}

/// Parses and validates a manifest from the bytes pushed and the request's `Content-Type`.
pub fn parse_manifest(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<ParsedManifest, ManifestError> {
    let mut p = Problems::default();
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return Err(single("", format!("not valid JSON: {e}"))),
    };
    let Value::Object(obj) = &doc else {
        return Err(single(
            "",
            format!("a manifest must be a JSON object, found {}", kind(&doc)),
        ));
    };

    let Some(kind) = decide_kind(&mut p, obj, content_type) else {
        return Err(ManifestError { problems: p.0 });
    };

    match obj.get("schemaVersion") {
        Some(Value::Number(n)) if n.as_u64() == Some(2) => {}
        Some(other) => p.add(
            "/schemaVersion",
            format!("`schemaVersion` must be 2, found {other}"),
        ),
        None => p.add(
            "/schemaVersion",
            "`schemaVersion` is required and must be 2",
        ),
    }

    let mut parsed = ParsedManifest {
        kind,
        digest: Digest::sha256_of(bytes),
        size: bytes.len() as u64,
        config: None,
        layers: Vec::new(),
        manifests: Vec::new(),
        subject: None,
        artifact_type: None,
        annotations: p.annotations(obj, ""),
    };

    if kind.is_oci() {
        parsed.artifact_type = p.string(obj, "", "artifactType", false).map(str::to_owned);
        if let Some(at) = &parsed.artifact_type {
            if let Err(why) = check_media_type(at) {
                p.add("/artifactType", why);
            }
        }
        if let Some(subject) = obj.get("subject") {
            parsed.subject = read_descriptor(&mut p, subject, "/subject");
        }
    }

    if kind.is_index() {
        parsed.manifests = read_descriptor_array(&mut p, obj, "manifests");
    } else {
        match obj.get("config") {
            Some(config) => parsed.config = read_descriptor(&mut p, config, "/config"),
            None => p.add("/config", "`config` is required in an image manifest"),
        }
        parsed.layers = read_descriptor_array(&mut p, obj, "layers");
        let empty_config = parsed
            .config
            .as_ref()
            .is_some_and(|c| c.media_type == OCI_EMPTY);
        if kind == ManifestKind::OciManifest && empty_config && parsed.artifact_type.is_none() {
            p.add(
                "/artifactType",
                format!("`artifactType` is required when `config.mediaType` is `{OCI_EMPTY}`"),
            );
        }
    }

    if p.0.is_empty() {
        Ok(parsed)
    } else {
        Err(ManifestError { problems: p.0 })
    }
}

fn single(pointer: &str, message: String) -> ManifestError {
    ManifestError {
        problems: vec![Problem {
            pointer: pointer.to_owned(),
            message,
        }],
    }
}

/// Decides the kind from the `mediaType` field and the `Content-Type` header (see the module
/// documentation).
fn decide_kind(
    p: &mut Problems,
    obj: &Map<String, Value>,
    content_type: Option<&str>,
) -> Option<ManifestKind> {
    let header = content_type.and_then(essence);
    let supported = || {
        ManifestKind::ALL
            .iter()
            .map(|k| k.media_type())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match p.string(obj, "", "mediaType", false) {
        Some(field) => {
            let Some(kind) = ManifestKind::from_media_type(field) else {
                p.add(
                    "/mediaType",
                    format!(
                        "`{field}` is not a manifest type this registry accepts ({})",
                        supported()
                    ),
                );
                return None;
            };
            if let Some(header) = header.filter(|h| h != field) {
                p.add(
                    "/mediaType",
                    format!("`mediaType` is `{field}` but the Content-Type header is `{header}`; they must be the same"),
                );
                return None;
            }
            Some(kind)
        }
        None if obj.contains_key("mediaType") => None, // not a string; recorded
        None => {
            let Some(header) = header else {
                p.add(
                    "/mediaType",
                    "the manifest has no `mediaType` and the request no Content-Type; set either to the manifest's media type",
                );
                return None;
            };
            match ManifestKind::from_media_type(&header) {
                Some(kind) if kind.is_oci() => Some(kind),
                Some(_) => {
                    p.add(
                        "/mediaType",
                        format!("a Docker schema 2 document must carry `mediaType` (`{header}`)"),
                    );
                    None
                }
                None => {
                    p.add(
                        "/mediaType",
                        format!("the manifest has no `mediaType` and Content-Type `{header}` is not a manifest type ({})", supported()),
                    );
                    None
                }
            }
        }
    }
}

fn read_descriptor_array(p: &mut Problems, obj: &Map<String, Value>, key: &str) -> Vec<Descriptor> {
    let pointer = child("", key);
    match obj.get(key) {
        None => {
            p.add(
                pointer,
                format!("`{key}` is required (it may be an empty array)"),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| read_descriptor(p, v, &format!("{pointer}/{i}")))
            .collect(),
        Some(other) => {
            p.add(
                pointer,
                format!(
                    "`{key}` must be an array of descriptors, found {}",
                    kind(other)
                ),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desc(media_type: &str, content: &[u8]) -> Value {
        json!({
            "mediaType": media_type,
            "digest": Digest::sha256_of(content).to_string(),
            "size": content.len(),
        })
    }

    fn bytes(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn kind_from_field_or_header() {
        let mut doc = json!({
            "schemaVersion": 2,
            "config": desc(media_type::OCI_CONFIG, b"{}"),
            "layers": [],
        });
        // No field: the header decides (parameters ignored).
        let m = parse_manifest(
            &bytes(&doc),
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(m.kind, ManifestKind::OciManifest);
        // Neither: refused.
        let e = parse_manifest(&bytes(&doc), None).unwrap_err();
        assert_eq!(e.problems[0].pointer, "/mediaType");
        // Field and no header: the field decides.
        doc["mediaType"] = json!(media_type::OCI_MANIFEST);
        assert!(parse_manifest(&bytes(&doc), None).is_ok());
        // Field and a different header: refused.
        let e = parse_manifest(&bytes(&doc), Some(media_type::OCI_INDEX)).unwrap_err();
        assert!(e.to_string().contains("Content-Type"), "{e}");
    }

    #[test]
    fn docker_documents_need_the_field() {
        let doc = json!({
            "schemaVersion": 2,
            "config": desc("application/vnd.docker.container.image.v1+json", b"{}"),
            "layers": [],
        });
        let e = parse_manifest(&bytes(&doc), Some(media_type::DOCKER_MANIFEST)).unwrap_err();
        assert!(e.to_string().contains("Docker"), "{e}");
    }

    #[test]
    fn schema_version_must_be_two() {
        for (v, ok) in [
            (json!(2), true),
            (json!(1), false),
            (json!("2"), false),
            (json!(2.5), false),
        ] {
            let doc =
                json!({"schemaVersion": v, "mediaType": media_type::OCI_INDEX, "manifests": []});
            assert_eq!(parse_manifest(&bytes(&doc), None).is_ok(), ok, "{v}");
        }
        let doc = json!({"mediaType": media_type::OCI_INDEX, "manifests": []});
        let e = parse_manifest(&bytes(&doc), None).unwrap_err();
        assert_eq!(e.problems[0].pointer, "/schemaVersion");
    }

    #[test]
    fn not_json_or_not_an_object() {
        assert!(parse_manifest(b"{", None)
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
        assert!(parse_manifest(b"[]", None)
            .unwrap_err()
            .to_string()
            .contains("object"));
    }
}
