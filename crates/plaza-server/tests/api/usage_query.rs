//! Metering beyond ingest, over HTTP: aggregation windows in UTC and other zones, grouping,
//! tag filters and unique counts, corrections (void, adjust, refused ones dead-lettered and
//! replayed once their event arrives), sequence gaps and period-complete markers.

use crate::support::TestApp;
use crate::usage::{app_with_seed, post, statuses};

const APP: &str = "com.example.where2eat";

fn ev(id: &str, instance: &str, value: &str, at: &str, extra: &str) -> String {
    format!(
        r#"{{"eventId":"{id}","appId":"{APP}","instanceId":"{instance}","metric":"api_calls","value":{value},"timestamp":"{at}"{extra}}}"#
    )
}

async fn query(app: &TestApp, token: &str, params: &str) -> serde_json::Value {
    let r = app
        .get(&format!("/api/usage/query?{params}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// (start, group, value, events) of each row.
fn rows(body: &serde_json::Value) -> Vec<(String, Option<String>, String, u64)> {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap().to_owned(),
                r["group"].as_str().map(str::to_owned),
                r["value"].as_str().unwrap().to_owned(),
                r["events"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn seed_events(app: &TestApp, token: &str) {
    let batch = [
        ev(
            "a1",
            "inst-1",
            "1.5",
            "2026-01-09T22:10:00Z",
            r#","tags":{"costCenter":"cc-1"},"dimensions":{"user":"u1"}"#,
        ),
        ev(
            "a2",
            "inst-1",
            "2",
            "2026-01-09T23:40:00Z",
            r#","tags":{"costCenter":"cc-2"},"dimensions":{"user":"u2"}"#,
        ),
        ev(
            "a3",
            "inst-2",
            "4",
            "2026-01-10T00:20:00Z",
            r#","tags":{"costCenter":"cc-1"},"dimensions":{"user":"u1"}"#,
        ),
        ev(
            "a4",
            "inst-2",
            "0.25",
            "2026-01-10T09:05:00Z",
            r#","dimensions":{"user":"u3"}"#,
        ),
    ];
    let r = post(
        app,
        token,
        "application/json",
        &format!("[{}]", batch.join(",")),
    )
    .await;
    assert_eq!(statuses(&r), ["accepted"; 4], "{}", r.text);
}

#[tokio::test]
async fn windows_follow_the_time_zone_and_rows_split_by_group() {
    let (app, author) = app_with_seed().await;
    seed_events(&app, &author).await;
    let range = "from=2026-01-09T00:00:00Z&until=2026-01-11T00:00:00Z";
    // UTC days: 3.5 on the 9th, 4.25 on the 10th, from rollups.
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&appId={APP}&{range}"),
    )
    .await;
    assert_eq!(
        rows(&body),
        [
            ("2026-01-09T00:00:00Z".into(), None, "3.5".into(), 2),
            ("2026-01-10T00:00:00Z".into(), None, "4.25".into(), 2),
        ]
    );
    assert_eq!(body["windowsFromEvents"], 0);
    // Berlin (UTC+1) days: 22:10Z is already the 9th 23:10 local, 23:40Z is the 10th.
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&timeZone=Europe/Berlin&{range}"),
    )
    .await;
    assert_eq!(
        rows(&body),
        [
            ("2026-01-08T23:00:00Z".into(), None, "1.5".into(), 1),
            ("2026-01-09T23:00:00Z".into(), None, "6.25".into(), 3),
        ]
    );
    // Kolkata (UTC+05:30) hours start at half past; still whole rollup buckets.
    let body = query(
        &app,
        &author,
        &format!(
            "metric=api_calls&granularity=hour&timeZone=Asia/Kolkata&aggregation=count&{range}"
        ),
    )
    .await;
    assert_eq!(
        rows(&body)[0],
        ("2026-01-09T21:30:00Z".into(), None, "1".into(), 1)
    );
    assert_eq!(body["windowsFromEvents"], 0);
    // Per instance, a month.
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&granularity=month&groupBy=instance&aggregation=max&{range}"),
    )
    .await;
    assert_eq!(
        rows(&body),
        [
            (
                "2026-01-01T00:00:00Z".into(),
                Some("inst-1".into()),
                "2".into(),
                2
            ),
            (
                "2026-01-01T00:00:00Z".into(),
                Some("inst-2".into()),
                "4".into(),
                2
            ),
        ]
    );
    // Tag filter and unique counts read raw events.
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&granularity=month&tag=costCenter:cc-1&{range}"),
    )
    .await;
    assert_eq!(
        rows(&body),
        [("2026-01-01T00:00:00Z".into(), None, "5.5".into(), 2)]
    );
    assert_eq!(body["windowsFromEvents"], 1);
    let body = query(
        &app,
        &author,
        &format!(
            "metric=api_calls&granularity=month&aggregation=unique_count&uniqueOf=user&{range}"
        ),
    )
    .await;
    assert_eq!(rows(&body)[0].2, "3");
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&granularity=month&aggregation=latest&{range}"),
    )
    .await;
    assert_eq!(rows(&body)[0].2, "0.25");
    // Bad parameters say which and how.
    for (params, needle) in [
        (format!("metric=api_calls&granularity=week&{range}"), "granularity"),
        (format!("metric=api_calls&timeZone=Mars/Base&{range}"), "Mars/Base"),
        (format!("metric=api_calls&aggregation=avg&{range}"), "avg"),
        (format!("metric=api_calls&tag=nocolon&{range}"), "key:value"),
        ("metric=api_calls&from=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z".into(), "before"),
        ("metric=api_calls&granularity=hour&from=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z".into(), "coarser"),
    ] {
        let r = app.get(&format!("/api/usage/query?{params}"), Some(&author)).await;
        assert_eq!(r.status, 400, "{params}: {}", r.text);
        assert!(r.text.contains(needle), "{params}: {}", r.text);
    }
}

