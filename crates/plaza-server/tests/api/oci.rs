//! The OCI Distribution API in-process: blob uploads (monolithic, chunked, out of order), ranged
//! reads, manifests by tag and digest, tag pages, referrers, deletion, and who may do what.

use crate::support::TestApp;
use axum::body::Body;
use axum::http::{Method, Request};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::BodyExt;
use plaza_core::identity::Role;
use tower::ServiceExt;

pub(crate) struct Answer {
    pub(crate) status: u16,
    headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

async fn oci(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("someone:{t}"))),
        );
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
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
    Answer {
        status,
        headers,
        body,
    }
}

fn digest(bytes: &[u8]) -> String {
    plaza_registry::Digest::sha256_of(bytes).to_string()
}

const REPO: &str = "/v2/acme/com.example.where2eat";

/// PUTs an OCI image manifest to `REPO` under `reference` (a tag, or a digest).
pub(crate) async fn put_manifest(
    app: &TestApp,
    token: &str,
    reference: &str,
    manifest: Vec<u8>,
) -> Answer {
    let path = format!("{REPO}/manifests/{reference}");
    let content_type = [("content-type", "application/vnd.oci.image.manifest.v1+json")];
    oci(
        app,
        Method::PUT,
        &path,
        Some(token),
        &content_type,
        manifest,
    )
    .await
}

