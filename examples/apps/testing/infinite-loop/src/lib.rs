//! Test guest: never answers; spins until the host stops it at the CPU limit.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Spin;

impl wasi::exports::http::incoming_handler::Guest for Spin {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
            if x == u64::MAX {
                break;
            }
        }
        plaza_guest::http::respond(out, 200, "text/plain", b"unreachable");
    }
}

wasi::http::proxy::export!(Spin);
