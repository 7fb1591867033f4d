//! [`RegistryError`], what every operation of this crate fails with, and its mapping onto the
//! distribution spec's codes ([`ErrorCode`]) and HTTP statuses for the `/v2/` routes.

use thiserror::Error;

use crate::digest::{Digest, DigestError};
use crate::errors::{ErrorBody, ErrorCode};
use crate::manifest::ManifestError;
use crate::name::{NameError, ReferenceError};
use crate::pagination::PaginationError;

/// What a registry operation can fail with.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// A digest string is malformed or of an unsupported algorithm.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// A repository name or tag is invalid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The `n` or `last` query parameter of a tag listing is invalid.
    #[error(transparent)]
    Pagination(#[from] PaginationError),
    /// A manifest failed validation.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The blob is not in the store.
    #[error("blob {digest} is unknown")]
    BlobUnknown {
        /// The digest asked for.
        digest: Digest,
    },
    /// The content does not hash to the digest the client gave; nothing was stored.
    #[error("content digest {actual} does not match the expected {expected}")]
    DigestMismatch {
        /// The digest the client gave.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// No upload session with this id (never started, finished, cancelled or expired).
    #[error("upload session `{id}` is unknown")]
    UploadUnknown {
        /// The id as given.
        id: String,
    },
    /// A chunk does not start where the upload currently ends (chunks out of order).
    #[error("chunk starts at offset {offset} but the upload has {current_size} bytes; send the chunk that starts at {current_size}")]
    RangeMismatch {
        /// Where the chunk claimed to start.
        offset: u64,
        /// The upload's current size: where the next chunk must start.
        current_size: u64,
    },
    /// A requested byte range lies outside the blob.
    #[error("range {start}-{} is not satisfiable for a blob of {size} bytes", end.map(|e| e.to_string()).unwrap_or_default())]
    RangeNotSatisfiable {
        /// First byte asked for.
        start: u64,
        /// Last byte asked for (inclusive), if given.
        end: Option<u64>,
        /// The blob's size.
        size: u64,
    },
    /// Reading the content being uploaded failed part-way (the client's body ended early or the
    /// connection broke). Nothing of that request's bytes was kept: a chunk is applied whole or
    /// not at all, so the upload can be resumed at its previous size.
    #[error("reading the uploaded content failed after {received} bytes: {source}")]
    UploadInterrupted {
        /// Bytes read from the content before it failed (all of them discarded).
        received: u64,
        /// The error the content's reader gave.
        #[source]
        source: std::io::Error,
    },
    /// The storage backend failed. The text is for logs, never for clients.
    #[error("blob storage failed while {context}: {source}")]
    Io {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The object store behind an S3-compatible blob store failed (unreachable, refused the
    /// credentials, no such bucket, …). The text is for logs, never for clients.
    #[error("object storage failed while {context}: {source}")]
    ObjectStore {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// The blob store's configured location is malformed or of an unsupported kind.
    #[error("blob store location `{location}` is not usable: {reason}")]
    InvalidLocation {
        /// The location as configured.
        location: String,
        /// What is wrong with it, and what is supported.
        reason: String,
    },
    /// An OCI image layout on disk is unreadable or lacks what was asked of it.
    #[error("{path}: {reason}")]
    InvalidLayout {
        /// The file at fault (e.g. its `index.json`).
        path: String,
        /// What is wrong, and how to fix it.
        reason: String,
    },
}

impl From<ReferenceError> for RegistryError {
    fn from(e: ReferenceError) -> Self {
        match e {
            ReferenceError::Digest(d) => RegistryError::Digest(d),
            ReferenceError::Tag(t) => RegistryError::Name(t),
        }
    }
}

impl RegistryError {
    /// A closure turning an I/O error into [`RegistryError::Io`] with `context`.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RegistryError {
        let context = context.into();
        move |source| RegistryError::Io { context, source }
    }

    /// A closure turning an `object_store` error into [`RegistryError::ObjectStore`] with
    /// `context`.
    pub fn object_store(
        context: impl Into<String>,
    ) -> impl FnOnce(object_store::Error) -> RegistryError {
        let context = context.into();
        move |source| RegistryError::ObjectStore { context, source }
    }

    /// The distribution-spec code to answer with; `None` for internal failures (answer `500`
    /// without details).
    pub fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            RegistryError::Digest(_) | RegistryError::DigestMismatch { .. } => {
                ErrorCode::DigestInvalid
            }
            RegistryError::Name(NameError::InvalidTag { .. }) => ErrorCode::ManifestInvalid,
            RegistryError::Name(_) => ErrorCode::NameInvalid,
            RegistryError::Pagination(_) => ErrorCode::Unsupported,
            RegistryError::Manifest(_) => ErrorCode::ManifestInvalid,
            RegistryError::BlobUnknown { .. } => ErrorCode::BlobUnknown,
            RegistryError::UploadUnknown { .. } => ErrorCode::BlobUploadUnknown,
            RegistryError::RangeMismatch { .. } | RegistryError::UploadInterrupted { .. } => {
                ErrorCode::BlobUploadInvalid
            }
            RegistryError::RangeNotSatisfiable { .. } => ErrorCode::Unsupported,
            RegistryError::Io { .. }
            | RegistryError::ObjectStore { .. }
            | RegistryError::InvalidLocation { .. }
            | RegistryError::InvalidLayout { .. } => return None,
        })
    }

    /// The HTTP status: the code's usual one (`400` for an interrupted upload), except `416` for
    /// out-of-order chunks and unsatisfiable ranges, `400` for bad pagination parameters, and
    /// `500` for internal failures.
    pub fn status(&self) -> u16 {
        match self {
            RegistryError::RangeMismatch { .. } | RegistryError::RangeNotSatisfiable { .. } => 416,
            RegistryError::Pagination(_) => 400,
            other => other.code().map_or(500, ErrorCode::status),
        }
    }

    /// The distribution-spec error body; `detail` carries the manifest problems (pointer and
    /// message each) or the upload's current size where a client can act on them. `None` for
    /// internal failures, whose text must not reach clients.
    pub fn body(&self) -> Option<ErrorBody> {
        let code = self.code()?;
        let detail = match self {
            RegistryError::Manifest(m) => Some(serde_json::json!({
                "problems": m.problems.iter().map(|p| serde_json::json!({
                    "pointer": p.pointer, "message": p.message,
                })).collect::<Vec<_>>()
            })),
            RegistryError::RangeMismatch { current_size, .. } => {
                Some(serde_json::json!({ "currentSize": current_size }))
            }
            RegistryError::DigestMismatch { expected, actual } => {
                Some(serde_json::json!({ "expected": expected, "actual": actual }))
            }
            _ => None,
        };
        Some(ErrorBody::single(code, self.to_string(), detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let d = Digest::sha256_of(b"x");
        let mismatch = RegistryError::DigestMismatch {
            expected: d.clone(),
            actual: Digest::sha256_of(b"y"),
        };
        assert_eq!(mismatch.code(), Some(ErrorCode::DigestInvalid));
        assert_eq!(mismatch.status(), 400);
        let range = RegistryError::RangeMismatch {
            offset: 5,
            current_size: 3,
        };
        assert_eq!(range.status(), 416);
        assert_eq!(range.code(), Some(ErrorCode::BlobUploadInvalid));
        assert_eq!(
            range.body().unwrap().errors[0].detail,
            Some(serde_json::json!({"currentSize": 3}))
        );
        let interrupted = RegistryError::UploadInterrupted {
            received: 10,
            source: std::io::ErrorKind::UnexpectedEof.into(),
        };
        assert_eq!(interrupted.code(), Some(ErrorCode::BlobUploadInvalid));
        assert_eq!(interrupted.status(), 400);
        assert!(interrupted.body().is_some());
        let unknown = RegistryError::BlobUnknown { digest: d };
        assert_eq!(unknown.status(), 404);
        let io = RegistryError::io("reading")(std::io::Error::other("disk on fire"));
        assert_eq!(io.status(), 500);
        assert!(io.body().is_none());
        let store = RegistryError::object_store("reading blob")(object_store::Error::Generic {
            store: "S3",
            source: "bucket on fire".into(),
        });
        assert_eq!((store.code(), store.status()), (None, 500));
        assert!(store.body().is_none());
        assert!(store.to_string().contains("reading blob"));
        let name: RegistryError = crate::name::RepoName::parse("A").unwrap_err().into();
        assert_eq!(name.code(), Some(ErrorCode::NameInvalid));
        let reference: RegistryError = crate::name::Reference::parse("sha256:x")
            .unwrap_err()
            .into();
        assert_eq!(reference.code(), Some(ErrorCode::DigestInvalid));
    }
}
