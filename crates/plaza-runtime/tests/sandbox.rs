//! Sandbox tests: the committed example and test guests (`examples/apps/**.wasm`) run under the
//! runtime's limits, and each isolation promise is checked by a guest that tries to break it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plaza_runtime::{
    digest_of, CodeSource, DenialReason, EgressGrant, InternalHost, Invocation, InvocationFailure,
    Invoked, Limits, PoolConfig, PreparedApp, Runtime, RuntimeConfig, RuntimeError,
};

// ---------------------------------------------------------------------------------------------
// Fixtures

fn wasm(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/apps")
        .join(relative);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-example-apps)", path.display()))
}

const HELLO: &str = "hello/hello.wasm";
const LOOP: &str = "testing/infinite-loop/infinite-loop.wasm";
const BOMB: &str = "testing/memory-bomb/memory-bomb.wasm";
const DEEP: &str = "testing/deep-recursion/deep-recursion.wasm";
const EGRESS: &str = "testing/egress/egress.wasm";
const FILE_READ: &str = "testing/file-read/file-read.wasm";
const PANIC: &str = "testing/panic/panic.wasm";
const STATE: &str = "testing/state/state.wasm";
const ENV: &str = "testing/env/env.wasm";
const WHERE2EAT: &str = "where2eat/where2eat.wasm";

/// One runtime shared by the tests (one pool, one epoch thread), with `plaza.internal:80`
/// mapped to a small HTTP server on 127.0.0.1 run on its own thread.
struct World {
    runtime: Runtime,
    server: SocketAddr,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let server = start_test_server();
        let runtime = Runtime::new(RuntimeConfig {
            internal_hosts: vec![InternalHost {
                authority: "plaza.internal:80".into(),
                address: server,
            }],
            pool: PoolConfig {
                total_instances: 1100,
                ..PoolConfig::default()
            },
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        World { runtime, server }
    })
}

fn prepare(relative: &str) -> PreparedApp {
    let bytes = wasm(relative);
    world()
        .runtime
        .prepare(&digest_of(&bytes), &bytes)
        .unwrap_or_else(|e| panic!("prepare {relative}: {e}"))
}

fn limits() -> Limits {
    Limits {
        memory_bytes: 64 * 1024 * 1024,
        cpu_time: Duration::from_secs(2),
        wall_timeout: Duration::from_secs(20),
        max_request_bytes: 64 * 1024,
        max_response_bytes: 1024 * 1024,
        max_concurrent: 2000,
    }
}

fn invocation() -> Invocation {
    Invocation {
        instance_id: "inst-test".into(),
        env: vec![],
        limits: limits(),
        egress: EgressGrant::default(),
    }
}

fn get(uri: &str) -> http::Request<Bytes> {
    http::Request::get(uri).body(Bytes::new()).unwrap()
}

async fn call(app: &PreparedApp, inv: Invocation, uri: &str) -> Invoked {
    world().runtime.invoke(app, inv, get(uri)).await
}

fn body(invoked: &Invoked) -> String {
    String::from_utf8_lossy(invoked.response.body()).into_owned()
}

fn json(invoked: &Invoked) -> serde_json::Value {
    serde_json::from_slice(invoked.response.body())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", body(invoked)))
}

/// Asserts the response is problem+json with this status and returns its detail.
fn problem(invoked: &Invoked, status: u16) -> String {
    assert_eq!(
        invoked.response.status().as_u16(),
        status,
        "{}",
        body(invoked)
    );
    assert_eq!(
        invoked.response.headers()[http::header::CONTENT_TYPE],
        "application/problem+json"
    );
    let p = json(invoked);
    assert_eq!(p["status"], status);
    assert!(p["type"]
        .as_str()
        .unwrap()
        .starts_with("https://plaza.dev/problems/"));
    assert!(p["title"].is_string());
    p["detail"].as_str().unwrap().to_owned()
}

fn egress_grant(hosts: &[&str]) -> EgressGrant {
    EgressGrant {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..EgressGrant::default()
    }
}

fn egress_url(url: &str) -> String {
    format!(
        "/?url={}",
        url.replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
    )
}

/// Usage events the test server received (request bodies of `POST /api/usage/events`).
static USAGE_EVENTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A tiny HTTP/1.1 server standing in for Plaza and the outside world: `/ping` → `pong`,
/// `/big` → 64 KiB, `/slow` → answers after 5 s, and the three Plaza routes where2eat uses
/// (token exchange, mock calendar, usage events).
fn start_test_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(serve);
                    let io = wasmtime_wasi_http::io::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
    });
    addr
}

