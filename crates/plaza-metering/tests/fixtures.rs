//! Data-driven ingest tests: a request body and its content type in, the per-event results out.
//!
//! - `fixtures/<dir>/NAME.<ext>` is a body; the directory names its content type
//!   (`json` → application/json, `ndjson` → application/x-ndjson, `cloudevents` →
//!   application/cloudevents+json, `cloudevents-batch` → application/cloudevents-batch+json).
//! - It is decoded with `parse` and every decoded event validated with `validate` against
//!   `fixtures/context.json` (the clock, the windows and the declared metrics).
//! - The result must equal `NAME.expected.json`: either `{"error": …}` for a body refused as a
//!   whole, or one entry per event with status `accepted` (the normalised event), `malformed`
//!   (decoding problems) or `rejected` (validation problems).
//!
//! `PLAZA_BLESS=1 cargo test -p plaza-metering` rewrites every expected file. Review the
//! changes by eye before committing them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use plaza_metering::{
    parse, validate, Code, ContentType, EventKind, GapTracker, MeteringContext, ParseOptions,
    ValidatedEvent, HOST_METRICS,
};
use serde_json::{json, Value};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

const DIRS: &[(&str, ContentType)] = &[
    ("json", ContentType::Json),
    ("ndjson", ContentType::Ndjson),
    ("cloudevents", ContentType::CloudEvent),
    ("cloudevents-batch", ContentType::CloudEventsBatch),
];

