//! [`FsBlobStore`]: blobs on the local filesystem under a root directory.
//!
//! ```text
//! <root>/blobs/sha256/ab/abcdef…   committed blobs, content-addressed
//! <root>/uploads/<upload id>       upload sessions in progress (survive a restart)
//! <root>/tmp/<random>              monolithic puts being written (removed on open)
//! ```
//!
//! A blob is written elsewhere first, fsynced, renamed into place (atomic on one filesystem) and
//! the directory fsynced, so a crash leaves either no blob or the whole verified blob. Uploads
//! keep a running hash in memory; when it is missing (after a restart) or of the wrong algorithm
//! the upload file is hashed again at `finish`.
//!
//! Content is streamed through one buffer of [`STREAM_CHUNK`] bytes per operation (hashing
//! included), and reads go through a buffer of the same size, so memory stays bounded whatever
//! the blob's size. A chunk that fails part-way, because its reader or the disk failed or
//! because the call was cancelled (a client hanging up drops the request's future), is undone:
//! the upload file is truncated back to its previous size before the session is used again
//! (after any write still in flight has landed), and a monolithic put's temporary file is
//! removed. Only a crash mid-chunk leaves the chunk's first part in the upload file, which then
//! counts (its size on disk is what a resuming client is told).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::{resolve_range, BlobReader, BlobStore, ByteRange, UploadId, STREAM_CHUNK};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::RegistryError;

/// Read buffer size when re-hashing an upload.
const HASH_BUFFER: usize = 1 << 20;

/// The state kept in memory for an upload session; the file on disk is the source of truth for
/// its size.
#[derive(Debug, Default)]
struct UploadSlot {
    /// Running hash of the file's bytes, if it is known to cover exactly the file.
    hasher: Option<Hasher>,
    /// A chunk whose append did not complete (it failed, or the call was cancelled): the upload
    /// file as it was being written (a write may still be in flight) and the size to truncate
    /// it back to. The next call on the upload settles it first ([`settle`]).
    unfinished: Option<(tokio::fs::File, u64)>,
}

