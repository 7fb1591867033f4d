//! Test guest: recurses without bound until the wasm stack is exhausted.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Deep;

#[inline(never)]
fn descend(depth: u64, pad: [u64; 8]) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let next = std::hint::black_box([pad[0] + depth; 8]);
    descend(depth + 1, next) + next[7]
}

impl wasi::exports::http::incoming_handler::Guest for Deep {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let n = descend(0, [0; 8]);
        plaza_guest::http::respond(out, 200, "text/plain", n.to_string().as_bytes());
    }
}

wasi::http::proxy::export!(Deep);
