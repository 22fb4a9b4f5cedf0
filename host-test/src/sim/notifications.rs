//! Klarna Network Notifications API (`/v1/notification/...` on the global
//! hosts): the webhooks of an account.

use serde_json::{json, Value};

use super::errors;
use super::http::SimResponse;

/// Webhooks and signing keys of one account.
#[derive(Debug, Default)]
pub struct Notifications {
    webhooks: Vec<Value>,
}

impl Notifications {
    /// Answers `/v1/notification/<rest>`.
    pub fn handle(&self, method: &str, rest: &[&str]) -> SimResponse {
        match (method, rest) {
            ("GET", ["webhooks"]) => SimResponse::json(200, &json!({ "webhooks": self.webhooks })),
            ("GET", ["webhooks", id]) => match self.webhooks.iter().find(|w| w["webhook_id"] == *id) {
                Some(w) => SimResponse::json(200, w),
                None => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The webhook does not exist."),
            },
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        }
    }
}
