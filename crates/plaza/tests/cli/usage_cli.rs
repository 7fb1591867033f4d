//! `plaza usage …` against a real `plaza serve --demo`: emit (one event, NDJSON and JSON files,
//! split into several requests), query, dead letters and replay, sequence gaps and periods.

use crate::serve::{start_demo, DEMO_TOKEN};
use crate::support::{plaza, text};
use std::path::Path;
use std::process::{Child, Output};

const SEED_EVENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed/examples/usage-event.json"
);

/// The demo server, killed when the test ends, passed or failed.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path) -> Self {
        let (child, base, _) = start_demo(dir);
        Server { child, base }
    }

    /// Runs `plaza usage ARGS --server … --token …` in `dir`.
    fn usage(&self, dir: &Path, args: &[&str]) -> Output {
        plaza()
            .arg("usage")
            .args(args)
            .args(["--server", &self.base, "--token", DEMO_TOKEN])
            .current_dir(dir)
            .output()
            .expect("plaza runs")
    }
}

fn event(id: &str, value: u32, minute: u32, sequence: Option<u32>) -> String {
    let seq = sequence.map_or(String::new(), |s| format!(r#","sequence":{s}"#));
    format!(
        r#"{{"eventId":"{id}","appId":"com.example.where2eat","instanceId":"inst-9a3f","metric":"api_calls","value":{value},"timestamp":"2026-01-10T15:{minute:02}:00Z"{seq}}}"#
    )
}

#[track_caller]
fn expect(out: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

#[test]
fn usage_cli_emits_queries_replays_and_reports_gaps_on_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(d);

    // The seed event: accepted, then a duplicate.
    let (out, _) = expect(&server.usage(d, &["emit", SEED_EVENT]), 0);
    assert!(out.contains("1 accepted, 0 duplicate(s)"), "{out}");
    let (out, _) = expect(&server.usage(d, &["emit", SEED_EVENT]), 0);
    assert!(out.contains("0 accepted, 1 duplicate(s)"), "{out}");

    // NDJSON with a malformed line 2 (after a blank line 1): exit 1, the problem with its line.
    let ndjson = format!(
        "\n{}\n{{\"eventId\":\"evt_cli_2\",\"value\":NaN}}\n{}\n",
        event("evt_cli_1", 8, 1, Some(1)),
        event("evt_cli_4", 50, 4, Some(4))
    );
    std::fs::write(d.join("events.ndjson"), &ndjson).unwrap();
    let (out, _) = expect(&server.usage(d, &["emit", "events.ndjson"]), 1);
    assert!(
        out.contains("2 accepted, 0 duplicate(s), 0 conflict(s), 1 rejected"),
        "{out}"
    );
    assert!(out.contains("rejected: event 1 (line 3)"), "{out}");
    assert!(
        out.contains("malformed_json") && out.contains("(line 3"),
        "{out}"
    );
    assert!(out.contains("NaN"), "{out}");

    // The query's total: 42 + 8 + 50 over three events.
    let query = [
        "query",
        "--metric",
        "api_calls",
        "--app",
        "com.example.where2eat",
        "--from",
        "2026-01-01",
        "--until",
        "2026-02-01T00:00:00Z",
    ];
    let (out, _) = expect(&server.usage(d, &query), 0);
    let total = out.lines().find(|l| l.starts_with("total")).unwrap_or("");
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(cells, ["total", "100", "3"], "{out}");
    assert!(out.contains("2026-01-10T00:00:00Z"), "{out}");
    let mut json_query = query.to_vec();
    json_query.extend(["--granularity", "month", "--format", "json"]);
    let (out, _) = expect(&server.usage(d, &json_query), 0);
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["granularity"], "month");
    assert_eq!(answer["rows"][0]["value"], "100");
    assert_eq!(answer["rows"][0]["events"], 3);

    // By version, team and cost center: inst-9a3f runs 1.2.0 for team platform, CC-1001.
    let mut by = query.to_vec();
    by.extend([
        "--team",
        "platform",
        "--cost-center",
        "CC-1001",
        "--version",
        "1.2.0",
        "--group-by",
        "version",
    ]);
    let (out, _) = expect(&server.usage(d, &by), 0);
    assert!(
        out.lines().any(|l| l.split_whitespace().eq([
            "2026-01-10T00:00:00Z",
            "2026-01-11T00:00:00Z",
            "1.2.0",
            "100",
            "3"
        ])),
        "{out}"
    );
    for group in ["team", "cost-center"] {
        let mut grouped = query.to_vec();
        grouped.extend(["--group-by", group, "--format", "json"]);
        let (out, _) = expect(&server.usage(d, &grouped), 0);
        let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want = if group == "team" {
            "platform"
        } else {
            "CC-1001"
        };
        assert_eq!(answer["rows"][0]["group"], want, "{out}");
        assert_eq!(answer["rows"][0]["value"], "100", "{out}");
    }
    let mut other = query.to_vec();
    other.extend(["--cost-center", "CC-9999"]);
    let (out, _) = expect(&server.usage(d, &other), 0);
    assert!(out.contains("no events in that range"), "{out}");
    let mut unknown_team = query.to_vec();
    unknown_team.extend(["--team", "nope"]);
    let (_, err) = expect(&server.usage(d, &unknown_team), 2);
    assert!(err.contains("404") && err.contains("nope"), "{err}");

    // Gaps: 1 and 4 seen.
    let (out, _) = expect(&server.usage(d, &["gaps"]), 0);
    assert!(
        out.contains("com.example.where2eat inst-9a3f: sequence 1..4, 2 seen, 2 missing: 2-3"),
        "{out}"
    );

    // The dead letter, with its line; replayed with a corrected event.
    let (out, _) = expect(&server.usage(d, &["dead-letters"]), 0);
    assert!(
        out.contains("line 3") && out.contains("malformed_json"),
        "{out}"
    );
    let (out, _) = expect(&server.usage(d, &["dead-letters", "--format", "json"]), 0);
    let letters: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(letters.as_array().unwrap().len(), 1, "{out}");
    let id = letters[0]["id"].as_str().unwrap().to_owned();
    std::fs::write(d.join("bad.json"), r#"{"eventId":"evt_cli_2"}"#).unwrap();
    let (out, _) = expect(&server.usage(d, &["replay", &id, "--event", "bad.json"]), 1);
    assert!(out.contains("still rejected"), "{out}");
    std::fs::write(d.join("fixed.json"), event("evt_cli_2", 5, 2, Some(2))).unwrap();
    let (out, _) = expect(
        &server.usage(d, &["replay", &id, "--event", "fixed.json"]),
        0,
    );
    assert!(out.contains(&format!("replayed {id}: accepted")), "{out}");
    let (_, err) = expect(&server.usage(d, &["replay", &id]), 2);
    assert!(err.contains("409"), "{err}");
    let (out, _) = expect(&server.usage(d, &["dead-letters"]), 0);
    assert!(out.starts_with("no dead letters"), "{out}");
    let (out, _) = expect(&server.usage(d, &["dead-letters", "--include-replayed"]), 0);
    assert!(out.contains(&id) && out.contains("(accepted)"), "{out}");

    let (out, _) = expect(&server.usage(d, &query), 0);
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().eq(["total", "105", "4"])),
        "{out}"
    );
    let (out, _) = expect(&server.usage(d, &["gaps", "--instance", "inst-9a3f"]), 0);
    assert!(out.contains("3 seen, 1 missing: 3"), "{out}");

    // Periods: marked, incomplete until 3 arrives.
    let mark = [
        "mark-period",
        "--app",
        "com.example.where2eat",
        "--instance",
        "inst-9a3f",
        "--start",
        "2026-01-01",
        "--end",
        "2026-02-01",
        "--first",
        "1",
        "--last",
        "4",
    ];
    let (out, _) = expect(&server.usage(d, &mark), 0);
    assert!(
        out.contains("marked: ") && out.contains("incomplete, missing 3"),
        "{out}"
    );
    let (out, _) = expect(
        &server.usage(d, &["emit", "--event", &event("evt_cli_3", 1, 3, Some(3))]),
        0,
    );
    assert!(out.contains("1 accepted"), "{out}");
    let (out, _) = expect(&server.usage(d, &["periods"]), 0);
    assert!(out.contains("sequence 1..4: complete"), "{out}");
    let (out, _) = expect(&server.usage(d, &["gaps"]), 0);
    assert!(out.contains("no gaps"), "{out}");

    // Errors from the server: the problem's detail, exit 2.
    let mut bad_zone = query.to_vec();
    bad_zone.extend(["--tz", "Mars/Olympus_Mons"]);
    let (_, err) = expect(&server.usage(d, &bad_zone), 2);
    assert!(
        err.contains("400") && err.contains("Mars/Olympus_Mons"),
        "{err}"
    );
    let (_, err) = expect(&server.usage(d, &["emit", "missing.ndjson"]), 2);
    assert!(err.contains("missing.ndjson"), "{err}");
}

