//! Klarna's Shipping Service (KSS) as the integrator sees it: the client side
//! of the Shipping Service Callback API 1.3.0, which calls the URL a merchant
//! entered in the shipping profile during checkout.
//!
//! What it does follows Klarna's text (`host-test/specs/klarna/shipping-service-callback.md`):
//! - before the first call, and again after any 401, it `POST /auth`s
//!   `{identifier, secret: {nonce, digest}}` with a fresh nonce and
//!   digest = SHA-256(nonce ‖ key) in uppercase hex, and expects 201 with a token;
//! - every other call carries `Authorization: Bearer <token>`;
//! - `POST /shipment` expects 201, `PUT /shipment/{id}` 200 with a `Location`
//!   (the reservation's id is its last segment); `POST /shipment/{id}/confirm`
//!   expects 200 and ignores any other status but 401 (best effort).
//!
//! Where Klarna's material is silent (the options path, the token field), it
//! uses the manifest's guesses, so a wrong guess fails in one place.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::http::SimResponse;
use super::outbox::Outgoing;

/// Klarna's example identifier (the Shipping Service Callback API reference).
pub const EXAMPLE_IDENTIFIER: &str = "sweMerch123";
/// Klarna's example key.
pub const EXAMPLE_KEY: &str = "smOOOth";
/// Where the simulator's Shipping Service calls the integrator.
pub const EXAMPLE_MOUNT: &str = "https://shop.example/klarna";

/// The media type of `/auth` (Klarna's spelling: `vdn`).
pub const AUTH_TYPE: &str = "application/vdn.klarna.shipping.auth-v1+json";
/// The media type of a shipping-option selection.
pub const SELECT_TYPE: &str = "application/vdn.klarna.shipping.select_option-v1+json";
/// The media type of an options request (a guess; see docs/klarna-open-questions.md).
pub const OPTIONS_TYPE: &str = "application/vdn.klarna.shipping.shipping_options-v1+json";

/// Why a call did not go through.
#[derive(Debug, PartialEq, Eq)]
pub enum Interrupted {
    /// `/auth` did not answer 201 with a token.
    AuthRefused(u16),
    /// The call answered this status after a fresh token (4xx interrupts the purchase).
    Refused(u16, String),
    /// The answer broke the API's rules (missing Location, not JSON).
    Malformed(String),
}

/// One exchange, for assertions: the method and path, and the status answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// `POST /auth`, `PUT /shipment/…`.
    pub call: String,
    /// The integrator's status.
    pub status: u16,
}

/// The Shipping Service of one merchant's shipping profile.
pub struct ShippingService {
    mount: String,
    identifier: String,
    key: String,
    token: Option<String>,
    nonces: u64,
    /// Every call made, in order.
    pub exchanges: Vec<Exchange>,
}

impl ShippingService {
    /// The profile: the integrator's URL (`mount`) with the identifier and key entered for it.
    pub fn new(mount: &str, identifier: &str, key: &str) -> Self {
        Self {
            mount: mount.trim_end_matches('/').to_string(),
            identifier: identifier.into(),
            key: key.into(),
            token: None,
            nonces: 0,
            exchanges: Vec::new(),
        }
    }

    /// The token in use (to replay or forge it in tests).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Uses `token` from now on, as if `/auth` had issued it.
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// The `/auth` request with `nonce`.
    pub fn auth_request(&self, nonce: &str) -> Outgoing {
        let digest = hex::encode_upper(Sha256::digest(format!("{nonce}{}", self.key)));
        let body = json!({ "identifier": self.identifier, "secret": { "nonce": nonce, "digest": digest } });
        let mut request = Outgoing::json(format!("{}/auth", self.mount), &body);
        request.headers = vec![("Content-Type".into(), AUTH_TYPE.into())];
        request
    }

    /// Authenticates with a fresh nonce.
    pub fn authenticate(&mut self, send: &mut impl FnMut(&Outgoing) -> SimResponse) -> Result<(), Interrupted> {
        self.nonces += 1;
        let nonce = format!("kss{:08}Xq", self.nonces);
        let answer = self.exchange(send, &self.auth_request(&nonce));
        let token = (answer.status == 201)
            .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
            .flatten()
            .and_then(|body| body.get("token").and_then(Value::as_str).map(str::to_string));
        self.token = Some(token.ok_or(Interrupted::AuthRefused(answer.status))?);
        Ok(())
    }

