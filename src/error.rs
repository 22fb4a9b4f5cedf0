//! Typed errors, one case per decision a host makes (mirrors `connector-error`).

use std::fmt;

/// An error answered by a Klarna API, in either of Klarna's error shapes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Klarna's `error_code`.
    pub code: Option<String>,
    /// Klarna's human-readable messages.
    pub messages: Vec<String>,
    /// Klarna's `correlation_id` (or `error_id` on Klarna Network APIs).
    pub correlation_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if !self.messages.is_empty() {
            write!(f, ": {}", self.messages.join("; "))?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        Ok(())
    }
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectorError {
    /// The connection configuration is wrong (field and reason); nothing was sent.
    InvalidConfig(String),
    /// The request is wrong (field and reason); nothing was sent.
    InvalidInput(String),
    /// 401.
    Unauthorized(ApiError),
    /// 404 or `NO_SUCH_*`.
    NotFound(ApiError),
    /// Refused on business or validation grounds.
    Rejected(ApiError),
    /// 429, with how long to wait when known.
    RateLimited {
        /// Milliseconds to wait before trying again.
        retry_after_ms: Option<u64>,
        /// The error as answered.
        error: ApiError,
    },
    /// 5xx or `TIMEOUT`.
    Unavailable(ApiError),
    /// Klarna answered in a way the connector cannot use (a success body that
    /// cannot be read, a next link off the API host, a status `test()` does
    /// not expect); retrying will not help.
    Unexpected(ApiError),
    /// The host's transport failed.
    Transport(String),
    /// A write whose resend may act twice may have happened; it was not
    /// resent. The message says what came back and how to find out.
    OutcomeUnknown(String),
}

impl ConnectorError {
    /// Shorthand for an [`ConnectorError::InvalidInput`] naming `field`.
    pub fn input(field: impl fmt::Display, reason: impl fmt::Display) -> Self {
        Self::InvalidInput(format!("{field}: {reason}"))
    }

    /// Shorthand for an [`ConnectorError::InvalidConfig`] naming `field`.
    pub fn config(field: impl fmt::Display, reason: impl fmt::Display) -> Self {
        Self::InvalidConfig(format!("{field}: {reason}"))
    }

    /// The API error carried by the answer-based cases.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Unauthorized(e)
            | Self::NotFound(e)
            | Self::Rejected(e)
            | Self::Unavailable(e)
            | Self::Unexpected(e) => Some(e),
            Self::RateLimited { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::Unauthorized(e) => write!(f, "unauthorized: {e}"),
            Self::NotFound(e) => write!(f, "not found: {e}"),
            Self::Rejected(e) => write!(f, "rejected: {e}"),
            Self::RateLimited { retry_after_ms, error } => match retry_after_ms {
                Some(ms) => write!(f, "rate limited (retry after {ms} ms): {error}"),
                None => write!(f, "rate limited: {error}"),
            },
            Self::Unavailable(e) => write!(f, "unavailable: {e}"),
            Self::Unexpected(e) => write!(f, "unexpected answer: {e}"),
            Self::Transport(m) => write!(f, "transport: {m}"),
            Self::OutcomeUnknown(m) => write!(f, "outcome unknown: {m}"),
        }
    }
}

impl std::error::Error for ConnectorError {}

/// Result with [`ConnectorError`].
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;
