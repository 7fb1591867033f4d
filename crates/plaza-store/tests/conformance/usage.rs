//! Metered usage: events counted once forever per (org, app, event id), identical repeats
//! answered as duplicates, a reused id with other content logged as a conflict and not
//! counted, exact decimal totals, and dead letters kept in order.

use crate::fixtures::*;
use crate::harness::TestDb;
use chrono::TimeZone;
use plaza_core::audit::AuditFilter;
use plaza_core::usage::{DeadLetter, PeriodMarker, StoredOutcome, UsageScope};
use plaza_core::StoreError;
use plaza_metering::{
    aggregate, parse, validate, Accumulator, Aggregation, Code, Granularity, MeteringContext,
    ParseOptions, Tz, ValidatedEvent,
};
use std::collections::BTreeMap;

const ACTOR: &str = "user:tester";

fn at(h: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 1, 10, h, 0, 0).unwrap()
}

/// A validated `api_calls` (count) event; `value` as JSON text so decimals stay exact.
fn event(id: &str, value: &str, hour: u32) -> ValidatedEvent {
    validated(&format!(
        r#"{{"eventId":"{id}","appId":"com.example.where2eat","instanceId":"inst-1","metric":"api_calls","value":{value},"timestamp":"{}"}}"#,
        at(hour).to_rfc3339()
    ))
}

/// Validates one event written as JSON (metrics `api_calls` in count, `storage` in GB).
fn validated(body: &str) -> ValidatedEvent {
    validated_at_version(body, None)
}

/// Validates one event written as JSON as ingest does for an instance running `version`
/// (`None`: as before versions were kept).
fn validated_at_version(body: &str, version: Option<&str>) -> ValidatedEvent {
    let raw = parse(
        body.as_bytes(),
        "application/json",
        &ParseOptions::default(),
    )
    .unwrap()
    .remove(0)
    .unwrap();
    let mut cx = MeteringContext::new(at(23))
        .with_metric("api_calls", "count")
        .with_metric("storage", "GB");
    if let Some(v) = version {
        cx = cx.with_app_version(v);
    }
    validate(&raw, &cx).unwrap()
}

pub async fn usage_is_counted_once_and_conflicts_are_logged_not_counted(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    let globex = seed_org(s.as_ref(), "globex").await;
    let batch = [
        event("e1", "0.1", 1),
        event("e2", "0.2", 2),
        event("e1", "0.1", 1),
    ];
    let outcomes = s
        .record_usage(&acme.id, &batch, at(3), ACTOR)
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            StoredOutcome::Accepted,
            StoredOutcome::Accepted,
            StoredOutcome::Duplicate
        ]
    );
    // Forever: a later batch with the same id and content is still a duplicate; other content
    // is a conflict and the first content stays counted.
    let later = [event("e1", "0.1", 1), event("e1", "5", 1)];
    assert_eq!(
        s.record_usage(&acme.id, &later, at(20), ACTOR)
            .await
            .unwrap(),
        [StoredOutcome::Duplicate, StoredOutcome::Conflict]
    );
    // Another org's event ids are its own.
    assert_eq!(
        s.record_usage(&globex.id, &[event("e1", "7", 1)], at(3), ACTOR)
            .await
            .unwrap(),
        [StoredOutcome::Accepted]
    );
    // Exact: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    let (total, n) = where2eat_calls(s.as_ref(), &acme.id, at(0), at(23)).await;
    assert_eq!((total.as_str(), n), ("0.3", 2));
    let (total, n) = where2eat_calls(s.as_ref(), &acme.id, at(2), at(23)).await;
    assert_eq!((total.as_str(), n), ("0.2", 1));
}

