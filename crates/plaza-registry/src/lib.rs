//! Plaza's OCI registry logic, without HTTP: digests ([`digest`]), repository names and tags
//! ([`name`]), manifest parsing and validation ([`manifest`]), content-addressed blob storage
//! with upload sessions, streamed in and out in bounded pieces ([`blob_store`]), the
//! distribution spec's error codes and body ([`errors`]), tag pagination ([`pagination`]), the
//! Wasm artifact layout ([`package`]) and the referrers Plaza attaches ([`referrer`]). The
//! `/v2/` routes in `plaza-server` extract a request, call into this crate and map
//! [`RegistryError`] through [`RegistryError::code`], [`RegistryError::status`] and
//! [`RegistryError::body`].

pub mod blob_store;
pub mod digest;
pub mod error;
pub mod errors;
pub mod gc;
pub mod layout;
pub mod manifest;
pub mod name;
pub mod package;
pub mod pagination;
pub mod referrer;

pub use blob_store::{
    open_blob_store, open_blob_store_with_env, BlobLocation, BlobReader, BlobSlice, BlobStore,
    ByteRange, FsBlobStore, ObjectBlobStore, UploadId, STREAM_CHUNK,
};
pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use error::RegistryError;
pub use errors::{ErrorBody, ErrorCode};
pub use manifest::{parse_manifest, Descriptor, ManifestError, ManifestKind, ParsedManifest};
pub use name::{NameError, Reference, RepoName, Tag};
/// The `object_store` crate the S3 backend is built on, for callers that hand
/// [`ObjectBlobStore::new`] a store of their own.
pub use object_store;
pub use pagination::{paginate_tags, TagPage, TagQuery};
