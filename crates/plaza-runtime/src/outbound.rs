//! Sending an outgoing request the guest made: the `wasi:http` hook that checks it against the
//! [`crate::egress`] policy, resolves and checks the address, connects to exactly that address
//! (TLS for `https`, webpki roots), and counts body bytes against the invocation's quota.
//! Redirects are returned to the guest as they are; each hop it follows is a new checked request.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::egress::{forbidden_address, EgressPolicy, Target};
use crate::usage::{DenialReason, Recorder};

/// The connection settings shared by all invocations (TLS roots, timeouts).
#[derive(Clone)]
pub(crate) struct Connector {
    tls: Option<tokio_rustls::TlsConnector>,
    connect_timeout: Duration,
    first_byte_timeout: Duration,
}

impl Connector {
    pub(crate) fn new(connect_timeout: Duration, first_byte_timeout: Duration) -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = match rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(builder) => Some(tokio_rustls::TlsConnector::from(Arc::new(
                builder.with_root_certificates(roots).with_no_client_auth(),
            ))),
            Err(e) => {
                tracing::error!(error = %e, "TLS is not available; https egress will fail");
                None
            }
        };
        Connector {
            tls,
            connect_timeout,
            first_byte_timeout,
        }
    }
}

/// The `wasi:http` hooks of one invocation.
pub(crate) struct EgressHooks {
    pub(crate) policy: Arc<EgressPolicy>,
    pub(crate) internal: Arc<HashMap<String, SocketAddr>>,
    pub(crate) connector: Connector,
    pub(crate) recorder: Arc<Recorder>,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        let policy = self.policy.clone();
        let internal = self.internal.clone();
        let connector = self.connector.clone();
        let recorder = self.recorder.clone();
        Box::new(async move { send(policy, internal, connector, recorder, request, options).await })
    }
}

async fn send(
    policy: Arc<EgressPolicy>,
    internal: Arc<HashMap<String, SocketAddr>>,
    connector: Connector,
    recorder: Arc<Recorder>,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
> {
    let uri = request.uri().clone();
    let written = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => {
            let why = format!("unsupported scheme {other:?}");
            recorder.deny(&written, DenialReason::BadRequest(why));
            return Err(HttpError::HttpProtocolError);
        }
    };
    let target = match policy.authorize(https, &written, &internal) {
        Ok(target) => target,
        Err(reason) => {
            recorder.deny(&written, reason);
            return Err(HttpError::HttpRequestDenied);
        }
    };
    // Quotas, before any connection is made.
    {
        let mut tally = recorder.egress();
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if tally.connections >= policy.max_connections {
            drop(tally);
            let limit = policy.max_connections;
            recorder.deny(&target.authority, DenialReason::ConnectionQuota { limit });
            return Err(HttpError::ConnectionLimitReached);
        }
        if tally.bytes.saturating_add(declared) > policy.max_bytes {
            drop(tally);
            let limit = policy.max_bytes;
            recorder.deny(&target.authority, DenialReason::ByteQuota { limit });
            return Err(HttpError::HttpRequestDenied);
        }
        tally.connections += 1;
    }
    let address = resolve(&policy, &target, &recorder).await?;
    let timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(connector.connect_timeout);
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(HttpError::Connect(e)),
        Err(_) => return Err(HttpError::ConnectionTimeout),
    };
    {
        let mut tally = recorder.egress();
        if !tally.hosts.contains(&target.authority) {
            tally.hosts.push(target.authority.clone());
        }
    }
    tracing::debug!(instance = %recorder.instance_id, authority = %target.authority, %address, "egress connected");

    // Origin-form request line; the Host header was set by wasi:http.
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let request = request.map(|body| {
        QuotaBody::new(
            body,
            recorder.clone(),
            policy.max_bytes,
            target.authority.clone(),
            false,
        )
    });

    let first_byte = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(connector.first_byte_timeout);
    let (response, io) = if https {
        let tls = connector.tls.clone().ok_or(HttpError::TlsProtocolError)?;
        let name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;
        let stream = match tokio::time::timeout(timeout, tls.connect(name, tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(HttpError::Tls(e)),
            Err(_) => return Err(HttpError::ConnectionTimeout),
        };
        exchange(TokioIo::new(stream), request, first_byte).await?
    } else {
        exchange(TokioIo::new(tcp), request, first_byte).await?
    };

    // A declared response length beyond the quota is refused before the guest reads it.
    let tally_bytes = recorder.egress().bytes;
    if let Some(len) = response.body().size_hint().exact() {
        if tally_bytes.saturating_add(len) > policy.max_bytes {
            recorder.deny(
                &target.authority,
                DenialReason::ByteQuota {
                    limit: policy.max_bytes,
                },
            );
            return Err(HttpError::HttpResponseBodySize(Some(len)));
        }
    }
    let response = response.map(|body| {
        QuotaBody::new(
            body.map_err(HttpError::from),
            recorder.clone(),
            policy.max_bytes,
            target.authority.clone(),
            true,
        )
        .boxed_unsync()
    });
    Ok((response, io))
}