pub async fn dead_letters_are_kept_per_org_oldest_first(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    let letter = |id: &str, hour: u32, event: Option<serde_json::Value>| DeadLetter {
        id: id.into(),
        org_id: acme.id.clone(),
        received_at: at(hour),
        index: 3,
        line: 4,
        event,
        problems: serde_json::json!([{"code": "unknown_metric", "pointer": "/metric"}]),
        replayed: None,
    };
    let letters = [
        letter("d2", 5, None),
        letter(
            "d1",
            4,
            Some(serde_json::json!({"eventId": "x", "value": "1.50"})),
        ),
    ];
    s.add_dead_letters(&letters).await.unwrap();
    let listed = s.list_dead_letters(&acme.id, 10, false).await.unwrap();
    assert_eq!(listed, vec![letters[1].clone(), letters[0].clone()]);
    assert_eq!(
        s.list_dead_letters(&acme.id, 1, false).await.unwrap().len(),
        1
    );
    let globex = seed_org(s.as_ref(), "globex").await;
    assert!(s
        .list_dead_letters(&globex.id, 10, false)
        .await
        .unwrap()
        .is_empty());
}

/// The total and count of `api_calls` of the seed app over `[from, until)`.
async fn where2eat_calls(
    s: &dyn plaza_core::ports::Store,
    org: &plaza_core::ids::OrgId,
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> (String, u64) {
    s.usage_total(org, "com.example.where2eat", "api_calls", from, until)
        .await
        .unwrap()
}

/// A correction of `target` (`void`, or `adjust` by `delta`).
fn correction(
    id: &str,
    kind: &str,
    target: &str,
    delta: Option<&str>,
    instance: &str,
) -> ValidatedEvent {
    let value = delta
        .map(|d| format!(r#","value":{d}"#))
        .unwrap_or_default();
    validated(&format!(
        r#"{{"eventId":"{id}","kind":"{kind}","ref":"{target}","appId":"com.example.where2eat","instanceId":"{instance}","metric":"api_calls"{value},"timestamp":"{}"}}"#,
        at(12).to_rfc3339()
    ))
}

fn scope(from: u32, until: u32) -> UsageScope {
    UsageScope {
        metric: "api_calls".into(),
        app_id: Some("com.example.where2eat".into()),
        from: at(from),
        until: at(until),
        ..UsageScope::default()
    }
}

/// Hourly sums and counts from the rollups.
async fn hourly_from_rollups(
    db: &TestDb,
    org: &plaza_core::ids::OrgId,
) -> BTreeMap<chrono::DateTime<chrono::Utc>, (String, u64)> {
    hourly_from_rollups_in(db, org, &scope(0, 23)).await
}

/// Hourly sums and counts from the rollups in `scope`.
async fn hourly_from_rollups_in(
    db: &TestDb,
    org: &plaza_core::ids::OrgId,
    scope: &UsageScope,
) -> BTreeMap<chrono::DateTime<chrono::Utc>, (String, u64)> {
    let mut hours: BTreeMap<_, (plaza_metering::Decimal, u64)> = BTreeMap::new();
    for b in db.store.rollup_buckets(org, scope).await.unwrap() {
        let hour = plaza_metering::window_start(b.bucket, Granularity::Hour, Tz::UTC).unwrap();
        let e = hours.entry(hour).or_default();
        e.0 += b.sum;
        e.1 += b.count;
    }
    hours
        .into_iter()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(h, (v, n))| (h, (v.normalize().to_string(), n)))
        .collect()
}

pub async fn batches_larger_than_one_statement_dedup_within_and_across_chunks(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    // 1,200 events span three insert statements; every 7th repeats an earlier id (identical),
    // every 100th reuses one with other content.
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    let repeats = |i: u32| i > 0 && (i.is_multiple_of(100) || i.is_multiple_of(7));
    // The nearest position at or before `j` that holds a counted event.
    let counted_at = |mut j: u32| {
        while repeats(j) {
            j -= 1;
        }
        j
    };
    for i in 0..1200u32 {
        if i > 0 && i.is_multiple_of(100) {
            let j = counted_at(i - 50);
            batch.push(event(&format!("e{j}"), "999", j % 20));
            expected.push(StoredOutcome::Conflict);
        } else if i > 0 && i.is_multiple_of(7) {
            let j = counted_at(i - 3);
            batch.push(event(&format!("e{j}"), &j.to_string(), j % 20));
            expected.push(StoredOutcome::Duplicate);
        } else {
            batch.push(event(&format!("e{i}"), &i.to_string(), i % 20));
            expected.push(StoredOutcome::Accepted);
        }
    }
    // Make sure the repeats name counted events (not other repeats).
    for (i, e) in batch.iter().enumerate() {
        if expected[i] != StoredOutcome::Accepted {
            let n: usize = e.event_id[1..].parse().unwrap();
            assert_eq!(
                expected[n],
                StoredOutcome::Accepted,
                "fixture: {i} repeats {n}"
            );
        }
    }
    let outcomes = s
        .record_usage(&acme.id, &batch, at(21), ACTOR)
        .await
        .unwrap();
    assert_eq!(outcomes, expected);
    let accepted: Vec<&ValidatedEvent> = batch
        .iter()
        .zip(&expected)
        .filter(|(_, o)| **o == StoredOutcome::Accepted)
        .map(|(e, _)| e)
        .collect();
    let sum: u64 = accepted
        .iter()
        .map(|e| e.value.to_string().parse::<u64>().unwrap())
        .sum();
    let (total, n) = where2eat_calls(s.as_ref(), &acme.id, at(0), at(23)).await;
    assert_eq!((total, n), (sum.to_string(), accepted.len() as u64));
    // The same batch again: nothing new, conflicts stay conflicts.
    let again = s
        .record_usage(&acme.id, &batch, at(22), ACTOR)
        .await
        .unwrap();
    for (o, e) in again.iter().zip(&expected) {
        let want = if *e == StoredOutcome::Conflict {
            StoredOutcome::Conflict
        } else {
            StoredOutcome::Duplicate
        };
        assert_eq!(*o, want);
    }
}

pub async fn rollups_match_the_reference_aggregation_with_corrections(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    // Events over several hours and two instances, values with decimals, some in the same
    // 15-minute bucket, committed in three batches.
    let mut all = Vec::new();
    for i in 0..60u32 {
        let minute = (i * 17) % 60;
        let hour = 1 + i % 5;
        let instance = if i.is_multiple_of(3) {
            "inst-2"
        } else {
            "inst-1"
        };
        all.push(validated(&format!(
            r#"{{"eventId":"u{i}","appId":"com.example.where2eat","instanceId":"{instance}","metric":"api_calls","value":{}.{},"timestamp":"2026-01-10T{hour:02}:{minute:02}:00Z"}}"#,
            i % 11,
            i % 4
        )));
    }
    for chunk in all.chunks(25) {
        s.record_usage(&acme.id, chunk, at(20), ACTOR)
            .await
            .unwrap();
    }
    let before_corrections = hourly_from_rollups(db, &acme.id).await;
    let reference = |events: &[ValidatedEvent]| {
        let mut out = BTreeMap::new();
        let sums = aggregate(
            events,
            || Accumulator::new(Aggregation::Sum),
            Granularity::Hour,
            Tz::UTC,
        )
        .unwrap();
        for (h, acc) in sums {
            out.insert(
                h,
                (acc.value().unwrap().normalize().to_string(), acc.count()),
            );
        }
        out
    };
    assert_eq!(before_corrections, reference(&all));

    // Corrections: void u3, adjust u4 twice, adjust then void u5, void u6 twice, adjust a
    // voided u3 (no effect).
    let inst = |id: &str| {
        all.iter()
            .find(|e| e.event_id == id)
            .unwrap()
            .instance_id
            .clone()
    };
    let corrections = vec![
        correction("c1", "void", "u3", None, &inst("u3")),
        correction("c2", "adjust", "u4", Some("-0.5"), &inst("u4")),
        correction("c3", "adjust", "u4", Some("2"), &inst("u4")),
        correction("c4", "adjust", "u5", Some("10"), &inst("u5")),
        correction("c5", "void", "u5", None, &inst("u5")),
        correction("c6", "void", "u6", None, &inst("u6")),
        correction("c7", "void", "u6", None, &inst("u6")),
        correction("c8", "adjust", "u3", Some("4"), &inst("u3")),
    ];
    let outcomes = s
        .record_usage(&acme.id, &corrections, at(21), ACTOR)
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| *o == StoredOutcome::Accepted),
        "{outcomes:?}"
    );
    all.extend(corrections.iter().cloned());
    assert_eq!(hourly_from_rollups(db, &acme.id).await, reference(&all));
    // The raw events in scope carry their corrections, whatever the corrections' timestamps.
    let raw = s.usage_events(&acme.id, &scope(1, 2)).await.unwrap();
    assert!(raw.iter().any(|e| e.event_id == "u5"));
    assert!(raw.iter().any(|e| e.event_id == "c5"), "{raw:?}");
    assert!(!raw.iter().any(|e| e.event_id == "c2"), "u4 is at 05:08");
    // Corrected buckets say so; max and latest must then be recomputed from raw events.
    let buckets = s.rollup_buckets(&acme.id, &scope(0, 23)).await.unwrap();
    assert!(buckets.iter().any(|b| b.corrected));
    assert!(buckets
        .iter()
        .any(|b| !b.corrected && b.max.is_some() && b.latest.is_some()));
    // Each correction is audited.
    let audited = s
        .list_audit(&AuditFilter {
            org_id: Some(acme.id.clone()),
            action_prefix: Some("usage.".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), corrections.len());
    assert_eq!(audited[0].entry.action, "usage.void");
    assert_eq!(
        audited[0].entry.target,
        "usage-event:com.example.where2eat/u3"
    );
    // Corrections are listed by arrival with the period they correct.
    let listed = s.list_corrections(&acme.id, None, at(21)).await.unwrap();
    assert_eq!(listed.len(), corrections.len());
    let u3 = all.iter().find(|e| e.event_id == "u3").unwrap();
    assert_eq!(listed[0].corrects_occurred_at, u3.timestamp);
    assert!(s
        .list_corrections(&acme.id, None, at(22))
        .await
        .unwrap()
        .is_empty());
}

pub async fn corrections_of_unknown_or_mismatched_events_are_refused(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    s.record_usage(&acme.id, &[event("e1", "3", 1)], at(2), ACTOR)
        .await
        .unwrap();
    let refused_code = |o: &StoredOutcome| match o {
        StoredOutcome::Refused(p) => p[0].code,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let outcomes = s
        .record_usage(
            &acme.id,
            &[
                correction("c1", "void", "nope", None, "inst-1"),
                correction("c2", "void", "e1", None, "inst-9"),
                correction("c3", "adjust", "e1", Some("1"), "inst-1"),
                correction("c4", "void", "c3", None, "inst-1"),
            ],
            at(3),
            ACTOR,
        )
        .await
        .unwrap();
    assert_eq!(refused_code(&outcomes[0]), Code::UnknownRef);
    assert_eq!(refused_code(&outcomes[1]), Code::RefMismatch);
    assert_eq!(outcomes[2], StoredOutcome::Accepted);
    assert_eq!(
        refused_code(&outcomes[3]),
        Code::UnknownRef,
        "a correction of a correction"
    );
    // Refused corrections are not stored: the same id can come back fixed.
    let fixed = s
        .record_usage(
            &acme.id,
            &[correction("c2", "void", "e1", None, "inst-1")],
            at(4),
            ACTOR,
        )
        .await
        .unwrap();
    assert_eq!(fixed, [StoredOutcome::Accepted]);
    let (total, n) = where2eat_calls(s.as_ref(), &acme.id, at(0), at(23)).await;
    assert_eq!((total.as_str(), n), ("0", 0));
}

pub async fn sequence_ranges_and_period_markers_are_kept_per_instance(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    let with_seq = |id: &str, instance: &str, seq: u64| {
        validated(&format!(
            r#"{{"eventId":"{id}","appId":"com.example.where2eat","instanceId":"{instance}","metric":"api_calls","value":1,"sequence":{seq},"timestamp":"{}"}}"#,
            at(1).to_rfc3339()
        ))
    };
    s.record_usage(
        &acme.id,
        &[
            with_seq("a1", "inst-1", 1),
            with_seq("a2", "inst-1", 2),
            with_seq("a5", "inst-1", 5),
            with_seq("b9", "inst-2", 9),
        ],
        at(2),
        ACTOR,
    )
    .await
    .unwrap();
    // Out of order, later, plus a duplicate that must not matter.
    s.record_usage(
        &acme.id,
        &[with_seq("a4", "inst-1", 4), with_seq("a1", "inst-1", 1)],
        at(3),
        ACTOR,
    )
    .await
    .unwrap();
    let seqs = s.instance_sequences(&acme.id, None, None).await.unwrap();
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[0].instance_id, "inst-1");
    assert_eq!(seqs[0].seen.ranges(), vec![1..=2, 4..=5]);
    assert_eq!(seqs[1].seen.ranges(), vec![9..=9]);
    assert_eq!(
        s.instance_sequences(&acme.id, None, Some("inst-2"))
            .await
            .unwrap()
            .len(),
        1
    );

    let marker = |first: u64, last: u64, by: &str| PeriodMarker {
        app_id: "com.example.where2eat".into(),
        instance_id: "inst-1".into(),
        period_start: at(0),
        period_end: at(12),
        first_sequence: first,
        last_sequence: last,
        marked_by: by.into(),
        marked_at: at(13),
    };
    let audit = entry(
        Some(&acme),
        "usage.period.mark",
        "usage-instance:com.example.where2eat/inst-1",
    );
    s.put_period_marker(&acme.id, &marker(1, 4, "user:a"), &audit)
        .await
        .unwrap();
    // Marking the same period again replaces the marker.
    s.put_period_marker(&acme.id, &marker(1, 5, "user:b"), &audit)
        .await
        .unwrap();
    let markers = s
        .list_period_markers(&acme.id, Some("com.example.where2eat"), None)
        .await
        .unwrap();
    assert_eq!(markers, vec![marker(1, 5, "user:b")]);
    assert!(s
        .list_period_markers(&acme.id, None, Some("inst-2"))
        .await
        .unwrap()
        .is_empty());
}

pub async fn dead_letters_are_replayed_once_and_then_hidden(db: &TestDb) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    let letter = DeadLetter {
        id: "d1".into(),
        org_id: acme.id.clone(),
        received_at: at(1),
        index: 0,
        line: 1,
        event: Some(serde_json::json!({"eventId": "x"})),
        problems: serde_json::json!([]),
        replayed: None,
    };
    s.add_dead_letters(std::slice::from_ref(&letter))
        .await
        .unwrap();
    assert_eq!(s.get_dead_letter(&acme.id, "d1").await.unwrap(), letter);
    s.mark_dead_letter_replayed(&acme.id, "d1", at(2), "accepted")
        .await
        .unwrap();
    assert!(s
        .list_dead_letters(&acme.id, 10, false)
        .await
        .unwrap()
        .is_empty());
    let all = s.list_dead_letters(&acme.id, 10, true).await.unwrap();
    assert_eq!(all[0].replayed, Some((at(2), "accepted".to_string())));
    let globex = seed_org(s.as_ref(), "globex").await;
    assert!(matches!(
        s.get_dead_letter(&globex.id, "d1").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.mark_dead_letter_replayed(&globex.id, "d1", at(2), "accepted")
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Hourly sums and counts by the reference aggregation (corrections of events not among
/// `events` are orphans and change nothing).
fn hourly_reference(
    events: &[ValidatedEvent],
) -> BTreeMap<chrono::DateTime<chrono::Utc>, (String, u64)> {
    aggregate(
        events,
        || Accumulator::new(Aggregation::Sum),
        Granularity::Hour,
        Tz::UTC,
    )
    .unwrap()
    .into_iter()
    .filter(|(_, acc)| acc.count() > 0)
    .map(|(h, acc)| {
        (
            h,
            (acc.value().unwrap().normalize().to_string(), acc.count()),
        )
    })
    .collect()
}

pub async fn rollups_by_version_and_instance_set_match_the_reference_across_an_upgrade(
    db: &TestDb,
) {
    let s = &db.store;
    let acme = seed_org(s.as_ref(), "acme").await;
    let body = |i: u32, instance: &str, hour: u32, minute: u32| {
        format!(
            r#"{{"eventId":"v{i}","appId":"com.example.where2eat","instanceId":"{instance}","metric":"api_calls","value":{}.{},"timestamp":"2026-01-10T{hour:02}:{minute:02}:00Z"}}"#,
            i % 7,
            i % 3
        )
    };
    // Before versions were kept (version unknown), then every instance at 1.0.0, then inst-1
    // upgraded to 1.1.0 while inst-2 stays: later events share buckets with earlier ones.
    let mut all = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..8u32 {
        unknown.push(validated_at_version(
            &body(i, "inst-1", 1 + i % 3, (i * 13) % 60),
            None,
        ));
    }
    let mut before = Vec::new();
    for i in 8..40u32 {
        let instance = if i.is_multiple_of(3) {
            "inst-2"
        } else {
            "inst-1"
        };
        before.push(validated_at_version(
            &body(i, instance, 1 + i % 4, (i * 11) % 60),
            Some("1.0.0"),
        ));
    }
    let mut after = Vec::new();
    for i in 40..70u32 {
        let (instance, version) = if i.is_multiple_of(3) {
            ("inst-2", "1.0.0")
        } else {
            ("inst-1", "1.1.0")
        };
        after.push(validated_at_version(
            &body(i, instance, 1 + i % 4, (i * 7) % 60),
            Some(version),
        ));
    }
    for batch in [&unknown, &before, &after] {
        let outcomes = s
            .record_usage(&acme.id, batch, at(20), ACTOR)
            .await
            .unwrap();
        assert!(
            outcomes.iter().all(|o| *o == StoredOutcome::Accepted),
            "{outcomes:?}"
        );
    }
    all.extend(unknown.iter().cloned());
    all.extend(before.iter().cloned());
    all.extend(after.iter().cloned());

    // An event counted at 1.0.0 and sent again after the upgrade is a duplicate and keeps
    // its version.
    let resent = validated_at_version(&body(9, "inst-2", 1 + 9 % 4, (9 * 11) % 60), Some("1.1.0"));
    assert_eq!(
        s.record_usage(&acme.id, &[resent], at(21), ACTOR)
            .await
            .unwrap(),
        [StoredOutcome::Duplicate]
    );

    // Corrections sent after the upgrade (recorded at 1.1.0) of events of every version:
    // each changes the rollup of the version of the event it corrects.
    let fix = |id: &str, kind: &str, target: &str, delta: Option<&str>| {
        let t = all.iter().find(|e| e.event_id == target).unwrap();
        let value = delta
            .map(|d| format!(r#","value":{d}"#))
            .unwrap_or_default();
        validated_at_version(
            &format!(
                r#"{{"eventId":"{id}","kind":"{kind}","ref":"{target}","appId":"com.example.where2eat","instanceId":"{}","metric":"api_calls"{value},"timestamp":"{}"}}"#,
                t.instance_id,
                at(12).to_rfc3339()
            ),
            Some("1.1.0"),
        )
    };
    let corrections = vec![
        fix("f1", "void", "v2", None),
        fix("f2", "adjust", "v10", Some("3.5")),
        fix("f3", "void", "v12", None),
        fix("f4", "adjust", "v41", Some("-0.5")),
        fix("f5", "void", "v45", None),
    ];
    let outcomes = s
        .record_usage(&acme.id, &corrections, at(22), ACTOR)
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| *o == StoredOutcome::Accepted),
        "{outcomes:?}"
    );
    all.extend(corrections.iter().cloned());

    let version_of = |e: &ValidatedEvent| e.app_version.clone().unwrap_or_default();
    let is_correction = |e: &ValidatedEvent| e.kind != plaza_metering::EventKind::Usage;
    // The reference for a selection of usage events: those events and every correction.
    let reference_of = |keep: &dyn Fn(&ValidatedEvent) -> bool| {
        let events: Vec<ValidatedEvent> = all
            .iter()
            .filter(|e| is_correction(e) || keep(e))
            .cloned()
            .collect();
        hourly_reference(&events)
    };
    assert_eq!(
        hourly_from_rollups(db, &acme.id).await,
        reference_of(&|_| true)
    );

    for version in ["", "1.0.0", "1.1.0"] {
        let mut sc = scope(0, 23);
        sc.version = Some(version.into());
        let want = reference_of(&|e| version_of(e) == version);
        assert!(!want.is_empty(), "fixture: usage at version `{version}`");
        // Rollups, filtered by the store.
        assert_eq!(
            hourly_from_rollups_in(db, &acme.id, &sc).await,
            want,
            "version `{version}`"
        );
        // Raw events, filtered by the store, folded by the reference: the same.
        let raw = s.usage_events(&acme.id, &sc).await.unwrap();
        assert!(raw
            .iter()
            .filter(|e| !is_correction(e))
            .all(|e| version_of(e) == version));
        assert_eq!(hourly_reference(&raw), want, "raw, version `{version}`");
    }
    // Grouping the unfiltered buckets by their version gives the same per-version totals.
    let buckets = s.rollup_buckets(&acme.id, &scope(0, 23)).await.unwrap();
    let mut by_version: BTreeMap<String, (plaza_metering::Decimal, u64)> = BTreeMap::new();
    for b in &buckets {
        let e = by_version.entry(b.version.clone()).or_default();
        e.0 += b.sum;
        e.1 += b.count;
    }
    let total_of = |h: BTreeMap<chrono::DateTime<chrono::Utc>, (String, u64)>| {
        h.values()
            .fold((plaza_metering::Decimal::ZERO, 0u64), |(s, n), (v, c)| {
                (s + v.parse::<plaza_metering::Decimal>().unwrap(), n + c)
            })
    };
    for version in ["", "1.0.0", "1.1.0"] {
        let (sum, n) = total_of(reference_of(&|e| version_of(e) == version));
        let got = by_version.get(version).copied().unwrap_or_default();
        assert_eq!(
            (got.0.normalize(), got.1),
            (sum.normalize(), n),
            "version `{version}`"
        );
    }
    assert_eq!(by_version.len(), 3, "{by_version:?}");
    // Stored events come back with their version; unknown ones without.
    let raw = s.usage_events(&acme.id, &scope(0, 23)).await.unwrap();
    let v40 = raw.iter().find(|e| e.event_id == "v40").unwrap();
    assert_eq!(v40.app_version.as_deref(), Some("1.1.0"));
    let v0 = raw.iter().find(|e| e.event_id == "v0").unwrap();
    assert_eq!(v0.app_version, None);
    let v9 = raw.iter().find(|e| e.event_id == "v9").unwrap();
    assert_eq!(
        v9.app_version.as_deref(),
        Some("1.0.0"),
        "the resend changed nothing"
    );

    // A set of instances, on the rollups and the raw events alike, alone and with a version.
    for (ids, version) in [
        (vec!["inst-2"], None),
        (vec!["inst-1", "inst-2"], None),
        (vec!["inst-1"], Some("1.0.0")),
        (vec!["inst-9"], None),
        (vec![], None),
    ] {
        let mut sc = scope(0, 23);
        sc.instance_ids = Some(ids.iter().map(|s| s.to_string()).collect());
        sc.version = version.map(str::to_owned);
        let want = reference_of(&|e| {
            ids.contains(&e.instance_id.as_str()) && version.is_none_or(|v| version_of(e) == v)
        });
        assert_eq!(
            hourly_from_rollups_in(db, &acme.id, &sc).await,
            want,
            "{ids:?} {version:?}"
        );
        let raw = s.usage_events(&acme.id, &sc).await.unwrap();
        assert_eq!(hourly_reference(&raw), want, "raw {ids:?} {version:?}");
    }
    let mut none = scope(0, 23);
    none.instance_ids = Some(Vec::new());
    assert!(s.rollup_buckets(&acme.id, &none).await.unwrap().is_empty());
    assert!(s.usage_events(&acme.id, &none).await.unwrap().is_empty());
}