#[tokio::test]
async fn corrections_change_totals_and_late_refs_are_replayed_from_dead_letters() {
    let (app, author) = app_with_seed().await;
    seed_events(&app, &author).await;
    let range = "granularity=month&from=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z";
    // A void of a3 (4), an adjust of a1 by +0.5, and a void of an event not yet sent.
    let corrections = format!(
        "[{},{},{}]",
        r#"{"eventId":"c1","kind":"void","ref":"a3","appId":"com.example.where2eat","instanceId":"inst-2","metric":"api_calls","timestamp":"2026-01-10T12:00:00Z"}"#,
        r#"{"eventId":"c2","kind":"adjust","ref":"a1","appId":"com.example.where2eat","instanceId":"inst-1","metric":"api_calls","value":0.5,"timestamp":"2026-01-10T12:00:00Z"}"#,
        r#"{"eventId":"c3","kind":"void","ref":"late","appId":"com.example.where2eat","instanceId":"inst-1","metric":"api_calls","timestamp":"2026-01-10T12:00:00Z"}"#,
    );
    let r = post(&app, &author, "application/json", &corrections).await;
    assert_eq!(
        statuses(&r),
        ["accepted", "accepted", "rejected"],
        "{}",
        r.text
    );
    assert_eq!(r.body["events"][2]["problems"][0]["code"], "unknown_ref");
    // 7.75 - 4 + 0.5, over three events.
    let body = query(&app, &author, &format!("metric=api_calls&{range}")).await;
    assert_eq!(rows(&body)[0].2, "4.25");
    assert_eq!(rows(&body)[0].3, 3);
    // Max over a corrected bucket is recomputed from raw events: a1 is now 2.
    let body = query(
        &app,
        &author,
        &format!("metric=api_calls&aggregation=max&{range}"),
    )
    .await;
    assert_eq!(rows(&body)[0].2, "2");
    assert_eq!(body["windowsFromEvents"], 1);
    // Corrections are listed with the period they correct, and audited.
    let r = app.get("/api/usage/corrections", Some(&author)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = r.body.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["ref"], "a3");
    assert_eq!(listed[0]["correctsOccurredAt"], "2026-01-10T00:20:00Z");
    let audit = app
        .get("/api/audit?action=usage.", Some(&app.admin_token))
        .await;
    assert!(
        audit.text.contains("usage.void") && audit.text.contains("usage.adjust"),
        "{}",
        audit.text
    );

    // The late event arrives; the dead-lettered void is replayed and now counts.
    let letters = app.get("/api/usage/dead-letters", Some(&author)).await;
    let id = letters.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/usage/dead-letters/{id}/replay");
    let r = app
        .call(axum::http::Method::POST, &path, Some(&author), None)
        .await;
    assert_eq!(
        statuses(&r),
        ["rejected"],
        "still no event `late`: {}",
        r.text
    );
    let late = ev("late", "inst-1", "100", "2026-01-10T10:00:00Z", "");
    assert_eq!(
        statuses(&post(&app, &author, "application/json", &late).await),
        ["accepted"]
    );
    let r = app
        .call(axum::http::Method::POST, &path, Some(&author), None)
        .await;
    assert_eq!(statuses(&r), ["accepted"], "{}", r.text);
    let body = query(&app, &author, &format!("metric=api_calls&{range}")).await;
    assert_eq!(rows(&body)[0].2, "4.25", "the late event is voided");
    // Replayed once: hidden from the default list, and a second replay is a conflict.
    let letters = app.get("/api/usage/dead-letters", Some(&author)).await;
    assert_eq!(letters.body.as_array().unwrap().len(), 0);
    let all = app
        .get(
            "/api/usage/dead-letters?includeReplayed=true",
            Some(&author),
        )
        .await;
    assert_eq!(all.body[0]["replayStatus"], "accepted");
    let r = app
        .call(axum::http::Method::POST, &path, Some(&author), None)
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
}

