//! Test guest: tries to read `/etc/passwd` and to list `/`; answers what happened.

use wasi::http::types::{IncomingRequest, ResponseOutparam};

struct FileRead;

impl wasi::exports::http::incoming_handler::Guest for FileRead {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let read = match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => format!(
                "read {} bytes: {}",
                text.len(),
                text.lines().next().unwrap_or("")
            ),
            Err(e) => format!("refused: {e}"),
        };
        let list = match std::fs::read_dir("/") {
            Ok(entries) => format!("listed {} entries", entries.count()),
            Err(e) => format!("refused: {e}"),
        };
        let status = if read.starts_with("refused") && list.starts_with("refused") {
            200
        } else {
            500
        };
        plaza_guest::http::respond(
            out,
            status,
            "text/plain",
            format!("{read}\n{list}\n").as_bytes(),
        );
    }
}

wasi::http::proxy::export!(FileRead);
