//! Integration tests of plaza-registry through its public API: the blob store, on both backends
//! (the filesystem, and an S3-compatible object store served by moto; round trips, ranges,
//! digest checks, chunk order, concurrency, crashes, streaming large blobs in and out,
//! interrupted and cancelled streams, garbage collection), manifests of every accepted kind, and
//! how errors reach the wire.
//!
//! The S3 half needs moto, an S3-compatible server for tests (a fake of AWS S3, from PyPI), at
//! `PLAZA_TEST_S3_ENDPOINT` (default `http://127.0.0.1:9300`): `scripts/ensure-s3` starts it
//! (`scripts/test` does so). Without it those tests fail, saying so; they are never skipped.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::TryStreamExt;
use plaza_registry::blob_store::{amazon_s3, PART_SIZE};
use plaza_registry::manifest::media_type::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST,
    WASM_CONFIG, WASM_LAYER,
};
use plaza_registry::object_store::path::Path as ObjectPath;
use plaza_registry::object_store::{ObjectStore, ObjectStoreExt};
use plaza_registry::{
    open_blob_store_with_env, paginate_tags, parse_manifest, Algorithm, BlobStore, Digest,
    ErrorCode, FsBlobStore, Hasher, ManifestKind, ObjectBlobStore, RegistryError, RepoName,
    TagQuery, UploadId, STREAM_CHUNK,
};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

// ---------------------------------------------------------------- blob store backends

/// Where the S3 test server answers unless `PLAZA_TEST_S3_ENDPOINT` says otherwise.
const DEFAULT_S3_ENDPOINT: &str = "http://127.0.0.1:9300";

/// The key prefix the S3 fixture's store works under, so that prefixes are exercised too.
const S3_PREFIX: &str = "plaza/registry";

/// The backend behind a [`Fixture`], and what a test needs to look behind the store.
enum Backend {
    /// An [`FsBlobStore`] in a temporary directory.
    Fs(tempfile::TempDir),
    /// An [`ObjectBlobStore`] in a bucket of its own on moto, an S3-compatible server for tests.
    S3 {
        endpoint: String,
        bucket: String,
        /// The bucket, seen directly (no prefix).
        raw: Arc<dyn ObjectStore>,
    },
}

/// A fresh, empty blob store of one backend.
struct Fixture {
    store: Arc<dyn BlobStore>,
    backend: Backend,
}

/// The `AWS_*` variables the S3 store of the tests is configured with.
fn s3_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "plaza-test"),
        ("AWS_SECRET_ACCESS_KEY", "plaza-test"),
        ("AWS_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn s3_endpoint() -> String {
    std::env::var("PLAZA_TEST_S3_ENDPOINT").unwrap_or_else(|_| DEFAULT_S3_ENDPOINT.to_owned())
}

/// Creates a bucket with a unique name on the S3 test server (object_store cannot create
/// buckets; moto takes an unsigned `PUT /<bucket>`). Fails loudly when the server is not there.
async fn create_bucket(endpoint: &str) -> String {
    let bucket = format!("plaza-test-{}", uuid::Uuid::new_v4().simple());
    let response = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the S3 test server (moto) is not reachable at {endpoint}: {e}\n\
                 Start it with scripts/ensure-s3 (scripts/test does), or point \
                 PLAZA_TEST_S3_ENDPOINT at an S3-compatible server that creates buckets on an \
                 unsigned PUT."
            )
        });
    assert!(
        response.status().is_success(),
        "creating bucket {bucket} at {endpoint}: {}",
        response.status()
    );
    bucket
}

