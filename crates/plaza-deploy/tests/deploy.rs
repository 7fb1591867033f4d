//! Integration tests of `plaza-deploy`, one test binary.
//!
//! - `fixtures/<case>/input.json` renders to `expected.yaml`, or fails with the text in
//!   `expected.error`. `PLAZA_BLESS=1 cargo test -p plaza-deploy` rewrites the expected files;
//!   review the diff by eye before committing it.
//! - Every rendered fixture is checked by the real `kubernetes-validate --strict -k 1.31.0`
//!   (installed by `scripts/ensure-kubernetes-validate`), and read back by PyYAML (a YAML 1.1
//!   reader) as exactly the documents we meant. A missing tool is a failure, never a skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use plaza_deploy::{render, render_documents, RenderInput};
use serde_json::Value;

const KUBERNETES_VERSION: &str = "1.31.0";
const INSTALL: &str = "scripts/ensure-kubernetes-validate";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Every fixture case directory, sorted.
fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(crate_dir().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input.json").is_file())
        .collect();
    out.sort();
    out
}

fn input_of(case: &Path) -> RenderInput {
    let bytes = fs::read(case.join("input.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}/input.json: {e}", case.display()))
}

fn name_of(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

/// The cases that render, with their YAML.
fn rendered() -> Vec<(String, RenderInput, String)> {
    cases()
        .into_iter()
        .filter_map(|c| {
            let input = input_of(&c);
            render(&input).ok().map(|y| (name_of(&c), input, y))
        })
        .collect()
}

/// A small line diff (longest common subsequence) for readable failures.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", a[i]);
            i += 1;
        }
    }
    out
}

/// Compares `actual` with the file at `path` (or writes it when blessing); a failure text
/// instead of a panic, so one run reports every mismatch.
fn check_file(path: &Path, actual: &str) -> Option<String> {
    if blessing() {
        fs::write(path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{} differs (- expected, + actual; PLAZA_BLESS=1 to update):\n{}",
            path.display(),
            diff(&expected, actual)
        )
    })
}

