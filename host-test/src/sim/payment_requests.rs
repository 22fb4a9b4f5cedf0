//! Klarna Network Payment Request API (`/v2/payment/requests` on the global
//! hosts; Partner Product API – Payment v2/r6). A request starts SUBMITTED
//! with a URL for the customer; the customer's approval
//! ([`PaymentRequests::complete`]) makes it COMPLETED with a
//! `klarna_network_session_token`; an open request expires after 3 hours.
//! A customer token sent with the request (a returning, tokenized customer)
//! completes it at once.

use serde_json::{json, Map, Value};

use super::clock;
use super::errors;
use super::http::{SimRequest, SimResponse};

/// Currencies the API accepts.
const CURRENCIES: [&str; 15] =
    ["AUD", "EUR", "CAD", "CZK", "DKK", "HUF", "MXN", "NZD", "NOK", "PLN", "RON", "SEK", "CHF", "GBP", "USD"];

/// A payment request stays open this long.
pub const LIFETIME_S: i64 = 3 * 3600;

/// Header limits of the API.
const MAX_INTEROPERABILITY_TOKEN: usize = 8192;
const MAX_CUSTOMER_TOKEN: usize = 1024;
const MAX_CORRELATION_ID: usize = 255;

/// The payment requests of one account.
#[derive(Debug, Default)]
pub struct PaymentRequests {
    requests: Vec<(Value, i64)>,
    serial: u64,
}

impl PaymentRequests {
    /// Answers `/v2/payment/requests/<rest>`; `live` picks the customer URL's host.
    pub fn handle(&mut self, request: &SimRequest, rest: &[&str], live: bool, now: i64) -> SimResponse {
        if let Err(reason) = check_headers(request) {
            return errors::validation(reason);
        }
        let answer = match (request.method.as_str(), rest) {
            ("POST", []) => self.create(request, live, now),
            ("GET", [id]) => match self.find(id, now) {
                Some(found) => SimResponse::json(200, found),
                None => not_found(),
            },
            _ => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "Unknown resource."),
        };
        match request.header("Partner-Correlation-Id") {
            Some(id) => answer.with_header("Partner-Correlation-Id", id),
            None => answer,
        }
    }

    /// The customer approves a payment request in Klarna's purchase journey;
    /// returns the `klarna_network_session_token`, or `None` when the request
    /// is unknown or no longer open.
    pub fn complete(&mut self, id: &str, now: i64) -> Option<String> {
        let found = self.find(id, now)?;
        if !matches!(found["state"].as_str(), Some("SUBMITTED" | "IN_PROGRESS")) {
            return None;
        }
        let token = format!("krn:network:eu1:test:session-token:{}", clock::uuid(0x5e55, self.serial + 1));
        self.serial += 1;
        let (record, _) = self.requests.iter_mut().find(|(r, _)| r["payment_request_id"] == id)?;
        transition(record, "COMPLETED", now);
        record["state_context"] = json!({ "klarna_network_session_token": token, "payment_token": token });
        Some(token)
    }

    fn create(&mut self, request: &SimRequest, live: bool, now: i64) -> SimResponse {
        let Some(body) = serde_json::from_slice::<Value>(&request.body).ok().and_then(|b| b.as_object().cloned())
        else {
            return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
        };
        if let Err(reason) = check_body(&body) {
            return errors::validation(reason);
        }
        self.serial += 1;
        let uuid = clock::uuid(0x9a7e, self.serial);
        let id = format!("krn:payment:eu1:request:{uuid}");
        let mut record = body.clone();
        record.insert("payment_request_id".into(), json!(id));
        record.insert("created_at".into(), json!(clock::rfc3339(now)));
        record.insert("updated_at".into(), json!(clock::rfc3339(now)));
        record.insert("expires_at".into(), json!(clock::rfc3339(now + LIFETIME_S)));
        let mut record = Value::Object(record);
        if request.header("Klarna-Customer-Token").is_some() {
            let token = format!("krn:network:eu1:test:session-token:{}", clock::uuid(0x5e55, self.serial));
            record["state"] = json!("COMPLETED");
            record["state_context"] = json!({ "klarna_network_session_token": token, "payment_token": token });
        } else {
            let method = body.get("customer_interaction_config").and_then(|c| c.get("method")).cloned();
            let pay_host = if live { "pay.klarna.com" } else { "pay.test.klarna.com" };
            record["state"] = json!("SUBMITTED");
            record["state_context"] = json!({
                "customer_interaction": {
                    "method": method.unwrap_or_else(|| json!("HANDOVER")),
                    "payment_request_id": id,
                    "payment_request_url": format!("https://{pay_host}/eu/requests/{uuid}/start"),
                }
            });
        }
        self.requests.push((record.clone(), now + LIFETIME_S));
        SimResponse::json(201, &record)
    }

    /// The request, expired first if its time is up.
    fn find(&mut self, id: &str, now: i64) -> Option<&Value> {
        let (record, expires) = self.requests.iter_mut().find(|(r, _)| r["payment_request_id"] == id)?;
        if now >= *expires && matches!(record["state"].as_str(), Some("SUBMITTED" | "IN_PROGRESS")) {
            transition(record, "EXPIRED", now);
            record["state_context"] = json!({});
        }
        Some(record)
    }
}

fn transition(record: &mut Value, state: &str, now: i64) {
    record["previous_state"] = record["state"].clone();
    record["state"] = json!(state);
    record["updated_at"] = json!(clock::rfc3339(now));
}

/// Currency and amount as the API's schema requires them.
fn check_body(body: &Map<String, Value>) -> Result<(), Value> {
    let invalid = |parameter: &str, reason: &str| json!({ "parameter": parameter, "reason": reason });
    match body.get("currency").and_then(Value::as_str) {
        None => return Err(invalid("currency", "is required")),
        Some(c) if !CURRENCIES.iter().any(|k| k.eq_ignore_ascii_case(c)) => {
            return Err(invalid("currency", "is not a supported currency"))
        }
        Some(_) => {}
    }
    match body.get("amount") {
        None if body.contains_key("request_customer_token") => Ok(()),
        None => Err(invalid("amount", "is required")),
        Some(a) if a.as_i64().is_some_and(|a| (1..=2_147_483_647).contains(&a)) => Ok(()),
        Some(_) => Err(invalid("amount", "must be an integer between 1 and 2147483647")),
    }
}

/// The documented header formats.
fn check_headers(request: &SimRequest) -> Result<(), Value> {
    let invalid = |parameter: &str, reason: &str| json!({ "parameter": parameter, "reason": reason });
    if let Some(id) = request.header("Partner-Correlation-Id") {
        if id.is_empty() || id.len() > MAX_CORRELATION_ID || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid("Partner-Correlation-Id", "must match ^[A-Za-z0-9]+$, at most 255 characters"));
        }
    }
    if request.header("Klarna-Interoperability-Token").is_some_and(|t| t.len() > MAX_INTEROPERABILITY_TOKEN) {
        return Err(invalid("Klarna-Interoperability-Token", "at most 8192 characters"));
    }
    if request.header("Klarna-Customer-Token").is_some_and(|t| t.len() > MAX_CUSTOMER_TOKEN) {
        return Err(invalid("Klarna-Customer-Token", "at most 1024 characters"));
    }
    Ok(())
}

fn not_found() -> SimResponse {
    errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The payment request does not exist.")
}