pub(crate) async fn push_blob(app: &TestApp, token: &str, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let r = oci(
        app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/?digest={d}"),
        Some(token),
        &[],
        bytes.to_vec(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    d
}

fn image_manifest(config: &str, config_len: usize, layer: &str, layer_len: usize) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": config, "size": config_len},
        "layers": [{"mediaType": "application/wasm", "digest": layer, "size": layer_len}],
        "annotations": {"org.opencontainers.image.title": "where2eat"}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn push_and_pull_an_artifact_with_every_upload_style() {
    let app = TestApp::new().await;
    let author = app.role_tokens[&Role::Author].clone();
    let consumer = app.role_tokens[&Role::Consumer].clone();

    let base = oci(&app, Method::GET, "/v2/", None, &[], vec![]).await;
    assert_eq!(base.status, 401);
    assert_eq!(
        base.header("www-authenticate"),
        "Bearer realm=\"http://localhost/v2/token\",service=\"plaza\""
    );
    assert_eq!(base.json()["errors"][0]["code"], "UNAUTHORIZED");
    // The Docker token flow: credentials at the realm, then the token as Bearer.
    let token = oci(
        &app,
        Method::GET,
        "/v2/token?service=plaza&scope=repository:acme/x:pull",
        Some(&author),
        &[],
        vec![],
    )
    .await;
    assert_eq!(token.status, 200);
    let bearer = format!("Bearer {}", token.json()["token"].as_str().unwrap());
    let resp = app
        .router
        .clone()
        .oneshot(
            Request::get("/v2/")
                .header("authorization", bearer)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let refused = oci(
        &app,
        Method::GET,
        "/v2/token",
        Some("plz_forged-token-0123456789abcdef"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(refused.status, 401);
    let scoped = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/"),
        None,
        &[],
        vec![],
    )
    .await;
    assert!(
        scoped
            .header("www-authenticate")
            .ends_with("scope=\"repository:acme/com.example.where2eat:pull,push\""),
        "{}",
        scoped.header("www-authenticate")
    );
    let base = oci(&app, Method::GET, "/v2/", Some(&author), &[], vec![]).await;
    assert_eq!(base.status, 200);
    assert_eq!(
        base.header("docker-distribution-api-version"),
        "registry/2.0"
    );

    // Monolithic config blob.
    let config = br#"{"architecture":"wasm","os":"wasip2"}"#;
    let config_digest = push_blob(&app, &author, config).await;

    // Chunked layer, with an out-of-order chunk refused.
    let layer: Vec<u8> = (0..100u8).collect();
    let layer_digest = digest(&layer);
    let start = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/"),
        Some(&author),
        &[],
        vec![],
    )
    .await;
    assert_eq!(start.status, 202);
    let location = start.header("location");
    assert!(
        location.starts_with(&format!("{REPO}/blobs/uploads/")),
        "{location}"
    );
    let first = oci(
        &app,
        Method::PATCH,
        &location,
        Some(&author),
        &[("content-range", "0-39")],
        layer[..40].to_vec(),
    )
    .await;
    assert_eq!(
        (first.status, first.header("range")),
        (202, "0-39".to_owned())
    );
    let wrong = oci(
        &app,
        Method::PATCH,
        &location,
        Some(&author),
        &[("content-range", "50-99")],
        layer[50..].to_vec(),
    )
    .await;
    assert_eq!(wrong.status, 416);
    assert_eq!(wrong.header("range"), "0-39");
    let second = oci(
        &app,
        Method::PATCH,
        &location,
        Some(&author),
        &[("content-range", "40-79")],
        layer[40..80].to_vec(),
    )
    .await;
    assert_eq!(second.header("range"), "0-79");
    let status = oci(&app, Method::GET, &location, Some(&author), &[], vec![]).await;
    assert_eq!(
        (status.status, status.header("range")),
        (204, "0-79".to_owned())
    );
    let done = oci(
        &app,
        Method::PUT,
        &format!("{location}?digest={layer_digest}"),
        Some(&author),
        &[],
        layer[80..].to_vec(),
    )
    .await;
    assert_eq!(done.status, 201, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(done.header("docker-content-digest"), layer_digest);

    // Reads: HEAD, a range.
    let head = oci(
        &app,
        Method::HEAD,
        &format!("{REPO}/blobs/{layer_digest}"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, "100".to_owned())
    );
    let part = oci(
        &app,
        Method::GET,
        &format!("{REPO}/blobs/{layer_digest}"),
        Some(&consumer),
        &[("range", "bytes=10-19")],
        vec![],
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, layer[10..20].to_vec());
    assert_eq!(part.header("content-range"), "bytes 10-19/100");

    // A manifest by tag, read back by tag and by digest.
    let manifest = image_manifest(&config_digest, config.len(), &layer_digest, layer.len());
    let put = put_manifest(&app, &author, "1.2.0", manifest.clone()).await;
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let manifest_digest = put.header("docker-content-digest");
    assert_eq!(manifest_digest, digest(&manifest));
    for reference in ["1.2.0", manifest_digest.as_str()] {
        let got = oci(
            &app,
            Method::GET,
            &format!("{REPO}/manifests/{reference}"),
            Some(&consumer),
            &[],
            vec![],
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, manifest);
        assert_eq!(
            got.header("content-type"),
            "application/vnd.oci.image.manifest.v1+json"
        );
    }

    // A manifest naming a blob the repository lacks is refused.
    let missing = image_manifest(&config_digest, config.len(), &digest(b"nope"), 4);
    let r = put_manifest(&app, &author, "broken", missing).await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (400, serde_json::json!("MANIFEST_BLOB_UNKNOWN"))
    );

    // A referrer (an SBOM attached to the artifact), by digest.
    let empty = push_blob(&app, &author, b"{}").await;
    let sbom = push_blob(&app, &author, br#"{"bomFormat":"CycloneDX"}"#).await;
    let referrer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": sbom, "size": 25}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len()}
    })
    .to_string()
    .into_bytes();
    let referrer_digest = digest(&referrer);
    let r = put_manifest(&app, &author, &referrer_digest, referrer).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("oci-subject"), manifest_digest);
    let refs = oci(
        &app,
        Method::GET,
        &format!("{REPO}/referrers/{manifest_digest}"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        refs.header("content-type"),
        "application/vnd.oci.image.index.v1+json"
    );
    let index = refs.json();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.cyclonedx+json"
    );
    assert_eq!(index["manifests"][0]["digest"], referrer_digest);
    let filtered = oci(
        &app,
        Method::GET,
        &format!("{REPO}/referrers/{manifest_digest}?artifactType=application/x-other"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(filtered.json()["manifests"], serde_json::json!([]));
    assert_eq!(filtered.header("oci-filters-applied"), "artifactType");

    // Tags, one page at a time.
    let r = put_manifest(&app, &author, "latest", manifest.clone()).await;
    assert_eq!(r.status, 201);
    let page = oci(
        &app,
        Method::GET,
        &format!("{REPO}/tags/list?n=1"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(page.json()["tags"], serde_json::json!(["1.2.0"]));
    assert!(
        page.header("link").contains("last=1.2.0"),
        "{}",
        page.header("link")
    );
    let all = oci(
        &app,
        Method::GET,
        &format!("{REPO}/tags/list"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        all.json(),
        serde_json::json!({"name": "acme/com.example.where2eat", "tags": ["1.2.0", "latest"]})
    );

    // Who may do what.
    let r = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (403, serde_json::json!("DENIED"))
    );
    let other = app.other_role_tokens[&Role::Admin].clone();
    let r = oci(
        &app,
        Method::GET,
        &format!("{REPO}/tags/list"),
        Some(&other),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 403);
    let r = oci(
        &app,
        Method::GET,
        &format!("{REPO}/tags/list"),
        Some("plz_forged-token-0123456789abcdef"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 401);

    // With the artifact in the registry the supply gate runs: unsigned, without provenance or
    // SBOM, the built-in policies deny it (enforce mode).
    let seed = crate::support::SEED_MANIFEST.as_bytes().to_vec();
    let register = || {
        app.call(
            Method::POST,
            "/api/orgs/acme/apps",
            Some(&author),
            Some(("application/yaml", seed.clone())),
        )
    };
    let denied = register().await;
    assert_eq!(denied.status, 422, "{}", denied.text);
    for rule in ["plaza.provenance.min-level", "plaza.sbom.required"] {
        assert!(denied.text.contains(rule), "{rule}: {}", denied.text);
    }
    // In warn-only mode it is registered, the report attached.
    let r = app
        .send_json(
            Method::PUT,
            "/api/orgs/acme/policy-mode",
            Some(&app.admin_token),
            serde_json::json!({"mode": "warn-only"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Once 1.2.0 is a published app version, its tag is frozen; other tags still move.
    let r = register().await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["supply"]["signature"]["status"], "missing",
        "{}",
        r.text
    );
    let other_manifest = image_manifest(&config_digest, config.len(), &layer_digest, layer.len())
        .iter()
        .copied()
        .chain(b"\n".iter().copied())
        .collect::<Vec<u8>>();
    let moved = put_manifest(&app, &author, "1.2.0", other_manifest.clone()).await;
    assert_eq!(
        (moved.status, moved.json()["errors"][0]["code"].clone()),
        (403, serde_json::json!("DENIED"))
    );
    let again = put_manifest(&app, &author, "1.2.0", manifest.clone()).await;
    assert_eq!(again.status, 201, "re-pushing the same manifest is fine");
    assert_eq!(
        oci(
            &app,
            Method::DELETE,
            &format!("{REPO}/manifests/1.2.0"),
            Some(&author),
            &[],
            vec![]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        oci(
            &app,
            Method::DELETE,
            &format!("{REPO}/manifests/{manifest_digest}"),
            Some(&author),
            &[],
            vec![]
        )
        .await
        .status,
        403
    );
    let r = put_manifest(&app, &author, "latest", other_manifest).await;
    assert_eq!(
        r.status, 201,
        "a tag that is not a published version moves freely"
    );

    // Deleting a tag leaves the manifest; unknown names are the spec's errors.
    let r = oci(
        &app,
        Method::DELETE,
        &format!("{REPO}/manifests/latest"),
        Some(&author),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 202);
    let r = oci(
        &app,
        Method::GET,
        &format!("{REPO}/manifests/latest"),
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (404, serde_json::json!("MANIFEST_UNKNOWN"))
    );
    let r = oci(
        &app,
        Method::GET,
        "/v2/acme/UPPER/tags/list",
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.json()["errors"][0]["code"], "NAME_INVALID");
    let r = oci(
        &app,
        Method::GET,
        "/v2/acme/never-pushed/tags/list",
        Some(&consumer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (404, serde_json::json!("NAME_UNKNOWN"))
    );
    let r = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/?digest={}", digest(b"other")),
        Some(&author),
        &[],
        b"content".to_vec(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (400, serde_json::json!("DIGEST_INVALID"))
    );

    let audit = app
        .get("/api/audit?action=registry.", Some(&app.admin_token))
        .await;
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "registry.manifest.push",
            "registry.manifest.push",
            "registry.manifest.push",
            "registry.manifest.push",
            "registry.manifest.push",
            "registry.tag.delete"
        ]
    );
}

#[tokio::test]
async fn an_org_cannot_store_more_than_its_quota() {
    let config = plaza_server::ServerConfig {
        registry_quota_mib_per_org: 1,
        ..plaza_server::ServerConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let author = app.role_tokens[&Role::Author].clone();
    let big = vec![7u8; 700 * 1024];
    push_blob(&app, &author, &big).await;
    // The same blob again (another repository of the org) costs nothing more.
    let d = digest(&big);
    let again = oci(
        &app,
        Method::POST,
        &format!("/v2/acme/com.example.other/blobs/uploads/?digest={d}"),
        Some(&author),
        &[],
        big.clone(),
    )
    .await;
    assert_eq!(again.status, 201);
    let more = vec![8u8; 400 * 1024];
    let r = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/?digest={}", digest(&more)),
        Some(&author),
        &[],
        more.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (403, serde_json::json!("DENIED"))
    );
    assert!(String::from_utf8_lossy(&r.body).contains("registry_quota_mib_per_org"));
    // Another org has its own quota.
    let other = app.other_role_tokens[&Role::Author].clone();
    let r = oci(
        &app,
        Method::POST,
        &format!(
            "/v2/globex/com.example.x/blobs/uploads/?digest={}",
            digest(&more)
        ),
        Some(&other),
        &[],
        more,
    )
    .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn an_upload_session_is_usable_only_in_the_repository_that_opened_it() {
    let app = TestApp::new().await;
    let author = app.role_tokens[&Role::Author].clone();
    let other = app.other_role_tokens[&Role::Author].clone();
    let started = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/"),
        Some(&author),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(started.status, 202);
    let location = started.header("location");
    let id = location.rsplit('/').next().unwrap().to_owned();
    let chunk = b"secret bytes".to_vec();
    // Another org's author, in their own namespace, names the same session id: unknown there.
    for repo in ["/v2/globex/com.example.x", "/v2/acme/com.example.elsewhere"] {
        let token = if repo.contains("globex") {
            &other
        } else {
            &author
        };
        let path = format!("{repo}/blobs/uploads/{id}");
        for (method, body) in [
            (Method::PATCH, chunk.clone()),
            (Method::GET, Vec::new()),
            (Method::DELETE, Vec::new()),
        ] {
            let r = oci(&app, method.clone(), &path, Some(token), &[], body).await;
            assert_eq!(
                (r.status, r.json()["errors"][0]["code"].clone()),
                (404, serde_json::json!("BLOB_UPLOAD_UNKNOWN")),
                "{method} {path}"
            );
        }
        let r = oci(
            &app,
            Method::PUT,
            &format!("{path}?digest={}", digest(&chunk)),
            Some(token),
            &[],
            chunk.clone(),
        )
        .await;
        assert_eq!(r.status, 404, "PUT {path}");
    }
    // The session is untouched and still works where it was opened.
    let r = oci(&app, Method::GET, &location, Some(&author), &[], Vec::new()).await;
    assert_eq!((r.status, r.header("range")), (204, "0-0".to_owned()));
    let r = oci(
        &app,
        Method::PUT,
        &format!("{location}?digest={}", digest(&chunk)),
        Some(&author),
        &[],
        chunk,
    )
    .await;
    assert_eq!(r.status, 201);
    // Finished: the session is gone.
    let r = oci(&app, Method::GET, &location, Some(&author), &[], Vec::new()).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_last_chunk_out_of_order_is_refused_and_the_session_stays_open() {
    let app = TestApp::new().await;
    let author = app.role_tokens[&Role::Author].clone();
    let started = oci(
        &app,
        Method::POST,
        &format!("{REPO}/blobs/uploads/"),
        Some(&author),
        &[],
        Vec::new(),
    )
    .await;
    let location = started.header("location");
    let (first, last) = (b"0123456789".to_vec(), b"abcdef".to_vec());
    let whole = [first.clone(), last.clone()].concat();
    let r = oci(
        &app,
        Method::PATCH,
        &location,
        Some(&author),
        &[("content-range", "0-9")],
        first,
    )
    .await;
    assert_eq!(r.status, 202);
    let put = format!("{location}?digest={}", digest(&whole));
    // The last chunk claims to start at 12: 416, nothing appended.
    let r = oci(
        &app,
        Method::PUT,
        &put,
        Some(&author),
        &[("content-range", "12-17")],
        last.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["errors"][0]["code"].clone()),
        (416, serde_json::json!("BLOB_UPLOAD_INVALID"))
    );
    let r = oci(&app, Method::GET, &location, Some(&author), &[], Vec::new()).await;
    assert_eq!((r.status, r.header("range")), (204, "0-9".to_owned()));
    let r = oci(
        &app,
        Method::PUT,
        &put,
        Some(&author),
        &[("content-range", "10-15")],
        last,
    )
    .await;
    assert_eq!(r.status, 201);
}