impl Fixture {
    async fn fs() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        Fixture {
            store: Arc::new(store),
            backend: Backend::Fs(dir),
        }
    }

    async fn s3() -> Fixture {
        let endpoint = s3_endpoint();
        let bucket = create_bucket(&endpoint).await;
        let raw = amazon_s3(&bucket, s3_env(&endpoint)).unwrap();
        let store = ObjectBlobStore::new(raw.clone(), S3_PREFIX).unwrap();
        store.check_access().await.unwrap();
        Fixture {
            store: Arc::new(store),
            backend: Backend::S3 {
                endpoint,
                bucket,
                raw,
            },
        }
    }

    /// A second store over the same storage, as after a restart of the server.
    async fn reopen(&self) -> Arc<dyn BlobStore> {
        match &self.backend {
            Backend::Fs(dir) => Arc::new(FsBlobStore::open(dir.path()).await.unwrap()),
            Backend::S3 {
                endpoint, bucket, ..
            } => {
                let raw = amazon_s3(bucket, s3_env(endpoint)).unwrap();
                Arc::new(ObjectBlobStore::new(raw, S3_PREFIX).unwrap())
            }
        }
    }

    /// Every object key in the bucket (S3 only).
    async fn s3_keys(raw: &Arc<dyn ObjectStore>) -> Vec<String> {
        let mut keys: Vec<String> = raw
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        keys
    }

    /// Multipart uploads begun and neither completed nor aborted (S3 only): invisible to reads
    /// and listings, but storage all the same.
    async fn s3_pending_multipart_uploads(endpoint: &str, bucket: &str) -> usize {
        let xml = reqwest::get(format!("{endpoint}/{bucket}?uploads"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.matches("<Upload>").count()
    }

    /// Leftovers of writes: temporary files (fs), or objects that are neither blobs nor upload
    /// sessions plus unfinished multipart uploads (S3). Should always be 0 once calls return;
    /// aborts of dropped writes run in the background, so S3 is given a moment for them.
    async fn temporaries(&self) -> usize {
        match &self.backend {
            Backend::Fs(dir) => files_under(&dir.path().join("tmp")),
            Backend::S3 {
                endpoint,
                bucket,
                raw,
            } => {
                let blobs = format!("{S3_PREFIX}/blobs/");
                let uploads = format!("{S3_PREFIX}/uploads/");
                let mut count = 0;
                for _ in 0..50 {
                    let stray = Self::s3_keys(raw)
                        .await
                        .into_iter()
                        .filter(|k| !k.starts_with(&blobs) && !k.starts_with(&uploads))
                        .count();
                    count = stray + Self::s3_pending_multipart_uploads(endpoint, bucket).await;
                    if count == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                count
            }
        }
    }

    /// Upload sessions stored (files under `uploads/`, or distinct ids under `uploads/`).
    async fn uploads(&self) -> usize {
        match &self.backend {
            Backend::Fs(dir) => files_under(&dir.path().join("uploads")),
            Backend::S3 { raw, .. } => {
                let uploads = format!("{S3_PREFIX}/uploads/");
                let mut ids: Vec<String> = Self::s3_keys(raw)
                    .await
                    .into_iter()
                    .filter_map(|k| Some(k.strip_prefix(&uploads)?.split('/').next()?.to_owned()))
                    .collect();
                ids.dedup();
                ids.len()
            }
        }
    }

    /// Frees what the test stored (moto keeps everything in memory): best effort.
    async fn cleanup(self) {
        if let Backend::S3 {
            endpoint,
            bucket,
            raw,
        } = &self.backend
        {
            for key in Self::s3_keys(raw).await {
                let _ = raw.delete(&ObjectPath::from(key)).await;
            }
            let _ = reqwest::Client::new()
                .delete(format!("{endpoint}/{bucket}"))
                .send()
                .await;
        }
    }
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Runs each backend-generic blob-store test (an `async fn(&Fixture)` in this file) once per
/// backend: as `fs_backend::<name>` and `s3_backend::<name>`.
macro_rules! on_both_backends {
    ($($(#[$attr:meta])* $name:ident,)*) => {
        /// The blob-store tests on the filesystem backend.
        mod fs_backend {
            $(
                $(#[$attr])*
                #[tokio::test]
                async fn $name() {
                    let fixture = super::Fixture::fs().await;
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }

        /// The same tests on the S3 backend, against moto.
        mod s3_backend {
            $(
                $(#[$attr])*
                #[tokio::test]
                async fn $name() {
                    let fixture = super::Fixture::s3().await;
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }
    };
}

on_both_backends! {
    monolithic_put_round_trip,
    empty_blob,
    ranged_reads,
    put_with_wrong_digest_stores_nothing,
    chunked_upload_round_trip,
    chunks_out_of_order_are_refused_with_the_current_size,
    finish_with_wrong_digest_stores_nothing_and_ends_the_session,
    unknown_and_cancelled_uploads,
    concurrent_uploads_of_the_same_blob,
    concurrent_chunks_at_the_same_offset_one_wins,
    an_upload_survives_a_restart,
    a_64_mib_blob_streams_in_and_out_without_being_held,
    ranged_streaming_reads,
    #[cfg(unix)]
    an_open_reader_outlives_a_delete,
    put_stream_verifies_before_anything_is_stored,
    finish_stream_with_wrong_digest_stores_nothing_and_ends_the_session,
    append_stream_takes_whole_chunks_at_the_current_end_only,
    interrupted_multi_part_writes_leave_nothing,
    cancelled_streams_leave_nothing_behind,
    gc_unreferenced_blobs_go_referenced_ones_stay_and_a_dry_run_only_reports,
    gc_a_blob_referenced_by_a_push_during_the_sweep_is_never_deleted,
    gc_blobs_younger_than_the_grace_period_are_spared,
}

// ---------------------------------------------------------------- blob store

async fn monolithic_put_round_trip(fx: &Fixture) {
    let store = &fx.store;
    let data = b"hello, plaza".to_vec();
    let d = Digest::sha256_of(&data);
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert_eq!(store.put(&d, &data).await.unwrap(), data.len() as u64);
    assert_eq!(
        store.put(&d, &data).await.unwrap(),
        data.len() as u64,
        "idempotent"
    );
    assert_eq!(store.stat(&d).await.unwrap(), Some(data.len() as u64));
    let slice = store.get(&d, None).await.unwrap();
    assert_eq!(&slice.data[..], &data[..]);
    assert_eq!((slice.start, slice.total), (0, data.len() as u64));
    assert_eq!(store.list().await.unwrap(), vec![d.clone()]);
    let stored_at = store.stored_at(&d).await.unwrap().unwrap();
    let age = std::time::SystemTime::now()
        .duration_since(stored_at)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "{age:?}");
    assert!(store.delete(&d).await.unwrap());
    assert!(!store.delete(&d).await.unwrap());
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert_eq!(store.stored_at(&d).await.unwrap(), None);
    assert!(matches!(
        store.get(&d, None).await,
        Err(RegistryError::BlobUnknown { .. })
    ));
    assert!(store.list().await.unwrap().is_empty());
}

async fn empty_blob(fx: &Fixture) {
    let store = &fx.store;
    let d = Digest::sha256_of(b"");
    store.put(&d, b"").await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), Some(0));
    assert!(store.get(&d, None).await.unwrap().data.is_empty());
    assert!(matches!(
        store.get(&d, Some((0, None))).await,
        Err(RegistryError::RangeNotSatisfiable { size: 0, .. })
    ));
}

async fn ranged_reads(fx: &Fixture) {
    let store = &fx.store;
    let data: Vec<u8> = (0..=255u8).collect();
    let d = Digest::sha256_of(&data);
    store.put(&d, &data).await.unwrap();
    let s = store.get(&d, Some((10, Some(19)))).await.unwrap();
    assert_eq!(&s.data[..], &data[10..20]);
    assert_eq!((s.start, s.total), (10, 256));
    let s = store.get(&d, Some((250, None))).await.unwrap();
    assert_eq!(&s.data[..], &data[250..]);
    let s = store.get(&d, Some((255, Some(10_000)))).await.unwrap();
    assert_eq!(&s.data[..], &[255]);
    let err = store.get(&d, Some((256, None))).await.unwrap_err();
    assert_eq!(err.status(), 416);
    assert!(store.get(&d, Some((20, Some(10)))).await.is_err());
}

async fn put_with_wrong_digest_stores_nothing(fx: &Fixture) {
    let store = &fx.store;
    let claimed = Digest::sha256_of(b"what the client said");
    let err = store.put(&claimed, b"what it sent").await.unwrap_err();
    match &err {
        RegistryError::DigestMismatch { expected, actual } => {
            assert_eq!(expected, &claimed);
            assert_eq!(actual, &Digest::sha256_of(b"what it sent"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), Some(ErrorCode::DigestInvalid));
    assert_eq!(store.stat(&claimed).await.unwrap(), None);
    assert_eq!(
        store
            .stat(&Digest::sha256_of(b"what it sent"))
            .await
            .unwrap(),
        None
    );
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(fx.temporaries().await, 0);
}

async fn chunked_upload_round_trip(fx: &Fixture) {
    let store = &fx.store;
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let d = Digest::sha256_of(&data);
    let id = store.start_upload().await.unwrap();
    assert_eq!(store.upload_size(&id).await.unwrap(), 0);
    let mut offset = 0u64;
    let (body, last) = data.split_at(90_000);
    for chunk in body.chunks(30_000) {
        offset = store.append(&id, offset, chunk).await.unwrap();
        assert_eq!(store.upload_size(&id).await.unwrap(), offset);
    }
    assert_eq!(
        store.stat(&d).await.unwrap(),
        None,
        "not visible before finish"
    );
    assert_eq!(
        store.finish(&id, &d, last).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(&store.get(&d, None).await.unwrap().data[..], &data[..]);
    assert_eq!(fx.uploads().await, 0);
    assert!(matches!(
        store.upload_size(&id).await,
        Err(RegistryError::UploadUnknown { .. })
    ));
}

async fn chunks_out_of_order_are_refused_with_the_current_size(fx: &Fixture) {
    let store = &fx.store;
    let id = store.start_upload().await.unwrap();
    assert_eq!(store.append(&id, 0, b"abc").await.unwrap(), 3);
    for wrong in [0, 2, 4, 100] {
        let err = store.append(&id, wrong, b"def").await.unwrap_err();
        match err {
            RegistryError::RangeMismatch {
                current_size,
                offset,
            } => {
                assert_eq!((current_size, offset), (3, wrong));
            }
            other => panic!("{other:?}"),
        }
    }
    let err = store.append(&id, 1, b"x").await.unwrap_err();
    assert_eq!(err.status(), 416);
    assert_eq!(err.code(), Some(ErrorCode::BlobUploadInvalid));
    // The refused chunks left no trace.
    assert_eq!(store.upload_size(&id).await.unwrap(), 3);
    assert_eq!(store.append(&id, 3, b"def").await.unwrap(), 6);
    let d = Digest::sha256_of(b"abcdef");
    assert_eq!(store.finish(&id, &d, b"").await.unwrap(), 6);
}

async fn finish_with_wrong_digest_stores_nothing_and_ends_the_session(fx: &Fixture) {
    let store = &fx.store;
    let id = store.start_upload().await.unwrap();
    store.append(&id, 0, b"some bytes").await.unwrap();
    let wrong = Digest::sha256_of(b"other bytes");
    let err = store.finish(&id, &wrong, b"!").await.unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(store.stat(&wrong).await.unwrap(), None);
    assert_eq!(
        store
            .stat(&Digest::sha256_of(b"some bytes!"))
            .await
            .unwrap(),
        None
    );
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(fx.uploads().await, 0);
    assert_eq!(fx.temporaries().await, 0);
    assert!(matches!(
        store.append(&id, 11, b"x").await,
        Err(RegistryError::UploadUnknown { .. })
    ));
}

async fn unknown_and_cancelled_uploads(fx: &Fixture) {
    let store = &fx.store;
    let ghost = UploadId::new_random();
    assert!(matches!(
        store.append(&ghost, 0, b"x").await,
        Err(RegistryError::UploadUnknown { .. })
    ));
    assert!(matches!(
        store.finish(&ghost, &Digest::sha256_of(b""), b"").await,
        Err(RegistryError::UploadUnknown { .. })
    ));
    assert!(matches!(
        store.cancel(&ghost).await,
        Err(RegistryError::UploadUnknown { .. })
    ));
    let id = store.start_upload().await.unwrap();
    store.append(&id, 0, b"abc").await.unwrap();
    store.cancel(&id).await.unwrap();
    let err = store.upload_size(&id).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::BlobUploadUnknown));
    assert_eq!(err.status(), 404);
    assert_eq!(fx.uploads().await, 0);
    assert!(UploadId::parse("../../blobs").is_err());
}

async fn concurrent_uploads_of_the_same_blob(fx: &Fixture) {
    let store = fx.store.clone();
    let data: Arc<Vec<u8>> = Arc::new((0..200_000u32).map(|i| (i % 253) as u8).collect());
    let d = Digest::sha256_of(&data);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (store, data, d) = (store.clone(), data.clone(), d.clone());
        tasks.push(tokio::spawn(async move {
            if t % 2 == 0 {
                return store.put(&d, &data).await;
            }
            let id = store.start_upload().await?;
            let mut offset = 0;
            for chunk in data.chunks(16_384 + t) {
                offset = store.append(&id, offset, chunk).await?;
            }
            store.finish(&id, &d, b"").await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), data.len() as u64);
    }
    assert_eq!(store.list().await.unwrap(), vec![d.clone()]);
    assert_eq!(&store.get(&d, None).await.unwrap().data[..], &data[..]);
    assert_eq!(fx.uploads().await, 0);
    assert_eq!(fx.temporaries().await, 0);
}

async fn concurrent_chunks_at_the_same_offset_one_wins(fx: &Fixture) {
    let store = fx.store.clone();
    let id = store.start_upload().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..10u8 {
        let (store, id) = (store.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            store.append(&id, 0, &[i; 100]).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(size) => {
                ok += 1;
                assert_eq!(size, 100);
            }
            Err(RegistryError::RangeMismatch { current_size, .. }) => assert_eq!(current_size, 100),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(store.upload_size(&id).await.unwrap(), 100);
}

/// The server stops mid-upload (its store is dropped) and starts again: the upload goes on where
/// it stopped, and nothing of it was ever visible.
async fn an_upload_survives_a_restart(fx: &Fixture) {
    let data = vec![42u8; 50_000];
    let d = Digest::sha256_of(&data);
    let id = fx.store.start_upload().await.unwrap();
    fx.store.append(&id, 0, &data[..20_000]).await.unwrap();
    assert_eq!(fx.store.stat(&d).await.unwrap(), None);
    let store = fx.reopen().await;
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(matches!(
        store.get(&d, None).await,
        Err(RegistryError::BlobUnknown { .. })
    ));
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(store.upload_size(&id).await.unwrap(), 20_000);
    let err = store.append(&id, 0, &data).await.unwrap_err();
    assert!(matches!(
        err,
        RegistryError::RangeMismatch {
            current_size: 20_000,
            ..
        }
    ));
    store
        .append(&id, 20_000, &data[20_000..30_000])
        .await
        .unwrap();
    store.finish(&id, &d, &data[30_000..]).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), Some(50_000));
    assert_eq!(fx.store.stat(&d).await.unwrap(), Some(50_000));
    assert_eq!(fx.uploads().await, 0);
}

/// The filesystem backend only: a monolithic put that died after writing its temporary file
/// leaves a file under `tmp/`, which opening the store removes.
#[tokio::test]
async fn fs_leftovers_of_a_killed_put_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![42u8; 50_000];
    let d = Digest::sha256_of(&data);
    {
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        std::fs::write(dir.path().join("tmp").join(d.hex()), &data[..100]).unwrap();
        assert_eq!(store.stat(&d).await.unwrap(), None);
    }
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(
        files_under(&dir.path().join("tmp")),
        0,
        "leftovers removed on open"
    );
}
// ---------------------------------------------------------------- streaming

/// Deterministic pseudo-random content generated as it is read, never held: byte `i` of stream
/// `seed` depends only on `(seed, i)`, so any range of it can be generated again on its own.
struct PseudoRandom {
    seed: u64,
    pos: u64,
    end: u64,
}

impl PseudoRandom {
    /// The first `len` bytes of stream `seed`.
    fn new(seed: u64, len: u64) -> PseudoRandom {
        PseudoRandom::range(seed, 0, len)
    }

    /// Bytes `start..start + len` of stream `seed`.
    fn range(seed: u64, start: u64, len: u64) -> PseudoRandom {
        PseudoRandom {
            seed,
            pos: start,
            end: start + len,
        }
    }

    /// The 8 bytes of word `index` (splitmix64).
    fn word(&self, index: u64) -> u64 {
        let mut z = (self.seed << 40 ^ index).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl AsyncRead for PseudoRandom {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = (buf.remaining() as u64).min(this.end - this.pos) as usize;
        let out = buf.initialize_unfilled_to(n);
        let mut word = this.word(this.pos >> 3);
        for (i, byte) in out.iter_mut().enumerate() {
            let p = this.pos + i as u64;
            if p & 7 == 0 {
                word = this.word(p >> 3);
            }
            *byte = (word >> ((p & 7) * 8)) as u8;
        }
        buf.advance(n);
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

/// Content that ends badly: the first `good` bytes of `inner`, then an error (a connection
/// reset) or, with `stall`, no more bytes ever (a client gone silent).
struct Broken {
    inner: PseudoRandom,
    good: u64,
    stall: bool,
}

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.inner.pos >= this.good {
            return if this.stall {
                Poll::Pending
            } else {
                Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
            };
        }
        let room = (this.good - this.inner.pos).min(buf.remaining() as u64) as usize;
        let mut limited = buf.take(room);
        let poll = Pin::new(&mut this.inner).poll_read(cx, &mut limited);
        let n = limited.filled().len();
        buf.advance(n);
        poll
    }
}

/// The sha256 digest and length of everything `reader` yields, read through one small buffer.
async fn hash_reader(reader: &mut (dyn AsyncRead + Send + Unpin)) -> (Digest, u64) {
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; STREAM_CHUNK];
    loop {
        let n = reader.read(&mut buf).await.unwrap();
        if n == 0 {
            let len = hasher.len();
            return (hasher.finish(), len);
        }
        hasher.update(&buf[..n]);
    }
}

/// Everything `reader` yields, for small blobs.
async fn read_all(reader: &mut (dyn AsyncRead + Send + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    out
}

const BIG: u64 = 64 << 20;

async fn a_64_mib_blob_streams_in_and_out_without_being_held(fx: &Fixture) {
    let store = &fx.store;
    let (d, len) = hash_reader(&mut PseudoRandom::new(7, BIG)).await;
    assert_eq!(len, BIG);

    // Monolithic.
    let stored = store
        .put_stream(&d, &mut PseudoRandom::new(7, BIG))
        .await
        .unwrap();
    assert_eq!(stored, BIG);
    assert_eq!(store.stat(&d).await.unwrap(), Some(BIG));
    let (mut reader, start, len, total) = store.open_read(&d, None).await.unwrap();
    assert_eq!((start, len, total), (0, BIG, BIG));
    assert_eq!(hash_reader(&mut reader).await, (d.clone(), BIG));

    // A range deep inside, against the same bytes generated again.
    let (first, n) = ((40 << 20) + 3, 1_000_001);
    let (mut reader, start, len, total) = store
        .open_read(&d, Some((first, Some(first + n - 1))))
        .await
        .unwrap();
    assert_eq!((start, len, total), (first, n, BIG));
    assert_eq!(
        hash_reader(&mut reader).await,
        hash_reader(&mut PseudoRandom::range(7, first, n)).await
    );

    // Chunked, from one generator cut into uneven chunks, the rest sent with the finish.
    assert!(store.delete(&d).await.unwrap());
    let id = store.start_upload().await.unwrap();
    let mut content = PseudoRandom::new(7, BIG);
    let mut offset = 0;
    for chunk in [10 << 20, 1, (30 << 20) + 12_345] {
        offset = store
            .append_stream(&id, offset, &mut (&mut content).take(chunk))
            .await
            .unwrap();
        assert_eq!(store.upload_size(&id).await.unwrap(), offset);
    }
    assert_eq!(offset, (40 << 20) + 12_346);
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert_eq!(
        store.finish_stream(&id, &d, &mut content).await.unwrap(),
        BIG
    );
    let (mut reader, ..) = store.open_read(&d, None).await.unwrap();
    assert_eq!(hash_reader(&mut reader).await, (d.clone(), BIG));
    assert_eq!(store.list().await.unwrap(), vec![d]);
    assert_eq!(fx.uploads().await, 0);
    assert_eq!(fx.temporaries().await, 0);
}

async fn ranged_streaming_reads(fx: &Fixture) {
    let store = &fx.store;
    let data: Vec<u8> = (0..=255u8).collect();
    let d = Digest::sha256_of(&data);
    store.put(&d, &data).await.unwrap();
    for (range, expected) in [
        (None, 0..256),
        (Some((0, None)), 0..256),
        (Some((10, Some(19))), 10..20),
        (Some((250, None)), 250..256),
        (Some((255, Some(10_000))), 255..256),
        (Some((7, Some(7))), 7..8),
    ] {
        let (mut reader, start, len, total) = store.open_read(&d, range).await.unwrap();
        assert_eq!(
            (start, len, total),
            (expected.start as u64, expected.len() as u64, 256),
            "{range:?}"
        );
        assert_eq!(read_all(&mut reader).await, &data[expected], "{range:?}");
    }
    for bad in [(256, None), (1000, Some(2000)), (20, Some(10))] {
        let err = match store.open_read(&d, Some(bad)).await {
            Err(e) => e,
            Ok(_) => panic!("{bad:?} was satisfied"),
        };
        assert!(
            matches!(err, RegistryError::RangeNotSatisfiable { size: 256, .. }),
            "{err:?}"
        );
        assert_eq!(err.status(), 416);
    }
    let ghost = Digest::sha256_of(b"never stored");
    assert!(matches!(
        store.open_read(&ghost, None).await,
        Err(RegistryError::BlobUnknown { .. })
    ));

    let empty = Digest::sha256_of(b"");
    store.put_stream(&empty, &mut &b""[..]).await.unwrap();
    let (mut reader, start, len, total) = store.open_read(&empty, None).await.unwrap();
    assert_eq!((start, len, total), (0, 0, 0));
    assert!(read_all(&mut reader).await.is_empty());
    assert!(store.open_read(&empty, Some((0, None))).await.is_err());
}

#[cfg(unix)]
async fn an_open_reader_outlives_a_delete(fx: &Fixture) {
    let store = &fx.store;
    let d = Digest::sha256_of(b"still readable");
    store.put(&d, b"still readable").await.unwrap();
    let (mut reader, ..) = store.open_read(&d, Some((6, None))).await.unwrap();
    assert!(store.delete(&d).await.unwrap());
    assert_eq!(read_all(&mut reader).await, b"readable");
}

async fn put_stream_verifies_before_anything_is_stored(fx: &Fixture) {
    let store = &fx.store;
    let len = 3 * STREAM_CHUNK as u64 + 17;
    let (real, _) = hash_reader(&mut PseudoRandom::new(1, len)).await;
    let (claimed, _) = hash_reader(&mut PseudoRandom::new(2, len)).await;
    let err = store
        .put_stream(&claimed, &mut PseudoRandom::new(1, len))
        .await
        .unwrap_err();
    match &err {
        RegistryError::DigestMismatch { expected, actual } => {
            assert_eq!((expected, actual), (&claimed, &real));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), Some(ErrorCode::DigestInvalid));
    assert_eq!(store.stat(&claimed).await.unwrap(), None);
    assert_eq!(store.stat(&real).await.unwrap(), None);
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(fx.temporaries().await, 0);

    // Content that breaks off part-way: nothing stored either, and the client is told.
    let mut broken = Broken {
        inner: PseudoRandom::new(1, len),
        good: 2 * STREAM_CHUNK as u64 + 5,
        stall: false,
    };
    let err = store.put_stream(&real, &mut broken).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { received, .. } if received == broken.good),
        "{err:?}"
    );
    assert_eq!(
        (err.code(), err.status()),
        (Some(ErrorCode::BlobUploadInvalid), 400)
    );
    assert_eq!(store.stat(&real).await.unwrap(), None);
    assert_eq!(fx.temporaries().await, 0);

    // Once stored, the same content is only verified, and other content is still refused.
    let mut good = PseudoRandom::new(1, len);
    assert_eq!(store.put_stream(&real, &mut good).await.unwrap(), len);
    let mut again = PseudoRandom::new(1, len);
    assert_eq!(store.put_stream(&real, &mut again).await.unwrap(), len);
    assert_eq!(again.pos, len, "the content was read to verify it");
    let err = store
        .put_stream(&real, &mut PseudoRandom::new(2, len))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }));
    let (mut reader, ..) = store.open_read(&real, None).await.unwrap();
    assert_eq!(hash_reader(&mut reader).await, (real.clone(), len));
    assert_eq!(store.list().await.unwrap(), vec![real]);
    assert_eq!(fx.temporaries().await, 0);
}

async fn finish_stream_with_wrong_digest_stores_nothing_and_ends_the_session(fx: &Fixture) {
    let store = &fx.store;
    let len = 1 << 20;
    let (real, _) = hash_reader(&mut PseudoRandom::new(3, len)).await;
    let wrong = Digest::sha256_of(b"something else");
    let id = store.start_upload().await.unwrap();
    let mut content = PseudoRandom::new(3, len);
    store
        .append_stream(&id, 0, &mut (&mut content).take(len / 2))
        .await
        .unwrap();
    let err = store
        .finish_stream(&id, &wrong, &mut content)
        .await
        .unwrap_err();
    match &err {
        RegistryError::DigestMismatch { expected, actual } => {
            assert_eq!((expected, actual), (&wrong, &real));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.stat(&wrong).await.unwrap(), None);
    assert_eq!(store.stat(&real).await.unwrap(), None);
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(fx.uploads().await, 0);
    assert!(matches!(
        store.upload_size(&id).await,
        Err(RegistryError::UploadUnknown { .. })
    ));
    assert!(matches!(
        store
            .finish_stream(&id, &real, &mut PseudoRandom::new(3, 0))
            .await,
        Err(RegistryError::UploadUnknown { .. })
    ));
}

async fn append_stream_takes_whole_chunks_at_the_current_end_only(fx: &Fixture) {
    let store = &fx.store;
    let len = 5 * STREAM_CHUNK as u64;
    let (d, _) = hash_reader(&mut PseudoRandom::new(4, len)).await;
    let id = store.start_upload().await.unwrap();
    assert_eq!(
        store
            .append_stream(&id, 0, &mut PseudoRandom::new(4, 100))
            .await
            .unwrap(),
        100
    );

    // Out of order: refused with the current size, and the content is not even read.
    for wrong in [0, 99, 101, len] {
        let mut chunk = PseudoRandom::range(4, 100, 50);
        let err = store
            .append_stream(&id, wrong, &mut chunk)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::RangeMismatch { offset, current_size: 100 } if offset == wrong),
            "{err:?}"
        );
        assert_eq!(err.status(), 416);
        assert_eq!(chunk.pos, 100, "not read");
    }
    assert_eq!(store.upload_size(&id).await.unwrap(), 100);

    // A chunk that breaks off after several pieces were written is not kept at all.
    let mut broken = Broken {
        inner: PseudoRandom::range(4, 100, len - 100),
        good: 100 + 3 * STREAM_CHUNK as u64,
        stall: false,
    };
    let err = store
        .append_stream(&id, 100, &mut broken)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { received, .. } if received == 3 * STREAM_CHUNK as u64),
        "{err:?}"
    );
    assert_eq!(store.upload_size(&id).await.unwrap(), 100);
    let err = store
        .append_stream(
            &id,
            broken.good,
            &mut PseudoRandom::range(4, broken.good, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RegistryError::RangeMismatch {
            current_size: 100,
            ..
        }
    ));

    // So is the last chunk of a finish; the session stays open for another try.
    let mut broken = Broken {
        inner: PseudoRandom::range(4, 100, len - 100),
        good: 100 + STREAM_CHUNK as u64 + 1,
        stall: false,
    };
    let err = store.finish_stream(&id, &d, &mut broken).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { .. }),
        "{err:?}"
    );
    assert_eq!(store.upload_size(&id).await.unwrap(), 100);
    assert_eq!(store.stat(&d).await.unwrap(), None);

    // Resumed where it stands, the upload completes with exactly the right bytes.
    let mut rest = PseudoRandom::range(4, 100, len - 100);
    assert_eq!(
        store
            .append_stream(&id, 100, &mut (&mut rest).take(STREAM_CHUNK as u64))
            .await
            .unwrap(),
        100 + STREAM_CHUNK as u64
    );
    assert_eq!(store.finish_stream(&id, &d, &mut rest).await.unwrap(), len);
    let (mut reader, ..) = store.open_read(&d, None).await.unwrap();
    assert_eq!(hash_reader(&mut reader).await, (d, len));
    assert_eq!(fx.uploads().await, 0);
}