#[test]
fn usage_cli_splits_large_inputs_and_maps_problems_back_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(d);

    // NDJSON in requests of two events; the bad line is the fifth event, on line 6.
    let mut lines: Vec<String> = (1..=4)
        .map(|i| event(&format!("evt_split_{i}"), i, i, None))
        .collect();
    lines.insert(2, String::new());
    lines.push("{\"eventId\": \"evt_split_5\", \"value\": NaN}".into());
    std::fs::write(d.join("split.jsonl"), lines.join("\n")).unwrap();
    let (out, _) = expect(
        &server.usage(d, &["emit", "split.jsonl", "--batch-size", "2"]),
        1,
    );
    assert!(
        out.contains("5 event(s) in 3 request(s): 4 accepted"),
        "{out}"
    );
    assert!(out.contains("rejected: event 4 (line 6)"), "{out}");
    assert!(out.contains("(line 6, column"), "{out}");

    // A JSON array (pretty, one event per element) split in two: the event's line and the
    // problem's line and column are the file's.
    let array = format!(
        "[\n  {},\n  {},\n  {{\"eventId\": \"evt_arr_3\", \"value\": true}}\n]\n",
        event("evt_arr_1", 1, 11, None),
        event("evt_arr_2", 2, 12, None),
    );
    std::fs::write(d.join("array.json"), &array).unwrap();
    let (out, _) = expect(
        &server.usage(
            d,
            &[
                "emit",
                "array.json",
                "--batch-size",
                "2",
                "--format",
                "json",
            ],
        ),
        1,
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    let bad = &report["events"][2];
    assert_eq!(
        (bad["index"].as_u64(), bad["line"].as_u64()),
        (Some(2), Some(4)),
        "{out}"
    );
    let located = bad["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pointer"] == "/2/value")
        .unwrap_or_else(|| panic!("a problem at /2/value: {out}"));
    assert_eq!(located["line"], 4, "{out}");
    // Where `true` is on line 4.
    let col = array.lines().nth(3).unwrap().find("true").unwrap() + 1;
    assert_eq!(located["column"].as_u64(), Some(col as u64), "{out}");

    // Re-sending the whole file: everything counted is a duplicate, in one request.
    let (out, _) = expect(
        &server.usage(d, &["emit", "split.jsonl", "--as", "ndjson"]),
        1,
    );
    assert!(
        out.contains("in 1 request(s): 0 accepted, 4 duplicate(s)"),
        "{out}"
    );
}