#[tokio::test]
async fn a_dead_letter_is_replayed_with_a_corrected_event() {
    let (app, author) = app_with_seed().await;
    let wrong =
        ev("w1", "inst-1", "3", "2026-01-10T10:00:00Z", "").replace("api_calls", "api_call");
    let r = post(&app, &author, "application/json", &wrong).await;
    assert_eq!(statuses(&r), ["rejected"]);
    let letters = app.get("/api/usage/dead-letters", Some(&author)).await;
    let id = letters.body[0]["id"].as_str().unwrap().to_owned();
    let fixed = ev("w1", "inst-1", "3", "2026-01-10T10:00:00Z", "");
    let r = app
        .call(
            axum::http::Method::POST,
            &format!("/api/usage/dead-letters/{id}/replay"),
            Some(&author),
            Some(("application/json", fixed.into_bytes())),
        )
        .await;
    assert_eq!(statuses(&r), ["accepted"], "{}", r.text);
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/usage/dead-letters/nope/replay",
            Some(&author),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn gaps_are_reported_and_periods_complete_when_every_number_arrives() {
    let (app, author) = app_with_seed().await;
    let seq = |id: &str, n: u64| {
        ev(
            id,
            "inst-9a3f",
            "1",
            "2026-01-10T10:00:00Z",
            &format!(r#","sequence":{n}"#),
        )
    };
    let batch = format!(
        "[{},{},{},{}]",
        seq("s1", 1),
        seq("s2", 2),
        seq("s5", 5),
        seq("s7", 7)
    );
    assert_eq!(
        statuses(&post(&app, &author, "application/json", &batch).await),
        ["accepted"; 4]
    );
    let r = app.get("/api/usage/gaps", Some(&author)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        serde_json::json!([{"appId": APP, "instanceId": "inst-9a3f", "first": 1, "last": 7,
            "seen": 4, "missing": [[3, 4], [6, 6]], "missingCount": 3}])
    );
    let mark = serde_json::json!({"appId": APP, "instanceId": "inst-9a3f",
        "start": "2026-01-10T00:00:00Z", "end": "2026-01-11T00:00:00Z",
        "firstSequence": 1, "lastSequence": 7});
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/usage/periods",
            Some(&author),
            mark.clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["complete"], false);
    assert_eq!(r.body["missing"], serde_json::json!([[3, 4], [6, 6]]));
    // Out of order, the rest arrives: the period is complete.
    let rest = format!("[{},{},{}]", seq("s6", 6), seq("s3", 3), seq("s4", 4));
    assert_eq!(
        statuses(&post(&app, &author, "application/json", &rest).await),
        ["accepted"; 3]
    );
    let r = app.get("/api/usage/periods", Some(&author)).await;
    assert_eq!(r.body[0]["complete"], true, "{}", r.text);
    assert_eq!(
        app.get("/api/usage/gaps", Some(&author)).await.body[0]["missingCount"],
        0
    );
    // A marker for an app the org does not have, or backwards, is refused with why.
    let mut bad = mark.clone();
    bad["appId"] = "com.example.nope".into();
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/usage/periods",
            Some(&author),
            bad,
        )
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.text);
    assert!(r.text.contains("com.example.nope"), "{}", r.text);
    let mut backwards = mark;
    backwards["firstSequence"] = 9.into();
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/usage/periods",
            Some(&author),
            backwards,
        )
        .await;
    assert!(r.text.contains("firstSequence"), "{}", r.text);
}

