//! A small OCI Distribution client for `plaza push` and `plaza pull`: blobs are streamed from
//! and to files (never held whole), with a progress bar on a terminal; everything pulled is
//! verified against its digest before it is kept. It speaks the spec's plain flow (HEAD to skip
//! what is there, POST then PUT `?digest=` for uploads, manifests by tag or digest), so it works
//! against any registry that accepts HTTP Basic with a Plaza token as the password.

use anyhow::{bail, Context};
use base64::Engine as _;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use plaza_registry::manifest::media_type;
use plaza_registry::{Digest, Hasher};
use reqwest::{header, Method, StatusCode};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Blobs at least this large get a progress bar (on a terminal).
const PROGRESS_THRESHOLD: u64 = 1024 * 1024;

/// Every manifest type a pull accepts.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// A manifest as fetched: its media type, bytes and (verified) digest.
pub struct FetchedManifest {
    /// `Content-Type` the registry gave.
    pub media_type: String,
    /// The bytes, exactly as served.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: Digest,
}

/// A client for one registry, authenticated with one Plaza token.
pub struct RegistryClient {
    http: reqwest::Client,
    base: String,
    authorization: String,
}

impl RegistryClient {
    /// A client for the registry at `server` (the Plaza server URL), sending `token`.
    pub fn new(server: &str, token: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("plaza:{token}"));
        Self {
            http: reqwest::Client::new(),
            base: server.trim_end_matches('/').to_owned(),
            authorization: format!("Basic {basic}"),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header(header::AUTHORIZATION, &self.authorization)
    }

