//! Blob uploads: monolithic (`POST ?digest=`), chunked (`POST`, `PATCH`…, `PUT ?digest=`),
//! cross-repository mount (`POST ?mount=&from=`), status and cancel, with the `Location`,
//! `Range` and `Docker-Upload-UUID` headers the spec describes. Bodies are streamed into the blob
//! store, never held whole.

use super::access::Caller;
use super::error::OciError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use plaza_registry::{Digest, ErrorCode, RepoName, UploadId};
use std::collections::HashMap;
use tokio_util::io::StreamReader;

fn query_map(query: &str) -> HashMap<String, String> {
    url_decode_pairs(query)
}

/// Decodes `a=b&c=d` (percent-decoding values).
pub(crate) fn url_decode_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn reader(body: Body) -> impl tokio::io::AsyncRead + Send + Unpin {
    StreamReader::new(body.into_data_stream().map_err(std::io::Error::other))
}

fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn upload_answer(status: StatusCode, repo: &RepoName, id: &UploadId, size: u64) -> Response {
    let mut r = status.into_response();
    let h = r.headers_mut();
    if let Ok(v) = format!("/v2/{}/blobs/uploads/{id}", repo.as_str()).parse() {
        h.insert("location", v);
    }
    if let Ok(v) = range_header(size).parse() {
        h.insert("range", v);
    }
    if let Ok(v) = id.to_string().parse() {
        h.insert("docker-upload-uuid", v);
    }
    h.insert("content-length", 0.into());
    r
}

fn blob_created(repo: &RepoName, digest: &Digest) -> Response {
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    if let Ok(v) = format!("/v2/{}/blobs/{digest}", repo.as_str()).parse() {
        h.insert("location", v);
    }
    if let Ok(v) = digest.to_string().parse() {
        h.insert("docker-content-digest", v);
    }
    h.insert("content-length", 0.into());
    r
}

fn query_digest(q: &HashMap<String, String>) -> Result<Option<Digest>, OciError> {
    q.get("digest")
        .map(|d| {
            Digest::parse(d).map_err(|e| OciError::new(ErrorCode::DigestInvalid, e.to_string()))
        })
        .transpose()
}

/// Links a stored blob to the repository, unless that would take the namespace (the org) over
/// its storage quota. A refused blob stays unlinked, and `plaza admin gc` removes it.
async fn link(state: &AppState, repo: &RepoName, digest: &Digest) -> Result<(), OciError> {
    let quota_mib = state.config.registry_quota_mib_per_org;
    let namespace = repo.components().next().unwrap_or("");
    let store = state.services.store();
    if quota_mib > 0 {
        let linked = store.namespace_blobs(namespace).await?;
        let digest_text = digest.to_string();
        if !linked.contains(&digest_text) {
            let mut used = 0u64;
            for d in &linked {
                if let Ok(d) = Digest::parse(d) {
                    used += state.blobs.stat(&d).await?.unwrap_or(0);
                }
            }
            let size = state.blobs.stat(digest).await?.unwrap_or(0);
            let quota = quota_mib * 1024 * 1024;
            if used + size > quota {
                return Err(OciError::denied(format!(
                    "the `{namespace}` namespace would use {} of its {quota} bytes; delete unused artifacts (then `plaza admin gc`) or ask an operator to raise server.registry_quota_mib_per_org",
                    used + size
                )));
            }
        }
    }
    Ok(store.link_blob(repo.as_str(), &digest.to_string()).await?)
}

/// `POST /v2/<name>/blobs/uploads/`.
pub async fn start(
    state: &AppState,
    caller: &Caller,
    repo: &RepoName,
    query: &str,
    _headers: &HeaderMap,
    body: Body,
) -> Result<Response, OciError> {
    let q = query_map(query);
    if let (Some(mount), Some(from)) = (q.get("mount"), q.get("from")) {
        let digest = Digest::parse(mount)
            .map_err(|e| OciError::new(ErrorCode::DigestInvalid, e.to_string()))?;
        let from_ns = from.split('/').next().unwrap_or("");
        let org = state
            .services
            .store()
            .get_org(caller.principal.org_id())
            .await?;
        let linked = from_ns == org.slug
            && state
                .services
                .store()
                .blob_linked(from, &digest.to_string())
                .await?;
        if linked && state.blobs.stat(&digest).await?.is_some() {
            link(state, repo, &digest).await?;
            return Ok(blob_created(repo, &digest));
        }
        // The spec: when the mount cannot happen, start an ordinary upload instead.
    }
    if let Some(digest) = query_digest(&q)? {
        let mut r = reader(body);
        state.blobs.put_stream(&digest, &mut r).await?;
        link(state, repo, &digest).await?;
        return Ok(blob_created(repo, &digest));
    }
    let id = state.blobs.start_upload().await?;
    state
        .services
        .store()
        .open_upload(&id.to_string(), repo.as_str(), state.services.now())
        .await?;
    Ok(upload_answer(StatusCode::ACCEPTED, repo, &id, 0))
}

