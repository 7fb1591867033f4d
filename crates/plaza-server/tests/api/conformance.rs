//! The OCI Distribution Spec's four conformance workflows — pull, push, content discovery and
//! content management — walked request by request against an in-process Plaza, in the order
//! and with the assertions of the spec's conformance plan (the distribution-spec `conformance/`
//! suite: setup, the category's steps, teardown). Where the suite accepts several answers (a
//! registry may, say, refuse deletes with 405) the same alternatives are accepted here, and
//! where the spec text is stricter than a lenient client (status `201` not "some 2xx",
//! `Location` present, exact manifest bytes back, `Docker-Content-Digest` equal to the digest)
//! the spec text is asserted. Each category runs on a fresh server and does its own setup.
//!
//! Section names in the comments are those of the distribution spec (`spec.md`, v1.1).

use crate::support::TestApp;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::BodyExt;
use plaza_core::identity::Role;
use serde_json::{json, Value};
use tower::ServiceExt;

/// The repository under test (the suite's `OCI_NAMESPACE`); its first component is the org.
const NAME: &str = "acme/conformance";
/// The second repository blobs are mounted into (the suite's `OCI_CROSSMOUNT_NAMESPACE`).
const CROSSMOUNT_NAME: &str = "acme/conformance-mount";
/// A repository nothing is ever pushed to.
const UNKNOWN_NAME: &str = "acme/never-pushed";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const OCTET_STREAM: &str = "application/octet-stream";
/// The manifest types a pulling client accepts (sent as `Accept`).
const ACCEPT_MANIFESTS: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

/// The tag the pull, discovery and management workflows push their image under.
const TEST_TAG: &str = "tagtest0";
/// The tag of the image manifest without layers.
const EMPTY_LAYER_TAG: &str = "emptylayer";
/// A reference that is not a valid tag (it starts with `.`), so it can never name a manifest.
const NONEXISTENT_MANIFEST: &str = ".INVALID_MANIFEST_NAME";
/// The annotation every referrer carries, with a value unique to the referrer.
const ANNOTATION_KEY: &str = "org.opencontainers.conformance.test";

/// The error codes of the spec's error table (`code-1` … `code-14`).
const ERROR_CODES: [&str; 14] = [
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
];

// ---------------------------------------------------------------------------------------------
// A small registry client over the in-process router.
// ---------------------------------------------------------------------------------------------

/// One answer of the registry.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// The `Location` header, which must be present; absolute URLs are reduced to their path.
    fn location(&self, step: &str) -> String {
        let loc = self
            .header("location")
            .unwrap_or_else(|| panic!("{step}: no Location header; {}", self.describe()));
        assert!(!loc.is_empty(), "{step}: empty Location header");
        relative(loc)
    }
    fn describe(&self) -> String {
        format!(
            "status {}, headers {:?}, body {}",
            self.status,
            self.headers,
            self.text()
        )
    }
}

/// The registry under test, and the token of an org author (who may pull, push and delete in
/// the org's repositories).
struct Registry {
    app: TestApp,
    token: String,
}

impl Registry {
    async fn start() -> Self {
        let app = TestApp::new().await;
        let token = app.role_tokens[&Role::Author].clone();
        Self { app, token }
    }

    /// Sends one request, authenticated the way the suite's client is configured (user name and
    /// password as HTTP Basic; the password is a Plaza token).
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(relative(url))
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("conformance:{}", self.token))
                ),
            )
            .header("user-agent", "plaza-conformance-tests");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .app
            .router
            .clone()
            .oneshot(req.body(Body::from(body.to_vec())).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, url: &str) -> Reply {
        self.send(Method::GET, url, &[], b"").await
    }

    async fn head(&self, url: &str) -> Reply {
        self.send(Method::HEAD, url, &[], b"").await
    }

    async fn delete(&self, url: &str) -> Reply {
        self.send(Method::DELETE, url, &[], b"").await
    }

    async fn get_manifest(&self, method: Method, name: &str, reference: &str) -> Reply {
        self.send(
            method,
            &manifest_url(name, reference),
            &[("accept", ACCEPT_MANIFESTS)],
            b"",
        )
        .await
    }

    /// "Pushing a blob monolithically — POST then PUT": a session from `POST`, then the whole
    /// blob in `PUT <location>?digest=`. The spec: `202` with `Location`, then `201` with
    /// `Location`.
    async fn push_blob(&self, step: &str, name: &str, blob: &Blob) -> Reply {
        let post = self.send(Method::POST, &uploads_url(name), &[], b"").await;
        expect_status(step, &post, &[202]);
        let location = post.location(step);
        let put = self
            .send(
                Method::PUT,
                &with_param(&location, "digest", &blob.digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", &blob.len()),
                ],
                &blob.bytes,
            )
            .await;
        expect_status(step, &put, &[201]);
        put.location(step);
        expect_digest_header(step, &put, &blob.digest);
        put
    }

    /// "Pushing Manifests": `PUT /v2/<name>/manifests/<reference>` with the manifest's media
    /// type as `Content-Type`. The spec: `201` with `Location`, and `Docker-Content-Digest`
    /// equal to the digest.
    async fn push_manifest(
        &self,
        step: &str,
        name: &str,
        reference: &str,
        content_type: &str,
        manifest: &Blob,
    ) -> Reply {
        let r = self
            .send(
                Method::PUT,
                &manifest_url(name, reference),
                &[("content-type", content_type)],
                &manifest.bytes,
            )
            .await;
        expect_status(step, &r, &[201]);
        r.location(step);
        expect_digest_header(step, &r, &manifest.digest);
        r
    }

    /// `POST /v2/<name>/blobs/uploads/` for a session, with `Content-Length: 0` as chunked
    /// uploads send it → 202 with the session's Location — spec "POST then PUT" and "Pushing a
    /// blob in chunks".
    async fn open_upload(&self, step: &str, name: &str) -> Reply {
        let r = self
            .send(
                Method::POST,
                &uploads_url(name),
                &[("content-length", "0")],
                b"",
            )
            .await;
        expect_status(step, &r, &[202]);
        r.location(step);
        r
    }

    /// `PATCH <location>` with one chunk and its `Content-Range` — spec "Pushing a blob in
    /// chunks".
    async fn patch_chunk(&self, location: &str, chunk: &[u8], range: &str) -> Reply {
        self.send(
            Method::PATCH,
            location,
            &[
                ("content-type", OCTET_STREAM),
                ("content-length", &chunk.len().to_string()),
                ("content-range", range),
            ],
            chunk,
        )
        .await
    }

    /// A manifest PUT whose outcome the caller checks.
    async fn push_manifest_raw(&self, name: &str, reference: &str, manifest: &Blob) -> Reply {
        self.send(
            Method::PUT,
            &manifest_url(name, reference),
            &[("content-type", OCI_MANIFEST)],
            &manifest.bytes,
        )
        .await
    }
}

fn uploads_url(name: &str) -> String {
    format!("/v2/{name}/blobs/uploads/")
}

fn blob_url(name: &str, digest: &str) -> String {
    format!("/v2/{name}/blobs/{digest}")
}

fn manifest_url(name: &str, reference: &str) -> String {
    format!("/v2/{name}/manifests/{reference}")
}

fn tags_url(name: &str) -> String {
    format!("/v2/{name}/tags/list")
}

fn referrers_url(name: &str, digest: &str) -> String {
    format!("/v2/{name}/referrers/{digest}")
}

/// A `Location` may be absolute or relative (spec "POST then PUT"); requests go to its path.
fn relative(url: &str) -> String {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return rest
                .find('/')
                .map_or("/".to_owned(), |i| rest[i..].to_owned());
        }
    }
    url.to_owned()
}

/// Adds a query parameter to a URL that may already carry some (a `Location` "MAY contain
/// critical query parameters"), percent-encoding the value as HTTP clients do.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", encode(value))
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Assertions.
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn expect_status(step: &str, r: &Reply, allowed: &[u16]) {
    assert!(
        allowed.contains(&r.status),
        "{step}: expected a status in {allowed:?}; {}",
        r.describe()
    );
}

#[track_caller]
fn expect_header(step: &str, r: &Reply, name: &str, value: &str) {
    assert_eq!(
        r.header(name),
        Some(value),
        "{step}: header {name}; {}",
        r.describe()
    );
}