    /// Whether `repo` holds the blob.
    pub async fn blob_exists(&self, repo: &str, digest: &Digest) -> anyhow::Result<bool> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self.send(self.request(Method::HEAD, &path), &path).await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => bail!("{path}: the registry answered {s}"),
        }
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<reqwest::Response> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the registry at {} ({what})", self.base))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            bail!("the registry refused the token (401) for {what}: run `plaza login` again or pass --token");
        }
        Ok(resp)
    }

    /// Reads the registry's error body into one readable line.
    async fn failure(resp: reqwest::Response, what: &str) -> anyhow::Error {
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let detail = body
            .pointer("/errors/0")
            .map(|e| {
                format!(
                    "{}: {}",
                    e.get("code").and_then(|c| c.as_str()).unwrap_or("ERROR"),
                    e.get("message").and_then(|c| c.as_str()).unwrap_or("")
                )
            })
            .unwrap_or_else(|| "no detail".into());
        anyhow::anyhow!("{what}: the registry answered {status}: {detail}")
    }

    async fn start_upload(&self, repo: &str) -> anyhow::Result<String> {
        let path = format!("/v2/{repo}/blobs/uploads/");
        let resp = self.send(self.request(Method::POST, &path), &path).await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(Self::failure(resp, &format!("starting an upload to {repo}")).await);
        }
        resp.headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .context("the registry started an upload without a Location header")
    }

    fn with_digest(location: &str, digest: &Digest) -> String {
        let sep = if location.contains('?') { '&' } else { '?' };
        format!("{location}{sep}digest={digest}")
    }

    /// Uploads bytes already in memory as the blob `digest` (skipped when already there).
    pub async fn push_bytes(
        &self,
        repo: &str,
        digest: &Digest,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        if self.blob_exists(repo, digest).await? {
            return Ok(());
        }
        let location = self.start_upload(repo).await?;
        let target = Self::with_digest(&location, digest);
        let resp = self
            .send(
                self.request(Method::PUT, &target)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec()),
                &target,
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Self::failure(resp, &format!("uploading {digest}")).await);
        }
        Ok(())
    }

    /// Streams the file at `path` as the blob `digest` (skipped when already there), with a
    /// progress bar for large blobs. Returns whether it was uploaded.
    pub async fn push_file(
        &self,
        repo: &str,
        digest: &Digest,
        path: &Path,
        label: &str,
    ) -> anyhow::Result<bool> {
        if self.blob_exists(repo, digest).await? {
            return Ok(false);
        }
        let file = tokio::fs::File::open(path)
            .await
            .with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().await?.len();
        let bar = progress(size, label);
        let counted = bar.clone();
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).inspect(move |chunk| {
                if let Ok(c) = chunk {
                    counted.inc(c.len() as u64);
                }
            });
        let location = self.start_upload(repo).await?;
        let target = Self::with_digest(&location, digest);
        let resp = self
            .send(
                self.request(Method::PUT, &target)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .header(header::CONTENT_LENGTH, size)
                    .body(reqwest::Body::wrap_stream(stream)),
                &target,
            )
            .await?;
        bar.finish_and_clear();
        if resp.status() != StatusCode::CREATED {
            return Err(Self::failure(resp, &format!("uploading {digest}")).await);
        }
        Ok(true)
    }

    /// Puts a manifest under `reference` (a tag or a digest); returns the digest the registry
    /// reports (checked against the bytes).
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Digest> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let resp = self
            .send(
                self.request(Method::PUT, &path)
                    .header(header::CONTENT_TYPE, media_type)
                    .body(bytes.to_vec()),
                &path,
            )
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Self::failure(resp, &format!("putting {repo}:{reference}")).await);
        }
        let digest = Digest::sha256_of(bytes);
        if let Some(reported) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            if reported != digest.to_string() {
                bail!("the registry stored {repo}:{reference} as {reported}, but its bytes hash to {digest}");
            }
        }
        Ok(digest)
    }

    /// A blob's bytes (small blobs only: signatures, payloads), checked against its digest.
    pub async fn get_blob(&self, repo: &str, digest: &Digest) -> anyhow::Result<Vec<u8>> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self.send(self.request(Method::GET, &path), &path).await?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp, &format!("fetching blob {digest}")).await);
        }
        let bytes = resp.bytes().await?.to_vec();
        if Digest::of(digest.algorithm(), &bytes) != *digest {
            anyhow::bail!("blob {digest} from the registry does not match its digest");
        }
        Ok(bytes)
    }

    /// Fetches a manifest by tag or digest. Fetched by digest, the bytes must hash to it; by
    /// tag, they must hash to the `Docker-Content-Digest` the registry reports, if any.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> anyhow::Result<Option<FetchedManifest>> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let resp = self
            .send(
                self.request(Method::GET, &path)
                    .header(header::ACCEPT, ACCEPT),
                &path,
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(Self::failure(resp, &format!("fetching {repo}:{reference}")).await);
        }
        let media_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(media_type::OCI_MANIFEST)
            .to_owned();
        let reported = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await?.to_vec();
        let expected = match Digest::parse(reference) {
            Ok(d) => Some(d),
            Err(_) => reported.as_deref().and_then(|r| Digest::parse(r).ok()),
        };
        let digest = match expected {
            Some(d) if d.verifies(&bytes) => d,
            Some(d) => bail!(
                "{repo}@{d}: the manifest the registry sent hashes to {}, not {d}; refusing it",
                Digest::of(d.algorithm(), &bytes)
            ),
            None => Digest::sha256_of(&bytes),
        };
        Ok(Some(FetchedManifest {
            media_type,
            bytes,
            digest,
        }))
    }

    /// Streams the blob `digest` into `dest` (written aside and renamed only once it hashes to
    /// `digest` and has `size` bytes), with a progress bar for large blobs.
    pub async fn pull_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        dest: &Path,
        label: &str,
    ) -> anyhow::Result<()> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let resp = self.send(self.request(Method::GET, &path), &path).await?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp, &format!("fetching blob {digest}")).await);
        }
        let partial = dest.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial)
            .await
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let bar = progress(size, label);
        let mut hasher = Hasher::new(digest.algorithm());
        let mut body = resp.bytes_stream();
        let result: anyhow::Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.with_context(|| format!("the download of {digest} broke off"))?;
                hasher.update(&chunk);
                file.write_all(&chunk).await?;
                bar.inc(chunk.len() as u64);
            }
            file.sync_all().await?;
            Ok(())
        }
        .await;
        bar.finish_and_clear();
        let check = result.and_then(|()| {
            let got = hasher.len();
            let actual = hasher.finish();
            if actual != *digest {
                bail!(
                    "blob {digest}: the registry sent bytes that hash to {actual}; refusing them"
                );
            }
            if got != size {
                bail!("blob {digest}: the registry sent {got} bytes, the manifest says {size}");
            }
            Ok(())
        });
        if let Err(e) = check {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, dest).await?;
        Ok(())
    }

    /// The referrers index of `digest` in `repo`.
    pub async fn referrers(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> anyhow::Result<serde_json::Value> {
        let path = format!("/v2/{repo}/referrers/{digest}");
        let resp = self.send(self.request(Method::GET, &path), &path).await?;
        if !resp.status().is_success() {
            return Err(Self::failure(resp, &format!("listing referrers of {digest}")).await);
        }
        Ok(resp.json().await?)
    }
}

/// A progress bar for `size` bytes, hidden for small blobs and when stderr is not a terminal.
fn progress(size: u64, label: &str) -> ProgressBar {
    if size < PROGRESS_THRESHOLD {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar
}