async fn cancelled_streams_leave_nothing_behind(fx: &Fixture) {
    let store = &fx.store;
    let len = 4 * STREAM_CHUNK as u64;
    let (d, _) = hash_reader(&mut PseudoRandom::new(5, len)).await;
    let silent_after = |start: u64, good: u64| Broken {
        inner: PseudoRandom::range(5, start, len - start),
        good,
        stall: true,
    };
    let give_up = Duration::from_millis(200);

    // A monolithic put whose client goes silent and whose request is dropped.
    let mut silent = silent_after(0, 2 * STREAM_CHUNK as u64 + 3);
    let put = store.put_stream(&d, &mut silent);
    assert!(tokio::time::timeout(give_up, put).await.is_err());
    assert_eq!(fx.temporaries().await, 0);
    assert_eq!(store.stat(&d).await.unwrap(), None);

    // A chunk dropped the same way: the upload is as it was before the chunk.
    let id = store.start_upload().await.unwrap();
    store
        .append_stream(&id, 0, &mut PseudoRandom::new(5, 10))
        .await
        .unwrap();
    let mut silent = silent_after(10, 10 + 2 * STREAM_CHUNK as u64 + 3);
    let append = store.append_stream(&id, 10, &mut silent);
    assert!(tokio::time::timeout(give_up, append).await.is_err());
    assert_eq!(store.upload_size(&id).await.unwrap(), 10);
    let mut silent = silent_after(10, 10 + STREAM_CHUNK as u64);
    let finish = store.finish_stream(&id, &d, &mut silent);
    assert!(tokio::time::timeout(give_up, finish).await.is_err());
    assert_eq!(store.upload_size(&id).await.unwrap(), 10);
    assert_eq!(store.stat(&d).await.unwrap(), None);

    // The session goes on from there and yields exactly the right blob.
    let mut rest = PseudoRandom::range(5, 10, len - 10);
    assert_eq!(store.finish_stream(&id, &d, &mut rest).await.unwrap(), len);
    let (mut reader, ..) = store.open_read(&d, None).await.unwrap();
    assert_eq!(hash_reader(&mut reader).await, (d, len));
}

