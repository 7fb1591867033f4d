//! Garbage to every route: binary bytes, truncated and wrongly typed JSON, wrong content types,
//! absurd query strings. Every answer is below 500 (or a clean problem), and nothing is written.

use crate::support::TestApp;
use plaza_server::routes::route_specs;

fn concrete(path: &str) -> String {
    path.replace("{org}", "acme")
        .replace("{team}", "platform")
        .replace("{user}", "consumer")
        .replace("{app}", "com.example.where2eat")
        .replace("{version}", "1.2.0")
        .replace("{id}", "tok_x")
}

#[tokio::test]
async fn garbage_to_every_route_never_panics_or_500s_and_writes_nothing() {
    let app = TestApp::new().await;
    let before = app
        .get("/api/audit?limit=1000", Some(&app.admin_token))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", vec![0xff, 0xfe, 0x00, 0x01, 0x80]),
        ("application/json", b"{\"slug\": ".to_vec()),
        ("application/json", b"[1,2,3]".to_vec()),
        (
            "application/json",
            b"{\"slug\": 42, \"name\": [true]}".to_vec(),
        ),
        (
            "application/json",
            b"{\"slug\": \"ok-slug\", \"unexpected\": 1}".to_vec(),
        ),
        ("application/json", "{\"a\":".repeat(10_000).into_bytes()),
        ("application/yaml", b"key: [unclosed\n  - : :".to_vec()),
        ("application/yaml", vec![0xc3, 0x28, b':', b' ', b'x']),
        ("text/plain", b"hello".to_vec()),
        (
            "application/octet-stream",
            (0..=255u8).cycle().take(5000).collect(),
        ),
    ];
    let queries = [
        "",
        "?limit=abc",
        "?since=%ZZ",
        "?after=-1&limit=99999999999999999999",
        "?unknown=1",
    ];
    for spec in route_specs() {
        for q in queries {
            let path = format!("{}{q}", concrete(spec.path));
            for (ct, body) in &garbage {
                let r = app
                    .call(
                        spec.method.clone(),
                        &path,
                        Some(&app.admin_token),
                        Some((ct, body.clone())),
                    )
                    .await;
                assert!(
                    r.status.as_u16() < 500,
                    "{} {path} with {ct} garbage: {} {}",
                    spec.method,
                    r.status,
                    r.text
                );
                if !r.status.is_success() {
                    // The registry answers registry clients in the OCI error format, token
                    // exchange OAuth clients in RFC 6749's.
                    let expected = if path.starts_with("/v2/") || spec.path == "/api/token/exchange"
                    {
                        "application/json"
                    } else {
                        "application/problem+json"
                    };
                    assert_eq!(
                        r.headers["content-type"], expected,
                        "{} {path}: {}",
                        spec.method, r.text
                    );
                }
            }
        }
    }
    let after = app
        .get("/api/audit?limit=1000", Some(&app.admin_token))
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    // Tokens created by valid-looking bodies are the only writes garbage can cause: none here.
    assert_eq!(before, after, "garbage requests changed state");
    assert_eq!(app.get("/healthz", None).await.status, 200);
}