/// Checks the session was opened in `repo`: a session id is usable only through the
/// repository URL that opened it, so one namespace cannot write into another's upload.
async fn owned(state: &AppState, repo: &RepoName, id: &UploadId) -> Result<(), OciError> {
    let opened_in = state
        .services
        .store()
        .upload_repository(&id.to_string())
        .await?;
    if opened_in.as_deref() == Some(repo.as_str()) {
        Ok(())
    } else {
        Err(OciError::new(
            ErrorCode::BlobUploadUnknown,
            format!(
                "no upload {id} is open in `{}`; start one with POST /v2/{}/blobs/uploads/",
                repo.as_str(),
                repo.as_str()
            ),
        ))
    }
}

/// Forgets the session once the blob store has ended it.
async fn close(state: &AppState, id: &UploadId) -> Result<(), OciError> {
    state.services.store().close_upload(&id.to_string()).await?;
    Ok(())
}

/// `PATCH /v2/<name>/blobs/uploads/<id>`: one chunk, at the upload's current end.
pub async fn patch(
    state: &AppState,
    repo: &RepoName,
    id: &UploadId,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OciError> {
    owned(state, repo, id).await?;
    let current = state.blobs.upload_size(id).await?;
    let offset = chunk_start(headers)?.unwrap_or(current);
    let mut r = reader(body);
    let size = state.blobs.append_stream(id, offset, &mut r).await?;
    Ok(upload_answer(StatusCode::ACCEPTED, repo, id, size))
}

/// Where a chunk says it starts (`Content-Range: <start>-<end>`), if it says.
fn chunk_start(headers: &HeaderMap) -> Result<Option<u64>, OciError> {
    let Some(v) = headers.get("content-range").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    v.trim()
        .trim_start_matches("bytes ")
        .split_once('-')
        .and_then(|(a, _)| a.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            OciError::new(
                ErrorCode::BlobUploadInvalid,
                format!("Content-Range `{v}` is not `<start>-<end>`"),
            )
        })
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=`: the last chunk (may be empty), then commit. A
/// last chunk whose `Content-Range` does not start at the upload's end is refused with 416 and
/// the session stays open, as for `PATCH`.
pub async fn finish(
    state: &AppState,
    repo: &RepoName,
    id: &UploadId,
    query: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OciError> {
    let q = query_map(query);
    let digest = query_digest(&q)?.ok_or_else(|| {
        OciError::new(
            ErrorCode::DigestInvalid,
            "finish an upload with `?digest=<digest>`",
        )
    })?;
    owned(state, repo, id).await?;
    if let Some(start) = chunk_start(headers)? {
        let current = state.blobs.upload_size(id).await?;
        if start != current {
            return Err(plaza_registry::RegistryError::RangeMismatch {
                offset: start,
                current_size: current,
            }
            .into());
        }
    }
    let mut r = reader(body);
    let finished = state.blobs.finish_stream(id, &digest, &mut r).await;
    if !matches!(
        finished,
        Err(plaza_registry::RegistryError::UploadInterrupted { .. })
    ) {
        // The blob store ends the session once the content has been read, match or not.
        close(state, id).await?;
    }
    finished?;
    link(state, repo, &digest).await?;
    Ok(blob_created(repo, &digest))
}

/// `GET /v2/<name>/blobs/uploads/<id>`: how much has arrived.
pub async fn status(
    state: &AppState,
    repo: &RepoName,
    id: &UploadId,
) -> Result<Response, OciError> {
    owned(state, repo, id).await?;
    let size = state.blobs.upload_size(id).await?;
    Ok(upload_answer(StatusCode::NO_CONTENT, repo, id, size))
}

/// `DELETE /v2/<name>/blobs/uploads/<id>`.
pub async fn cancel(
    state: &AppState,
    repo: &RepoName,
    id: &UploadId,
) -> Result<Response, OciError> {
    owned(state, repo, id).await?;
    state.blobs.cancel(id).await?;
    close(state, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
