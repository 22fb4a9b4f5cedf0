//! Klarna Payments API v1 (`/payments/v1/...`): payment sessions.

use std::collections::BTreeMap;

use serde_json::Value;

use super::errors;
use super::http::SimResponse;

/// The payment sessions of one merchant.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: BTreeMap<String, Value>,
}

impl Sessions {
    /// Answers `/payments/v1/<rest>`.
    pub fn handle(&self, method: &str, rest: &[&str]) -> SimResponse {
        match (method, rest) {
            ("GET", ["sessions", id]) => match self.sessions.get(*id) {
                Some(session) => SimResponse::json(200, session),
                None => errors::classic(404, "NOT_FOUND", "The session does not exist or has expired."),
            },
            _ => errors::unknown_path(),
        }
    }
}
