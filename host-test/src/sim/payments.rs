//! Klarna Payments API v1 (`/payments/v1/...`): sessions that live 48 hours,
//! authorizations (made by the customer in the browser; here by
//! [`Payments::authorize`]) that become one Order Management order, can be
//! cancelled, or yield a customer token.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock;
use super::customer_tokens::TokenBook;
use super::errors;
use super::http::SimResponse;
use super::order_management::OrderBook;

/// How long a session lives.
pub const SESSION_LIFETIME_S: i64 = 48 * 3600;
/// How long an authorization token can be used.
pub const AUTHORIZATION_LIFETIME_S: i64 = 3600;

/// Intents Klarna documents.
const INTENTS: [&str; 4] = ["buy", "tokenize", "buy_and_tokenize", "buy_and_default_tokenize"];

#[derive(Debug)]
struct Session {
    data: Value,
    created_at: i64,
    authorization: Option<String>,
}

#[derive(Debug)]
struct Authorization {
    session_id: String,
    created_at: i64,
    used: bool,
}

/// The sessions and authorizations of one merchant.
#[derive(Debug, Default)]
pub struct Payments {
    sessions: BTreeMap<String, Session>,
    authorizations: BTreeMap<String, Authorization>,
    serial: u64,
}

impl Payments {
    /// How many payment sessions were created.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// What the customer does in Klarna's widget: authorizes the session;
    /// returns the authorization token.
    pub fn authorize(&mut self, session_id: &str, now: i64) -> Option<String> {
        let session = self.sessions.get_mut(session_id)?;
        self.serial += 1;
        let token = clock::uuid(0xa7f0, self.serial);
        session.authorization = Some(token.clone());
        self.authorizations
            .insert(token.clone(), Authorization { session_id: session_id.to_string(), created_at: now, used: false });
        Some(token)
    }

    /// Klarna's call to the session's `merchant_urls.authorization` once it is
    /// authorized: `{authorization_token, session_id}`.
    pub fn authorization_callback(&self, session_id: &str) -> Option<super::outbox::Outgoing> {
        let session = self.sessions.get(session_id)?;
        let token = session.authorization.as_ref()?;
        let url = session.data["merchant_urls"]["authorization"].as_str()?;
        let body = json!({ "authorization_token": token, "session_id": session_id });
        Some(super::outbox::Outgoing::json(url.to_string(), &body))
    }

    /// Answers `/payments/v1/<rest>`.
    pub fn handle(
        &mut self,
        method: &str,
        rest: &[&str],
        body: &[u8],
        orders: &mut OrderBook,
        tokens: &mut TokenBook,
        now: i64,
    ) -> SimResponse {
        let payload = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
        match (method, rest) {
            ("POST", ["sessions"]) => match payload {
                Some(p) => self.create_session(p, now),
                None => errors::bad_value("body"),
            },
            ("GET", ["sessions", id]) => match self.live_session(id, now) {
                Some(session) => SimResponse::json(200, &session_json(id, session)),
                None => errors::classic(404, "NOT_FOUND", "The session does not exist or has expired."),
            },
            ("POST", ["sessions", id]) => match (self.live_session(id, now).is_some(), payload) {
                (false, _) => errors::classic(404, "NOT_FOUND", "The session does not exist or has expired."),
                (true, None) => errors::bad_value("body"),
                (true, Some(p)) => self.update_session(id, p),
            },
            ("POST", ["authorizations", token, "order"]) => match payload {
                Some(p) => self.create_order(token, p, orders, now),
                None => errors::bad_value("body"),
            },
            ("DELETE", ["authorizations", token]) => match self.authorizations.get_mut(*token) {
                Some(a) if !a.used => {
                    self.authorizations.remove(*token);
                    SimResponse::empty(204)
                }
                _ => errors::classic(404, "NOT_FOUND", "The authorization does not exist."),
            },
            ("POST", ["authorizations", token, "customer-token"]) => match payload {
                Some(p) => self.customer_token(token, &p, tokens, now),
                None => errors::bad_value("body"),
            },
            _ => errors::unknown_path(),
        }
    }

    /// `None` for an unknown session; otherwise its authorization token, if authorized.
    pub fn authorization_of(&self, session_id: &str) -> Option<Option<String>> {
        self.sessions.get(session_id).map(|s| s.authorization.clone())
    }

    fn live_session(&self, id: &str, now: i64) -> Option<&Session> {
        self.sessions.get(id).filter(|s| now - s.created_at < SESSION_LIFETIME_S)
    }

    fn create_session(&mut self, payload: Value, now: i64) -> SimResponse {
        if let Err(e) = check_order(&payload, true) {
            return e;
        }
        if let Some(intent) = payload.get("intent").and_then(Value::as_str) {
            if !INTENTS.contains(&intent) {
                return errors::bad_value("intent");
            }
        }
        self.serial += 1;
        let id = clock::uuid(0x5e55, self.serial);
        self.sessions.insert(id.clone(), Session { data: payload, created_at: now, authorization: None });
        SimResponse::json(
            200,
            &json!({
                "session_id": id,
                "client_token": format!("eyJ.sim.{}", &id[..8]),
                "payment_method_categories": [{ "identifier": "pay_later", "name": "Pay later" }],
            }),
        )
    }

    fn update_session(&mut self, id: &str, payload: Value) -> SimResponse {
        let Some(session) = self.sessions.get_mut(id) else {
            return errors::classic(404, "NOT_FOUND", "No such session.");
        };
        let mut merged = session.data.clone();
        if let (Some(target), Some(update)) = (merged.as_object_mut(), payload.as_object()) {
            for (k, v) in update {
                target.insert(k.clone(), v.clone());
            }
        }
        if let Err(e) = check_order(&merged, false) {
            return e;
        }
        session.data = merged;
        SimResponse::empty(204)
    }

