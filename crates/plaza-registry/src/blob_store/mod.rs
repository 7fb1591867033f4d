//! The [`BlobStore`] port: content-addressed blobs and resumable upload sessions, behind one
//! async trait so the filesystem backend ([`FsBlobStore`]) and later an object-store backend pass
//! the same tests.
//!
//! Rules every backend keeps: a blob becomes visible (to `stat`, `get`, `list`) only once its
//! bytes are complete, durable and verified against the digest; a digest mismatch stores
//! nothing; an upload accepts a chunk only at its current end.

mod fs;
mod upload_id;

use async_trait::async_trait;
use bytes::Bytes;

pub use fs::FsBlobStore;
pub use upload_id::UploadId;

use crate::digest::Digest;
use crate::error::RegistryError;

/// A byte range as an HTTP `Range: bytes=first-last` gives it: the first byte and, optionally,
/// the last byte (inclusive). A last byte past the end means "to the end".
pub type ByteRange = (u64, Option<u64>);

/// Part (or all) of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSlice {
    /// The bytes.
    pub data: Bytes,
    /// Offset of the first byte of `data` in the blob.
    pub start: u64,
    /// The blob's total size (for `Content-Range: bytes start-end/total`).
    pub total: u64,
}

/// Content-addressed blob storage with upload sessions.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The size of the blob, or `None` when it is not stored.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, RegistryError>;

    /// The blob's bytes, or the requested range of them. Fails with
    /// [`RegistryError::BlobUnknown`] or [`RegistryError::RangeNotSatisfiable`].
    async fn get(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<BlobSlice, RegistryError>;

    /// Stores `bytes` under `expected` after checking they hash to it (a mismatch stores
    /// nothing and fails with [`RegistryError::DigestMismatch`]). Storing a blob that exists is
    /// a no-op. Returns the size.
    async fn put(&self, expected: &Digest, bytes: &[u8]) -> Result<u64, RegistryError>;

    /// Removes the blob; `false` when it was not there.
    async fn delete(&self, digest: &Digest) -> Result<bool, RegistryError>;

    /// Every stored blob, sorted (for garbage collection).
    async fn list(&self) -> Result<Vec<Digest>, RegistryError>;

    /// Opens an upload session.
    async fn start_upload(&self) -> Result<UploadId, RegistryError>;

    /// Appends `chunk` at `offset`, which must be the upload's current size (else
    /// [`RegistryError::RangeMismatch`] carrying that size). Returns the new size.
    async fn append(&self, id: &UploadId, offset: u64, chunk: &[u8]) -> Result<u64, RegistryError>;

    /// The upload's current size.
    async fn upload_size(&self, id: &UploadId) -> Result<u64, RegistryError>;

    /// Appends `last_chunk` (may be empty), verifies the whole upload against `expected`, and
    /// commits it atomically as that blob; the session ends either way. Returns the blob's size.
    async fn finish(
        &self,
        id: &UploadId,
        expected: &Digest,
        last_chunk: &[u8],
    ) -> Result<u64, RegistryError>;

    /// Abandons the upload and frees its space.
    async fn cancel(&self, id: &UploadId) -> Result<(), RegistryError>;
}

/// Resolves `range` against a blob of `size` bytes into (first byte, length), as RFC 9110 does:
/// the first byte must lie inside the blob and not after the last; a last byte past the end is
/// clamped to the end.
pub fn resolve_range(range: ByteRange, size: u64) -> Result<(u64, u64), RegistryError> {
    let (start, end) = range;
    let unsatisfiable = RegistryError::RangeNotSatisfiable { start, end, size };
    if start >= size || end.is_some_and(|e| e < start) {
        return Err(unsatisfiable);
    }
    let last = end.map_or(size - 1, |e| e.min(size - 1));
    Ok((start, last - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(resolve_range((0, None), 10).unwrap(), (0, 10));
        assert_eq!(resolve_range((2, Some(4)), 10).unwrap(), (2, 3));
        assert_eq!(resolve_range((9, Some(100)), 10).unwrap(), (9, 1));
        assert!(resolve_range((10, None), 10).is_err());
        assert!(resolve_range((5, Some(4)), 10).is_err());
        assert!(resolve_range((0, None), 0).is_err());
    }
}
