//! Integration tests of plaza-registry through its public API: the filesystem blob store (round
//! trips, ranges, digest checks, chunk order, concurrency, crashes), manifests of every accepted
//! kind, and how errors reach the wire.

use std::sync::Arc;

use plaza_registry::manifest::media_type::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST,
    WASM_CONFIG, WASM_LAYER,
};
use plaza_registry::{
    paginate_tags, parse_manifest, BlobStore, Digest, ErrorCode, FsBlobStore, ManifestKind,
    RegistryError, RepoName, TagQuery, UploadId,
};
use serde_json::{json, Value};

async fn store() -> (tempfile::TempDir, FsBlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    (dir, store)
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

// ---------------------------------------------------------------- blob store

#[tokio::test]
async fn monolithic_put_round_trip() {
    let (_dir, store) = store().await;
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
    assert!(store.delete(&d).await.unwrap());
    assert!(!store.delete(&d).await.unwrap());
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(matches!(
        store.get(&d, None).await,
        Err(RegistryError::BlobUnknown { .. })
    ));
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn empty_blob() {
    let (_dir, store) = store().await;
    let d = Digest::sha256_of(b"");
    store.put(&d, b"").await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), Some(0));
    assert!(store.get(&d, None).await.unwrap().data.is_empty());
    assert!(matches!(
        store.get(&d, Some((0, None))).await,
        Err(RegistryError::RangeNotSatisfiable { size: 0, .. })
    ));
}

#[tokio::test]
async fn ranged_reads() {
    let (_dir, store) = store().await;
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

#[tokio::test]
async fn put_with_wrong_digest_stores_nothing() {
    let (dir, store) = store().await;
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
    assert_eq!(files_under(&dir.path().join("tmp")), 0);
}

#[tokio::test]
async fn chunked_upload_round_trip() {
    let (dir, store) = store().await;
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
    assert_eq!(files_under(&dir.path().join("uploads")), 0);
    assert!(matches!(
        store.upload_size(&id).await,
        Err(RegistryError::UploadUnknown { .. })
    ));
}

#[tokio::test]
async fn chunks_out_of_order_are_refused_with_the_current_size() {
    let (_dir, store) = store().await;
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

#[tokio::test]
async fn finish_with_wrong_digest_stores_nothing_and_ends_the_session() {
    let (dir, store) = store().await;
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
    assert_eq!(files_under(&dir.path().join("uploads")), 0);
    assert!(matches!(
        store.append(&id, 11, b"x").await,
        Err(RegistryError::UploadUnknown { .. })
    ));
}

#[tokio::test]
async fn unknown_and_cancelled_uploads() {
    let (_dir, store) = store().await;
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
    assert!(UploadId::parse("../../blobs").is_err());
}

#[tokio::test]
async fn concurrent_uploads_of_the_same_blob() {
    let (dir, store) = store().await;
    let store = Arc::new(store);
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
    assert_eq!(files_under(&dir.path().join("uploads")), 0);
    assert_eq!(files_under(&dir.path().join("tmp")), 0);
}

#[tokio::test]
async fn concurrent_chunks_at_the_same_offset_one_wins() {
    let (_dir, store) = store().await;
    let store = Arc::new(store);
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

#[tokio::test]
async fn a_killed_upload_is_never_visible() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![42u8; 50_000];
    let d = Digest::sha256_of(&data);
    {
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload().await.unwrap();
        store.append(&id, 0, &data[..20_000]).await.unwrap();
        // The process dies here: the store is dropped mid-upload. A monolithic put that died
        // after writing its temporary file looks like this:
        std::fs::write(dir.path().join("tmp").join(d.hex()), &data[..100]).unwrap();
        assert_eq!(store.stat(&d).await.unwrap(), None);
    }
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(matches!(
        store.get(&d, None).await,
        Err(RegistryError::BlobUnknown { .. })
    ));
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(
        files_under(&dir.path().join("tmp")),
        0,
        "leftovers removed on open"
    );
    // The interrupted session can be resumed where it stopped.
    let id = UploadId::parse(
        &std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .to_string_lossy(),
    )
    .unwrap();
    assert_eq!(store.upload_size(&id).await.unwrap(), 20_000);
    let err = store.append(&id, 0, &data).await.unwrap_err();
    assert!(matches!(
        err,
        RegistryError::RangeMismatch {
            current_size: 20_000,
            ..
        }
    ));
    store.finish(&id, &d, &data[20_000..]).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), Some(50_000));
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