    fn create_order(&mut self, token: &str, payload: Value, orders: &mut OrderBook, now: i64) -> SimResponse {
        let Some(authorization) = self.authorizations.get_mut(token) else {
            return errors::classic(404, "NOT_FOUND", "The authorization does not exist.");
        };
        if authorization.used {
            return errors::classic(409, "NOT_ALLOWED", "An order was already placed with this authorization.");
        }
        if now - authorization.created_at > AUTHORIZATION_LIFETIME_S {
            return errors::classic(404, "NOT_FOUND", "The authorization has expired.");
        }
        if let Err(e) = check_order(&payload, true) {
            return e;
        }
        authorization.used = true;
        let session_id = authorization.session_id.clone();
        let text = |key: &str, default: &str| payload.get(key).and_then(Value::as_str).unwrap_or(default).to_string();
        let amount = payload.get("order_amount").and_then(Value::as_i64).unwrap_or(0);
        let order_id = orders.place_with_lines(
            amount,
            &text("purchase_currency", "EUR"),
            &text("purchase_country", "DE"),
            &text("locale", "en-DE"),
            payload.get("order_lines").cloned().unwrap_or(Value::Array(vec![])),
            now,
        );
        // The session is open until an order is placed.
        self.sessions.remove(&session_id);
        SimResponse::json(
            200,
            &json!({
                "order_id": order_id,
                "redirect_url": format!("https://payments.playground.klarna.com/redirect/{}", &order_id[..8]),
                "fraud_status": "ACCEPTED",
                "authorized_payment_method": { "type": "invoice", "number_of_days": 30 },
            }),
        )
    }

    fn customer_token(&mut self, token: &str, payload: &Value, tokens: &mut TokenBook, now: i64) -> SimResponse {
        let Some(authorization) = self.authorizations.get(token) else {
            return errors::classic(404, "NOT_FOUND", "The authorization does not exist.");
        };
        if now - authorization.created_at > AUTHORIZATION_LIFETIME_S {
            return errors::classic(404, "NOT_FOUND", "The authorization has expired.");
        }
        for field in ["purchase_country", "purchase_currency", "locale", "description", "intended_use"] {
            if payload.get(field).and_then(Value::as_str).is_none() {
                return errors::bad_value(field);
            }
        }
        if payload["intended_use"] != "SUBSCRIPTION" {
            return errors::bad_value("intended_use");
        }
        self.serial += 1;
        let token_id = clock::uuid(0x70ce, self.serial);
        let text = |key: &str| payload[key].as_str().unwrap_or_default();
        tokens.issue(&token_id, text("purchase_country"), text("purchase_currency"), text("locale"));
        SimResponse::json(
            200,
            &json!({
                "token_id": token_id,
                "redirect_url": format!("https://payments.playground.klarna.com/redirect/token/{}", &token_id[..8]),
                "payment_method_reference": format!("pmr-{}", &token_id[..8]),
            }),
        )
    }
}

fn session_json(id: &str, session: &Session) -> Value {
    let mut data = session.data.clone();
    if let Some(map) = data.as_object_mut() {
        map.insert("status".into(), json!(if session.authorization.is_some() { "complete" } else { "incomplete" }));
        map.insert("expires_at".into(), json!(clock::rfc3339(session.created_at + SESSION_LIFETIME_S)));
        map.insert("client_token".into(), json!(format!("eyJ.sim.{}", &id[..8])));
        if let Some(token) = &session.authorization {
            map.insert("authorization_token".into(), json!(token));
        }
    }
    data
}

/// Klarna's own checks of the order amounts (it answers 400 `BAD_VALUE`):
/// the required fields, and the order amount equal to the lines' total.
fn check_order(payload: &Value, create: bool) -> Result<(), SimResponse> {
    if create {
        for field in ["purchase_country", "purchase_currency", "order_amount", "order_lines"] {
            if payload.get(field).is_none() {
                return Err(errors::bad_value(field));
            }
        }
    }
    let Some(lines) = payload.get("order_lines").and_then(Value::as_array) else { return Ok(()) };
    for (i, line) in lines.iter().enumerate() {
        if let Some(subscription) = line.get("subscription") {
            let field = |name: &str| format!("order_lines[{i}].subscription.{name}");
            let name = subscription.get("name").and_then(Value::as_str).map(|n| n.chars().count());
            if !name.is_some_and(|n| (1..=255).contains(&n)) {
                return Err(errors::bad_value(&field("name")));
            }
            let interval = subscription.get("interval").and_then(Value::as_str);
            if !interval.is_some_and(|i| ["DAY", "WEEK", "MONTH", "YEAR"].contains(&i)) {
                return Err(errors::bad_value(&field("interval")));
            }
            if subscription.get("interval_count").and_then(Value::as_i64).is_none_or(|n| n < 1) {
                return Err(errors::bad_value(&field("interval_count")));
            }
        }
    }
    let total: Option<i64> = lines.iter().map(|l| l.get("total_amount").and_then(Value::as_i64)).sum();
    match (total, payload.get("order_amount").and_then(Value::as_i64)) {
        (Some(t), Some(a)) if t == a => Ok(()),
        (None, _) => Err(errors::bad_value("order_lines")),
        _ => Err(errors::bad_value("order_amount")),
    }
}