/// Resolves the target (unless it is an internal host or an IP literal) and checks every
/// address; returns the one to connect to.
async fn resolve(
    policy: &EgressPolicy,
    target: &Target,
    recorder: &Recorder,
) -> Result<SocketAddr, HttpError> {
    if let Some(fixed) = target.internal {
        return Ok(fixed);
    }
    let addresses: Vec<SocketAddr> = match target.host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => match tokio::net::lookup_host((target.host.as_str(), target.port)).await {
            Ok(found) => found.collect(),
            Err(e) => {
                tracing::debug!(host = %target.host, error = %e, "egress name lookup failed");
                return Err(HttpError::DnsError {
                    rcode: Some("name lookup failed".into()),
                    info_code: None,
                });
            }
        },
    };
    let Some(first) = addresses.first().copied() else {
        return Err(HttpError::DestinationNotFound);
    };
    if !policy.allow_private {
        // Every address must be public: a name that also resolves to a private address is
        // refused outright rather than raced.
        if let Some(bad) = addresses
            .iter()
            .find(|a| forbidden_address(a.ip()).is_some())
        {
            recorder.deny(&target.authority, DenialReason::PrivateAddress(bad.ip()));
            return Err(HttpError::DestinationIpProhibited);
        }
    }
    Ok(first)
}

/// HTTP/1.1 over `io`: sends the request while driving the connection; returns the response and
/// the future that finishes the connection (wasi:http drives it while the body is read).
async fn exchange<I>(
    io: I,
    request: http::Request<QuotaBody<WasiBody>>,
    first_byte: Duration,
) -> Result<
    (
        http::Response<hyper::body::Incoming>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>
where
    I: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    let mut connection = Box::pin(connection);
    let mut connection_done = false;
    let response = {
        let sending = tokio::time::timeout(first_byte, sender.send_request(request));
        tokio::pin!(sending);
        loop {
            tokio::select! {
                answer = &mut sending => break answer,
                ended = &mut connection, if !connection_done => {
                    connection_done = true;
                    ended?;
                }
            }
        }
    };
    let response = match response {
        Ok(answer) => answer?,
        Err(_) => return Err(HttpError::ConnectionReadTimeout),
    };
    let finish: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
        if !connection_done {
            connection.await?;
        }
        Ok(())
    });
    Ok((response, finish))
}

/// A body that adds its data to the invocation's egress bytes and fails once they pass the
/// quota (recording one denial).
pub(crate) struct QuotaBody<B> {
    inner: B,
    recorder: Arc<Recorder>,
    limit: u64,
    authority: String,
    response: bool,
    denied: bool,
}

impl<B> QuotaBody<B> {
    fn new(
        inner: B,
        recorder: Arc<Recorder>,
        limit: u64,
        authority: String,
        response: bool,
    ) -> Self {
        QuotaBody {
            inner,
            recorder,
            limit,
            authority,
            response,
            denied: false,
        }
    }
}

impl<B> Body for QuotaBody<B>
where
    B: Body<Data = Bytes, Error = HttpError> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        if self.denied {
            return Poll::Ready(Some(Err(self.quota_error())));
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            let total = {
                let mut tally = self.recorder.egress();
                tally.bytes = tally.bytes.saturating_add(data.len() as u64);
                tally.bytes
            };
            if total > self.limit {
                self.denied = true;
                let reason = DenialReason::ByteQuota { limit: self.limit };
                self.recorder.deny(&self.authority, reason);
                return Poll::Ready(Some(Err(self.quota_error())));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> QuotaBody<B> {
    fn quota_error(&self) -> HttpError {
        if self.response {
            HttpError::HttpResponseBodySize(Some(self.limit))
        } else {
            HttpError::HttpRequestBodySize(Some(self.limit))
        }
    }
}
