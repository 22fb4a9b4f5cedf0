//! Klarna Network Notifications API (`/v1/notification/...` on the global
//! hosts): the webhooks of an account.

use serde_json::{json, Value};

use super::errors;
use super::http::SimResponse;

/// Event types of release 4 of the Notifications API.
const EVENT_TYPES: [&str; 11] = [
    "payment.request.state-change.submitted",
    "payment.request.state-change.prepared",
    "payment.request.state-change.in-progress",
    "payment.request.state-change.pending-confirmation",
    "payment.request.state-change.canceled",
    "payment.request.state-change.authorized",
    "payment.request.state-change.expired",
    "payment.request.state-change.declined",
    "partner.account.state-change.operational",
    "partner.account.product.payment.state-change.disabled",
    "partner.account.product.payment.state-change.enabled",
];

/// Klarna allows at most 50 signing keys per account.
const MAX_SIGNING_KEYS: usize = 50;

/// Webhooks and signing keys of one account.
#[derive(Debug, Default)]
pub struct Notifications {
    webhooks: Vec<Value>,
    signing_keys: Vec<String>,
    serial: u64,
}

impl Notifications {
    /// Answers `/v1/notification/<rest>`.
    pub fn handle(&mut self, method: &str, rest: &[&str], body: &[u8], now: i64) -> SimResponse {
        match (method, rest) {
            ("GET", ["webhooks"]) => SimResponse::json(200, &json!({ "webhooks": self.webhooks })),
            ("POST", ["webhooks"]) => {
                let Some(mut hook) = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object) else {
                    return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
                };
                if let Err(reason) = check_webhook(&hook) {
                    return errors::validation(reason);
                }
                let duplicate =
                    self.webhooks.iter().any(|w| w["url"] == hook["url"] && w["event_types"] == hook["event_types"]);
                if duplicate {
                    return errors::network(
                        409,
                        "RESOURCE_ERROR",
                        "CONFLICT",
                        "The webhook configuration already exists.",
                    );
                }
                self.serial += 1;
                hook["webhook_id"] = json!(format!(
                    "krn:partner:global:notification:webhook:{}",
                    super::clock::uuid(0x3eb0, self.serial)
                ));
                hook["created_at"] = json!(super::clock::rfc3339(now));
                if hook.get("status").is_none() {
                    hook["status"] = json!("ENABLED");
                }
                self.webhooks.push(hook.clone());
                SimResponse::json(201, &hook)
            }
            ("GET", ["webhooks", id]) => match self.webhooks.iter().find(|w| w["webhook_id"] == *id) {
                Some(w) => SimResponse::json(200, w),
                None => no_webhook(),
            },
            ("PATCH", ["webhooks", id]) => {
                let Some(update) = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object) else {
                    return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
                };
                let Some(hook) = self.webhooks.iter_mut().find(|w| w["webhook_id"] == *id) else { return no_webhook() };
                let mut merged = hook.clone();
                for (key, value) in update.as_object().into_iter().flatten() {
                    if matches!(key.as_str(), "url" | "event_types" | "event_version" | "signing_key_id" | "status") {
                        merged[key] = value.clone();
                    }
                }
                if let Err(reason) = check_webhook(&merged) {
                    return errors::validation(reason);
                }
                if !matches!(merged["status"].as_str(), Some("ENABLED" | "DISABLED")) {
                    return errors::validation(
                        json!({ "parameter": "status", "reason": "must be ENABLED or DISABLED" }),
                    );
                }
                *hook = merged;
                SimResponse::json(200, hook)
            }
            ("DELETE", ["webhooks", id]) => {
                let before = self.webhooks.len();
                self.webhooks.retain(|w| w["webhook_id"] != *id);
                if self.webhooks.len() == before {
                    return no_webhook();
                }
                SimResponse::empty(204)
            }
            ("POST", ["signing-keys"]) => {
                if self.signing_keys.len() >= MAX_SIGNING_KEYS {
                    return errors::network(
                        409,
                        "RESOURCE_ERROR",
                        "LIMIT_REACHED",
                        "An account has at most 50 signing keys.",
                    );
                }
                self.serial += 1;
                let id =
                    format!("krn:partner:global:notification:signing-key:{}", super::clock::uuid(0x5191, self.serial));
                let key = json!({
                    "signing_key_id": id,
                    "signing_key": format!("sim-hmac-key-{:016x}", self.serial.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                    "created_at": super::clock::rfc3339(now),
                });
                self.signing_keys.push(id);
                SimResponse::json(201, &key)
            }
            ("DELETE", ["signing-keys", id]) => {
                let before = self.signing_keys.len();
                self.signing_keys.retain(|k| k != id);
                if self.signing_keys.len() == before {
                    return errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The signing key does not exist.");
                }
                SimResponse::empty(204)
            }
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        }
    }
}

/// A webhook needs an HTTPS URL, known event types (or `*` wildcards), event version v1 and a signing key.
fn check_webhook(hook: &Value) -> Result<(), Value> {
    let invalid = |parameter: &str, reason: &str| json!({ "parameter": parameter, "reason": reason });
    if !hook["url"].as_str().is_some_and(|u| u.starts_with("https://")) {
        return Err(invalid("url", "must be an HTTPS URL"));
    }
    let Some(types) = hook["event_types"].as_array().filter(|t| !t.is_empty()) else {
        return Err(invalid("event_types", "must list at least one event type"));
    };
    for t in types {
        let known = t.as_str().is_some_and(|t| {
            EVENT_TYPES.contains(&t)
                || t.strip_suffix('*').is_some_and(|prefix| EVENT_TYPES.iter().any(|e| e.starts_with(prefix)))
        });
        if !known {
            return Err(invalid("event_types", &format!("{t} is not an event type")));
        }
    }
    if hook["event_version"] != "v1" {
        return Err(invalid("event_version", "must be v1"));
    }
    if !hook["signing_key_id"].is_string() {
        return Err(invalid("signing_key_id", "is required"));
    }
    Ok(())
}

fn no_webhook() -> SimResponse {
    errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The webhook does not exist.")
}
