//! The [`BlobStore`] port: content-addressed blobs and resumable upload sessions, behind one
//! async trait so the filesystem backend ([`FsBlobStore`]) and the object-store backend
//! ([`ObjectBlobStore`], any S3-compatible store) pass the same tests. [`open_blob_store`] picks
//! the backend from a location: a path, a `file://` URL or an `s3://bucket/prefix` URL.
//!
//! Rules every backend keeps: a blob becomes visible (to `stat`, `get`, `list`) only once its
//! bytes are complete, durable and verified against the digest; a digest mismatch stores
//! nothing; an upload accepts a chunk only at its current end, and a chunk whose content fails
//! part-way is not kept at all.
//!
//! Blobs are streamed, never held whole in memory: [`BlobStore::open_read`] hands out a
//! [`BlobReader`] for (a range of) a blob, and [`BlobStore::put_stream`],
//! [`BlobStore::append_stream`] and [`BlobStore::finish_stream`] copy from any
//! [`AsyncRead`] in pieces of at most [`STREAM_CHUNK`] bytes while hashing them, so the memory an
//! operation needs is bounded by construction whatever the blob's size. [`BlobStore::get`],
//! [`BlobStore::put`], [`BlobStore::append`] and [`BlobStore::finish`] are conveniences on top
//! for bytes already in memory (manifests, small configs).

mod fs;
mod object;
mod upload_id;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

pub use fs::FsBlobStore;
pub use object::{amazon_s3, ObjectBlobStore, DEFAULT_S3_TIMEOUT, PARTS_IN_FLIGHT, PART_SIZE};
pub use upload_id::UploadId;

use crate::digest::Digest;
use crate::error::RegistryError;

/// The largest piece the streaming operations read, hash and write at a time (64 KiB): the
/// bound on the buffer each of them holds.
pub const STREAM_CHUNK: usize = 64 * 1024;

/// A byte range as an HTTP `Range: bytes=first-last` gives it: the first byte and, optionally,
/// the last byte (inclusive). A last byte past the end means "to the end".
pub type ByteRange = (u64, Option<u64>);

