//! One request through one fresh instance: admission (body size, concurrency), the store and its
//! limits, running the guest as its own task, reading the response within the limits, and
//! turning whatever happened into an [`Invoked`].

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::EgressPolicy;
use crate::limits::{cpu_deadline, CpuMeter, MemoryLimiter};
use crate::outbound::EgressHooks;
use crate::stdio::Captured;
use crate::usage::Recorder;
use crate::{EgressGrant, InvocationFailure, InvocationUsage, Limits, PreparedApp, Runtime};

/// What to run a request with.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The installation (instance) id, for logs.
    pub instance_id: String,
    /// The guest's whole environment (e.g. `PLAZA_INSTANCE_ID`, `PLAZA_APP_ID`, `PLAZA_TOKEN`,
    /// `PLAZA_URL`); nothing of the host's environment is inherited.
    pub env: Vec<(String, String)>,
    /// Resource limits.
    pub limits: Limits,
    /// Outgoing access.
    pub egress: EgressGrant,
}

/// The outcome of an invocation: always a response, a usage report, and the failure if any.
#[derive(Debug)]
pub struct Invoked {
    /// The app's response, or a problem+json error response when `failure` is set.
    pub response: http::Response<Bytes>,
    /// What the invocation used.
    pub usage: InvocationUsage,
    /// Why it failed, when it did.
    pub failure: Option<InvocationFailure>,
}

