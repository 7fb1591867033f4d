//! Test guest: a global counter, incremented per request and returned. A fresh instance per
//! request means the answer is always `1`.

use std::sync::atomic::{AtomicU64, Ordering};

use wasi::http::types::{IncomingRequest, ResponseOutparam};

static COUNTER: AtomicU64 = AtomicU64::new(0);

struct State;

impl wasi::exports::http::incoming_handler::Guest for State {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
        plaza_guest::http::respond(out, 200, "text/plain", n.to_string().as_bytes());
    }
}

wasi::http::proxy::export!(State);