/// Content that breaks off after several parts' worth of bytes (so the S3 backend has a
/// multipart upload under way): nothing is stored, no temporary object or unfinished multipart
/// upload is left, and an upload keeps its previous size.
async fn interrupted_multi_part_writes_leave_nothing(fx: &Fixture) {
    let store = &fx.store;
    let len = 3 * PART_SIZE as u64 + 1234;
    let (d, _) = hash_reader(&mut PseudoRandom::new(9, len)).await;
    let good = 2 * PART_SIZE as u64 + 77;
    let broken = |start: u64| Broken {
        inner: PseudoRandom::range(9, start, len - start),
        good: start + good,
        stall: false,
    };

    // A monolithic put.
    let err = store.put_stream(&d, &mut broken(0)).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { received, .. } if received == good),
        "{err:?}"
    );
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(fx.temporaries().await, 0);

    // A chunk of an upload.
    let id = store.start_upload().await.unwrap();
    let mut first = PseudoRandom::new(9, 1000);
    assert_eq!(store.append_stream(&id, 0, &mut first).await.unwrap(), 1000);
    let err = store
        .append_stream(&id, 1000, &mut broken(1000))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { .. }),
        "{err:?}"
    );
    assert_eq!(store.upload_size(&id).await.unwrap(), 1000);
    assert_eq!(fx.temporaries().await, 0);

    // The last chunk of a finish: the session stays open at its size.
    let err = store
        .finish_stream(&id, &d, &mut broken(1000))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::UploadInterrupted { .. }),
        "{err:?}"
    );
    assert_eq!(store.upload_size(&id).await.unwrap(), 1000);
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert_eq!(fx.temporaries().await, 0);

    // And it completes with the right bytes.
    let mut rest = PseudoRandom::range(9, 1000, len - 1000);
    assert_eq!(store.finish_stream(&id, &d, &mut rest).await.unwrap(), len);
    let (mut reader, ..) = store.open_read(&d, None).await.unwrap();
    assert_eq!(hash_reader(&mut reader).await, (d, len));
    assert_eq!(fx.uploads().await, 0);
    assert_eq!(fx.temporaries().await, 0);
}

