//! The OCI image layout on disk (image spec, "OCI Image Layout"): `oci-layout`, `index.json`
//! and `blobs/<algorithm>/<hex>`. `plaza package` writes one, `plaza push` reads one and
//! `plaza pull` writes one, all through these few functions.

use crate::digest::Digest;
use crate::error::RegistryError;
use crate::manifest::media_type;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The annotation that names an index entry's tag.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where the layout at `dir` keeps the blob `digest`.
pub fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs")
        .join(digest.algorithm().as_str())
        .join(digest.hex())
}

/// Whether `dir` holds an OCI image layout (its `oci-layout` and `index.json`).
pub fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file() && dir.join("index.json").is_file()
}

/// Writes `bytes` as a blob of the layout at `dir` (creating its blob directory); returns the
/// blob's sha256 digest.
pub fn write_blob(dir: &Path, bytes: &[u8]) -> Result<Digest, RegistryError> {
    let digest = Digest::sha256_of(bytes);
    let path = blob_path(dir, &digest);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(RegistryError::io("creating the layout"))?;
    }
    std::fs::write(&path, bytes).map_err(RegistryError::io("writing a layout blob"))?;
    Ok(digest)
}

/// Writes `index.json` (one entry: the manifest `digest` of `media_type` and `size`, tagged
/// `tag` when given) and `oci-layout`, which make `dir` a layout.
pub fn write_index(
    dir: &Path,
    media_type: &str,
    digest: &Digest,
    size: u64,
    tag: Option<&str>,
) -> Result<(), RegistryError> {
    let mut entry = json!({"mediaType": media_type, "digest": digest.to_string(), "size": size});
    if let Some(tag) = tag {
        entry["annotations"] = json!({ REF_NAME: tag });
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [entry],
    });
    let io = RegistryError::io;
    std::fs::write(dir.join("index.json"), index.to_string()).map_err(io("writing index.json"))?;
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .map_err(io("writing oci-layout"))
}

/// The layout's manifest for `tag`: the index entry whose ref name is `tag`, or the only entry.
/// Returns its media type and digest.
pub fn find_entry(dir: &Path, tag: &str) -> Result<(String, Digest), RegistryError> {
    let index_path = dir.join("index.json");
    let invalid = |reason: String| RegistryError::InvalidLayout {
        path: index_path.display().to_string(),
        reason,
    };
    let text =
        std::fs::read_to_string(&index_path).map_err(RegistryError::io("reading index.json"))?;
    let index: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let entries = index
        .get("manifests")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let entry = entries
        .iter()
        .find(|e| {
            e.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
                .and_then(Value::as_str)
                == Some(tag)
        })
        .or(match entries {
            [only] => Some(only),
            _ => None,
        })
        .ok_or_else(|| {
            invalid(format!(
                "no manifest is tagged `{tag}`; package this version with `plaza package`"
            ))
        })?;
    let media_type = entry
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or(media_type::OCI_MANIFEST)
        .to_owned();
    let digest = entry
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| invalid("the entry has no valid digest".into()))?;
    Ok((media_type, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_written_is_found_again_by_tag() {
        let dir = tempfile::tempdir().unwrap();
        let d = write_blob(dir.path(), b"{}").unwrap();
        assert!(blob_path(dir.path(), &d).is_file());
        assert!(!is_layout(dir.path()));
        write_index(dir.path(), media_type::OCI_MANIFEST, &d, 2, Some("1.0.0")).unwrap();
        assert!(is_layout(dir.path()));
        assert_eq!(
            find_entry(dir.path(), "1.0.0").unwrap(),
            (media_type::OCI_MANIFEST.to_owned(), d.clone())
        );
        // The only entry serves any tag; garbage is an error naming the file.
        assert_eq!(find_entry(dir.path(), "2.0.0").unwrap().1, d);
        std::fs::write(dir.path().join("index.json"), "{").unwrap();
        let err = find_entry(dir.path(), "1.0.0").unwrap_err().to_string();
        assert!(err.contains("index.json"), "{err}");
    }
}
