//! [`ObjectBlobStore`]: blobs in an object store (any S3-compatible one, through the
//! `object_store` crate), under a key prefix; [`amazon_s3`] builds the S3 client from the usual
//! `AWS_*` variables.
//!
//! ```text
//! <prefix>/blobs/sha256/abcdef…                  committed blobs, content-addressed
//! <prefix>/uploads/<upload id>/session           an upload session exists (an empty marker)
//! <prefix>/uploads/<upload id>/00000000000000000000  its chunks, one object each, named by
//! <prefix>/uploads/<upload id>/00000000000001048576  their offset (zero-padded to 20 digits)
//! ```
//!
//! **Atomic writes.** An object is written through a [`Staged`] object and appears only once
//! complete: content that fits in one part ([`PART_SIZE`]) is buffered and stored with one PUT,
//! which S3 makes visible only whole; anything larger goes up as a multipart upload, whose parts
//! S3 keeps invisible until the upload is completed. A blob is completed only after its bytes
//! hashed to the expected digest; on a mismatch, a failing reader or a cancelled call the
//! multipart upload is aborted, so nothing is ever visible. The multipart upload is the
//! temporary object: the blob goes straight to its final key, with no copy afterwards (S3's
//! single-request copy stops at 5 GiB) and no `tmp/` object a crash could leave behind. A crash
//! mid-upload leaves only an incomplete multipart upload, which no read or listing sees; a bucket
//! lifecycle rule (`AbortIncompleteMultipartUpload`) reclaims its space.
//!
//! **Upload sessions** live in the bucket, so they survive a restart (and any server sharing
//! the bucket can continue them): each appended chunk is its own object, written atomically
//! like a blob, so a chunk that fails part-way leaves nothing and the upload's size is the sum of
//! its chunks. `finish` streams the chunks and the last chunk through the hasher into the blob's
//! multipart upload, commits it on a match, then deletes the session. Chunks of one upload are
//! applied one at a time per process (a lock per upload); two servers appending to the same
//! upload at the same instant are not serialised, and the session then reports itself
//! inconsistent rather than producing a wrong blob (the digest is verified at `finish` anyway).
//!
//! **Memory.** Content is read in pieces of [`STREAM_CHUNK`] bytes and hashed as it goes. S3
//! needs parts of at least 5 MiB, so each write buffers one part and has at most
//! [`PARTS_IN_FLIGHT`] more being sent: about 15 MiB per write in progress, whatever the blob's
//! size. With 5 MiB parts and S3's limit of 10,000 parts, a blob (or one chunk) can be up to
//! about 48 GiB. Reads are streamed from the GET response.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{
    ClientConfigKey, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload,
    WriteMultipart,
};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;

use super::{resolve_range, BlobReader, BlobStore, ByteRange, UploadId, STREAM_CHUNK};
use crate::digest::{Digest, Hasher};
use crate::error::RegistryError;

/// The size of the parts of a multipart upload: S3's minimum for every part but the last. Content
/// up to this size is stored with a single PUT instead.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// How many parts of one write may be on their way to the store at once (besides the one being
/// filled).
pub const PARTS_IN_FLIGHT: usize = 2;

/// The name of the marker object that says an upload session exists.
const SESSION_MARKER: &str = "session";

/// The overall time limit of one request to S3 unless `AWS_TIMEOUT` says otherwise. It spans
/// the whole response body, and a blob read is paced by the client pulling it, so it is long;
/// `object_store`'s default (30 s, with resumption only within 3 minutes) would cut off slow
/// pulls of large blobs.
pub const DEFAULT_S3_TIMEOUT: &str = "30m";

/// A [`BlobStore`] in an object store, under a key prefix.
#[derive(Debug)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// One lock per live upload, so chunks of one upload are applied one at a time.
    uploads: Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<()>>>>,
}

/// A chunk of an upload session, as stored.
#[derive(Debug)]
struct Chunk {
    /// Where it starts in the upload.
    offset: u64,
    /// Its object.
    path: Path,
    /// Its size.
    size: u64,
}