/// A [`BlobStore`] on the local filesystem.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    /// One lock per live upload, so chunks of one upload are applied one at a time.
    uploads: Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<UploadSlot>>>>,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store under `root`, removing leftovers of interrupted
    /// monolithic puts. Upload sessions are kept: clients may resume them.
    pub async fn open(root: impl Into<PathBuf>) -> Result<FsBlobStore, RegistryError> {
        let root = root.into();
        for dir in ["blobs", "uploads", "tmp"] {
            tokio::fs::create_dir_all(root.join(dir))
                .await
                .map_err(RegistryError::io(format!(
                    "creating {}",
                    root.join(dir).display()
                )))?;
        }
        let store = FsBlobStore {
            root,
            uploads: Mutex::new(HashMap::new()),
        };
        let tmp = store.root.join("tmp");
        let mut entries = tokio::fs::read_dir(&tmp)
            .await
            .map_err(RegistryError::io("listing tmp"))?;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(RegistryError::io("listing tmp"))?
        {
            remove_file_if_exists(&entry.path()).await?;
        }
        Ok(store)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives once committed.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
    }

    fn upload_path(&self, id: &UploadId) -> PathBuf {
        self.root.join("uploads").join(id.as_str())
    }

    /// Removes upload sessions not written to for `max_age` (abandoned by their clients).
    /// Returns how many were removed.
    pub async fn purge_stale_uploads(&self, max_age: Duration) -> Result<usize, RegistryError> {
        let dir = self.root.join("uploads");
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&dir)
            .await
            .map_err(RegistryError::io("listing uploads"))?;
        let now = SystemTime::now();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(RegistryError::io("listing uploads"))?
        {
            let Ok(id) = UploadId::parse(&entry.file_name().to_string_lossy()) else {
                continue;
            };
            let modified = match entry.metadata().await.and_then(|m| m.modified()) {
                Ok(m) => m,
                Err(_) => continue,
            };
            if now.duration_since(modified).unwrap_or_default() < max_age {
                continue;
            }
            let slot = self.slot(&id);
            let _guard = slot.lock().await;
            if remove_file_if_exists(&self.upload_path(&id)).await? {
                removed += 1;
            }
            self.forget(&id);
        }
        Ok(removed)
    }

    /// The lock of an upload session (created on first use, e.g. after a restart).
    fn slot(&self, id: &UploadId) -> Arc<tokio::sync::Mutex<UploadSlot>> {
        let mut map = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.clone()).or_default().clone()
    }

    fn forget(&self, id: &UploadId) {
        let mut map = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }

    /// The upload's size on disk; [`RegistryError::UploadUnknown`] when there is no such upload.
    async fn current_size(&self, id: &UploadId) -> Result<u64, RegistryError> {
        match tokio::fs::metadata(self.upload_path(id)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.forget(id);
                Err(RegistryError::UploadUnknown { id: id.to_string() })
            }
            Err(e) => Err(RegistryError::io("reading upload size")(e)),
        }
    }

    /// The upload's size on disk once any unfinished chunk is undone, with its lock held.
    async fn settled_size(
        &self,
        slot: &mut UploadSlot,
        id: &UploadId,
    ) -> Result<u64, RegistryError> {
        settle(slot).await;
        self.current_size(id).await
    }

    /// Appends everything `reader` yields to the upload, with its lock held, all or nothing:
    /// until the chunk is complete it is recorded as unfinished, and undone if it fails.
    async fn append_locked(
        &self,
        slot: &mut UploadSlot,
        id: &UploadId,
        offset: u64,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let size = self.settled_size(slot, id).await?;
        if offset != size {
            return Err(RegistryError::RangeMismatch {
                offset,
                current_size: size,
            });
        }
        let file = tokio::fs::OpenOptions::new()
            .append(true)
            .open(self.upload_path(id))
            .await
            .map_err(RegistryError::io("opening upload"))?;
        // The running hash goes on only if it covers exactly the file; otherwise `finish` hashes
        // the file again.
        let mut hasher = slot.hasher.clone().filter(|h| h.len() == size);
        let (file, _) = slot.unfinished.insert((file, size));
        match copy_hashing(reader, file, hasher.as_mut(), "appending to upload").await {
            Ok(copied) => {
                slot.unfinished = None;
                slot.hasher = hasher;
                Ok(size + copied)
            }
            Err(e) => {
                settle(slot).await;
                Err(e)
            }
        }
    }

    /// Hashes a file from disk.
    async fn hash_file(path: &Path, algorithm: Algorithm) -> Result<Hasher, RegistryError> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(RegistryError::io("opening upload to hash"))?;
        let mut hasher = Hasher::new(algorithm);
        let mut buf = vec![0u8; HASH_BUFFER];
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(RegistryError::io("hashing upload"))?;
            if n == 0 {
                return Ok(hasher);
            }
            hasher.update(&buf[..n]);
        }
    }

    /// Moves a complete, fsynced file into the blob's place and makes the rename durable.
    async fn commit(&self, from: &Path, digest: &Digest) -> Result<(), RegistryError> {
        let to = self.blob_path(digest);
        let dir = to.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(RegistryError::io("creating blob directory"))?;
        // Concurrent commits of the same digest carry identical, verified bytes, so whichever
        // rename lands last replaces the other atomically.
        tokio::fs::rename(from, &to)
            .await
            .map_err(RegistryError::io("committing blob"))?;
        sync_dir(&dir).await
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io("reading blob metadata")(e)),
        }
    }

    async fn stored_at(
        &self,
        digest: &Digest,
    ) -> Result<Option<std::time::SystemTime>, RegistryError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(m) => Ok(Some(
                m.modified()
                    .map_err(RegistryError::io("reading blob time"))?,
            )),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RegistryError::io("reading blob metadata")(e)),
        }
    }

    async fn open_read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<(BlobReader, u64, u64, u64), RegistryError> {
        let mut file = match tokio::fs::File::open(self.blob_path(digest)).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(RegistryError::BlobUnknown {
                    digest: digest.clone(),
                })
            }
            Err(e) => return Err(RegistryError::io("opening blob")(e)),
        };
        let total = file
            .metadata()
            .await
            .map_err(RegistryError::io("reading blob metadata"))?
            .len();
        let (start, len) = match range {
            None => (0, total),
            Some(r) => resolve_range(r, total)?,
        };
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(RegistryError::io("seeking in blob"))?;
        }
        // The buffer makes each trip to the blocking pool read a whole piece, however small the
        // reads of the consumer are.
        let reader = BufReader::with_capacity(STREAM_CHUNK, file.take(len));
        Ok((Box::new(reader), start, len, total))
    }

    async fn put_stream(
        &self,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let mut hasher = Hasher::new(expected.algorithm());
        let mismatch = |hasher: Hasher| {
            let actual = hasher.finish();
            (actual != *expected).then(|| RegistryError::DigestMismatch {
                expected: expected.clone(),
                actual,
            })
        };
        if self.stat(expected).await?.is_some() {
            // Stored already: the content only needs verifying, not writing again.
            let size = copy_hashing(
                reader,
                &mut tokio::io::sink(),
                Some(&mut hasher),
                "verifying blob",
            )
            .await?;
            return match mismatch(hasher) {
                Some(e) => Err(e),
                None => Ok(size),
            };
        }
        let tmp = TempFile {
            path: self.root.join("tmp").join(UploadId::new_random().as_str()),
            remove: true,
        };
        let mut file = tokio::fs::File::create(&tmp.path)
            .await
            .map_err(RegistryError::io("creating blob"))?;
        let size = copy_hashing(reader, &mut file, Some(&mut hasher), "writing blob").await?;
        if let Some(e) = mismatch(hasher) {
            return Err(e);
        }
        file.sync_all()
            .await
            .map_err(RegistryError::io("writing blob"))?;
        drop(file);
        self.commit(&tmp.path, expected).await?;
        tmp.keep();
        Ok(size)
    }

    async fn delete(&self, digest: &Digest) -> Result<bool, RegistryError> {
        remove_file_if_exists(&self.blob_path(digest)).await
    }

    async fn list(&self) -> Result<Vec<Digest>, RegistryError> {
        let mut out = Vec::new();
        let blobs = self.root.join("blobs");
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let dir = blobs.join(algorithm.as_str());
            for shard in read_dir_names(&dir).await? {
                for name in read_dir_names(&dir.join(&shard)).await? {
                    if !name.starts_with(&shard) {
                        continue;
                    }
                    if let Ok(d) = Digest::parse(&format!("{algorithm}:{name}")) {
                        out.push(d);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn start_upload(&self) -> Result<UploadId, RegistryError> {
        let id = UploadId::new_random();
        tokio::fs::File::create(self.upload_path(&id))
            .await
            .map_err(RegistryError::io("creating upload"))?;
        let slot = self.slot(&id);
        slot.lock().await.hasher = Some(Hasher::new(Algorithm::Sha256));
        Ok(id)
    }

    async fn append_stream(
        &self,
        id: &UploadId,
        offset: u64,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        self.append_locked(&mut guard, id, offset, reader).await
    }

    async fn upload_size(&self, id: &UploadId) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        self.settled_size(&mut guard, id).await
    }

    async fn finish_stream(
        &self,
        id: &UploadId,
        expected: &Digest,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<u64, RegistryError> {
        let slot = self.slot(id);
        let mut guard = slot.lock().await;
        let size = self.settled_size(&mut guard, id).await?;
        let size = self.append_locked(&mut guard, id, size, reader).await?;
        let path = self.upload_path(id);
        let sync = async { tokio::fs::File::open(&path).await?.sync_all().await };
        sync.await.map_err(RegistryError::io("syncing upload"))?;
        let hasher = match guard.hasher.take() {
            Some(h) if h.len() == size && h.algorithm() == expected.algorithm() => h,
            _ => Self::hash_file(&path, expected.algorithm()).await?,
        };
        let actual = hasher.finish();
        let result = if actual != *expected {
            remove_file_if_exists(&path).await?;
            Err(RegistryError::DigestMismatch {
                expected: expected.clone(),
                actual,
            })
        } else {
            self.commit(&path, expected).await.map(|()| size)
        };
        self.forget(id);
        result
    }

    async fn cancel(&self, id: &UploadId) -> Result<(), RegistryError> {
        let slot = self.slot(id);
        let _guard = slot.lock().await;
        let existed = remove_file_if_exists(&self.upload_path(id)).await?;
        self.forget(id);
        if existed {
            Ok(())
        } else {
            Err(RegistryError::UploadUnknown { id: id.to_string() })
        }
    }
}

/// Copies everything `reader` yields into `writer` through one buffer of [`STREAM_CHUNK`]
/// bytes, feeding each piece to `hasher` (if any), and flushes `writer`. Returns the number of
/// bytes copied. A failing reader gives [`RegistryError::UploadInterrupted`], a failing writer
/// [`RegistryError::Io`] with `context`.
async fn copy_hashing<W>(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    writer: &mut W,
    mut hasher: Option<&mut Hasher>,
    context: &str,
) -> Result<u64, RegistryError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut copied = 0u64;
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(RegistryError::UploadInterrupted {
                    received: copied,
                    source,
                })
            }
        };
        let piece = &buf[..n];
        if let Some(h) = hasher.as_deref_mut() {
            h.update(piece);
        }
        writer
            .write_all(piece)
            .await
            .map_err(RegistryError::io(context))?;
        copied += n as u64;
    }
    writer.flush().await.map_err(RegistryError::io(context))?;
    Ok(copied)
}

