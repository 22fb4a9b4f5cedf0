//! Turning Klarna's answers into records, ids and typed errors.

use serde_json::Value;

use crate::error::{ApiError, ConnectorError};
use crate::transport::HttpResponse;

/// Longest slice of a non-JSON error body kept as a message.
const MAX_TEXT_MESSAGE: usize = 200;

/// Reads JSON text: every JSON value the component reads goes through this
/// one serde_json reader (its slice reader, which the RFC 8785 canonicalizer
/// uses too), so the component carries one copy of the parser.
pub fn read_json(bytes: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(bytes)
}

/// Parses a response body as JSON; an empty body is `None`.
pub fn json_body(response: &HttpResponse) -> Result<Option<Value>, ConnectorError> {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    read_json(&response.body).map(Some).map_err(|e| {
        ConnectorError::Unexpected(ApiError {
            status: response.status,
            code: None,
            messages: vec![format!("response is not valid JSON ({e}): {}", snippet(&response.body))],
            correlation_id: None,
        })
    })
}

/// The typed error for a non-2xx answer (`now_s`: Unix seconds, for a
/// `Retry-After` given as a date).
pub fn error_for(response: &HttpResponse, now_s: u64) -> ConnectorError {
    let error = api_error(response);
    let code = error.code.as_deref().unwrap_or("");
    match response.status {
        401 => ConnectorError::Unauthorized(error),
        404 => ConnectorError::NotFound(error),
        _ if code.starts_with("NO_SUCH_") => ConnectorError::NotFound(error),
        429 => ConnectorError::RateLimited { retry_after_ms: retry_after_ms(response, now_s), error },
        500..=599 => ConnectorError::Unavailable(error),
        _ if code == "TIMEOUT" => ConnectorError::Unavailable(error),
        400..=499 => ConnectorError::Rejected(error),
        _ => ConnectorError::Unexpected(ApiError {
            messages: vec![format!("unexpected HTTP status {}", response.status)],
            ..error
        }),
    }
}