/// The S3 backend only: a put whose process dies mid-write (its future is forgotten, so nothing
/// runs after it, not even an abort) never makes any object visible, to this store or to one
/// opened after the "restart"; only an unfinished multipart upload remains, which no read or
/// listing sees (a bucket lifecycle rule reclaims it).
#[tokio::test]
async fn s3_a_crashed_put_is_never_visible() {
    let fx = Fixture::s3().await;
    let Backend::S3 {
        endpoint,
        bucket,
        raw,
    } = &fx.backend
    else {
        unreachable!()
    };
    let len = 3 * PART_SIZE as u64;
    let (d, _) = hash_reader(&mut PseudoRandom::new(10, len)).await;
    let mut silent = Broken {
        inner: PseudoRandom::new(10, len),
        good: 2 * PART_SIZE as u64 + 5,
        stall: true,
    };
    let mut put = fx.store.put_stream(&d, &mut silent);
    // Let it run until it waits for content that never comes, with parts sent meanwhile.
    assert!(tokio::time::timeout(Duration::from_secs(3), &mut put)
        .await
        .is_err());
    std::mem::forget(put);
    assert_eq!(
        Fixture::s3_pending_multipart_uploads(endpoint, bucket).await,
        1
    );
    for store in [fx.store.clone(), fx.reopen().await] {
        assert_eq!(store.stat(&d).await.unwrap(), None);
        assert!(store.list().await.unwrap().is_empty());
        assert!(matches!(
            store.open_read(&d, None).await,
            Err(RegistryError::BlobUnknown { .. })
        ));
    }
    assert_eq!(Fixture::s3_keys(raw).await, Vec::<String>::new());
    fx.cleanup().await;
}

