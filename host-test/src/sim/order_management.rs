//! Order Management API v1 (`/ordermanagement/v1/orders/...`): orders that move
//! AUTHORIZED → PART_CAPTURED → CAPTURED, captures, refunds, cancel, release,
//! extend and acknowledge, with Klarna's refusals.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock;
use super::errors;
use super::http::SimResponse;

/// Days an authorization is valid when the order is placed.
const AUTHORIZATION_DAYS: i64 = 28;
/// Days `extend-authorization-time` adds.
const EXTENSION_DAYS: i64 = 7;

/// Order status, as Klarna names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing captured.
    Authorized,
    /// Some captured, some remaining.
    PartCaptured,
    /// Fully captured (or the rest released).
    Captured,
    /// Cancelled before any capture.
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "AUTHORIZED",
            Self::PartCaptured => "PART_CAPTURED",
            Self::Captured => "CAPTURED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// One capture.
#[derive(Clone, Debug)]
pub struct Capture {
    /// Id.
    pub capture_id: String,
    /// Amount in minor units.
    pub captured_amount: i64,
    /// When.
    pub captured_at: i64,
    /// Merchant description.
    pub description: Option<String>,
    /// Merchant reference.
    pub reference: Option<String>,
    /// Refunded from this capture.
    pub refunded_amount: i64,
    /// Shipping information added to the capture.
    pub shipping_info: Vec<Value>,
    /// Days the customer's due date was extended by.
    pub due_date_extension_days: i64,
    /// How often the customer communication was sent again.
    pub send_outs: u32,
}

/// One refund.
#[derive(Clone, Debug)]
pub struct Refund {
    /// Id.
    pub refund_id: String,
    /// Amount in minor units.
    pub refunded_amount: i64,
    /// When.
    pub refunded_at: i64,
    /// Merchant description.
    pub description: Option<String>,
    /// Merchant reference.
    pub reference: Option<String>,
}

/// An order and everything that happened to it.
#[derive(Clone, Debug)]
pub struct Order {
    /// Id (UUID).
    pub order_id: String,
    /// Status.
    pub status: Status,
    /// Authorized amount.
    pub order_amount: i64,
    /// Amount when placed.
    pub original_order_amount: i64,
    /// Released with release-remaining-authorization.
    pub released: bool,
    /// Currency.
    pub purchase_currency: String,
    /// Country.
    pub purchase_country: String,
    /// Locale.
    pub locale: String,
    /// Lines (as placed).
    pub order_lines: Value,
    /// Captures, oldest first.
    pub captures: Vec<Capture>,
    /// Refunds, oldest first.
    pub refunds: Vec<Refund>,
    /// Placed at.
    pub created_at: i64,
    /// Authorization expiry.
    pub expires_at: i64,
    /// Acknowledged (KCO).
    pub acknowledged: bool,
    /// The merchant's order number.
    pub merchant_reference1: Option<String>,
    /// The merchant's second reference.
    pub merchant_reference2: Option<String>,
    /// Shipping address.
    pub shipping_address: Option<Value>,
    /// Shipping information added to the order.
    pub shipping_info: Vec<Value>,
}

impl Order {
    /// Sum of captures.
    pub fn captured_amount(&self) -> i64 {
        self.captures.iter().map(|c| c.captured_amount).sum()
    }

    /// Sum of refunds.
    pub fn refunded_amount(&self) -> i64 {
        self.refunds.iter().map(|r| r.refunded_amount).sum()
    }

    /// What can still be captured.
    pub fn remaining_authorized_amount(&self) -> i64 {
        if self.released || self.status == Status::Cancelled {
            0
        } else {
            self.order_amount - self.captured_amount()
        }
    }

