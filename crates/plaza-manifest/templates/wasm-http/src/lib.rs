//! {{name}}: a WebAssembly component that answers HTTP requests through `wasi:http`.
//!
//! Build with `cargo build --release --target wasm32-wasip2`.

use std::io::Write as _;

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wasi::http::proxy::export!(App);

struct App;

impl wasi::exports::http::incoming_handler::Guest for App {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let (status, body) = match path.split('?').next().unwrap_or("") {
            "/healthz" => (200, "ok\n"),
            "/" => (200, "Hello from {{name_rust}}!\n"),
            _ => (404, "not found\n"),
        };

        let headers = Fields::new();
        let _ = headers.set(
            &"content-type".to_string(),
            &[b"text/plain; charset=utf-8".to_vec()],
        );
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let outgoing = response.body().expect("response body");
        ResponseOutparam::set(response_out, Ok(response));

        let mut stream = outgoing.write().expect("body stream");
        stream.write_all(body.as_bytes()).expect("write body");
        stream.flush().expect("flush body");
        drop(stream);
        OutgoingBody::finish(outgoing, None).expect("finish body");
    }
}