/// `Docker-Content-Digest`, if present, must be the digest of the content (spec "Pulling
/// blobs", "Pushing Manifests").
#[track_caller]
fn expect_digest_header(step: &str, r: &Reply, digest: &str) {
    if let Some(h) = r.header("docker-content-digest") {
        assert_eq!(h, digest, "{step}: Docker-Content-Digest");
    }
}

/// A spec error: the status, and the body `{"errors":[{"code": …}]}` with `code` first.
#[track_caller]
fn expect_error(step: &str, r: &Reply, status: u16, code: &str) {
    expect_status(step, r, &[status]);
    let body = r.json();
    assert_eq!(
        body["errors"][0]["code"],
        code,
        "{step}: error code; {}",
        r.describe()
    );
    assert!(
        body["errors"][0]["message"].is_string(),
        "{step}: error message; {}",
        r.describe()
    );
}

/// The tags of a `tags/list` answer, after checking its shape (spec "Listing Tags").
#[track_caller]
fn tag_list(step: &str, r: &Reply, name: &str) -> Vec<String> {
    let body = r.json();
    assert_eq!(
        body["name"],
        name,
        "{step}: tag list name; {}",
        r.describe()
    );
    body["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("{step}: `tags` is not an array; {}", r.describe()))
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// The descriptors of a referrers answer, after checking it is an OCI image index served as
/// one (spec "Listing Referrers").
#[track_caller]
fn referrers_index(step: &str, r: &Reply) -> Vec<Value> {
    expect_status(step, r, &[200]);
    expect_header(step, r, "content-type", OCI_INDEX);
    let index = r.json();
    assert_eq!(index["schemaVersion"], 2, "{step}: {}", r.describe());
    assert_eq!(index["mediaType"], OCI_INDEX, "{step}: {}", r.describe());
    index["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("{step}: `manifests` is not an array; {}", r.describe()))
        .clone()
}

// ---------------------------------------------------------------------------------------------
// Test content, built the way the conformance plan describes it.
// ---------------------------------------------------------------------------------------------

/// Content and its digest.
#[derive(Clone)]
struct Blob {
    bytes: Vec<u8>,
    digest: String,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Self {
        let digest = plaza_registry::Digest::sha256_of(&bytes).to_string();
        Self { bytes, digest }
    }
    fn json(value: &Value) -> Self {
        Self::new(serde_json::to_vec_pretty(value).unwrap())
    }
    fn len(&self) -> String {
        self.bytes.len().to_string()
    }
    /// Its descriptor, with `media_type`.
    fn descriptor(&self, media_type: &str) -> Value {
        json!({"mediaType": media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// Reproducible pseudo-random bytes (xorshift), so a failing run can be replayed.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// The digest of content that is never pushed anywhere.
fn dummy_digest() -> String {
    Blob::new(b"hello world".to_vec()).digest
}

/// The shared fixtures: one image config per workflow (told apart by a unique `author`), one
/// layer, and one image manifest per config, each referencing its config and the layer; the
/// config descriptor carries the config itself in `data` plus a field no spec defines, which a
/// registry must keep as pushed.
struct Fixtures {
    configs: Vec<Blob>,
    layer: Blob,
    manifests: Vec<Blob>,
}

impl Fixtures {
    fn new() -> Self {
        let configs: Vec<Blob> = (0..5)
            .map(|i| {
                Blob::json(&json!({
                    "architecture": "amd64",
                    "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": []},
                    "author": format!("plaza-conformance-{i}-{:x}", pseudo_random(4, i)[0]),
                }))
            })
            .collect();
        let mut layer = vec![0x1f, 0x8b, 0x08, 0x00];
        layer.extend(pseudo_random(120, 99));
        let layer = Blob::new(layer);
        let manifests = configs
            .iter()
            .map(|config| {
                let mut config_descriptor = config.descriptor(OCI_CONFIG);
                config_descriptor["data"] = json!(STANDARD.encode(&config.bytes));
                config_descriptor["newUnspecifiedField"] = json!(STANDARD.encode("hello world"));
                Blob::json(&json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": config_descriptor,
                    "layers": [layer.descriptor(OCI_LAYER)],
                }))
            })
            .collect();
        Self {
            configs,
            layer,
            manifests,
        }
    }

    /// An image manifest with an empty layer list and no `mediaType` field (its type comes
    /// from the `Content-Type` it is pushed with), on config 1.
    fn empty_layer_manifest(&self) -> Blob {
        Blob::json(&json!({
            "schemaVersion": 2,
            "config": self.configs[1].descriptor(OCI_CONFIG),
            "layers": [],
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Pull
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pull() {
    let reg = Registry::start().await;
    let fx = Fixtures::new();

    // Setup: the API base check — spec "Determining Support" (end-1: GET /v2/ → 200).
    {
        let r = reg.get("/v2/").await;
        expect_status("GET /v2/", &r, &[200]);
    }

    // Setup: populate the registry with config 0, config 1 and the layer — spec "Pushing a
    // blob monolithically: POST then PUT".
    for (i, blob) in [&fx.configs[0], &fx.configs[1], &fx.layer]
        .into_iter()
        .enumerate()
    {
        reg.push_blob(&format!("setup: blob {i}"), NAME, blob).await;
    }

    // Setup: manifest 0 by tag and manifest 1 by digest — spec "Pushing Manifests".
    reg.push_manifest(
        "setup: manifest 0 by tag",
        NAME,
        TEST_TAG,
        OCI_MANIFEST,
        &fx.manifests[0],
    )
    .await;
    reg.push_manifest(
        "setup: manifest 1 by digest",
        NAME,
        &fx.manifests[1].digest.clone(),
        OCI_MANIFEST,
        &fx.manifests[1],
    )
    .await;

    // Pull blobs: HEAD of a nonexistent blob → 404 — spec "Checking if content exists in the
    // registry".
    {
        let r = reg.head(&blob_url(NAME, &dummy_digest())).await;
        expect_status("HEAD nonexistent blob", &r, &[404]);
    }

    // Pull blobs: HEAD of an existing blob → 200, with its digest and size and no body — spec
    // "Checking if content exists in the registry".
    {
        let step = "HEAD existing blob";
        let r = reg.head(&blob_url(NAME, &fx.configs[0].digest)).await;
        expect_status(step, &r, &[200]);
        expect_digest_header(step, &r, &fx.configs[0].digest);
        expect_header(step, &r, "content-length", &fx.configs[0].len());
        assert!(r.body.is_empty(), "{step}: a HEAD answer has no body");
    }

    // Pull blobs: GET of a nonexistent blob → 404 BLOB_UNKNOWN — spec "Pulling blobs".
    {
        let r = reg.get(&blob_url(NAME, &dummy_digest())).await;
        expect_error("GET nonexistent blob", &r, 404, "BLOB_UNKNOWN");
    }

    // Pull blobs: GET of an existing blob → 200 with the blob — spec "Pulling blobs".
    {
        let step = "GET existing blob";
        let r = reg.get(&blob_url(NAME, &fx.configs[0].digest)).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, fx.configs[0].bytes, "{step}: body");
        expect_header(step, &r, "content-length", &fx.configs[0].len());
        expect_digest_header(step, &r, &fx.configs[0].digest);
    }

    // Pull blobs: ranged GETs — spec "Pulling blobs" ("SHOULD support the Range request
    // header in accordance with RFC 9110"): 206 with the bytes, Content-Length and
    // Content-Range; 416 for a range that cannot be satisfied.
    {
        let blob = Blob::new(pseudo_random(2048, 7));
        reg.push_blob("range setup", NAME, &blob).await;
        let url = blob_url(NAME, &blob.digest);
        let total = blob.bytes.len();
        for (range, first, last) in [
            ("bytes=500-1499", 500, 1499),
            ("bytes=500-", 500, total - 1),
            ("bytes=-500", total - 500, total - 1),
            ("bytes=2000-5000", 2000, total - 1),
        ] {
            let step = format!("GET blob with Range: {range}");
            let r = reg.send(Method::GET, &url, &[("range", range)], b"").await;
            expect_status(&step, &r, &[206]);
            assert_eq!(r.body, blob.bytes[first..=last], "{step}: body");
            expect_header(&step, &r, "content-length", &(last - first + 1).to_string());
            let content_range = r.header("content-range").unwrap_or_default();
            assert!(
                content_range == format!("bytes {first}-{last}/{total}")
                    || content_range == format!("bytes {first}-{last}/*"),
                "{step}: Content-Range {content_range:?}"
            );
        }
        for range in ["bytes=500-0", "bytes=5000-10000"] {
            let step = format!("GET blob with Range: {range}");
            let r = reg.send(Method::GET, &url, &[("range", range)], b"").await;
            expect_status(&step, &r, &[416]);
        }
        let r = reg.delete(&url).await;
        expect_status("range teardown", &r, &[202, 404, 405]);
    }

    // Pull manifests: HEAD of a nonexistent manifest → 404 — spec "Checking if content exists
    // in the registry".
    {
        let r = reg
            .get_manifest(Method::HEAD, NAME, NONEXISTENT_MANIFEST)
            .await;
        expect_status("HEAD nonexistent manifest", &r, &[404]);
    }

    // Pull manifests: HEAD by digest (manifests 0 and 1) and by tag → 200 with the manifest's
    // digest, type and size, no body — spec "Checking if content exists in the registry".
    for (step, reference, manifest) in [
        (
            "HEAD manifest 0 by digest",
            fx.manifests[0].digest.as_str(),
            &fx.manifests[0],
        ),
        (
            "HEAD manifest 1 by digest",
            fx.manifests[1].digest.as_str(),
            &fx.manifests[1],
        ),
        ("HEAD manifest by tag", TEST_TAG, &fx.manifests[0]),
    ] {
        let r = reg.get_manifest(Method::HEAD, NAME, reference).await;
        expect_status(step, &r, &[200]);
        expect_digest_header(step, &r, &manifest.digest);
        expect_header(step, &r, "content-type", OCI_MANIFEST);
        expect_header(step, &r, "content-length", &manifest.len());
        assert!(r.body.is_empty(), "{step}: a HEAD answer has no body");
    }

    // Pull manifests: GET of nonexistent manifests → 404 MANIFEST_UNKNOWN — spec "Pulling
    // manifests" ("If the manifest is not found in the repository, the response code MUST be
    // 404 Not Found"): a reference that cannot be a tag, a missing tag, a missing digest.
    for (step, reference) in [
        (
            "GET nonexistent manifest (invalid tag)",
            NONEXISTENT_MANIFEST.to_owned(),
        ),
        ("GET nonexistent manifest (tag)", "missing-tag".to_owned()),
        ("GET nonexistent manifest (digest)", dummy_digest()),
    ] {
        let r = reg.get_manifest(Method::GET, NAME, &reference).await;
        expect_error(step, &r, 404, "MANIFEST_UNKNOWN");
    }

    // Pull manifests: GET by digest (manifests 0 and 1) and by tag → 200 with the exact bytes
    // pushed, their type, size and digest — spec "Pulling manifests".
    for (step, reference, manifest) in [
        (
            "GET manifest 0 by digest",
            fx.manifests[0].digest.as_str(),
            &fx.manifests[0],
        ),
        (
            "GET manifest 1 by digest",
            fx.manifests[1].digest.as_str(),
            &fx.manifests[1],
        ),
        ("GET manifest by tag", TEST_TAG, &fx.manifests[0]),
    ] {
        let r = reg.get_manifest(Method::GET, NAME, reference).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, manifest.bytes, "{step}: exact bytes");
        expect_header(step, &r, "content-type", OCI_MANIFEST);
        expect_header(step, &r, "content-length", &manifest.len());
        expect_digest_header(step, &r, &manifest.digest);
    }

    // Pull manifests: a repository nothing was pushed to → 404 NAME_UNKNOWN — spec "Pushing
    // Manifests" ("An attempt to pull a nonexistent repository MUST return response code 404").
    {
        let r = reg.get_manifest(Method::GET, UNKNOWN_NAME, TEST_TAG).await;
        expect_error(
            "GET manifest of unknown repository",
            &r,
            404,
            "NAME_UNKNOWN",
        );
    }

    // Error codes: a malformed digest as reference → 400 with a spec error code, or 404 —
    // spec "Error Codes".
    {
        let step = "GET manifest sha256:totallywrong";
        let r = reg
            .send(
                Method::GET,
                &manifest_url(NAME, "sha256:totallywrong"),
                &[("content-type", OCI_MANIFEST)],
                b"blablabla",
            )
            .await;
        expect_status(step, &r, &[400, 404]);
        let code = r.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            ERROR_CODES.contains(&code.as_str()),
            "{step}: code {code:?}"
        );
    }

    // Teardown: delete manifests 0 and 1 — spec "Deleting Manifests" (202, or 405 when
    // deletion is disabled); once deleted, the manifest is gone (404).
    for (i, manifest) in fx.manifests[..2].iter().enumerate() {
        let step = format!("teardown: DELETE manifest {i}");
        let r = reg.delete(&manifest_url(NAME, &manifest.digest)).await;
        expect_status(&step, &r, &[202, 405]);
        if r.status == 202 {
            let r = reg.get_manifest(Method::HEAD, NAME, &manifest.digest).await;
            expect_status(&step, &r, &[404]);
        }
    }

    // Teardown: delete config 0, config 1 and the layer — spec "Deleting Blobs" (202; 404 if
    // already gone; 405 when deletion is disabled); once deleted, the blob is gone (404).
    for (i, blob) in [&fx.configs[0], &fx.configs[1], &fx.layer]
        .into_iter()
        .enumerate()
    {
        let step = format!("teardown: DELETE blob {i}");
        let r = reg.delete(&blob_url(NAME, &blob.digest)).await;
        expect_status(&step, &r, &[202, 404, 405]);
        if r.status == 202 {
            let r = reg.head(&blob_url(NAME, &blob.digest)).await;
            expect_status(&step, &r, &[404]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Push
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn push() {
    let reg = Registry::start().await;
    let fx = Fixtures::new();
    let blob_a = Blob::new(pseudo_random(42, 1));
    // Blob B is sent in two chunks: bytes 0-21, then 22-41.
    let blob_b = Blob::new(pseudo_random(42, 2));
    let (chunk_1, chunk_2) = blob_b.bytes.split_at(22);
    let (range_1, range_2) = ("0-21", "22-41");

    // Setup: none (the push workflow creates all it needs).

    // Blob upload streamed: POST, then the whole blob in one PATCH → 202 — spec "Pushing a
    // blob in chunks" (a PATCH without Content-Range appends at the upload's end).
    let location = {
        let step = "streamed: POST";
        let r = reg.send(Method::POST, &uploads_url(NAME), &[], b"").await;
        expect_status(step, &r, &[202]);
        let location = r.location(step);
        let step = "streamed: PATCH with the whole blob";
        let r = reg
            .send(
                Method::PATCH,
                &location,
                &[("content-type", OCTET_STREAM)],
                &blob_a.bytes,
            )
            .await;
        expect_status(step, &r, &[202]);
        expect_header(step, &r, "range", "0-41");
        r.location(step)
    };

    // Blob upload streamed: PUT <location>?digest= without a body closes the session → 201
    // with a Location that serves the blob — spec "Pushing a blob in chunks".
    {
        let step = "streamed: PUT with digest";
        let r = reg
            .send(
                Method::PUT,
                &with_param(&location, "digest", &blob_a.digest),
                &[("content-type", OCTET_STREAM), ("content-length", "0")],
                b"",
            )
            .await;
        expect_status(step, &r, &[201]);
        expect_digest_header(step, &r, &blob_a.digest);
        let r = reg.get(&r.location(step)).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, blob_a.bytes, "{step}: the Location serves the blob");
    }

    // Blob upload monolithic: GET of a blob not pushed yet → 404 — spec "Pulling blobs".
    {
        let r = reg.get(&blob_url(NAME, &dummy_digest())).await;
        expect_error("monolithic: GET nonexistent blob", &r, 404, "BLOB_UNKNOWN");
    }

    // Blob upload monolithic: a single POST with digest and blob → 201 (or 202 when a registry
    // does not support it, and the blob is then not there) — spec "Pushing a blob
    // monolithically: Single POST".
    {
        let step = "monolithic: single POST with digest";
        let r = reg
            .send(
                Method::POST,
                &with_param(&uploads_url(NAME), "digest", &fx.configs[1].digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", &fx.configs[1].len()),
                ],
                &fx.configs[1].bytes,
            )
            .await;
        expect_status(step, &r, &[201, 202]);
        let location = r.location(step);
        let created = r.status == 201;
        if created {
            expect_digest_header(step, &r, &fx.configs[1].digest);
            assert_eq!(location, blob_url(NAME, &fx.configs[1].digest), "{step}");
        }
        let step = "monolithic: GET the blob of the single POST";
        let r = reg.get(&blob_url(NAME, &fx.configs[1].digest)).await;
        if created {
            expect_status(step, &r, &[200]);
            assert_eq!(r.body, fx.configs[1].bytes, "{step}: body");
        } else {
            expect_status(step, &r, &[404]);
        }
    }

    // Blob upload monolithic: POST → 202 with a session Location, then PUT with the blob →
    // 201 with Location; then GET → 200 — spec "Pushing a blob monolithically: POST then PUT".
    {
        let step = "monolithic: POST for a session";
        let r = reg.send(Method::POST, &uploads_url(NAME), &[], b"").await;
        expect_status(step, &r, &[202]);
        let location = r.location(step);
        assert!(
            location.starts_with(&uploads_url(NAME)) && location.len() > uploads_url(NAME).len(),
            "{step}: the Location names a session: {location}"
        );
        let step = "monolithic: PUT the blob";
        let r = reg
            .send(
                Method::PUT,
                &with_param(&location, "digest", &fx.configs[1].digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", &fx.configs[1].len()),
                ],
                &fx.configs[1].bytes,
            )
            .await;
        expect_status(step, &r, &[201]);
        r.location(step);
        let r = reg.get(&blob_url(NAME, &fx.configs[1].digest)).await;
        expect_status("monolithic: GET the config", &r, &[200]);
    }

    // Blob upload monolithic: the layer, POST then PUT → 201, then GET → 200.
    {
        reg.push_blob("monolithic: PUT the layer", NAME, &fx.layer)
            .await;
        let r = reg.get(&blob_url(NAME, &fx.layer.digest)).await;
        expect_status("monolithic: GET the layer", &r, &[200]);
        assert_eq!(r.body, fx.layer.bytes);
    }

    // Blob upload monolithic: the empty blob (zero bytes) → 201; HEAD gives size 0 — spec
    // "Pushing a blob monolithically: Single POST".
    {
        let empty = Blob::new(Vec::new());
        let step = "monolithic: the empty blob";
        let r = reg
            .send(
                Method::POST,
                &with_param(&uploads_url(NAME), "digest", &empty.digest),
                &[("content-type", OCTET_STREAM), ("content-length", "0")],
                b"",
            )
            .await;
        expect_status(step, &r, &[201]);
        let r = reg.head(&blob_url(NAME, &empty.digest)).await;
        expect_status(step, &r, &[200]);
        expect_header(step, &r, "content-length", "0");
        let r = reg.get(&blob_url(NAME, &empty.digest)).await;
        expect_status(step, &r, &[200]);
        assert!(r.body.is_empty(), "{step}: body");
    }

    // Blob upload chunked: a chunk that does not start where the upload ends → 416 — spec
    // "Pushing a blob in chunks" ("If a chunk is uploaded out of order, the registry MUST
    // respond with a 416").
    {
        let step = "chunked: POST";
        let r = reg.open_upload(step, NAME).await;
        let location = r.location(step);
        // The chunks here are 22 and 20 bytes; a registry asking for larger ones says so.
        if let Some(min) = r.header("oci-chunk-min-length") {
            let min: usize = min.parse().expect("OCI-Chunk-Min-Length is a number");
            assert!(min <= chunk_1.len(), "{step}: minimum chunk length {min}");
        }
        let step = "chunked: out-of-order PATCH";
        let r = reg.patch_chunk(&location, chunk_2, range_2).await;
        expect_status(step, &r, &[416]);
    }

    // Blob upload chunked: the first chunk → 202 with Location and `Range: 0-<end>` — spec
    // "Pushing a blob in chunks".
    let session = {
        let step = "chunked: POST";
        let r = reg.open_upload(step, NAME).await;
        let session = r.location(step);
        let step = "chunked: PATCH the first chunk";
        let r = reg.patch_chunk(&session, chunk_1, range_1).await;
        expect_status(step, &r, &[202]);
        expect_header(step, &r, "range", range_1);
        r.location(step);
        session
    };

    // Blob upload chunked: sending the first chunk again (to the session's first Location) →
    // 416 — spec "Pushing a blob in chunks".
    {
        let r = reg.patch_chunk(&session, chunk_1, range_1).await;
        expect_status("chunked: retry the first chunk", &r, &[416]);
    }

    // Blob upload chunked: GET on the session after the 416 → 204 with Location and the range
    // received so far — spec "Pushing a blob in chunks" (end-13).
    let location = {
        let step = "chunked: GET upload status";
        let r = reg.get(&session).await;
        expect_status(step, &r, &[204]);
        expect_header(step, &r, "range", range_1);
        r.location(step)
    };

    // Blob upload chunked: the second chunk → 202, `Range: 0-41` and Location.
    let location = {
        let step = "chunked: PATCH the second chunk";
        let r = reg.patch_chunk(&location, chunk_2, range_2).await;
        expect_status(step, &r, &[202]);
        expect_header(step, &r, "range", "0-41");
        r.location(step)
    };

    // Blob upload chunked: PUT with the digest of the whole blob and no body closes the session
    // → 201 with a Location serving the blob — spec "Pushing a blob in chunks".
    {
        let step = "chunked: PUT with digest";
        let r = reg
            .send(
                Method::PUT,
                &with_param(&location, "digest", &blob_b.digest),
                &[("content-length", "0"), ("content-type", OCTET_STREAM)],
                b"",
            )
            .await;
        expect_status(step, &r, &[201]);
        expect_digest_header(step, &r, &blob_b.digest);
        let r = reg.get(&r.location(step)).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, blob_b.bytes, "{step}: the Location serves the blob");
    }

    // Blob upload chunked: the final chunk in the closing PUT → 201 — spec "Pushing a blob in
    // chunks" ("The final chunk MAY be uploaded using a PATCH request or it MAY be uploaded in
    // the closing PUT request").
    {
        let blob_c = Blob::new(pseudo_random(42, 3));
        let (first, last) = blob_c.bytes.split_at(22);
        let step = "chunked: POST";
        let r = reg.open_upload(step, NAME).await;
        let step = "chunked: PATCH the first chunk";
        let r = reg.patch_chunk(&r.location(step), first, range_1).await;
        expect_status(step, &r, &[202]);
        let step = "chunked: PUT the last chunk with the digest";
        let r = reg
            .send(
                Method::PUT,
                &with_param(&r.location(step), "digest", &blob_c.digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", "20"),
                    ("content-range", range_2),
                ],
                last,
            )
            .await;
        expect_status(step, &r, &[201]);
        let r = reg.get(&r.location(step)).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, blob_c.bytes, "{step}: the Location serves the blob");
    }

    // Blob upload cancel: DELETE on the session → 204, after which the session is unknown —
    // spec "Cancel a blob upload" (end-14) and "Error Codes" (BLOB_UPLOAD_UNKNOWN).
    {
        let step = "cancel: POST";
        let r = reg.send(Method::POST, &uploads_url(NAME), &[], b"").await;
        expect_status(step, &r, &[202]);
        let session = r.location(step);
        let r = reg
            .send(Method::DELETE, &session, &[("content-length", "0")], b"")
            .await;
        expect_status("cancel: DELETE the session", &r, &[204]);
        let r = reg.get(&session).await;
        expect_error(
            "cancel: GET the cancelled session",
            &r,
            404,
            "BLOB_UPLOAD_UNKNOWN",
        );
    }

    // Cross-repository blob mount: `mount` without `from` for a blob the registry does not
    // have → 202 and a session in the target repository — spec "Mounting a blob from another
    // repository" ("if a registry … is unable to mount the requested blob, it SHOULD return a
    // 202").
    {
        let step = "mount: mount without from";
        let r = reg
            .send(
                Method::POST,
                &with_param(&uploads_url(CROSSMOUNT_NAME), "mount", &dummy_digest()),
                &[],
                b"",
            )
            .await;
        expect_status(step, &r, &[202]);
        let location = r.location(step);
        assert!(
            location.starts_with(&uploads_url(CROSSMOUNT_NAME)),
            "{step}: {location}"
        );
    }

    // Cross-repository blob mount: mount blob A from the test repository → 201 with the blob's
    // Location in the target repository, which serves it — spec "Mounting a blob from another
    // repository" ("The response to a successful mount MUST be 201 Created"). The suite also
    // accepts 202 from registries that cannot mount; Plaza mounts between repositories of the
    // same org, so a 202 here would be a regression.
    {
        let step = "mount: mount with from";
        let url = with_param(
            &with_param(&uploads_url(CROSSMOUNT_NAME), "mount", &blob_a.digest),
            "from",
            NAME,
        );
        let r = reg.send(Method::POST, &url, &[], b"").await;
        expect_status(step, &r, &[201]);
        let location = r.location(step);
        assert_eq!(
            location,
            blob_url(CROSSMOUNT_NAME, &blob_a.digest),
            "{step}"
        );
        expect_digest_header(step, &r, &blob_a.digest);
        let r = reg.get(&location).await;
        expect_status("mount: GET the mounted blob", &r, &[200]);
        assert_eq!(r.body, blob_a.bytes);
    }

    // Cross-repository blob mount: mounting a blob the source repository does not hold falls
    // back to an upload (202 and a session), which a PUT then completes (201) — spec
    // "Mounting a blob from another repository".
    {
        let missing = Blob::new(pseudo_random(64, 4));
        let step = "mount: mount of a blob the source does not have";
        let url = with_param(
            &with_param(&uploads_url(CROSSMOUNT_NAME), "mount", &missing.digest),
            "from",
            NAME,
        );
        let r = reg.send(Method::POST, &url, &[], b"").await;
        expect_status(step, &r, &[202]);
        let location = r.location(step);
        assert!(
            location.starts_with(&uploads_url(CROSSMOUNT_NAME)),
            "{step}: {location}"
        );
        let step = "mount: PUT after the fallback";
        let r = reg
            .send(
                Method::PUT,
                &with_param(&location, "digest", &missing.digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", &missing.len()),
                ],
                &missing.bytes,
            )
            .await;
        expect_status(step, &r, &[201]);
        let r = reg.get(&r.location(step)).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, missing.bytes);
    }

    // Cross-repository blob mount: `mount` without `from` for a blob the registry has → 201
    // (the registry MAY find it) or 202 and a session that a PUT completes — spec "Mounting a
    // blob from another repository" ("The registry MAY treat the from parameter as optional").
    {
        let step = "mount: anonymous mount of a known blob";
        let r = reg
            .send(
                Method::POST,
                &with_param(&uploads_url(CROSSMOUNT_NAME), "mount", &blob_b.digest),
                &[],
                b"",
            )
            .await;
        expect_status(step, &r, &[201, 202]);
        let mut location = r.location(step);
        if r.status == 202 {
            let r = reg
                .send(
                    Method::PUT,
                    &with_param(&location, "digest", &blob_b.digest),
                    &[
                        ("content-type", OCTET_STREAM),
                        ("content-length", &blob_b.len()),
                    ],
                    &blob_b.bytes,
                )
                .await;
            expect_status(step, &r, &[201]);
            location = r.location(step);
        }
        let r = reg.get(&location).await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, blob_b.bytes);
    }

    // Manifest upload: GET of a nonexistent manifest → 404 — spec "Pulling manifests".
    {
        let r = reg
            .get_manifest(Method::GET, NAME, NONEXISTENT_MANIFEST)
            .await;
        expect_error("manifest: GET nonexistent", &r, 404, "MANIFEST_UNKNOWN");
    }

    // Manifest upload: PUT manifest 1 under four tags → 201 with Location each, and the
    // Location serves the exact bytes — spec "Pushing Manifests".
    for i in 0..4 {
        let step = format!("manifest: PUT by tag test{i}");
        let r = reg
            .push_manifest(
                &step,
                NAME,
                &format!("test{i}"),
                OCI_MANIFEST,
                &fx.manifests[1],
            )
            .await;
        let r = reg
            .send(
                Method::GET,
                &r.location(&step),
                &[("accept", ACCEPT_MANIFESTS)],
                b"",
            )
            .await;
        expect_status(&step, &r, &[200]);
        expect_header(&step, &r, "content-type", OCI_MANIFEST);
        assert_eq!(r.body, fx.manifests[1].bytes, "{step}: exact bytes");
    }

    // Manifest upload: an image manifest without layers (and without a `mediaType` field, its
    // type given by Content-Type) → 201 — spec "Pushing Manifests" ("the list of blobs MAY be
    // empty").
    let empty_layer_manifest = fx.empty_layer_manifest();
    {
        let step = "manifest: PUT without layers";
        reg.push_manifest(
            step,
            NAME,
            EMPTY_LAYER_TAG,
            OCI_MANIFEST,
            &empty_layer_manifest,
        )
        .await;
        let r = reg.get_manifest(Method::GET, NAME, EMPTY_LAYER_TAG).await;
        expect_status(step, &r, &[200]);
        expect_header(step, &r, "content-type", OCI_MANIFEST);
        assert_eq!(r.body, empty_layer_manifest.bytes, "{step}: exact bytes");
    }

    // Manifest upload: GET manifest 1 by digest → 200 — spec "Pulling manifests".
    {
        let step = "manifest: GET by digest";
        let r = reg
            .get_manifest(Method::GET, NAME, &fx.manifests[1].digest)
            .await;
        expect_status(step, &r, &[200]);
        assert_eq!(r.body, fx.manifests[1].bytes, "{step}: exact bytes");
        expect_digest_header(step, &r, &fx.manifests[1].digest);
    }

    // Digest algorithms: a blob and a manifest addressed by sha512 — spec "Pulling blobs"
    // ("the canonical digest … MAY differ", see Content Digests) and "Pushing Manifests" (the
    // Docker-Content-Digest header "MUST be equal to the client provided digest"): the blob is
    // served under its sha512 digest, and the manifest pushed by its sha512 digest is answered
    // and served under that digest.
    let sha512_manifest = {
        let sha512_of = |bytes: &[u8]| {
            plaza_registry::Digest::of(plaza_registry::Algorithm::Sha512, bytes).to_string()
        };
        let config = Blob {
            digest: sha512_of(&fx.configs[0].bytes),
            bytes: fx.configs[0].bytes.clone(),
        };
        let layer = Blob::new(pseudo_random(512, 5));
        let layer = Blob {
            digest: sha512_of(&layer.bytes),
            bytes: layer.bytes,
        };
        let step = "sha512: single POST";
        let r = reg
            .send(
                Method::POST,
                &with_param(&uploads_url(NAME), "digest", &config.digest),
                &[
                    ("content-type", OCTET_STREAM),
                    ("content-length", &config.len()),
                ],
                &config.bytes,
            )
            .await;
        expect_status(step, &r, &[201]);
        assert_eq!(r.location(step), blob_url(NAME, &config.digest), "{step}");
        expect_digest_header(step, &r, &config.digest);
        reg.push_blob("sha512: POST then PUT", NAME, &layer).await;
        for blob in [&config, &layer] {
            let step = "sha512: HEAD and GET";
            let r = reg.head(&blob_url(NAME, &blob.digest)).await;
            expect_status(step, &r, &[200]);
            expect_header(step, &r, "content-length", &blob.len());
            expect_digest_header(step, &r, &blob.digest);
            let r = reg.get(&blob_url(NAME, &blob.digest)).await;
            expect_status(step, &r, &[200]);
            assert_eq!(r.body, blob.bytes, "{step}");
        }
        let manifest = Blob::json(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(OCI_CONFIG),
            "layers": [layer.descriptor(OCI_LAYER)],
        }));
        let manifest = Blob {
            digest: sha512_of(&manifest.bytes),
            bytes: manifest.bytes,
        };
        let step = "sha512: PUT manifest by digest";
        let r = reg
            .push_manifest(step, NAME, &manifest.digest, OCI_MANIFEST, &manifest)
            .await;
        assert_eq!(
            r.location(step),
            manifest_url(NAME, &manifest.digest),
            "{step}"
        );
        for method in [Method::HEAD, Method::GET] {
            let step = format!("sha512: {method} manifest by digest");
            let r = reg.get_manifest(method, NAME, &manifest.digest).await;
            expect_status(&step, &r, &[200]);
            expect_digest_header(&step, &r, &manifest.digest);
            expect_header(&step, &r, "content-length", &manifest.len());
        }
        manifest
    };

    // Manifest upload errors: PUT by a malformed digest → 400; GET by it → 400 or 404 — spec
    // "Pushing Manifests" and "Error Codes" (DIGEST_INVALID).
    {
        let step = "manifest: PUT by a malformed digest";
        let r = reg
            .send(
                Method::PUT,
                &manifest_url(NAME, "sha256:baddigeststring"),
                &[("content-type", OCI_MANIFEST)],
                &fx.manifests[1].bytes,
            )
            .await;
        expect_error(step, &r, 400, "DIGEST_INVALID");
        let r = reg
            .get_manifest(Method::GET, NAME, "sha256:baddigeststring")
            .await;
        expect_status("manifest: GET by a malformed digest", &r, &[400, 404]);
    }

    // Manifest upload errors: PUT by a digest that is not the manifest's → 400 DIGEST_INVALID
    // — spec "Pushing Manifests" (the digest "MUST be equal to the client provided digest").
    {
        let r = reg
            .send(
                Method::PUT,
                &manifest_url(NAME, &fx.manifests[0].digest),
                &[("content-type", OCI_MANIFEST)],
                &fx.manifests[1].bytes,
            )
            .await;
        expect_error("manifest: PUT by another digest", &r, 400, "DIGEST_INVALID");
    }

    // Manifest upload errors: a manifest naming a blob the repository does not have → 400
    // MANIFEST_BLOB_UNKNOWN — spec "Push" ("When a manifest is rejected for this reason, it
    // MUST result in one or more MANIFEST_BLOB_UNKNOWN errors").
    {
        let r = reg
            .push_manifest_raw(NAME, "missing-blobs", &fx.manifests[2])
            .await;
        expect_error(
            "manifest: PUT naming unknown blobs",
            &r,
            400,
            "MANIFEST_BLOB_UNKNOWN",
        );
    }

    // Teardown: delete manifest 1 and the manifest without layers by digest — spec "Deleting
    // Manifests" (202, or 405 when disabled); then they are gone.
    for (step, manifest) in [
        ("teardown: DELETE manifest 1", &fx.manifests[1]),
        (
            "teardown: DELETE the manifest without layers",
            &empty_layer_manifest,
        ),
        ("teardown: DELETE the sha512 manifest", &sha512_manifest),
    ] {
        let r = reg.delete(&manifest_url(NAME, &manifest.digest)).await;
        expect_status(step, &r, &[202, 405]);
        if r.status == 202 {
            let r = reg.get_manifest(Method::HEAD, NAME, &manifest.digest).await;
            expect_status(step, &r, &[404]);
        }
    }

    // Teardown: delete config 1 and the layer — spec "Deleting Blobs" (202, 404, 405).
    for (step, blob) in [
        ("teardown: DELETE config 1", &fx.configs[1]),
        ("teardown: DELETE the layer", &fx.layer),
    ] {
        let r = reg.delete(&blob_url(NAME, &blob.digest)).await;
        expect_status(step, &r, &[202, 404, 405]);
    }
}

// ---------------------------------------------------------------------------------------------
// Content discovery
// ---------------------------------------------------------------------------------------------

/// The referrers of the discovery workflow: artifacts typed by their config's media type and
/// by `artifactType` (with the empty config), an index artifact, and one whose subject is
/// never pushed.
struct Referrers {
    empty_json: Blob,
    blob_a: Blob,
    blob_b: Blob,
    a_config: Blob,
    a_layer: Blob,
    b_config: Blob,
    b_layer: Blob,
    c_layer: Blob,
    index: Blob,
}

const TYPE_A: &str = "application/vnd.plaza.conformance.a";
const TYPE_B: &str = "application/vnd.plaza.conformance.b";
const TYPE_INDEX: &str = "application/vnd.plaza.conformance.index";

impl Referrers {
    /// Referrers of `subject` (manifest 4), and one of `absent` (manifest 3, never pushed).
    fn new(subject: &Blob, absent: &Blob) -> Self {
        let empty_json = Blob::new(b"{}".to_vec());
        let blob_a = Blob::new(b"conformance referrer payload A".to_vec());
        let blob_b = Blob::new(b"conformance referrer payload B".to_vec());
        let subject_descriptor = subject.descriptor(OCI_MANIFEST);
        let by_config = |payload: &Blob, artifact_type: &str, note: &str| {
            Blob::json(&json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": payload.descriptor(artifact_type),
                "subject": subject_descriptor,
                "layers": [empty_json.descriptor(OCI_EMPTY)],
                "annotations": {ANNOTATION_KEY: note},
            }))
        };
        let by_artifact_type = |payload: &Blob, artifact_type: &str, subject: &Value| {
            json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": artifact_type,
                "config": empty_json.descriptor(OCI_EMPTY),
                "subject": subject,
                "layers": [payload.descriptor(artifact_type)],
            })
        };
        let a_config = by_config(&blob_a, TYPE_A, "test config a");
        let b_config = by_config(&blob_b, TYPE_B, "test config b");
        let mut a_layer = by_artifact_type(&blob_a, TYPE_A, &subject_descriptor);
        a_layer["annotations"] = json!({ANNOTATION_KEY: "test layer a"});
        let mut b_layer = by_artifact_type(&blob_b, TYPE_B, &subject_descriptor);
        b_layer["annotations"] = json!({ANNOTATION_KEY: "test layer b"});
        let c_layer = by_artifact_type(&blob_b, TYPE_B, &absent.descriptor(OCI_MANIFEST));
        let (a_layer, b_layer, c_layer) = (
            Blob::json(&a_layer),
            Blob::json(&b_layer),
            Blob::json(&c_layer),
        );
        let index = Blob::json(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": TYPE_INDEX,
            "manifests": [a_config.descriptor(OCI_MANIFEST), a_layer.descriptor(OCI_MANIFEST)],
            "subject": subject_descriptor,
            "annotations": {ANNOTATION_KEY: "test index"},
        }));
        Self {
            empty_json,
            blob_a,
            blob_b,
            a_config,
            a_layer,
            b_config,
            b_layer,
            c_layer,
            index,
        }
    }

    /// What the referrers list of manifest 4 must hold: (referrer, its media type, the
    /// artifact type reported, the annotation value).
    fn of_subject(&self) -> Vec<(&Blob, &'static str, &'static str, &'static str)> {
        vec![
            (&self.a_config, OCI_MANIFEST, TYPE_A, "test config a"),
            (&self.a_layer, OCI_MANIFEST, TYPE_A, "test layer a"),
            (&self.index, OCI_INDEX, TYPE_INDEX, "test index"),
            (&self.b_config, OCI_MANIFEST, TYPE_B, "test config b"),
            (&self.b_layer, OCI_MANIFEST, TYPE_B, "test layer b"),
        ]
    }
}