    fn to_json(&self, host: &str) -> Value {
        let mut v = json!({
            "order_id": self.order_id,
            "klarna_reference": &self.order_id[..8],
            "status": self.status.as_str(),
            "fraud_status": "ACCEPTED",
            "order_amount": self.order_amount,
            "original_order_amount": self.original_order_amount,
            "captured_amount": self.captured_amount(),
            "refunded_amount": self.refunded_amount(),
            "remaining_authorized_amount": self.remaining_authorized_amount(),
            "purchase_currency": self.purchase_currency,
            "purchase_country": self.purchase_country,
            "locale": self.locale,
            "order_lines": self.order_lines,
            "merchant_reference1": self.merchant_reference1.clone().unwrap_or_else(|| format!("shop-{}", &self.order_id[..6])),
            "created_at": clock::rfc3339(self.created_at),
            "expires_at": clock::rfc3339(self.expires_at),
            "captures": self.captures.iter().map(|c| capture_json(self, c)).collect::<Vec<_>>(),
            "refunds": self.refunds.iter().map(refund_json).collect::<Vec<_>>(),
            "shipping_info": self.shipping_info,
            "initial_payment_method": { "type": "INVOICE", "description": "Pay later in 30 days" },
            "merchant_data": format!("{{\"simulated_host\":\"{host}\"}}"),
        });
        if let Some(reference) = &self.merchant_reference2 {
            v["merchant_reference2"] = json!(reference);
        }
        if let Some(address) = &self.shipping_address {
            v["shipping_address"] = address.clone();
        }
        v
    }
}

fn capture_json(order: &Order, capture: &Capture) -> Value {
    let mut v = json!({
        "capture_id": capture.capture_id,
        "klarna_reference": &order.order_id[..8],
        "captured_amount": capture.captured_amount,
        "captured_at": clock::rfc3339(capture.captured_at),
        "refunded_amount": capture.refunded_amount,
        "order_lines": [],
        "shipping_info": capture.shipping_info,
    });
    if let Some(d) = &capture.description {
        v["description"] = json!(d);
    }
    if let Some(r) = &capture.reference {
        v["reference"] = json!(r);
    }
    v
}

fn refund_json(refund: &Refund) -> Value {
    let mut v = json!({
        "refund_id": refund.refund_id,
        "refunded_amount": refund.refunded_amount,
        "refunded_at": clock::rfc3339(refund.refunded_at),
        "order_lines": [],
    });
    if let Some(d) = &refund.description {
        v["description"] = json!(d);
    }
    if let Some(r) = &refund.reference {
        v["reference"] = json!(r);
    }
    v
}

/// All orders of one merchant.
#[derive(Debug, Default)]
pub struct OrderBook {
    orders: BTreeMap<String, Order>,
    next_id: u64,
}

impl OrderBook {
    /// Places an authorized order of `amount` (one line) and returns its id.
    pub fn place(&mut self, amount: i64, currency: &str, country: &str, locale: &str, now: i64) -> String {
        let order_lines = json!([{
            "type": "physical", "reference": "SKU-1", "name": "Simulated item", "quantity": 1,
            "unit_price": amount, "tax_rate": 2500, "total_amount": amount,
            "total_discount_amount": 0, "total_tax_amount": amount - amount * 10000 / 12500,
        }]);
        self.place_with_lines(amount, currency, country, locale, order_lines, now)
    }

    /// Places an authorized order with its lines (as Payments' create order does).
    pub fn place_with_lines(
        &mut self,
        amount: i64,
        currency: &str,
        country: &str,
        locale: &str,
        order_lines: Value,
        now: i64,
    ) -> String {
        self.next_id += 1;
        let order_id = clock::uuid(0x0de7, self.next_id);
        self.insert(&order_id, amount, currency, country, locale, order_lines, now);
        order_id
    }