#[tokio::test]
async fn an_org_sets_its_own_late_arrival_window() {
    let (app, author) = app_with_seed().await;
    // The clock reads 2026-01-10T15:00Z; the server default is 35 days.
    let old = ev("old", "inst-1", "1", "2025-11-20T00:00:00Z", "");
    let r = post(&app, &author, "application/json", &old).await;
    assert_eq!(statuses(&r), ["rejected"]);
    let r = app
        .get("/api/orgs/acme/usage-settings", Some(&author))
        .await;
    assert_eq!(
        r.body,
        serde_json::json!({"lateArrivalDays": 35, "source": "server"})
    );
    let set = |days: serde_json::Value| {
        app.send_json(
            axum::http::Method::PUT,
            "/api/orgs/acme/usage-settings",
            Some(&app.admin_token),
            serde_json::json!({ "lateArrivalDays": days }),
        )
    };
    let r = set(90.into()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["source"], "org");
    let old = old.replace("\"old\"", "\"old2\"");
    assert_eq!(
        statuses(&post(&app, &author, "application/json", &old).await),
        ["accepted"]
    );
    // Out of range is refused with the range; null goes back to the default.
    let r = set(0.into()).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("3650"), "{}", r.text);
    let r = set(serde_json::Value::Null).await;
    assert_eq!(
        r.body,
        serde_json::json!({"lateArrivalDays": 35, "source": "server"})
    );
    let audit = app
        .get("/api/audit?action=usage.settings", Some(&app.admin_token))
        .await;
    assert!(audit.text.contains("usage.settings.set"), "{}", audit.text);
}

