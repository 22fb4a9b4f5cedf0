//! Hosted Payment Page API v1 (`/hpp/v1/sessions`): a page wrapping a
//! Payments session; WAITING until the customer authorizes it (COMPLETED,
//! with the authorization token) or the merchant disables it (DISABLED).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock;
use super::errors;
use super::http::SimResponse;

/// How long an HPP session lives.
const LIFETIME_S: i64 = 48 * 3600;

#[derive(Debug)]
struct Session {
    payment_session_id: String,
    /// `merchant_urls.status_update`, with `{{session_id}}` still in it.
    status_update: Option<String>,
    created_at: i64,
    disabled: bool,
    distributions: u32,
}

/// The HPP sessions of one merchant.
#[derive(Debug, Default)]
pub struct HostedPages {
    sessions: BTreeMap<String, Session>,
    serial: u64,
}

impl HostedPages {
    /// How many HPP sessions were created.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// How many times the link of `session_id` was distributed.
    pub fn distributions(&self, session_id: &str) -> Option<u32> {
        self.sessions.get(session_id).map(|s| s.distributions)
    }

    /// Klarna's status updates when the Payments session behind HPP sessions
    /// is authorized: `{event_id, session}` to each one's `status_update` URL.
    pub fn completed(&mut self, payment_session_id: &str, token: &str, now: i64) -> Vec<super::outbox::Outgoing> {
        let mut sent = Vec::new();
        for (id, session) in &self.sessions {
            let Some(url) = session.status_update.as_ref().filter(|_| session.payment_session_id == payment_session_id)
            else {
                continue;
            };
            self.serial += 1;
            let body = json!({
                "event_id": clock::uuid(0x5e7e, self.serial),
                "session": {
                    "session_id": id,
                    "status": "COMPLETED",
                    "authorization_token": token,
                    "expires_at": clock::rfc3339(session.created_at + LIFETIME_S),
                    "updated_at": clock::rfc3339(now),
                },
            });
            sent.push(super::outbox::Outgoing::json(url.replace("{{session_id}}", id), &body));
        }
        sent
    }

    /// Answers `/hpp/v1/sessions<rest>`. `payment_authorization` tells
    /// whether (and with which token) a Payments session was authorized.
    pub fn handle(
        &mut self,
        method: &str,
        rest: &[&str],
        body: &[u8],
        host: &str,
        now: i64,
        payment_authorization: impl Fn(&str) -> Option<Option<String>>,
    ) -> SimResponse {
        let payload = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
        match (method, rest) {
            ("POST", []) => {
                let Some(url) = payload.as_ref().and_then(|p| p.get("payment_session_url")).and_then(Value::as_str)
                else {
                    return errors::bad_value("payment_session_url");
                };
                let prefix = format!("https://{host}/payments/v1/sessions/");
                let Some(payment_session_id) =
                    url.strip_prefix(&prefix).filter(|id| payment_authorization(id).is_some())
                else {
                    return errors::classic(
                        400,
                        "BAD_VALUE",
                        "payment_session_url does not name a payment session of this merchant.",
                    );
                };
                self.serial += 1;
                let id = clock::uuid(0x4aa9, self.serial);
                let status_update =
                    payload.as_ref().and_then(|p| p["merchant_urls"]["status_update"].as_str()).map(str::to_string);
                let session = Session {
                    status_update,
                    payment_session_id: payment_session_id.to_string(),
                    created_at: now,
                    disabled: false,
                    distributions: 0,
                };
                self.sessions.insert(id.clone(), session);
                SimResponse::json(
                    201,
                    &json!({
                        "session_id": id,
                        "session_url": format!("https://{host}/hpp/v1/sessions/{id}"),
                        "redirect_url": format!("https://pay.playground.klarna.com/eu/hpp/payments/{}", &id[..8]),
                        "distribution_url": format!("https://{host}/hpp/v1/sessions/{id}/distribution"),
                        "qr_code_url": format!("https://pay.playground.klarna.com/eu/hpp/payments/{}/qr", &id[..8]),
                        "expires_at": clock::rfc3339(now + LIFETIME_S),
                    }),
                )
            }
            ("GET", [id]) => match self.sessions.get(*id) {
                Some(session) => {
                    let authorization = payment_authorization(&session.payment_session_id).flatten();
                    let status = match (session.disabled, &authorization, now - session.created_at > LIFETIME_S) {
                        (true, _, _) => "DISABLED",
                        (false, Some(_), _) => "COMPLETED",
                        (false, None, true) => "ERROR",
                        (false, None, false) => "WAITING",
                    };
                    let mut v = json!({
                        "session_id": id,
                        "status": status,
                        "expires_at": clock::rfc3339(session.created_at + LIFETIME_S),
                        "updated_at": clock::rfc3339(now),
                    });
                    if let (Some(token), false) = (authorization, session.disabled) {
                        v["authorization_token"] = json!(token);
                    }
                    SimResponse::json(200, &v)
                }
                None => errors::classic(404, "NOT_FOUND", "The HPP session does not exist."),
            },
            ("DELETE", [id]) => match self.sessions.get_mut(*id) {
                Some(session) => {
                    session.disabled = true;
                    SimResponse::empty(204)
                }
                None => errors::classic(404, "NOT_FOUND", "The HPP session does not exist."),
            },
            ("POST", [id, "distribution"]) => {
                let Some(session) = self.sessions.get_mut(*id) else {
                    return errors::classic(404, "NOT_FOUND", "The HPP session does not exist.");
                };
                if session.disabled {
                    return errors::classic(403, "NOT_ALLOWED", "The HPP session is disabled.");
                }
                let p = payload.unwrap_or(Value::Null);
                let contact = &p["contact_information"];
                let ok = match p["method"].as_str() {
                    Some("sms") => contact["phone"].is_string(),
                    Some("email") => contact["email"].is_string(),
                    Some("token") => contact["access_id"].is_string(),
                    _ => false,
                };
                if !ok {
                    return errors::bad_value("contact_information");
                }
                session.distributions += 1;
                SimResponse::empty(201)
            }
            (_, [] | [_] | [_, "distribution"]) => errors::method_not_allowed(),
            _ => errors::unknown_path(),
        }
    }
}