#[test]
fn fixtures_render_as_expected() {
    let all = cases();
    assert!(all.len() >= 4, "only {} fixture cases", all.len());
    let mut failures = Vec::new();
    for case in all {
        let (yaml, error) = (case.join("expected.yaml"), case.join("expected.error"));
        match render(&input_of(&case)) {
            Ok(text) => {
                if error.exists() && !blessing() {
                    failures.push(format!("{} should fail but rendered", name_of(&case)));
                }
                failures.extend(check_file(&yaml, &text));
                // Deterministic: the same input, the same bytes.
                assert_eq!(render(&input_of(&case)).unwrap(), text);
            }
            Err(e) => {
                if yaml.exists() && !blessing() {
                    failures.push(format!("{} should render but failed: {e}", name_of(&case)));
                }
                failures.extend(check_file(&error, &format!("{e}\n")));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn doc<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// What must hold whatever the expected files say (so a careless bless cannot weaken it).
#[test]
fn rendered_objects_keep_the_security_invariants() {
    for (case, input, _) in rendered() {
        let docs = render_documents(&input).unwrap();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["ServiceAccount", "Secret", "Deployment", "NetworkPolicy"],
            "{case}"
        );
        let name = docs[0]["metadata"]["name"].as_str().unwrap();
        assert!(name.len() <= 63, "{case}: {name}");
        for d in &docs {
            assert_eq!(
                d["metadata"]["labels"]["plaza.dev/instance"], *input.instance_id,
                "{case}"
            );
            assert_eq!(
                d["metadata"]["labels"]["app.kubernetes.io/managed-by"], "plaza",
                "{case}"
            );
        }
        assert_eq!(
            doc(&docs, "ServiceAccount")["automountServiceAccountToken"],
            false
        );

        let secret = doc(&docs, "Secret");
        assert_eq!(secret["type"], "Opaque");
        assert_eq!(
            secret["stringData"],
            serde_json::json!({"PLAZA_TOKEN": ""}),
            "{case}: no real token"
        );
        assert!(secret.get("data").is_none(), "{case}");

        let dep = doc(&docs, "Deployment");
        let pod = &dep["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        assert_eq!(pod["containers"].as_array().unwrap().len(), 1);
        assert_eq!(
            c["image"], *input.image,
            "{case}: the image exactly as given"
        );
        assert!(input.image.contains("@sha256:"));
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            c["resources"]["requests"], c["resources"]["limits"],
            "{case}"
        );
        assert_eq!(c["resources"]["limits"]["memory"], *input.memory);
        assert_eq!(
            c["resources"]["limits"]["cpu"],
            format!("{}m", input.cpu_millis)
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["runAsUser"], 65532);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(
            c["securityContext"]["capabilities"]["drop"],
            serde_json::json!(["ALL"])
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["serviceAccountName"], name);
        let env: Vec<&str> = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        for want in [
            "PLAZA_INSTANCE_ID",
            "PLAZA_APP_ID",
            "PLAZA_SPIFFE_ID",
            "PLAZA_TOKEN",
        ] {
            assert!(env.contains(&want), "{case}: env {want}");
        }
        let tmp = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == "/tmp")
            .expect("a writable /tmp");
        assert!(tmp.get("readOnly").is_none());
        assert_eq!(dep["spec"]["replicas"], 1);

        let np = &doc(&docs, "NetworkPolicy")["spec"];
        assert_eq!(np["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
        assert_eq!(
            np["podSelector"]["matchLabels"], dep["spec"]["selector"]["matchLabels"],
            "{case}: the policy selects the Deployment's pods"
        );
        // Nothing leaves but DNS to kube-dns and single addresses.
        for rule in np["egress"].as_array().unwrap() {
            for to in rule["to"].as_array().unwrap() {
                if let Some(cidr) = to["ipBlock"]["cidr"].as_str() {
                    assert!(
                        cidr.ends_with("/32") || cidr.ends_with("/128"),
                        "{case}: {cidr}"
                    );
                    assert!(to["ipBlock"].get("except").is_none());
                } else {
                    assert_eq!(
                        to["podSelector"]["matchLabels"]["k8s-app"], "kube-dns",
                        "{case}"
                    );
                }
            }
            assert!(
                !rule["ports"].as_array().unwrap().is_empty(),
                "{case}: every rule names its ports"
            );
        }
    }
}

#[test]
fn the_where2eat_policy_allows_exactly_the_resolved_grants() {
    let case = crate_dir().join("tests/fixtures/where2eat");
    let docs = render_documents(&input_of(&case)).unwrap();
    let np = doc(&docs, "NetworkPolicy");
    let rules: Vec<(Vec<&str>, Vec<u64>)> = np["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|r| {
            (
                r["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["ipBlock"]["cidr"].as_str().unwrap())
                    .collect(),
                r["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["port"].as_u64().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            (vec!["10.0.0.5/32"], vec![5432]),
            (
                vec!["203.0.113.10/32", "203.0.113.11/32", "2001:db8::10/128"],
                vec![443]
            ),
        ]
    );
    assert_eq!(
        np["metadata"]["annotations"]["plaza.dev/egress-unresolved"],
        "*.maps.example.com:443"
    );
}

// ---- the real validator -------------------------------------------------------------------

/// The `kubernetes-validate` to run: `PLAZA_KUBERNETES_VALIDATE`, else the tools venv's
/// (`PLAZA_TOOLS_VENV`, default `~/.cache/plaza/tools-venv`), else the one on `PATH`.
fn kubernetes_validate() -> PathBuf {
    let mut tried = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("PLAZA_KUBERNETES_VALIDATE") {
        candidates.push(p.into());
    }
    let venv = std::env::var_os("PLAZA_TOOLS_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/plaza/tools-venv"))
        });
    if let Some(v) = venv {
        candidates.push(v.join("bin/kubernetes-validate"));
    }
    candidates.push("kubernetes-validate".into());
    for c in candidates {
        match Command::new(&c).arg("--version").output() {
            Ok(o) if o.status.success() => return c,
            Ok(o) => tried.push(format!("{}: exit {}", c.display(), o.status)),
            Err(e) => tried.push(format!("{}: {e}", c.display())),
        }
    }
    panic!(
        "kubernetes-validate is not installed (tried {}). Run `{INSTALL}` (CI runs it from \
         scripts/test); this test never skips.",
        tried.join("; ")
    )
}

fn run_validator(files: &[PathBuf]) -> Output {
    Command::new(kubernetes_validate())
        .args(["--strict", "-k", KUBERNETES_VERSION])
        .args(files)
        .output()
        .expect("run kubernetes-validate")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn kubernetes_validate_accepts_every_rendered_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let all = rendered();
    assert!(all.len() >= 3);
    let files: Vec<PathBuf> = all
        .iter()
        .map(|(case, _, yaml)| {
            let f = dir.path().join(format!("{case}.yaml"));
            fs::write(&f, yaml).unwrap();
            f
        })
        .collect();
    let out = run_validator(&files);
    let report = text(&out);
    assert!(
        out.status.success(),
        "kubernetes-validate rejected a rendering:\n{report}"
    );
    // Each file's four objects were checked, not skipped.
    let passed = report
        .lines()
        .filter(|l| l.contains(" passed for resource "))
        .count();
    assert_eq!(passed, 4 * files.len(), "{report}");
}

#[test]
fn kubernetes_validate_rejects_broken_documents() {
    // Proof that the tool really validates, in strict mode: a misspelt field and a wrong type.
    let dir = tempfile::tempdir().unwrap();
    let (_, _, yaml) = rendered().into_iter().next().unwrap();
    let misspelt = yaml.replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:");
    let wrong_type = yaml.replace("replicas: 1\n", "replicas: \"one\"\n");
    assert_ne!(misspelt, yaml);
    assert_ne!(wrong_type, yaml);
    for (name, broken, why) in [
        ("misspelt.yaml", misspelt, "readOnlyRootFileSystem"),
        ("wrong-type.yaml", wrong_type, "replicas"),
    ] {
        let f = dir.path().join(name);
        fs::write(&f, broken).unwrap();
        let out = run_validator(&[f]);
        let report = text(&out);
        assert!(
            !out.status.success(),
            "{name} passed kubernetes-validate:\n{report}"
        );
        assert!(report.contains(why), "{name}: {report}");
    }
}

#[test]
fn pyyaml_reads_back_exactly_the_documents_rendered() {
    // kubernetes-validate reads YAML with PyYAML (YAML 1.1, where `yes`, `on` and `0755` are
    // not strings): its interpreter must read every rendering back as the JSON we built.
    let python = kubernetes_validate().with_file_name("python");
    assert!(
        python.exists(),
        "{} missing: run `{INSTALL}`",
        python.display()
    );
    for (case, input, yaml) in rendered() {
        let mut child = Command::new(&python)
            .args([
                "-c",
                "import sys, json, yaml; \
                 print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{case}: {}", text(&out));
        let read: Value = serde_json::from_slice(&out.stdout).unwrap();
        let built = Value::Array(render_documents(&input).unwrap());
        assert_eq!(read, built, "{case}: PyYAML read something else");
    }
}

#[test]
fn docs_name_what_the_renderer_writes() {
    let doc = fs::read_to_string(crate_dir().join("../../docs/deploy.md")).unwrap();
    for word in [
        plaza_deploy::netpol::UNRESOLVED_ANNOTATION,
        plaza_deploy::netpol::EGRESS_ANNOTATION,
        plaza_deploy::labels::INSTANCE_LABEL,
        plaza_deploy::labels::TAG_PREFIX,
        plaza_deploy::objects::TOKEN_DIR,
        "plaza.dev/token",
        "plaza.dev/tags",
        "plaza.dev/spiffe-id",
        "PLAZA_TOKEN_FILE",
        "kubernetes-validate --strict -k 1.31.0",
        "scripts/ensure-kubernetes-validate",
        "plaza deploy render INSTANCE [--namespace NS] [-o FILE]",
    ] {
        assert!(
            doc.contains(word),
            "docs/deploy.md does not mention `{word}`"
        );
    }
}
