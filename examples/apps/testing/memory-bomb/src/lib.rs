//! Test guest: allocates (and touches) 1 MiB after 1 MiB until the host refuses to grow memory.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Bomb;

impl wasi::exports::http::incoming_handler::Guest for Bomb {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let chunk = vec![0xA5u8; 1 << 20];
            hoard.push(std::hint::black_box(chunk));
            if hoard.len() > 1 << 16 {
                break;
            }
        }
        plaza_guest::http::respond(out, 200, "text/plain", b"survived");
    }
}

wasi::http::proxy::export!(Bomb);
