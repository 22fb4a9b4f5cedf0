//! Klarna Network Payment API (Partner Product API – Payment v2/r6, on the
//! global hosts): payment requests (`/v2/payment/requests`) and payment
//! authorization (`/v2/payment/authorize`).
//!
//! A payment request starts SUBMITTED with a URL for the customer; the
//! customer's approval ([`NetworkPayments::complete`]) makes it COMPLETED
//! with a `klarna_network_session_token`; an open request expires after 3
//! hours. A customer token sent with the request completes it at once.
//! Authorizing with a session token (valid 60 minutes, usable once) or a
//! customer token is APPROVED with a payment transaction; without either,
//! Klarna asks for a step-up: STEP_UP_REQUIRED and a new payment request.

use serde_json::{json, Map, Value};

use super::clock;
use super::errors;
use super::http::{SimRequest, SimResponse};

/// Currencies the API accepts.
const CURRENCIES: [&str; 15] =
    ["AUD", "EUR", "CAD", "CZK", "DKK", "HUF", "MXN", "NZD", "NOK", "PLN", "RON", "SEK", "CHF", "GBP", "USD"];

/// A payment request stays open this long.
pub const LIFETIME_S: i64 = 3 * 3600;

/// A Klarna Network session token must be used this soon after it is issued.
pub const SESSION_TOKEN_LIFETIME_S: i64 = 3600;

/// Header limits of the API.
const MAX_INTEROPERABILITY_TOKEN: usize = 8192;
const MAX_CUSTOMER_TOKEN: usize = 1024;
const MAX_CORRELATION_ID: usize = 255;

/// A session token issued when a request completed.
#[derive(Debug)]
struct SessionToken {
    value: String,
    issued_at: i64,
    used: bool,
}

#[derive(Debug)]
struct PaymentRequest {
    record: Value,
    expires_at: i64,
    token: Option<SessionToken>,
}

/// The payment requests and transactions of one account.
#[derive(Debug, Default)]
pub struct NetworkPayments {
    requests: Vec<PaymentRequest>,
    serial: u64,
}