#[tokio::test]
async fn content_discovery() {
    let reg = Registry::start().await;
    let fx = Fixtures::new();
    let refs = Referrers::new(&fx.manifests[4], &fx.manifests[3]);

    // Before setup: listing the tags of a repository with nothing in it → 200 with no tags, or
    // 404 NAME_UNKNOWN; the referrers of anything → 200 and an empty index — spec "Listing
    // Tags" and "Listing Referrers" ("the registry MUST NOT return a 404").
    {
        let step = "empty: tag list";
        let r = reg.get(&tags_url(NAME)).await;
        expect_status(step, &r, &[200, 404]);
        if r.status == 200 {
            assert!(tag_list(step, &r, NAME).is_empty(), "{step}");
        } else {
            expect_error(step, &r, 404, "NAME_UNKNOWN");
        }
        let step = "empty: referrers";
        let r = reg.get(&referrers_url(NAME, &dummy_digest())).await;
        assert!(referrers_index(step, &r).is_empty(), "{step}");
    }

    // Setup: config 2 and the layer — spec "Pushing a blob monolithically: POST then PUT".
    reg.push_blob("setup: config 2", NAME, &fx.configs[2]).await;
    reg.push_blob("setup: layer", NAME, &fx.layer).await;

    // Setup: manifest 2 under eight tags, `test0`…`test3` and `TEST0`…`TEST3` (upper-case tags
    // are valid: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) — spec "Pushing Manifests".
    let mut pushed_tags = Vec::new();
    for i in 0..4 {
        for tag in [format!("test{i}"), format!("TEST{i}")] {
            reg.push_manifest(
                &format!("setup: tag {tag}"),
                NAME,
                &tag,
                OCI_MANIFEST,
                &fx.manifests[2],
            )
            .await;
            pushed_tags.push(tag);
        }
    }

    // Setup (references): the empty JSON blob `{}`, whose digest is fixed by the image spec,
    // and payload A, both before the subject exists — spec "Pushing blobs".
    assert_eq!(
        refs.empty_json.digest,
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    reg.push_blob("setup: empty JSON blob", NAME, &refs.empty_json)
        .await;
    reg.push_blob("setup: referrer payload A", NAME, &refs.blob_a)
        .await;

    // Setup (references): referrers pushed by digest before their subject (manifest 4) exists
    // are accepted and answered with `OCI-Subject` — spec "Push" ("A registry MUST initially
    // accept an otherwise valid manifest with a subject field that references a manifest that
    // does not exist") and "Pushing Manifests with Subject".
    for (step, manifest, content_type) in [
        (
            "setup: referrer A by config type",
            &refs.a_config,
            OCI_MANIFEST,
        ),
        (
            "setup: referrer A by artifactType",
            &refs.a_layer,
            OCI_MANIFEST,
        ),
        ("setup: index referrer", &refs.index, OCI_INDEX),
    ] {
        let r = reg
            .push_manifest(step, NAME, &manifest.digest, content_type, manifest)
            .await;
        expect_header(step, &r, "oci-subject", &fx.manifests[4].digest);
    }

    // Setup (references): the subject — config 4, the layer, and manifest 4 by tag.
    reg.push_blob("setup: config 4", NAME, &fx.configs[4]).await;
    reg.push_blob("setup: layer again", NAME, &fx.layer).await;
    reg.push_manifest(
        "setup: subject manifest 4",
        NAME,
        TEST_TAG,
        OCI_MANIFEST,
        &fx.manifests[4],
    )
    .await;

    // Setup (references): payload B and referrers pushed after their subject, then one whose
    // subject (manifest 3) is never pushed — spec "Pushing Manifests with Subject".
    reg.push_blob("setup: referrer payload B", NAME, &refs.blob_b)
        .await;
    for (step, manifest, subject) in [
        (
            "setup: referrer B by config type",
            &refs.b_config,
            &fx.manifests[4],
        ),
        (
            "setup: referrer B by artifactType",
            &refs.b_layer,
            &fx.manifests[4],
        ),
        (
            "setup: referrer of a missing subject",
            &refs.c_layer,
            &fx.manifests[3],
        ),
    ] {
        let r = reg
            .push_manifest(step, NAME, &manifest.digest, OCI_MANIFEST, manifest)
            .await;
        expect_header(step, &r, "oci-subject", &subject.digest);
    }

    // Listing tags: all of them → 200, every pushed tag, in lexical (case-insensitive) or
    // ASCIIbetical order — spec "Listing Tags".
    let all_tags = {
        let step = "tags: list";
        let r = reg.get(&tags_url(NAME)).await;
        expect_status(step, &r, &[200]);
        let tags = tag_list(step, &r, NAME);
        for tag in &pushed_tags {
            assert!(tags.contains(tag), "{step}: {tag} missing from {tags:?}");
        }
        let mut lexical = tags.clone();
        lexical.sort_by_key(|t| t.to_lowercase());
        let mut asciibetical = tags.clone();
        asciibetical.sort();
        assert!(
            tags == lexical || tags == asciibetical,
            "{step}: not sorted: {tags:?}"
        );
        tags
    };
    let half = all_tags.len() / 2;

    // Listing tags: `n` limits the count → exactly n of them (more remain), the first n, with
    // a `Link: <…>; rel="next"` header; following the Link headers pages through the rest, at
    // most n at a time, until a page without one — spec "Listing Tags" (the answer "MUST
    // include <int> results" unless a Link header is provided; Plaza provides it).
    let first_page = {
        let step = "tags: n";
        let r = reg.get(&format!("{}?n={half}", tags_url(NAME))).await;
        expect_status(step, &r, &[200]);
        let page = tag_list(step, &r, NAME);
        assert_eq!(page, all_tags[..half], "{step}");
        let step = "tags: follow the Link headers";
        let mut rest = Vec::new();
        let mut reply = r;
        while let Some(link) = reply.header("link").map(str::to_owned) {
            let target = link
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("{step}: Link {link:?} is not `<url>; rel=\"next\"`"));
            reply = reg.get(target).await;
            expect_status(step, &reply, &[200]);
            let page = tag_list(step, &reply, NAME);
            assert!(!page.is_empty() && page.len() <= half, "{step}: {page:?}");
            rest.extend(page);
        }
        assert_eq!(rest, all_tags[half..], "{step}");
        page
    };

    // Listing tags: `n` with `last` (the last tag of the first page) → at most n tags, all
    // after `last` — spec "Listing Tags".
    {
        let step = "tags: n and last";
        let last = first_page.last().unwrap();
        let r = reg
            .get(&format!("{}?n={half}&last={last}", tags_url(NAME)))
            .await;
        expect_status(step, &r, &[200]);
        let page = tag_list(step, &r, NAME);
        assert!(page.len() <= half, "{step}: {page:?}");
        assert!(!page.contains(last), "{step}: {page:?} holds {last}");
        assert_eq!(page, all_tags[half..2 * half], "{step}");
    }

    // Listing tags: `last` alone → every tag after it ("When using the last query parameter,
    // the n parameter is OPTIONAL") — spec "Listing Tags".
    {
        let step = "tags: last alone";
        let mut sorted = all_tags.clone();
        sorted.sort();
        let last = &sorted[half - 1];
        let r = reg.get(&format!("{}?last={last}", tags_url(NAME))).await;
        expect_status(step, &r, &[200]);
        let page = tag_list(step, &r, NAME);
        for tag in &sorted[..half] {
            assert!(!page.contains(tag), "{step}: {tag} is not after {last}");
        }
        for tag in &sorted[half..] {
            assert!(page.contains(tag), "{step}: {tag} missing");
        }
    }

    // Listing tags: `n=0` → an empty list and no Link header — spec "Listing Tags".
    {
        let step = "tags: n=0";
        let r = reg.get(&format!("{}?n=0", tags_url(NAME))).await;
        expect_status(step, &r, &[200]);
        assert!(tag_list(step, &r, NAME).is_empty(), "{step}");
        assert!(r.header("link").is_none(), "{step}: MUST NOT include Link");
    }

    // Listing tags: a repository nothing was pushed to → 404 NAME_UNKNOWN — spec "Error Codes".
    {
        let r = reg.get(&tags_url(UNKNOWN_NAME)).await;
        expect_error("tags: unknown repository", &r, 404, "NAME_UNKNOWN");
    }

    // Listing referrers: a digest nothing refers to → 200 and an empty index — spec "Listing
    // Referrers" ("If a query results in no matching referrers, an empty manifest list MUST be
    // returned").
    {
        let r = reg.get(&referrers_url(NAME, &dummy_digest())).await;
        let list = referrers_index("referrers: nonexistent subject", &r);
        assert!(list.is_empty(), "referrers: nonexistent subject: {list:?}");
    }

    // Listing referrers: manifest 4 → 200 and its five referrers, each with its media type,
    // size, artifact type (`artifactType`, else the config's media type) and its annotations —
    // spec "Listing Referrers".
    let expected = refs.of_subject();
    let check_entry = |step: &str, entry: &Value| {
        let digest = entry["digest"].as_str().unwrap_or_default();
        let (blob, media_type, artifact_type, note) = expected
            .iter()
            .find(|(b, ..)| b.digest == digest)
            .unwrap_or_else(|| panic!("{step}: unexpected referrer {entry}"));
        assert_eq!(entry["mediaType"], *media_type, "{step}: {entry}");
        assert_eq!(entry["size"], blob.bytes.len(), "{step}: {entry}");
        assert_eq!(entry["artifactType"], *artifact_type, "{step}: {entry}");
        assert_eq!(
            entry["annotations"],
            json!({ANNOTATION_KEY: note}),
            "{step}: {entry}"
        );
    };
    {
        let step = "referrers: of the subject";
        let r = reg.get(&referrers_url(NAME, &fx.manifests[4].digest)).await;
        let list = referrers_index(step, &r);
        assert_eq!(list.len(), expected.len(), "{step}: {list:?}");
        let mut digests: Vec<&str> = list.iter().filter_map(|e| e["digest"].as_str()).collect();
        digests.sort_unstable();
        digests.dedup();
        assert_eq!(
            digests.len(),
            expected.len(),
            "{step}: duplicates: {list:?}"
        );
        for entry in &list {
            check_entry(step, entry);
        }
    }

    // Listing referrers: filtered by each artifact type → `OCI-Filters-Applied: artifactType`
    // and exactly the referrers of that type (a registry that does not filter omits the header
    // and answers all of them) — spec "Listing Referrers" ("If filtering is requested and
    // applied, the response MUST include a header OCI-Filters-Applied: artifactType").
    for artifact_type in [TYPE_A, TYPE_B, TYPE_INDEX] {
        let step = format!("referrers: artifactType={artifact_type}");
        let url = with_param(
            &referrers_url(NAME, &fx.manifests[4].digest),
            "artifactType",
            artifact_type,
        );
        let r = reg.get(&url).await;
        let list = referrers_index(&step, &r);
        let want: Vec<_> = match r.header("oci-filters-applied") {
            Some(filters) => {
                assert_eq!(filters, "artifactType", "{step}");
                expected
                    .iter()
                    .filter(|(.., t, _)| *t == artifact_type)
                    .collect()
            }
            None => expected.iter().collect(),
        };
        assert_eq!(list.len(), want.len(), "{step}: {list:?}");
        for entry in &list {
            check_entry(&step, entry);
            if r.header("oci-filters-applied").is_some() {
                assert_eq!(entry["artifactType"], artifact_type, "{step}");
            }
        }
    }

    // Listing referrers: a subject that was never pushed → 200 and the one referrer pushed for
    // it — spec "Listing Referrers".
    {
        let step = "referrers: of a missing subject";
        let r = reg.get(&referrers_url(NAME, &fx.manifests[3].digest)).await;
        let list = referrers_index(step, &r);
        assert_eq!(list.len(), 1, "{step}: {list:?}");
        assert_eq!(list[0]["digest"], refs.c_layer.digest, "{step}");
        assert_eq!(list[0]["artifactType"], TYPE_B, "{step}");
        assert_eq!(list[0]["mediaType"], OCI_MANIFEST, "{step}");
    }

    // Listing referrers: a malformed digest → 400 — spec "Listing Referrers" ("If the request
    // is invalid, such as a <digest> with an invalid syntax, a 400 Bad Request MUST be
    // returned").
    {
        let r = reg.get(&referrers_url(NAME, "sha256:nothex")).await;
        expect_error("referrers: malformed digest", &r, 400, "DIGEST_INVALID");
    }

    // Teardown: delete the manifests (the index first, then what it lists) — spec "Deleting
    // Manifests" (2xx, 404 when a delete took it already, 405 when disabled).
    for manifest in [
        &refs.index,
        &fx.manifests[2],
        &fx.manifests[4],
        &refs.a_config,
        &refs.a_layer,
        &refs.b_config,
        &refs.b_layer,
        &refs.c_layer,
    ] {
        let step = format!("teardown: DELETE manifest {}", manifest.digest);
        let r = reg.delete(&manifest_url(NAME, &manifest.digest)).await;
        expect_status(&step, &r, &[202, 404, 405]);
    }

    // Teardown: delete the blobs — spec "Deleting Blobs" (202, 404, 405).
    for blob in [
        &fx.configs[2],
        &fx.layer,
        &fx.configs[4],
        &refs.blob_a,
        &refs.blob_b,
        &refs.empty_json,
    ] {
        let step = format!("teardown: DELETE blob {}", blob.digest);
        let r = reg.delete(&blob_url(NAME, &blob.digest)).await;
        expect_status(&step, &r, &[202, 404, 405]);
    }
}

