//! Blobs: HEAD and GET (with `Range`), DELETE. A repository serves only the blobs linked to it.

use super::error::OciError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use plaza_registry::{Digest, ErrorCode, RepoName};
use tokio_util::io::ReaderStream;

/// Parses `Range: bytes=a-b` / `bytes=a-` / `bytes=-n` against a blob of `size` bytes.
fn parse_range(value: &str, size: u64) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        return Some((size.saturating_sub(n), None));
    }
    let start = a.parse().ok()?;
    let end = if b.is_empty() {
        None
    } else {
        Some(b.parse().ok()?)
    };
    Some((start, end))
}

async fn linked(state: &AppState, repo: &RepoName, digest: &Digest) -> Result<(), OciError> {
    if state
        .services
        .store()
        .blob_linked(repo.as_str(), &digest.to_string())
        .await?
    {
        Ok(())
    } else {
        Err(OciError::new(
            ErrorCode::BlobUnknown,
            format!("blob {digest} is not in repository `{}`", repo.as_str()),
        ))
    }
}

/// HEAD or GET a blob.
pub async fn get(
    state: &AppState,
    repo: &RepoName,
    digest: &Digest,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, OciError> {
    linked(state, repo, digest).await?;
    let size = state.blobs.stat(digest).await?.ok_or_else(|| {
        OciError::new(
            ErrorCode::BlobUnknown,
            format!("blob {digest} is not stored"),
        )
    })?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
    let (reader, start, len, total) = state.blobs.open_read(digest, range).await?;
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(ReaderStream::new(reader))
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, len.into());
    if let Ok(v) = digest.to_string().parse() {
        h.insert("docker-content-digest", v);
    }
    if range.is_some() && len > 0 {
        if let Ok(v) = format!("bytes {start}-{}/{total}", start + len - 1).parse() {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    h.insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    Ok(resp)
}

/// DELETE a blob from a repository (the bytes stay until garbage collection).
pub async fn delete(
    state: &AppState,
    repo: &RepoName,
    digest: &Digest,
) -> Result<Response, OciError> {
    state
        .services
        .store()
        .unlink_blob(repo.as_str(), &digest.to_string())
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_parse_as_http_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, Some(9))));
        assert_eq!(parse_range("bytes=10-", 100), Some((10, None)));
        assert_eq!(parse_range("bytes=-5", 100), Some((95, None)));
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
