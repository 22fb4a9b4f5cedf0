//! Klarna Network Notifications API (`/v1/notification/...` on the global
//! hosts): the webhooks and signing keys of an account, and the deliveries
//! Klarna sends to them: `{metadata, payload}` signed with the webhook's key
//! (`Klarna-Signature`: lowercase hex HMAC-SHA256 of the body, keyed by the
//! key's text; `Klarna-Signing-Key-Id`: the key's id), as Krokedil's
//! production verifier expects.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::errors;
use super::http::SimResponse;
use super::outbox::Outgoing;

/// Event types: release 4 of the Notifications API, the v2 `completed` event
/// Krokedil's plugin subscribes to, and the Payment Dispute API v4 events.
const EVENT_TYPES: [&str; 18] = [
    "payment.request.state-change.completed",
    "payment.dispute.state-change.initiated",
    "payment.dispute.state-change.representment",
    "payment.dispute.state-change.pre-arbitration",
    "payment.dispute.state-change.arbitration",
    "payment.dispute.state-change.closed",
    "payment.dispute.updated.representment-deadline-extended",
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
    /// `(signing_key_id, signing_key)`.
    signing_keys: Vec<(String, String)>,
    outbox: Vec<Outgoing>,
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
                if let Err(reason) = self.check_webhook(&hook) {
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
                let Some(index) = self.webhooks.iter().position(|w| w["webhook_id"] == *id) else {
                    return no_webhook();
                };
                let mut merged = self.webhooks[index].clone();
                for (key, value) in update.as_object().into_iter().flatten() {
                    if matches!(key.as_str(), "url" | "event_types" | "event_version" | "signing_key_id" | "status") {
                        merged[key] = value.clone();
                    }
                }
                if let Err(reason) = self.check_webhook(&merged) {
                    return errors::validation(reason);
                }
                if !matches!(merged["status"].as_str(), Some("ENABLED" | "DISABLED")) {
                    return errors::validation(
                        json!({ "parameter": "status", "reason": "must be ENABLED or DISABLED" }),
                    );
                }
                self.webhooks[index] = merged;
                SimResponse::json(200, &self.webhooks[index])
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
                let secret = format!("sim-hmac-key-{:016x}", self.serial.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let key = json!({
                    "signing_key_id": id,
                    "signing_key": secret,
                    "created_at": super::clock::rfc3339(now),
                });
                self.signing_keys.push((id, secret));
                SimResponse::json(201, &key)
            }
            ("DELETE", ["signing-keys", id]) => {
                let before = self.signing_keys.len();
                self.signing_keys.retain(|(k, _)| k != id);
                if self.signing_keys.len() == before {
                    return errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The signing key does not exist.");
                }
                SimResponse::empty(204)
            }
            ("POST", ["webhooks", id, "simulate"]) => {
                // Krokedil's plugin calls this under /v2 with {event_type, event_version};
                // Klarna's answer is not documented: 204 here.
                let Some(request) = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object) else {
                    return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
                };
                let Some(event_type) = request["event_type"].as_str().filter(|t| EVENT_TYPES.contains(t)) else {
                    return errors::validation(json!({ "parameter": "event_type", "reason": "is not an event type" }));
                };
                let Some(hook) = self.webhooks.iter().find(|w| w["webhook_id"] == *id).cloned() else {
                    return no_webhook();
                };
                let payload = json!({ "simulated": true });
                let delivery = self.delivery(&hook, event_type, &payload, now);
                self.outbox.extend(delivery);
                SimResponse::empty(204)
            }
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        }
    }

    /// The deliveries of an event: one to each enabled webhook subscribed to its type.
    pub fn notify(&mut self, event_type: &str, payload: &Value, now: i64) -> Vec<Outgoing> {
        let hooks: Vec<Value> =
            self.webhooks.iter().filter(|w| w["status"] == "ENABLED" && subscribed(w, event_type)).cloned().collect();
        hooks.iter().filter_map(|hook| self.delivery(hook, event_type, payload, now)).collect()
    }

    /// Deliveries made by `simulate`, taken out.
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// One signed delivery to `hook`; none when its signing key was deleted.
    fn delivery(&mut self, hook: &Value, event_type: &str, payload: &Value, now: i64) -> Option<Outgoing> {
        let key_id = hook["signing_key_id"].as_str()?;
        let key = self.signing_keys.iter().find(|(id, _)| id == key_id).map(|(_, key)| key.clone())?;
        let url = hook["url"].as_str()?.to_string();
        self.serial += 1;
        let envelope = json!({
            "metadata": {
                "event_type": event_type,
                "event_id": super::clock::uuid(0xe7e0, self.serial),
                "event_version": hook["event_version"],
                "occurred_at": super::clock::rfc3339(now),
                "subject_account_id": "krn:partner:global:account:test:SIMMERCH",
                "recipient_account_id": "krn:partner:global:account:test:SIMMERCH",
                "webhook_id": hook["webhook_id"],
                "live": false,
            },
            "payload": payload,
        });
        let mut outgoing = Outgoing::json(url, &envelope);
        outgoing.headers.push(("Klarna-Signature".into(), sign(key.as_bytes(), &outgoing.body)));
        outgoing.headers.push(("Klarna-Signing-Key-Id".into(), key_id.to_string()));
        Some(outgoing)
    }

    /// A webhook needs an HTTPS URL, known event types (or `*` wildcards),
    /// event version v1 or v2 and one of the account's signing keys.
    fn check_webhook(&self, hook: &Value) -> Result<(), Value> {
        check_webhook(hook)?;
        let key = hook["signing_key_id"].as_str().unwrap_or_default();
        if !self.signing_keys.iter().any(|(id, _)| id == key) {
            return Err(json!({ "parameter": "signing_key_id", "reason": "is not a signing key of this account" }));
        }
        Ok(())
    }
}

/// Lowercase hex HMAC-SHA256 of `body` under `key`.
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether a webhook's event types (exact or `prefix*`) cover `event_type`.
fn subscribed(hook: &Value, event_type: &str) -> bool {
    hook["event_types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|t| t == event_type || t.strip_suffix('*').is_some_and(|prefix| event_type.starts_with(prefix)))
}

/// The shape of a webhook: HTTPS URL, known event types, version, signing key.
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
    if !matches!(hook["event_version"].as_str(), Some("v1" | "v2")) {
        return Err(invalid("event_version", "must be v1 or v2"));
    }
    if !hook["signing_key_id"].is_string() {
        return Err(invalid("signing_key_id", "is required"));
    }
    Ok(())
}

fn no_webhook() -> SimResponse {
    errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The webhook does not exist.")
}
