//! Sending one Klarna request: headers, credentials, bounded retries.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::config::{Credentials, RetryPolicy, ValidConfig};
use crate::error::{ConnectorError, Result};
use crate::model::{Auth, Method};
use crate::secret::Secret;
use crate::transport::{HttpRequest, HttpResponse, Level, Transport, TransportError};
use crate::{oauth, response};

/// `User-Agent`, in Klarna's SDK convention.
pub const USER_AGENT: &str =
    concat!("Library/klarna-connector_", env!("CARGO_PKG_VERSION"), " Platform/ipaas-wasm_0.1.0 Language/Rust");

/// A request before credentials and standard headers are added.
#[derive(Clone, Debug)]
pub struct Call {
    /// Method.
    pub method: Method,
    /// Path, already rendered and encoded.
    pub path: String,
    /// Query string, already encoded (no `?`).
    pub query: String,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// The body's `Content-Type` when it is not JSON.
    pub content_type: Option<String>,
    /// Extra headers (idempotency key, ...).
    pub headers: Vec<(String, String)>,
    /// Whether sending it twice is harmless (a read, or a keyed write).
    pub retry_safe: bool,
}

/// Renew an OAuth 2.0 token this long before Klarna says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// An OAuth 2.0 access token and when to stop using it.
struct CachedToken {
    value: Secret,
    renew_at: Option<Instant>,
}

/// Sends [`Call`]s for one connection.
pub struct Client<T> {
    transport: T,
    config: ValidConfig,
    token: RefCell<Option<CachedToken>>,
}

impl<T: Transport> Client<T> {
    /// A client for a validated configuration.
    pub fn new(transport: T, config: ValidConfig) -> Self {
        Self { transport, config, token: RefCell::new(None) }
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
    /// timeouts/connection failures within the retry policy. With OAuth 2.0,
    /// a 401 drops the cached token and the call is sent once more with a
    /// fresh one. Returns the final response whatever its status, or the
    /// last transport error.
    pub fn send(&self, call: &Call) -> Result<HttpResponse> {
        let answer = self.exchange(&self.http_request(call)?, call.retry_safe, &call.path)?;
        if answer.status == 401 && matches!(self.config.credentials, Credentials::OAuth2 { .. }) {
            self.transport.log(Level::Info, "access token refused (401): fetching a new one and trying once more");
            self.token.replace(None);
            return self.exchange(&self.http_request(call)?, call.retry_safe, &call.path);
        }
        Ok(answer)
    }

    /// One request with the retry policy (a single attempt when not `retry_safe`).
    fn exchange(&self, request: &HttpRequest, retry_safe: bool, label: &str) -> Result<HttpResponse> {
        let policy = if retry_safe { self.config.retry } else { RetryPolicy { max_attempts: 1, ..self.config.retry } };
        let mut waited_ms = 0u64;
        let mut attempt = 1u32;
        loop {
            let outcome = self.transport.send(request);
            let (retryable, hinted_wait) = match &outcome {
                Ok(r) => (is_retryable_status(r), response::retry_after_ms(r)),
                Err(TransportError::Timeout | TransportError::Connection(_)) => (true, None),
                Err(_) => (false, None),
            };
            self.log_outcome(&request.method, label, &outcome, attempt);
            if !retryable || attempt >= policy.max_attempts {
                return outcome.map_err(transport_error);
            }
            let wait = hinted_wait.unwrap_or_else(|| backoff_ms(policy.base_delay_ms, attempt, &request.url));
            if waited_ms + wait > policy.budget_ms {
                self.transport.log(
                    Level::Warn,
                    &format!(
                        "{} {label}: not retrying, next wait of {wait} ms is past the retry budget",
                        request.method
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
            let content_type = call.content_type.as_deref().unwrap_or("application/json");
            headers.push(("Content-Type".to_string(), content_type.to_string()));
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
        let encode = |text: String| base64::engine::general_purpose::STANDARD.encode(text);
        match (&self.config.credentials, &self.config.auth) {
            // Klarna: "Authorization: Basic <API key>", the key as it is.
            (Credentials::ApiKey, Auth::Basic { password, .. }) => Ok(format!("Basic {}", password.expose())),
            (Credentials::Basic, Auth::Basic { username, password }) => {
                Ok(format!("Basic {}", encode(format!("{username}:{}", password.expose()))))
            }
            (Credentials::Bearer, Auth::Token(token)) => Ok(format!("Bearer {}", token.expose())),
            (Credentials::OAuth2 { token_url }, Auth::OAuth2 { client_id, client_secret, scopes }) => {
                Ok(format!("Bearer {}", self.access_token(token_url, client_id, client_secret, scopes)?.expose()))
            }
            _ => Err(ConnectorError::config("auth", "the credentials do not match the auth kind")),
        }
    }

    /// The cached access token, or a new one from the token endpoint.
    fn access_token(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &Secret,
        scopes: &[String],
    ) -> Result<Secret> {
        if let Some(token) = self.token.borrow().as_ref() {
            if token.renew_at.is_none_or(|at| Instant::now() < at) {
                return Ok(token.value.clone());
            }
        }
        let mut body = String::from("grant_type=client_credentials");
        if !scopes.is_empty() {
            body.push_str("&scope=");
            body.push_str(&crate::path::encode(&scopes.join(" ")));
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            crate::path::encode(client_id),
            crate::path::encode(client_secret.expose())
        ));
        let request = HttpRequest {
            method: Method::POST,
            url: token_url.to_string(),
            headers: vec![
                ("Authorization".to_string(), format!("Basic {basic}")),
                ("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string()),
                ("Accept".to_string(), "application/json".to_string()),
                ("User-Agent".to_string(), USER_AGENT.to_string()),
            ],
            body: Some(body.into_bytes()),
            timeout_ms: Some(self.config.timeout_ms),
        };
        let answer = self.exchange(&request, true, "OAuth 2.0 token")?;
        let token = oauth::parse_token(token_url, &answer)?;
        let renew_at = token.expires_in.map(|secs| {
            let lifetime = Duration::from_secs(secs);
            Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN.min(lifetime / 2))
        });
        self.token.replace(Some(CachedToken { value: token.access_token.clone(), renew_at }));
        Ok(token.access_token)
    }

    fn log_outcome(
        &self,
        method: &Method,
        label: &str,
        outcome: &std::result::Result<HttpResponse, TransportError>,
        attempt: u32,
    ) {
        let (level, what) = match outcome {
            Ok(r) if r.status < 400 => (Level::Debug, format!("HTTP {}", r.status)),
            Ok(r) => (Level::Warn, format!("HTTP {}", r.status)),
            Err(e) => (Level::Warn, transport_error(e.clone()).to_string()),
        };
        self.transport.log(level, &format!("{method} {label} (attempt {attempt}): {what}"));
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
            assert!((ceiling / 2..=ceiling).contains(&wait), "attempt {attempt}: {wait}");
        }
    }

    #[test]
    fn user_agent_follows_klarna_convention() {
        assert!(USER_AGENT.starts_with("Library/klarna-connector_0.1.0 Platform/ipaas-wasm"));
    }
}
