//! `plaza serve --demo` as a real process, reached over real HTTP, then stopped with SIGTERM.

use crate::support::{plaza, run, text};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

pub const DEMO_TOKEN: &str = "plz_demo-token-for-tests-0123456789";

#[test]
fn serve_demo_answers_over_http_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, before) = start_demo(dir.path());
    let printed_token = before.iter().any(|l| l.trim() == DEMO_TOKEN);
    assert!(printed_token, "serve --demo prints the demo admin's token");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let apps: serde_json::Value = http
            .get(format!("{base}/api/orgs/demo/apps"))
            .bearer_auth(DEMO_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = apps
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["appId"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"com.example.where2eat"), "{ids:?}");
        // The three demo manifests' apps, and hello from examples/apps.
        assert_eq!(ids.len(), 4, "{ids:?}");
        let users: serde_json::Value = http
            .get(format!("{base}/api/orgs/demo/users"))
            .bearer_auth(DEMO_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(users.as_array().unwrap().len(), 6);
    });

    // login stores the credentials privately; whoami reads them back.
    let cfg = dir.path().join("cfg");
    let out = plaza()
        .args(["login", "--server", &base, "--token", DEMO_TOKEN])
        .env("XDG_CONFIG_HOME", &cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let creds = cfg.join("plaza/credentials.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = plaza()
        .arg("whoami")
        .env("XDG_CONFIG_HOME", &cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("demo-admin"));
    let out = plaza()
        .args([
            "login",
            "--server",
            &base,
            "--token",
            "plz_wrong-token-0123456789abcdef",
        ])
        .env("XDG_CONFIG_HOME", dir.path().join("cfg2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert_eq!(code.code(), Some(0), "graceful shutdown exits 0");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A second start reuses the seeded data and the fixed token still works.
    let out = run(&["audit", "verify", "--data", "data"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn json_logs_carry_the_request_id_and_flags_override_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = plaza()
        .args(["serve", "--listen", "127.0.0.1:0", "--data", "data"])
        // The flag must win over the environment, which names a port nobody may bind.
        .env("PLAZA_LISTEN", "127.0.0.1:1")
        .env("PLAZA_LOG_FORMAT", "json")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Plaza listening on ")
                .map(|u| u.trim().to_owned())
        })
        .expect("the server prints its address");
    assert!(!base.ends_with(":1"), "{base}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .header("x-request-id", "trace-me-42")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = text(&out.stderr);
    let line = logs
        .lines()
        .find(|l| l.contains("trace-me-42"))
        .unwrap_or_else(|| panic!("no log line carries the request id:\n{logs}"));
    let event: serde_json::Value = serde_json::from_str(line).expect("log lines are JSON");
    assert_eq!(event["span"]["request_id"], "trace-me-42", "{line}");
    assert_eq!(event["level"], "INFO", "{line}");
}

/// Starts `serve --demo` on a free port; returns the child, the base URL, and what it printed
/// before its address.
pub fn start_demo(dir: &std::path::Path) -> (std::process::Child, String, Vec<String>) {
    start_demo_with(dir, &[])
}

/// [`start_demo`] with extra environment variables.
pub fn start_demo_with(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String, Vec<String>) {
    let mut child = plaza()
        .envs(env.iter().copied())
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "data",
        ])
        .env("PLAZA_DEMO_TOKEN", DEMO_TOKEN)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut before = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        if let Some(url) = line.strip_prefix("Plaza listening on ") {
            return (child, url.trim().to_owned(), before);
        }
        before.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server printed no address; it said: {before:?}");
}

#[test]
fn policy_push_list_and_show_manage_the_orgs_versions_on_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(policies.join("lib")).unwrap();
    std::fs::write(
        policies.join("naming.rego"),
        "package acme.naming\n\nimport rego.v1\n\ndeny contains \"no legacy apps\" if contains(lower(input.name), \"legacy\")\n",
    )
    .unwrap();
    std::fs::write(
        policies.join("lib/util.rego"),
        "package acme.util\n\nis_public if input.visibility == \"public\"\n",
    )
    .unwrap();
    std::fs::write(
        policies.join("naming_test.rego"),
        "package acme.naming_test\n\ntest_x if true\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("settings.json"), r#"{"slsa_min_level": 1}"#).unwrap();
    let remote = |args: &[&str]| {
        plaza()
            .args(args)
            .args(["--server", &base, "--token", DEMO_TOKEN])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = remote(&["policy", "push", "policies", "--settings", "settings.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("pushed policy version 1 (2 file(s)"),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(
        policies.join("broken.rego"),
        "package acme.broken\n\ndeny[msg] {\n  msg :=\n}\n",
    )
    .unwrap();
    let out = remote(&["policy", "push", "policies"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.rego:"),
        "{}",
        text(&out.stderr)
    );

    let out = remote(&["policy", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.starts_with("1 (active)"), "{listing}");
    assert_eq!(
        listing.lines().count(),
        1,
        "the broken push stored nothing: {listing}"
    );
    let out = remote(&["policy", "show"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = shown["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["lib/util.rego", "naming.rego"],
        "tests are not pushed"
    );
    assert_eq!(shown["settings"]["slsa_min_level"], 1);
    let out = remote(&["policy", "show", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("404"), "{}", text(&out.stderr));

    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// Writes an OCI image layout holding one image manifest, tagged `tag`, with the config
/// `config` of `config_type` and `layers` (media type, bytes); returns the manifest digest.
fn image_layout(
    dir: &std::path::Path,
    tag: &str,
    config_type: &str,
    config: &[u8],
    layers: &[(&str, Vec<u8>)],
) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = plaza_registry::Digest::sha256_of(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        serde_json::json!({"digest": d.to_string(), "size": bytes.len()})
    };
    let mut config_desc = put(config);
    config_desc["mediaType"] = config_type.into();
    let layer_descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|(media_type, bytes)| {
            let mut d = put(bytes);
            d["mediaType"] = (*media_type).into();
            d
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": layer_descs,
    })
    .to_string();
    let desc = put(manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": desc["digest"], "size": desc["size"],
        "annotations": {"org.opencontainers.image.ref.name": tag}
    }]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    desc["digest"].as_str().unwrap().to_owned()
}

/// Writes an OCI image layout holding one Wasm artifact tagged `1.0`; returns the manifest digest.
fn wasm_layout(dir: &std::path::Path) -> String {
    let layer: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    image_layout(
        dir,
        "1.0",
        "application/vnd.wasm.config.v0+json",
        br#"{"architecture":"wasm","os":"wasip2","layerDigests":[]}"#,
        &[("application/wasm", layer)],
    )
}

/// Every blob of the layout `from` is in the layout `to`, byte for byte.
fn same_blobs(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let pulled = std::fs::read(to.join("blobs/sha256").join(entry.file_name()))
            .unwrap_or_else(|e| panic!("blob {:?} was not pulled back: {e}", entry.file_name()));
        assert_eq!(
            pulled,
            std::fs::read(entry.path()).unwrap(),
            "blob {:?} differs",
            entry.file_name()
        );
    }
}

/// `bytes` compressed by the system's gzip.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .args(["-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[test]
fn skopeo_pushes_and_pulls_a_multi_layer_container_image() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let layers: Vec<(&str, Vec<u8>)> = (0..4u8)
        .map(|i| {
            let plain: Vec<u8> = (0..=255u8)
                .cycle()
                .skip(i.into())
                .take(200_000 + usize::from(i))
                .collect();
            // Really gzip: skopeo compresses a "gzip" layer that is not, which would change it.
            ("application/vnd.oci.image.layer.v1.tar+gzip", gzip(&plain))
        })
        .collect();
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    image_layout(
        &layout,
        "2.0",
        "application/vnd.oci.image.config.v1+json",
        config,
        &layers,
    );
    let (mut child, base, _) = start_demo(dir.path());
    let host = base.trim_start_matches("http://");
    let image = format!("docker://{host}/demo/com.example.container:2.0");
    let creds = format!("ci:{DEMO_TOKEN}");
    let skopeo = |args: &[&str]| {
        std::process::Command::new("skopeo")
            .args(args)
            .output()
            .unwrap()
    };
    let out = skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("oci:{}:2.0", layout.display()),
        &image,
    ]);
    assert!(out.status.success(), "push: {}", text(&out.stderr));
    let back = dir.path().join("back");
    let out = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &image,
        &format!("oci:{}:2.0", back.display()),
    ]);
    assert!(out.status.success(), "pull: {}", text(&out.stderr));
    // skopeo may re-serialise the manifest itself; the config and every layer come back intact.
    for bytes in std::iter::once(config.as_slice()).chain(layers.iter().map(|(_, b)| b.as_slice()))
    {
        let d = plaza_registry::Digest::sha256_of(bytes);
        let pulled = std::fs::read(back.join("blobs/sha256").join(d.hex()))
            .unwrap_or_else(|e| panic!("blob {d} was not pulled back: {e}"));
        assert!(pulled == bytes, "blob {d} differs");
    }
    stop(&mut child);
}

#[test]
fn skopeo_pushes_and_pulls_a_wasm_artifact_through_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let manifest_digest = wasm_layout(&layout);
    let (mut child, base, _) = start_demo(dir.path());
    let host = base.trim_start_matches("http://");
    let image = format!("docker://{host}/demo/com.example.where2eat:1.0");
    let creds = format!("ci:{DEMO_TOKEN}");
    let skopeo = |args: &[&str]| {
        std::process::Command::new("skopeo")
            .args(args)
            .output()
            .expect("skopeo runs (scripts/test installs it: apt-get install skopeo)")
    };
    let out = skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("oci:{}:1.0", layout.display()),
        &image,
    ]);
    assert!(out.status.success(), "push: {}", text(&out.stderr));
    let out = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &image,
    ]);
    assert!(out.status.success(), "inspect: {}", text(&out.stderr));
    assert_eq!(
        plaza_registry::Digest::sha256_of(&out.stdout).to_string(),
        manifest_digest
    );
    let back = dir.path().join("back");
    let out = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &image,
        &format!("oci:{}:1.0", back.display()),
    ]);
    assert!(out.status.success(), "pull: {}", text(&out.stderr));
    same_blobs(&layout, &back);
    let out = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{host}/demo/com.example.where2eat"),
    ]);
    assert!(
        text(&out.stdout).contains("\"1.0\""),
        "{}",
        text(&out.stdout)
    );
    // Without credentials the registry refuses.
    let out = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--no-creds",
        &image,
    ]);
    assert!(!out.status.success());

    // Garbage collection keeps everything the artifact needs, and removes an orphan.
    let gc = |extra: &[&str]| {
        run(
            &[
                &["admin", "gc", "--data", "data", "--grace-secs", "0"],
                extra,
            ]
            .concat(),
            dir.path(),
        )
    };
    let out = gc(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        // The artifact's 3 blobs; the 6 of the two example apps the demo publishes; and their
        // signature, provenance and SBOM referrers (a layer and a manifest each, 12, and the
        // one empty config they share).
        text(&out.stdout).contains("22 referenced; would remove 0"),
        "{}",
        text(&out.stdout)
    );
    let orphan = b"an orphan blob";
    let orphan_digest = plaza_registry::Digest::sha256_of(orphan).to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let repo = format!("{base}/v2/demo/com.example.where2eat");
        let r = http
            .post(format!("{repo}/blobs/uploads/?digest={orphan_digest}"))
            .basic_auth("ci", Some(DEMO_TOKEN))
            .body(orphan.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = http
            .delete(format!("{repo}/blobs/{orphan_digest}"))
            .basic_auth("ci", Some(DEMO_TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    });
    let out = gc(&[]);
    assert!(
        text(&out.stdout).contains(&format!("removed {orphan_digest}")),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("removed 1 (14 bytes)"),
        "{}",
        text(&out.stdout)
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

#[test]
fn plaza_package_output_is_read_by_skopeo_and_pushed_to_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    // The seed's manifest at a version the demo has not published (it publishes 1.2.0).
    let seed = std::fs::read_to_string(crate::support::SEED_MANIFEST).unwrap();
    std::fs::write(
        dir.path().join("micro-app.yaml"),
        seed.replace("version: 1.2.0", "version: 1.3.0"),
    )
    .unwrap();
    // The smallest valid component; a core module is refused with a hint.
    std::fs::write(dir.path().join("app.wasm"), b"\0asm\x0d\x00\x01\x00").unwrap();
    std::fs::write(dir.path().join("core.wasm"), b"\0asm\x01\x00\x00\x00").unwrap();
    let out = run(&["package", "--component", "core.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wasm32-wasip2"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["package", "--component", "app.wasm", "--output", "oci"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("packaged com.example.where2eat 1.3.0"),
        "{}",
        text(&out.stdout)
    );
    // umoci, another OCI tool, reads the layout and sees the version's tag.
    let umoci = std::process::Command::new("umoci")
        .args(["ls", "--layout"])
        .arg(dir.path().join("oci"))
        .output()
        .expect("umoci runs (scripts/test installs it: apt-get install umoci)");
    assert!(umoci.status.success(), "{}", text(&umoci.stderr));
    assert_eq!(text(&umoci.stdout).trim(), "1.3.0");

    let (mut child, base, _) = start_demo(dir.path());
    let host = base.trim_start_matches("http://");
    let image = format!("docker://{host}/demo/com.example.where2eat:1.3.0");
    let creds = format!("ci:{DEMO_TOKEN}");
    let layout = format!("oci:{}:1.3.0", dir.path().join("oci").display());
    let out = std::process::Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &layout,
            &image,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &creds,
            &image,
        ])
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "Where2Eat"
    );
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &creds,
            &image,
        ])
        .output()
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (config["architecture"].as_str(), config["os"].as_str()),
        (Some("wasm"), Some("wasip2"))
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// Stops a server started by [`start_demo`] the way an operator would (SIGTERM) and waits.
pub fn stop(child: &mut std::process::Child) {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// The seed article's usage event, posted as written to a fresh `serve --demo`, is accepted,
/// and posted again is answered `duplicate`.
#[test]
fn the_seed_usage_event_is_accepted_by_the_demo_then_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let event = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/seed/examples/usage-event.json"
    ))
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let statuses: Vec<String> = rt.block_on(async {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..2 {
            let r = http
                .post(format!("{base}/api/usage/events"))
                .bearer_auth(DEMO_TOKEN)
                .header("content-type", "application/json")
                .body(event.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body: serde_json::Value = r.json().await.unwrap();
            out.push(body["events"][0]["status"].as_str().unwrap().to_owned());
        }
        out
    });
    assert_eq!(statuses, ["accepted", "duplicate"]);
    stop(&mut child);
}
