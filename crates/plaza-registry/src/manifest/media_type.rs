//! Media types: the manifest types the registry accepts, the well-known config and layer types,
//! and the RFC 6838 (section 4.2) name check every `mediaType` and `artifactType` must pass.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list, schema 2.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The OCI empty descriptor's media type (`{}`), used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The CNCF Wasm OCI artifact config.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The CNCF Wasm OCI artifact layer: the component itself.
pub const WASM_LAYER: &str = "application/wasm";

/// Which kind of manifest a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// `application/vnd.oci.image.manifest.v1+json`.
    OciManifest,
    /// `application/vnd.oci.image.index.v1+json`.
    OciIndex,
    /// `application/vnd.docker.distribution.manifest.v2+json`.
    DockerManifest,
    /// `application/vnd.docker.distribution.manifest.list.v2+json`.
    DockerManifestList,
}

impl ManifestKind {
    /// Every kind the registry accepts.
    pub const ALL: [ManifestKind; 4] = [
        ManifestKind::OciManifest,
        ManifestKind::OciIndex,
        ManifestKind::DockerManifest,
        ManifestKind::DockerManifestList,
    ];

    /// The media type, which is also the `Content-Type` to serve it with.
    pub fn media_type(self) -> &'static str {
        match self {
            ManifestKind::OciManifest => OCI_MANIFEST,
            ManifestKind::OciIndex => OCI_INDEX,
            ManifestKind::DockerManifest => DOCKER_MANIFEST,
            ManifestKind::DockerManifestList => DOCKER_MANIFEST_LIST,
        }
    }

    /// The kind for a media type (exact, parameters already removed).
    pub fn from_media_type(media_type: &str) -> Option<ManifestKind> {
        ManifestKind::ALL
            .into_iter()
            .find(|k| k.media_type() == media_type)
    }

    /// Whether this kind lists other manifests (an index or manifest list).
    pub fn is_index(self) -> bool {
        matches!(
            self,
            ManifestKind::OciIndex | ManifestKind::DockerManifestList
        )
    }

    /// Whether this is one of the OCI kinds (which may carry `subject` and `artifactType`).
    pub fn is_oci(self) -> bool {
        matches!(self, ManifestKind::OciManifest | ManifestKind::OciIndex)
    }
}

/// The media type of a `Content-Type` header value: parameters dropped (the spec says the
/// registry ignores them), whitespace trimmed, lower-cased. `None` when nothing is left.
pub fn essence(content_type: &str) -> Option<String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// Checks `type "/" subtype` against RFC 6838 section 4.2 (`restricted-name`: a letter or digit,
/// then up to 126 of letters, digits and `! # $ & - ^ _ . +`). Parameters after `;` are allowed
/// and not checked further. Returns what is wrong.
pub fn check_media_type(value: &str) -> Result<(), String> {
    let name = value.split(';').next().unwrap_or_default();
    let Some((ty, subtype)) = name.split_once('/') else {
        return Err(format!("`{value}` is not a media type (`type/subtype`)"));
    };
    for (part, what) in [(ty, "type"), (subtype, "subtype")] {
        check_restricted_name(part).map_err(|why| format!("`{value}`: the {what} {why}"))?;
    }
    Ok(())
}

fn check_restricted_name(part: &str) -> Result<(), String> {
    let mut chars = part.chars();
    match chars.next() {
        None => return Err("is empty".into()),
        Some(c) if !c.is_ascii_alphanumeric() => {
            return Err(format!(
                "starts with {c:?}; it must start with a letter or digit"
            ))
        }
        Some(_) => {}
    }
    if part.len() > 127 {
        return Err(format!(
            "is {} characters long, at most 127 are allowed",
            part.len()
        ));
    }
    if let Some(c) = chars.find(|c| {
        !(c.is_ascii_alphanumeric()
            || matches!(c, '!' | '#' | '$' | '&' | '-' | '^' | '_' | '.' | '+'))
    }) {
        return Err(format!("contains {c:?}, which RFC 6838 does not allow"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in ManifestKind::ALL {
            assert_eq!(ManifestKind::from_media_type(k.media_type()), Some(k));
        }
        assert_eq!(ManifestKind::from_media_type("application/json"), None);
        assert!(ManifestKind::OciIndex.is_index());
        assert!(!ManifestKind::DockerManifest.is_oci());
    }

    #[test]
    fn essence_drops_parameters() {
        assert_eq!(
            essence(" Application/VND.oci.image.manifest.v1+json ; charset=utf-8").as_deref(),
            Some(OCI_MANIFEST)
        );
        assert_eq!(essence(" ; x=y"), None);
    }

    #[test]
    fn rfc6838_names() {
        for ok in [
            OCI_MANIFEST,
            WASM_LAYER,
            "text/plain; charset=utf-8",
            "a/b!#$&-^_.+",
        ] {
            assert!(check_media_type(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "application",
            "/json",
            "application/",
            "application/.json",
            "app lication/json",
            "a/b/c",
        ] {
            assert!(check_media_type(bad).is_err(), "{bad}");
        }
        assert!(check_media_type(&format!("a/{}", "b".repeat(128))).is_err());
    }
}