/// Builds an S3 client for `bucket` from `AWS_*` variables (pass `std::env::vars()`, or
/// explicit pairs in tests): `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION` / `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`) for a store
/// other than AWS, `AWS_VIRTUAL_HOSTED_STYLE_REQUEST` (`true` for `bucket.host` URLs; path style
/// otherwise), `AWS_ALLOW_HTTP`, `AWS_TIMEOUT`, and every other key `object_store`'s
/// `AmazonS3ConfigKey` knows. An `http://` endpoint is allowed without `AWS_ALLOW_HTTP`; without
/// keys, the instance's or container's credentials are used. Variables not starting with `AWS_`
/// are ignored; `AWS_BUCKET` is too (the location names the bucket).
pub fn amazon_s3<I, K, V>(bucket: &str, env: I) -> Result<Arc<dyn ObjectStore>, RegistryError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let mut builder = AmazonS3Builder::new();
    let (mut endpoint_url, mut endpoint) = (None, None);
    let (mut allow_http_set, mut timeout_set) = (false, false);
    for (key, value) in env {
        let key = key.as_ref();
        if !key.starts_with("AWS_") {
            continue;
        }
        let value = value.into();
        match key {
            "AWS_ENDPOINT_URL" => endpoint_url = Some(value),
            "AWS_ENDPOINT" => endpoint = Some(value),
            _ => {
                let Ok(config) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() else {
                    continue;
                };
                match config {
                    AmazonS3ConfigKey::Bucket => continue,
                    AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp) => allow_http_set = true,
                    AmazonS3ConfigKey::Client(ClientConfigKey::Timeout) => timeout_set = true,
                    _ => {}
                }
                builder = builder.with_config(config, value);
            }
        }
    }
    if let Some(endpoint) = endpoint_url.or(endpoint) {
        if !allow_http_set && endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        builder = builder.with_endpoint(endpoint);
    }
    if !timeout_set {
        builder = builder.with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            DEFAULT_S3_TIMEOUT,
        );
    }
    let store = builder
        .with_bucket_name(bucket)
        .build()
        .map_err(RegistryError::object_store(format!(
            "configuring the S3 client for bucket `{bucket}`"
        )))?;
    Ok(Arc::new(store))
}

