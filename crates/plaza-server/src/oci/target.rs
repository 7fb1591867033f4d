//! Parsing a `/v2/<name>/…` path: the repository name may hold slashes, so the operation is
//! found from the end (`/blobs/uploads/…`, `/blobs/<digest>`, `/manifests/<ref>`, `/tags/list`,
//! `/referrers/<digest>`), and every part is validated as the spec says.

use super::error::OciError;
use plaza_registry::name::ReferenceError;
use plaza_registry::{Digest, ErrorCode, Reference, RegistryError, RepoName, UploadId};

/// What a `/v2/` path names.
#[derive(Debug)]
pub enum Target {
    /// `/v2/<name>/blobs/<digest>`
    Blob { repo: RepoName, digest: Digest },
    /// `/v2/<name>/blobs/uploads/`
    Uploads { repo: RepoName },
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload { repo: RepoName, id: UploadId },
    /// `/v2/<name>/manifests/<reference>`
    Manifest {
        repo: RepoName,
        reference: ManifestRef,
    },
    /// `/v2/<name>/tags/list`
    Tags { repo: RepoName },
    /// `/v2/<name>/referrers/<digest>`
    Referrers { repo: RepoName, digest: Digest },
}

/// The `<reference>` of a manifest URL: a tag or a digest, or text in neither form (a malformed
/// digest is refused while parsing the path). Text that breaks the tag grammar can name no
/// manifest, so looking it up (GET, HEAD, DELETE) answers 404 `MANIFEST_UNKNOWN` as for any
/// missing manifest — the spec: "If the manifest is not found in the repository, the response
/// code MUST be 404" — while pushing to it is invalid input (400).
#[derive(Debug)]
pub enum ManifestRef {
    /// A valid tag or digest.
    Valid(Reference),
    /// Not a valid tag (e.g. `.hidden`, or longer than 128 characters).
    InvalidTag {
        /// The reference as it appeared in the path.
        raw: String,
        /// Why it is not a tag.
        error: ReferenceError,
    },
}

impl ManifestRef {
    /// The reference to push a manifest under; an invalid tag is refused with 400
    /// `MANIFEST_INVALID`.
    pub fn to_push(&self) -> Result<&Reference, OciError> {
        match self {
            ManifestRef::Valid(r) => Ok(r),
            ManifestRef::InvalidTag { error, .. } => Err(RegistryError::from(error.clone()).into()),
        }
    }

    /// The reference to look a manifest up by; `None` for an invalid tag, which names nothing.
    pub fn to_look_up(&self) -> Option<&Reference> {
        match self {
            ManifestRef::Valid(r) => Some(r),
            ManifestRef::InvalidTag { .. } => None,
        }
    }

    /// The reference as it appeared in the path.
    pub fn as_written(&self) -> String {
        match self {
            ManifestRef::Valid(r) => r.to_string(),
            ManifestRef::InvalidTag { raw, .. } => raw.clone(),
        }
    }
}

impl Target {
    /// The repository named.
    pub fn repo(&self) -> &RepoName {
        match self {
            Target::Blob { repo, .. }
            | Target::Uploads { repo }
            | Target::Upload { repo, .. }
            | Target::Manifest { repo, .. }
            | Target::Tags { repo }
            | Target::Referrers { repo, .. } => repo,
        }
    }

    /// Parses the request path (with its `/v2/` prefix).
    pub fn parse(path: &str) -> Result<Target, OciError> {
        let rest = path.strip_prefix("/v2/").unwrap_or(path);
        let unknown = || {
            OciError::new(
                ErrorCode::Unsupported,
                format!("`{path}` is not a route of the OCI distribution API"),
            )
        };
        let repo = |name: &str| {
            RepoName::parse(name).map_err(|e| OciError::new(ErrorCode::NameInvalid, e.to_string()))
        };
        let digest = |d: &str| {
            Digest::parse(d).map_err(|e| OciError::new(ErrorCode::DigestInvalid, e.to_string()))
        };
        if let Some(name) = rest.strip_suffix("/tags/list") {
            return Ok(Target::Tags { repo: repo(name)? });
        }
        if let Some(name) = rest
            .strip_suffix("/blobs/uploads/")
            .or_else(|| rest.strip_suffix("/blobs/uploads"))
        {
            return Ok(Target::Uploads { repo: repo(name)? });
        }
        if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/") {
            let id = UploadId::parse(id).map_err(|_| {
                OciError::new(
                    ErrorCode::BlobUploadUnknown,
                    format!("upload `{id}` is not known"),
                )
            })?;
            return Ok(Target::Upload {
                repo: repo(name)?,
                id,
            });
        }
        if let Some((name, d)) = rest.rsplit_once("/blobs/") {
            return Ok(Target::Blob {
                repo: repo(name)?,
                digest: digest(d)?,
            });
        }
        if let Some((name, r)) = rest.rsplit_once("/manifests/") {
            let reference = match Reference::parse(r) {
                Ok(reference) => ManifestRef::Valid(reference),
                // A malformed digest is a malformed request, whatever the method.
                Err(ReferenceError::Digest(e)) => {
                    return Err(OciError::new(ErrorCode::DigestInvalid, e.to_string()))
                }
                Err(error @ ReferenceError::Tag(_)) => ManifestRef::InvalidTag {
                    raw: r.to_owned(),
                    error,
                },
            };
            return Ok(Target::Manifest {
                repo: repo(name)?,
                reference,
            });
        }
        if let Some((name, d)) = rest.rsplit_once("/referrers/") {
            return Ok(Target::Referrers {
                repo: repo(name)?,
                digest: digest(d)?,
            });
        }
        Err(unknown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_slashes_and_every_operation_parse() {
        let d = Digest::sha256_of(b"x");
        assert!(
            matches!(Target::parse("/v2/acme/team/app/tags/list").unwrap(), Target::Tags { repo } if repo.as_str() == "acme/team/app")
        );
        assert!(matches!(
            Target::parse("/v2/acme/app/blobs/uploads/").unwrap(),
            Target::Uploads { .. }
        ));
        assert!(matches!(
            Target::parse(&format!("/v2/acme/app/blobs/{d}")).unwrap(),
            Target::Blob { .. }
        ));
        assert!(matches!(
            Target::parse("/v2/acme/app/manifests/v1.0").unwrap(),
            Target::Manifest { .. }
        ));
        assert!(matches!(
            Target::parse(&format!("/v2/acme/app/referrers/{d}")).unwrap(),
            Target::Referrers { .. }
        ));
        assert!(matches!(
            Target::parse("/v2/acme/app/manifests/.hidden").unwrap(),
            Target::Manifest {
                reference: ManifestRef::InvalidTag { .. },
                ..
            }
        ));
        assert!(Target::parse("/v2/acme/app/manifests/sha256:nothex").is_err());
        assert!(Target::parse("/v2/Acme/app/tags/list").is_err());
        assert!(Target::parse("/v2/acme/app/blobs/sha256:nothex").is_err());
        assert!(Target::parse("/v2/acme/app/unknown").is_err());
    }
}
