//! The example apps served by a real `plaza serve --demo` at `/apps/<instance>/`: hello answers,
//! where2eat exchanges its capability token, reads the mock calendar through Plaza and reports
//! `api_calls`, and every invocation is metered as host metrics.

use crate::serve::{start_demo, DEMO_TOKEN};
use std::time::{Duration, Instant};

#[test]
fn the_demo_serves_hello_and_where2eat_in_the_sandbox_and_meters_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let get = |path: String| {
            http.get(format!("{base}{path}"))
                .bearer_auth(DEMO_TOKEN)
                .send()
        };
        // Unauthenticated callers are refused before any app runs.
        let r = http.get(format!("{base}/apps/inst-hello/")).send().await.unwrap();
        assert_eq!(r.status(), 401);

        let r = get("/apps/inst-hello/".into()).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "Hello from Plaza!\n");
        let r = get("/apps/inst-hello/healthz".into()).await.unwrap();
        assert_eq!(r.status(), 200);

        // The smoke test starts a version in the sandbox and calls its health check.
        let r: serde_json::Value = http
            .post(format!("{base}/api/orgs/demo/apps/com.example.hello/versions/1.0.0/smoke-test"))
            .bearer_auth(DEMO_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["passed"], true, "{r}");
        assert_eq!(r["path"], "/healthz", "{r}");
        assert_eq!(r["status"], 200, "{r}");

        // where2eat: token exchange and the mock calendar, through plaza.internal.
        let r = get("/apps/inst-9a3f/?date=2026-12-01".into()).await.unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["slot"]["start"], "2026-12-01T12:00:00Z", "{body}");
        assert_eq!(body["slot"]["end"], "2026-12-01T13:00:00Z", "{body}");

        // Its api_calls event and both apps' host metrics arrive (host metrics are flushed
        // every second).
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let q = |metric: &str, app: &str| {
                format!(
                    "/api/usage/query?metric={metric}&appId={app}&from=2026-01-01T00:00:00Z\
                     &until=2030-01-01T00:00:00Z&granularity=month"
                )
            };
            let total = |v: serde_json::Value| -> f64 {
                v["rows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["value"].as_str()?.parse::<f64>().ok())
                    .sum()
            };
            let calls = total(get(q("plaza_calls", "com.example.hello")).await.unwrap().json().await.unwrap());
            let w2e_calls = total(get(q("plaza_calls", "com.example.where2eat")).await.unwrap().json().await.unwrap());
            let api_calls = total(get(q("api_calls", "com.example.where2eat")).await.unwrap().json().await.unwrap());
            if calls == 2.0 && w2e_calls == 1.0 && api_calls == 1.0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "usage not metered: hello plaza_calls {calls}, where2eat plaza_calls {w2e_calls}, api_calls {api_calls}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // The org's policy caps what instances may use at run time too: with memory capped
        // below what hello needs, it is stopped at the cap.
        let r = http
            .post(format!("{base}/api/orgs/demo/policies"))
            .bearer_auth(DEMO_TOKEN)
            .json(&serde_json::json!({"files": [], "settings": {"resource_caps": {"memory": "1Mi"}}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let r = get("/apps/inst-hello/".into()).await.unwrap();
        assert_eq!(r.status(), 500);
        let problem: serde_json::Value = r.json().await.unwrap();
        assert!(
            problem["type"].as_str().is_some_and(|t| t.ends_with("app-memory-limit")),
            "{problem}"
        );
        let r = http
            .post(format!("{base}/api/orgs/demo/policies"))
            .bearer_auth(DEMO_TOKEN)
            .json(&serde_json::json!({"files": [], "settings": {}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        assert_eq!(get("/apps/inst-hello/".into()).await.unwrap().status(), 200);

        // The unused-grant report saw where2eat use calendar.read and its egress.
        let r: serde_json::Value = get("/api/installs/inst-9a3f/unused-grants?days=1".into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let used: Vec<&str> = r["used"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["name"].as_str())
            .collect();
        assert!(used.contains(&"calendar.read"), "{r}");
        assert!(used.contains(&"plaza.internal:80"), "{r}");
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_version_whose_guest_panics_fails_its_smoke_test() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    // The seed's manifest, for an app whose component panics on every request.
    let seed = std::fs::read_to_string(crate::support::SEED_MANIFEST).unwrap();
    let manifest = seed
        .replace("com.example.where2eat", "com.example.panics")
        .replace("name: Where2Eat", "name: Panics")
        .replace("version: 1.2.0", "version: 0.1.0");
    std::fs::write(app.join("micro-app.yaml"), manifest).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/apps/testing/panic/panic.wasm"
        ),
        app.join("panic.wasm"),
    )
    .unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let out = crate::support::plaza()
        .args(["push", "app", "--server", &base, "--token", DEMO_TOKEN])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        crate::support::text(&out.stdout),
        crate::support::text(&out.stderr)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{base}/api/orgs/demo/apps/com.example.panics/versions/0.1.0/smoke-test"
            ))
            .bearer_auth(DEMO_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(report["passed"], false, "{report}");
    assert_eq!(report["status"], 500, "{report}");
    assert_eq!(report["path"], "/", "{report}");
    assert!(
        report["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{report}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