/// Registers the seed app again as `version` (nothing widened).
async fn register_version(app: &TestApp, version: &str) {
    let yaml =
        crate::support::SEED_MANIFEST.replace("version: 1.2.0", &format!("version: {version}"));
    let r = app
        .call(
            axum::http::Method::POST,
            "/api/orgs/acme/apps",
            Some(&app.admin_token),
            Some(("application/yaml", yaml.into_bytes())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn version_of(app: &TestApp, instance: &str) -> String {
    let r = app
        .get(&format!("/api/installs/{instance}"), Some(&app.admin_token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["version"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn usage_is_read_by_version_team_and_cost_center_from_rollups() {
    let (app, author) = app_with_seed().await;
    // Team `lunch` runs inst-1 and inst-2 (cost center CC-42, upgraded automatically); team
    // `search` runs inst-s1 (CC-7), pinned: it is upgraded by hand.
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/orgs/acme/teams",
            Some(&app.admin_token),
            serde_json::json!({"slug": "search", "name": "Search"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/installs",
            Some(&app.admin_token),
            serde_json::json!({"appId": APP, "team": "search", "instanceId": "inst-s1",
                "tags": {"cost-center": "CC-7"}, "autoUpgrade": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let send = |events: Vec<String>| {
        let body = format!("[{}]", events.join(","));
        let app = &app;
        let author = author.clone();
        async move {
            let r = post(app, &author, "application/json", &body).await;
            assert!(statuses(&r).iter().all(|s| s == "accepted"), "{}", r.text);
        }
    };

    // At 1.2.0 everywhere.
    send(vec![
        ev("a1", "inst-1", "1", "2026-01-10T01:05:00Z", ""),
        ev("a2", "inst-2", "2", "2026-01-10T01:20:00Z", ""),
        ev("a3", "inst-s1", "4", "2026-01-10T01:10:00Z", ""),
    ])
    .await;
    // 1.3.0 is published: lunch's instances take it, inst-s1 stays.
    register_version(&app, "1.3.0").await;
    assert_eq!(version_of(&app, "inst-1").await, "1.3.0");
    assert_eq!(version_of(&app, "inst-s1").await, "1.2.0");
    // b1 shares a1's 15-minute bucket, at another version.
    send(vec![
        ev("b1", "inst-1", "10", "2026-01-10T01:07:00Z", ""),
        ev("b2", "inst-s1", "20", "2026-01-10T02:00:00Z", ""),
    ])
    .await;
    let r = app
        .send_json(
            axum::http::Method::POST,
            "/api/installs/inst-s1/upgrade",
            Some(&app.admin_token),
            serde_json::json!({"version": "1.3.0"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(version_of(&app, "inst-s1").await, "1.3.0");
    send(vec![ev("c1", "inst-s1", "100", "2026-01-10T02:30:00Z", "")]).await;

    let day = "2026-01-10T00:00:00Z";
    let range = "metric=api_calls&from=2026-01-10T00:00:00Z&until=2026-01-11T00:00:00Z";
    let row = |group: Option<&str>, value: &str, events: u64| {
        (
            day.to_owned(),
            group.map(str::to_owned),
            value.to_owned(),
            events,
        )
    };
    for (params, want, group_by) in [
        ("version=1.2.0", vec![row(None, "27", 4)], None),
        ("version=1.3.0", vec![row(None, "110", 2)], None),
        ("version=9.9.9", vec![], None),
        (
            "groupBy=version",
            vec![row(Some("1.2.0"), "27", 4), row(Some("1.3.0"), "110", 2)],
            Some("version"),
        ),
        ("team=lunch", vec![row(None, "13", 3)], None),
        ("team=search", vec![row(None, "124", 3)], None),
        (
            "groupBy=team",
            vec![row(Some("lunch"), "13", 3), row(Some("search"), "124", 3)],
            Some("team"),
        ),
        ("costCenter=CC-7", vec![row(None, "124", 3)], None),
        ("costCenter=CC-42", vec![row(None, "13", 3)], None),
        ("costCenter=CC-0", vec![], None),
        (
            "groupBy=costCenter",
            vec![row(Some("CC-42"), "13", 3), row(Some("CC-7"), "124", 3)],
            Some("costCenter"),
        ),
        ("team=search&version=1.2.0", vec![row(None, "24", 2)], None),
        ("team=lunch&costCenter=CC-7", vec![], None),
        (
            "costCenter=CC-7&groupBy=version",
            vec![row(Some("1.2.0"), "24", 2), row(Some("1.3.0"), "100", 1)],
            Some("version"),
        ),
        (
            "version=1.3.0&groupBy=team",
            vec![row(Some("lunch"), "10", 1), row(Some("search"), "100", 1)],
            Some("team"),
        ),
        (
            "team=lunch&groupBy=instance&aggregation=max",
            vec![row(Some("inst-1"), "10", 2), row(Some("inst-2"), "2", 1)],
            Some("instance"),
        ),
    ] {
        let body = query(&app, &author, &format!("{range}&{params}")).await;
        assert_eq!(rows(&body), want, "{params}: {body}");
        assert_eq!(body["windowsFromRollups"], 1, "{params}: {body}");
        assert_eq!(body["windowsFromEvents"], 0, "{params}: {body}");
        assert_eq!(body["groupBy"].as_str(), group_by, "{params}");
    }

    // The raw-event path filters and groups the same way (unique counts read raw events).
    for (params, want) in [
        (
            "aggregation=unique_count&groupBy=team",
            vec![row(Some("lunch"), "3", 3), row(Some("search"), "3", 3)],
        ),
        (
            "aggregation=unique_count&version=1.3.0",
            vec![row(None, "2", 2)],
        ),
        (
            "aggregation=unique_count&costCenter=CC-7&groupBy=version",
            vec![row(Some("1.2.0"), "2", 2), row(Some("1.3.0"), "1", 1)],
        ),
    ] {
        let body = query(&app, &author, &format!("{range}&{params}")).await;
        assert_eq!(rows(&body), want, "{params}: {body}");
        assert_eq!(body["windowsFromEvents"], 1, "{params}: {body}");
    }

    // A void sent after the upgrade corrects b2 where b2 counts: at 1.2.0.
    let void = r#"{"eventId":"v-b2","kind":"void","ref":"b2","appId":"com.example.where2eat","instanceId":"inst-s1","metric":"api_calls","timestamp":"2026-01-10T12:00:00Z"}"#;
    assert_eq!(
        statuses(&post(&app, &author, "application/json", void).await),
        ["accepted"]
    );
    let body = query(&app, &author, &format!("{range}&groupBy=version")).await;
    assert_eq!(
        rows(&body),
        [row(Some("1.2.0"), "7", 3), row(Some("1.3.0"), "110", 2)]
    );
    assert_eq!(body["windowsFromRollups"], 1);
    // Max over the corrected bucket is recomputed from raw events, still by version.
    let body = query(
        &app,
        &author,
        &format!("{range}&aggregation=max&team=search&groupBy=version"),
    )
    .await;
    assert_eq!(
        rows(&body),
        [row(Some("1.2.0"), "4", 1), row(Some("1.3.0"), "100", 1)]
    );
    assert_eq!(body["windowsFromEvents"], 1);

    // An uninstalled instance's usage still belongs to its team and cost center.
    let r = app
        .call(
            axum::http::Method::DELETE,
            "/api/installs/inst-s1",
            Some(&app.admin_token),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let body = query(&app, &author, &format!("{range}&team=search")).await;
    assert_eq!(rows(&body), [row(None, "104", 2)]);
    let body = query(&app, &author, &format!("{range}&groupBy=costCenter")).await;
    assert_eq!(
        rows(&body),
        [row(Some("CC-42"), "13", 3), row(Some("CC-7"), "104", 2)]
    );

    // An unknown team is a 404 problem; a bad grouping a 400 naming the choices.
    let r = app
        .get(
            &format!("/api/usage/query?{range}&team=nope"),
            Some(&author),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.text.contains("nope"), "{}", r.text);
    let r = app
        .get(
            &format!("/api/usage/query?{range}&groupBy=teams"),
            Some(&author),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("costCenter"), "{}", r.text);
}

#[tokio::test]
async fn the_openapi_document_lists_the_query_filters_and_groupings() {
    let app = TestApp::new().await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, 200, "{}", doc.text);
    let op = &doc.body["paths"]["/api/usage/query"]["get"];
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "version",
        "team",
        "costCenter",
        "groupBy",
        "appId",
        "instanceId",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let group_by = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "groupBy")
        .unwrap();
    let described = group_by["description"].as_str().unwrap_or_default();
    for g in ["version", "team", "costCenter"] {
        assert!(described.contains(g), "{described}");
    }
    assert!(op["responses"]["404"].is_object(), "{op}");
}
