//! Sending one Klarna request: headers, credentials, bounded retries.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::config::{Credentials, ValidConfig};
use crate::error::{ConnectorError, Result};
use crate::manifest::RetrySafety;
use crate::model::Method;
use crate::secret::Secret;
use crate::transport::{HttpRequest, HttpResponse, Level, Transport, TransportError};
use crate::{oauth, response};

/// `User-Agent`, in Klarna's SDK convention.
pub const USER_AGENT: &str =
    concat!("Library/klarna-connector_", env!("CARGO_PKG_VERSION"), " Platform/ipaas-wasm_0.3.0 Language/Rust");

/// A request before credentials and standard headers are added.
#[derive(Clone, Debug)]
pub struct Call {
    /// The HTTP method.
    pub method: Method,
    /// Path, already rendered and encoded.
    pub path: String,
    /// Query string, already encoded (no `?`).
    pub query: String,
    /// The body, already encoded (JSON or `multipart/form-data`).
    pub body: Option<Vec<u8>>,
    /// The body's `Content-Type` when it is not JSON.
    pub content_type: Option<String>,
    /// Extra headers (idempotency key, ...).
    pub headers: Vec<(String, String)>,
    /// How a resend behaves: whether a lost answer may be sent for again.
    pub retry: RetrySafety,
    /// For `none`: how to find out whether the write happened, for the
    /// `outcome-unknown` message.
    pub check: Option<&'static str>,
}

/// What one attempt's outcome means for the next.
enum Verdict {
    /// Final: hand the outcome back.
    Done,
    /// Send again, after Klarna's wait when it gave one.
    Again(Option<u64>),
    /// A write whose resend may act twice may have happened: stop.
    Unknown,
}

/// Whether to send again after `outcome`. Reads and writes Klarna makes
/// harmless to resend (`key`, `natural`) are retried on 429, 5xx, timeouts
/// and lost connections; a `none` write only when it surely did not reach
/// Klarna (a 429, or the host's `not-sent`).
fn verdict(outcome: &std::result::Result<HttpResponse, TransportError>, retry: RetrySafety, now_s: u64) -> Verdict {
    let resendable = retry != RetrySafety::None;
    match outcome {
        Ok(r) if r.status == 429 => Verdict::Again(response::retry_after_ms(r, now_s)),
        Ok(r) if (500..=599).contains(&r.status) && resendable => Verdict::Again(response::retry_after_ms(r, now_s)),
        Ok(r) if (500..=599).contains(&r.status) => Verdict::Unknown,
        Ok(_) => Verdict::Done,
        Err(TransportError::NotSent(_)) => Verdict::Again(None),
        Err(TransportError::Timeout | TransportError::Connection(_)) if resendable => Verdict::Again(None),
        Err(TransportError::Timeout | TransportError::Connection(_) | TransportError::Other(_)) if !resendable => {
            Verdict::Unknown
        }
        Err(_) => Verdict::Done,
    }
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
    /// State of this connection's jitter generator (seeded by the host's randomness).
    jitter: Cell<u64>,
}

impl<T: Transport> Client<T> {
    /// A client for a validated configuration.
    pub fn new(transport: T, config: ValidConfig) -> Self {
        let jitter = Cell::new(transport.random_seed());
        Self { transport, config, token: RefCell::new(None), jitter }
    }

    /// The configuration.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Sends `call`, retrying within the connection's retry policy as the
    /// call's `retry` allows ([`verdict`]). With OAuth 2.0, a 401 (Klarna
    /// refused before acting) drops the cached token and the call is sent
    /// once more with a fresh one. Returns the final response whatever its
    /// status, the last transport error, or `outcome-unknown` for a `none`
    /// write that may have happened.
    pub fn send(&self, call: &Call) -> Result<HttpResponse> {
        let answer = self.exchange(&self.http_request(call)?, &call.path, call.retry, call.check)?;
        if answer.status == 401 && matches!(self.config.credentials, Credentials::OAuth2 { .. }) {
            self.transport.log(Level::Info, "access token refused (401): fetching a new one and trying once more");
            self.token.replace(None);
            return self.exchange(&self.http_request(call)?, &call.path, call.retry, call.check);
        }
        Ok(answer)
    }