/// Undoes the upload's unfinished chunk, if any: truncates the file back to its size before the
/// chunk, once the write in flight (if the call was cancelled mid-write) has landed. If that
/// fails the file keeps part of the chunk; its size on disk stays the truth and the running hash
/// no longer matches it, so `finish` hashes the file again. Cancelled itself, it is done again
/// by the next call.
async fn settle(slot: &mut UploadSlot) {
    if let Some((file, size)) = &slot.unfinished {
        // `set_len` first waits for the file's write in flight.
        let _ = file.set_len(*size).await;
        slot.unfinished = None;
    }
}

/// A temporary file, removed when this is dropped (on failure or cancellation) unless
/// [`TempFile::keep`] was called. The removal is a synchronous unlink, which does not wait for
/// disk I/O; a write still in flight then lands in the unlinked file.
struct TempFile {
    path: PathBuf,
    remove: bool,
}

impl TempFile {
    /// The file has been moved into place: leave it.
    fn keep(mut self) {
        self.remove = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes a file; `false` when it was not there.
async fn remove_file_if_exists(path: &Path) -> Result<bool, RegistryError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(RegistryError::io(format!("removing {}", path.display()))(e)),
    }
}

/// The entry names of a directory; empty when it does not exist.
async fn read_dir_names(dir: &Path) -> Result<Vec<String>, RegistryError> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RegistryError::io("listing blobs")(e)),
    };
    let mut names = Vec::new();
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(RegistryError::io("listing blobs"))?
    {
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
async fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    let sync = async { tokio::fs::File::open(dir).await?.sync_all().await };
    sync.await
        .map_err(RegistryError::io("syncing blob directory"))
}