impl ObjectBlobStore {
    /// A store keeping its objects in `store` under `prefix` (`""` for the bucket's root; a
    /// `/`-separated key prefix otherwise, without empty, `.` or `..` segments).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
    ) -> Result<ObjectBlobStore, RegistryError> {
        let prefix =
            Path::parse(prefix.trim_matches('/')).map_err(|e| RegistryError::InvalidLocation {
                location: prefix.to_owned(),
                reason: format!("the key prefix is not a valid object path: {e}"),
            })?;
        Ok(ObjectBlobStore {
            store,
            prefix,
            uploads: Mutex::new(HashMap::new()),
        })
    }

    /// The object store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The key prefix (empty for the bucket's root).
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Lists the prefix once, so that a wrong endpoint, bucket or credentials fail at startup
    /// with a clear error rather than on the first push.
    pub async fn check_access(&self) -> Result<(), RegistryError> {
        self.store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map_err(RegistryError::object_store(format!(
                "checking access to {} (prefix `{}`)",
                self.store, self.prefix
            )))?;
        Ok(())
    }

    /// Where the blob `digest` lives once committed.
    pub fn blob_path(&self, digest: &Digest) -> Path {
        self.prefix
            .clone()
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    fn uploads_root(&self) -> Path {
        self.prefix.clone().join("uploads")
    }

    fn upload_dir(&self, id: &UploadId) -> Path {
        self.uploads_root().join(id.as_str())
    }

    fn chunk_path(&self, id: &UploadId, offset: u64) -> Path {
        self.upload_dir(id).join(format!("{offset:020}"))
    }

    /// Removes upload sessions not written to for `max_age` (abandoned by their clients),
    /// including chunks left without a session by an interrupted clean-up. Returns how many
    /// sessions were removed.
    pub async fn purge_stale_uploads(&self, max_age: Duration) -> Result<usize, RegistryError> {
        let root = self.uploads_root();
        let mut newest: HashMap<String, SystemTime> = HashMap::new();
        let mut listing = self.store.list(Some(&root));
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(RegistryError::object_store("listing uploads"))?
        {
            let Some(id) = meta
                .location
                .prefix_match(&root)
                .and_then(|mut parts| parts.next())
            else {
                continue;
            };
            let modified = SystemTime::from(meta.last_modified);
            let entry = newest
                .entry(id.as_ref().to_owned())
                .or_insert(SystemTime::UNIX_EPOCH);
            *entry = (*entry).max(modified);
        }
        let now = SystemTime::now();
        let mut removed = 0;
        for (id, modified) in newest {
            let Ok(id) = UploadId::parse(&id) else {
                continue;
            };
            if now.duration_since(modified).unwrap_or_default() < max_age {
                continue;
            }
            let slot = self.slot(&id);
            let _guard = slot.lock().await;
            if self.remove_session(&id).await? > 0 {
                removed += 1;
            }
            self.forget(&id);
        }
        Ok(removed)
    }

    /// The lock of an upload session (created on first use, e.g. after a restart).
    fn slot(&self, id: &UploadId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.clone()).or_default().clone()
    }

    fn forget(&self, id: &UploadId) {
        let mut map = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }

    /// The object's metadata, or `None` when there is no such object.
    async fn head(&self, path: &Path, context: &str) -> Result<Option<ObjectMeta>, RegistryError> {
        match self.store.head(path).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(RegistryError::object_store(context)(e)),
        }
    }

    /// The upload's chunks in order and its size; [`RegistryError::UploadUnknown`] when there
    /// is no such upload. Call with the upload's lock held.
    async fn session(&self, id: &UploadId) -> Result<(Vec<Chunk>, u64), RegistryError> {
        let dir = self.upload_dir(id);
        let mut exists = false;
        let mut chunks = Vec::new();
        let mut listing = self.store.list(Some(&dir));
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(RegistryError::object_store("listing upload chunks"))?
        {
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if name == SESSION_MARKER {
                exists = true;
            } else if let Some(offset) = parse_offset(name) {
                chunks.push(Chunk {
                    offset,
                    size: meta.size,
                    path: meta.location,
                });
            }
        }
        if !exists {
            self.forget(id);
            return Err(RegistryError::UploadUnknown { id: id.to_string() });
        }
        chunks.sort_by_key(|c| c.offset);
        let mut size = 0u64;
        for chunk in &chunks {
            if chunk.offset != size {
                return Err(RegistryError::io(format!("reading upload {id}"))(
                    io::Error::other(format!(
                        "its chunks are not contiguous: one starts at {} where {size} was \
                         expected (were two servers appending to it at once?)",
                        chunk.offset
                    )),
                ));
            }
            size += chunk.size;
        }
        Ok((chunks, size))
    }

    /// Deletes the upload's objects, the marker first (so the session is gone at once even if
    /// the rest fails). Returns how many objects there were.
    async fn remove_session(&self, id: &UploadId) -> Result<usize, RegistryError> {
        let dir = self.upload_dir(id);
        let mut paths: Vec<Path> = self
            .store
            .list(Some(&dir))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(RegistryError::object_store("listing upload chunks"))?;
        paths.sort_by_key(|p| p.filename() != Some(SESSION_MARKER));
        let count = paths.len();
        if let Some(marker) = paths
            .first()
            .filter(|p| p.filename() == Some(SESSION_MARKER))
        {
            self.delete_objects(vec![marker.clone()]).await?;
            paths.remove(0);
        }
        self.delete_objects(paths).await?;
        Ok(count)
    }

    /// Deletes objects (a missing one is not an error).
    async fn delete_objects(&self, paths: Vec<Path>) -> Result<(), RegistryError> {
        if paths.is_empty() {
            return Ok(());
        }
        let locations = futures_util::stream::iter(paths.into_iter().map(Ok));
        self.store
            .delete_stream(Box::pin(locations))
            .try_for_each(|_| async { Ok(()) })
            .await
            .or_else(|e| match e {
                object_store::Error::NotFound { .. } => Ok(()),
                e => Err(e),
            })
            .map_err(RegistryError::object_store("deleting upload objects"))
    }

    /// Streams the upload's chunks into `staged` through `hasher`, checking each is as listed.
    async fn replay_chunks(
        &self,
        chunks: &[Chunk],
        hasher: &mut Hasher,
        staged: &mut Staged,
    ) -> Result<(), RegistryError> {
        for chunk in chunks {
            let result = self
                .store
                .get_opts(&chunk.path, GetOptions::default())
                .await
                .map_err(RegistryError::object_store("reading upload chunk"))?;
            let mut reader = StreamReader::new(result.into_stream().map_err(io::Error::from));
            let copied = pump(&mut reader, Some(hasher), Some(staged))
                .await
                .map_err(|e| match e {
                    PumpError::Read { source, .. } => {
                        RegistryError::io("reading upload chunk")(source)
                    }
                    PumpError::Write(e) => RegistryError::object_store("writing blob")(e),
                })?;
            if copied != chunk.size {
                return Err(RegistryError::io("reading upload chunk")(io::Error::other(
                    format!("chunk {} changed while the upload was finished", chunk.path),
                )));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        let meta = self
            .head(&self.blob_path(digest), "reading blob metadata")
            .await?;
        Ok(meta.map(|m| m.size))
    }

    async fn stored_at(&self, digest: &Digest) -> Result<Option<SystemTime>, RegistryError> {
        let meta = self
            .head(&self.blob_path(digest), "reading blob metadata")
            .await?;
        Ok(meta.map(|m| SystemTime::from(m.last_modified)))
    }

    async fn open_read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<(BlobReader, u64, u64, u64), RegistryError> {
        let path = self.blob_path(digest);
        let unknown = || RegistryError::BlobUnknown {
            digest: digest.clone(),
        };
        let (options, start, len) = match range {
            None => (GetOptions::default(), 0, None),
            Some(r) => {
                // The range is resolved against the size first, for the spec's 416 answer.
                let total = self
                    .head(&path, "reading blob metadata")
                    .await?
                    .ok_or_else(unknown)?
                    .size;
                let (start, len) = resolve_range(r, total)?;
                let options = GetOptions {
                    range: Some(GetRange::Bounded(start..start + len)),
                    ..GetOptions::default()
                };
                (options, start, Some(len))
            }
        };
        let result = match self.store.get_opts(&path, options).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Err(unknown()),
            Err(e) => return Err(RegistryError::object_store("opening blob")(e)),
        };
        let total = result.meta.size;
        let len = len.unwrap_or(total);
        let stream = result.into_stream().map_err(io::Error::from);
        let reader = StreamReader::new(stream).take(len);
        Ok((Box::new(reader), start, len, total))
    }

    async fn put_stream(
        &self,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let path = self.blob_path(expected);
        let mut hasher = Hasher::new(expected.algorithm());
        let mismatch = |hasher: Hasher| {
            let actual = hasher.finish();
            (actual != *expected).then(|| RegistryError::DigestMismatch {
                expected: expected.clone(),
                actual,
            })
        };
        if self.head(&path, "reading blob metadata").await?.is_some() {
            // Stored already: the content only needs verifying, not writing again.
            let size = pump(reader, Some(&mut hasher), None)
                .await
                .map_err(|e| e.into_error("verifying blob"))?;
            return match mismatch(hasher) {
                Some(e) => Err(e),
                None => Ok(size),
            };
        }
        let mut staged = Staged::new(self.store.clone(), path);
        let size = match pump(reader, Some(&mut hasher), Some(&mut staged)).await {
            Ok(size) => size,
            Err(e) => {
                staged.abort().await;
                return Err(e.into_error("writing blob"));
            }
        };
        if let Some(e) = mismatch(hasher) {
            staged.abort().await;
            return Err(e);
        }
        staged
            .commit()
            .await
            .map_err(RegistryError::object_store("committing blob"))?;
        Ok(size)
    }

    async fn delete(&self, digest: &Digest) -> Result<bool, RegistryError> {
        let path = self.blob_path(digest);
        // S3 answers a DELETE the same whether the object existed or not.
        if self.head(&path, "reading blob metadata").await?.is_none() {
            return Ok(false);
        }
        match self.store.delete(&path).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(RegistryError::object_store("deleting blob")(e)),
        }
    }

    async fn list(&self) -> Result<Vec<Digest>, RegistryError> {
        let root = self.prefix.clone().join("blobs");
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&root));
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(RegistryError::object_store("listing blobs"))?
        {
            let Some(parts) = meta.location.prefix_match(&root) else {
                continue;
            };
            let parts: Vec<_> = parts.collect();
            if let [algorithm, hex] = parts.as_slice() {
                let text = format!("{}:{}", algorithm.as_ref(), hex.as_ref());
                if let Ok(d) = Digest::parse(&text) {
                    out.push(d);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn start_upload(&self) -> Result<UploadId, RegistryError> {
        let id = UploadId::new_random();
        let marker = self.upload_dir(&id).join(SESSION_MARKER);
        self.store
            .put(&marker, PutPayload::default())
            .await
            .map_err(RegistryError::object_store("creating upload"))?;
        Ok(id)
    }

    async fn append_stream(
        &self,
        id: &UploadId,
        offset: u64,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let _guard = slot.lock().await;
        let (_, size) = self.session(id).await?;
        if offset != size {
            return Err(RegistryError::RangeMismatch {
                offset,
                current_size: size,
            });
        }
        let mut staged = Staged::new(self.store.clone(), self.chunk_path(id, size));
        let copied = match pump(reader, None, Some(&mut staged)).await {
            Ok(copied) => copied,
            Err(e) => {
                staged.abort().await;
                return Err(e.into_error("storing upload chunk"));
            }
        };
        if copied == 0 {
            // Nothing to keep: no object for an empty chunk.
            return Ok(size);
        }
        staged
            .commit()
            .await
            .map_err(RegistryError::object_store("storing upload chunk"))?;
        Ok(size + copied)
    }

    async fn upload_size(&self, id: &UploadId) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let _guard = slot.lock().await;
        Ok(self.session(id).await?.1)
    }

    async fn finish_stream(
        &self,
        id: &UploadId,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let _guard = slot.lock().await;
        let (chunks, size) = self.session(id).await?;
        let mut hasher = Hasher::new(expected.algorithm());
        let mut staged = Staged::new(self.store.clone(), self.blob_path(expected));
        if let Err(e) = self.replay_chunks(&chunks, &mut hasher, &mut staged).await {
            staged.abort().await;
            return Err(e);
        }
        let last = match pump(reader, Some(&mut hasher), Some(&mut staged)).await {
            Ok(n) => n,
            Err(e) => {
                // The session stays as it was, for the client to try again.
                staged.abort().await;
                return Err(e.into_error("writing blob"));
            }
        };
        let actual = hasher.finish();
        if actual != *expected {
            staged.abort().await;
            self.remove_session(id).await?;
            self.forget(id);
            return Err(RegistryError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        staged
            .commit()
            .await
            .map_err(RegistryError::object_store("committing blob"))?;
        // The blob is stored; a session whose removal fails now is unknown to clients (its
        // marker goes first) and `purge_stale_uploads` collects what is left of it.
        let _ = self.remove_session(id).await;
        self.forget(id);
        Ok(size + last)
    }

    async fn cancel(&self, id: &UploadId) -> Result<(), RegistryError> {
        let slot = self.slot(id);
        let _guard = slot.lock().await;
        let existed = self
            .head(&self.upload_dir(id).join(SESSION_MARKER), "reading upload")
            .await?
            .is_some();
        self.remove_session(id).await?;
        self.forget(id);
        if existed {
            Ok(())
        } else {
            Err(RegistryError::UploadUnknown { id: id.to_string() })
        }
    }
}

/// A chunk object's offset from its name: exactly 20 digits.
fn parse_offset(name: &str) -> Option<u64> {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// One object being written from pieces, invisible until [`Staged::commit`]: content up to
/// [`PART_SIZE`] is buffered and stored with a single PUT; beyond that it goes up as a multipart
/// upload. Dropped uncommitted (the call failed or was cancelled), it leaves nothing: the buffer
/// is discarded and a multipart upload is aborted in the background.
#[derive(Debug)]
struct Staged {
    store: Arc<dyn ObjectStore>,
    location: Path,
    state: Option<Staging>,
}

/// How far a [`Staged`] object has got.
#[derive(Debug)]
enum Staging {
    /// Everything so far, at most [`PART_SIZE`] bytes.
    Buffered(Vec<u8>),
    /// More than one part: a multipart upload under way.
    Multipart(WriteMultipart),
}

impl Staged {
    fn new(store: Arc<dyn ObjectStore>, location: Path) -> Staged {
        Staged {
            store,
            location,
            state: Some(Staging::Buffered(Vec::new())),
        }
    }

    /// Adds a piece, starting the multipart upload when the buffer would outgrow one part, and
    /// waiting while [`PARTS_IN_FLIGHT`] parts are being sent.
    async fn write(&mut self, piece: &[u8]) -> Result<(), object_store::Error> {
        if let Some(Staging::Buffered(buf)) = &mut self.state {
            let needed = buf.len() + piece.len();
            if needed <= PART_SIZE {
                if needed > buf.capacity() {
                    // Grow by doubling, but never past one part.
                    let want = needed.max(buf.capacity() * 2).min(PART_SIZE);
                    buf.reserve_exact(want - buf.len());
                }
                buf.extend_from_slice(piece);
                return Ok(());
            }
            let upload = self.store.put_multipart(&self.location).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            writer.put(Bytes::from(std::mem::take(buf)));
            self.state = Some(Staging::Multipart(writer));
        }
        if let Some(Staging::Multipart(writer)) = &mut self.state {
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            writer.write(piece);
        }
        Ok(())
    }

    /// Makes the object visible, whole.
    async fn commit(mut self) -> Result<(), object_store::Error> {
        match self.state.take() {
            Some(Staging::Buffered(buf)) => {
                self.store
                    .put(&self.location, PutPayload::from(buf))
                    .await?;
            }
            // On failure `finish` aborts the upload itself.
            Some(Staging::Multipart(writer)) => {
                writer.finish().await?;
            }
            None => {}
        }
        Ok(())
    }

    /// Gives up: nothing becomes visible. A failure to abort leaves an incomplete multipart
    /// upload, invisible too (a lifecycle rule reclaims it), so it is not reported.
    async fn abort(mut self) {
        if let Some(Staging::Multipart(writer)) = self.state.take() {
            let _ = writer.abort().await;
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(Staging::Multipart(writer)) = self.state.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = writer.abort().await;
                });
            }
        }
    }
}

/// Why copying content failed.
#[derive(Debug)]
enum PumpError {
    /// The content's reader failed after `received` bytes.
    Read { received: u64, source: io::Error },
    /// The store refused a write.
    Write(object_store::Error),
}

impl PumpError {
    /// The error for content uploaded by a client: [`RegistryError::UploadInterrupted`] when
    /// its reader failed, [`RegistryError::ObjectStore`] with `context` when the store did.
    fn into_error(self, context: &str) -> RegistryError {
        match self {
            PumpError::Read { received, source } => {
                RegistryError::UploadInterrupted { received, source }
            }
            PumpError::Write(e) => RegistryError::object_store(context)(e),
        }
    }
}

/// Copies everything `reader` yields into `staged` (if any) through one buffer of
/// [`STREAM_CHUNK`] bytes, feeding each piece to `hasher` (if any). Returns the number of bytes
/// copied.
async fn pump<R>(
    reader: &mut R,
    mut hasher: Option<&mut Hasher>,
    mut staged: Option<&mut Staged>,
) -> Result<u64, PumpError>
where
    R: AsyncRead + Send + Unpin + ?Sized,
{
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut copied = 0u64;
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(PumpError::Read {
                    received: copied,
                    source,
                })
            }
        };
        let piece = &buf[..n];
        if let Some(h) = hasher.as_deref_mut() {
            h.update(piece);
        }
        if let Some(s) = staged.as_deref_mut() {
            s.write(piece).await.map_err(PumpError::Write)?;
        }
        copied += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_sort_by_offset() {
        assert_eq!(parse_offset("00000000000000000000"), Some(0));
        assert_eq!(parse_offset(&format!("{:020}", u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_offset("session"), None);
        assert_eq!(parse_offset("0001"), None);
        assert_eq!(parse_offset("-0000000000000000001"), None);
        let (a, b) = (format!("{:020}", 9), format!("{:020}", 10));
        assert!(a < b, "zero-padding keeps lexical order numeric");
    }

    #[test]
    fn prefixes_are_validated() {
        // No request is made: the client only computes keys here.
        let store = amazon_s3("b", [("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]).unwrap();
        let d = Digest::sha256_of(b"x");
        let root = ObjectBlobStore::new(store.clone(), "").unwrap();
        assert_eq!(
            root.blob_path(&d).as_ref(),
            format!("blobs/sha256/{}", d.hex())
        );
        let nested = ObjectBlobStore::new(store.clone(), "/team/registry/").unwrap();
        assert_eq!(
            nested.blob_path(&d).as_ref(),
            format!("team/registry/blobs/sha256/{}", d.hex())
        );
        for bad in ["a//b", "a/../b", "./a"] {
            assert!(matches!(
                ObjectBlobStore::new(store.clone(), bad),
                Err(RegistryError::InvalidLocation { .. })
            ));
        }
    }

    #[test]
    fn s3_clients_are_configured_from_aws_variables() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_BUCKET", "ignored"),
            ("HOME", "/root"),
        ];
        let store = amazon_s3("plaza-blobs", env).unwrap();
        assert!(store.to_string().contains("plaza-blobs"), "{store}");
        let env = [("AWS_TIMEOUT", "not a duration")];
        assert!(matches!(
            amazon_s3("plaza-blobs", env),
            Err(RegistryError::ObjectStore { .. })
        ));
    }
}