    /// One request with the retry policy.
    fn exchange(
        &self,
        request: &HttpRequest,
        label: &str,
        retry: RetrySafety,
        check: Option<&str>,
    ) -> Result<HttpResponse> {
        let policy = self.config.retry;
        let mut waited_ms = 0u64;
        let mut attempt = 1u32;
        loop {
            let outcome = self.transport.send(request);
            self.log_outcome(&request.method, label, &outcome, attempt);
            let hinted_wait = match verdict(&outcome, retry, self.transport.now_unix_s()) {
                Verdict::Done => return outcome.map_err(transport_error),
                Verdict::Unknown => return Err(self.outcome_unknown(request, label, &outcome, check)),
                Verdict::Again(_) if attempt >= policy.max_attempts => return outcome.map_err(transport_error),
                Verdict::Again(hint) => hint,
            };
            let wait = hinted_wait.unwrap_or_else(|| backoff_ms(policy.base_delay_ms, attempt, self.next_random()));
            if waited_ms.saturating_add(wait) > policy.budget_ms {
                self.transport.log(
                    Level::Warn,
                    &format!(
                        "{} {label}: not retrying, next wait of {wait} ms is past the retry budget",
                        request.method
                    ),
                );
                return outcome.map_err(transport_error);
            }
            self.transport.log(Level::Info, &format!("{} {label}: retrying in {wait} ms", request.method));
            self.transport.sleep(Duration::from_millis(wait));
            waited_ms += wait;
            attempt += 1;
        }
    }

    /// `outcome-unknown` for a `none` write whose attempt may have reached
    /// Klarna: what came back, and how to find out what happened.
    fn outcome_unknown(
        &self,
        request: &HttpRequest,
        label: &str,
        outcome: &std::result::Result<HttpResponse, TransportError>,
        check: Option<&str>,
    ) -> ConnectorError {
        let what = match outcome {
            Ok(answer) => format!("Klarna answered {}", response::api_error(answer)),
            Err(TransportError::Timeout) => "no answer came in time".to_string(),
            Err(e) => transport_error(e.clone()).to_string(),
        };
        let check = check.unwrap_or("Klarna offers no read to find out.");
        let message = format!(
            "{} {label}: {what}. The write may have happened at Klarna; it was not sent again, because a second {} {label} may act twice. To find out: {check}",
            request.method, request.method
        );
        self.transport.log(Level::Warn, &message);
        ConnectorError::OutcomeUnknown(message)
    }

    /// The next number of this connection's jitter sequence (SplitMix64).
    fn next_random(&self) -> u64 {
        let state = self.jitter.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.jitter.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
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
            method: call.method,
            url,
            headers,
            body: call.body.clone(),
            timeout_ms: Some(self.config.timeout_ms),
        })
    }

    fn authorization(&self) -> Result<String> {
        let encode = |text: String| STANDARD.encode(text);
        match &self.config.credentials {
            // Klarna: "Authorization: Basic <API key>", the key as it is.
            Credentials::ApiKey(key) => Ok(format!("Basic {}", key.expose())),
            Credentials::Basic { username, password } => {
                Ok(format!("Basic {}", encode(format!("{username}:{}", password.expose()))))
            }
            Credentials::Bearer(token) => Ok(format!("Bearer {}", token.expose())),
            Credentials::OAuth2 { token_url, client_id, client_secret, scopes } => {
                Ok(format!("Bearer {}", self.access_token(token_url, client_id, client_secret, scopes)?.expose()))
            }
            Credentials::ShippingKey { .. } => Err(ConnectorError::config(
                "auth",
                "the shipping assistant's identifier and key authenticate Klarna to this connection, not the other way: nothing is sent to Klarna with them",
            )),
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
        let basic = STANDARD.encode(format!(
            "{}:{}",
            crate::path::encode(client_id),
            crate::path::encode(client_secret.expose())
        ));
        let request = HttpRequest {
            method: Method::Post,
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
        let answer = self.exchange(&request, "OAuth 2.0 token", RetrySafety::Natural, None)?;
        let token = oauth::parse_token(token_url, &answer, self.transport.now_unix_s())?;
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

/// Exponential backoff with jitter: a wait in `[d/2, d]` for `d = base × 2^(attempt-1)`,
/// placed within that range by `random` (from the connection's own generator,
/// so that connections retrying the same URL spread out).
fn backoff_ms(base_ms: u64, attempt: u32, random: u64) -> u64 {
    let ceiling = base_ms.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    ceiling / 2 + random % (ceiling / 2 + 1)
}

fn transport_error(error: TransportError) -> ConnectorError {
    ConnectorError::Transport(match error {
        TransportError::Timeout => "timed out".to_string(),
        TransportError::Denied(why) => format!("denied by the host: {why}"),
        TransportError::Connection(why) => format!("connection failed: {why}"),
        TransportError::NotSent(why) => format!("not sent: {why}"),
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
            for random in [0, 1, 77, u64::MAX] {
                let wait = backoff_ms(200, attempt, random);
                assert!((ceiling / 2..=ceiling).contains(&wait), "attempt {attempt}: {wait}");
            }
        }
        assert_eq!(backoff_ms(u64::MAX, 11, 0), u64::MAX / 2, "saturates instead of wrapping");
    }

    #[test]
    fn user_agent_follows_klarna_convention() {
        assert!(USER_AGENT.starts_with(concat!(
            "Library/klarna-connector_",
            env!("CARGO_PKG_VERSION"),
            " Platform/ipaas-wasm_0.3.0"
        )));
    }
}
