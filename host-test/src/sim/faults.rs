//! Faults to inject, for reliability tests: each applies to one request.

/// What to do to the next request instead of (or after) serving it.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer 429 with rate-limit headers; nothing is applied.
    RateLimited {
        /// `Retry-After`, in seconds.
        retry_after_s: u32,
    },
    /// Answer 500 `TIMEOUT`; nothing is applied.
    ServerTimeout,
    /// Apply the request, then answer 500 `TIMEOUT` (the response is lost).
    ApplyThenServerTimeout,
    /// Answer 503; nothing is applied.
    ServiceUnavailable,
    /// Fail the connection (the client cannot tell whether the request
    /// arrived); nothing is applied.
    ConnectionError,
    /// Refuse the connection: the request never leaves; nothing is applied.
    ConnectRefused,
    /// Apply the request, then fail the connection (the response is lost).
    ApplyThenConnectionError,
    /// Time out without applying.
    Timeout,
    /// Apply the request, then time out (the answer never comes).
    ApplyThenTimeout,
    /// Answer this instead (a proxy's HTML page, truncated JSON, ...); nothing is applied.
    Answer(super::http::SimResponse),
}

impl Fault {
    /// The fault's name, for tallies.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::RateLimited { .. } => "rate_limited",
            Fault::ServerTimeout => "server_timeout",
            Fault::ApplyThenServerTimeout => "apply_then_server_timeout",
            Fault::ServiceUnavailable => "service_unavailable",
            Fault::ConnectionError => "connection_error",
            Fault::ConnectRefused => "connect_refused",
            Fault::ApplyThenConnectionError => "apply_then_connection_error",
            Fault::Timeout => "timeout",
            Fault::ApplyThenTimeout => "apply_then_timeout",
            Fault::Answer(_) => "answer",
        }
    }

    /// Whether the request reaches Klarna's business logic.
    pub fn applies_request(&self) -> bool {
        matches!(self, Fault::ApplyThenServerTimeout | Fault::ApplyThenConnectionError | Fault::ApplyThenTimeout)
    }
}