impl NetworkPayments {
    /// Answers `/v2/payment/<rest>`; `live` picks the customer URL's host.
    pub fn handle(&mut self, request: &SimRequest, rest: &[&str], live: bool, now: i64) -> SimResponse {
        if let Err(reason) = check_headers(request) {
            return errors::validation(reason);
        }
        let answer = match (request.method.as_str(), rest) {
            ("POST", ["requests"]) => self.create(request, live, now),
            ("GET", ["requests", id]) => match self.find(id, now) {
                Some(found) => SimResponse::json(200, &found.record),
                None => errors::network(404, "RESOURCE_ERROR", "NOT_FOUND", "The payment request does not exist."),
            },
            ("POST", ["authorize"]) => self.authorize(request, live, now),
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
        let token = session_token(self.serial + 1);
        let found = self.find(id, now)?;
        if !matches!(found.record["state"].as_str(), Some("SUBMITTED" | "IN_PROGRESS")) {
            return None;
        }
        transition(&mut found.record, "COMPLETED", now);
        found.record["state_context"] = json!({ "klarna_network_session_token": token, "payment_token": token });
        found.token = Some(SessionToken { value: token.clone(), issued_at: now, used: false });
        self.serial += 1;
        Some(token)
    }

    fn create(&mut self, request: &SimRequest, live: bool, now: i64) -> SimResponse {
        let Some(body) = json_object(&request.body) else {
            return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
        };
        if let Err(reason) = check_currency(&body).and_then(|()| check_amount(&body, "amount")) {
            return errors::validation(reason);
        }
        let completed = request.header("Klarna-Customer-Token").is_some();
        let record = self.open_request(body, completed, live, now);
        SimResponse::json(201, &record)
    }

    /// Records a new payment request from `body`; a returning, tokenized
    /// customer (`completed`) needs no journey and gets a session token at once.
    fn open_request(&mut self, body: Map<String, Value>, completed: bool, live: bool, now: i64) -> Value {
        self.serial += 1;
        let uuid = clock::uuid(0x9a7e, self.serial);
        let id = format!("krn:payment:eu1:request:{uuid}");
        let method = body.get("customer_interaction_config").and_then(|c| c.get("method")).cloned();
        let mut record = Value::Object(body);
        record["payment_request_id"] = json!(id);
        record["created_at"] = json!(clock::rfc3339(now));
        record["updated_at"] = json!(clock::rfc3339(now));
        record["expires_at"] = json!(clock::rfc3339(now + LIFETIME_S));
        let mut token = None;
        if completed {
            let value = session_token(self.serial);
            record["state"] = json!("COMPLETED");
            record["state_context"] = json!({ "klarna_network_session_token": value, "payment_token": value });
            token = Some(SessionToken { value, issued_at: now, used: false });
        } else {
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
        self.requests.push(PaymentRequest { record: record.clone(), expires_at: now + LIFETIME_S, token });
        record
    }

    fn authorize(&mut self, request: &SimRequest, live: bool, now: i64) -> SimResponse {
        let Some(body) = json_object(&request.body) else {
            return errors::network(400, "INPUT_ERROR", "VALIDATION_ERROR", "The body must be a JSON object.");
        };
        let transaction = body.get("request_payment_transaction").and_then(Value::as_object).cloned();
        let checked = check_currency(&body).and_then(|()| match &transaction {
            Some(t) => check_amount(t, "amount"),
            None if body.contains_key("request_customer_token") => Ok(()),
            None => Err(json!({ "parameter": "request_payment_transaction", "reason": "is required" })),
        });
        if let Err(reason) = checked {
            return errors::validation(reason);
        }
        let approved = if let Some(token) = request.header("Klarna-Network-Session-Token") {
            let usable = self
                .requests
                .iter_mut()
                .filter_map(|r| r.token.as_mut())
                .find(|t| t.value == token && !t.used && now - t.issued_at < SESSION_TOKEN_LIFETIME_S);
            let Some(usable) = usable else {
                return errors::validation(json!({
                    "parameter": "Klarna-Network-Session-Token",
                    "reason": "is unknown, expired (60 minutes) or already used",
                }));
            };
            usable.used = true;
            true
        } else {
            request.header("Klarna-Customer-Token").is_some()
        };
        if !approved {
            let step_up = body.get("step_up_config").and_then(Value::as_object);
            let mut for_customer = Map::new();
            for key in ["currency", "supplementary_purchase_data"] {
                if let Some(value) = body.get(key) {
                    for_customer.insert(key.into(), value.clone());
                }
            }
            if let Some(amount) = transaction.as_ref().and_then(|t| t.get("amount")) {
                for_customer.insert("amount".into(), amount.clone());
            }
            for (key, value) in step_up.into_iter().flatten() {
                for_customer.insert(key.clone(), value.clone());
            }
            let payment_request = self.open_request(for_customer, false, live, now);
            return SimResponse::json(
                200,
                &json!({
                    "payment_transaction_response": { "result": "STEP_UP_REQUIRED" },
                    "payment_request": payment_request,
                }),
            );
        }
        self.serial += 1;
        let mut payment_transaction = json!({
            "payment_transaction_id": format!("krn:payment:eu1:transaction:{}", clock::uuid(0x7a25, 10_000 + self.serial)),
            "currency": body.get("currency"),
            "created_at": clock::rfc3339(now),
        });
        for (key, value) in transaction.into_iter().flatten() {
            payment_transaction[key] = value;
        }
        SimResponse::json(
            200,
            &json!({ "payment_transaction_response": { "result": "APPROVED", "payment_transaction": payment_transaction } }),
        )
    }

    /// The request, expired first if its time is up.
    fn find(&mut self, id: &str, now: i64) -> Option<&mut PaymentRequest> {
        let found = self.requests.iter_mut().find(|r| r.record["payment_request_id"] == id)?;
        if now >= found.expires_at && matches!(found.record["state"].as_str(), Some("SUBMITTED" | "IN_PROGRESS")) {
            transition(&mut found.record, "EXPIRED", now);
            found.record["state_context"] = json!({});
        }
        Some(found)
    }
}

fn session_token(n: u64) -> String {
    format!("krn:network:eu1:test:session-token:{}", clock::uuid(0x5e55, n))
}

fn json_object(body: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(body).ok().and_then(|b| b.as_object().cloned())
}

fn transition(record: &mut Value, state: &str, now: i64) {
    record["previous_state"] = record["state"].clone();
    record["state"] = json!(state);
    record["updated_at"] = json!(clock::rfc3339(now));
}

fn check_currency(body: &Map<String, Value>) -> Result<(), Value> {
    let invalid = |reason: &str| json!({ "parameter": "currency", "reason": reason });
    match body.get("currency").and_then(Value::as_str) {
        None => Err(invalid("is required")),
        Some(c) if CURRENCIES.iter().any(|k| k.eq_ignore_ascii_case(c)) => Ok(()),
        Some(_) => Err(invalid("is not a supported currency")),
    }
}

/// `key` of `body` is an amount in minor units, 1 to 2147483647; absent only
/// when the body asks for a customer token alone.
fn check_amount(body: &Map<String, Value>, key: &str) -> Result<(), Value> {
    match body.get(key) {
        None if body.contains_key("request_customer_token") => Ok(()),
        None => Err(json!({ "parameter": key, "reason": "is required" })),
        Some(a) if a.as_i64().is_some_and(|a| (1..=2_147_483_647).contains(&a)) => Ok(()),
        Some(_) => Err(json!({ "parameter": key, "reason": "must be an integer between 1 and 2147483647" })),
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