    /// Adds an authorized order with a given id (a completed Checkout order).
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        order_id: &str,
        amount: i64,
        currency: &str,
        country: &str,
        locale: &str,
        order_lines: Value,
        now: i64,
    ) {
        let order_id = order_id.to_string();
        let order = Order {
            order_id: order_id.clone(),
            status: Status::Authorized,
            order_amount: amount,
            original_order_amount: amount,
            released: false,
            purchase_currency: currency.into(),
            purchase_country: country.into(),
            locale: locale.into(),
            order_lines,
            captures: vec![],
            refunds: vec![],
            created_at: now,
            expires_at: now + AUTHORIZATION_DAYS * 86_400,
            acknowledged: false,
            merchant_reference1: None,
            merchant_reference2: None,
            shipping_address: None,
            shipping_info: vec![],
        };
        self.orders.insert(order_id, order);
    }

    /// The order with `id`.
    pub fn get(&self, id: &str) -> Option<&Order> {
        self.orders.get(id)
    }

    /// A Merchant Card Service cancel request went through: the order is
    /// cancelled (its remaining authorization released when part captured).
    pub fn cancel_by_card_service(&mut self, id: &str) {
        if let Some(order) = self.orders.get_mut(id) {
            if order.captures.is_empty() {
                order.status = Status::Cancelled;
            } else {
                order.released = true;
                order.status = Status::Captured;
            }
        }
    }

    /// Answers `/ordermanagement/v1/orders/{order_id}/...` (`rest` is what follows the order id).
    pub fn handle(
        &mut self,
        method: &str,
        order_id: &str,
        rest: &[&str],
        body: &[u8],
        host: &str,
        now: i64,
    ) -> SimResponse {
        self.next_id += 1;
        let serial = self.next_id;
        let Some(order) = self.orders.get_mut(order_id) else {
            return errors::no_such_order();
        };
        let payload = || serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
        match (method, rest) {
            ("GET", []) => SimResponse::json(200, &order.to_json(host)),
            ("GET", ["captures"]) => {
                SimResponse::json(200, &Value::Array(order.captures.iter().map(|c| capture_json(order, c)).collect()))
            }
            ("GET", ["captures", capture_id]) => match order.captures.iter().find(|c| c.capture_id == *capture_id) {
                Some(c) => SimResponse::json(200, &capture_json(order, c)),
                None => errors::classic(404, "NO_SUCH_CAPTURE", "The capture does not exist."),
            },
            ("GET", ["refunds", refund_id]) => match order.refunds.iter().find(|r| r.refund_id == *refund_id) {
                Some(r) => SimResponse::json(200, &refund_json(r)),
                None => errors::classic(404, "NO_SUCH_REFUND", "The refund does not exist."),
            },
            ("POST", ["captures"]) => match payload() {
                Some(p) => capture(order, &p, host, now, serial),
                None => errors::bad_value("body"),
            },
            ("POST", ["refunds"]) => match payload() {
                Some(p) => refund(order, &p, host, now, serial),
                None => errors::bad_value("body"),
            },
            ("POST", ["cancel"]) => cancel(order),
            ("POST", ["release-remaining-authorization"]) => release(order),
            ("POST", ["extend-authorization-time"]) => match order.status {
                Status::Authorized | Status::PartCaptured => {
                    order.expires_at += EXTENSION_DAYS * 86_400;
                    SimResponse::empty(204)
                }
                _ => errors::classic(403, "NOT_ALLOWED", "The authorization of this order cannot be extended."),
            },
            ("PATCH", ["authorization"]) => match payload() {
                Some(p) => update_authorization(order, &p),
                None => errors::bad_value("body"),
            },
            ("PATCH", ["merchant-references"]) => match payload() {
                Some(p) => merchant_references(order, &p),
                None => errors::bad_value("body"),
            },
            ("PATCH", ["customer-details"]) => match payload().and_then(|p| p.get("shipping_address").cloned()) {
                Some(_) if order.status == Status::Cancelled => {
                    errors::classic(403, "NOT_ALLOWED", "The order is cancelled.")
                }
                Some(address) if address.is_object() => {
                    order.shipping_address = Some(address);
                    SimResponse::empty(204)
                }
                _ => errors::bad_value("shipping_address"),
            },
            ("POST", ["shipping-info"]) => match shipping_info(payload()) {
                Ok(info) => {
                    order.shipping_info.extend(info);
                    SimResponse::empty(204)
                }
                Err(e) => e,
            },
            ("POST", ["captures", capture_id, "shipping-info"]) => match shipping_info(payload()) {
                Ok(info) => with_capture(order, capture_id, |c| {
                    c.shipping_info.extend(info);
                    SimResponse::empty(204)
                }),
                Err(e) => e,
            },
            ("GET", ["captures", capture_id, "extend-due-date-options"]) => {
                let currency = order.purchase_currency.clone();
                with_capture(order, capture_id, |c| SimResponse::json(200, &due_date_options(&currency, c)))
            }
            ("PATCH", ["captures", capture_id, "extend-due-date"]) => {
                let days = payload().and_then(|p| p.get("number_of_days").and_then(Value::as_i64));
                with_capture(order, capture_id, |c| match days {
                    Some(d) if DUE_DATE_OPTIONS.contains(&d) && c.due_date_extension_days == 0 => {
                        c.due_date_extension_days = d;
                        SimResponse::empty(204)
                    }
                    Some(d) if DUE_DATE_OPTIONS.contains(&d) => {
                        errors::classic(403, "NOT_ALLOWED", "The due date of this capture was already extended.")
                    }
                    _ => errors::bad_value("number_of_days"),
                })
            }
            ("POST", ["captures", capture_id, "trigger-send-out"]) => with_capture(order, capture_id, |c| {
                c.send_outs += 1;
                SimResponse::empty(204)
            }),
            ("POST", ["acknowledge"]) => {
                order.acknowledged = true;
                SimResponse::empty(204)
            }
            (_, [] | ["captures"] | ["captures", _] | ["refunds"] | ["refunds", _]) => errors::method_not_allowed(),
            (
                _,
                ["cancel"
                | "release-remaining-authorization"
                | "extend-authorization-time"
                | "acknowledge"
                | "authorization"
                | "merchant-references"
                | "customer-details"
                | "shipping-info"]
                | ["captures", _, "shipping-info" | "extend-due-date" | "extend-due-date-options" | "trigger-send-out"],
            ) => errors::method_not_allowed(),
            _ => errors::unknown_path(),
        }
    }
}

