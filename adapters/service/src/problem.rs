//! Errors as RFC 9457 problem details (`application/problem+json`): the
//! `connector-error` case, Klarna's status, code, messages and correlation id.

use serde_json::{json, Value};
use wasip2::http::types::ResponseOutparam;

use crate::http::respond;
use crate::wit::ipaas::connector::types::{ApiError, ConnectorError};

/// One problem.
pub struct Problem {
    /// The HTTP status answered.
    pub status: u16,
    /// The `connector-error` case, or the service's own (`service-token`, `body-too-large`, …).
    pub case: &'static str,
    /// The first line of what went wrong.
    pub detail: String,
    /// Klarna's side, when the error came from Klarna.
    pub api: Option<ApiError>,
    /// How long Klarna asked to wait.
    pub retry_after_ms: Option<u64>,
}

impl Problem {
    /// A problem of the service itself (not the plugin's).
    pub fn service(status: u16, case: &'static str, detail: impl Into<String>) -> Self {
        Self { status, case, detail: detail.into(), api: None, retry_after_ms: None }
    }

    /// A plugin error on a management route: Klarna's refusals of the
    /// connection's own credentials are the gateway's problem (502), not the caller's.
    pub fn management(error: ConnectorError) -> Self {
        let status_of = |e: &ApiError, fallback: u16| if (400..500).contains(&e.status) { e.status } else { fallback };
        match error {
            ConnectorError::InvalidConfig(m) => Self::service(500, "invalid-config", m),
            ConnectorError::InvalidInput(m) => Self::service(400, "invalid-input", m),
            ConnectorError::Unauthorized(e) => Self::api(502, "unauthorized", e),
            ConnectorError::NotFound(e) => Self::api(404, "not-found", e),
            ConnectorError::Rejected(e) => {
                let status = status_of(&e, 422);
                Self::api(status, "rejected", e)
            }
            ConnectorError::RateLimited(r) => {
                let mut problem = Self::api(429, "rate-limited", r.error);
                problem.retry_after_ms = r.retry_after_ms;
                problem
            }
            ConnectorError::Unavailable(e) => Self::api(503, "unavailable", e),
            ConnectorError::Transport(m) => Self::service(502, "transport", m),
            ConnectorError::Unexpected(e) => Self::api(502, "unexpected", e),
            // The write may have happened at Klarna: a gateway that cannot say.
            ConnectorError::OutcomeUnknown(m) => Self::service(504, "outcome-unknown", m),
        }
    }

    /// A plugin error on a callback route, answered as the WIT docs' table
    /// says (the status Klarna must see).
    pub fn callback(error: ConnectorError) -> Self {
        match error {
            ConnectorError::Unauthorized(e) => {
                let status = e.status;
                Self::api(status, "unauthorized", e)
            }
            ConnectorError::InvalidInput(m) => Self::service(400, "invalid-input", m),
            ConnectorError::InvalidConfig(m) => Self::service(500, "invalid-config", m),
            other => {
                let mut problem = Self::management(other);
                problem.status = 503;
                problem
            }
        }
    }

    fn api(status: u16, case: &'static str, error: ApiError) -> Self {
        let detail = error.messages.first().cloned().unwrap_or_else(|| format!("Klarna answered {}", error.status));
        Self { status, case, detail, api: Some(error), retry_after_ms: None }
    }

    /// The problem document.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": format!("urn:ipaas:connector-error:{}", self.case),
            "title": title(self.status),
            "status": self.status,
            "detail": self.detail,
            "connector_error": self.case,
        });
        if let Some(api) = &self.api {
            body["klarna_status"] = json!(api.status);
            body["code"] = json!(api.code);
            body["messages"] = json!(api.messages);
            body["correlation_id"] = json!(api.correlation_id);
        }
        if let Some(ms) = self.retry_after_ms {
            body["retry_after_ms"] = json!(ms);
        }
        body
    }

    /// Answers with the problem.
    pub fn send(self, out: ResponseOutparam) {
        let mut headers = vec![("content-type", "application/problem+json".to_string())];
        if let Some(ms) = self.retry_after_ms {
            headers.push(("retry-after", ms.div_ceil(1000).to_string()));
        }
        if self.case == "service-token" {
            headers.push(("www-authenticate", "Bearer".to_string()));
        }
        respond(out, self.status, &headers, self.body().to_string().as_bytes());
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}
