//! The smallest Plaza app: `GET /` says hello, `GET /healthz` says ok.

use wasi::http::types::{IncomingRequest, Method, ResponseOutparam};

struct Hello;

impl wasi::exports::http::incoming_handler::Guest for Hello {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = plaza_guest::http::path_and_query(&request);
        let path = path.split('?').next().unwrap_or("/");
        match (request.method(), path) {
            (Method::Get, "/") => plaza_guest::http::respond(
                out,
                200,
                "text/plain; charset=utf-8",
                b"Hello from Plaza!\n",
            ),
            (Method::Get, "/healthz") => plaza_guest::http::respond(out, 200, "text/plain", b"ok"),
            _ => plaza_guest::http::respond(out, 404, "text/plain", b"not found\n"),
        }
    }
}

wasi::http::proxy::export!(Hello);