/// Reads either error shape: classic (`error_code`, `error_messages`,
/// `correlation_id`) or Klarna Network (`error_id`, `error_type`,
/// `error_code`, `error_message`, `validation_errors`).
pub fn api_error(response: &HttpResponse) -> ApiError {
    let mut error = ApiError { status: response.status, ..ApiError::default() };
    let body: Option<Value> = read_json(&response.body).ok();
    let Some(Value::Object(body)) = body else {
        if !response.body.is_empty() {
            error.messages.push(snippet(&response.body));
        }
        return error;
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    error.code = text("error_code").or_else(|| text("error_type"));
    if let Some(Value::Array(messages)) = body.get("error_messages") {
        error.messages.extend(messages.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(message) = text("error_message") {
        error.messages.push(message);
    }
    if let Some(Value::Array(items)) = body.get("validation_errors") {
        for item in items {
            let field = |key| item.get(key).and_then(Value::as_str).unwrap_or("");
            error.messages.push(format!("{}: {}", field("parameter"), field("reason")));
        }
    }
    error.correlation_id = text("correlation_id").or_else(|| text("error_id"));
    error
}

/// Milliseconds to wait: `Retry-After` as seconds or as an HTTP-date
/// (RFC 9110 §10.2.3; any of its three date forms, read by `httpdate`),
/// else `X-Ratelimit-Reset` (seconds); at most a day. `now_s` is the
/// Unix time a date is measured from; a date in the past is no wait.
pub fn retry_after_ms(response: &HttpResponse, now_s: u64) -> Option<u64> {
    let retry_after = response.header("Retry-After").map(str::trim);
    if let Some(ms) = retry_after.and_then(seconds_as_ms) {
        return Some(ms);
    }
    if let Some(date) = retry_after.and_then(|text| httpdate::parse_http_date(text).ok()) {
        let at_s = date.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        return Some(at_s.saturating_sub(now_s).saturating_mul(1000).min(MAX_WAIT_MS));
    }
    response.header("X-Ratelimit-Reset").and_then(|text| seconds_as_ms(text.trim()))
}

/// The longest wait taken from a header: a day.
const MAX_WAIT_MS: u64 = 86_400_000;

/// Milliseconds in a decimal number of seconds (`2`, `1.5`, `.25`),
/// truncated to the millisecond and capped at [`MAX_WAIT_MS`]; none for
/// anything else (signs, exponents, words). Read by hand: `f64`'s parser
/// would add about 19 KB of code and tables to the component.
fn seconds_as_ms(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 5 {
        return Some(MAX_WAIT_MS); // 100,000 s or more: over a day
    }
    let seconds: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let millis = fraction.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |ms, b| ms * 10 + u64::from(b - b'0'));
    Some(seconds.checked_mul(1000)?.checked_add(millis)?.min(MAX_WAIT_MS))
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_TEXT_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_for_now(response: &HttpResponse) -> ConnectorError {
        error_for(response, 0)
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn classic_errors_keep_code_messages_and_correlation_id() {
        let e = error_for_now(&response(
            403,
            r#"{"error_code":"CANCEL_NOT_ALLOWED","error_messages":["Order has previous captures."],"correlation_id":"c-1"}"#,
        ));
        assert_eq!(
            e,
            ConnectorError::Rejected(ApiError {
                status: 403,
                code: Some("CANCEL_NOT_ALLOWED".into()),
                messages: vec!["Order has previous captures.".into()],
                correlation_id: Some("c-1".into()),
            })
        );
        assert!(matches!(
            error_for_now(&response(403, r#"{"error_code":"NO_SUCH_CAPTURE"}"#)),
            ConnectorError::NotFound(_)
        ));
        assert!(matches!(error_for_now(&response(500, r#"{"error_code":"TIMEOUT"}"#)), ConnectorError::Unavailable(_)));
        assert!(matches!(error_for_now(&response(401, "")), ConnectorError::Unauthorized(_)));
    }

    #[test]
    fn network_errors_are_mapped_too() {
        let e = api_error(&response(
            400,
            r#"{"error_id":"e-9","error_type":"INPUT_ERROR","error_code":"VALIDATION_ERROR","error_message":"Invalid request","validation_errors":[{"parameter":"url","reason":"must be https"}]}"#,
        ));
        assert_eq!(e.code.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(e.messages, ["Invalid request", "url: must be https"]);
        assert_eq!(e.correlation_id.as_deref(), Some("e-9"));
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let mut r = response(429, r#"{"error_code":"RATE_LIMITED"}"#);
        r.headers.push(("retry-after".into(), "2".into()));
        assert!(matches!(error_for(&r, 0), ConnectorError::RateLimited { retry_after_ms: Some(2000), .. }));
    }

    /// RFC 9110's three HTTP-date forms, measured from the clock given.
    #[test]
    fn a_retry_after_date_is_the_wait_until_then() {
        // 1994-11-06T08:49:37Z, RFC 9110's example.
        let then = 784_111_777;
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            let mut r = response(429, "");
            r.headers.push(("Retry-After".into(), text.into()));
            assert_eq!(retry_after_ms(&r, then - 30), Some(30_000), "{text}");
            assert_eq!(retry_after_ms(&r, then + 5), Some(0), "{text}: a date past is no wait");
            assert_eq!(retry_after_ms(&r, then - 200_000), Some(MAX_WAIT_MS), "{text}: at most a day");
        }
        let mut r = response(429, "");
        r.headers.push(("Retry-After".into(), "tomorrow".into()));
        r.headers.push(("X-Ratelimit-Reset".into(), "3".into()));
        assert_eq!(retry_after_ms(&r, 0), Some(3000), "neither form: the reset header");
    }

    #[test]
    fn waits_are_read_as_decimal_seconds() {
        for (text, ms) in [
            ("2", Some(2000)),
            ("1.5", Some(1500)),
            ("0.25", Some(250)),
            (".5", Some(500)),
            ("3.", Some(3000)),
            ("1.2349", Some(1234)),
            ("007", Some(7000)),
            ("86400.5", Some(MAX_WAIT_MS)),
            ("99999", Some(MAX_WAIT_MS)),
            ("123456789012345678901234567890", Some(MAX_WAIT_MS)),
            ("12345678901234567890123", Some(MAX_WAIT_MS)),
            ("", None),
            (".", None),
            ("-1", None),
            ("+1", None),
            ("1e3", None),
            ("1.2.3", None),
            ("soon", None),
        ] {
            assert_eq!(seconds_as_ms(text), ms, "{text:?}");
        }
    }

    #[test]
    fn html_from_a_proxy_is_kept_short() {
        let body = format!("<html>{}</html>", "x".repeat(1000));
        let e = api_error(&response(502, &body));
        assert_eq!(e.messages.len(), 1);
        assert!(e.messages[0].chars().count() <= MAX_TEXT_MESSAGE + 1);
    }
}
