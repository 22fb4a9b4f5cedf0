//! Reading a `wasi:http` request and writing a response, whole or streamed.

use wasip2::http::types::{
    ErrorCode, Fields, HeaderError, IncomingRequest, Method, OutgoingBody, OutgoingResponse, OutputStream,
    ResponseOutparam,
};
use wasip2::io::streams::StreamError;

/// Largest write to an output stream in one call (wasi:io allows 4096 at least).
const WRITE_CHUNK: usize = 4096;

/// Largest read from an input stream in one call.
const READ_CHUNK: u64 = 64 * 1024;

/// The head of a request: enough to route it before its body is read.
pub struct Head {
    /// The method, upper case (`POST`).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without `?` (may be empty).
    pub query: String,
    /// The headers (values as UTF-8, lossily).
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The head of `request`.
    pub fn of(request: &IncomingRequest) -> Self {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Connect => "CONNECT".to_string(),
            Method::Options => "OPTIONS".to_string(),
            Method::Trace => "TRACE".to_string(),
            Method::Patch => "PATCH".to_string(),
            Method::Other(other) => other,
        };
        let target = request.path_with_query().unwrap_or_else(|| "/".into());
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let headers = request
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        Self { method, path: path.to_string(), query: query.to_string(), headers }
    }

    /// A header's value, its name compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a body was not read.
pub enum BodyError {
    /// Longer than the limit (by its `Content-Length`, or once read that far).
    TooLarge,
    /// The stream broke off.
    Broken(String),
}

/// Reads the whole body, refusing one over `max` bytes without reading it all.
pub fn read_body(request: IncomingRequest, head: &Head, max: u64) -> Result<Vec<u8>, BodyError> {
    if head.header("content-length").and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let body = request.consume().map_err(|()| BodyError::Broken("the body was taken twice".into()))?;
    let stream = body.stream().map_err(|()| BodyError::Broken("the body was taken twice".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > max {
                    return Err(BodyError::TooLarge);
                }
            }
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => return Err(BodyError::Broken(e.to_debug_string())),
        }
    }
}

/// A response being written: its body stream stays open until [`Streaming::finish`].
pub struct Streaming {
    stream: Option<OutputStream>,
    body: OutgoingBody,
}

impl Streaming {
    /// Sends the status and headers; the body follows with [`Streaming::write`]
    /// (chunked, as no `Content-Length` is given). `None` when the engine
    /// would not give the response a body (it then answers 500 itself).
    pub fn start(out: ResponseOutparam, status: u16, headers: &[(&str, String)]) -> Option<Self> {
        let fields = Fields::new();
        // Header names and values come from this crate or from the plugin's reply. One the
        // engine refuses (forbidden there, or malformed) is left out alone, and logged: the
        // others, `content-type` first, still go.
        for (name, value) in headers {
            if let Err(refused) = fields.append(name, value.as_bytes()) {
                let why = match refused {
                    HeaderError::Forbidden => "forbidden by the engine",
                    HeaderError::InvalidSyntax => "not a valid header",
                    HeaderError::Immutable => "the headers were already sent",
                };
                let line = serde_json::json!({"warning": format!("reply header {name} dropped: {why}")});
                eprintln!("{line}");
            }
        }
        let response = OutgoingResponse::new(fields);
        let _ = response.set_status_code(status);
        let Ok(body) = response.body() else {
            ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some("no response body".into()))));
            return None;
        };
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().ok();
        Some(Self { stream, body })
    }

    /// Writes `bytes`; `false` when the client went away.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        let Some(stream) = &self.stream else { return false };
        bytes.chunks(WRITE_CHUNK).all(|chunk| stream.blocking_write_and_flush(chunk).is_ok())
    }

    /// Ends the body.
    pub fn finish(mut self) {
        drop(self.stream.take());
        let _ = OutgoingBody::finish(self.body, None);
    }
}

/// A response with its whole body.
pub fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let mut headers = headers.to_vec();
    headers.push(("content-length", body.len().to_string()));
    if let Some(mut streaming) = Streaming::start(out, status, &headers) {
        streaming.write(body);
        streaming.finish();
    }
}
