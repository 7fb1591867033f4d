//! `plaza package`: a WebAssembly component and its Plaza manifest as an OCI image layout in the
//! CNCF Wasm OCI artifact format (config `application/vnd.wasm.config.v0+json` with
//! `architecture: wasm`, `os: wasip2`, `layerDigests` and the component's imports and exports;
//! exactly one `application/wasm` layer), with `org.opencontainers.image.*` annotations from the
//! manifest, so skopeo, oras and other Wasm tooling read it.

use crate::error::RegistryError;
use crate::layout;
use crate::manifest::media_type;
use serde_json::{json, Map, Value};
use std::path::Path;

/// What a component imports and exports (interface names, e.g. `wasi:http/incoming-handler@0.2.0`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComponentWorld {
    /// Imported names, in order.
    pub imports: Vec<String>,
    /// Exported names, in order.
    pub exports: Vec<String>,
}

/// Why bytes cannot be packaged.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Not a WebAssembly component (a core module, or not Wasm at all).
    #[error("{0}")]
    NotAComponent(String),
    /// Writing the layout failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Reads a component's top-level imports and exports; refuses core modules with a hint.
pub fn inspect_component(bytes: &[u8]) -> Result<ComponentWorld, PackageError> {
    match bytes.get(..8) {
        Some(b"\0asm\x0d\x00\x01\x00") => {}
        Some(h) if h.starts_with(b"\0asm\x01\x00\x00\x00") => {
            return Err(PackageError::NotAComponent(
                "this is a core WebAssembly module, not a component: build for `wasm32-wasip2` (or wrap it with `wasm-tools component new`)".into(),
            ))
        }
        _ => return Err(PackageError::NotAComponent("this file is not WebAssembly (no `\\0asm` header)".into())),
    }
    let mut world = ComponentWorld::default();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload
            .map_err(|e| PackageError::NotAComponent(format!("malformed component: {e}")))?;
        use wasmparser::Payload::*;
        match payload {
            ModuleSection { .. } | ComponentSection { .. } => depth += 1,
            End(_) => depth = depth.saturating_sub(1),
            ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(|e| {
                        PackageError::NotAComponent(format!("malformed import: {e}"))
                    })?;
                    world.imports.push(import.name.name.to_owned());
                }
            }
            ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| {
                        PackageError::NotAComponent(format!("malformed export: {e}"))
                    })?;
                    world.exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(world)
}

/// The OCI annotations a Plaza manifest (normalised JSON) gives an artifact.
pub fn annotations(manifest: &Value) -> Map<String, Value> {
    let text = |k: &str| manifest.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut a = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            a.insert(format!("org.opencontainers.image.{key}"), Value::String(v));
        }
    };
    put("title", text("name"));
    put("version", text("version"));
    put("description", text("description"));
    put("licenses", text("license"));
    put("source", text("repository"));
    put("url", text("homepage"));
    put(
        "authors",
        manifest
            .pointer("/contact/email")
            .and_then(Value::as_str)
            .map(str::to_owned),
    );
    put("ref.name", text("version"));
    if let Some(id) = text("id") {
        a.insert("dev.plaza.app.id".into(), Value::String(id));
    }
    a
}

fn write_blob(dir: &Path, bytes: &[u8]) -> Result<(String, usize), RegistryError> {
    Ok((layout::write_blob(dir, bytes)?.to_string(), bytes.len()))
}

/// Writes the OCI image layout at `dir` (created; must be empty or absent) for the component
/// `component` described by the normalised Plaza `manifest`, tagged with the manifest's version.
/// Returns the image manifest's digest.
pub fn write_layout(
    dir: &Path,
    manifest: &Value,
    component: &[u8],
) -> Result<String, PackageError> {
    let world = inspect_component(component)?;
    let (layer, layer_size) = write_blob(dir, component)?;
    let config = json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer],
        "component": {"imports": world.imports, "exports": world.exports},
    });
    let (config_digest, config_size) = write_blob(dir, config.to_string().as_bytes())?;
    let annotations = annotations(manifest);
    let image = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::WASM_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": media_type::WASM_LAYER, "digest": layer, "size": layer_size}],
        "annotations": annotations,
    });
    let image_bytes = image.to_string().into_bytes();
    let image_digest = layout::write_blob(dir, &image_bytes)?;
    let reference = manifest
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("latest");
    layout::write_index(
        dir,
        media_type::OCI_MANIFEST,
        &image_digest,
        image_bytes.len() as u64,
        Some(reference),
    )?;
    Ok(image_digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    #[test]
    fn components_are_told_from_core_modules_and_garbage() {
        assert_eq!(
            inspect_component(b"\0asm\x0d\x00\x01\x00").unwrap(),
            ComponentWorld::default()
        );
        let core = inspect_component(b"\0asm\x01\x00\x00\x00")
            .unwrap_err()
            .to_string();
        assert!(core.contains("wasm32-wasip2"), "{core}");
        assert!(inspect_component(b"hello").is_err());
    }

    #[test]
    fn a_layout_is_written_in_the_wasm_artifact_format() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = json!({"id": "com.example.a", "name": "A", "version": "1.0.0", "license": "MIT", "contact": {"email": "a@b.example"}});
        let digest =
            write_layout(&dir.path().join("out"), &manifest, b"\0asm\x0d\x00\x01\x00").unwrap();
        let index: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("out/index.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(index["manifests"][0]["digest"], digest);
        assert_eq!(
            index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "1.0.0"
        );
        let d = Digest::parse(&digest).unwrap();
        let image_bytes = std::fs::read(dir.path().join("out/blobs/sha256").join(d.hex())).unwrap();
        let parsed = crate::parse_manifest(&image_bytes, Some(media_type::OCI_MANIFEST)).unwrap();
        assert!(parsed.is_wasm_component());
        assert_eq!(
            parsed.annotations["org.opencontainers.image.licenses"],
            "MIT"
        );
        assert_eq!(parsed.annotations["dev.plaza.app.id"], "com.example.a");
    }
}