fn context() -> MeteringContext {
    let text = fs::read_to_string(crate_dir().join("tests/fixtures/context.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let now: DateTime<Utc> = v["now"].as_str().unwrap().parse().unwrap();
    let mut cx = MeteringContext::new(now);
    cx.late_window = TimeDelta::days(v["lateWindowDays"].as_i64().unwrap());
    cx.max_future_skew = TimeDelta::seconds(v["maxFutureSkewSeconds"].as_i64().unwrap());
    for (name, unit) in v["metrics"].as_object().unwrap() {
        cx = cx.with_metric(name, unit.as_str().unwrap());
    }
    cx
}

/// Inputs of a fixture directory, sorted.
fn inputs(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(crate_dir().join("tests/fixtures").join(dir))
        .unwrap_or_else(|e| panic!("reading fixtures/{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            !name.contains(".expected") && !name.starts_with('.')
        })
        .collect();
    out.sort();
    out
}

fn expected_path(input: &Path) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name.rsplit_once('.').map_or(&*name, |(s, _)| s);
    input.with_file_name(format!("{stem}.expected.json"))
}

/// Decodes and validates a body; the JSON the expected files hold.
fn run(body: &[u8], content_type: ContentType, cx: &MeteringContext) -> Value {
    let decoded = match parse(body, content_type.as_str(), &ParseOptions::default()) {
        Ok(d) => d,
        Err(e) => {
            return json!({
                "contentType": content_type.as_str(),
                "error": {"code": e.code(), "message": e.to_string(), "hint": e.hint()},
            })
        }
    };
    let events: Vec<Value> = decoded
        .iter()
        .enumerate()
        .map(|(i, r)| match r {
            Err(e) => {
                assert_eq!(e.index, i, "EventError.index is the position in the body");
                json!({"index": i, "status": "malformed", "line": e.line, "problems": e.problems})
            }
            Ok(raw) => match validate(raw, cx) {
                Ok(v) => json!({"index": i, "status": "accepted", "event": v}),
                Err(problems) => json!({"index": i, "status": "rejected", "problems": problems}),
            },
        })
        .collect();
    json!({"contentType": content_type.as_str(), "events": events})
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
            out += &format!("  {}\n", a[i]);
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

/// Compares `actual` with the file at `path` (or writes it when blessing).
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

fn all_results() -> Vec<(PathBuf, Value)> {
    let cx = context();
    let mut out = Vec::new();
    for (dir, ct) in DIRS {
        for input in inputs(dir) {
            let body = fs::read(&input).unwrap();
            out.push((input, run(&body, *ct, &cx)));
        }
    }
    out
}

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    let results = all_results();
    assert!(results.len() >= 25, "only {} fixtures", results.len());
    for (input, value) in results {
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        failures.extend(check_file(&expected_path(&input), &text));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_code_is_exercised_by_a_fixture() {
    let mut seen = BTreeSet::new();
    for (_, v) in all_results() {
        for e in v["events"].as_array().into_iter().flatten() {
            for p in e["problems"].as_array().into_iter().flatten() {
                seen.insert(p["code"].as_str().unwrap().to_string());
            }
        }
    }
    // `ingest` codes come from the server and its store; the API tests produce them.
    for code in Code::ALL.iter().filter(|c| c.stage() != "ingest") {
        assert!(seen.contains(code.as_str()), "no fixture produces `{code}`");
    }
}

fn statuses(v: &Value) -> Vec<&str> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect()
}

fn fixture(dir: &str, name: &str) -> Value {
    let ct = DIRS.iter().find(|(d, _)| *d == dir).unwrap().1;
    let body = fs::read(crate_dir().join("tests/fixtures").join(dir).join(name)).unwrap();
    run(&body, ct, &context())
}

/// Behaviour the expected files must show, asserted directly so that a careless bless cannot
/// hide a regression.
#[test]
fn fixture_semantics() {
    let seed = fixture("json", "seed-event.json");
    assert_eq!(statuses(&seed), ["accepted"]);
    assert_eq!(seed["events"][0]["event"]["value"], "42");

    assert_eq!(statuses(&fixture("json", "batch.json")), ["accepted"; 3]);
    assert_eq!(
        statuses(&fixture("json", "batch-partial.json")),
        ["accepted", "malformed", "rejected", "malformed", "accepted"]
    );
    assert_eq!(
        statuses(&fixture("ndjson", "bad-line-in-middle.ndjson")),
        [
            "accepted",
            "malformed",
            "accepted",
            "malformed",
            "malformed",
            "rejected",
            "accepted"
        ]
    );
    for (dir, name) in [("json", "nan.json"), ("json", "infinity.json")] {
        let v = fixture(dir, name);
        assert_eq!(v["error"]["code"], "malformed_json", "{name}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("NaN") || msg.contains("Infinity"), "{msg}");
    }

    let units = fixture("json", "units.json");
    let value_of = |id: &str| -> Option<(String, String)> {
        units["events"].as_array().unwrap().iter().find_map(|e| {
            (e["event"]["eventId"] == id).then(|| {
                (
                    e["event"]["value"].as_str().unwrap().to_string(),
                    e["event"]["unit"].as_str().unwrap().to_string(),
                )
            })
        })
    };
    let pair = |v: &str, u: &str| Some((v.to_string(), u.to_string()));
    assert_eq!(value_of("ms-to-s"), pair("1.5", "s"));
    assert_eq!(value_of("gib-to-bytes"), pair("1073741824", "bytes"));
    assert_eq!(value_of("kb-to-bytes"), pair("1000", "bytes"));
    assert_eq!(value_of("kib-to-bytes"), pair("1024", "bytes"));
    assert_eq!(value_of("kib-to-kb"), pair("1.024", "KB"));
    assert_eq!(value_of("gb-to-kb"), pair("2500000", "KB"));
    assert_eq!(value_of("ms-to-min-exact"), pair("1.5", "min"));
    assert_eq!(value_of("ms-to-min-inexact"), None);
    assert_eq!(
        units["events"][8]["problems"][0]["code"], "inexact_conversion",
        "1 ms is 1/60000 min"
    );

    let ts = fixture("json", "timestamps.json");
    assert_eq!(
        statuses(&ts),
        [
            "accepted",
            "rejected",
            "rejected",
            "accepted",
            "rejected",
            "rejected",
            "malformed"
        ]
    );
    assert_eq!(
        ts["events"][1]["problems"][0]["code"],
        "timestamp_in_future"
    );
    assert_eq!(
        ts["events"][2]["problems"][0]["code"],
        "timestamp_in_future"
    );
    assert_eq!(ts["events"][4]["problems"][0]["code"], "timestamp_too_old");

    let c = fixture("json", "corrections.json");
    assert_eq!(c["events"][0]["event"]["kind"], "void");
    assert_eq!(c["events"][0]["event"]["value"], "0");
    assert_eq!(c["events"][1]["event"]["value"], "-2");
    assert_eq!(c["events"][2]["event"]["value"], "-0.25");
    assert_eq!(c["events"][3]["problems"][0]["code"], "missing_ref");
    assert_eq!(c["events"][4]["problems"][0]["code"], "self_reference");
    assert_eq!(c["events"][5]["problems"][0]["code"], "missing_value");

    let ce = fixture("cloudevents", "usage.json");
    assert_eq!(statuses(&ce), ["accepted"]);
    // The same usage as a CloudEvent and in the seed's shape has the same content hash.
    assert_eq!(
        ce["events"][0]["event"]["contentHash"],
        seed["events"][0]["event"]["contentHash"]
    );
    let batch = fixture("cloudevents-batch", "batch.json");
    assert_eq!(
        statuses(&batch),
        ["accepted", "accepted", "malformed", "malformed"]
    );
    assert_eq!(
        batch["events"][2]["problems"][0]["pointer"],
        "/2/data/value"
    );
    assert_eq!(batch["events"][1]["event"]["kind"], "adjust");
}

#[test]
fn sequences_from_an_ndjson_stream_show_their_gaps() {
    let body =
        fs::read(crate_dir().join("tests/fixtures/ndjson/bad-line-in-middle.ndjson")).unwrap();
    let cx = context();
    let accepted: Vec<ValidatedEvent> =
        parse(&body, "application/x-ndjson", &ParseOptions::default())
            .unwrap()
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|raw| validate(&raw, &cx).ok())
            .collect();
    let mut gaps = GapTracker::new();
    for e in &accepted {
        if let Some(seq) = e.sequence {
            gaps.record(&e.instance_id, seq);
        }
    }
    // Seen 1, 3, 6: line 3 (sequence 2) was malformed, n4 had no sequence, n5 was rejected.
    assert_eq!(gaps.gaps()["inst-9a3f"], [2..=2, 4..=5]);
}

#[test]
fn seed_event_from_shared_folder() {
    let committed = fs::read(crate_dir().join("tests/fixtures/json/seed-event.json")).unwrap();
    let shared = crate_dir().join("../../../shared/seed/examples/usage-event.json");
    // The project's shared/ folder sits beside the repository (as in CI); the seed there is the
    // reference, so its absence is a failure, not a skip.
    let bytes = fs::read(&shared).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the seed event must be checked as written",
            shared.display()
        )
    });
    assert_eq!(
        bytes,
        committed,
        "the committed seed copy differs from {}",
        shared.display()
    );
    // Validated against the seed manifest's own declaration of api_calls.
    let manifest_path = crate_dir().join("../../../shared/seed/examples/micro-app.yaml");
    let m = plaza_manifest::load("micro-app.yaml", &fs::read(manifest_path).unwrap());
    let cx = MeteringContext::from_manifest(
        m.manifest.as_ref().unwrap(),
        "2026-01-10T15:00:00Z".parse().unwrap(),
    );
    let decoded = parse(&bytes, "application/json", &ParseOptions::default()).unwrap();
    let v = validate(decoded[0].as_ref().unwrap(), &cx).unwrap();
    assert_eq!(v.event_id, "evt_0001");
    assert_eq!(v.app_id, "com.example.where2eat");
    assert_eq!(v.instance_id, "inst-9a3f");
    assert_eq!(v.metric, "api_calls");
    assert_eq!(v.value.to_string(), "42");
    assert_eq!(v.kind, EventKind::Usage);
}

