//! OAuth 2.0 client-credentials answers (RFC 6749 §5): the token, or a typed error.

use serde_json::Value;

use crate::error::{ApiError, ConnectorError, Result};
use crate::response;
use crate::secret::Secret;
use crate::transport::HttpResponse;

/// An access token from the token endpoint.
pub struct Token {
    /// The bearer token.
    pub access_token: Secret,
    /// Lifetime in seconds, when the endpoint said.
    pub expires_in: Option<u64>,
}

/// Reads the token endpoint's answer. A refusal (4xx) is `unauthorized` with
/// the endpoint's `error` and `error_description`; 429 and 5xx stay
/// `rate-limited` / `unavailable`, since trying later may work.
pub fn parse_token(token_url: &str, answer: &HttpResponse, now_s: u64) -> Result<Token> {
    let body: Option<Value> = response::read_json(&answer.body).ok();
    let text = |key: &str| body.as_ref().and_then(|b| b.get(key)).and_then(Value::as_str).map(str::to_string);
    if (200..300).contains(&answer.status) {
        let access_token =
            text("access_token").filter(|t| !t.is_empty() && !t.contains(char::is_whitespace)).ok_or_else(|| {
                ConnectorError::Unexpected(ApiError {
                    status: answer.status,
                    messages: vec![format!("the token endpoint {token_url} answered without an access_token")],
                    ..ApiError::default()
                })
            })?;
        if let Some(kind) = text("token_type") {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(ConnectorError::Unexpected(ApiError {
                    status: answer.status,
                    messages: vec![format!("the token endpoint issued a {kind:?} token, not a bearer token")],
                    ..ApiError::default()
                }));
            }
        }
        let expires_in = body.as_ref().and_then(|b| b.get("expires_in")).and_then(Value::as_u64);
        return Ok(Token { access_token: Secret::new(access_token), expires_in });
    }
    match response::error_for(answer, now_s) {
        error @ (ConnectorError::RateLimited { .. }
        | ConnectorError::Unavailable(_)
        | ConnectorError::Unexpected(_)) => Err(error),
        _ => {
            let mut messages = vec![format!("the OAuth 2.0 token endpoint {token_url} refused the client credentials")];
            messages.extend(text("error_description"));
            Err(ConnectorError::Unauthorized(ApiError {
                status: answer.status,
                code: text("error"),
                messages,
                correlation_id: None,
            }))
        }
    }
}
