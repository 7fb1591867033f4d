//! Where2Eat: proposes the first free 60-minute lunch slot between 11:30 and 14:00 UTC.
//!
//! `GET /?date=YYYY-MM-DD` (today, UTC, when omitted):
//! 1. exchanges the installation token for a `calendar.read` token (RFC 8693, via Plaza);
//! 2. reads `GET $PLAZA_URL/api/mock/calendar/events?date=…` with that token;
//! 3. answers `{"date": …, "slot": {"start", "end"}}`, or `"slot": null` when the window is full;
//! 4. emits `api_calls` = 1.
//!
//! An error from Plaza becomes a `502` problem+json with the detail. `GET /healthz` answers `200`
//! without calling anything.

mod slots;

use plaza_guest::http::{self, Method};
use serde::Deserialize;
use wasi::http::types::{IncomingRequest, Method as HttpMethod, ResponseOutparam};

/// The calendar response: `{"events": [{"start", "end", "title"}]}`.
#[derive(Debug, Deserialize)]
struct Calendar {
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    start: String,
    end: String,
}

struct Where2Eat;

impl wasi::exports::http::incoming_handler::Guest for Where2Eat {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let pq = http::path_and_query(&request);
        let path = pq.split('?').next().unwrap_or("/");
        match (request.method(), path) {
            (HttpMethod::Get, "/healthz") => http::respond(out, 200, "text/plain", b"ok"),
            (HttpMethod::Get, "/") => {
                let date =
                    http::query_param(&pq, "date").unwrap_or_else(plaza_guest::time::today_utc);
                if slots::parse_date(&date).is_none() {
                    return problem(
                        out,
                        400,
                        "Bad Request",
                        &format!("`date` must be YYYY-MM-DD, not `{date}`"),
                    );
                }
                match lunch(&date) {
                    Ok(answer) => {
                        if let Err(e) = plaza_guest::emit("api_calls", 1.0) {
                            // Usage reporting must not cost the user their answer; the host logs stderr.
                            eprintln!("where2eat: could not emit api_calls: {e}");
                        }
                        http::respond_json(out, 200, &answer);
                    }
                    Err(detail) => problem(out, 502, "Bad Gateway", &detail),
                }
            }
            _ => problem(out, 404, "Not Found", &format!("no route for {path}")),
        }
    }
}

fn lunch(date: &str) -> Result<serde_json::Value, String> {
    let token =
        plaza_guest::exchange_token("calendar.read").map_err(|e| format!("token exchange: {e}"))?;
    let url = format!(
        "{}/api/mock/calendar/events?date={}",
        plaza_guest::plaza_url(),
        plaza_guest::percent_encode(date)
    );
    let auth = format!("Bearer {}", token.access_token);
    let response = http::fetch(
        Method::Get,
        &url,
        &[("authorization", &auth), ("accept", "application/json")],
        None,
    )
    .map_err(|e| format!("calendar: request failed: {e}"))?;
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "calendar: Plaza answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    let calendar: Calendar = serde_json::from_slice(&response.body)
        .map_err(|e| format!("calendar: unexpected response: {e}"))?;
    let busy: Vec<(String, String)> = calendar
        .events
        .into_iter()
        .map(|e| (e.start, e.end))
        .collect();
    let slot = slots::first_free_slot(date, &busy)?;
    Ok(serde_json::json!({
        "date": date,
        "slot": slot.map(|(start, end)| serde_json::json!({ "start": start, "end": end })),
    }))
}

fn problem(out: ResponseOutparam, status: u16, title: &str, detail: &str) {
    let body = serde_json::json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    http::respond(
        out,
        status,
        "application/problem+json",
        body.to_string().as_bytes(),
    );
}

wasi::http::proxy::export!(Where2Eat);