#[test]
fn batch_limit_is_enforced_per_body() {
    let one = r#"{"eventId":"e","appId":"a","instanceId":"i","metric":"api_calls","value":1,"timestamp":"2026-01-10T14:00:00Z"}"#;
    let at_limit = format!("[{}]", vec![one; 10_000].join(","));
    assert_eq!(
        parse(
            at_limit.as_bytes(),
            "application/json",
            &ParseOptions::default()
        )
        .unwrap()
        .len(),
        10_000
    );
    let over = format!("[{}]", vec![one; 10_001].join(","));
    let err = parse(
        over.as_bytes(),
        "application/json",
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "batch_too_large");
    let ndjson = vec![one; 10_001].join("\n");
    let err = parse(
        ndjson.as_bytes(),
        "application/x-ndjson",
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "batch_too_large");
}

#[test]
fn docs_cover_codes_host_metrics_and_mapping() {
    let doc = fs::read_to_string(crate_dir().join("../../docs/metering.md")).unwrap();
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "docs/metering.md lacks a row for `{code}`"
        );
    }
    for m in HOST_METRICS {
        assert!(
            doc.contains(&format!("| `{}` | `{}` |", m.name, m.unit)),
            "docs lack host metric `{}`",
            m.name
        );
    }
    for t in [
        plaza_metering::parse::CE_TYPE_USAGE,
        plaza_metering::parse::CE_TYPE_VOID,
        plaza_metering::parse::CE_TYPE_ADJUST,
    ] {
        assert!(doc.contains(t), "docs lack CloudEvents type {t}");
    }
    for ct in ContentType::ALL {
        assert!(doc.contains(ct.as_str()), "docs lack content type {ct}");
    }
}

/// No input makes the pipeline panic: every fixture body, truncated at every byte and with
/// bytes replaced by troublesome ones, goes through parse and validate (and the windows of
/// whatever is accepted) under every content type.
#[test]
fn mangled_bodies_never_panic() {
    let cx = context();
    let replacements: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"]",
        b"-",
        b"9e999",
        b"\xff",
        b"\n",
        b"\xe2\x82",
        b"null",
    ];
    let mut runs = 0usize;
    for (dir, _) in DIRS {
        for input in inputs(dir) {
            let body = fs::read(&input).unwrap();
            let step = (body.len() / 97).max(1);
            let mut variants: Vec<Vec<u8>> = Vec::new();
            for cut in (0..body.len()).step_by(step) {
                variants.push(body[..cut].to_vec());
                for r in replacements {
                    let mut v = body[..cut].to_vec();
                    v.extend_from_slice(r);
                    v.extend_from_slice(&body[(cut + 1).min(body.len())..]);
                    variants.push(v);
                }
            }
            for v in variants {
                for (_, ct) in DIRS {
                    runs += 1;
                    if let Ok(decoded) = parse(&v, ct.as_str(), &ParseOptions::default()) {
                        for raw in decoded.into_iter().flatten() {
                            if let Ok(e) = validate(&raw, &cx) {
                                for g in plaza_metering::Granularity::ALL {
                                    plaza_metering::window::window(
                                        e.timestamp,
                                        *g,
                                        plaza_metering::Tz::Europe__Berlin,
                                    )
                                    .unwrap();
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(runs > 10_000, "{runs}");
}