/// The S3 backend only: an upload session is objects in the bucket, a chunk each, and stale
/// sessions are purged.
#[tokio::test]
async fn s3_upload_sessions_are_chunk_objects_and_stale_ones_are_purged() {
    let fx = Fixture::s3().await;
    let Backend::S3 { raw, .. } = &fx.backend else {
        unreachable!()
    };
    let store = ObjectBlobStore::new(raw.clone(), S3_PREFIX).unwrap();
    let id = store.start_upload().await.unwrap();
    store.append(&id, 0, b"abc").await.unwrap();
    store.append(&id, 3, b"").await.unwrap();
    store.append(&id, 3, b"defg").await.unwrap();
    let dir = format!("{S3_PREFIX}/uploads/{id}");
    assert_eq!(
        Fixture::s3_keys(raw).await,
        vec![
            format!("{dir}/00000000000000000000"),
            format!("{dir}/00000000000000000003"),
            format!("{dir}/session"),
        ]
    );
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
    assert_eq!(Fixture::s3_keys(raw).await, Vec::<String>::new());
    fx.cleanup().await;
}

/// The factory: an `s3://bucket/prefix` URL gives a store keeping its blobs under that prefix,
/// configured from the `AWS_*` variables given; a bucket that does not exist fails at once.
#[tokio::test]
async fn s3_stores_are_opened_from_urls() {
    let fx = Fixture::s3().await;
    let Backend::S3 {
        endpoint,
        bucket,
        raw,
    } = &fx.backend
    else {
        unreachable!()
    };
    let unused = tempfile::tempdir().unwrap();
    let store = open_blob_store_with_env(
        &format!("s3://{bucket}/from/the/url/"),
        unused.path(),
        s3_env(endpoint),
    )
    .await
    .unwrap();
    let d = Digest::sha256_of(b"through the factory");
    store.put(&d, b"through the factory").await.unwrap();
    let key = format!("from/the/url/blobs/sha256/{}", d.hex());
    let stored = raw.get(&ObjectPath::from(key.as_str())).await.unwrap();
    assert_eq!(&stored.bytes().await.unwrap()[..], b"through the factory");
    assert_eq!(files_under(unused.path()), 0);

    let missing = format!(
        "s3://plaza-no-such-bucket-{}",
        uuid::Uuid::new_v4().simple()
    );
    let err = match open_blob_store_with_env(&missing, unused.path(), s3_env(endpoint)).await {
        Err(e) => e,
        Ok(_) => panic!("{missing} was opened"),
    };
    assert!(
        matches!(&err, RegistryError::ObjectStore { context, .. } if context.contains("checking access")),
        "{err:?}"
    );
    assert_eq!(err.status(), 500);
    fx.cleanup().await;
}

