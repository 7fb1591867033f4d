//! Is an SBOM about this artifact? The SBOM-side check: an SBOM is bound to an artifact when its
//! subject (CycloneDX `metadata.component`, the package an SPDX document describes) carries a
//! SHA-256 hash equal to the artifact's digest. The server also binds an SBOM through an OCI
//! referrer whose subject is the artifact, or a digest the manifest declares; those checks live
//! where the registry and the manifest are. An unbound SBOM is a finding.

use super::model::Sbom;

/// Whether an SBOM names the artifact it is presented with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The subject's SHA-256 equals the artifact digest.
    Bound {
        /// The subject's `ref_id`.
        subject: String,
    },
    /// Not bound; `reason` says why, in words for the finding.
    Unbound {
        /// Why the SBOM is not bound.
        reason: String,
    },
}

/// Checks whether `sbom` is bound to the artifact whose digest is `artifact_digest`
/// (`sha256:<64 hex>` as OCI writes it, or the bare 64 hex digits; case-insensitive).
pub fn binding(sbom: &Sbom, artifact_digest: &str) -> Binding {
    let unbound = |reason: String| Binding::Unbound { reason };
    let hex = artifact_digest
        .strip_prefix("sha256:")
        .unwrap_or(artifact_digest);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return unbound(format!(
            "the artifact digest `{artifact_digest}` is not a SHA-256 digest (sha256:<64 hex digits>)"
        ));
    }
    let Some(subject) = &sbom.subject else {
        return unbound(
            "the SBOM names no subject (CycloneDX metadata.component, or one package the SPDX document describes)".into(),
        );
    };
    match subject.sha256() {
        None => unbound(format!(
            "the SBOM's subject `{}` carries no SHA-256 hash",
            subject.name
        )),
        Some(h) if h.eq_ignore_ascii_case(hex) => Binding::Bound {
            subject: subject.ref_id.clone(),
        },
        Some(h) => unbound(format!(
            "the SBOM's subject `{}` has SHA-256 {h}, the artifact is sha256:{}",
            subject.name,
            hex.to_ascii_lowercase()
        )),
    }
}
