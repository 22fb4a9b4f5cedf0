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
    /// No answer in time (the request may have arrived).
    Timeout,
    /// The connection broke after the request may have arrived.
    Connection(String),
    /// The request never left: the host does not resolve, the connection was refused.
    NotSent(String),
}

/// A parsed Klarna URL.
#[derive(Clone, Debug)]
pub struct Target {
    /// Host name.
    pub host: String,
    /// Percent-decoded path segments.
    pub segments: Vec<String>,
    /// Query pairs, decoded as forms are (`+` is a space).
    pub query: Vec<(String, String)>,
}

impl Target {
    /// Parses `https://host/path?query` (the `url` crate); `None` for
    /// anything else, or a path segment that is not UTF-8 once decoded.
    pub fn parse(url: &str) -> Option<Self> {
        let url = url::Url::parse(url).ok().filter(|u| u.scheme() == "https")?;
        let host = url.host_str()?.to_ascii_lowercase();
        let segments = url.path_segments()?.filter(|s| !s.is_empty()).map(decode).collect::<Option<Vec<_>>>()?;
        let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Some(Self { host, segments, query })
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

/// Percent-decodes `s`; `None` when the bytes are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|text| text.into_owned())
}

/// RFC 3986's unreserved characters stay; everything else is encoded.
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}
