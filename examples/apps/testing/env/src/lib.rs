//! Test guest: answers its whole environment as a JSON object, and its arguments and working
//! directory, so a test can check that only the variables given are there.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct Env;

impl wasi::exports::http::incoming_handler::Guest for Env {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let vars: serde_json::Map<String, serde_json::Value> = std::env::vars()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let args: Vec<String> = std::env::args().collect();
        let body = serde_json::json!({ "env": vars, "args": args });
        plaza_guest::http::respond_json(out, 200, &body);
    }
}

wasi::http::proxy::export!(Env);
