//! Manifests (PUT, GET, HEAD, DELETE by tag or digest), tag listing with `n`/`last`, and the
//! referrers API. Manifest bytes are stored as blobs; the store keeps which repository holds
//! which manifest, its tags and its subject.

use super::access::Caller;
use super::error::OciError;
use super::target::ManifestRef;
use super::uploads::url_decode_pairs;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use plaza_core::audit::AuditEntry;
use plaza_core::registry::StoredManifest;
use plaza_core::StoreError;
use plaza_registry::manifest::{media_type, MAX_MANIFEST_SIZE};
use plaza_registry::{
    paginate_tags, parse_manifest, Digest, ErrorCode, Reference, RegistryError, RepoName, TagQuery,
};
use serde_json::json;

/// The repository's tags, or `NAME_UNKNOWN` when the registry does not know the repository: it
/// holds neither a manifest nor a blob. A repository with blobs but no manifest (yet, or any
/// more) has no tags.
async fn repository_tags(state: &AppState, repo: &RepoName) -> Result<Vec<String>, OciError> {
    let store = state.services.store();
    match store.list_tags(repo.as_str()).await {
        Ok(tags) => Ok(tags),
        Err(StoreError::NotFound {
            entity: "repository",
            ..
        }) if store
            .list_repositories()
            .await?
            .iter()
            .any(|r| r == repo.as_str()) =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

/// The 404 for a manifest that is not there: `NAME_UNKNOWN` when the repository is unknown (the
/// spec: "An attempt to pull a nonexistent repository MUST return response code 404"), else
/// `MANIFEST_UNKNOWN`.
async fn unknown(state: &AppState, repo: &RepoName, message: String) -> OciError {
    match repository_tags(state, repo).await {
        Ok(_) => OciError::new(ErrorCode::ManifestUnknown, message),
        Err(e) => e,
    }
}

async fn resolve(
    state: &AppState,
    repo: &RepoName,
    reference: &ManifestRef,
) -> Result<String, OciError> {
    match reference.to_look_up() {
        Some(Reference::Digest(d)) => Ok(d.to_string()),
        Some(Reference::Tag(t)) => {
            match state
                .services
                .store()
                .resolve_tag(repo.as_str(), t.as_str())
                .await?
            {
                Some(digest) => Ok(digest),
                None => Err(unknown(
                    state,
                    repo,
                    format!("tag `{}` is not in `{}`", t.as_str(), repo.as_str()),
                )
                .await),
            }
        }
        None => Err(unknown(
            state,
            repo,
            format!(
                "`{}` is not a tag or digest, so it names no manifest in `{}`",
                reference.as_written(),
                repo.as_str()
            ),
        )
        .await),
    }
}

/// Whether `tag` of `repo` is a published app version: the repository `<org>/<app-id>` and an
/// app version registered under that tag. Its tag may not move and it may not be deleted.
async fn published(state: &AppState, repo: &RepoName, tag: &str) -> Result<bool, OciError> {
    let mut parts = repo.as_str().splitn(2, '/');
    let (Some(org), Some(app_id)) = (parts.next(), parts.next()) else {
        return Ok(false);
    };
    let org = match state.services.org_by_slug(org).await {
        Ok(o) => o,
        Err(_) => return Ok(false),
    };
    match state.services.app_version(&org, app_id, tag).await {
        Ok(_) => Ok(true),
        Err(plaza_core::CoreError::Store(plaza_core::StoreError::NotFound { .. })) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn immutable(repo: &RepoName, tag: &str) -> OciError {
    OciError::denied(format!(
        "`{}:{tag}` is a published app version: its manifest is immutable and its tag cannot be moved or deleted; push a new version",
        repo.as_str()
    ))
}

/// GET or HEAD a manifest.
pub async fn get(
    state: &AppState,
    repo: &RepoName,
    reference: &ManifestRef,
    head: bool,
) -> Result<Response, OciError> {
    let digest = resolve(state, repo, reference).await?;
    let Some(m) = state
        .services
        .store()
        .get_manifest(repo.as_str(), &digest)
        .await?
    else {
        let message = format!("manifest {digest} is not in `{}`", repo.as_str());
        return Err(unknown(state, repo, message).await);
    };
    let d = Digest::parse(&m.digest).map_err(OciError::internal)?;
    let bytes = state.blobs.get(&d, None).await?.data;
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes.clone())
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&m.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, (bytes.len() as u64).into());
    if let Ok(v) = HeaderValue::from_str(&m.digest) {
        h.insert("docker-content-digest", v);
    }
    Ok(r)
}

/// PUT a manifest by tag or digest.
pub async fn put(
    state: &AppState,
    caller: &Caller,
    repo: &RepoName,
    reference: &ManifestRef,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OciError> {
    let reference = reference.to_push()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let limited = http_body_util::Limited::new(body, MAX_MANIFEST_SIZE);
    let bytes = limited
        .collect()
        .await
        .map_err(|_| {
            OciError::new(
                ErrorCode::SizeInvalid,
                format!("a manifest may be at most {MAX_MANIFEST_SIZE} bytes"),
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        })?
        .to_bytes();
    let parsed = parse_manifest(&bytes, content_type.as_deref()).map_err(RegistryError::from)?;
    // The digest the manifest is stored and answered under: the client's, when it pushes by
    // digest (the spec: Docker-Content-Digest "MUST be equal to the client provided digest",
    // which may be of another algorithm than sha256), else the sha256 of the bytes.
    let manifest_digest = match reference {
        Reference::Digest(d) if d.verifies(&bytes) => d.clone(),
        Reference::Digest(d) => {
            return Err(OciError::new(
                ErrorCode::DigestInvalid,
                format!(
                    "the manifest's digest is {}, not {d}",
                    Digest::of(d.algorithm(), &bytes)
                ),
            ));
        }
        Reference::Tag(_) => parsed.digest.clone(),
    };
    let store = state.services.store();
    for blob in parsed.required_blob_digests() {
        if !store.blob_linked(repo.as_str(), &blob.to_string()).await? {
            return Err(OciError::new(
                ErrorCode::ManifestBlobUnknown,
                format!("blob {blob} is not in `{}`; push it first", repo.as_str()),
            ));
        }
    }
    for child in parsed.manifest_digests() {
        if store
            .get_manifest(repo.as_str(), &child.to_string())
            .await?
            .is_none()
        {
            return Err(OciError::new(
                ErrorCode::ManifestBlobUnknown,
                format!(
                    "manifest {child} is not in `{}`; push it first",
                    repo.as_str()
                ),
            ));
        }
    }
    state.blobs.put(&manifest_digest, &bytes).await?;
    let now = state.services.now();
    let digest = manifest_digest.to_string();
    let stored = StoredManifest {
        repository: repo.as_str().to_owned(),
        digest: digest.clone(),
        media_type: parsed.kind.media_type().to_owned(),
        artifact_type: parsed.referrer_artifact_type().map(str::to_owned),
        subject: parsed.subject.as_ref().map(|s| s.digest.to_string()),
        size: bytes.len() as i64,
        annotations: serde_json::to_value(&parsed.annotations).unwrap_or_else(|_| json!({})),
        pushed_by: Some(caller.principal.user.id.clone()),
        pushed_at: now,
    };
    let tag = match reference {
        Reference::Tag(t) => Some(t.as_str()),
        Reference::Digest(_) => None,
    };
    if let Some(t) = tag {
        let current = store.resolve_tag(repo.as_str(), t).await?;
        if current.as_deref().is_some_and(|c| c != digest) && published(state, repo, t).await? {
            return Err(immutable(repo, t));
        }
    }
    let blobs: Vec<String> = parsed
        .blob_digests()
        .iter()
        .map(|d| d.to_string())
        .collect();
    let audit = AuditEntry::new(
        now,
        Some(caller.principal.org_id().clone()),
        caller.principal.actor(),
        "registry.manifest.push",
        format!("oci:{}@{digest}", repo.as_str()),
        json!({"tag": tag, "mediaType": stored.media_type, "artifactType": stored.artifact_type}),
    );
    store.put_manifest(&stored, &blobs, tag, &audit).await?;
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    if let Ok(v) = format!("/v2/{}/manifests/{digest}", repo.as_str()).parse() {
        h.insert("location", v);
    }
    if let Ok(v) = HeaderValue::from_str(&digest) {
        h.insert("docker-content-digest", v);
    }
    if let Some(s) = &stored.subject {
        if let Ok(v) = HeaderValue::from_str(s) {
            h.insert("oci-subject", v);
        }
    }
    h.insert(header::CONTENT_LENGTH, 0.into());
    Ok(r)
}

/// DELETE a manifest (by digest) or a tag.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    repo: &RepoName,
    reference: &ManifestRef,
) -> Result<Response, OciError> {
    let Some(reference) = reference.to_look_up() else {
        return Err(OciError::new(
            ErrorCode::ManifestUnknown,
            format!(
                "`{}` is not a tag or digest, so it names no manifest in `{}`",
                reference.as_written(),
                repo.as_str()
            ),
        ));
    };
    let (action, target) = match reference {
        Reference::Digest(d) => (
            "registry.manifest.delete",
            format!("oci:{}@{d}", repo.as_str()),
        ),
        Reference::Tag(t) => (
            "registry.tag.delete",
            format!("oci:{}:{}", repo.as_str(), t.as_str()),
        ),
    };
    let audit = AuditEntry::new(
        state.services.now(),
        Some(caller.principal.org_id().clone()),
        caller.principal.actor(),
        action,
        target,
        json!({}),
    );
    let store = state.services.store();
    match reference {
        Reference::Tag(t) if published(state, repo, t.as_str()).await? => {
            return Err(immutable(repo, t.as_str()));
        }
        Reference::Digest(d) => {
            let digest = d.to_string();
            for t in store.list_tags(repo.as_str()).await.unwrap_or_default() {
                let points_here =
                    store.resolve_tag(repo.as_str(), &t).await?.as_deref() == Some(digest.as_str());
                if points_here && published(state, repo, &t).await? {
                    return Err(immutable(repo, &t));
                }
            }
        }
        Reference::Tag(_) => {}
    }
    match reference {
        Reference::Digest(d) => {
            store
                .delete_manifest(repo.as_str(), &d.to_string(), &audit)
                .await?
        }
        Reference::Tag(t) => store.delete_tag(repo.as_str(), t.as_str(), &audit).await?,
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /v2/<name>/tags/list[?n=&last=]`.
pub async fn tags(state: &AppState, repo: &RepoName, query: &str) -> Result<Response, OciError> {
    let q = url_decode_pairs(query);
    let page_query = TagQuery::parse(
        q.get("n").map(String::as_str),
        q.get("last").map(String::as_str),
    )
    .map_err(RegistryError::from)?;
    let all = repository_tags(state, repo).await?;
    let page = paginate_tags(all, &page_query);
    let link = page_query.n.and_then(|n| page.next_link(repo, n));
    let mut r = axum::Json(json!({"name": repo.as_str(), "tags": page.tags})).into_response();
    if let Some(l) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LINK, l);
    }
    Ok(r)
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an OCI image index of the manifests
/// whose `subject` is the digest.
pub async fn referrers(
    state: &AppState,
    repo: &RepoName,
    subject: &Digest,
    query: &str,
) -> Result<Response, OciError> {
    let q = url_decode_pairs(query);
    let filter = q.get("artifactType");
    let all = state
        .services
        .store()
        .referrers(repo.as_str(), &subject.to_string())
        .await?;
    let manifests: Vec<serde_json::Value> = all
        .iter()
        .filter(|m| filter.is_none_or(|f| m.artifact_type.as_deref() == Some(f.as_str())))
        .map(|m| {
            let mut d = json!({"mediaType": m.media_type, "digest": m.digest, "size": m.size});
            if let Some(t) = &m.artifact_type {
                d["artifactType"] = json!(t);
            }
            if m.annotations.as_object().is_some_and(|o| !o.is_empty()) {
                d["annotations"] = m.annotations.clone();
            }
            d
        })
        .collect();
    let index =
        json!({"schemaVersion": 2, "mediaType": media_type::OCI_INDEX, "manifests": manifests});
    let mut r = (StatusCode::OK, index.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type::OCI_INDEX),
    );
    if filter.is_some() {
        h.insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(r)
}
