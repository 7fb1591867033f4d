//! Small, blocking wasi:http helpers: answer the incoming request, make an outgoing one.

use std::io::{Read, Write};

use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam,
    Scheme,
};

/// The HTTP methods [`fetch`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

/// A response read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// The request's path and query (`/` when absent).
pub fn path_and_query(request: &IncomingRequest) -> String {
    request.path_with_query().unwrap_or_else(|| "/".to_owned())
}

/// The value of a query parameter, percent-decoded (`+` stays `+`).
pub fn query_param(path_and_query: &str, name: &str) -> Option<String> {
    let query = path_and_query.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of a request header, as text.
pub fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    let values = request.headers().get(name);
    values
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Sends a complete response: status, one `content-type` header, body.
pub fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: &[u8]) {
    let headers = Fields::new();
    // Setting a well-formed content-type cannot fail; if it somehow does, the body still goes out.
    let _ = headers.set("content-type", &[content_type.as_bytes().to_vec()]);
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(mut stream) = outgoing.write() {
        // `write_all` goes through `check-write`, so large bodies are written in permitted pieces.
        let _ = stream.write_all(body);
        let _ = stream.flush();
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

/// Sends a JSON response.
pub fn respond_json(out: ResponseOutparam, status: u16, value: &serde_json::Value) {
    respond(
        out,
        status,
        "application/json",
        value.to_string().as_bytes(),
    );
}

/// Sends a request and reads the whole response. `url` is `http[s]://authority/path?query`.
///
/// Errors are the wasi:http error code (or a short description), as text.
pub fn fetch(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not an absolute URL: {url}"))?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(format!("unsupported scheme {other}")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => match rest.find('?') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        },
    };
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("header {name}: {e:?}"))?;
    }
    let request = OutgoingRequest::new(fields);
    let method = match method {
        Method::Get => wasi::http::types::Method::Get,
        Method::Post => wasi::http::types::Method::Post,
    };
    request
        .set_method(&method)
        .map_err(|()| "invalid method".to_owned())?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "invalid scheme".to_owned())?;
    request
        .set_authority(Some(authority))
        .map_err(|()| format!("invalid authority {authority}"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| format!("invalid path {path}"))?;
    let outgoing_body = request
        .body()
        .map_err(|()| "request body already taken".to_owned())?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    // If the host refuses or fails the request, the body stream may already be closed when we
    // write it; the response future then holds the real reason, so a body error is only
    // reported when the response itself does not fail.
    let body_error = write_body(outgoing_body, body).err();

    let incoming = loop {
        match future.get() {
            Some(result) => break result,
            None => future.subscribe().block(),
        }
    };
    let response = incoming
        .map_err(|()| "response already taken".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    if let Some(e) = body_error {
        return Err(e);
    }
    let status = response.status();
    let incoming_body = response
        .consume()
        .map_err(|()| "response body already taken".to_owned())?;
    let mut bytes = Vec::new();
    {
        let mut stream = incoming_body
            .stream()
            .map_err(|()| "response body stream already taken".to_owned())?;
        stream.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    }
    drop(incoming_body);
    Ok(Response {
        status,
        body: bytes,
    })
}

fn write_body(outgoing_body: OutgoingBody, body: Option<&[u8]>) -> Result<(), String> {
    {
        let mut stream = outgoing_body
            .write()
            .map_err(|()| "request body stream already taken".to_owned())?;
        if let Some(body) = body {
            stream.write_all(body).map_err(|e| e.to_string())?;
        }
        stream.flush().map_err(|e| e.to_string())?;
    }
    OutgoingBody::finish(outgoing_body, None).map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        assert_eq!(
            query_param("/?date=2026-01-10&x=1", "date").as_deref(),
            Some("2026-01-10")
        );
        assert_eq!(
            query_param("/?url=http%3A%2F%2Fa%2Fb", "url").as_deref(),
            Some("http://a/b")
        );
        assert_eq!(query_param("/", "date"), None);
    }
}
