//! The simulator's own view of HTTP: plain requests and responses, and the
//! helpers every API family uses to answer like Klarna does.

use serde_json::Value;

/// A request as it reaches Klarna.
#[derive(Clone, Debug)]
pub struct SimRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl SimRequest {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response as Klarna sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimResponse {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl SimResponse {
    /// A JSON response.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// An empty response (204, 201 with headers, ...).
    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![] }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A failure below HTTP: what a real network would do instead of answering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkFailure {
    /// No answer in time.
    Timeout,
    /// The connection broke (or the host does not exist).
    Connection(String),
}

/// A parsed Klarna URL.
#[derive(Clone, Debug)]
pub struct Target {
    /// Host name.
    pub host: String,
    /// Percent-decoded path segments.
    pub segments: Vec<String>,
    /// Percent-decoded query pairs.
    pub query: Vec<(String, String)>,
}

impl Target {
    /// Parses `https://host/path?query`; `None` for anything else.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("https://")?;
        let (host, path_and_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let segments = path.split('/').filter(|s| !s.is_empty()).map(decode).collect::<Option<Vec<_>>>()?;
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Some((decode(k)?, decode(&v.replace('+', " "))?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { host: host.to_ascii_lowercase(), segments, query })
    }

    /// The path segments as `&str`s, for matching.
    pub fn parts(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// The first query value named `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes `s` (UTF-8).
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