// ---------------------------------------------------------------------------------------------
// Content management
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn content_management() {
    let reg = Registry::start().await;
    let fx = Fixtures::new();

    // Setup: config 3 and the layer, then manifest 3 by tag — spec "Pushing a blob
    // monolithically: POST then PUT" and "Pushing Manifests".
    reg.push_blob("setup: config 3", NAME, &fx.configs[3]).await;
    reg.push_blob("setup: layer", NAME, &fx.layer).await;
    reg.push_manifest(
        "setup: manifest 3 by tag",
        NAME,
        TEST_TAG,
        OCI_MANIFEST,
        &fx.manifests[3],
    )
    .await;

    // Setup: how many tags there are before anything is deleted — spec "Listing Tags".
    let tags_before = {
        let step = "setup: tag list";
        let r = reg.get(&tags_url(NAME)).await;
        expect_status(step, &r, &[200]);
        tag_list(step, &r, NAME).len()
    };

    // Manifest delete: DELETE of the tag → 202 (or, when tag deletion is disabled, 400
    // UNSUPPORTED or 405); then the tag no longer resolves (404) — spec "Deleting tags"
    // ("Once deleted, a GET to /v2/<name>/manifests/<tag> will return a 404").
    {
        let step = "DELETE tag";
        let r = reg.delete(&manifest_url(NAME, TEST_TAG)).await;
        expect_status(step, &r, &[202, 400, 405]);
        if r.status == 400 {
            expect_error(step, &r, 400, "UNSUPPORTED");
        }
        if r.status == 202 {
            let r = reg.get_manifest(Method::HEAD, NAME, TEST_TAG).await;
            expect_status("HEAD deleted tag", &r, &[404]);
            let r = reg.get_manifest(Method::GET, NAME, TEST_TAG).await;
            expect_error("GET deleted tag", &r, 404, "MANIFEST_UNKNOWN");
        }
    }

    // Manifest delete: DELETE of the manifest by digest → 202 (or 404 if the tag delete took
    // it) — spec "Deleting Manifests".
    let manifest_deleted = {
        let r = reg
            .delete(&manifest_url(NAME, &fx.manifests[3].digest))
            .await;
        expect_status("DELETE manifest by digest", &r, &[202, 404]);
        r.status == 202
    };

    // Manifest delete: GET of the deleted manifest → 404 (200 only where deletion is refused)
    // — spec "Deleting Manifests" ("Once deleted, a GET to /v2/<name>/manifests/<digest> …
    // will return a 404").
    {
        let step = "GET deleted manifest";
        let r = reg
            .get_manifest(Method::GET, NAME, &fx.manifests[3].digest)
            .await;
        if manifest_deleted {
            expect_error(step, &r, 404, "MANIFEST_UNKNOWN");
        } else {
            expect_status(step, &r, &[404, 200]);
        }
    }

    // Manifest delete: the tag list shows one tag less (or, with no tags left, the repository
    // may be unknown: 404) — spec "Listing Tags".
    {
        let step = "tag list after delete";
        let r = reg.get(&tags_url(NAME)).await;
        expect_status(step, &r, &[200, 404]);
        if r.status == 200 {
            assert_eq!(tag_list(step, &r, NAME).len(), tags_before - 1, "{step}");
        } else {
            assert_eq!(tags_before - 1, 0, "{step}: 404 with tags left");
            expect_error(step, &r, 404, "NAME_UNKNOWN");
        }
    }

    // Manifest delete: deleting it again → 404 MANIFEST_UNKNOWN — spec "Deleting Manifests"
    // and "Error Codes".
    if manifest_deleted {
        let r = reg
            .delete(&manifest_url(NAME, &fx.manifests[3].digest))
            .await;
        expect_error("DELETE deleted manifest", &r, 404, "MANIFEST_UNKNOWN");
    }

    // Blob delete: DELETE of the config and the layer → 202 (404, or 405 when disabled) —
    // spec "Deleting Blobs".
    let blob_delete_allowed = {
        let r = reg.delete(&blob_url(NAME, &fx.configs[3].digest)).await;
        expect_status("DELETE config blob", &r, &[202, 404, 405]);
        let r = reg.delete(&blob_url(NAME, &fx.layer.digest)).await;
        expect_status("DELETE layer blob", &r, &[202, 404, 405]);
        r.status != 405
    };

    // Blob delete: GET and HEAD of the deleted blob → 404 BLOB_UNKNOWN; deleting it again →
    // 404 — spec "Deleting Blobs" ("If the blob is not found, a 404 Not Found code MUST be
    // returned").
    if blob_delete_allowed {
        let r = reg.get(&blob_url(NAME, &fx.configs[3].digest)).await;
        expect_error("GET deleted blob", &r, 404, "BLOB_UNKNOWN");
        let r = reg.head(&blob_url(NAME, &fx.layer.digest)).await;
        expect_status("HEAD deleted blob", &r, &[404]);
        let r = reg.delete(&blob_url(NAME, &fx.configs[3].digest)).await;
        expect_error("DELETE deleted blob", &r, 404, "BLOB_UNKNOWN");
    }

    // Teardown: nothing left to remove.
}