/// The bytes of a blob (or of a range of it) as [`BlobStore::open_read`] hands them out: a
/// reader that ends after the range, to turn into an HTTP body stream (e.g. with
/// `tokio_util::io::ReaderStream`). It keeps reading the blob as it was when opened, even if the
/// blob is deleted meanwhile.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

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
///
/// The streaming methods take the content as `&mut (dyn AsyncRead + Send + Unpin)` and read it to
/// its end; an error from that reader fails the call with [`RegistryError::UploadInterrupted`]
/// and keeps none of its bytes. Backends copy in pieces of at most [`STREAM_CHUNK`] bytes.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The size of the blob, or `None` when it is not stored.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, RegistryError>;

    /// When the blob was stored (committed), or `None` when it is not stored. Garbage collection
    /// spares blobs younger than its grace period.
    async fn stored_at(
        &self,
        digest: &Digest,
    ) -> Result<Option<std::time::SystemTime>, RegistryError>;

    /// Opens the blob, or the requested range of it, for streaming. Returns the reader (limited
    /// to the range), the offset of its first byte, its length and the blob's total size (for
    /// `Content-Range: bytes start-(start+len-1)/total`). Fails with
    /// [`RegistryError::BlobUnknown`] or [`RegistryError::RangeNotSatisfiable`].
    async fn open_read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<(BlobReader, u64, u64, u64), RegistryError>;

    /// The blob's bytes, or the requested range of them, read whole into memory: meant for
    /// small blobs (manifests, configs); stream large ones with [`BlobStore::open_read`]. Fails
    /// like `open_read`.
    async fn get(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<BlobSlice, RegistryError> {
        let (mut reader, start, len, total) = self.open_read(digest, range).await?;
        let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        reader
            .read_to_end(&mut data)
            .await
            .map_err(RegistryError::io("reading blob"))?;
        if data.len() as u64 != len {
            return Err(RegistryError::io("reading blob")(
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        Ok(BlobSlice {
            data: Bytes::from(data),
            start,
            total,
        })
    }

    /// Stores the content `reader` yields under `expected` (a monolithic upload): it is written
    /// aside while hashed, and committed atomically only if it hashes to `expected`; a mismatch
    /// (or a failing reader) stores nothing, leaves no temporary file and fails with
    /// [`RegistryError::DigestMismatch`] (or [`RegistryError::UploadInterrupted`]). Storing a
    /// blob that exists only verifies the content. Returns the size.
    async fn put_stream(
        &self,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError>;

    /// [`BlobStore::put_stream`] for bytes already in memory.
    async fn put(&self, expected: &Digest, bytes: &[u8]) -> Result<u64, RegistryError> {
        let mut reader = bytes;
        self.put_stream(expected, &mut reader).await
    }

    /// Removes the blob; `false` when it was not there.
    async fn delete(&self, digest: &Digest) -> Result<bool, RegistryError>;

    /// Every stored blob, sorted (for garbage collection).
    async fn list(&self) -> Result<Vec<Digest>, RegistryError>;

    /// Opens an upload session.
    async fn start_upload(&self) -> Result<UploadId, RegistryError>;

    /// Appends everything `reader` yields at `offset`, which must be the upload's current size
    /// (else [`RegistryError::RangeMismatch`] carrying that size, and `reader` is not read).
    /// The chunk is applied whole or not at all: when `reader` fails part-way (or the call is
    /// cancelled) the upload keeps its previous size. Returns the new size.
    async fn append_stream(
        &self,
        id: &UploadId,
        offset: u64,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError>;

    /// [`BlobStore::append_stream`] for a chunk already in memory.
    async fn append(&self, id: &UploadId, offset: u64, chunk: &[u8]) -> Result<u64, RegistryError> {
        let mut reader = chunk;
        self.append_stream(id, offset, &mut reader).await
    }

    /// The upload's current size.
    async fn upload_size(&self, id: &UploadId) -> Result<u64, RegistryError>;

    /// Appends everything `reader` yields (possibly nothing) as the last chunk, verifies the
    /// whole upload against `expected`, and commits it atomically as that blob; once the content
    /// has been read the session ends either way (a mismatch stores nothing). When `reader`
    /// fails part-way the session stays open at its previous size. Returns the blob's size.
    async fn finish_stream(
        &self,
        id: &UploadId,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError>;

    /// [`BlobStore::finish_stream`] with a last chunk already in memory (may be empty).
    async fn finish(
        &self,
        id: &UploadId,
        expected: &Digest,
        last_chunk: &[u8],
    ) -> Result<u64, RegistryError> {
        let mut reader = last_chunk;
        self.finish_stream(id, expected, &mut reader).await
    }

    /// Abandons the upload and frees its space.
    async fn cancel(&self, id: &UploadId) -> Result<(), RegistryError>;
}

/// Where a blob store keeps its blobs, as [`BlobLocation::parse`] reads a configured location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A directory on the local filesystem ([`FsBlobStore`]).
    Fs(PathBuf),
    /// A bucket of an S3-compatible object store and a key prefix in it, `""` for the bucket's
    /// root ([`ObjectBlobStore`]).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix, without leading or trailing `/`.
        prefix: String,
    },
}

/// What [`BlobLocation::parse`] accepts, for error messages.
const SUPPORTED_LOCATIONS: &str = "supported are a directory (a path, or a file:///absolute/path \
     URL) and an S3-compatible bucket (s3://bucket or s3://bucket/key/prefix)";

impl BlobLocation {
    /// Reads a location: empty means `default_fs_root`; `s3://bucket[/key/prefix]` an
    /// S3-compatible bucket; `file:///absolute/path` (or `file://localhost/…`) and anything
    /// without a `scheme://` a directory (a relative path is relative to the working directory).
    /// Other schemes, a `file://` URL naming a host or a relative path, and an `s3://` URL
    /// without a bucket or with a query are refused with [`RegistryError::InvalidLocation`].
    pub fn parse(location: &str, default_fs_root: &Path) -> Result<BlobLocation, RegistryError> {
        let invalid = |reason: String| RegistryError::InvalidLocation {
            location: location.to_owned(),
            reason,
        };
        let trimmed = location.trim();
        if trimmed.is_empty() {
            return Ok(BlobLocation::Fs(default_fs_root.to_path_buf()));
        }
        let Some((scheme, rest)) = trimmed.split_once("://").filter(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }) else {
            return Ok(BlobLocation::Fs(PathBuf::from(trimmed)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" => {
                if rest.contains(['?', '#']) {
                    return Err(invalid(format!(
                        "an s3:// URL takes no query or fragment; configure the client with \
                         AWS_* variables ({SUPPORTED_LOCATIONS})"
                    )));
                }
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() || bucket.contains(char::is_whitespace) {
                    return Err(invalid(format!(
                        "an s3:// URL names its bucket: s3://bucket[/key/prefix] \
                         ({SUPPORTED_LOCATIONS})"
                    )));
                }
                Ok(BlobLocation::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                })
            }
            "file" => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err(invalid(format!(
                        "a file:// URL names an absolute path on this machine, as in \
                         file:///var/lib/plaza/registry ({SUPPORTED_LOCATIONS})"
                    )));
                }
                Ok(BlobLocation::Fs(PathBuf::from(path)))
            }
            other => Err(invalid(format!(
                "the scheme `{other}` is not supported; {SUPPORTED_LOCATIONS}"
            ))),
        }
    }
}

/// Opens the blob store at `location` (see [`BlobLocation::parse`]; empty means a directory at
/// `default_fs_root`), configuring an S3 client from the process's `AWS_*` environment
/// variables (see [`amazon_s3`]). An S3 store is checked to be reachable before it is returned.
pub async fn open_blob_store(
    location: &str,
    default_fs_root: &Path,
) -> Result<Arc<dyn BlobStore>, RegistryError> {
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    open_blob_store_with_env(location, default_fs_root, env).await
}

/// [`open_blob_store`] with the `AWS_*` variables given rather than read from the process's
/// environment.
pub async fn open_blob_store_with_env<I, K, V>(
    location: &str,
    default_fs_root: &Path,
    env: I,
) -> Result<Arc<dyn BlobStore>, RegistryError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    match BlobLocation::parse(location, default_fs_root)? {
        BlobLocation::Fs(root) => Ok(Arc::new(FsBlobStore::open(root).await?)),
        BlobLocation::S3 { bucket, prefix } => {
            let store = ObjectBlobStore::new(amazon_s3(&bucket, env)?, &prefix)?;
            store.check_access().await?;
            Ok(Arc::new(store))
        }
    }
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

    #[test]
    fn locations() {
        let root = Path::new("/data/registry");
        let parse = |s: &str| BlobLocation::parse(s, root);
        assert_eq!(parse("").unwrap(), BlobLocation::Fs(root.to_path_buf()));
        assert_eq!(
            parse("/srv/blobs").unwrap(),
            BlobLocation::Fs("/srv/blobs".into())
        );
        assert_eq!(parse("blobs").unwrap(), BlobLocation::Fs("blobs".into()));
        assert_eq!(
            parse("file:///srv/blobs").unwrap(),
            BlobLocation::Fs("/srv/blobs".into())
        );
        assert_eq!(
            parse("file://localhost/srv/blobs").unwrap(),
            BlobLocation::Fs("/srv/blobs".into())
        );
        assert_eq!(
            parse("s3://plaza").unwrap(),
            BlobLocation::S3 {
                bucket: "plaza".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            parse("S3://plaza/prod/registry/").unwrap(),
            BlobLocation::S3 {
                bucket: "plaza".into(),
                prefix: "prod/registry".into()
            }
        );
        for bad in [
            "s3://",
            "s3:///prefix",
            "s3://b?region=x",
            "file://host/x",
            "file://relative",
            "gs://bucket",
            "https://example.com/x",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                matches!(err, RegistryError::InvalidLocation { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("supported"), "{err}");
        }
    }
}