#[tokio::test]
async fn fs_stores_are_opened_from_paths_and_file_urls() {
    let dir = tempfile::tempdir().unwrap();
    let d = Digest::sha256_of(b"on disk");
    let default_root = dir.path().join("default");
    let store = open_blob_store_with_env("", &default_root, s3_env("http://unused"))
        .await
        .unwrap();
    store.put(&d, b"on disk").await.unwrap();
    assert!(default_root.join("blobs/sha256").is_dir());
    let url = format!("file://{}", dir.path().join("by-url").display());
    let store = open_blob_store_with_env(&url, &default_root, s3_env("http://unused"))
        .await
        .unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), None);
    store.put(&d, b"on disk").await.unwrap();
    assert!(dir.path().join("by-url/blobs/sha256").is_dir());
    let err = match open_blob_store_with_env("gs://bucket", &default_root, s3_env("x")).await {
        Err(e) => e,
        Ok(_) => panic!("gs:// was opened"),
    };
    assert!(err.to_string().contains("s3://bucket"), "{err}");
}

// ---------------------------------------------------------------- garbage collection

mod gc_support {
    use plaza_registry::Digest;
    use std::collections::HashSet;

    pub async fn put_all(store: &dyn plaza_registry::BlobStore, blobs: &[&[u8]]) -> Vec<Digest> {
        let mut digests = Vec::new();
        for b in blobs {
            let d = Digest::sha256_of(b);
            store.put(&d, b).await.unwrap();
            digests.push(d);
        }
        digests
    }

    pub fn set(ds: &[&Digest]) -> HashSet<String> {
        ds.iter().map(|d| d.to_string()).collect()
    }
}

async fn gc_unreferenced_blobs_go_referenced_ones_stay_and_a_dry_run_only_reports(fx: &Fixture) {
    use plaza_registry::gc::collect;
    let store = fx.store.as_ref();
    let d = gc_support::put_all(store, &[b"kept", b"orphan"]).await;
    let refs = gc_support::set(&[&d[0]]);
    let dry = collect(
        store,
        || async { Ok::<_, String>(refs.clone()) },
        Duration::ZERO,
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        (dry.stored, dry.referenced, dry.removed.clone()),
        (2, 1, vec![d[1].clone()])
    );
    assert!(
        store.stat(&d[1]).await.unwrap().is_some(),
        "a dry run deletes nothing"
    );
    let real = collect(
        store,
        || async { Ok::<_, String>(refs.clone()) },
        Duration::ZERO,
        false,
    )
    .await
    .unwrap();
    assert_eq!(real.removed, vec![d[1].clone()]);
    assert_eq!(real.removed_bytes, 6);
    assert!(store.stat(&d[1]).await.unwrap().is_none());
    assert!(store.stat(&d[0]).await.unwrap().is_some());
}

async fn gc_a_blob_referenced_by_a_push_during_the_sweep_is_never_deleted(fx: &Fixture) {
    use plaza_registry::gc::collect;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let store = fx.store.as_ref();
    let d = gc_support::put_all(store, &[b"base layer"]).await;
    // The mark sees nothing; by the re-check a manifest pushed meanwhile references the blob.
    let calls = AtomicUsize::new(0);
    let pushed = gc_support::set(&[&d[0]]);
    let report = collect(
        store,
        || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let refs = if n == 0 {
                HashSet::new()
            } else {
                pushed.clone()
            };
            async move { Ok::<_, String>(refs) }
        },
        Duration::ZERO,
        false,
    )
    .await
    .unwrap();
    assert_eq!((report.removed.len(), report.spared), (0, 1));
    assert!(store.stat(&d[0]).await.unwrap().is_some());
}

async fn gc_blobs_younger_than_the_grace_period_are_spared(fx: &Fixture) {
    use plaza_registry::gc::collect;
    use std::collections::HashSet;
    let store = fx.store.as_ref();
    let d = gc_support::put_all(store, &[b"just uploaded"]).await;
    let report = collect(
        store,
        || async { Ok::<_, String>(HashSet::new()) },
        Duration::from_secs(3600),
        false,
    )
    .await
    .unwrap();
    assert_eq!((report.removed.len(), report.spared), (0, 1));
    assert!(store.stat(&d[0]).await.unwrap().is_some());
}

// ---------------------------------------------------------------- manifests

fn desc(media_type: &str, content: &[u8]) -> Value {
    json!({
        "mediaType": media_type,
        "digest": Digest::sha256_of(content).to_string(),
        "size": content.len(),
    })
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn oci_image_manifest() {
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": desc(OCI_CONFIG, b"config"),
        "layers": [
            desc("application/vnd.oci.image.layer.v1.tar+gzip", b"layer0"),
            desc("application/vnd.oci.image.layer.v1.tar+gzip", b"layer1"),
        ],
        "annotations": {"org.opencontainers.image.title": "demo"},
    });
    let raw = to_bytes(&doc);
    let m = parse_manifest(&raw, Some(OCI_MANIFEST)).unwrap();
    assert_eq!(m.kind, ManifestKind::OciManifest);
    assert_eq!(m.digest, Digest::sha256_of(&raw));
    assert_eq!(m.size, raw.len() as u64);
    let blobs: Vec<String> = m.blob_digests().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        blobs,
        [b"config".as_slice(), b"layer0", b"layer1"]
            .iter()
            .map(|c| Digest::sha256_of(c).to_string())
            .collect::<Vec<_>>()
    );
    assert!(m.manifest_digests().is_empty());
    assert_eq!(m.annotations["org.opencontainers.image.title"], "demo");
    assert_eq!(
        m.referrer_artifact_type(),
        Some(OCI_CONFIG),
        "falls back to config"
    );
    assert!(!m.is_wasm_component());
}

#[test]
fn oci_index_and_docker_list() {
    for (mt, ct) in [
        (OCI_INDEX, OCI_INDEX),
        (DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_LIST),
    ] {
        let mut entry = desc(OCI_MANIFEST, b"m1");
        entry["platform"] = json!({"architecture": "amd64", "os": "linux"});
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "manifests": [entry, desc(OCI_MANIFEST, b"m2")],
        });
        let m = parse_manifest(&to_bytes(&doc), Some(ct)).unwrap();
        assert!(m.kind.is_index());
        assert_eq!(m.manifest_digests().len(), 2);
        assert!(m.blob_digests().is_empty());
        assert_eq!(m.referrer_artifact_type(), None, "an index has no fallback");
    }
}

#[test]
fn docker_schema2_manifest_with_foreign_layer() {
    let mut foreign = desc(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        b"win",
    );
    foreign["urls"] = json!(["https://example.com/layer"]);
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": desc("application/vnd.docker.container.image.v1+json", b"cfg"),
        "layers": [desc("application/vnd.docker.image.rootfs.diff.tar.gzip", b"l"), foreign],
    });
    let m = parse_manifest(&to_bytes(&doc), Some(DOCKER_MANIFEST)).unwrap();
    assert_eq!(m.kind, ManifestKind::DockerManifest);
    assert_eq!(m.blob_digests().len(), 3);
    assert_eq!(
        m.required_blob_digests().len(),
        2,
        "foreign layers need not be pushed"
    );
}