    /// Lists the shipping options for `checkout` (customer data, address, order lines).
    pub fn list_options(
        &mut self,
        send: &mut impl FnMut(&Outgoing) -> SimResponse,
        checkout: &Value,
    ) -> Result<Value, Interrupted> {
        let answer = self.call(send, "POST", "/shipping-options", OPTIONS_TYPE, Some(checkout))?;
        expect_status(&answer, 200)?;
        serde_json::from_slice(&answer.body).map_err(|e| Interrupted::Malformed(format!("options: {e}")))
    }

    /// Reserves a shipment for `selection`; the reservation's id from its `Location`.
    pub fn create_shipment(
        &mut self,
        send: &mut impl FnMut(&Outgoing) -> SimResponse,
        selection: &Value,
    ) -> Result<String, Interrupted> {
        let answer = self.call(send, "POST", "/shipment", SELECT_TYPE, Some(selection))?;
        expect_status(&answer, 201)?;
        shipment_id(&answer)
    }

    /// Updates reservation `id` with `selection`; the id its `Location` names.
    pub fn update_shipment(
        &mut self,
        send: &mut impl FnMut(&Outgoing) -> SimResponse,
        id: &str,
        selection: &Value,
    ) -> Result<String, Interrupted> {
        let answer = self.call(send, "PUT", &format!("/shipment/{id}"), SELECT_TYPE, Some(selection))?;
        expect_status(&answer, 200)?;
        shipment_id(&answer)
    }

    /// Confirms reservation `id` after the purchase; the status (anything but
    /// 200 is ignored by Klarna, once a fresh token was tried).
    pub fn confirm(&mut self, send: &mut impl FnMut(&Outgoing) -> SimResponse, id: &str) -> Result<u16, Interrupted> {
        Ok(self.call(send, "POST", &format!("/shipment/{id}/confirm"), SELECT_TYPE, None)?.status)
    }

    /// One call with the bearer token: authenticates first when there is
    /// none, and once more after a 401, as Klarna does.
    fn call(
        &mut self,
        send: &mut impl FnMut(&Outgoing) -> SimResponse,
        method: &str,
        path: &str,
        media_type: &str,
        body: Option<&Value>,
    ) -> Result<SimResponse, Interrupted> {
        for attempt in 0..2 {
            if self.token.is_none() {
                self.authenticate(send)?;
            }
            let mut request = match body {
                Some(body) => Outgoing::json(format!("{}{path}", self.mount), body),
                None => Outgoing {
                    method: "POST".into(),
                    url: format!("{}{path}", self.mount),
                    headers: vec![],
                    body: vec![],
                },
            };
            request.method = method.into();
            if body.is_some() {
                request.headers = vec![("Content-Type".into(), media_type.into())];
            }
            request.headers.push(("Authorization".into(), format!("Bearer {}", self.token.as_deref().unwrap_or(""))));
            let answer = self.exchange(send, &request);
            if answer.status == 401 && attempt == 0 {
                self.token = None;
                continue;
            }
            return Ok(answer);
        }
        Err(Interrupted::Refused(401, "refused a fresh token".into()))
    }

    fn exchange(&mut self, send: &mut impl FnMut(&Outgoing) -> SimResponse, request: &Outgoing) -> SimResponse {
        let answer = send(request);
        let path = request.url.strip_prefix(&self.mount).unwrap_or(&request.url);
        self.exchanges.push(Exchange { call: format!("{} {path}", request.method), status: answer.status });
        answer
    }
}

fn expect_status(answer: &SimResponse, status: u16) -> Result<(), Interrupted> {
    if answer.status == status {
        return Ok(());
    }
    let reason = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|b| b.get("failure_reason").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    Err(Interrupted::Refused(answer.status, reason))
}

/// The reservation id: the last segment of the `Location` header.
fn shipment_id(answer: &SimResponse) -> Result<String, Interrupted> {
    let location = answer
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| Interrupted::Malformed("no Location header".into()))?;
    match location.rsplit('/').next() {
        Some(id) if location.starts_with("https://") && !id.is_empty() => Ok(id.to_string()),
        _ => Err(Interrupted::Malformed(format!("Location {location:?} names no shipment"))),
    }
}