/// The data of each store: WASI and wasi:http contexts, the egress hooks, the memory limiter.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    limiter: MemoryLimiter,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl Runtime {
    /// Runs `request` through a fresh instance of `app`. Never fails and never panics: problems
    /// become an error response plus [`Invoked::failure`], and are logged.
    pub async fn invoke(
        &self,
        app: &PreparedApp,
        invocation: Invocation,
        request: http::Request<Bytes>,
    ) -> Invoked {
        let started = Instant::now();
        let recorder = Arc::new(Recorder::new(&invocation.instance_id));
        let stdout = Captured::new(self.inner.config.max_stdio_bytes);
        let stderr = Captured::new(self.inner.config.max_stdio_bytes);
        let wall = invocation.limits.wall_timeout;
        let run = self.run(app, &invocation, request, &recorder, &stdout, &stderr);
        let outcome = match tokio::time::timeout(wall, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(InvocationFailure::WallTimeout { limit: wall }),
        };
        let instance = invocation.instance_id.as_str();
        stdout.log(instance, "stdout");
        stderr.log(instance, "stderr");
        let usage = recorder.report(started.elapsed());
        match outcome {
            Ok(response) => {
                tracing::debug!(instance, app = %app.digest(), status = response.status().as_u16(),
                    compute_us = usage.compute.as_micros() as u64, "invocation finished");
                Invoked {
                    response,
                    usage,
                    failure: None,
                }
            }
            Err(failure) => {
                tracing::warn!(instance, app = %app.digest(), kind = failure.slug(), detail = %failure.detail(),
                    compute_us = usage.compute.as_micros() as u64, "invocation failed");
                Invoked {
                    response: failure.problem_response(),
                    usage,
                    failure: Some(failure),
                }
            }
        }
    }

    async fn run(
        &self,
        app: &PreparedApp,
        invocation: &Invocation,
        request: http::Request<Bytes>,
        recorder: &Arc<Recorder>,
        stdout: &Captured,
        stderr: &Captured,
    ) -> Result<http::Response<Bytes>, InvocationFailure> {
        let limits = &invocation.limits;
        let size = request.body().len() as u64;
        if size > limits.max_request_bytes {
            return Err(InvocationFailure::RequestTooLarge {
                limit_bytes: limits.max_request_bytes,
                size,
            });
        }
        let busy = InvocationFailure::Busy {
            max_concurrent: limits.max_concurrent,
        };
        let permit = app
            .inner
            .gate
            .acquire(limits.max_concurrent, self.inner.config.busy_wait)
            .await
            .ok_or_else(|| busy.clone())?;

        let mut store = self.new_store(invocation, recorder, stdout, stderr);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = incoming_request(request);
        let (req, out) = {
            let mut http = store.data_mut().http();
            let req = http.new_incoming_request(Scheme::Http, request);
            let out = http.new_response_outparam(sender);
            match (req, out) {
                (Ok(req), Ok(out)) => (req, out),
                (Err(e), _) | (_, Err(e)) => {
                    return Err(InvocationFailure::Instantiate(format!("{e:#}")))
                }
            }
        };
        let pre = app.inner.pre.clone();
        let guest = CpuMeter::new(
            async move {
                // The permit lives as long as the instance.
                let _permit = permit;
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await
            },
            recorder.clone(),
        );
        let task = tokio::spawn(guest);
        // Stops the guest when this future is dropped (wall timeout) or returns early.
        let _stop = AbortOnDrop(task.abort_handle());

        let classify = |e: wasmtime::Error| self.classify(e, limits, recorder, stderr);
        let joined = |r: Result<wasmtime::Result<()>, tokio::task::JoinError>| match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(classify(e)),
            Err(e) => Err(InvocationFailure::Trap(format!(
                "the guest task failed: {e}"
            ))),
        };

        let head = match receiver.await {
            Ok(Ok(head)) => head,
            Ok(Err(code)) => {
                joined(task.await)?;
                return Err(InvocationFailure::NoResponse(format!(
                    "the app answered with error {code:?}"
                )));
            }
            Err(_) => {
                // The response-outparam was dropped unset: the guest returned or trapped.
                joined(task.await)?;
                return Err(InvocationFailure::NoResponse(
                    "the app returned without setting a response".into(),
                ));
            }
        };
        let response = match read_response(head, limits.max_response_bytes).await {
            Ok(response) => response,
            Err(ReadError::TooLarge) => {
                return Err(InvocationFailure::ResponseTooLarge {
                    limit_bytes: limits.max_response_bytes,
                })
            }
            Err(ReadError::Body(why)) => {
                // A broken body usually means the guest trapped while writing it.
                joined(task.await)?;
                return Err(InvocationFailure::NoResponse(format!(
                    "the response body failed: {why}"
                )));
            }
        };
        // The guest may still run after finishing the body (e.g. to emit usage); wait for it so
        // the usage report is complete and a late trap is reported.
        joined(task.await)?;
        Ok(response)
    }

    fn new_store(
        &self,
        invocation: &Invocation,
        recorder: &Arc<Recorder>,
        stdout: &Captured,
        stderr: &Captured,
    ) -> Store<HostState> {
        let limits = &invocation.limits;
        let wasi = WasiCtx::builder()
            .envs(&invocation.env)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let hooks = EgressHooks {
            policy: Arc::new(EgressPolicy::new(&invocation.egress)),
            internal: self.inner.internal.clone(),
            connector: self.inner.connector.clone(),
            recorder: recorder.clone(),
        };
        let memory = limits
            .memory_bytes
            .min(self.inner.config.pool.max_memory_bytes);
        let state = HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            limiter: MemoryLimiter::new(memory, recorder.clone()),
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        let meter = recorder.clone();
        let budget = limits.cpu_time;
        store.epoch_deadline_callback(move |_| Ok(cpu_deadline(&meter, budget)));
        store
    }

    /// Names what stopped the guest: our own limits first, then the trap code.
    fn classify(
        &self,
        error: wasmtime::Error,
        limits: &Limits,
        recorder: &Recorder,
        stderr: &Captured,
    ) -> InvocationFailure {
        use std::sync::atomic::Ordering;
        if recorder.cpu_limit_hit.load(Ordering::Relaxed) {
            return InvocationFailure::CpuLimit {
                limit: limits.cpu_time,
            };
        }
        if recorder.memory_limit_hit.load(Ordering::Relaxed) {
            return InvocationFailure::MemoryLimit {
                limit_bytes: limits.memory_bytes,
            };
        }
        if error
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return InvocationFailure::Busy {
                max_concurrent: limits.max_concurrent,
            };
        }
        let (err_text, _) = stderr.text();
        // Rust's panic hook writes `thread '…' panicked at file:line:col:` and the message on
        // the following lines; keep a few of them.
        let panic = err_text.find("panicked at").map(|at| {
            let text: Vec<&str> = err_text[at..]
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("note:"))
                .take(4)
                .collect();
            let mut message = text.join(" ");
            if message.len() > 500 {
                let mut cut = 500;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
            }
            message
        });
        match error.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => InvocationFailure::Trap("stack overflow".into()),
            Some(trap) => match panic {
                Some(message) => InvocationFailure::Trap(format!("guest panic: {message}")),
                None => InvocationFailure::Trap(trap.to_string()),
            },
            None => match panic {
                Some(message) => InvocationFailure::Trap(format!("guest panic: {message}")),
                None => InvocationFailure::Trap(format!("{error:#}")),
            },
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The request as wasi:http wants it: a body type it accepts and an authority (from the URI or
/// the `Host` header; `localhost` when the caller gave neither).
fn incoming_request(request: http::Request<Bytes>) -> hyper::Request<Full<Bytes>> {
    let (mut parts, body) = request.into_parts();
    if parts.uri.authority().is_none() && !parts.headers.contains_key(http::header::HOST) {
        parts.headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("localhost"),
        );
    }
    hyper::Request::from_parts(parts, Full::new(body))
}

enum ReadError {
    TooLarge,
    Body(String),
}

/// Reads the guest's response body, stopping as soon as it passes `limit` bytes.
async fn read_response(
    head: hyper::Response<HyperOutgoingBody>,
    limit: u64,
) -> Result<http::Response<Bytes>, ReadError> {
    let (parts, mut body) = head.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Body(format!("{e:?}")))?;
        if let Ok(data) = frame.into_data() {
            if collected.len() as u64 + data.len() as u64 > limit {
                return Err(ReadError::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(http::Response::from_parts(parts, Bytes::from(collected)))
}