/// Directories cannot be fsynced portably elsewhere; the rename is still atomic.
#[cfg(not(unix))]
async fn sync_dir(_dir: &Path) -> Result<(), RegistryError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn layout_is_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let d = Digest::sha256_of(b"hello");
        store.put(&d, b"hello").await.unwrap();
        let hex = d.hex();
        let path = dir.path().join("blobs/sha256").join(&hex[..2]).join(hex);
        assert_eq!(std::fs::read(path).unwrap(), b"hello");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn finish_after_restart_rehashes_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = FsBlobStore::open(dir.path()).await.unwrap();
            let id = store.start_upload().await.unwrap();
            store.append(&id, 0, b"abc").await.unwrap();
            id
        };
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        assert_eq!(store.upload_size(&id).await.unwrap(), 3);
        let d = Digest::sha256_of(b"abcdef");
        assert_eq!(store.finish(&id, &d, b"def").await.unwrap(), 6);
        assert_eq!(store.stat(&d).await.unwrap(), Some(6));
    }

    #[tokio::test]
    async fn sha512_uploads_are_hashed_with_sha512() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload().await.unwrap();
        store.append(&id, 0, b"xyz").await.unwrap();
        let d = Digest::of(Algorithm::Sha512, b"xyz");
        store.finish(&id, &d, b"").await.unwrap();
        assert_eq!(store.list().await.unwrap(), vec![d]);
    }

    #[tokio::test]
    async fn stale_uploads_are_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload().await.unwrap();
        assert_eq!(
            store
                .purge_stale_uploads(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.purge_stale_uploads(Duration::ZERO).await.unwrap(), 1);
        assert!(matches!(
            store.upload_size(&id).await,
            Err(RegistryError::UploadUnknown { .. })
        ));
    }
}