fn amount(payload: &Value, field: &str) -> Result<i64, SimResponse> {
    match payload.get(field).and_then(Value::as_i64) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(errors::bad_value(field)),
    }
}

fn text(payload: &Value, field: &str) -> Option<String> {
    payload.get(field).and_then(Value::as_str).map(str::to_string)
}

fn capture(order: &mut Order, payload: &Value, host: &str, now: i64, serial: u64) -> SimResponse {
    let captured_amount = match amount(payload, "captured_amount") {
        Ok(n) => n,
        Err(e) => return e,
    };
    if matches!(order.status, Status::Cancelled) || order.released {
        return errors::classic(
            403,
            "CAPTURE_NOT_ALLOWED",
            "Order is cancelled or its remaining authorization released.",
        );
    }
    if captured_amount > order.remaining_authorized_amount() {
        return errors::classic(
            403,
            "CAPTURE_NOT_ALLOWED",
            &format!(
                "Captured amount is higher than the remaining authorized amount {}.",
                order.remaining_authorized_amount()
            ),
        );
    }
    let capture_id = clock::uuid(0xca97, serial);
    order.captures.push(Capture {
        capture_id: capture_id.clone(),
        captured_amount,
        captured_at: now,
        description: text(payload, "description"),
        reference: text(payload, "reference"),
        refunded_amount: 0,
        shipping_info: payload.get("shipping_info").and_then(Value::as_array).cloned().unwrap_or_default(),
        due_date_extension_days: 0,
        send_outs: 0,
    });
    order.status = if order.remaining_authorized_amount() == 0 { Status::Captured } else { Status::PartCaptured };
    SimResponse::empty(201)
        .with_header(
            "Location",
            format!("https://{host}/ordermanagement/v1/orders/{}/captures/{capture_id}", order.order_id),
        )
        .with_header("Capture-Id", capture_id)
}

fn refund(order: &mut Order, payload: &Value, host: &str, now: i64, serial: u64) -> SimResponse {
    let refunded_amount = match amount(payload, "refunded_amount") {
        Ok(n) => n,
        Err(e) => return e,
    };
    let refundable = order.captured_amount() - order.refunded_amount();
    if refunded_amount > refundable {
        return errors::classic(
            403,
            "REFUND_NOT_ALLOWED",
            &format!("Refunded amount is higher than the captured amount not yet refunded ({refundable})."),
        );
    }
    let mut left = refunded_amount;
    for capture in order.captures.iter_mut() {
        let take = left.min(capture.captured_amount - capture.refunded_amount);
        capture.refunded_amount += take;
        left -= take;
    }
    let refund_id = clock::uuid(0x4ef0, serial);
    order.refunds.push(Refund {
        refund_id: refund_id.clone(),
        refunded_amount,
        refunded_at: now,
        description: text(payload, "description"),
        reference: text(payload, "reference"),
    });
    SimResponse::empty(201)
        .with_header(
            "Location",
            format!("https://{host}/ordermanagement/v1/orders/{}/refunds/{refund_id}", order.order_id),
        )
        .with_header("Refund-Id", refund_id)
}

/// Days a capture's due date can be extended by.
const DUE_DATE_OPTIONS: [i64; 3] = [7, 14, 28];