#[test]
fn artifact_with_subject_for_referrers() {
    let subject = desc(OCI_MANIFEST, b"the app");
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.cyclonedx+json",
        "config": desc(OCI_EMPTY, b"{}"),
        "layers": [desc("application/vnd.cyclonedx+json", b"sbom")],
        "subject": subject,
        "annotations": {"org.opencontainers.image.created": "2025-01-01T00:00:00Z"},
    });
    let m = parse_manifest(&to_bytes(&doc), Some(OCI_MANIFEST)).unwrap();
    assert_eq!(
        m.subject.as_ref().unwrap().digest,
        Digest::sha256_of(b"the app")
    );
    assert_eq!(
        m.referrer_artifact_type(),
        Some("application/vnd.cyclonedx+json")
    );
    let r = serde_json::to_value(m.referrer_descriptor()).unwrap();
    assert_eq!(r["mediaType"], OCI_MANIFEST);
    assert_eq!(r["artifactType"], "application/vnd.cyclonedx+json");
    assert_eq!(r["digest"], m.digest.to_string());
    assert_eq!(
        r["annotations"]["org.opencontainers.image.created"],
        "2025-01-01T00:00:00Z"
    );

    // The empty config requires artifactType.
    let mut no_type = doc.clone();
    no_type.as_object_mut().unwrap().remove("artifactType");
    let e = parse_manifest(&to_bytes(&no_type), None).unwrap_err();
    assert_eq!(e.problems[0].pointer, "/artifactType");
}

#[test]
fn index_with_subject_and_artifact_type() {
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "artifactType": "application/vnd.example.bundle",
        "manifests": [],
        "subject": desc(OCI_MANIFEST, b"app"),
    });
    let m = parse_manifest(&to_bytes(&doc), None).unwrap();
    assert!(m.subject.is_some());
    assert_eq!(
        m.referrer_artifact_type(),
        Some("application/vnd.example.bundle")
    );
}

#[test]
fn wasm_component_artifact() {
    let wasm = desc(
        WASM_CONFIG,
        b"{\"architecture\":\"wasm\",\"os\":\"wasip2\"}",
    );
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": wasm,
        "layers": [desc(WASM_LAYER, b"\0asm")],
    });
    let m = parse_manifest(&to_bytes(&doc), Some(OCI_MANIFEST)).unwrap();
    assert!(m.is_wasm_component());
    assert_eq!(m.referrer_artifact_type(), Some(WASM_CONFIG));

    let mut two_layers = doc.clone();
    two_layers["layers"] = json!([desc(WASM_LAYER, b"a"), desc(WASM_LAYER, b"b")]);
    assert!(!parse_manifest(&to_bytes(&two_layers), None)
        .unwrap()
        .is_wasm_component());
    let mut wrong_layer = doc.clone();
    wrong_layer["layers"] = json!([desc("application/octet-stream", b"a")]);
    assert!(!parse_manifest(&to_bytes(&wrong_layer), None)
        .unwrap()
        .is_wasm_component());
    let mut wrong_config = doc;
    wrong_config["config"] = desc(OCI_CONFIG, b"{}");
    assert!(!parse_manifest(&to_bytes(&wrong_config), None)
        .unwrap()
        .is_wasm_component());
}

#[test]
fn every_problem_is_reported_with_its_pointer() {
    let doc = json!({
        "schemaVersion": 1,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": "sha256:abc", "size": 2},
        "layers": [
            desc("application/vnd.oci.image.layer.v1.tar", b"ok"),
            {"mediaType": "bad type", "digest": Digest::sha256_of(b"x").to_string()},
            "not a descriptor",
        ],
        "subject": {"mediaType": OCI_MANIFEST, "digest": "md5:abc", "size": 1},
        "annotations": {"a/b": 3},
        "artifactType": "nope",
    });
    let e = parse_manifest(&to_bytes(&doc), Some(OCI_MANIFEST)).unwrap_err();
    let pointers: Vec<&str> = e.problems.iter().map(|p| p.pointer.as_str()).collect();
    for expected in [
        "/schemaVersion",
        "/config/digest",
        "/layers/1/mediaType",
        "/layers/1/size",
        "/layers/2",
        "/subject/digest",
        "/annotations/a~1b",
        "/artifactType",
    ] {
        assert!(
            pointers.contains(&expected),
            "{expected} not in {pointers:?}"
        );
    }
    let err = RegistryError::from(e);
    assert_eq!(err.code(), Some(ErrorCode::ManifestInvalid));
    assert_eq!(err.status(), 400);
    let body: Value = serde_json::from_str(&err.body().unwrap().to_json()).unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_INVALID");
    assert!(body["errors"][0]["detail"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["pointer"] == "/layers/1/size"));
}

#[test]
fn unknown_and_mismatched_media_types() {
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "layers": [],
    });
    let e = parse_manifest(&to_bytes(&doc), None).unwrap_err();
    assert!(e.to_string().contains("not a manifest type"), "{e}");

    let doc = json!({"schemaVersion": 2, "manifests": []});
    let e = parse_manifest(&to_bytes(&doc), Some("application/json")).unwrap_err();
    assert_eq!(e.problems[0].pointer, "/mediaType");

    let doc = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []});
    let e = parse_manifest(&to_bytes(&doc), Some(OCI_MANIFEST)).unwrap_err();
    assert!(e.to_string().contains("must be the same"), "{e}");
    assert!(parse_manifest(
        &to_bytes(&doc),
        Some(" application/vnd.oci.image.index.v1+json;x=1")
    )
    .is_ok());
}

#[test]
fn missing_required_arrays() {
    let doc = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST});
    let e = parse_manifest(&to_bytes(&doc), None).unwrap_err();
    let pointers: Vec<&str> = e.problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/config", "/layers"]);
    let doc = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": {}});
    let e = parse_manifest(&to_bytes(&doc), None).unwrap_err();
    assert_eq!(e.problems[0].pointer, "/manifests");
}

// ---------------------------------------------------------------- names and tag listing

#[test]
fn names_and_tag_pages_together() {
    let name = RepoName::parse("acme/hello-wasm").unwrap();
    let err = RegistryError::from(RepoName::parse("acme/../etc").unwrap_err());
    assert_eq!(err.code(), Some(ErrorCode::NameInvalid));
    let tags = ["1.0.0", "1.1.0", "latest", "0.9.0"];
    let page = paginate_tags(tags, &TagQuery::parse(Some("2"), None).unwrap());
    assert_eq!(page.tags, ["0.9.0", "1.0.0"]);
    assert_eq!(
        page.next_link(&name, 2).as_deref(),
        Some("</v2/acme/hello-wasm/tags/list?n=2&last=1.0.0>; rel=\"next\"")
    );
    let page = paginate_tags(tags, &TagQuery::parse(Some("2"), Some("1.0.0")).unwrap());
    assert_eq!(page.tags, ["1.1.0", "latest"]);
    assert!(!page.has_next);
    let err = RegistryError::from(TagQuery::parse(Some("x"), None).unwrap_err());
    assert_eq!(err.status(), 400);
}
