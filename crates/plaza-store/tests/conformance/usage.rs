//! Metered usage: events counted once forever per (org, app, event id), identical repeats
//! answered as duplicates, a reused id with other content logged as a conflict and not
//! counted, exact decimal totals, and dead letters kept in order.

use crate::fixtures::*;
use crate::harness::TestDb;
use chrono::TimeZone;
use plaza_core::usage::{DeadLetter, StoredOutcome};
use plaza_metering::{parse, validate, MeteringContext, ParseOptions, ValidatedEvent};

fn at(h: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 1, 10, h, 0, 0).unwrap()
}

/// A validated `api_calls` (count) event; `value` as JSON text so decimals stay exact.
fn event(id: &str, value: &str, hour: u32) -> ValidatedEvent {
    let body = format!(
        r#"{{"eventId":"{id}","appId":"com.example.where2eat","instanceId":"inst-1","metric":"api_calls","value":{value},"timestamp":"{}"}}"#,
        at(hour).to_rfc3339()
    );
    let raw = parse(
        body.as_bytes(),
        "application/json",
        &ParseOptions::default(),
    )
    .unwrap()
    .remove(0)
    .unwrap();
    let cx = MeteringContext::new(at(23)).with_metric("api_calls", "count");
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
    let outcomes = s.record_usage(&acme.id, &batch, at(3)).await.unwrap();
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
        s.record_usage(&acme.id, &later, at(20)).await.unwrap(),
        [StoredOutcome::Duplicate, StoredOutcome::Conflict]
    );
    // Another org's event ids are its own.
    assert_eq!(
        s.record_usage(&globex.id, &[event("e1", "7", 1)], at(3))
            .await
            .unwrap(),
        [StoredOutcome::Accepted]
    );
    // Exact: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    let (total, n) = s
        .usage_total(
            &acme.id,
            "com.example.where2eat",
            "api_calls",
            at(0),
            at(23),
        )
        .await
        .unwrap();
    assert_eq!((total.as_str(), n), ("0.3", 2));
    let (total, n) = s
        .usage_total(
            &acme.id,
            "com.example.where2eat",
            "api_calls",
            at(2),
            at(23),
        )
        .await
        .unwrap();
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
    let listed = s.list_dead_letters(&acme.id, 10).await.unwrap();
    assert_eq!(listed, vec![letters[1].clone(), letters[0].clone()]);
    assert_eq!(s.list_dead_letters(&acme.id, 1).await.unwrap().len(), 1);
    let globex = seed_org(s.as_ref(), "globex").await;
    assert!(s
        .list_dead_letters(&globex.id, 10)
        .await
        .unwrap()
        .is_empty());
}