/// Runs `f` on the capture with `capture_id`, or answers `NO_SUCH_CAPTURE`.
fn with_capture(order: &mut Order, capture_id: &str, f: impl FnOnce(&mut Capture) -> SimResponse) -> SimResponse {
    match order.captures.iter_mut().find(|c| c.capture_id == capture_id) {
        Some(capture) => f(capture),
        None => errors::classic(404, "NO_SUCH_CAPTURE", "The capture does not exist."),
    }
}

/// The extension options of a capture: a fee of 1 % of the capture per week.
fn due_date_options(currency: &str, capture: &Capture) -> Value {
    let options: Vec<Value> = DUE_DATE_OPTIONS
        .iter()
        .map(|days| json!({ "number_of_days": days, "amount": capture.captured_amount * days / 7 / 100 }))
        .collect();
    json!({ "currency": currency, "options": options })
}

/// The `shipping_info` list of a shipping-info update; each item needs a carrier or a tracking number.
fn shipping_info(payload: Option<Value>) -> Result<Vec<Value>, SimResponse> {
    let Some(info) = payload.and_then(|p| p.get("shipping_info").and_then(Value::as_array).cloned()) else {
        return Err(errors::bad_value("shipping_info"));
    };
    for (i, item) in info.iter().enumerate() {
        let has = |k: &str| item.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !item.is_object() || !(has("shipping_company") || has("tracking_number")) {
            return Err(errors::bad_value(&format!("shipping_info[{i}]")));
        }
    }
    Ok(info)
}

/// `PATCH .../merchant-references`: each reference at most 255 characters.
fn merchant_references(order: &mut Order, payload: &Value) -> SimResponse {
    let mut updates = vec![];
    for field in ["merchant_reference1", "merchant_reference2"] {
        match payload.get(field) {
            None => {}
            Some(Value::String(r)) if r.chars().count() <= 255 => updates.push((field, r.clone())),
            Some(_) => return errors::bad_value(field),
        }
    }
    for (field, value) in updates {
        match field {
            "merchant_reference1" => order.merchant_reference1 = Some(value),
            _ => order.merchant_reference2 = Some(value),
        }
    }
    SimResponse::empty(204)
}

/// `PATCH .../authorization`: a new order amount (and lines). Not below what
/// is captured, not on closed orders, and the lines must add up.
fn update_authorization(order: &mut Order, payload: &Value) -> SimResponse {
    let new_amount = match amount(payload, "order_amount") {
        Ok(n) => n,
        Err(e) => return e,
    };
    if matches!(order.status, Status::Cancelled | Status::Captured) || order.released {
        return errors::classic(403, "NOT_ALLOWED", "The authorization of this order cannot be updated.");
    }
    if new_amount < order.captured_amount() {
        return errors::classic(403, "NOT_ALLOWED", "The new order amount is below the captured amount.");
    }
    if let Some(lines) = payload.get("order_lines").and_then(Value::as_array) {
        let total: Option<i64> = lines.iter().map(|l| l.get("total_amount").and_then(Value::as_i64)).sum();
        if total != Some(new_amount) {
            return errors::bad_value("order_lines");
        }
        order.order_lines = Value::Array(lines.clone());
    }
    order.order_amount = new_amount;
    SimResponse::empty(204)
}

fn cancel(order: &mut Order) -> SimResponse {
    if !order.captures.is_empty() {
        return errors::classic(403, "CANCEL_NOT_ALLOWED", "Order has previous captures. Cancel not possible.");
    }
    if order.status == Status::Cancelled {
        return errors::classic(403, "CANCEL_NOT_ALLOWED", "Order is already cancelled.");
    }
    order.status = Status::Cancelled;
    SimResponse::empty(204)
}

fn release(order: &mut Order) -> SimResponse {
    match order.status {
        Status::PartCaptured => {
            order.released = true;
            order.status = Status::Captured;
            SimResponse::empty(204)
        }
        Status::Authorized => errors::classic(
            403,
            "NOT_ALLOWED",
            "Order has no captures; cancel it instead of releasing its authorization.",
        ),
        Status::Captured => {
            errors::classic(403, "NOT_ALLOWED", "Order is fully captured. There is nothing to release.")
        }
        Status::Cancelled => errors::classic(403, "NOT_ALLOWED", "Order is cancelled."),
    }
}
