//! What the connector needs from its host: send HTTP, write logs, wait.
//!
//! In the component these are the `http` and `log` imports and WASI clocks;
//! natively (tests, benchmarks) any implementation will do.

use std::time::Duration;

use crate::model::{Method, Pairs};

/// An HTTP request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// The HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers (may hold credentials: never log them).
    pub headers: Pairs,
    /// The body, if the request has one.
    pub body: Option<Vec<u8>>,
    /// Time limit.
    pub timeout_ms: Option<u32>,
}

/// An HTTP response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers as Klarna sent them (names in any case; see [`HttpResponse::header`]).
    pub headers: Pairs,
    /// The body, whatever its status.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why the host could not get a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// Time limit passed.
    Timeout,
    /// The host refused to send it.
    Denied(String),
    /// The connection failed after the request may have been sent.
    Connection(String),
    /// Anything else.
    Other(String),
    /// The request surely never left (no name, connection refused, TLS handshake failed).
    NotSent(String),
}

impl TransportError {
    /// Whether the request surely did not reach Klarna.
    pub fn surely_not_sent(&self) -> bool {
        matches!(self, Self::NotSent(_) | Self::Denied(_))
    }
}

/// Log severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Detail for debugging (each attempt of a request).
    Debug,
    /// Normal progress (a retry, a token renewed).
    Info,
    /// Something unexpected the connector handled (an error status, a retry budget spent).
    Warn,
    /// A failure.
    Error,
}

/// The host side of the connector.
pub trait Transport {
    /// Sends one request.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Writes one log line (never with secrets in it).
    fn log(&self, _level: Level, _message: &str) {}

    /// Waits before a retry.
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// Seconds since the Unix epoch (the expiry of issued tokens). The
    /// default reads the system clock: `wasi:clocks/wall-clock` in the component.
    fn now_unix_s(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// A random number, drawn once per connection to seed its retry jitter,
    /// so that connections retrying the same URL at the same moment spread
    /// out. The default draws it from std's `RandomState`, whose keys come
    /// from the platform's randomness: `wasi:random` in the component.
    fn random_seed(&self) -> u64 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(0x6a69_7474_6572_u64)
    }
}
