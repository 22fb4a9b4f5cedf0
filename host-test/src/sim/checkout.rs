//! Checkout API v3 (`/checkout/v3/orders`): orders that stay
//! `checkout_incomplete` (and editable) until the customer completes them,
//! and become read-only once completed or aborted.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clock;
use super::errors;
use super::http::SimResponse;

/// Merchant URLs a Checkout order must have.
const REQUIRED_URLS: [&str; 4] = ["terms", "checkout", "confirmation", "push"];

/// The Checkout orders of one merchant.
#[derive(Debug, Default)]
pub struct Checkouts {
    orders: BTreeMap<String, Value>,
    serial: u64,
}

impl Checkouts {
    /// How many Checkout orders were created.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// What the customer does in the checkout: completes it.
    pub fn complete(&mut self, order_id: &str, now: i64) -> Option<Value> {
        let order = self.orders.get_mut(order_id)?;
        order["status"] = json!("checkout_complete");
        order["completed_at"] = json!(clock::rfc3339(now));
        Some(order.clone())
    }

    /// Klarna's push for a completed order: an empty POST to its
    /// `merchant_urls.push`, `{checkout.order.id}` filled in.
    pub fn push(&self, order_id: &str) -> Option<super::outbox::Outgoing> {
        let order = self.orders.get(order_id).filter(|o| o["status"] == "checkout_complete")?;
        let url = order["merchant_urls"]["push"].as_str()?.replace("{checkout.order.id}", order_id);
        Some(super::outbox::Outgoing { method: "POST".into(), url, headers: vec![], body: vec![] })
    }

    /// Ids of the completed orders.
    pub fn completed(&self) -> Vec<String> {
        self.orders.iter().filter(|(_, o)| o["status"] == "checkout_complete").map(|(id, _)| id.clone()).collect()
    }

    /// Answers `/checkout/v3/orders<rest>`.
    pub fn handle(&mut self, method: &str, rest: &[&str], body: &[u8], now: i64) -> SimResponse {
        let payload = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
        match (method, rest) {
            ("POST", []) => {
                let Some(mut order) = payload else { return errors::bad_value("body") };
                if let Err(e) = check(&order, true) {
                    return e;
                }
                self.serial += 1;
                let id = clock::uuid(0x0c0e, self.serial);
                order["order_id"] = json!(id);
                order["status"] = json!("checkout_incomplete");
                order["started_at"] = json!(clock::rfc3339(now));
                order["last_modified_at"] = json!(clock::rfc3339(now));
                order["html_snippet"] =
                    json!(format!("<div id=\"klarna-checkout-container\" data-order=\"{id}\"></div>"));
                self.orders.insert(id.clone(), order.clone());
                SimResponse::json(201, &order).with_header("Location", format!("/checkout/v3/orders/{id}"))
            }
            ("GET", [id]) => match self.orders.get(*id) {
                Some(order) => SimResponse::json(200, order),
                None => errors::classic(404, "NOT_FOUND", "The checkout order does not exist."),
            },
            ("POST", [id]) => {
                let Some(order) = self.orders.get_mut(*id) else {
                    return errors::classic(404, "NOT_FOUND", "The checkout order does not exist.");
                };
                if order["status"] != "checkout_incomplete" {
                    return errors::classic(
                        400,
                        "READ_ONLY_ORDER",
                        "Cannot update a completed or aborted checkout order.",
                    );
                }
                let Some(update) = payload else { return errors::bad_value("body") };
                let mut merged = order.clone();
                if let (Some(target), Some(fields)) = (merged.as_object_mut(), update.as_object()) {
                    for (k, v) in fields {
                        if !matches!(k.as_str(), "order_id" | "status" | "html_snippet" | "started_at") {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                }
                if let Err(e) = check(&merged, false) {
                    return e;
                }
                merged["last_modified_at"] = json!(clock::rfc3339(now));
                *order = merged;
                SimResponse::json(200, order)
            }
            ("POST", [id, "abort"]) => match self.orders.get_mut(*id) {
                Some(order) if order["status"] == "checkout_incomplete" => {
                    order["status"] = json!("checkout_aborted");
                    order["last_modified_at"] = json!(clock::rfc3339(now));
                    SimResponse::json(200, order)
                }
                Some(_) => errors::classic(403, "NOT_ALLOWED", "Only an incomplete checkout order can be aborted."),
                None => errors::classic(404, "NOT_FOUND", "The checkout order does not exist."),
            },
            (_, [] | [_] | [_, "abort"]) => errors::method_not_allowed(),
            _ => errors::unknown_path(),
        }
    }
}

/// Klarna's checks: the required fields, the merchant URLs, and amounts that add up.
fn check(order: &Value, create: bool) -> Result<(), SimResponse> {
    if create {
        for field in [
            "purchase_country",
            "purchase_currency",
            "locale",
            "order_amount",
            "order_tax_amount",
            "order_lines",
            "merchant_urls",
        ] {
            if order.get(field).is_none() {
                return Err(errors::bad_value(field));
            }
        }
        for url in REQUIRED_URLS {
            if !order["merchant_urls"][url].as_str().is_some_and(|u| u.starts_with("https://")) {
                return Err(errors::bad_value(&format!("merchant_urls.{url}")));
            }
        }
    }
    let lines = order["order_lines"].as_array().cloned().unwrap_or_default();
    let total: Option<i64> = lines.iter().map(|l| l.get("total_amount").and_then(Value::as_i64)).sum();
    if total.is_none() || total != order["order_amount"].as_i64() {
        return Err(errors::bad_value("order_amount"));
    }
    Ok(())
}
