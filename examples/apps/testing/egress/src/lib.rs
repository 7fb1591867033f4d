//! Test guest: fetches the URL given as `?url=` (or the `x-fetch-url` header) and answers JSON
//! `{"status": <code>, "bytes": <n>}` or `{"error": "<wasi:http error code>"}`. With `?n=<k>` it
//! makes the request k times (stopping at the first error), for the connection quota.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Egress;

impl wasi::exports::http::incoming_handler::Guest for Egress {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let pq = plaza_guest::http::path_and_query(&request);
        let url = plaza_guest::http::query_param(&pq, "url")
            .or_else(|| plaza_guest::http::header(&request, "x-fetch-url"));
        let Some(url) = url else {
            plaza_guest::http::respond(out, 400, "text/plain", b"give ?url=");
            return;
        };
        let times: u32 = plaza_guest::http::query_param(&pq, "n")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let body =
            plaza_guest::http::query_param(&pq, "send").map(|n| vec![b'x'; n.parse().unwrap_or(0)]);
        let method = if body.is_some() {
            plaza_guest::http::Method::Post
        } else {
            plaza_guest::http::Method::Get
        };
        let mut answer = serde_json::json!({});
        for i in 0..times {
            match plaza_guest::http::fetch(method, &url, &[], body.as_deref()) {
                Ok(r) => {
                    answer = serde_json::json!({ "status": r.status, "bytes": r.body.len(), "done": i + 1 });
                }
                Err(e) => {
                    answer = serde_json::json!({ "error": e, "done": i });
                    break;
                }
            }
        }
        plaza_guest::http::respond_json(out, 200, &answer);
    }
}

wasi::http::proxy::export!(Egress);