async fn serve(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let (parts, incoming) = req.into_parts();
    let body = incoming
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let auth = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (status, answer) = match (parts.method.as_str(), parts.uri.path()) {
        (_, "/ping") => (200, Bytes::from_static(b"pong")),
        (_, "/big") => (200, Bytes::from(vec![b'b'; 64 * 1024])),
        (_, "/slow") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (200, Bytes::from_static(b"late"))
        }
        ("POST", "/api/token/exchange") => {
            let expected = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
                &subject_token=secret\
                &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
                &scope=calendar.read";
            if content_type == "application/x-www-form-urlencoded" && text == expected {
                let token = serde_json::json!({
                    "access_token": "downstream-token",
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "calendar.read",
                });
                (200, Bytes::from(token.to_string()))
            } else {
                (
                    401,
                    Bytes::from(r#"{"detail":"subject token not accepted"}"#),
                )
            }
        }
        ("GET", "/api/mock/calendar/events") => {
            if auth != "Bearer downstream-token" {
                (403, Bytes::from_static(b"{}"))
            } else {
                let day = parts
                    .uri
                    .query()
                    .unwrap_or("")
                    .trim_start_matches("date=")
                    .to_owned();
                let events = serde_json::json!({ "events": [
                    { "start": format!("{day}T11:00:00Z"), "end": format!("{day}T12:00:00Z"), "title": "Standup" },
                    { "start": format!("{day}T13:30:00Z"), "end": format!("{day}T14:30:00Z"), "title": "Review" },
                ]});
                (200, Bytes::from(events.to_string()))
            }
        }
        ("POST", "/api/usage/events") if auth == "Bearer secret" => {
            USAGE_EVENTS.lock().unwrap().push(text);
            (202, Bytes::new())
        }
        _ => (404, Bytes::from_static(b"?")),
    };
    let mut response = hyper::Response::new(http_body_util::Full::new(answer));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Plain behaviour

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_answers() {
    let app = prepare(HELLO);
    let invoked = call(&app, invocation(), "/").await;
    assert_eq!(invoked.failure, None);
    assert_eq!(invoked.response.status(), 200);
    assert_eq!(body(&invoked), "Hello from Plaza!\n");
    assert!(invoked.response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(invoked.usage.compute > Duration::ZERO);
    assert!(invoked.usage.wall >= invoked.usage.compute / 2);
    assert!(invoked.usage.peak_memory_bytes > 0);
    assert_eq!(invoked.usage.egress_bytes, 0);

    let health = call(&app, invocation(), "http://app.example/healthz").await;
    assert_eq!(
        (health.response.status().as_u16(), body(&health).as_str()),
        (200, "ok")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_gets_a_fresh_instance() {
    let app = prepare(STATE);
    for _ in 0..5 {
        let invoked = call(&app, invocation(), "/").await;
        assert_eq!(body(&invoked), "1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_across_two_tenants_share_nothing() {
    // Two tenants: two prepared apps of the same component, each with its own gate.
    let tenants = [prepare(STATE), prepare(STATE)];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let app = tenants[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let inv = Invocation {
                instance_id: format!("tenant-{}", i % 2),
                ..invocation()
            };
            world().runtime.invoke(&app, inv, get("/")).await
        }));
    }
    for task in tasks {
        let invoked = task.await.unwrap();
        assert_eq!(invoked.failure, None, "{}", body(&invoked));
        assert_eq!(body(&invoked), "1");
    }
    eprintln!("1000 concurrent invocations took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_the_cpu_limit() {
    let app = prepare(LOOP);
    let mut inv = invocation();
    inv.limits.cpu_time = Duration::from_millis(300);
    let started = Instant::now();
    let invoked = call(&app, inv, "/").await;
    let elapsed = started.elapsed();
    assert_eq!(
        invoked.failure,
        Some(InvocationFailure::CpuLimit {
            limit: Duration::from_millis(300)
        })
    );
    let detail = problem(&invoked, 500);
    assert!(detail.contains("CPU time limit of 300 ms"), "{detail}");
    assert!(
        invoked.usage.compute >= Duration::from_millis(300),
        "{:?}",
        invoked.usage
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "stopped only after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_traps_at_the_cap() {
    let app = prepare(BOMB);
    let mut inv = invocation();
    let cap = 16 * 1024 * 1024;
    inv.limits.memory_bytes = cap;
    let invoked = call(&app, inv, "/").await;
    assert_eq!(
        invoked.failure,
        Some(InvocationFailure::MemoryLimit { limit_bytes: cap })
    );
    let detail = problem(&invoked, 500);
    assert!(
        detail.contains("memory limit of 16777216 bytes"),
        "{detail}"
    );
    assert!(
        invoked.usage.peak_memory_bytes <= cap,
        "{:?}",
        invoked.usage
    );
    assert!(
        invoked.usage.peak_memory_bytes > cap / 2,
        "{:?}",
        invoked.usage
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_traps() {
    let app = prepare(DEEP);
    let invoked = call(&app, invocation(), "/").await;
    match &invoked.failure {
        Some(InvocationFailure::Trap(why)) => assert!(why.contains("stack overflow"), "{why}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(problem(&invoked, 500).contains("stack overflow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_panic_fails_only_its_own_request() {
    let panicking = prepare(PANIC);
    let hello = prepare(HELLO);
    let (bad, good) = tokio::join!(
        call(&panicking, invocation(), "/boom"),
        call(&hello, invocation(), "/")
    );
    match &bad.failure {
        Some(InvocationFailure::Trap(why)) => assert!(why.contains("panic"), "{why}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    let detail = problem(&bad, 500);
    assert!(detail.contains("panicked on purpose at /boom"), "{detail}");
    assert_eq!(good.failure, None);
    assert_eq!(good.response.status(), 200);
    // And the runtime keeps serving.
    assert_eq!(call(&hello, invocation(), "/").await.response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_answers_busy() {
    let app = prepare(LOOP);
    let mut spinning = invocation();
    spinning.limits.cpu_time = Duration::from_millis(1500);
    spinning.limits.max_concurrent = 1;
    let first = {
        let app = app.clone();
        tokio::spawn(async move { world().runtime.invoke(&app, spinning, get("/")).await })
    };
    while app.in_flight() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut second = invocation();
    second.limits.max_concurrent = 1;
    let started = Instant::now();
    let busy = call(&app, second, "/").await;
    assert_eq!(
        busy.failure,
        Some(InvocationFailure::Busy { max_concurrent: 1 })
    );
    problem(&busy, 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "Busy took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        first.await.unwrap().failure,
        Some(InvocationFailure::CpuLimit { .. })
    ));
    assert_eq!(app.in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_response_sizes_are_limited() {
    let app = prepare(HELLO);
    let mut inv = invocation();
    inv.limits.max_request_bytes = 10;
    let request = http::Request::post("/")
        .body(Bytes::from_static(b"01234567890"))
        .unwrap();
    let invoked = world().runtime.invoke(&app, inv, request).await;
    assert_eq!(
        invoked.failure,
        Some(InvocationFailure::RequestTooLarge {
            limit_bytes: 10,
            size: 11
        })
    );
    problem(&invoked, 413);
    assert_eq!(
        invoked.usage.compute,
        Duration::ZERO,
        "the app must not have been started"
    );

    let mut inv = invocation();
    inv.limits.max_response_bytes = 5;
    let invoked = call(&app, inv, "/").await;
    assert_eq!(
        invoked.failure,
        Some(InvocationFailure::ResponseTooLarge { limit_bytes: 5 })
    );
    problem(&invoked, 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_timeout_stops_a_waiting_guest() {
    let app = prepare(EGRESS);
    let mut inv = invocation();
    inv.egress = egress_grant(&["plaza.internal:80"]);
    inv.limits.wall_timeout = Duration::from_millis(400);
    let started = Instant::now();
    let invoked = call(&app, inv, &egress_url("http://plaza.internal/slow")).await;
    assert_eq!(
        invoked.failure,
        Some(InvocationFailure::WallTimeout {
            limit: Duration::from_millis(400)
        })
    );
    assert!(problem(&invoked, 504).contains("400 ms"));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Waiting for the slow server is not compute.
    assert!(
        invoked.usage.compute < Duration::from_millis(300),
        "{:?}",
        invoked.usage
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_busy_too() {
    // One instance for the whole host: a second app cannot start while the first one spins.
    let runtime = Runtime::new(RuntimeConfig {
        pool: PoolConfig {
            total_instances: 1,
            ..PoolConfig::default()
        },
        ..RuntimeConfig::default()
    })
    .unwrap();
    let spin = wasm(LOOP);
    let spin = runtime.prepare(&digest_of(&spin), &spin).unwrap();
    let hello = wasm(HELLO);
    let hello = runtime.prepare(&digest_of(&hello), &hello).unwrap();
    let mut spinning = invocation();
    spinning.limits.cpu_time = Duration::from_millis(800);
    let first = {
        let (runtime, spin) = (runtime.clone(), spin.clone());
        tokio::spawn(async move { runtime.invoke(&spin, spinning, get("/")).await })
    };
    // Wait until the spinning guest is admitted, then give it time to take the pool's slot.
    while spin.in_flight() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let busy = runtime.invoke(&hello, invocation(), get("/")).await;
    assert!(
        matches!(busy.failure, Some(InvocationFailure::Busy { .. })),
        "{:?}",
        busy.failure
    );
    problem(&busy, 503);
    assert!(matches!(
        first.await.unwrap().failure,
        Some(InvocationFailure::CpuLimit { .. })
    ));
    // The slot is back.
    let again = runtime.invoke(&hello, invocation(), get("/")).await;
    assert_eq!(again.failure, None);
}

// ---------------------------------------------------------------------------------------------
// No ambient authority

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_out_of_reach() {
    let app = prepare(FILE_READ);
    let invoked = call(&app, invocation(), "/").await;
    let text = body(&invoked);
    assert_eq!(invoked.response.status(), 200, "{text}");
    assert!(text.lines().all(|l| l.starts_with("refused")), "{text}");
    assert!(!text.contains("root:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_is_only_what_was_given() {
    let app = prepare(ENV);
    let mut inv = invocation();
    inv.env = vec![
        ("PLAZA_INSTANCE_ID".into(), "inst-1".into()),
        ("PLAZA_APP_ID".into(), "com.example.env".into()),
        ("PLAZA_TOKEN".into(), "secret".into()),
        ("PLAZA_URL".into(), "http://plaza.internal".into()),
    ];
    let invoked = call(&app, inv.clone(), "/").await;
    let answer = json(&invoked);
    let env: BTreeMap<String, String> = serde_json::from_value(answer["env"].clone()).unwrap();
    let expected: BTreeMap<String, String> = inv.env.into_iter().collect();
    assert_eq!(env, expected);
    assert_eq!(answer["args"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// Egress

fn denials(invoked: &Invoked) -> Vec<DenialReason> {
    invoked
        .usage
        .egress_denials
        .iter()
        .map(|d| d.reason.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_to_a_host_not_granted_is_denied() {
    let app = prepare(EGRESS);
    let mut inv = invocation();
    inv.egress = egress_grant(&["api.example.com"]);
    let invoked = call(&app, inv, &egress_url("https://evil.example.net/steal")).await;
    assert_eq!(invoked.failure, None);
    let answer = json(&invoked);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("HttpRequestDenied"),
        "{answer}"
    );
    assert_eq!(denials(&invoked), vec![DenialReason::NotGranted]);
    assert_eq!(
        invoked.usage.egress_denials[0].authority,
        "evil.example.net"
    );
    assert!(invoked.usage.egress_hosts_used.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_to_private_addresses_is_denied_even_when_granted() {
    let app = prepare(EGRESS);
    for (url, ip) in [
        ("http://127.0.0.1/", "127.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("http://localhost/", ""),
        ("http://10.0.0.12:5432/", "10.0.0.12"),
    ] {
        let mut inv = invocation();
        inv.egress = egress_grant(&[
            "127.0.0.1:80",
            "169.254.169.254:80",
            "localhost:80",
            "10.0.0.12:5432",
        ]);
        let invoked = call(&app, inv, &egress_url(url)).await;
        let answer = json(&invoked);
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("DestinationIpProhibited"),
            "{url}: {answer}"
        );
        match denials(&invoked).as_slice() {
            [DenialReason::PrivateAddress(addr)] => {
                assert!(ip.is_empty() || addr.to_string() == ip, "{url}: {addr}");
                assert!(addr.is_loopback() || !ip.is_empty(), "{url}: {addr}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_host_is_reached_at_its_configured_address() {
    let app = prepare(EGRESS);
    let mut inv = invocation();
    inv.egress = egress_grant(&["plaza.internal:80"]);
    let invoked = call(&app, inv, &egress_url("http://plaza.internal/ping")).await;
    assert_eq!(
        json(&invoked),
        serde_json::json!({ "status": 200, "bytes": 4, "done": 1 })
    );
    assert_eq!(invoked.usage.egress_bytes, 4);
    assert_eq!(
        invoked.usage.egress_hosts_used,
        vec!["plaza.internal:80".to_owned()]
    );
    assert!(invoked.usage.egress_denials.is_empty());
    assert!(world().server.ip().is_loopback());

    // Not granted: the internal mapping alone is not enough.
    let invoked = call(
        &app,
        invocation(),
        &egress_url("http://plaza.internal/ping"),
    )
    .await;
    assert_eq!(denials(&invoked), vec![DenialReason::NotGranted]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_egress_speaks_tls_and_fails_cleanly_against_a_plain_server() {
    // The internal host is plain HTTP; an https request to it must fail in the TLS handshake
    // and come back to the guest as an error code, not hang or crash.
    let app = prepare(EGRESS);
    let mut inv = invocation();
    inv.egress = egress_grant(&["plaza.internal:80"]);
    let invoked = call(&app, inv, &egress_url("https://plaza.internal:80/ping")).await;
    assert_eq!(invoked.failure, None);
    let answer = json(&invoked);
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(
        invoked.usage.egress_hosts_used,
        vec!["plaza.internal:80".to_owned()]
    );
    assert!(invoked.usage.egress_denials.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_quotas_are_enforced() {
    let app = prepare(EGRESS);
    // Bytes: a 64 KiB response against a 1000-byte quota.
    let mut inv = invocation();
    inv.egress = EgressGrant {
        max_bytes: 1000,
        ..egress_grant(&["plaza.internal:80"])
    };
    let invoked = call(&app, inv, &egress_url("http://plaza.internal/big")).await;
    let answer = json(&invoked);
    assert!(
        answer["error"].as_str().unwrap().contains("BodySize"),
        "{answer}"
    );
    assert_eq!(
        denials(&invoked),
        vec![DenialReason::ByteQuota { limit: 1000 }]
    );
    // Request bodies count too.
    let mut inv = invocation();
    inv.egress = EgressGrant {
        max_bytes: 1000,
        ..egress_grant(&["plaza.internal:80"])
    };
    let invoked = call(
        &app,
        inv,
        &format!("{}&send=5000", egress_url("http://plaza.internal/ping")),
    )
    .await;
    assert!(json(&invoked)["error"].is_string(), "{}", body(&invoked));
    assert_eq!(
        denials(&invoked),
        vec![DenialReason::ByteQuota { limit: 1000 }]
    );

    // Connections: the third request of three is refused.
    let mut inv = invocation();
    inv.egress = EgressGrant {
        max_connections: 2,
        ..egress_grant(&["plaza.internal:80"])
    };
    let invoked = call(
        &app,
        inv,
        &format!("{}&n=3", egress_url("http://plaza.internal/ping")),
    )
    .await;
    let answer = json(&invoked);
    assert_eq!(answer["done"], 2, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("ConnectionLimitReached"),
        "{answer}"
    );
    assert_eq!(
        denials(&invoked),
        vec![DenialReason::ConnectionQuota { limit: 2 }]
    );
    assert_eq!(invoked.usage.egress_bytes, 8);
}

// ---------------------------------------------------------------------------------------------
// Preparation and the disk cache

fn cached_runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.to_owned()),
        pool: PoolConfig {
            total_instances: 4,
            ..PoolConfig::default()
        },
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_cache_skips_compilation_and_survives_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm(HELLO);
    let digest = digest_of(&bytes);

    let first = cached_runtime(dir.path());
    let app = first.prepare(&digest, &bytes).unwrap();
    assert_eq!(
        (app.source(), first.compilations()),
        (CodeSource::Compiled, 1)
    );
    assert_eq!(
        first.prepare(&digest, &bytes).unwrap().source(),
        CodeSource::Memory
    );
    assert_eq!(first.compilations(), 1);

    let second = cached_runtime(dir.path());
    let app = second.prepare(&digest, &bytes).unwrap();
    assert_eq!(
        (app.source(), second.compilations()),
        (CodeSource::DiskCache, 0)
    );
    let invoked = second.invoke(&app, invocation(), get("/")).await;
    assert_eq!(body(&invoked), "Hello from Plaza!\n");

    // Corrupt the code file: it is detected and recompiled, then cached again.
    let code = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .expect("a cached code file");
    let mut cached = std::fs::read(&code).unwrap();
    let middle = cached.len() / 2;
    cached[middle] ^= 0xff;
    std::fs::write(&code, &cached).unwrap();
    let third = cached_runtime(dir.path());
    let app = third.prepare(&digest, &bytes).unwrap();
    assert_eq!(
        (app.source(), third.compilations()),
        (CodeSource::Compiled, 1)
    );
    assert_eq!(
        body(&third.invoke(&app, invocation(), get("/")).await),
        "Hello from Plaza!\n"
    );
    let fourth = cached_runtime(dir.path());
    assert_eq!(
        fourth.prepare(&digest, &bytes).unwrap().source(),
        CodeSource::DiskCache
    );

    // A truncated file is no better.
    std::fs::write(&code, &cached[..100]).unwrap();
    let fifth = cached_runtime(dir.path());
    assert_eq!(
        fifth.prepare(&digest, &bytes).unwrap().source(),
        CodeSource::Compiled
    );
}

#[test]
fn preparation_checks_the_digest_and_refuses_core_modules() {
    let runtime = &world().runtime;
    let bytes = wasm(HELLO);
    let wrong = digest_of(b"something else");
    assert!(matches!(
        runtime.prepare(&wrong, &bytes),
        Err(RuntimeError::DigestMismatch { .. })
    ));
    assert!(matches!(
        runtime.prepare("md5:abc", &bytes),
        Err(RuntimeError::BadDigest(_))
    ));
    let core = b"\0asm\x01\0\0\0";
    assert!(matches!(
        runtime.prepare(&digest_of(core), core),
        Err(RuntimeError::CoreModule { .. })
    ));
    let text = b"hello";
    assert!(matches!(
        runtime.prepare(&digest_of(text), text),
        Err(RuntimeError::NotWasm { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// The example app, end to end against a stand-in Plaza

fn where2eat_invocation(instance: &str, token: &str) -> Invocation {
    Invocation {
        instance_id: instance.into(),
        env: vec![
            ("PLAZA_INSTANCE_ID".into(), instance.into()),
            ("PLAZA_APP_ID".into(), "com.example.where2eat".into()),
            ("PLAZA_TOKEN".into(), token.into()),
            ("PLAZA_URL".into(), "http://plaza.internal".into()),
        ],
        egress: egress_grant(&["plaza.internal:80"]),
        ..invocation()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where2eat_finds_a_slot_through_plaza_and_emits_usage() {
    let app = prepare(WHERE2EAT);
    let invoked = call(
        &app,
        where2eat_invocation("inst-w2e", "secret"),
        "/?date=2026-01-10",
    )
    .await;
    assert_eq!(invoked.failure, None, "{}", body(&invoked));
    assert_eq!(
        json(&invoked),
        serde_json::json!({
            "date": "2026-01-10",
            "slot": { "start": "2026-01-10T12:00:00Z", "end": "2026-01-10T13:00:00Z" },
        })
    );
    assert_eq!(
        invoked.usage.egress_hosts_used,
        vec!["plaza.internal:80".to_owned()]
    );
    assert!(invoked.usage.egress_bytes > 0);

    let events: Vec<serde_json::Value> = USAGE_EVENTS
        .lock()
        .unwrap()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .filter(|e: &serde_json::Value| e["instanceId"] == "inst-w2e")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["appId"], "com.example.where2eat");
    assert_eq!(event["metric"], "api_calls");
    assert_eq!(event["value"].to_string(), "1");
    assert_eq!(event["eventId"].as_str().unwrap().len(), 36, "{event}");
    let ts = event["timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );

    let health = call(
        &app,
        where2eat_invocation("inst-w2e-h", "secret"),
        "/healthz",
    )
    .await;
    assert_eq!(
        (health.response.status().as_u16(), body(&health).as_str()),
        (200, "ok")
    );
    assert!(health.usage.egress_hosts_used.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where2eat_passes_plaza_errors_on_as_502() {
    let app = prepare(WHERE2EAT);
    let invoked = call(
        &app,
        where2eat_invocation("inst-w2e-bad", "wrong"),
        "/?date=2026-01-10",
    )
    .await;
    assert_eq!(invoked.failure, None);
    assert_eq!(invoked.response.status(), 502);
    let problem = json(&invoked);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("token exchange") && detail.contains("401"),
        "{detail}"
    );
}
