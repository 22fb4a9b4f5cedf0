//! Sending one Klarna request: headers, credentials, bounded retries.

use std::time::Duration;

use base64::Engine as _;

use crate::config::{RetryPolicy, ValidConfig};
use crate::error::{ConnectorError, Result};
use crate::model::{Auth, Method};
use crate::response;
use crate::transport::{HttpRequest, HttpResponse, Level, Transport, TransportError};

/// `User-Agent`, in Klarna's SDK convention.
pub const USER_AGENT: &str = concat!(
    "Library/klarna-connector_",
    env!("CARGO_PKG_VERSION"),
    " Platform/ipaas-wasm_0.1.0 Language/Rust"
);

/// A request before credentials and standard headers are added.
#[derive(Clone, Debug)]
pub struct Call {
    /// Method.
    pub method: Method,
    /// Path, already rendered and encoded.
    pub path: String,
    /// Query string, already encoded (no `?`).
    pub query: String,
    /// JSON body.
    pub body: Option<Vec<u8>>,
    /// Extra headers (idempotency key, ...).
    pub headers: Vec<(String, String)>,
    /// Whether sending it twice is harmless (a read, or a keyed write).
    pub retry_safe: bool,
}

/// Sends [`Call`]s for one connection.
pub struct Client<T> {
    transport: T,
    config: ValidConfig,
}

impl<T: Transport> Client<T> {
    /// A client for a validated configuration.
    pub fn new(transport: T, config: ValidConfig) -> Self {
        Self { transport, config }
    }

    /// The configuration.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Sends `call`, retrying safe calls on 429, 5xx, `TIMEOUT` and
    /// timeouts/connection failures within the retry policy. Returns the
    /// final response whatever its status, or the last transport error.
    pub fn send(&self, call: &Call) -> Result<HttpResponse> {
        let request = self.http_request(call)?;
        let policy = if call.retry_safe {
            self.config.retry
        } else {
            RetryPolicy {
                max_attempts: 1,
                ..self.config.retry
            }
        };
        let mut waited_ms = 0u64;
        let mut attempt = 1u32;
        loop {
            let outcome = self.transport.send(&request);
            let (retryable, hinted_wait) = match &outcome {
                Ok(r) => (is_retryable_status(r), response::retry_after_ms(r)),
                Err(TransportError::Timeout | TransportError::Connection(_)) => (true, None),
                Err(_) => (false, None),
            };
            self.log_outcome(call, &outcome, attempt);
            if !retryable || attempt >= policy.max_attempts {
                return outcome.map_err(transport_error);
            }
            let wait = hinted_wait
                .unwrap_or_else(|| backoff_ms(policy.base_delay_ms, attempt, &request.url));
            if waited_ms + wait > policy.budget_ms {
                self.transport.log(
                    Level::Warn,
                    &format!(
                        "{} {}: not retrying, next wait of {wait} ms is past the retry budget",
                        call.method, call.path
                    ),
                );
                return outcome.map_err(transport_error);
            }
            self.transport.sleep(Duration::from_millis(wait));
            waited_ms += wait;
            attempt += 1;
        }
    }

    fn http_request(&self, call: &Call) -> Result<HttpRequest> {
        let mut url = format!("{}{}", self.config.base_url(), call.path);
        if !call.query.is_empty() {
            url.push('?');
            url.push_str(&call.query);
        }
        let mut headers = vec![
            ("Authorization".to_string(), self.authorization()?),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        if call.body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        headers.extend(call.headers.iter().cloned());
        Ok(HttpRequest {
            method: call.method.clone(),
            url,
            headers,
            body: call.body.clone(),
            timeout_ms: Some(self.config.timeout_ms),
        })
    }

    fn authorization(&self) -> Result<String> {
        match &self.config.auth {
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                Ok(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            Auth::Token(token) => Ok(format!("Bearer {}", token.expose())),
            Auth::OAuth2 { .. } => Err(ConnectorError::config(
                "auth",
                "oauth2 is not offered for this API type",
            )),
        }
    }

    fn log_outcome(
        &self,
        call: &Call,
        outcome: &std::result::Result<HttpResponse, TransportError>,
        attempt: u32,
    ) {
        let (level, what) = match outcome {
            Ok(r) if r.status < 400 => (Level::Debug, format!("HTTP {}", r.status)),
            Ok(r) => (Level::Warn, format!("HTTP {}", r.status)),
            Err(e) => (Level::Warn, transport_error(e.clone()).to_string()),
        };
        self.transport.log(
            level,
            &format!("{} {} (attempt {attempt}): {what}", call.method, call.path),
        );
    }
}

fn is_retryable_status(response: &HttpResponse) -> bool {
    matches!(response.status, 429 | 500..=599)
}

/// Exponential backoff with jitter: a wait in `[d/2, d]` for `d = base × 2^(attempt-1)`,
/// the jitter taken from a hash of the URL and attempt so that concurrent
/// connections spread out while one request's waits stay reproducible.
fn backoff_ms(base_ms: u64, attempt: u32, url: &str) -> u64 {
    let ceiling = base_ms << (attempt - 1).min(10);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in url.bytes().chain(attempt.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    ceiling / 2 + hash % (ceiling / 2 + 1)
}

fn transport_error(error: TransportError) -> ConnectorError {
    ConnectorError::Transport(match error {
        TransportError::Timeout => "timed out".to_string(),
        TransportError::Denied(why) => format!("denied by the host: {why}"),
        TransportError::Connection(why) => format!("connection failed: {why}"),
        TransportError::Other(why) => why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_in_range() {
        for attempt in 1..6 {
            let ceiling = 200 << (attempt - 1);
            let wait = backoff_ms(200, attempt, "https://api.klarna.com/x");
            assert!(
                (ceiling / 2..=ceiling).contains(&wait),
                "attempt {attempt}: {wait}"
            );
        }
    }

    #[test]
    fn user_agent_follows_klarna_convention() {
        assert!(USER_AGENT.starts_with("Library/klarna-connector_0.1.0 Platform/ipaas-wasm"));
    }
}
