//! Test guest: panics while handling the request.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Panic;

impl wasi::exports::http::incoming_handler::Guest for Panic {
    fn handle(request: IncomingRequest, _out: ResponseOutparam) {
        let path = plaza_guest::http::path_and_query(&request);
        panic!("test guest panicked on purpose at {path}");
    }
}

wasi::http::proxy::export!(Panic);
