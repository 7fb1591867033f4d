//! `plaza install` and `plaza deploy render` against a real `plaza serve --demo`: the consent
//! screen in plain words, an admin's install granted at once, a refused required scope (exit 1),
//! and the renderer refusing a wasm app (which Plaza runs itself).

use crate::serve::{start_demo, DEMO_TOKEN};
use crate::support::{plaza, text};
use std::process::Output;

fn with_server(args: &[&str], base: &str) -> Output {
    plaza()
        .args(args)
        .args(["--server", base, "--token", DEMO_TOKEN])
        .output()
        .expect("plaza runs")
}

#[test]
fn plaza_install_shows_the_request_then_installs_and_deploy_render_refuses_wasm_apps() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start_demo(dir.path());
    let out = with_server(
        &[
            "install",
            "com.example.where2eat@1.2.0",
            "--team",
            "payments",
            "--instance-id",
            "inst-cli",
            "--tag",
            "cost-center=CC-9",
        ],
        &base,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("com.example.where2eat 1.2.0 asks to:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("read calendar (`calendar.read`, required)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("installed com.example.where2eat 1.2.0 as inst-cli (spiffe://plaza.local/org/demo/team/payments/app/com.example.where2eat/instance/inst-cli)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("granted scopes: calendar.events.create, calendar.read"),
        "{stdout}"
    );

    // A required scope cannot be refused: exit 1, nothing installed.
    let out = with_server(
        &[
            "install",
            "com.example.where2eat",
            "--team",
            "payments",
            "--instance-id",
            "inst-no",
            "--refuse",
            "calendar.read",
        ],
        &base,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("required scopes cannot be refused"),
        "{}",
        text(&out.stderr)
    );
    let out = with_server(&["deploy", "render", "inst-no"], &base);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // where2eat is a wasm app: Plaza runs it, Kubernetes does not.
    let out = with_server(&["deploy", "render", "inst-cli"], &base);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("is a `wasm` app"),
        "{}",
        text(&out.stderr)
    );
    let _ = child.kill();
    let _ = child.wait();
}
